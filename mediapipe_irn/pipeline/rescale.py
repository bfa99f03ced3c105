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

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..codecs.metadata import RestoreMetadata
from ..models import RescaleModel, create_model
from ..models.base import pad_to_multiple
from .images import to_tensor, to_uint8
from .serving import (
    check_scale,
    frame_metadata,
    metadata_from_model,
    padding,
    restore_metadata_for,
)
from .tiling import downscale_image, upscale_image


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
        r = cls(create_model(name, weights=weights, made_with=made_with), execution, video)
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
        if made and have and made != have:
            warnings.warn(
                f"{where} was made with {meta.model} weights {made[:12]}…, "
                f"restoring with {have[:12]}…: the result may be wrong",
                stacklevel=2,
            )

    def up_tensor(
        self, lr: torch.Tensor, meta: RestoreMetadata, quality: int | None = None
    ) -> torch.Tensor:
        """``quality``: what the decoder read (``Decoded.quality``); None where unknown."""
        return upscale_image(
            self.model,
            lr,
            size=(meta.height, meta.width),
            tile=self.tile,
            precision=self.execution,
            quality=quality,
        )

    def up(self, rgb: np.ndarray, meta: RestoreMetadata, quality: int | None = None) -> np.ndarray:
        return to_uint8(self.up_tensor(to_tensor(rgb), meta, quality))


__all__ = ["FrameRescaler", "metadata_from_model", "padding", "restore_metadata_for"]
