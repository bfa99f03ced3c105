"""What a codec offers the training loop and HCD refinement: a differentiable stand-in for its
round trip (the gradient of straight-through training) and for its size (rate-aware training),
as in CompressAI's forward-vs-compress split. A codec names its proxy through ``proxy()``
(``None``: no simulator, the identity gradient is used); third-party codecs bring their own
through the same entry point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from .jpeg import diff_jpeg
from .jpeg_rate import jpeg_bits


@runtime_checkable
class CodecProxy(Protocol):
    def simulate(self, x: Tensor, quality: Tensor) -> Tensor:
        """Differentiable round trip of B×3×H×W ``x`` in [0, 1] at per-image ``quality``."""
        ...

    def bits(self, x: Tensor, quality: Tensor) -> Tensor:
        """Differentiable estimate of each image's coded size in bits (B,)."""
        ...


@dataclass(frozen=True)
class JPEGProxy:
    """``diff_jpeg`` and ``jpeg_bits``. ``quality_map`` maps the codec's own quality scale to
    JPEG quality when JPEG is a stand-in for another codec (H.264 below)."""

    subsampling: str = "4:2:0"
    quality_map: Callable[[Tensor], Tensor] | None = None

    def _q(self, quality: Tensor) -> Tensor:
        q = torch.as_tensor(quality, dtype=torch.float32)
        return self.quality_map(q) if self.quality_map else q

    def simulate(self, x: Tensor, quality: Tensor) -> Tensor:
        return diff_jpeg(x, self._q(quality), self.subsampling)

    def bits(self, x: Tensor, quality: Tensor) -> Tensor:
        return jpeg_bits(x, self._q(quality), self.subsampling)


def crf_to_jpeg_quality(crf: Tensor) -> Tensor:
    """x264 CRF 18–33 ↔ JPEG quality 64–34: LR detail of a similar order (a stand-in, not a
    model of x264; its size estimate ranks frames, it does not predict x264's bytes)."""
    return (100 - 2 * crf).clamp(10, 95)


__all__ = ["CodecProxy", "JPEGProxy", "crf_to_jpeg_quality"]
