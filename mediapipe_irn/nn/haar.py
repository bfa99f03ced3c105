"""Haar wavelet down/up-sampling as an invertible module (IRN, Xiao et al., ECCV 2020)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class HaarDownsampling(nn.Module):
    """Orthogonal-up-to-scale 2×2 Haar transform: ``C×H×W → 4C×H/2×W/2``.

    Output channel order is ``[LL(C), LH(C), HL(C), HH(C)]`` so that the first ``C`` channels
    are the low-pass (average) image. The filters are a fixed buffer, not parameters.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        w = torch.ones(4, 1, 2, 2)
        w[1, 0, 0, 1] = w[1, 0, 1, 1] = -1
        w[2, 0, 1, 0] = w[2, 0, 1, 1] = -1
        w[3, 0, 1, 0] = w[3, 0, 0, 1] = -1
        self.register_buffer("weight", torch.cat([w] * channels, 0), persistent=False)

    def forward(self, x: Tensor, rev: bool = False) -> Tensor:
        c = self.channels
        w = self.weight.to(dtype=x.dtype)
        if not rev:
            b, _, h, wd = x.shape
            if h % 2 or wd % 2:
                raise ValueError(f"Haar transform needs even sides, got {h}×{wd}")
            out = F.conv2d(x, w, stride=2, groups=c) / 4.0
            out = out.reshape(b, c, 4, h // 2, wd // 2).transpose(1, 2)
            return out.reshape(b, c * 4, h // 2, wd // 2)
        b, _, h, wd = x.shape
        out = x.reshape(b, 4, c, h, wd).transpose(1, 2).reshape(b, c * 4, h, wd)
        return F.conv_transpose2d(out, w, stride=2, groups=c)
