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
import torch.nn.functional as F
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


def condition_from_planes(y: Tensor, start: int) -> Tensor:
    """``B×2`` condition back from an inverse's input: the constant planes
    :meth:`~mediapipe_irn.models.RescaleModel.restore_input` put at channel ``start``, or
    "unknown" where the input stops before them."""
    if y.shape[1] > start:
        return y[:, start : start + QUALITY_CHANNELS].mean((2, 3))
    return y.new_zeros(y.shape[0], QUALITY_CHANNELS)


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


class _FiLMBlock(nn.Module):
    """conv → scale and shift → LeakyReLU → conv, residual."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.a = nn.Conv2d(width, width, 3, padding=1)
        self.b = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x: Tensor, gamma: Tensor, beta: Tensor) -> Tensor:
        return x + self.b(F.leaky_relu(self.a(x) * (1 + gamma) + beta, 0.2))


class ArtifactFilter(nn.Module):
    """``x + net(x, condition)``: a quality-conditioned artifact-removal network (ARCNN, Dong
    et al., ICCV 2015; DnCNN, Zhang et al., TIP 2017; told the quality as in Ehrlich et al.,
    ECCV 2020). The body runs on the 2×2 space-to-depth view (sides must be even): ``blocks``
    residual blocks of ``width`` channels, each scaled and shifted by the condition, see ±2
    pixels per convolution at a quarter of the full-resolution cost. The output convolution
    and the condition's last layer start at zero: a new filter is the identity."""

    def __init__(self, width: int = 48, blocks: int = 4, hidden: int = 64) -> None:
        super().__init__()
        self.blocks = blocks
        self.head = nn.Conv2d(12, width, 3, padding=1)
        self.body = nn.ModuleList(_FiLMBlock(width) for _ in range(blocks))
        self.tail = nn.Conv2d(width, 12, 3, padding=1)
        self.film = nn.Sequential(
            nn.Linear(QUALITY_CHANNELS, hidden),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, 2 * width * blocks),
        )
        for layer in (self.tail, self.film[-1]):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def receptive_radius(self) -> int:
        """In full-resolution pixels: 2 per half-resolution convolution, 1 for the phase."""
        return 2 * (2 * self.blocks + 2) + 1

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        f = self.film(cond)[:, :, None, None].chunk(2 * self.blocks, 1)
        t = self.head(F.pixel_unshuffle(x, 2))
        for i, blk in enumerate(self.body):
            t = blk(t, f[2 * i], f[2 * i + 1])
        return x + F.pixel_shuffle(self.tail(F.leaky_relu(t, 0.2)), 2)
