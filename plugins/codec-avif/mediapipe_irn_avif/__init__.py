"""AVIF still-image codec for mediapipe-irn, through Pillow's libavif support.

Uses only the public API: ``mediapipe_irn.codecs`` (the protocol's types and the image-codec
helpers) and is found through the ``mediapipe_irn.codecs`` entry point, so
``archive --codec avif`` and ``finetune --codec avif`` (straight-through gradient) work
without any change to the core. Restore metadata travels in an XMP packet.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import features

from mediapipe_irn.codecs import (
    Decoded,
    EncodeOptions,
    RestoreMetadata,
    check_frames,
    codec_quality,
    decoded_image,
    open_image_bytes,
    save_rgb,
    xmp_packet,
    xmp_restore_text,
)
from mediapipe_irn.errors import CodecError


class AVIFCodec:
    """AV1 still images (libavif via Pillow), quality 1–100, 4:2:0."""

    name, kind, extension = "avif", "image", ".avif"
    default_quality, quality_range = 60, (1, 100)

    def __init__(self) -> None:
        if not features.check("avif"):
            raise CodecError("this Pillow build has no AVIF support (Pillow ≥ 11.3 wheels do)")

    def encode(
        self,
        frames: Sequence[np.ndarray],
        options: EncodeOptions = EncodeOptions(),
        metadata: RestoreMetadata | None = None,
        icc: bytes | None = None,
        exif: bytes | None = None,
    ) -> bytes:
        (f,) = check_frames(frames, single=True)
        kw: dict = {"quality": codec_quality(options, self), "subsampling": "4:2:0", "speed": 8}
        if metadata is not None:
            kw["xmp"] = xmp_packet(metadata)
        return save_rgb(f, "AVIF", icc, exif, **kw)

    def decode(self, data: bytes) -> Decoded:
        im = open_image_bytes(data, "AVIF")
        return decoded_image(im, xmp_restore_text(im.info.get("xmp")))
