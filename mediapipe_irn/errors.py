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


class UnsupportedInputError(InputError):
    """A readable input this tool deliberately does not handle (e.g. multi-frame images):
    jobs record it as skipped, not failed."""


class IntegrityError(MediapipeIRNError, ValueError):
    """A stored file does not match what the archive recorded (size, sha256), or a path in
    the manifest leaves the folder it must stay in."""


class DiskFullError(OutputError):
    """No space left on the device: the job stops cleanly and can be rerun."""


class LockedError(OutputError):
    """Another process holds the archive's lock."""


class TruncatedInputError(InputError):
    """The input ended before its container said it would (fewer frames than announced)."""


class MultiFrameError(UnsupportedInputError):
    """A multi-page or animated image: the model path would keep only its first frame."""


def reason_of(exc: BaseException) -> str:
    """An OS or FFmpeg error's reason alone (an FFmpeg error's text also names an in-memory
    buffer and a raw error number); other errors as they are."""
    return getattr(exc, "strerror", None) or str(exc)


DEBUG_ENV = "MEDIAPIPE_IRN_DEBUG"  # set (by --debug): failures carry their traceback


def describe(exc: BaseException) -> str:
    """What a user reads for an error on one file: the package's own message, an OS error's
    reason and path, or for anything unexpected its text and where to look (never a bare
    exception class, object address or raw error number)."""
    if isinstance(exc, MediapipeIRNError):
        return str(exc) or "failed"
    try:
        import av

        if isinstance(exc, av.error.FFmpegError):  # [Errno 1094995529] … → its reason only
            return f"corrupt or unsupported media data ({reason_of(exc)})"
    except ImportError:
        pass
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if isinstance(exc.filename, str | bytes) else ""
        return f"{exc.strerror or 'input/output error'}{where}"
    if isinstance(exc, MemoryError):
        return "out of memory (try --max-pixels, or fewer --workers)"
    text = str(exc).strip() or "no details"
    return f"unexpected error: {text} (rerun with --debug for where it happened)"
