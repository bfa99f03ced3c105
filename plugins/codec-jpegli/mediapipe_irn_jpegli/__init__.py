"""jpegli (libjxl's JPEG encoder) for mediapipe-irn, through the ``pyjpegli`` binding.

Its files are ordinary JPEGs that every decoder opens; they are decoded here by Pillow
(libjpeg-turbo). ``pyjpegli`` encodes pixels only, so this codec inserts the restore metadata
(a COM segment, as the core ``jpeg`` codec writes it), the EXIF (APP1) and the ICC profile
(APP2, chunked) right after the SOI marker. It names no differentiable proxy: jpegli's
adaptive quantisation differs from the IJG tables ``diff_jpeg`` follows, and the simulator's
output lands 30–42 dB (mean per quality) from jpegli's against 46–48 dB from libjpeg-turbo's
(README, ``bench jpeg-sim --codec jpegli``), so fine-tuning against it is straight-through.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import pyjpegli

from mediapipe_irn.codecs import (
    Decoded,
    EncodeOptions,
    JPEGCodec,
    RestoreMetadata,
    check_frames,
    codec_quality,
)
from mediapipe_irn.errors import CodecError

_ICC_CHUNK = 65519  # 65535 − 2 (length) − 14 ("ICC_PROFILE\0" + sequence + count)


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) > 65533:
        raise CodecError(f"JPEG segment payload too large ({len(payload)} bytes)")
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def insert_segments(
    jpeg: bytes, metadata: RestoreMetadata | None, icc: bytes | None, exif: bytes | None
) -> bytes:
    """``jpeg`` with COM (restore metadata), APP1 (EXIF) and APP2 (ICC) after SOI."""
    if jpeg[:2] != b"\xff\xd8":
        raise CodecError("jpegli returned data without a JPEG SOI marker")
    segs = []
    if exif:
        body = exif if exif.startswith(b"Exif\0\0") else b"Exif\0\0" + exif
        segs.append(_segment(0xE1, body))
    if icc:
        chunks = [icc[i : i + _ICC_CHUNK] for i in range(0, len(icc), _ICC_CHUNK)]
        for n, c in enumerate(chunks, 1):
            segs.append(_segment(0xE2, b"ICC_PROFILE\0" + bytes([n, len(chunks)]) + c))
    if metadata is not None:
        segs.append(_segment(0xFE, metadata.to_json().encode()))
    return jpeg[:2] + b"".join(segs) + jpeg[2:]


class JpegliCodec:
    """Baseline JPEG from jpegli (quality 1–100, 4:2:0 as jpegli chooses)."""

    name, kind, extension = "jpegli", "image", ".jpg"
    default_quality, quality_range = 75, (1, 100)

    def encode(
        self,
        frames: Sequence[np.ndarray],
        options: EncodeOptions = EncodeOptions(),
        metadata: RestoreMetadata | None = None,
        icc: bytes | None = None,
        exif: bytes | None = None,
    ) -> bytes:
        (f,) = check_frames(frames, single=True)
        q = codec_quality(options, self)
        h, w = f.shape[:2]
        try:
            data = pyjpegli.encode(np.ascontiguousarray(f).tobytes(), w, h, quality=q)
        except Exception as exc:  # noqa: BLE001 - the binding raises its own types
            raise CodecError(f"jpegli could not encode a {w}×{h} frame: {exc}") from exc
        return insert_segments(data, metadata, icc, exif)

    def decode(self, data: bytes) -> Decoded:
        return JPEGCodec().decode(data)  # a baseline JPEG: libjpeg-turbo reads it

    def proxy(self):
        return None  # not measured against diff_jpeg yet (module docstring)
