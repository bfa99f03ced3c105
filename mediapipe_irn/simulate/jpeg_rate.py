"""A differentiable estimate of a baseline JPEG's size (libjpeg-turbo, standard Huffman tables).

Huffman coding of a block spends, per nonzero AC coefficient, a run/size code plus ``size``
magnitude bits (``size = ⌊log2|r|⌋ + 1``), per block an end-of-block code, and per DC the
difference to the previous block's DC. The estimate keeps that structure with smooth terms
over the scaled coefficients ``v = DCT/table`` (before rounding) of ``diff_jpeg``'s encoder:

    bits ≈ Σ_planes [a·Σ_AC log2(1+|v|) + b·Σ_AC σ((|v|−½)/τ)] + c·Σ_DC log2(1+|ΔDC|)
           + d·blocks + e

(luma and chroma get their own a, b). ``σ(·)`` is a soft count of the coefficients that round
to nonzero. The weights are a least-squares fit to real libjpeg-turbo sizes of training crops
of many sizes at quality 20–95 (``fit_rate_weights``, run by ``mediapipe-irn bench jpeg-rate``;
the fit and its validation numbers are in README "Rate-aware training").
"""

from __future__ import annotations

import torch
from torch import Tensor

from .jpeg import jpeg_planes, scaled_coefficients

FEATURES = ("ac_log_y", "ac_nz_y", "ac_log_c", "ac_nz_c", "dc_log", "blocks", "const")
TAU = 0.1
# Fitted by ``mediapipe-irn bench jpeg-rate --fit`` on ../shared/data/train (see README).
RATE_WEIGHTS = (2.6838, 0.0, 0.0, 5.0462, 0.5563, 3.4091, 4819.44)


def _plane_features(v: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(Σ_AC log2(1+|v|), Σ_AC soft-nonzero, Σ_DC log2(1+|ΔDC|), blocks) per image."""
    b = v.shape[0]
    flat = v.reshape(b, -1, 64)
    ac = flat[..., 1:].abs()
    dc = flat[..., 0]
    ddc = torch.diff(dc, dim=1, prepend=torch.zeros_like(dc[:, :1]))
    return (
        torch.log2(1 + ac).sum((1, 2)),
        torch.sigmoid((ac - 0.5) / TAU).sum((1, 2)),
        torch.log2(1 + ddc.abs()).sum(1),
        torch.full((b,), float(flat.shape[1]), dtype=v.dtype, device=v.device),
    )


def rate_features(x: Tensor, quality: Tensor | float | int, subsampling: str = "4:2:0") -> Tensor:
    """B×7 features (order ``FEATURES``) of ``x`` (B×3×H×W in [0, 1]); differentiable."""
    p = jpeg_planes(x, quality, subsampling)
    ly, ny, dy, by = _plane_features(scaled_coefficients(p.y, p.luma_table))
    lc = nc = dc = bc = 0
    for i in range(2):
        f = _plane_features(scaled_coefficients(p.chroma[:, i], p.chroma_table))
        lc, nc, dc, bc = lc + f[0], nc + f[1], dc + f[2], bc + f[3]
    return torch.stack((ly, ny, lc, nc, dy + dc, by + bc, torch.ones_like(ly)), 1)


def jpeg_bits(
    x: Tensor,
    quality: Tensor | float | int,
    subsampling: str = "4:2:0",
    weights: tuple[float, ...] = RATE_WEIGHTS,
) -> Tensor:
    """Estimated size in bits of each image of ``x`` as a baseline JPEG (B,)."""
    w = torch.tensor(weights, dtype=torch.float32, device=x.device)
    return rate_features(x, quality, subsampling) @ w


def fit_rate_weights(features: Tensor, bits: Tensor) -> tuple[float, ...]:
    """Non-negative least squares on the relative error (small images count as much as large
    ones): every term is a cost, so a weight is never negative. Drops the most negative
    weight and refits until none is."""
    f = features.double() / bits.double()[:, None]
    target = torch.ones(len(bits), 1, dtype=torch.float64)
    free = list(range(f.shape[1]))
    while True:
        w = torch.linalg.lstsq(f[:, free], target).solution[:, 0]
        if (w >= 0).all():
            break
        free.pop(int(torch.argmin(w)))
    out = [0.0] * f.shape[1]
    for i, v in zip(free, w.tolist()):
        out[i] = float(v)
    return tuple(out)


__all__ = ["FEATURES", "RATE_WEIGHTS", "fit_rate_weights", "jpeg_bits", "rate_features"]
