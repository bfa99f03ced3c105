"""Codecs behind one protocol; third-party codecs join through the entry-point group
``mediapipe_irn.codecs`` (a zero-argument factory returning a :class:`Codec`)."""

from .base import (
    ENTRY_POINT_GROUP,
    Codec,
    Decoded,
    EncodeOptions,
    check_frames,
    codec_proxy,
    get_codec,
    list_codecs,
    reads_back_quality,
    register_codec,
    sniff_codec,
)
from .image import (
    JPEGCodec,
    PNGCodec,
    WebPCodec,
    codec_quality,
    decoded_image,
    open_image_bytes,
    save_rgb,
    xmp_packet,
    xmp_restore_text,
)
from .metadata import FORMAT_VERSION, RestoreMetadata

register_codec("jpeg", JPEGCodec)
register_codec("png", PNGCodec)
register_codec("webp", WebPCodec)


def _h264():  # imported lazily: PyAV is only needed for video
    from .video import H264Codec

    return H264Codec()


register_codec("h264", _h264)

__all__ = [
    "ENTRY_POINT_GROUP",
    "FORMAT_VERSION",
    "Codec",
    "Decoded",
    "EncodeOptions",
    "JPEGCodec",
    "PNGCodec",
    "RestoreMetadata",
    "WebPCodec",
    "check_frames",
    "codec_quality",
    "codec_proxy",
    "get_codec",
    "list_codecs",
    "decoded_image",
    "open_image_bytes",
    "reads_back_quality",
    "register_codec",
    "save_rgb",
    "sniff_codec",
    "xmp_packet",
    "xmp_restore_text",
]
