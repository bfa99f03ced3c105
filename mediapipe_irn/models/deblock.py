"""A full-resolution restore for plain JPEG files: a quality-conditioned artifact-removal
network after an ordinary decode (scale 1: the "LR" is the image itself).

The stored file is a standard JPEG at full resolution, which any viewer opens; only the
restore differs from a plain decode: :class:`~mediapipe_irn.nn.ArtifactFilter` (ARCNN, Dong
et al., ICCV 2015; DnCNN, Zhang et al., TIP 2017), told the JPEG quality read back from the
file (Ehrlich et al., ECCV 2020), as the SAIN restore filter is.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..nn import QUALITY_CHANNELS, ArtifactFilter, condition_from_planes, quantize
from .base import (
    InverseOutput,
    LRFunction,
    RescaleModel,
    TrainOutput,
    check_image_tensor,
)


class Deblock(RescaleModel):
    """``downscale`` is the identity (the codec stores the image itself); ``upscale`` runs an
    :class:`~mediapipe_irn.nn.ArtifactFilter` of ``width`` channels and ``blocks`` blocks on
    the decoded image, which is coded with ``subsampling`` chroma (trained so: one model per
    subsampling). A new model restores the plain decode."""

    invertible = False
    lr_align = 2  # the filter's 2×2 space-to-depth view (the base upscale pads odd sides)

    def __init__(
        self,
        scale: int = 1,
        width: int = 48,
        blocks: int = 4,
        subsampling: str = "4:2:0",
        name: str = "deblock",
    ) -> None:
        super().__init__()
        if scale != 1:
            raise ValueError("Deblock restores at full resolution (scale 1)")
        self.scale, self.name, self.lr_subsampling = 1, name, subsampling
        self.net = ArtifactFilter(width, blocks)

    @property
    def quality_channels(self) -> int:
        return QUALITY_CHANNELS

    def receptive_radius(self) -> int:
        return self.net.receptive_radius()

    def latent(
        self,
        lr: Tensor,
        z: Tensor | None = None,
        generator: torch.Generator | None = None,
        sample: bool = False,
    ) -> Tensor:
        return lr[:, :0]  # no latent: the decoded image is the whole input

    def forward(self, hr: Tensor) -> TrainOutput:
        return TrainOutput(hr, None, None, None)

    def forward_lr(self, hr: Tensor) -> Tensor:
        return hr

    def downscale(self, hr: Tensor, forward_lr: LRFunction | None = None) -> Tensor:
        """The image itself at 8-bit levels (nothing to run, nothing to export)."""
        check_image_tensor(hr, "HR input")
        return quantize(hr)

    def inverse(self, y: Tensor) -> InverseOutput:
        """``y``: the decoded image (even sides) and the quality condition's planes."""
        return InverseOutput(self.net(y[:, :3], condition_from_planes(y, 3)), None)
