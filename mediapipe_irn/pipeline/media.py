"""The one list of file extensions the package reads and writes, by kind."""

from __future__ import annotations

from pathlib import Path

# stills the model path reads (Pillow); multi-frame files among them are kept whole
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif")
# video containers read through PyAV/FFmpeg
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
# video containers this package writes (extension → FFmpeg muxer)
VIDEO_OUTPUTS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


def is_image(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def is_video(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


__all__ = ["IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "VIDEO_OUTPUTS", "is_image", "is_video"]
