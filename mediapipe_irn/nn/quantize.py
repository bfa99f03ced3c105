"""8-bit quantisation with a straight-through gradient (IRN, SAIN)."""

from __future__ import annotations

import torch
from torch import Tensor


class _Quantize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:  # type: ignore[override]
        return torch.round(x.float().clamp(0, 1) * 255.0) / 255.0  # float32 levels

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        return grad


def quantize(x: Tensor) -> Tensor:
    """Clamp to [0, 1] and round to 8-bit levels; the gradient passes straight through."""
    return _Quantize.apply(x)
