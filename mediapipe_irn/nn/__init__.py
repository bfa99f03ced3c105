"""Invertible building blocks. Every block follows ``forward(x, rev=False) -> Tensor``."""

from .coupling import EnhancedInvBlock, EnhancedOutput, InvBlock
from .haar import HaarDownsampling
from .priors import GaussianMixturePrior, GaussianPrior
from .quantize import quantize
from .subnets import DenseBlock, SubnetFactory, dense_block

__all__ = [
    "DenseBlock", "EnhancedInvBlock", "EnhancedOutput", "GaussianMixturePrior", "GaussianPrior",
    "HaarDownsampling", "InvBlock", "SubnetFactory", "dense_block", "quantize",
]
