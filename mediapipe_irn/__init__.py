"""mediapipe-irn: compression-aware rescaling with invertible networks.

The small public API::

    from mediapipe_irn import create_model, list_models, get_codec, list_codecs
    from mediapipe_irn import downscale_image, upscale_image, archive, restore

Names load on first use (PEP 562), so a command that never touches the models (a video job
served from cached graphs, ``--help``) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "Codec": "codecs",
    "EncodeOptions": "codecs",
    "RestoreMetadata": "codecs",
    "get_codec": "codecs",
    "list_codecs": "codecs",
    "register_codec": "codecs",
    "MediapipeIRNError": "errors",
    "ArchiveConfig": "jobs",
    "RestoreConfig": "jobs",
    "archive": "jobs",
    "restore": "jobs",
    "RescaleModel": "models",
    "create_model": "models",
    "list_models": "models",
    "register_model": "models",
    "downscale_image": "pipeline",
    "upscale_image": "pipeline",
}

if TYPE_CHECKING:
    from .codecs import (
        Codec,
        EncodeOptions,
        RestoreMetadata,
        get_codec,
        list_codecs,
        register_codec,
    )
    from .errors import MediapipeIRNError
    from .jobs import ArchiveConfig, RestoreConfig, archive, restore
    from .models import RescaleModel, create_model, list_models, register_model
    from .pipeline import downscale_image, upscale_image


def lazy_attribute(package: str, where: dict[str, str], name: str) -> Any:
    """``name`` of ``package``, imported from its submodule ``where[name]`` on first use."""
    if name not in where:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{package}.{where[name]}"), name)


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _WHERE, name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


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
