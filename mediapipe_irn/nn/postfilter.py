"""A decoder-only restoration filter after the inverse pass.

SAIN (Yang et al., AAAI 2023) argues for asymmetry between downscaling and restoration: the
restore side must also undo the codec. In an invertible network every restore parameter is
also a downscale parameter; this small residual filter adds capacity on the restore side
alone, after the inverse Haar transform (three 3×3 convolutions, as ARCNN-style artifact
removal networks use). Its last convolution starts at zero, so a new filter is the identity
and a model without one restores exactly as before.
"""

from __future__ import annotations

from torch import Tensor, nn


class RestoreFilter(nn.Module):
    """``x + net(x)``: 3 → ``width`` → ``width`` → 3 channels, 3×3 convolutions."""

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

    def forward(self, x: Tensor) -> Tensor:
        return x + self.net(x)
