"""Training and fine-tuning against a codec."""

from .dataset import PatchSampler, find_sources, load_sources
from .losses import LossTerms, LossWeights, rescaling_loss
from .trainer import CodecConfig, TrainConfig, Trainer

__all__ = [
    "CodecConfig",
    "LossTerms",
    "LossWeights",
    "PatchSampler",
    "TrainConfig",
    "Trainer",
    "find_sources",
    "load_sources",
    "rescaling_loss",
]
