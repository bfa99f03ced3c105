"""Restore metadata that travels inside every stored file (JPEG COM segment, PNG iTXt chunk,
WebP XMP, MP4/MKV container tags), so ``restore``/``decode`` need no flags."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import MetadataError

FORMAT_NAME = "mediapipe-irn"
FORMAT_VERSION = 1
TAG = "mediapipe-irn"  # PNG text key / MP4 tag name / JPEG COM prefix


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
        d = asdict(self)
        d["format"] = FORMAT_NAME
        return json.dumps(d, sort_keys=True, separators=(",", ":"))

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
