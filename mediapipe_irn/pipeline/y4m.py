"""YUV4MPEG2 streams (what ``ffmpeg -f yuv4mpegpipe`` reads and writes), 8-bit 4:2:0 / 4:4:4.

Restore metadata may ride in the stream header as an ``X`` parameter
(``XMPIRN=<base64 JSON>``); y4m readers ignore unknown ``X`` parameters.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO

import numpy as np

from ..codecs.metadata import RestoreMetadata
from ..errors import InputError

_SUPPORTED = {
    "420jpeg": "yuv420p",
    "420": "yuv420p",
    "420mpeg2": "yuv420p",
    "420paldv": "yuv420p",
    "444": "yuv444p",
}


@dataclass(frozen=True)
class Y4MHeader:
    width: int
    height: int
    rate: Fraction
    colorspace: str = "420jpeg"
    metadata: RestoreMetadata | None = None

    @property
    def pix_fmt(self) -> str:
        return _SUPPORTED[self.colorspace]

    def frame_bytes(self) -> int:
        n = self.width * self.height
        if self.pix_fmt == "yuv444p":
            return 3 * n
        return n + 2 * ((self.width + 1) // 2) * ((self.height + 1) // 2)

    def encode(self) -> bytes:
        r = self.rate
        parts = [
            f"YUV4MPEG2 W{self.width} H{self.height} F{r.numerator}:{r.denominator} Ip "
            f"A1:1 C{self.colorspace}"
        ]
        if self.metadata is not None:
            b = base64.urlsafe_b64encode(self.metadata.to_json().encode()).decode()
            parts.append(f"XMPIRN={b}")
        return (" ".join(parts) + "\n").encode()


def read_header(stream: BinaryIO) -> Y4MHeader:
    line = stream.readline(4096)
    if not line.startswith(b"YUV4MPEG2 "):
        raise InputError("input is not a YUV4MPEG2 stream")
    w = h = None
    rate, cs, meta = Fraction(25), "420jpeg", None
    for tok in line.decode("ascii", "replace").split()[1:]:
        key, val = tok[0], tok[1:]
        if key == "W":
            w = int(val)
        elif key == "H":
            h = int(val)
        elif key == "F":
            n, d = val.split(":")
            rate = Fraction(int(n), int(d))
        elif key == "C":
            cs = val
        elif key == "X" and val.startswith("MPIRN="):
            meta = RestoreMetadata.from_json(base64.urlsafe_b64decode(val[6:]), "y4m header")
    if not w or not h:
        raise InputError("YUV4MPEG2 header lacks W/H")
    if cs not in _SUPPORTED:
        raise InputError(
            f"unsupported y4m colour space C{cs} (8-bit 4:2:0 or 4:4:4 only; "
            "add `-pix_fmt yuv420p` to the ffmpeg command)"
        )
    return Y4MHeader(w, h, rate, cs, meta)


def _to_rgb(raw: bytes, hdr: Y4MHeader) -> np.ndarray:
    import av

    w, h = hdr.width, hdr.height
    buf = np.frombuffer(raw, np.uint8)
    if hdr.pix_fmt == "yuv444p":
        arr = buf.reshape(3, h, w)
        f = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(arr.transpose(1, 2, 0)), format="yuv444p"
        )
        return f.to_ndarray(format="rgb24")
    cw, ch = (w + 1) // 2, (h + 1) // 2
    y = buf[: w * h].reshape(h, w)
    u = buf[w * h : w * h + cw * ch].reshape(ch, cw)
    v = buf[w * h + cw * ch :].reshape(ch, cw)
    if w % 2 or h % 2:  # from_ndarray needs even sides: pad luma by edge replication
        y = np.pad(y, ((0, h % 2), (0, w % 2)), mode="edge")
    ew, eh = y.shape[1], y.shape[0]
    packed = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(eh * 3 // 2, ew)
    rgb = av.VideoFrame.from_ndarray(packed, format="yuv420p").to_ndarray(format="rgb24")
    return np.ascontiguousarray(rgb[:h, :w])


def read_frames(stream: BinaryIO, hdr: Y4MHeader) -> Iterator[np.ndarray]:
    size = hdr.frame_bytes()
    while True:
        line = stream.readline(1024)
        if not line:
            return
        if not line.startswith(b"FRAME"):
            raise InputError("corrupt YUV4MPEG2 stream (expected FRAME)")
        raw = stream.read(size)
        if len(raw) < size:
            raise InputError("truncated YUV4MPEG2 stream")
        yield _to_rgb(raw, hdr)


def write_frame(stream: BinaryIO, rgb: np.ndarray) -> None:
    """One 4:2:0 frame (the header must say C420jpeg); odd sides are handled."""
    import av

    h, w = rgb.shape[:2]
    even = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    f = av.VideoFrame.from_ndarray(np.ascontiguousarray(even), format="rgb24")
    yuv = f.reformat(format="yuv420p").to_ndarray()  # (H·3/2)×W, planes packed
    eh, ew = even.shape[:2]
    y = yuv[:eh, :][:h, :w]
    chroma = yuv[eh:, :].reshape(2, eh // 2, ew // 2)
    stream.write(b"FRAME\n")
    stream.write(np.ascontiguousarray(y).tobytes())
    stream.write(np.ascontiguousarray(chroma).tobytes())
