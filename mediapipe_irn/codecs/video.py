"""H.264 through PyAV/libx264: a streaming encoder (frames in, packets out, explicit flush, as
PyAV does) that the video jobs mux beside copied audio, and ``encode``/``decode`` of short
clips held in memory (MP4 by default) built on it.

Odd frame sizes are padded by edge replication to even sides for yuv420p; the true size is
kept in the ``mediapipe-irn-frame`` container tag and cropped back on decode. Restore metadata
is the ``mediapipe-irn`` container tag (MP4 with ``use_metadata_tags``, or MKV).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from ..errors import CodecError, MetadataError, reason_of
from .base import Decoded, EncodeOptions, check_frames
from .metadata import TAG, RestoreMetadata

FRAME_TAG = "mediapipe-irn-frame"


def _pad_even(f: np.ndarray) -> np.ndarray:
    h, w = f.shape[:2]
    if h % 2 or w % 2:
        f = np.pad(f, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return f


class H264StreamEncoder:
    """libx264 on one output stream of ``container``: ``encode(rgb, pts)`` returns the packets
    ready to mux, ``flush()`` the rest. ``lossless`` is x264's CRF 0 with 4:4:4 chroma."""

    def __init__(
        self,
        container,
        width: int,
        height: int,
        rate: Fraction,
        time_base: Fraction | None = None,
        crf: int = 23,
        preset: str = "medium",
        lossless: bool = False,
    ) -> None:
        if not 0 <= crf <= 51:
            raise CodecError(f"crf must be in 0–51, got {crf}")
        # FFmpeg's rationals are 32-bit: a rate given as a float (29.97…) must be brought to one
        rate = Fraction(rate).limit_denominator(1 << 16)
        self.stream = container.add_stream("libx264", rate=rate)
        self.stream.width, self.stream.height = width, height
        # 4:2:0 needs even sides: an odd-sized frame is coded 4:4:4 at its own size
        self.stream.pix_fmt = "yuv444p" if lossless or width % 2 or height % 2 else "yuv420p"
        if time_base is not None:
            self.stream.time_base = time_base
        self.stream.options = {"crf": "0" if lossless else str(crf), "preset": preset}
        self.time_base = time_base

    def encode(self, rgb: np.ndarray, pts: int | None = None) -> list:
        import av

        vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        vf.pts = pts
        if self.time_base is not None:
            vf.time_base = self.time_base
        return list(self.stream.encode(vf.reformat(format=self.stream.pix_fmt)))

    def flush(self) -> list:
        return list(self.stream.encode())


class H264Codec:
    """libx264, yuv420p, CRF rate control (``quality`` is the CRF, default 23)."""

    name, kind, extension = "h264", "video", ".mp4"
    default_quality, quality_range = 23, (0, 51)

    def __init__(self, container: str = "mp4") -> None:
        self.container = container

    def stream_encoder(
        self,
        container,
        width: int,
        height: int,
        rate: Fraction,
        time_base: Fraction | None = None,
        options: EncodeOptions = EncodeOptions(),
    ) -> H264StreamEncoder:
        """A streaming encoder on a new stream of ``container`` (an open PyAV output)."""
        crf = self.default_quality if options.quality is None else int(options.quality)
        return H264StreamEncoder(
            container, width, height, rate, time_base, crf, options.preset, options.lossless
        )

    def encode(
        self,
        frames: Sequence[np.ndarray],
        options: EncodeOptions = EncodeOptions(),
        metadata: RestoreMetadata | None = None,
        icc: bytes | None = None,
        exif: bytes | None = None,
    ) -> bytes:
        import av

        fs = check_frames(frames, single=False)
        h, w = fs[0].shape[:2]
        buf = io.BytesIO()
        opts = {"movflags": "use_metadata_tags"} if self.container == "mp4" else {}
        with av.open(buf, "w", format=self.container, options=opts) as c:
            c.metadata[FRAME_TAG] = f"{w}x{h}"
            if metadata is not None:
                c.metadata[TAG] = metadata.to_json()
            enc = self.stream_encoder(
                c, w + w % 2, h + h % 2, Fraction(options.fps), options=options
            )
            for i, f in enumerate(fs):
                for pkt in enc.encode(_pad_even(f), i):
                    c.mux(pkt)
            for pkt in enc.flush():
                c.mux(pkt)
        return buf.getvalue()

    def proxy(self):
        """No simulator of x264: the differentiable JPEG stands in (CRF mapped to a JPEG
        quality), which trained where the identity gradient diverged (README)."""
        from ..simulate.proxy import JPEGProxy, crf_to_jpeg_quality

        return JPEGProxy(quality_map=crf_to_jpeg_quality)

    def decode(self, data: bytes) -> Decoded:
        import av

        if not data:
            raise CodecError("empty video data")
        try:
            with av.open(io.BytesIO(data)) as c:
                if not c.streams.video:
                    raise CodecError("no video stream")
                tags = {k.lower(): v for k, v in c.metadata.items()}  # Matroska: upper case
                frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        except CodecError:
            raise
        except (av.error.FFmpegError, ValueError, OSError) as exc:
            raise CodecError(f"corrupt or truncated video data ({reason_of(exc)})") from exc
        if not frames:
            raise CodecError("video holds no decodable frames")
        size = tags.get(FRAME_TAG)
        if size:
            w, h = (int(v) for v in size.split("x"))
            frames = [np.ascontiguousarray(f[:h, :w]) for f in frames]
        raw = tags.get(TAG)
        meta = None
        if raw is not None:
            try:
                meta = RestoreMetadata.from_json(raw, "video")
            except MetadataError:
                meta = None
        return Decoded(frames, meta, raw_metadata=raw)
