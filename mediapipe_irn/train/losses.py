"""Training objectives of IRN (ECCV 2020) and SAIN (AAAI 2023).

Every term follows the papers' per-image sums, divided by the number of HR values (3·H·W) so
magnitudes do not depend on the patch size: ``λ_fit·Σ(lr−lr_bic)²``, ``λ_rec·Σ|x̂−x|`` (or
``Σ(x̂−x)²``, what PSNR measures, or each image's ``10·log10`` of it: −PSNR in dB, which
weighs every image's gain in dB alike, high qualities as much as low) and ``λ_lat·Σz²/2``
(IRN); SAIN replaces the LR term by the mean of its four fit terms and pulls z toward its
mixture's mode (see ``rescaling_loss``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from ..models.base import RescaleModel
from ..models.bicubic import bicubic_down
from ..nn import quantize

REC_NORMS = ("l1", "l2", "db")
Compressor = Callable[[Tensor], Tensor]
RateModel = Callable[[Tensor], Tensor]  # LR batch → estimated bits per image (B,)


@dataclass(frozen=True)
class LossWeights:
    fit: float | None = None  # LR guidance; None → scale² (IRN)
    rec: float = 1.0  # HR reconstruction (L1, or squared error with rec_norm="l2")
    latent: float = 1.0  # latent term: Σ(z − mode)²/2 (IRN: the Gaussian NLL)
    rate: float = 0.0  # λ on the LR's estimated codec bits per HR pixel (rate-aware training)
    # "l1" (the papers); "l2": squared error, what PSNR measures (a last stage for PSNR);
    # "db": each image's 10·log10 of its mean squared error (−PSNR), averaged over the batch
    rec_norm: str = "l1"
    # full-size restores: this share of the reconstruction term is taken after each image's
    # least-squares gain (what the archive stores with the file; pipeline.rescale.with_gain),
    # so the filter's shape is trained for the blend, while the rest keeps gain 1 meaningful
    gain_fit: float = 0.0
    # λ on 1 − MS-SSIM (3 scales, RGB) of the restoration: a structure term that follows what
    # people see (SSIMULACRA2 is built on multi-scale SSIM), beside the pixel term
    ssim: float = 0.0

    def __post_init__(self) -> None:
        if self.rec_norm not in REC_NORMS:
            raise ValueError(f"rec_norm must be one of {REC_NORMS}, not {self.rec_norm!r}")
        if self.ssim < 0:
            raise ValueError(f"the SSIM weight must be ≥ 0, not {self.ssim!r}")
        if not 0.0 <= self.gain_fit <= 1.0:
            raise ValueError(f"gain_fit is a share in [0, 1], not {self.gain_fit!r}")


class LossTerms(NamedTuple):
    total: Tensor
    terms: dict[str, Tensor]  # detached scalars, read on the host only when logged
    hr: Tensor  # the reconstruction (for logging)


def _sum_per_hr(x: Tensor, n_hr: int) -> Tensor:
    return x.flatten(1).sum(1).mean() / n_hr


def reconstruction_loss(err: Tensor, norm: str) -> Tensor:
    """The HR reconstruction term of ``err`` = restored − source (``LossWeights.rec_norm``)."""
    if norm == "l1":
        return err.abs().flatten(1).mean(1).mean()
    mse = (err * err).flatten(1).mean(1)
    # 1e-10: an exact patch (MSE 0) stays finite; a quarter-level error is ~1e-6
    return mse.mean() if norm == "l2" else (10 * torch.log10(mse + 1e-10)).mean()


def _blur(x: Tensor, size: int = 11, sigma: float = 1.5) -> Tensor:
    """Separable Gaussian over each channel, valid region only (SSIM's window)."""
    g = torch.arange(size, dtype=x.dtype, device=x.device) - (size - 1) / 2
    g = torch.exp(-(g**2) / (2 * sigma**2))
    g = g / g.sum()
    c = x.shape[1]
    x = torch.nn.functional.conv2d(x, g.view(1, 1, 1, -1).expand(c, 1, 1, size), groups=c)
    return torch.nn.functional.conv2d(x, g.view(1, 1, -1, 1).expand(c, 1, size, 1), groups=c)


def ms_ssim(a: Tensor, b: Tensor, scales: int = 3) -> Tensor:
    """Per-image multi-scale SSIM (Wang, Simoncelli & Bovik 2003) of images in [0, 1], equal
    weights per scale; scales stop where a side falls under the 11-pixel window."""
    c1, c2 = 0.01**2, 0.03**2
    out = []
    for k in range(scales):
        if k:
            a, b = (torch.nn.functional.avg_pool2d(t, 2) for t in (a, b))
        if min(a.shape[-2:]) < 11:
            break
        mu_a, mu_b = _blur(a), _blur(b)
        s_aa = _blur(a * a) - mu_a**2
        s_bb = _blur(b * b) - mu_b**2
        s_ab = _blur(a * b) - mu_a * mu_b
        cs = (2 * s_ab + c2) / (s_aa + s_bb + c2)
        lum = (2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1)
        out.append((cs * lum if k == scales - 1 else cs).flatten(1).mean(1))
    return torch.stack(out).mean(0)


def gained(restored: Tensor, decoded: Tensor, source: Tensor, most: float) -> Tensor:
    """``decoded + g·(restored − decoded)`` with each image's least-squares ``g`` against
    ``source`` (clamped to [0, ``most``], held constant for the gradient)."""
    res = restored - decoded
    num = (res * (source - decoded)).flatten(1).sum(1)
    g = (num / (res * res).flatten(1).sum(1).clamp_min(1e-12)).clamp(0.0, most).detach()
    return decoded + g.view(-1, *[1] * (res.dim() - 1)) * res


def rescaling_loss(
    model: RescaleModel,
    hr: Tensor,
    compress: Compressor,
    compress_ref: Compressor,
    weights: LossWeights,
    generator: torch.Generator | None = None,
    sample_latent: bool = False,
    rate: RateModel | None = None,
    quality: Tensor | None = None,
) -> LossTerms:
    """One forward/inverse pass and its loss.

    ``compress`` maps the quantised LR to what the decoder sees (identity, the differentiable
    JPEG, or a real codec with a straight-through gradient); ``compress_ref`` is the same
    codec without gradient, applied to reference images (SAIN's fit targets).
    ``sample_latent=False`` reconstructs with the prior's mode (what inference uses) instead
    of a random draw; on a CPU budget it converges several times faster (see README).
    ``rate`` (with ``weights.rate`` > 0) adds λ·(estimated LR bits per HR pixel): the
    rate–distortion trade-off of learned compression, applied to the codec's size proxy.
    ``quality``: the codec quality of each image, for a model whose restore is told it (NaN:
    unknown).
    """
    s = model.scale
    n_hr = hr[0].numel()
    lam_fit = float(s * s) if weights.fit is None else weights.fit
    out = model(hr)
    lr_ref = bicubic_down(hr, s).detach()
    lr_q = quantize(out.lr)
    lr_c = compress(lr_q)
    z = model.latent(lr_c, sample=sample_latent, generator=generator)
    inv = model.inverse(model.restore_input(lr_c, z, quality))
    err = inv.hr - hr
    l_rec = reconstruction_loss(err, weights.rec_norm)
    if weights.gain_fit > 0 and s == 1:
        from ..pipeline.rescale import GAIN_MAX

        l_gain = reconstruction_loss(gained(inv.hr, lr_c, hr, GAIN_MAX) - hr, weights.rec_norm)
        l_rec = (1 - weights.gain_fit) * l_rec + weights.gain_fit * l_gain
    l_fit = _sum_per_hr((out.lr - lr_ref) ** 2, n_hr)
    terms = {"rec": l_rec.detach(), "fit": l_fit.detach()}

    # Latent term: IRN's Σz²/2 (its prior's mode is 0). For SAIN the same pull is toward the
    # mixture's mode, which inference uses, so forward and inverse agree on z.
    z_mode = model.latent(out.lr, sample=False) if out.z is not None else None
    l_lat = _sum_per_hr((out.z - z_mode) ** 2, n_hr) / 2 if z_mode is not None else l_fit * 0
    terms["latent"] = l_lat.detach()
    if out.lr_sim is not None:  # SAIN
        with torch.no_grad():
            ref_c = compress_ref(quantize(lr_ref))
            own_c = compress_ref(lr_q.detach())
        l_fit2 = _sum_per_hr((out.lr_sim - ref_c) ** 2, n_hr)
        l_rel = _sum_per_hr((out.lr_sim - own_c) ** 2, n_hr)
        l_reg = _sum_per_hr((lr_q - inv.lr) ** 2, n_hr) if inv.lr is not None else l_fit * 0
        forward = (l_fit + l_fit2 + l_reg + l_rel) / 4
        total = weights.rec * l_rec + lam_fit * forward + weights.latent * l_lat
        terms.update(fit2=l_fit2.detach(), reg=l_reg.detach(), rel=l_rel.detach())
    else:  # IRN
        total = weights.rec * l_rec + lam_fit * l_fit + weights.latent * l_lat
    if weights.ssim > 0:
        l_ssim = (1 - ms_ssim(inv.hr.clamp(0, 1), hr)).mean()
        total = total + weights.ssim * l_ssim
        terms["ssim"] = l_ssim.detach()
    if rate is not None and weights.rate > 0:
        bpp = rate(lr_q).mean() / (hr.shape[-2] * hr.shape[-1])
        total = total + weights.rate * bpp
        terms["bpp"] = bpp.detach()
    terms["total"] = total.detach()
    return LossTerms(total, terms, inv.hr)
