"""Lossless packing of stored JPEG files: JPEG XL's JPEG recompression (ISO/IEC 18181-2, the
``jbrd`` reconstruction box) re-codes a JPEG's DCT coefficients with JPEG XL's entropy coder and
gives the same JPEG back byte for byte on unpacking. It needs no quality setting and does not
touch a single pixel, so it stacks on whatever saving the archive's choice made.

The binding is ``imagecodecs`` (optional extra ``jxl``): it is maintained, its wheels bundle
libjxl, and it exposes the JPEG transcoding calls (``jpegxl_encode_jpeg``/``jpegxl_decode_jpeg``)
that the Pillow plugins do not.
"""

from __future__ import annotations

import hashlib

from ..errors import CodecError, InputError

PACKERS = ("jxl",)
PACKED_SUFFIX = {"jxl": ".jxl"}  # appended to the stored JPEG's own name
# one thread: each archive worker owns one core
INSTALL = "pip install 'mediapipe-irn[jxl]'"


def is_jpeg(data: bytes) -> bool:
    """A JPEG stream: SOI followed by a marker."""
    return data[:3] == b"\xff\xd8\xff"


def _codecs():
    try:
        import imagecodecs
    except ImportError:
        return None
    return imagecodecs if getattr(imagecodecs, "JPEGXL", None) else None


def available(pack: str = "jxl") -> bool:
    """Whether ``pack`` can run here (its binding is installed)."""
    return pack in PACKERS and _codecs() is not None


def require(pack: str | None) -> None:
    """Refuse an unknown packer, or one whose binding is missing, with the install command."""
    if pack is None:
        return
    if pack not in PACKERS:
        raise InputError(f"unknown packing {pack!r}; known: {', '.join(PACKERS)}")
    if _codecs() is None:
        raise InputError(f"packing with JPEG XL needs the imagecodecs package: {INSTALL}")


def pack_jpeg(data: bytes, pack: str = "jxl") -> bytes:
    """``data`` (a JPEG file) packed losslessly; :class:`CodecError` where the JPEG cannot be
    packed (libjxl refuses, e.g., some CMYK or arithmetic-coded files) or does not unpack to
    the same bytes (checked every time: packing must never cost the user a byte)."""
    require(pack)
    if not is_jpeg(data):
        raise CodecError("not a JPEG file: only JPEG files are packed")
    ic = _codecs()
    try:
        packed = bytes(ic.jpegxl_encode_jpeg(data, numthreads=1))
        back = bytes(ic.jpegxl_decode_jpeg(packed, numthreads=1))
    except Exception as exc:  # noqa: BLE001 - the binding raises its own error types
        raise CodecError(f"JPEG XL cannot pack this JPEG ({_message(exc)})") from None
    if hashlib.sha256(back).digest() != hashlib.sha256(data).digest():
        raise CodecError("JPEG XL did not give this JPEG back byte for byte: kept unpacked")
    return packed


def unpack_jpeg(data: bytes, pack: str = "jxl") -> bytes:
    """The JPEG file that ``data`` (packed by :func:`pack_jpeg`) holds."""
    if pack not in PACKERS:
        raise CodecError(f"unknown packing {pack!r} (made by a newer version?)")
    ic = _codecs()
    if ic is None:
        raise InputError(f"this file is packed with JPEG XL; to unpack it: {INSTALL}")
    try:
        return bytes(ic.jpegxl_decode_jpeg(data, numthreads=1))
    except Exception as exc:  # noqa: BLE001
        raise CodecError(f"packed file does not unpack ({_message(exc)})") from None


def _message(exc: Exception) -> str:
    return str(exc).strip() or "libjxl error"


__all__ = [
    "INSTALL",
    "PACKED_SUFFIX",
    "PACKERS",
    "available",
    "is_jpeg",
    "pack_jpeg",
    "require",
    "unpack_jpeg",
]
