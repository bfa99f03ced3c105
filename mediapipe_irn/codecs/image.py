"""Still-image codecs through Pillow: JPEG (libjpeg-turbo), PNG (lossless) and WebP.

Policy: frames are RGB uint8 (grey input is expanded to RGB; alpha is kept by the caller,
outside the codec). Restore metadata goes in a JPEG COM segment, a PNG iTXt chunk, or the WebP
XMP chunk; viewers ignore all three.
"""

from __future__ import annotations

import io
import re
from typing import Sequence

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from ..errors import CodecError, MetadataError
from .base import Decoded, EncodeOptions, check_frames
from .metadata import TAG, RestoreMetadata

_XMP = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:mpirn="https://example.org/mediapipe-irn/1.0/" mpirn:restore="{}"/>'
        '</rdf:RDF></x:xmpmeta>')
_XMP_RE = re.compile(rb'mpirn:restore="([^"]*)"')


def _xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _xml_unescape(s: str) -> str:
    return s.replace("&lt;", "<").replace("&quot;", '"').replace("&amp;", "&")


def _open(data: bytes, fmt: str) -> Image.Image:
    if not data:
        raise CodecError(f"empty {fmt} data")
    try:
        im = Image.open(io.BytesIO(data))
        if im.format != fmt:
            raise CodecError(f"expected {fmt} data, found {im.format}")
        im.load()
    except CodecError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CodecError(f"corrupt or truncated {fmt} data: {exc}") from exc
    return im


def _decoded(im: Image.Image, raw: str | None) -> Decoded:
    meta = None
    if raw is not None:
        try:
            meta = RestoreMetadata.from_json(raw, f"{im.format} file")
        except MetadataError:
            meta = None  # foreign text: callers that need metadata report ``raw``
    rgb = np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))
    exif = im.info.get("exif")
    return Decoded([rgb], meta, im.info.get("icc_profile"), exif, raw)


def _quality(options: EncodeOptions, default: int) -> int:
    q = default if options.quality is None else int(options.quality)
    if not 1 <= q <= 100:
        raise CodecError(f"quality must be in 1–100, got {q}")
    return q


class JPEGCodec:
    """Baseline JPEG via Pillow/libjpeg-turbo, 4:2:0 by default (optionally 4:4:4)."""

    name, kind, extension = "jpeg", "image", ".jpg"
    default_quality, quality_range = 75, (1, 100)

    def encode(self, frames: Sequence[np.ndarray], options: EncodeOptions = EncodeOptions(),
               metadata: RestoreMetadata | None = None, icc: bytes | None = None,
               exif: bytes | None = None) -> bytes:
        (f,) = check_frames(frames, single=True)
        kw: dict = {"quality": _quality(options, self.default_quality),
                    "subsampling": 0 if options.subsampling == "4:4:4" else 2,
                    "optimize": False}
        if metadata is not None:
            kw["comment"] = (TAG + ":" + metadata.to_json()).encode()
        if icc:
            kw["icc_profile"] = icc
        if exif:
            kw["exif"] = exif
        buf = io.BytesIO()
        Image.fromarray(f, "RGB").save(buf, "JPEG", **kw)
        return buf.getvalue()

    def decode(self, data: bytes) -> Decoded:
        im = _open(data, "JPEG")
        com = im.info.get("comment")
        raw = None
        if com:
            text = com.decode("utf-8", "replace") if isinstance(com, bytes) else str(com)
            raw = text[len(TAG) + 1:] if text.startswith(TAG + ":") else text
        return _decoded(im, raw)


class PNGCodec:
    """Lossless PNG, the reference for the model's own error."""

    name, kind, extension = "png", "image", ".png"
    default_quality, quality_range = 100, (100, 100)

    def encode(self, frames: Sequence[np.ndarray], options: EncodeOptions = EncodeOptions(),
               metadata: RestoreMetadata | None = None, icc: bytes | None = None,
               exif: bytes | None = None) -> bytes:
        (f,) = check_frames(frames, single=True)
        info = PngImagePlugin.PngInfo()
        if metadata is not None:
            info.add_itxt(TAG, metadata.to_json())
        kw: dict = {"pnginfo": info, "compress_level": 6}
        if icc:
            kw["icc_profile"] = icc
        if exif:
            kw["exif"] = exif
        buf = io.BytesIO()
        Image.fromarray(f, "RGB").save(buf, "PNG", **kw)
        return buf.getvalue()

    def decode(self, data: bytes) -> Decoded:
        im = _open(data, "PNG")
        raw = im.info.get(TAG)
        return _decoded(im, str(raw) if raw is not None else None)


class WebPCodec:
    """Lossy WebP (libwebp through Pillow); ``lossless=True`` for lossless WebP."""

    name, kind, extension = "webp", "image", ".webp"
    default_quality, quality_range = 75, (1, 100)

    def encode(self, frames: Sequence[np.ndarray], options: EncodeOptions = EncodeOptions(),
               metadata: RestoreMetadata | None = None, icc: bytes | None = None,
               exif: bytes | None = None) -> bytes:
        (f,) = check_frames(frames, single=True)
        kw: dict = {"quality": _quality(options, self.default_quality),
                    "lossless": options.lossless, "method": 4}
        if metadata is not None:
            kw["xmp"] = _XMP.format(_xml_escape(metadata.to_json())).encode()
        if icc:
            kw["icc_profile"] = icc
        if exif:
            kw["exif"] = exif
        buf = io.BytesIO()
        Image.fromarray(f, "RGB").save(buf, "WEBP", **kw)
        return buf.getvalue()

    def decode(self, data: bytes) -> Decoded:
        im = _open(data, "WEBP")
        xmp = im.info.get("xmp")
        raw = None
        if xmp:
            xb = xmp if isinstance(xmp, bytes) else str(xmp).encode()
            m = _XMP_RE.search(xb)
            raw = _xml_unescape(m.group(1).decode()) if m else xb.decode("utf-8", "replace")
        return _decoded(im, raw)
