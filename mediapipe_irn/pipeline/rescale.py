"""The one frame-rescaling layer every job and plugin calls: a model, how it runs (execution
option), the padding rule, and the restore metadata that goes with a frame.

Padding: the HR frame is replicate-padded at the bottom/right to a multiple of ``align``
(the scale for still images; twice the scale for video, so the LR's sides are even as 4:2:0
encoders need). :class:`RestoreMetadata` records the original size and that padding; the
restored frame is cropped back to it. A file without metadata can still be upscaled when the
caller names the model (:func:`metadata_from_model`). The video jobs ask
:func:`.serving.video_rescaler`, which serves the same frames from a cached exported graph
without torch where it can, and this class otherwise.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..codecs.metadata import RestoreMetadata
from ..models import RescaleModel, create_model
from ..models.base import pad_to_multiple
from ..zoo import same_weights
from .images import to_tensor, to_uint8
from .serving import (
    check_scale,
    frame_metadata,
    metadata_from_model,
    padding,
    restore_metadata_for,
)
from .tiling import downscale_image, upscale_image

GAIN_KEY, GAIN_MAX = "gain", 2.0


def gain_text(gain: float) -> str:
    """A restore gain as the metadata stores it: two decimals, always four characters (the
    file's size does not depend on it)."""
    return f"{min(max(gain, 0.0), GAIN_MAX):.2f}"


def restore_gain(meta: RestoreMetadata) -> float:
    """The strength a full-size restore is applied with (``extra['gain']``; 1 when absent):
    chosen per image by the archive's search, the least-squares blend of the decoded file and
    the filter's output against the source (an encoder-side switch, as a video codec's loop
    filter flags; measured in the README)."""
    from ..errors import MetadataError

    g = meta.extra.get(GAIN_KEY)
    if g is None:
        return 1.0
    try:
        v = float(g)
    except (TypeError, ValueError):
        raise MetadataError(f"restore gain {g!r} is not a number") from None
    if not 0.0 <= v <= GAIN_MAX:
        raise MetadataError(f"restore gain {v} is outside 0–{GAIN_MAX:g}")
    return v


def with_gain(lr: torch.Tensor, out: torch.Tensor, gain: float) -> torch.Tensor:
    """``decoded + gain · (restored − decoded)`` (the decoded image cropped to ``out``)."""
    if gain == 1.0:
        return out
    base = lr[..., : out.shape[-2], : out.shape[-1]]
    return base + gain * (out - base)


@functools.lru_cache(maxsize=8)
def _shipped_model(name: str, made_with: str | None) -> tuple[RescaleModel, tuple[str, ...]]:
    """A model with the zoo's weights for restoring files (eval only, so the files of a folder
    share one; loading and checking the weights cost 60 ms a file), and the warnings its
    creation gave, repeated to each caller."""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        model = create_model(name, made_with=made_with)
    return model, tuple(str(w.message) for w in said)


@dataclass
class FrameRescaler:
    """``down``: HR uint8 frame → LR uint8 frame; ``up``: LR → HR cropped to the metadata's
    size. ``video`` selects the padding rule (module docstring)."""

    model: RescaleModel
    execution: str = "auto"  # see mediapipe_irn.pipeline.execution
    video: bool = False
    tile: int | None = None  # HR pixels per tile side; None: the execution's default

    @classmethod
    def load(
        cls, model: str, weights: str | None = None, execution: str = "auto", video: bool = False
    ) -> FrameRescaler:
        return cls(create_model(model, weights=weights), execution, video)

    @classmethod
    def for_metadata(
        cls,
        meta: RestoreMetadata,
        model: str | None = None,
        weights: str | None = None,
        execution: str = "auto",
        video: bool = False,
    ) -> FrameRescaler:
        """The rescaler that restores a file with this metadata: its model (or ``model``), and
        unless ``weights`` are given, the shipped version of the weights that made it (the
        sha256 it records; files from before that was recorded: the "unrecorded" version)."""
        name = model or meta.model
        made_with = None
        if weights is None and name == meta.model and not meta.extra.get("assumed"):
            made_with = meta.extra.get("weights_sha256", "unrecorded")
        if weights is None:  # shipped weights: one model per process, not one per file
            model, said = _shipped_model(name, made_with)
            for message in said:
                warnings.warn(message, stacklevel=2)
        else:
            model = create_model(name, weights=weights)
        r = cls(model, execution, video)
        r.check(meta)
        return r

    @property
    def scale(self) -> int:
        return self.model.scale

    @property
    def align(self) -> int:
        return 2 * self.model.scale if self.video else self.model.scale

    def metadata(
        self, width: int, height: int, extra: dict[str, Any] | None = None
    ) -> RestoreMetadata:
        """Restore metadata of a frame this rescaler downscales (weights' sha256 included)."""
        extra = dict(extra or {})
        if self.model.weights_sha256:
            extra["weights_sha256"] = self.model.weights_sha256
        return frame_metadata(width, height, self.model.name, self.model.scale, self.video, extra)

    def down_tensor(self, hr: torch.Tensor) -> torch.Tensor:
        """1×3×H×W float HR → LR float tensor at 8-bit levels (padding applied)."""
        hr, _ = pad_to_multiple(hr, self.align)
        return downscale_image(self.model, hr, tile=self.tile, precision=self.execution)[0]

    def down(self, rgb: np.ndarray) -> np.ndarray:
        return to_uint8(self.down_tensor(to_tensor(rgb)))

    def check(self, meta: RestoreMetadata, where: str = "the file") -> None:
        """Refuse metadata of another scale; warn when it records weights (sha256) other than
        the ones about to restore it."""
        check_scale(meta, self.model.name, self.model.scale, where)
        made, have = meta.extra.get("weights_sha256"), self.model.weights_sha256
        if made and have and not same_weights(made, have):
            warnings.warn(
                f"{where} was made with {meta.model} weights {made[:12]}…, "
                f"restoring with {have[:12]}…: the result may be wrong",
                stacklevel=2,
            )

    def up_tensor(
        self, lr: torch.Tensor, meta: RestoreMetadata, quality: int | None = None
    ) -> torch.Tensor:
        """``quality``: what the decoder read (``Decoded.quality``); None where unknown. A
        full-size restore's output is blended by the file's gain (:func:`restore_gain`)."""
        out = upscale_image(
            self.model,
            lr,
            size=(meta.height, meta.width),
            tile=self.tile,
            precision=self.execution,
            quality=quality,
        )
        return with_gain(lr, out, restore_gain(meta)) if self.model.scale == 1 else out

    def up(self, rgb: np.ndarray, meta: RestoreMetadata, quality: int | None = None) -> np.ndarray:
        return to_uint8(self.up_tensor(to_tensor(rgb), meta, quality))


__all__ = [
    "FrameRescaler",
    "gain_text",
    "metadata_from_model",
    "padding",
    "restore_gain",
    "restore_metadata_for",
    "with_gain",
]
