"""mediapipe-irn: compression-aware rescaling with invertible networks.

The small public API::

    from mediapipe_irn import create_model, list_models, get_codec, list_codecs
    from mediapipe_irn import downscale_image, upscale_image, archive, restore
"""

from .codecs import Codec, EncodeOptions, RestoreMetadata, get_codec, list_codecs, register_codec
from .errors import MediapipeIRNError
from .jobs import ArchiveConfig, RestoreConfig, archive, restore
from .models import RescaleModel, create_model, list_models, register_model
from .pipeline import downscale_image, upscale_image

__version__ = "0.1.0"

__all__ = [
    "ArchiveConfig",
    "Codec",
    "EncodeOptions",
    "MediapipeIRNError",
    "RescaleModel",
    "RestoreConfig",
    "RestoreMetadata",
    "archive",
    "create_model",
    "downscale_image",
    "get_codec",
    "list_codecs",
    "list_models",
    "register_codec",
    "register_model",
    "restore",
    "upscale_image",
]
