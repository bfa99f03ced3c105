"""Baseline: antialiased bicubic downscaling, bicubic upscaling (no parameters)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from .base import InverseOutput, RescaleModel, TrainOutput


def bicubic_down(x: Tensor, scale: int) -> Tensor:
    """Antialiased bicubic (a = −0.75, like PIL) to ``1/scale``; sides must be multiples."""
    h, w = x.shape[-2:]
    return F.interpolate(
        x, size=(h // scale, w // scale), mode="bicubic", antialias=True, align_corners=False
    )


def bicubic_up(x: Tensor, scale: int) -> Tensor:
    h, w = x.shape[-2:]
    return F.interpolate(x, size=(h * scale, w * scale), mode="bicubic", align_corners=False)


class Bicubic(RescaleModel):
    """The reference every learned model must beat."""

    invertible = False
    learned = False

    def __init__(self, scale: int = 2, name: str = "bicubic") -> None:
        super().__init__()
        self.scale, self.name = scale, name

    def forward(self, hr: Tensor) -> TrainOutput:
        return TrainOutput(bicubic_down(hr, self.scale), None, None, None)

    def inverse(self, y: Tensor) -> InverseOutput:
        return InverseOutput(bicubic_up(y[:, :3], self.scale).clamp(0, 1), None)

    def latent(self, lr, z=None, generator=None, sample=False):
        return lr[:, :0]
