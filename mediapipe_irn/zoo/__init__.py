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


def add_to_zoo(
    checkpoint: str | Path,
    name: str,
    family: str,
    scale: int,
    arch: dict[str, Any],
    commands: list[str],
    notes: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Export a trainer checkpoint's weights into the zoo and record them in the manifest
    (both written atomically). The caller passes the model's registry facts (family, scale,
    architecture), so the zoo never imports the registry."""
    import torch

    from ..pipeline.output import atomic_path, atomic_write

    ck = torch.load(checkpoint, map_location="cpu", weights_only=True)
    if ck.get("arch") != name:
        raise ValueError(f"{checkpoint} holds {ck.get('arch')!r}, not {name!r}")
    dest = ZOO_DIR / f"{name}.pt"
    state = {k: v.contiguous() for k, v in ck["model"].items()}
    with atomic_path(dest, overwrite=True) as tmp:
        torch.save(state, tmp)
    cfg = ck.get("config", {})
    entry = {
        "file": dest.name,
        "sha256": file_sha256(dest),
        "family": family,
        "scale": scale,
        "arch": arch,
        "params": int(sum(v.numel() for v in state.values())),
        "training": {
            "commands": commands,
            "steps": int(ck["step"]),
            "data": cfg.get("data"),
            "codec": cfg.get("codec"),
            "batch": cfg.get("batch"),
            "patch": cfg.get("patch"),
            "rate_weight": (cfg.get("weights") or {}).get("rate", 0.0),
            **(extra or {}),
        },
        "validation_history": ck.get("history", [])[-3:],
        "notes": notes,
    }
    manifest = read_manifest()
    manifest[name] = entry
    atomic_write(
        MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(), overwrite=True
    )
    return entry
