"""Shared helpers for the benchmarks."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

import torch

from ..pipeline.images import ImageData, read_image
from ..train.dataset import find_sources


def load_images(folders: tuple[str, ...] | list[str], limit: int | None = None
                ) -> list[tuple[str, ImageData]]:
    files = [f for f in find_sources(folders) if f.suffix.lower() not in (".mp4", ".mkv")]
    files = files[:limit] if limit else files
    return [(str(f), read_image(f)) for f in files]


def environment() -> dict[str, Any]:
    return {"torch": torch.__version__, "threads": torch.get_num_threads(),
            "machine": platform.machine(), "processor": platform.processor(),
            "time": time.strftime("%Y-%m-%d %H:%M:%S")}


def write_json(path: str | Path, payload: dict[str, Any]) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(payload, indent=2, default=float))
