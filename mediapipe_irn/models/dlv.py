"""DLV-style dual latent variables (after Zhang et al., "Enhancing Image Rescaling using Dual
Latent Variables in Invertible Neural Network", ACM MM 2022). No reference code is public;
this is our design from the paper's idea.

Idea: one HR image has many valid LR images (kernels, resampling phases). Besides the
upscaling latent ``z`` (the lost high frequencies, as in IRN), a *downscaling* latent ``v``
enters the forward pass and selects among them. We append ``v`` as one extra channel at HR
resolution, so the flow maps ``[HR (3), v (1)] → Haar → [LR (3), z (13)]`` and stays exactly
invertible; the inverse returns ``[HR, v̂]`` and ``v̂`` is discarded.

Why this shape: the extra channel costs nothing at inference (v = 0 gives a deterministic LR,
like IRN), training with v ~ N(0, σ²) teaches the network a family of LRs that all restore
well (a regulariser against overfitting the LR to one kernel), and v can be optimised per
image at encode time (as HCD does for the HR input) to pick the LR that survives the codec
best. A 4-channel input also makes the Haar split 3 / 13, giving z one more channel than IRN.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .base import InverseOutput, TrainOutput
from .irn import IRN


class DLV(IRN):
    """IRN's flow on ``[HR, v]`` (4 input channels); see the module docstring."""

    def __init__(
        self,
        scale: int = 2,
        blocks: int = 3,
        growth: int = 16,
        v_std: float = 0.1,
        name: str = "dlv",
    ) -> None:
        super().__init__(scale, blocks, growth, name, in_channels=4)
        self.v_std = v_std

    def forward_v(self, hr: Tensor, v: Tensor | None = None) -> TrainOutput:
        """Forward with an explicit downscaling latent (default: v = 0)."""
        if v is None:
            v = hr.new_zeros(hr.shape[0], 1, *hr.shape[2:])
        out = self.flow(torch.cat((hr, v), 1))
        return TrainOutput(out[:, :3], None, out[:, 3:], out)

    def forward(self, hr: Tensor) -> TrainOutput:
        if self.training and self.v_std > 0:
            v = torch.randn(hr.shape[0], 1, *hr.shape[2:], dtype=hr.dtype, device=hr.device)
            v = v * self.v_std
            return self.forward_v(hr, v)
        return self.forward_v(hr)

    def inverse(self, y: Tensor) -> InverseOutput:
        return InverseOutput(self.flow(y, rev=True)[:, :3], None)

    def inverse_full(self, y: Tensor) -> Tensor:
        """The full inverse ``[HR, v̂]`` (for the invertibility contract)."""
        return self.flow(y, rev=True)
