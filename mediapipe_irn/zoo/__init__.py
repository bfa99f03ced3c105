"""Shipped weights: ``manifest.json`` maps a model name to its file, full sha256, architecture,
the exact training command and measured validation numbers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ZOO_DIR = Path(__file__).resolve().parent
MANIFEST = ZOO_DIR / "manifest.json"


@dataclass(frozen=True)
class ZooEntry:
    name: str
    path: Path
    sha256: str
    info: dict[str, Any]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest() -> dict[str, dict[str, Any]]:
    if not MANIFEST.is_file():
        return {}
    return json.loads(MANIFEST.read_text())


def find_weights(name: str) -> ZooEntry | None:
    entry = read_manifest().get(name)
    if entry is None:
        return None
    return ZooEntry(name, ZOO_DIR / entry["file"], entry["sha256"], entry)
