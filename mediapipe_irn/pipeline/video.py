"""Streaming video frame sources/sinks over PyAV with audio/subtitle passthrough."""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

import numpy as np

from ..errors import InputError, OutputError

VIDEO_SUFFIXES = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


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
        raise InputError(f"{p}: not a readable video ({exc})") from exc
    if not c.streams.video:
        c.close()
        raise InputError(f"{p}: has no video stream")
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
    tags = {**dict(v.metadata), **dict(container.metadata)}
    return VideoInfo(cc.width, cc.height, Fraction(rate), Fraction(v.time_base),
                     int(v.frames or 0), pix, tags, rot)


@contextmanager
def atomic_output(dest: str | Path):
    """Yield a temporary path beside ``dest``; rename it into place only on success."""
    dest = Path(dest)
    if dest.suffix.lower() not in VIDEO_SUFFIXES:
        raise OutputError(f"{dest}: output must be one of {', '.join(VIDEO_SUFFIXES)}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=dest.suffix + ".part",
                               dir=dest.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def frames_rgb(container) -> Iterator[tuple[np.ndarray, int | None]]:
    """Decode the first video stream to (H×W×3 uint8, pts)."""
    for frame in container.decode(video=0):
        yield frame.to_ndarray(format="rgb24"), frame.pts


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
