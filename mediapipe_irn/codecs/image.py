"""Still-image codecs through Pillow: JPEG (libjpeg-turbo), PNG (lossless) and WebP.

Policy: frames are RGB uint8 (grey input is expanded to RGB; alpha is kept by the caller,
outside the codec). Restore metadata goes in a JPEG COM segment, a PNG iTXt chunk, or the WebP
XMP chunk; viewers ignore all three.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageFile, PngImagePlugin, UnidentifiedImageError

from ..errors import CodecError, MetadataError
from .base import Decoded, EncodeOptions, check_frames
from .metadata import TAG, RestoreMetadata

DEFAULT_MAX_PIXELS = 200_000_000  # 200 MP: the one decompression-bomb limit of the package
# Pillow refuses images over 2 × MAX_IMAGE_PIXELS (179 MP by default): make that 200 MP, so one
# limit holds wherever Pillow opens an image for this package.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, DEFAULT_MAX_PIXELS // 2)

_XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    'xmlns:mpirn="https://example.org/mediapipe-irn/1.0/" mpirn:restore="{}"/>'
    "</rdf:RDF></x:xmpmeta>"
)
_XMP_RE = re.compile(rb'mpirn:restore="([^"]*)"')


def xmp_packet(metadata: RestoreMetadata) -> bytes:
    """An XMP packet carrying the restore metadata (for WebP, AVIF and similar formats)."""
    text = metadata.to_json().replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return _XMP.format(text).encode()


def xmp_restore_text(xmp: bytes | str | None) -> str | None:
    """The restore-metadata text inside an XMP packet (the whole packet if it is foreign)."""
    if not xmp:
        return None
    xb = xmp if isinstance(xmp, bytes) else str(xmp).encode()
    m = _XMP_RE.search(xb)
    if not m:
        return xb.decode("utf-8", "replace")
    return m.group(1).decode().replace("&lt;", "<").replace("&quot;", '"').replace("&amp;", "&")


_MAXBLOCK_LOCK = threading.Lock()  # ImageFile.MAXBLOCK is Pillow's module-wide minimum


def save_image(
    im: Image.Image, fmt: str, icc: bytes | None = None, exif: bytes | None = None, **kw
) -> bytes:
    """The package's one Pillow writer: ``im`` as ``fmt``, with the ICC profile and EXIF when
    given and the format carries them."""
    if icc and fmt in ("JPEG", "PNG", "WEBP", "TIFF", "AVIF"):
        kw["icc_profile"] = icc
    if exif and fmt in ("JPEG", "PNG", "WEBP", "TIFF", "AVIF"):
        kw["exif"] = exif
    optimized = fmt == "JPEG" and bool(kw.get("optimize"))
    # libjpeg cannot suspend while writing an optimised JPEG, and Pillow sizes its buffer at one
    # byte per pixel below quality 95, which detailed images overflow at 4:4:4 or high quality
    # (Set14's baboon at 93: libjpeg prints "Suspension not allowed here" and fails). Those get
    # room for two bytes per pixel from the start; the rare file beyond it a retry with room
    # for the worst case.
    big = kw.get("quality", 75) >= 90 or "qtables" in kw  # the fractional ones are at the top
    if optimized and (kw.get("subsampling") == 0 or big):
        try:
            return _save_with_block(im, fmt, kw, 2 * im.width * im.height + (1 << 20))
        except OSError:
            pass
    else:
        buf = io.BytesIO()
        try:
            im.save(buf, fmt, **kw)
            return buf.getvalue()
        except OSError:
            if not optimized:
                raise
    return _save_with_block(im, fmt, kw, 12 * im.width * im.height + (1 << 20))


def _save_with_block(im: Image.Image, fmt: str, kw: dict, block: int) -> bytes:
    """``im.save`` with Pillow's minimum encoder buffer raised to ``block`` bytes."""
    with _MAXBLOCK_LOCK:
        old = ImageFile.MAXBLOCK
        ImageFile.MAXBLOCK = max(old, block)
        try:
            buf = io.BytesIO()
            im.save(buf, fmt, **kw)
        finally:
            ImageFile.MAXBLOCK = old
    return buf.getvalue()


def save_rgb(frame: np.ndarray, fmt: str, icc: bytes | None, exif: bytes | None, **kw) -> bytes:
    """Encode an RGB frame with Pillow (:func:`save_image`)."""
    return save_image(Image.fromarray(frame, "RGB"), fmt, icc, exif, **kw)


def open_image_bytes(data: bytes, fmt: str) -> Image.Image:
    """Open and fully decode ``data`` as ``fmt``; corrupt or truncated data → CodecError."""
    if not data:
        raise CodecError(f"empty {fmt} data")
    try:
        im = Image.open(io.BytesIO(data))
        if im.format != fmt:
            raise CodecError(f"expected {fmt} data, found {im.format}")
        im.load()
    except CodecError:
        raise
    except Image.DecompressionBombError as exc:
        raise CodecError(
            f"{fmt} data over the limit of {DEFAULT_MAX_PIXELS} pixels "
            f"(decompression bomb guard): {exc}"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CodecError(f"corrupt or truncated {fmt} data: {exc}") from exc
    return im


# The JPEG standard's luminance table (ITU-T T.81, Annex K), which libjpeg scales by quality.
_LUMA = np.array(
    [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56]
    + [14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104]
    + [113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99],
    np.float64,
)


# ... and its chrominance table
_CHROMA = np.array(
    [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99]
    + [24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99]
    + [99] * 32,
    np.float64,
)


def jpeg_tables(quality: float) -> list[list[int]]:
    """libjpeg's baseline luminance and chrominance tables at ``quality``, a fractional one
    too (its scale factor, 5000/q or 200 − 2q, unrounded): steps between libjpeg's whole
    qualities, which at the top are 8–15 % apart in bytes. Natural order, as Pillow takes
    them."""
    scale = 5000.0 / quality if quality < 50 else 200.0 - 2.0 * quality
    return [
        np.clip(np.floor((t * scale + 50.0) / 100.0), 1, 255).astype(int).tolist()
        for t in (_LUMA, _CHROMA)
    ]


def _ijg_tables() -> np.ndarray:
    """Sum of log luminance steps of libjpeg's baseline tables at quality 1–100."""
    q = np.arange(1, 101, dtype=np.float64)
    scale = np.where(q < 50, 5000.0 / q, 200.0 - 2.0 * q)
    t = np.clip(np.floor((_LUMA[None] * scale[:, None] + 50.0) / 100.0), 1, 255)
    return np.log(t).sum(1)


_IJG_LOG_SUMS = _ijg_tables()


def jpeg_quality(im: Image.Image) -> int | None:
    """The libjpeg quality (1–100) whose luminance table matches the file's, by the sum of
    log steps (exact for libjpeg-turbo's tables; the nearest equivalent for other encoders'),
    or None without a usable table."""
    tables = getattr(im, "quantization", None) or {}
    luma = tables.get(0)
    if luma is None or len(luma) != 64:
        return None
    s = float(np.log(np.maximum(np.asarray(luma, np.float64), 1.0)).sum())
    return int(np.argmin(np.abs(_IJG_LOG_SUMS - s))) + 1


def decoded_image(im: Image.Image, raw: str | None, quality: int | None = None) -> Decoded:
    """A :class:`Decoded` from a Pillow image and the restore-metadata text found in it."""
    meta = None
    if raw is not None:
        try:
            meta = RestoreMetadata.from_json(raw, f"{im.format} file")
        except MetadataError:
            meta = None  # foreign text: callers that need metadata report ``raw``
    rgb = np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))
    exif = im.info.get("exif")
    return Decoded([rgb], meta, im.info.get("icc_profile"), exif, raw, quality)


def codec_quality(options: EncodeOptions, codec) -> int | float:
    """``options.quality`` (the codec's default when None), checked against the codec's
    ``quality_range``; a fractional one only for a codec with ``fractional_quality``."""
    q = codec.default_quality if options.quality is None else options.quality
    whole = float(q).is_integer()
    if not whole and not getattr(codec, "fractional_quality", False):
        raise CodecError(f"{codec.name} takes whole qualities, got {q}")
    q = int(q) if whole else float(q)
    lo, hi = codec.quality_range
    if not lo <= q <= hi:
        raise CodecError(f"quality must be in {lo}–{hi}, got {q}")
    return q


class JPEGCodec:
    """Baseline JPEG via Pillow/libjpeg-turbo, 4:2:0 by default (optionally 4:4:4)."""

    name, kind, extension = "jpeg", "image", ".jpg"
    default_quality, quality_range = 75, (1, 100)
    subsamplings = ("4:2:0", "4:4:4")  # what EncodeOptions.subsampling may choose
    quality_read_back = True  # decode() reads the quality back from libjpeg's tables, exactly
    fractional_quality = True  # e.g. 93.4: libjpeg's tables scaled between whole qualities

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
        kw: dict = {
            "subsampling": 0 if options.subsampling == "4:4:4" else 2,
            "optimize": options.optimize,
        }
        if isinstance(q, int):
            kw["quality"] = q
        else:  # the same tables libjpeg scales, between its whole qualities
            kw["qtables"] = jpeg_tables(q)
        if metadata is not None:
            kw["comment"] = metadata.to_json().encode()  # version 1 had a "mediapipe-irn:" prefix
        return save_rgb(f, "JPEG", icc, exif, **kw)

    def proxy(self):
        """The differentiable JPEG and its size estimate (:mod:`mediapipe_irn.simulate`)."""
        from ..simulate.proxy import JPEGProxy

        return JPEGProxy()

    def decode(self, data: bytes) -> Decoded:
        im = open_image_bytes(data, "JPEG")
        com = im.info.get("comment")
        raw = None
        if com:
            text = com.decode("utf-8", "replace") if isinstance(com, bytes) else str(com)
            raw = text[len(TAG) + 1 :] if text.startswith(TAG + ":") else text
        return decoded_image(im, raw, jpeg_quality(im))


class PNGCodec:
    """Lossless PNG, the reference for the model's own error."""

    name, kind, extension = "png", "image", ".png"
    default_quality, quality_range = 100, (100, 100)

    def encode(
        self,
        frames: Sequence[np.ndarray],
        options: EncodeOptions = EncodeOptions(),
        metadata: RestoreMetadata | None = None,
        icc: bytes | None = None,
        exif: bytes | None = None,
    ) -> bytes:
        (f,) = check_frames(frames, single=True)
        info = PngImagePlugin.PngInfo()
        if metadata is not None:
            info.add_itxt(TAG, metadata.to_json())
        return save_rgb(f, "PNG", icc, exif, pnginfo=info, compress_level=6)

    def proxy(self):
        return None  # lossless: nothing to simulate

    def decode(self, data: bytes) -> Decoded:
        im = open_image_bytes(data, "PNG")
        raw = im.info.get(TAG)
        return decoded_image(im, str(raw) if raw is not None else None)


class WebPCodec:
    """Lossy WebP (libwebp through Pillow); ``lossless=True`` for lossless WebP."""

    name, kind, extension = "webp", "image", ".webp"
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
        kw: dict = {
            "quality": codec_quality(options, self),
            "lossless": options.lossless,
            "method": 4,
        }
        if metadata is not None:
            kw["xmp"] = xmp_packet(metadata)
        return save_rgb(f, "WEBP", icc, exif, **kw)

    def proxy(self):
        return None  # no simulator: straight-through with the identity gradient

    def decode(self, data: bytes) -> Decoded:
        im = open_image_bytes(data, "WEBP")
        return decoded_image(im, xmp_restore_text(im.info.get("xmp")))
