"""Training and fine-tuning against a codec."""

from .dataset import PatchSampler, find_sources, load_sources
from .losses import LossTerms, LossWeights, rescaling_loss
from .trainer import CodecConfig, TrainConfig, Trainer, export_weights

__all__ = [
    "CodecConfig", "LossTerms", "LossWeights", "PatchSampler", "TrainConfig", "Trainer",
    "export_weights", "find_sources", "load_sources", "rescaling_loss",
]
