"""Names of the files the archive stores, and storing a source unchanged.

Stored names are the source's relative path plus a suffix from a fixed, tool-specific set, so
two sources can never map to one stored file, whatever they are called:

- ``a.png`` → ``a.png.irn.jpg`` (the LR, in the codec's format; videos ``a.mp4.irn.mp4``);
- ``a.png`` → ``a.png.irn-full.jpg`` (a quality target chose the plain codec at full size);
- ``a.png`` → ``a.png.irn-alpha.png`` (its alpha channel, lossless, when it has one);
- ``a.png`` → ``a.png.irn-orig.png`` (the source byte for byte);
- any stored JPEG packed losslessly (``--pack jxl``): its name plus ``.jxl``
  (``a.png.irn.jpg.jxl``, ``a.jpg.irn-orig.jpg.jxl``).

Each suffix is distinct (``.irn.<ext>``, ``.irn-full.<ext>``, ``-alpha.png``, ``-orig<ext>``),
so a stored name parses back to one source path; the driver also checks every name against the
manifest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..codecs.pack import PACKED_SUFFIX, is_jpeg, pack_jpeg
from ..errors import CodecError
from ..pipeline.output import atomic_write
from .manifest import FileRecord

LR_MARK, FULL_MARK, ALPHA_MARK, ORIG_MARK = ".irn", ".irn-full", ".irn-alpha.png", ".irn-orig"


def min_side(scale: int) -> int:
    """Images with a side below this are stored unchanged (too small to rescale usefully)."""
    return 8 * scale


# a file name's limit in bytes on Linux/macOS file systems, less room for a packing suffix
NAME_MAX, PACK_ROOM = 255, 8


def _named(rel: str, suffix: str) -> str:
    """``rel + suffix``; where its last part would pass the file system's limit on a name (a
    source name of 240-255 bytes), the source's part is cut short and ends in ``~`` and a
    digest of the whole, so the name stays unique (the manifest keeps the source's own)."""
    head, sep, last = rel.rpartition("/")
    room = NAME_MAX - PACK_ROOM - len(suffix.encode())
    if len((last + suffix).encode()) <= NAME_MAX - PACK_ROOM:
        return rel + suffix
    digest = "~" + hashlib.sha256(last.encode()).hexdigest()[:16]
    keep = last.encode()[: max(0, room - len(digest))].decode("utf-8", "ignore")
    return head + sep + keep + digest + suffix


def lr_name(rel: str, codec_ext: str) -> str:
    return _named(rel, LR_MARK + codec_ext)


def full_name(rel: str, codec_ext: str) -> str:
    return _named(rel, FULL_MARK + codec_ext)


def alpha_name(rel: str) -> str:
    return _named(rel, ALPHA_MARK)


def orig_name(rel: str) -> str:
    return _named(rel, ORIG_MARK + Path(rel).suffix)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Packed:
    """A stored file as the archive writes it (:func:`packed`). ``fields``: the row's packing
    columns (empty: not packed); ``note``: why a JPEG stayed unpacked."""

    data: bytes
    fields: dict = field(default_factory=dict)
    note: str | None = None

    def name(self, stored: str) -> str:
        """The name the file is stored under, for a stored file named ``stored``."""
        pack = self.fields.get("packed")
        return stored + PACKED_SUFFIX[pack] if pack else stored


def packed(payload: bytes, pack: str | None) -> Packed:
    """``payload`` packed losslessly where ``pack`` asks and it is a JPEG (:mod:`..codecs.pack`),
    else as it is. A JPEG that packing would not make smaller (a few hundred bytes of JPEG XL
    container weigh on tiny files) stays a JPEG; its row still records the JPEG's sha256 and
    size (packing was tried and saved nothing)."""
    if pack is None or not is_jpeg(payload):
        return Packed(payload)
    try:
        data = pack_jpeg(payload, pack)
    except CodecError as exc:
        return Packed(payload, note=str(exc))
    fields = dict(jpeg_sha256=sha256_of(payload), jpeg_bytes=len(payload))
    if len(data) >= len(payload):
        return Packed(payload, fields)
    return Packed(data, {"packed": pack, **fields})


def stored_unchanged(
    dest: Path,
    rel: str,
    data: bytes,
    base: dict,
    reason: str,
    pack: str | None = None,
    ready: Packed | None = None,
) -> FileRecord:
    """Store the source byte for byte (lossless; a JPEG packed where ``pack`` asks, or as
    ``ready`` already holds it); its row."""
    p = ready or packed(data, pack)
    out_rel = p.name(orig_name(rel))
    atomic_write(dest / out_rel, p.data, overwrite=True)
    return FileRecord(
        status="done",
        stored_path=out_rel,
        stored_bytes=len(p.data),
        stored_sha256=sha256_of(p.data),
        reason="; ".join(n for n in (reason, p.note) if n),
        **{**base, "model": None, "codec": None, "quality": None, **p.fields},
    )


__all__ = [
    "Packed",
    "alpha_name",
    "packed",
    "full_name",
    "lr_name",
    "min_side",
    "orig_name",
    "sha256_of",
    "stored_unchanged",
]
