"""A differentiable JPEG that follows libjpeg-turbo's baseline path step by step.

Encoder: JFIF RGB→YCbCr rounded to integers; edge replication to whole MCUs; 4:2:0 chroma by
2×2 averaging; 8×8 DCT; quantisation with the IJG tables scaled by libjpeg's quality rule
(``q<50: 5000/q, else 200−2q``; ``(t·s+50)//100`` clipped to [1, 255]). Decoder: dequantise,
IDCT, clip to 0–255, "fancy" triangular chroma upsampling (a bilinear ×2 with edge clamp),
YCbCr→RGB, clip and round. Every integer rounding uses a straight-through estimator; the
coefficient rounding uses the selected surrogate (straight-through, cubic (Shin & Song 2017)
or the Fourier series of SAIN, AAAI 2023).
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

Rounding = Literal["ste", "cubic", "fourier"]

_LUMA = [
    16,
    11,
    10,
    16,
    24,
    40,
    51,
    61,
    12,
    12,
    14,
    19,
    26,
    58,
    60,
    55,
    14,
    13,
    16,
    24,
    40,
    57,
    69,
    56,
    14,
    17,
    22,
    29,
    51,
    87,
    80,
    62,
    18,
    22,
    37,
    56,
    68,
    109,
    103,
    77,
    24,
    35,
    55,
    64,
    81,
    104,
    113,
    92,
    49,
    64,
    78,
    87,
    103,
    121,
    120,
    101,
    72,
    92,
    95,
    98,
    112,
    100,
    103,
    99,
]
_CHROMA = [
    17,
    18,
    24,
    47,
    99,
    99,
    99,
    99,
    18,
    21,
    26,
    66,
    99,
    99,
    99,
    99,
    24,
    26,
    56,
    99,
    99,
    99,
    99,
    99,
    47,
    66,
    99,
    99,
    99,
    99,
    99,
    99,
] + [99] * 32


def quality_tables(quality: Tensor) -> tuple[Tensor, Tensor]:
    """libjpeg's ``jpeg_quality_scaling`` + ``jpeg_add_quant_table`` (baseline): B×8×8 each."""
    q = quality.to(torch.float64).clamp(1, 100)
    scale = torch.where(q < 50, torch.floor(5000.0 / q), 200.0 - 2.0 * q)
    base_l = torch.tensor(_LUMA, dtype=torch.float64, device=q.device)
    base_c = torch.tensor(_CHROMA, dtype=torch.float64, device=q.device)

    def make(base: Tensor) -> Tensor:
        t = torch.floor((base[None] * scale[:, None] + 50.0) / 100.0).clamp(1, 255)
        return t.view(-1, 8, 8).float()

    return make(base_l), make(base_c)


def _dct_matrix(device: torch.device, dtype: torch.dtype) -> Tensor:
    k = torch.arange(8, dtype=torch.float64)
    m = torch.cos((2 * k[None] + 1) * k[:, None] * math.pi / 16) * 0.5
    m[0] /= math.sqrt(2)
    return m.to(device=device, dtype=dtype)


class _RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:  # type: ignore[override]
        return torch.round(x)

    @staticmethod
    def backward(ctx, g: Tensor) -> Tensor:  # type: ignore[override]
        return g


def round_ste(x: Tensor) -> Tensor:
    return _RoundSTE.apply(x)


def round_surrogate(x: Tensor, kind: Rounding = "ste", terms: int = 10) -> Tensor:
    """Rounding with a differentiable surrogate. ``ste``: exact forward, identity gradient;
    ``cubic``: ``r + (x−r)³``; ``fourier``: ``x − Σ (−1)^{k+1} sin(2πkx)/(πk)``."""
    if kind == "ste":
        return round_ste(x)
    if kind == "cubic":
        r = torch.round(x).detach()
        return r + (x - r) ** 3
    if kind == "fourier":
        k = torch.arange(1, terms + 1, device=x.device, dtype=x.dtype)
        sign = torch.where(k % 2 == 1, 1.0, -1.0).to(x.dtype)
        s = (sign / (math.pi * k) * torch.sin(2 * math.pi * k * x.unsqueeze(-1))).sum(-1)
        return x - s
    raise ValueError(f"unknown rounding surrogate {kind!r}")


def _rgb_to_ycc(x: Tensor) -> Tensor:
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168735892 * r - 0.331264108 * g + 0.5 * b + 128.0
    cr = 0.5 * r - 0.418687589 * g - 0.081312411 * b + 128.0
    return torch.stack((y, cb, cr), 1)


def _ycc_to_rgb(x: Tensor) -> Tensor:
    y, cb, cr = x[:, 0], x[:, 1] - 128.0, x[:, 2] - 128.0
    r = y + 1.402 * cr
    g = y - 0.344136286 * cb - 0.714136286 * cr
    b = y + 1.772 * cb
    return torch.stack((r, g, b), 1)


def _blocks(x: Tensor) -> Tensor:
    b, h, w = x.shape
    return x.view(b, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)


def _unblocks(x: Tensor) -> Tensor:
    b, hb, wb = x.shape[:3]
    return x.permute(0, 1, 3, 2, 4).reshape(b, hb * 8, wb * 8)


def _code_plane(p: Tensor, table: Tensor, rounding: Rounding) -> Tensor:
    """Level shift, DCT, quantise, dequantise, IDCT, clip and round one B×H×W plane."""
    d = _dct_matrix(p.device, p.dtype)
    t = table[:, None, None]
    coef = round_surrogate(scaled_coefficients(p, table), rounding) * t
    out = _unblocks(d.T @ coef @ d) + 128.0
    return round_ste(out.clamp(0, 255))


class JPEGPlanes(NamedTuple):
    """The encoder's view of a batch: integer Y and (subsampled) chroma planes,
    padded to whole blocks, and the quantisation tables. ``h, w``: the image size."""

    y: Tensor  # B×H'×W'
    chroma: Tensor  # B×2×h'×w'
    luma_table: Tensor  # B×8×8
    chroma_table: Tensor  # B×8×8
    h: int
    w: int
    subsampled: bool


def jpeg_planes(x: Tensor, quality: Tensor | float | int, subsampling: str = "4:2:0") -> JPEGPlanes:
    """libjpeg's encoder front end for ``x`` (B×3×H×W in [0, 1]) at per-image ``quality``:
    integer YCbCr, edge replication to whole MCUs, 2×2 chroma averaging for 4:2:0."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"diff_jpeg expects B×3×H×W, got {tuple(x.shape)}")
    b, _, h, w = x.shape
    q = torch.as_tensor(quality, dtype=torch.float32, device=x.device).flatten()
    if q.numel() == 1:
        q = q.expand(b)
    if q.numel() != b:
        raise ValueError(f"quality must be a scalar or have {b} entries, got {q.numel()}")
    tl, tc = quality_tables(q)
    sub = subsampling == "4:2:0"
    mcu = 16 if sub else 8
    ph, pw = (-h) % mcu, (-w) % mcu
    ycc = round_ste(_rgb_to_ycc(round_ste(x.float().clamp(0, 1) * 255.0)).clamp(0, 255))
    ycc = F.pad(ycc, (0, pw, 0, ph), mode="replicate") if (ph or pw) else ycc
    chroma = ycc[:, 1:]
    if sub:
        chroma = round_ste(F.avg_pool2d(chroma, 2))
        ch, cw = chroma.shape[-2:]
        cph, cpw = (-ch) % 8, (-cw) % 8
        if cph or cpw:
            chroma = F.pad(chroma, (0, cpw, 0, cph), mode="replicate")
    return JPEGPlanes(ycc[:, 0], chroma, tl, tc, h, w, sub)


def scaled_coefficients(plane: Tensor, table: Tensor) -> Tensor:
    """DCT coefficients of a B×H×W plane divided by the table (before rounding):
    B×Hb×Wb×8×8."""
    d = _dct_matrix(plane.device, plane.dtype)
    return (d @ _blocks(plane - 128.0) @ d.T) / table[:, None, None]


def diff_jpeg(
    x: Tensor, quality: Tensor | float | int, subsampling: str = "4:2:0", rounding: Rounding = "ste"
) -> Tensor:
    """Differentiable JPEG round trip of ``x`` (B×3×H×W in [0, 1]) at per-image ``quality``.

    Returns the decoded image in [0, 1], same size; gradients reach ``x`` (and not quality).
    """
    p = jpeg_planes(x, quality, subsampling)
    h, w = p.h, p.w
    y = _code_plane(p.y, p.luma_table, rounding)
    cb = _code_plane(p.chroma[:, 0], p.chroma_table, rounding)
    cr = _code_plane(p.chroma[:, 1], p.chroma_table, rounding)
    c = torch.stack((cb, cr), 1)
    if p.subsampled:
        c = c[..., : p.y.shape[-2] // 2, : p.y.shape[-1] // 2]
        c = F.interpolate(c, scale_factor=2, mode="bilinear", align_corners=False)
    rgb = _ycc_to_rgb(torch.cat((y[:, None], c), 1))[..., :h, :w]
    return (round_ste(rgb.clamp(0, 255)) / 255.0).to(x.dtype)
