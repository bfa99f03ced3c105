"""Restore metadata that travels inside every stored file (JPEG COM segment, PNG iTXt chunk,
WebP XMP, MP4/MKV container tags), so ``restore``/``decode`` need no flags."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import MetadataError
from ..zoo import SHA_DIGITS

FORMAT_NAME = "mediapipe-irn"
FORMAT_VERSION = 2
TAG = "mediapipe-irn"  # PNG text key / MP4 tag name / JPEG COM prefix
# version 2 is compact (it rides in every stored file: ~90 bytes against version 1's ~235):
# short keys, the weights' sha256 cut to its first SHA_DIGITS hex digits (enough to tell the
# shipped versions apart), padding only where there is some. Version 1 is still read.
COMPACT_KEY = "mpirn"  # its value is the version; it marks the text as this format's
_SHORT = {"weights_sha256": "k", "gain": "g", "grey": "gr"}  # extra keys with a short form
_FIELDS = {"s": "scale", "w": "width", "h": "height", "pw": "pad_w", "ph": "pad_h"}


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {COMPACT_KEY: FORMAT_VERSION, "model": d["model"]}
    out.update({k: d[f] for k, f in _FIELDS.items() if d[f] or k == "s"})
    extra = dict(d["extra"])
    if "weights_sha256" in extra:
        extra["weights_sha256"] = str(extra["weights_sha256"])[:SHA_DIGITS]
    rest = {k: v for k, v in extra.items() if k not in _SHORT}
    out.update({_SHORT[k]: v for k, v in extra.items() if k in _SHORT})
    if rest:
        out["x"] = rest
    return out


def _expand(d: dict[str, Any]) -> dict[str, Any]:
    """Version 2 → version 1's keys (what is missing stays missing: an incomplete file)."""
    long = {v: k for k, v in _SHORT.items()}
    extra = {long[k]: v for k, v in d.items() if k in long}
    extra.update(d.get("x") or {})
    out = {f: d[k] for k, f in _FIELDS.items() if k in d}
    if "model" in d:
        out["model"] = d["model"]
    return {**out, "format": FORMAT_NAME, "version": d[COMPACT_KEY], "extra": extra}


@dataclass(frozen=True)
class RestoreMetadata:
    """What an upscaler needs: the model, its scale, the original size and the padding."""

    model: str
    scale: int
    width: int  # original (HR) width, before padding
    height: int
    pad_w: int = 0
    pad_h: int = 0
    version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The compact form (version 2)."""
        return json.dumps(_compact(asdict(self)), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes | None, where: str = "file") -> RestoreMetadata:
        if text is None or text == "" or text == b"":
            raise MetadataError(
                f"{where} carries no {FORMAT_NAME} restore metadata "
                "(was it written by mediapipe-irn? pass --model to upscale "
                "it anyway)"
            )
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        try:
            d = json.loads(text)
        except json.JSONDecodeError:
            raise MetadataError(
                f"{where} carries foreign metadata, not {FORMAT_NAME}: {text[:80]!r}"
            ) from None
        if isinstance(d, dict) and COMPACT_KEY in d:
            d = _expand(d)
        if not isinstance(d, dict) or d.get("format") != FORMAT_NAME:
            raise MetadataError(
                f"{where} carries foreign metadata, not {FORMAT_NAME}: {str(d)[:80]!r}"
            )
        ver = d.get("version")
        if not isinstance(ver, int) or ver > FORMAT_VERSION:
            raise MetadataError(
                f"{where} has {FORMAT_NAME} metadata version {ver!r}; this "
                f"build reads up to version {FORMAT_VERSION}: upgrade "
                "mediapipe-irn"
            )
        try:
            return cls(
                model=str(d["model"]),
                scale=int(d["scale"]),
                width=int(d["width"]),
                height=int(d["height"]),
                pad_w=int(d.get("pad_w", 0)),
                pad_h=int(d.get("pad_h", 0)),
                version=ver,
                extra=dict(d.get("extra") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MetadataError(f"{where}: incomplete {FORMAT_NAME} metadata ({exc})") from None
