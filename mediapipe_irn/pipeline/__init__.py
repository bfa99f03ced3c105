"""Frame sources/sinks, image policies, padding and tiled model application. Names load on
first use (:mod:`.video`, :mod:`.serving` and the execution choice import no torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import lazy_attribute

_WHERE = {
    "DEFAULT_MAX_PIXELS": "images",
    "READ_EXTENSIONS": "images",
    "ImageData": "images",
    "decode_image": "images",
    "encode_png": "images",
    "read_image": "images",
    "to_tensor": "images",
    "to_uint8": "images",
    "DEFAULT_TILE": "tiling",
    "apply_tiled": "tiling",
    "downscale_image": "tiling",
    "upscale_image": "tiling",
}

if TYPE_CHECKING:
    from .images import (
        DEFAULT_MAX_PIXELS,
        READ_EXTENSIONS,
        ImageData,
        decode_image,
        encode_png,
        read_image,
        to_tensor,
        to_uint8,
    )
    from .tiling import DEFAULT_TILE, apply_tiled, downscale_image, upscale_image


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _WHERE, name)


__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_TILE",
    "ImageData",
    "READ_EXTENSIONS",
    "apply_tiled",
    "decode_image",
    "downscale_image",
    "encode_png",
    "read_image",
    "to_tensor",
    "to_uint8",
    "upscale_image",
]
