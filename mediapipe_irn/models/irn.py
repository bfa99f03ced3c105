"""IRN: Invertible Rescaling Net (Xiao et al., "Invertible Image Rescaling", ECCV 2020).

One Haar transform followed by ``blocks`` affine coupling blocks per ×2 step; the first three
output channels are the LR image, the rest the latent z ~ N(0, I).
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from ..nn import GaussianPrior, HaarDownsampling, InvBlock, dense_block
from .base import InverseOutput, RescaleModel, TrainOutput


def haar_steps(scale: int) -> int:
    steps = int(round(math.log2(scale)))
    if 2**steps != scale or steps < 1:
        raise ValueError(f"scale must be a power of two ≥ 2, got {scale}")
    return steps


class IRN(RescaleModel):
    """Invertible Rescaling Net (Xiao et al., "Invertible Image Rescaling", ECCV 2020): per ×2
    step a Haar transform and ``blocks`` affine-coupling InvBlocks; the forward pass splits
    the result into the LR (3 channels) and a latent z whose prior is N(0, I); upscaling runs
    the inverse with z at the prior's mode (0)."""

    def __init__(
        self,
        scale: int = 2,
        blocks: int = 8,
        growth: int = 32,
        name: str = "irn",
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.scale, self.name = scale, name
        self.blocks, self.growth = blocks, growth
        ops: list[nn.Module] = []
        c = in_channels
        for _ in range(haar_steps(scale)):
            ops.append(HaarDownsampling(c))
            c *= 4
            ops.extend(InvBlock(dense_block(growth), c, 3) for _ in range(blocks))
        self.ops = nn.ModuleList(ops)
        self.channels = c
        self.prior = GaussianPrior()

    def receptive_radius(self) -> int:
        # Each block runs two 5-conv subnets in series (F, then G/H): 10 px at its resolution.
        r, res = 0, 1
        for op in self.ops:
            if isinstance(op, HaarDownsampling):
                res *= 2
            else:
                r += 10 * res
        return r

    def flow(self, x: Tensor, rev: bool = False) -> Tensor:
        for op in reversed(self.ops) if rev else self.ops:
            x = op(x, rev=rev)
        return x

    def forward(self, hr: Tensor) -> TrainOutput:
        out = self.flow(hr)
        return TrainOutput(out[:, :3], None, out[:, 3:], out)

    def inverse(self, y: Tensor) -> InverseOutput:
        return InverseOutput(self.flow(y, rev=True), None)
