"""Affine coupling blocks: IRN's InvBlock (ECCV 2020) and SAIN's Enhanced block (AAAI 2023)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from .subnets import SubnetFactory


def _scale(h: Tensor, clamp: float) -> Tensor:
    return clamp * (torch.sigmoid(h) * 2 - 1)


class InvBlock(nn.Module):
    """IRN coupling: ``y1 = x1 + F(x2)``; ``s = clamp·(2σ(H(y1))−1)``; ``y2 = x2·eᔆ + G(y1)``.

    ``x1`` is the first ``split`` channels (the LR branch), ``x2`` the rest.
    """

    def __init__(self, subnet: SubnetFactory, channels: int, split: int, clamp: float = 1.0):
        super().__init__()
        self.split1, self.split2, self.clamp = split, channels - split, clamp
        self.F = subnet(self.split2, self.split1)
        self.G = subnet(self.split1, self.split2)
        self.H = subnet(self.split1, self.split2)

    def forward(self, x: Tensor, rev: bool = False) -> Tensor:
        x1, x2 = x[:, : self.split1], x[:, self.split1 :]
        if not rev:
            y1 = x1 + self.F(x2)
            y2 = x2 * torch.exp(_scale(self.H(y1), self.clamp)) + self.G(y1)
            return torch.cat((y1, y2), 1)
        y2 = (x2 - self.G(x1)) * torch.exp(-_scale(self.H(x1), self.clamp))
        y1 = x1 - self.F(y2)
        return torch.cat((y1, y2), 1)


class EnhancedOutput(NamedTuple):
    out: Tensor
    lr: Tensor  # forward: the block's LR estimate; inverse: the LR recovered by the block


class EnhancedInvBlock(nn.Module):
    """SAIN's E-block: ``LR = x1 + E(x2)``; ``y1 = LR − F(x2)``; then as :class:`InvBlock`.

    The last E-block's ``LR`` is the transmitted image. :meth:`forward_lr` also returns the
    LR (forward) or the LR recovered in the inverse pass, which SAIN's consistency loss uses.
    """

    def __init__(self, subnet: SubnetFactory, channels: int, split: int, clamp: float = 1.0):
        super().__init__()
        self.split1, self.split2, self.clamp = split, channels - split, clamp
        self.E = subnet(self.split2, self.split1)
        self.F = subnet(self.split2, self.split1)
        self.G = subnet(self.split1, self.split2)
        self.H = subnet(self.split1, self.split2)

    def lr_only(self, x: Tensor) -> Tensor:
        """The forward LR ``x1 + E(x2)`` without F, G, H (which it does not depend on)."""
        return x[:, : self.split1] + self.E(x[:, self.split1 :])

    def forward_lr(self, x: Tensor, rev: bool = False) -> EnhancedOutput:
        x1, x2 = x[:, : self.split1], x[:, self.split1 :]
        if not rev:
            lr = x1 + self.E(x2)
            y1 = lr - self.F(x2)
            y2 = x2 * torch.exp(_scale(self.H(y1), self.clamp)) + self.G(y1)
            return EnhancedOutput(torch.cat((y1, y2), 1), lr)
        y2 = (x2 - self.G(x1)) * torch.exp(-_scale(self.H(x1), self.clamp))
        lr = x1 + self.F(y2)
        y1 = lr - self.E(y2)
        return EnhancedOutput(torch.cat((y1, y2), 1), lr)

    def forward(self, x: Tensor, rev: bool = False) -> Tensor:
        return self.forward_lr(x, rev).out
