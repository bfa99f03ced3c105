"""Invertible building blocks. Every block follows ``forward(x, rev=False) -> Tensor``."""

from .coupling import EnhancedInvBlock, EnhancedOutput, InvBlock
from .haar import HaarDownsampling
from .postfilter import (
    QUALITY_CHANNELS,
    ArtifactFilter,
    QualityFiLM,
    RestoreFilter,
    condition_from_planes,
    quality_condition,
)
from .priors import GaussianMixturePrior, GaussianPrior
from .quantize import quantize
from .subnets import ConvBlock, DenseBlock, SubnetFactory, conv_block, dense_block, make_subnet

__all__ = [
    "ConvBlock",
    "DenseBlock",
    "EnhancedInvBlock",
    "EnhancedOutput",
    "GaussianMixturePrior",
    "GaussianPrior",
    "HaarDownsampling",
    "InvBlock",
    "QUALITY_CHANNELS",
    "QualityFiLM",
    "ArtifactFilter",
    "RestoreFilter",
    "SubnetFactory",
    "condition_from_planes",
    "conv_block",
    "dense_block",
    "make_subnet",
    "quality_condition",
    "quantize",
]
