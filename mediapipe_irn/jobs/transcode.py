"""Video transcoding through the model: ``encode`` (downscale, H.264 at the LR size through
the ``h264`` codec's streaming encoder, audio and subtitles copied, restore metadata in
container tags) and ``decode`` (restore the original size
to H.264, or YUV4MPEG2 on a stream). Frames are read in chunks of ``batch`` and go through the
model one per worker thread (:func:`frame_workers`), so memory stays flat in the video's
length; outputs appear only when complete."""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..codecs.metadata import TAG, RestoreMetadata
from ..codecs.video import H264StreamEncoder
from ..errors import InputError, MetadataError, TruncatedInputError, reason_of
from ..pipeline.execution import frame_workers
from ..pipeline.serving import (
    CachedRescaler,
    metadata_from_model,
    session_threads,
    video_rescaler,
)
from ..pipeline.video import (
    VIDEO_SUFFIXES,
    atomic_output,
    batched,
    check_video_dest,
    open_input,
    stdout_binary,
    video_info,
)
from ..pipeline.y4m import Y4MHeader, write_frame

Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class VideoEncodeConfig:
    model: str = "sain-x2-lite"  # the video default: README, "Speed on the CPU"
    crf: int = 23
    preset: str = "medium"
    batch: int = 4  # frames read per chunk
    weights: str | None = None
    precision: str = "auto"
    workers: int = 0  # frames through the model at once, one thread each (0: one per core)
    allow_partial: bool = False  # keep the output of a truncated input (with a warning)


@dataclass(frozen=True)
class VideoDecodeConfig:
    crf: int = 18
    lossless: bool = False
    preset: str = "medium"
    batch: int = 4
    model: str | None = None  # needed only for files without restore metadata
    weights: str | None = None
    precision: str = "auto"
    workers: int = 0  # frames through the model at once, one thread each (0: one per core)
    allow_partial: bool = False  # keep the output of a truncated input (with a warning)


@dataclass(frozen=True)
class TranscodeSummary:
    frames: int
    seconds: float
    width: int
    height: int
    out_width: int
    out_height: int
    expected_frames: int = 0  # what the container announced (0: unknown)
    partial: bool = False  # the input ended early and the user kept what it had

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def print_progress(done: int, total: int, elapsed: float) -> None:
    fps = done / elapsed if elapsed else 0.0
    eta = f"eta {(total - done) / fps:5.1f}s" if total and fps else ""
    tot = f"/{total}" if total else ""
    print(f"\r{done}{tot} frames  {fps:5.2f} fps  {eta}   ", end="", file=sys.stderr, flush=True)


def _copy_streams(inp, out) -> dict[int, object]:
    """Templates for every audio/subtitle stream (copied untouched)."""
    mapping = {}
    for s in inp.streams:
        if s.type in ("audio", "subtitle"):
            try:
                mapping[s.index] = out.add_stream_from_template(s)
            except Exception as exc:  # noqa: BLE001 - the muxer refuses the codec
                warnings.warn(f"stream {s.index} ({s.type}) cannot be copied: {exc}", stacklevel=2)
    return mapping


def _check_complete(src: str | Path, n: int, info, allow_partial: bool) -> bool:
    """Raise unless all announced frames were decoded; True when the output is partial."""
    if n == 0:
        raise InputError(f"{src}: no decodable video frames")
    expected, tol = info.expected_frames()
    if expected and n < expected - tol:
        if not allow_partial:
            raise TruncatedInputError(
                f"{src}: truncated or corrupt: decoded {n} of the {expected} frames its "
                "container announces; nothing written (--allow-partial keeps what there is)"
            )
        warnings.warn(f"{src}: truncated: kept {n} of {expected} frames", stacklevel=3)
        return True
    return False


class _Ahead:
    """Frame chunks through ``fn`` one chunk ahead of x264: the model runs on chunk k (its
    frames on the frame workers, driven from a thread of its own) while the calling thread
    encodes and muxes chunk k−1, so neither waits for the other (README, "Speed on the CPU")."""

    def __init__(self, fn, vout, out, progress: Progress | None, total: int, t0: float):
        self.fn, self.vout, self.out, self.progress, self.total, self.t0 = (
            fn,
            vout,
            out,
            progress,
            total,
            t0,
        )
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="mpirn-chunk")
        self.inflight: tuple[Future, list[int | None]] | None = None  # at most one chunk
        self.frames = self.encoded = 0  # submitted / encoded

    def submit(self, frames: list[np.ndarray], pts: list[int | None]) -> None:
        fut = self.pool.submit(self.fn, frames)
        self.frames += len(frames)
        self.finish()  # the previous chunk, while this one runs
        self.inflight = (fut, pts)

    def finish(self) -> None:
        """Encode and mux the chunk in flight, if any."""
        if self.inflight is None:
            return
        fut, pts_list = self.inflight
        self.inflight = None
        for rgb, pts in zip(fut.result(), pts_list):
            for pkt in self.vout.encode(rgb, pts):
                self.out.mux(pkt)
            self.encoded += 1
        if self.progress:
            self.progress(self.encoded, self.total, time.time() - self.t0)


def _transcode(
    src: str | Path,
    dest: str | Path,
    fn,
    out_size: tuple[int, int],
    crf: int,
    preset: str,
    batch: int,
    tags: dict[str, str],
    lossless: bool,
    progress: Progress | None,
    allow_partial: bool = False,
) -> TranscodeSummary:
    import av

    t0 = time.time()
    with open_input(src) as inp:
        info = video_info(inp)
        vin = inp.streams.video[0]
        fmt = VIDEO_SUFFIXES[Path(dest).suffix.lower()]
        with atomic_output(dest) as tmp:
            opts = {"movflags": "use_metadata_tags"} if fmt in ("mp4", "mov") else {}
            with av.open(str(tmp), "w", format=fmt, options=opts) as out:
                for k, v in tags.items():
                    out.metadata[k] = v
                vout = H264StreamEncoder(
                    out, out_size[1], out_size[0], info.rate, info.time_base, crf, preset, lossless
                )
                copies = _copy_streams(inp, out)
                pending: list[tuple[np.ndarray, int | None]] = []
                chunks = _Ahead(fn, vout, out, progress, info.frames, t0)

                def flush() -> None:
                    if pending:
                        chunks.submit([p[0] for p in pending], [p[1] for p in pending])
                        pending.clear()

                streams = [vin] + [inp.streams[i] for i in copies]
                try:
                    try:
                        for pkt in inp.demux(streams):
                            if pkt.stream.index in copies:
                                if pkt.dts is None:
                                    continue
                                pkt.stream = copies[pkt.stream.index]
                                out.mux(pkt)
                                continue
                            for frame in pkt.decode():
                                pending.append((frame.to_ndarray(format="rgb24"), frame.pts))
                                if len(pending) >= batch:
                                    flush()
                    except av.error.FFmpegError as exc:
                        got, (want, _) = chunks.frames + len(pending), info.expected_frames()
                        of = f" of the {want} frames its container announces" if want else ""
                        msg = (
                            f"{src}: corrupt or truncated: decoding failed after {got}{of} "
                            f"({reason_of(exc)})"
                        )
                        if not allow_partial:
                            raise TruncatedInputError(
                                f"{msg}; nothing written (--allow-partial keeps what there is)"
                            ) from exc
                        warnings.warn(msg, stacklevel=2)
                    flush()
                    chunks.finish()
                finally:
                    chunks.pool.shutdown(wait=True)  # the chunk in flight, also on an error
                n = chunks.encoded
                for pkt in vout.flush():
                    out.mux(pkt)
            partial = _check_complete(src, n, info, allow_partial)  # before the rename
    if progress:
        print(file=sys.stderr)
    return TranscodeSummary(
        n,
        time.time() - t0,
        info.width,
        info.height,
        out_size[1],
        out_size[0],
        info.expected_frames()[0],
        partial,
    )


def encode_video(
    src: str | Path,
    dest: str | Path,
    cfg: VideoEncodeConfig = VideoEncodeConfig(),
    progress: Progress | None = None,
) -> TranscodeSummary:
    """Downscale a video through the model into H.264 at the LR size (see module doc)."""
    check_video_dest(dest)
    with open_input(src) as inp:
        info = video_info(inp)
    r = video_rescaler(
        "down",
        cfg.model,
        cfg.weights,
        cfg.precision,
        session_threads(cfg.workers, cfg.precision),
        size=(info.height, info.width),
    )
    meta = r.metadata(info.width, info.height, {"source_pix_fmt": info.pix_fmt})
    s = r.scale
    lr_h, lr_w = (info.height + meta.pad_h) // s, (info.width + meta.pad_w) // s
    torch_threads = not isinstance(r, CachedRescaler)
    with frame_workers(cfg.workers, cfg.precision, torch_threads) as fmap:
        return _transcode(
            src,
            dest,
            lambda frames: fmap(r.down, frames),
            (lr_h, lr_w),
            cfg.crf,
            cfg.preset,
            cfg.batch,
            {TAG: meta.to_json()},
            False,
            progress,
            cfg.allow_partial,
        )


def read_video_metadata(src: str | Path, model: str | None = None) -> RestoreMetadata:
    with open_input(src) as inp:
        info = video_info(inp)
    raw = info.tags.get(TAG)
    comment = info.tags.get("comment", "")
    if raw is None and comment.startswith(TAG + "="):  # written by the GStreamer element
        raw = comment[len(TAG) + 1 :]
    if raw is None:
        if model is None:
            raise MetadataError(
                f"{src} carries no {TAG} restore metadata (container tags: "
                f"{', '.join(sorted(info.tags)) or 'none'}); pass --model to "
                "upscale it anyway"
            )
        return metadata_from_model(model, info.width, info.height)
    return RestoreMetadata.from_json(raw, str(src))


def _up_fn(
    meta: RestoreMetadata, cfg: VideoDecodeConfig
) -> tuple[Callable[[np.ndarray], np.ndarray], bool]:
    """The frame restore of a file with ``meta``, and whether it runs through torch."""
    threads = session_threads(cfg.workers, cfg.precision)
    r = video_rescaler("up", cfg.model, cfg.weights, cfg.precision, threads, meta=meta)
    return (lambda rgb: r.up(rgb, meta)), not isinstance(r, CachedRescaler)


def decode_video(
    src: str | Path,
    dest: str | Path,
    cfg: VideoDecodeConfig = VideoDecodeConfig(),
    progress: Progress | None = None,
) -> TranscodeSummary:
    """Restore the original size. ``dest`` ``-`` streams YUV4MPEG2 to stdout.

    An odd original size is written one replicated row/column larger (x264's 4:2:0 needs even
    sides); ``--lossless`` (4:4:4) and the YUV4MPEG2 stream keep the exact size."""
    if str(dest) != "-":
        check_video_dest(dest)
    meta = read_video_metadata(src, cfg.model)
    up, torch_threads = _up_fn(meta, cfg)
    with frame_workers(cfg.workers, cfg.precision, torch_threads) as fmap:
        return _decode(src, dest, meta, lambda frames: fmap(up, frames), cfg, progress)


def _decode(
    src: str | Path,
    dest: str | Path,
    meta: RestoreMetadata,
    up: Callable[[list[np.ndarray]], list[np.ndarray]],
    cfg: VideoDecodeConfig,
    progress: Progress | None,
) -> TranscodeSummary:
    if str(dest) == "-":
        return _decode_to_y4m(src, up, meta, cfg.batch, progress)
    h, w = meta.height, meta.width
    if not cfg.lossless and (h % 2 or w % 2):  # x264 4:2:0 needs even sides

        def up_even(frames: list[np.ndarray]) -> list[np.ndarray]:
            return [np.pad(f, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge") for f in up(frames)]

        return _transcode(
            src,
            dest,
            up_even,
            (h + h % 2, w + w % 2),
            cfg.crf,
            cfg.preset,
            cfg.batch,
            {},
            False,
            progress,
            cfg.allow_partial,
        )
    return _transcode(
        src,
        dest,
        up,
        (h, w),
        cfg.crf,
        cfg.preset,
        cfg.batch,
        {},
        cfg.lossless,
        progress,
        cfg.allow_partial,
    )


def _decode_to_y4m(
    src, up, meta: RestoreMetadata, batch: int, progress: Progress | None
) -> TranscodeSummary:
    t0 = time.time()
    n = 0
    out = stdout_binary()
    with open_input(src) as inp:
        info = video_info(inp)
        out.write(Y4MHeader(meta.width, meta.height, info.rate).encode())
        for chunk in batched((f.to_ndarray(format="rgb24") for f in inp.decode(video=0)), batch):
            for rgb in up(chunk):
                write_frame(out, rgb)
                n += 1
            out.flush()
            if progress:
                progress(n, info.frames, time.time() - t0)
    return TranscodeSummary(n, time.time() - t0, info.width, info.height, meta.width, meta.height)
