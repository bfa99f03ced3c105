"""One error hierarchy. User-facing errors also subclass ValueError / OSError so callers
that catch the builtin types keep working."""

from __future__ import annotations


class MediapipeIRNError(Exception):
    """Base class of every error this package raises on purpose."""


class UnknownModelError(MediapipeIRNError, KeyError):
    """A model name is not in the registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class UnknownCodecError(MediapipeIRNError, KeyError):
    """A codec name is not registered."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class WeightsError(MediapipeIRNError, ValueError):
    """Shipped or user weights are missing, corrupt, or do not fit the architecture."""


class InputError(MediapipeIRNError, ValueError):
    """An input (image, video, tensor) is unreadable or unsupported."""


class MetadataError(MediapipeIRNError, ValueError):
    """A stored file lacks restore metadata, or carries foreign/newer metadata."""


class CodecError(MediapipeIRNError, ValueError):
    """A codec failed to encode or decode (corrupt or truncated bytes, bad settings)."""


class OutputError(MediapipeIRNError, OSError):
    """An output cannot be written (exists, not writable)."""
