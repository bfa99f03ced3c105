"""Frame sources/sinks, image policies, padding and tiled model application."""

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

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_TILE",
    "READ_EXTENSIONS",
    "ImageData",
    "apply_tiled",
    "decode_image",
    "downscale_image",
    "encode_png",
    "read_image",
    "to_tensor",
    "to_uint8",
    "upscale_image",
]
