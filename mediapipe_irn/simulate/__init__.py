"""Differentiable codec proxies (forward-vs-compress split, as in CompressAI)."""

from .jpeg import diff_jpeg, quality_tables, round_surrogate
from .jpeg_rate import jpeg_bits
from .straight_through import real_codec, run_codec

__all__ = ["diff_jpeg", "jpeg_bits", "quality_tables", "real_codec", "round_surrogate", "run_codec"]
