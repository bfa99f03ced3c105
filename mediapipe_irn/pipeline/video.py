"""Streaming video frame sources/sinks over PyAV with audio/subtitle passthrough."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError, OutputError, reason_of
from .media import VIDEO_OUTPUTS
from .output import atomic_path

VIDEO_SUFFIXES = VIDEO_OUTPUTS
STILL_FORMATS = ("image2", "gif", "apng", "webp", "tiff", "bmp")  # FFmpeg demuxers of stills


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    rate: Fraction
    time_base: Fraction
    frames: int  # 0 when the container does not say
    pix_fmt: str
    tags: dict[str, str]
    rotation: int
    duration: float | None = None  # seconds, when the container says

    def expected_frames(self) -> tuple[int, int]:
        """(frames the container announces, tolerance): the exact count when it is stored,
        else an estimate from the duration (±3 % + 2 frames); (0, 0) when unknown."""
        if self.frames:
            return self.frames, 0
        if self.duration:
            est = round(self.duration * float(self.rate))
            return est, 2 + round(0.03 * est)
        return 0, 0


def open_input(path: str | Path):
    """Open a video file with a clear error for non-videos and files without video."""
    import av

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: empty file")
    try:
        c = av.open(str(p))
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise InputError(f"{p}: not a readable video ({reason_of(exc)})") from exc
    if not c.streams.video:
        c.close()
        raise InputError(f"{p}: has no video stream")
    if c.format.name in STILL_FORMATS or c.format.name.endswith("_pipe"):
        c.close()
        raise InputError(
            f"{p}: a still image ({c.format.name}), not a video; use "
            "`mediapipe-irn down` for images"
        )
    return c


def video_info(container) -> VideoInfo:
    v = container.streams.video[0]
    cc = v.codec_context
    rate = v.average_rate or v.guessed_rate or Fraction(25)
    pix = cc.pix_fmt or "unknown"
    rot = 0
    try:
        rot = int(float(v.metadata.get("rotate", 0)))
    except ValueError:
        pass
    if any(t in pix for t in ("10", "12", "16")):
        warnings.warn(f"{pix} input is converted to 8-bit RGB", stacklevel=2)
    # container tags win; the video stream's tags fill in (newer FFmpeg reads an MP4 udta
    # comment written by GStreamer's mp4mux as a stream tag)
    # keys in lower case: Matroska stores tag names upper-cased (MEDIAPIPE-IRN)
    tags = {k.lower(): val for k, val in {**dict(v.metadata), **dict(container.metadata)}.items()}
    duration = None
    if v.duration is not None and v.time_base:
        duration = float(v.duration * v.time_base)
    elif container.duration:
        duration = container.duration / 1_000_000  # AV_TIME_BASE
    return VideoInfo(
        cc.width,
        cc.height,
        Fraction(rate),
        Fraction(v.time_base),
        int(v.frames or 0),
        pix,
        tags,
        rot,
        duration,
    )


@contextmanager
def atomic_output(dest: str | Path, overwrite: bool = True) -> Iterator[Path]:
    """A temporary path beside ``dest`` (a video container it names), renamed into place
    only on success (:func:`mediapipe_irn.pipeline.output.atomic_path`)."""
    check_video_dest(dest)
    with atomic_path(dest, overwrite) as tmp:
        yield tmp


def check_video_dest(dest: str | Path) -> None:
    if Path(dest).suffix.lower() not in VIDEO_SUFFIXES:
        raise OutputError(f"{dest}: output must be one of {', '.join(VIDEO_SUFFIXES)}")


def batched(items: Iterable, n: int) -> Iterator[list]:
    """Consecutive lists of ``n`` items (the last may be shorter)."""
    buf: list = []
    for item in items:
        buf.append(item)
        if len(buf) == n:
            yield buf
            buf = []
    if buf:
        yield buf


def stdout_binary() -> BinaryIO:
    return sys.stdout.buffer
