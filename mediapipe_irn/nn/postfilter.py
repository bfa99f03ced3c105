"""A decoder-only restoration filter after the inverse pass, optionally told the codec quality.

SAIN (Yang et al., AAAI 2023) argues for asymmetry between downscaling and restoration: the
restore side must also undo the codec. In an invertible network every restore parameter is
also a downscale parameter; this small residual filter adds capacity on the restore side
alone, after the inverse Haar transform (three 3×3 convolutions, as ARCNN-style artifact
removal networks use). Its last convolution starts at zero, so a new filter is the identity
and a model without one restores exactly as before.

:class:`QualityFiLM` conditions the filter on the JPEG quality the LR was coded at (read
back from the file's quantisation tables), by feature-wise scale and shift of its hidden
layers (FiLM, Perez et al., AAAI 2018); quantisation-guided artifact correction (Ehrlich et
al., ECCV 2020) conditions on the tables in the same spirit. An unknown quality (another
codec, a file without tables) is an input of its own, trained by dropping the quality from
some samples. Its output layer starts at zero: a new one leaves the filter as it was.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

QUALITY_CHANNELS = 2  # (centred quality / 100, known flag), as constant planes


def quality_condition(quality: Tensor | None, batch: int, like: Tensor) -> Tensor:
    """``B×2`` condition from per-image JPEG qualities (NaN or None: unknown)."""
    if quality is None:
        return like.new_zeros(batch, QUALITY_CHANNELS)
    q = quality.to(device=like.device, dtype=like.dtype).reshape(-1)[:batch]
    known = torch.isfinite(q)
    value = torch.where(known, q / 100.0 - 0.575, torch.zeros_like(q))
    return torch.stack((value, known.to(like.dtype)), 1)


class QualityFiLM(nn.Module):
    """Condition (``B×2``) → per-channel scale and shift of the filter's two hidden layers."""

    def __init__(self, width: int, hidden: int = 32) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(QUALITY_CHANNELS, hidden),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, 4 * width),
        )
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, cond: Tensor) -> Tensor:
        return self.mlp(cond)[:, :, None, None]


class RestoreFilter(nn.Module):
    """``x + net(x)``: 3 → ``width`` → ``width`` → 3 channels, 3×3 convolutions; ``film``
    (from :class:`QualityFiLM`) scales and shifts both hidden layers before their activation."""

    convs = 3  # each adds one pixel of receptive radius

    def __init__(self, width: int = 24, channels: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, width, 3, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, channels, 3, padding=1),
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: Tensor, film: Tensor | None = None) -> Tensor:
        if film is None:
            return x + self.net(x)
        n = self.net
        g1, b1, g2, b2 = film.chunk(4, 1)
        h = n[1](n[0](x) * (1 + g1) + b1)
        return x + n[4](n[3](n[2](h) * (1 + g2) + b2))
