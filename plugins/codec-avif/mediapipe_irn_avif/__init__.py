"""AVIF still-image codec for mediapipe-irn, through Pillow's libavif support.

Uses only the public API: ``mediapipe_irn.codecs`` (the protocol's types and metadata) and is
found through the ``mediapipe_irn.codecs`` entry point, so ``archive --codec avif`` and
``finetune --codec avif`` (straight-through gradient) work without any change to the core.
Restore metadata travels in an XMP packet.
"""

from __future__ import annotations

import io
import re
from typing import Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError, features

from mediapipe_irn.codecs import Decoded, EncodeOptions, RestoreMetadata, check_frames
from mediapipe_irn.errors import CodecError, MetadataError

_XMP = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:mpirn="https://example.org/mediapipe-irn/1.0/" mpirn:restore="{}"/>'
        '</rdf:RDF></x:xmpmeta>')
_RE = re.compile(rb'mpirn:restore="([^"]*)"')


class AVIFCodec:
    """AV1 still images (libavif via Pillow), quality 1–100, 4:2:0."""

    name, kind, extension = "avif", "image", ".avif"
    default_quality, quality_range = 60, (1, 100)

    def __init__(self) -> None:
        if not features.check("avif"):
            raise CodecError("this Pillow build has no AVIF support (Pillow ≥ 11.3 wheels do)")

    def encode(self, frames: Sequence[np.ndarray], options: EncodeOptions = EncodeOptions(),
               metadata: RestoreMetadata | None = None, icc: bytes | None = None,
               exif: bytes | None = None) -> bytes:
        (f,) = check_frames(frames, single=True)
        q = self.default_quality if options.quality is None else int(options.quality)
        if not 1 <= q <= 100:
            raise CodecError(f"quality must be in 1–100, got {q}")
        kw: dict = {"quality": q, "subsampling": "4:2:0", "speed": 8}
        if metadata is not None:
            text = metadata.to_json().replace("&", "&amp;").replace('"', "&quot;")
            kw["xmp"] = _XMP.format(text).encode()
        if icc:
            kw["icc_profile"] = icc
        if exif:
            kw["exif"] = exif
        buf = io.BytesIO()
        Image.fromarray(f, "RGB").save(buf, "AVIF", **kw)
        return buf.getvalue()

    def decode(self, data: bytes) -> Decoded:
        if not data:
            raise CodecError("empty AVIF data")
        try:
            im = Image.open(io.BytesIO(data))
            if im.format != "AVIF":
                raise CodecError(f"expected AVIF data, found {im.format}")
            im.load()
        except CodecError:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise CodecError(f"corrupt or truncated AVIF data: {exc}") from exc
        raw = None
        xmp = im.info.get("xmp")
        if xmp:
            m = _RE.search(xmp if isinstance(xmp, bytes) else str(xmp).encode())
            if m:
                raw = m.group(1).decode().replace("&quot;", '"').replace("&amp;", "&")
        meta = None
        if raw is not None:
            try:
                meta = RestoreMetadata.from_json(raw, "AVIF file")
            except MetadataError:
                meta = None
        rgb = np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))
        return Decoded([rgb], meta, im.info.get("icc_profile"), im.info.get("exif"), raw)
