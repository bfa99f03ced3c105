"""The one codec protocol (encode frames → bytes; decode bytes → frames + metadata) and the
codec registry, open to other packages through the ``mediapipe_irn.codecs`` entry points."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from importlib.metadata import entry_points
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from ..errors import CodecError, UnknownCodecError
from .metadata import RestoreMetadata

ENTRY_POINT_GROUP = "mediapipe_irn.codecs"


@dataclass(frozen=True)
class EncodeOptions:
    """Codec settings. ``quality`` is JPEG/WebP quality (1–100; JPEG also between whole
    qualities) or the H.264 CRF (0–51); ``None`` picks the codec's default."""

    quality: int | float | None = None
    subsampling: Literal["4:2:0", "4:4:4"] = "4:2:0"
    preset: str = "medium"
    fps: Fraction = Fraction(25)
    lossless: bool = False
    optimize: bool = False  # JPEG: per-image Huffman tables (baseline still; smaller, slower)


@dataclass(frozen=True)
class Decoded:
    frames: list[np.ndarray]  # each H×W×3 uint8
    metadata: RestoreMetadata | None
    icc: bytes | None = None
    exif: bytes | None = None
    raw_metadata: str | None = None  # the metadata text as found (for error messages)
    # the quality the frames were coded at, as the file tells it (JPEG: the libjpeg quality
    # whose tables match; None where the format does not say)
    quality: int | None = None


@runtime_checkable
class Codec(Protocol):
    """A codec: ``encode(frames, options, metadata) -> bytes`` and ``decode(bytes) ->
    Decoded`` (frames and the restore metadata found). Optionally ``proxy()``: its
    differentiable stand-in for training and HCD (:mod:`mediapipe_irn.simulate.proxy`), in
    the forward-vs-compress split of CompressAI (Bégaint et al., 2020)."""

    name: str
    kind: Literal["image", "video"]
    extension: str
    default_quality: int
    quality_range: tuple[int, int]

    def encode(
        self,
        frames: Sequence[np.ndarray],
        options: EncodeOptions = ...,
        metadata: RestoreMetadata | None = None,
        icc: bytes | None = None,
        exif: bytes | None = None,
    ) -> bytes: ...

    def decode(self, data: bytes) -> Decoded: ...


def reads_back_quality(codec: Codec) -> bool:
    """Whether ``codec``'s decoder reads back the quality its encoder was given
    (``Decoded.quality`` equal to ``EncodeOptions.quality``): the quality a restore is told in
    training and refinement must be the one it will be told after decoding."""
    return bool(getattr(codec, "quality_read_back", False))


def codec_proxy(codec: Codec):
    """The codec's differentiable proxy (``simulate``/``bits``), or None when it has none
    (codecs written before ``proxy()`` existed have none)."""
    fn = getattr(codec, "proxy", None)
    return fn() if callable(fn) else None


def check_frames(frames: Sequence[np.ndarray], single: bool) -> list[np.ndarray]:
    """Validate H×W×3 uint8 frames of one size (grey H×W is expanded to RGB)."""
    if isinstance(frames, np.ndarray):
        frames = [frames]
    out = []
    for f in frames:
        f = np.asarray(f)
        if f.ndim == 2:
            f = np.repeat(f[..., None], 3, axis=2)
        if f.ndim != 3 or f.shape[2] != 3 or f.dtype != np.uint8:
            raise CodecError(
                f"frames must be H×W×3 uint8 (RGB), got {f.shape} {f.dtype}; "
                "alpha is kept outside the codec"
            )
        if f.shape[0] < 1 or f.shape[1] < 1:
            raise CodecError("empty frame")
        out.append(np.ascontiguousarray(f))
    if not out:
        raise CodecError("no frames to encode")
    if single and len(out) != 1:
        raise CodecError(f"an image codec encodes one frame, got {len(out)}")
    if any(f.shape != out[0].shape for f in out):
        raise CodecError("all frames must have the same size")
    return out


def sniff_codec(data: bytes) -> str | None:
    """Name of the built-in codec whose container starts ``data``, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" or data[:4] == b"\x1a\x45\xdf\xa3":
        return "h264"
    return None


_CODECS: dict[str, Callable[[], Codec]] = {}
_DISCOVERED = False


def register_codec(name: str, factory: Callable[[], Codec]) -> None:
    _CODECS[name] = factory


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _CODECS:
            _CODECS[ep.name] = ep.load()


def list_codecs() -> list[str]:
    _discover()
    return sorted(_CODECS)


def get_codec(name: str) -> Codec:
    _discover()
    try:
        factory = _CODECS[name]
    except KeyError:
        raise UnknownCodecError(
            f"unknown codec {name!r}; registered: {', '.join(sorted(_CODECS))}"
        ) from None
    return factory()
