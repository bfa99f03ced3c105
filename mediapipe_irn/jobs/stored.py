"""Names of the files the archive stores, and storing a source unchanged.

Stored names are the source's relative path plus a suffix from a fixed, tool-specific set, so
two sources can never map to one stored file, whatever they are called:

- ``a.png`` → ``a.png.irn.jpg`` (the LR, in the codec's format; videos ``a.mp4.irn.mp4``);
- ``a.png`` → ``a.png.irn-full.jpg`` (a quality target chose the plain codec at full size);
- ``a.png`` → ``a.png.irn-alpha.png`` (its alpha channel, lossless, when it has one);
- ``a.png`` → ``a.png.irn-orig.png`` (the source byte for byte).

Each suffix is distinct (``.irn.<ext>``, ``.irn-full.<ext>``, ``-alpha.png``, ``-orig<ext>``),
so a stored name parses back to one source path; the driver also checks every name against the
manifest.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..pipeline.output import atomic_write
from .manifest import FileRecord

LR_MARK, FULL_MARK, ALPHA_MARK, ORIG_MARK = ".irn", ".irn-full", ".irn-alpha.png", ".irn-orig"


def min_side(scale: int) -> int:
    """Images with a side below this are stored unchanged (too small to rescale usefully)."""
    return 8 * scale


def lr_name(rel: str, codec_ext: str) -> str:
    return rel + LR_MARK + codec_ext


def full_name(rel: str, codec_ext: str) -> str:
    return rel + FULL_MARK + codec_ext


def alpha_name(rel: str) -> str:
    return rel + ALPHA_MARK


def orig_name(rel: str) -> str:
    return rel + ORIG_MARK + Path(rel).suffix


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_unchanged(dest: Path, rel: str, data: bytes, base: dict, reason: str) -> FileRecord:
    """Store the source byte for byte (lossless); its row."""
    out_rel = orig_name(rel)
    atomic_write(dest / out_rel, data, overwrite=True)
    return FileRecord(
        status="done",
        stored_path=out_rel,
        stored_bytes=len(data),
        stored_sha256=base["sha256"],
        reason=reason,
        **{**base, "model": None, "codec": None, "quality": None},
    )


__all__ = [
    "alpha_name",
    "full_name",
    "lr_name",
    "min_side",
    "orig_name",
    "sha256_of",
    "stored_unchanged",
]
