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
# restore metadata (version 2) records the first SHA_DIGITS hex digits of the weights' sha256:
# enough to tell the shipped versions apart, ~50 bytes less in every stored file
SHA_DIGITS = 16


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


def same_weights(recorded: str, sha256: str) -> bool:
    """Whether weights a file records (the full sha256, or the first ``SHA_DIGITS`` hex
    digits that compact restore metadata keeps) are the weights of ``sha256``."""
    return len(recorded) >= SHA_DIGITS and sha256.startswith(recorded)


def find_weights(name: str, sha256: str | None = None) -> ZooEntry | None:
    """The shipped weights of ``name``: the current ones, or with ``sha256`` the version that
    has it (current or ``previous``). ``sha256="unrecorded"`` asks for the weights that made
    files written before restore metadata recorded the weights (``previous`` entries marked
    ``unrecorded``; the current ones if none is)."""
    entry = read_manifest().get(name)
    if entry is None:
        return None
    versions = [entry] + list(entry.get("previous", []))
    if sha256 == "unrecorded":
        v = next((v for v in versions[1:] if v.get("unrecorded")), entry)
    elif sha256 is not None:
        v = next((v for v in versions if same_weights(sha256, v["sha256"])), None)
        if v is None:
            return None
    else:
        v = entry
    return ZooEntry(name, ZOO_DIR / v["file"], v["sha256"], entry)


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
    import io

    import torch

    from ..pipeline.output import atomic_write

    ck = torch.load(checkpoint, map_location="cpu", weights_only=True)
    if ck.get("arch") != name:
        raise ValueError(f"{checkpoint} holds {ck.get('arch')!r}, not {name!r}")
    state = {k: v.contiguous() for k, v in ck["model"].items()}
    buf = io.BytesIO()
    torch.save(state, buf)
    data = buf.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    manifest = read_manifest()
    old = manifest.get(name)
    prev = list(old.get("previous", [])) if old else []
    if old is not None and old["sha256"] != sha:
        # keep the weights that earlier files were made with: restore picks them by the
        # sha256 the file records (or, for files that record none, the "unrecorded" ones)
        kept = f"{name}-{old['sha256'][:12]}.pt"
        if (ZOO_DIR / old["file"]).is_file() and not (ZOO_DIR / kept).exists():
            (ZOO_DIR / old["file"]).rename(ZOO_DIR / kept)
        prev.insert(
            0,
            {
                "file": kept,
                "sha256": old["sha256"],
                "unrecorded": not any(p.get("unrecorded") for p in prev),
                "training": old.get("training"),
                "notes": old.get("notes", ""),
            },
        )
    dest = ZOO_DIR / f"{name}.pt"
    atomic_write(dest, data, overwrite=True)
    cfg = ck.get("config", {})
    entry = {
        "file": dest.name,
        "sha256": sha,
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
            "rec_loss": (cfg.get("weights") or {}).get("rec_norm", "l1"),
            "gain_fit": (cfg.get("weights") or {}).get("gain_fit", 0.0),
            **(extra or {}),
        },
        "validation_history": ck.get("history", [])[-3:],
        "notes": notes,
    }
    if prev:
        entry["previous"] = prev
    manifest[name] = entry
    atomic_write(
        MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(), overwrite=True
    )
    return entry
