"""Collaborative downscaled images (HCD; Xu et al., "Downscaled Representation Matters:
Improving Image Rescaling with Collaborative Downscaled Images", ICCV 2023), with the codec in
the loop.

With the model frozen, two projected-gradient stages improve the LR of one HR image:
1. perturb the HR input, ``δ`` in an L2 ball, to minimise ``‖up(C(down(HR+δ))) − HR‖²``;
2. perturb the quantised LR itself to minimise ``‖up(C(LR+δ)) − HR‖²``.
The published method assumes a lossless LR; here ``C`` is the differentiable JPEG at the
target quality (or the identity for lossless codecs), and every iterate is scored with the
*real* codec, keeping the best one, so refinement never ends worse than where it started.
The L2 radius ``eps`` is per 3×64×64 block of HR values (the ball grows with √pixels).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from ..codecs import codec_proxy, get_codec, reads_back_quality
from ..models.base import RescaleModel, pad_to_multiple
from ..nn import quantize
from ..simulate import run_codec


@dataclass(frozen=True)
class RefineConfig:
    steps: int = 15  # per stage
    eps: float = 0.3
    hr_step: float = 20 / 255
    lr_step: float = 2 / 255
    codec: str | None = "jpeg"  # None or "png": lossless LR
    quality: int = 75


@dataclass(frozen=True)
class RefineResult:
    lr: Tensor  # refined, quantised LR
    start_mse: float  # real-codec reconstruction MSE of the unrefined LR
    best_mse: float
    history: list[float]


def _proxy(cfg: RefineConfig) -> Callable[[Tensor], Tensor]:
    """The codec's own differentiable stand-in; identity for lossless codecs and codecs
    without a simulator."""
    proxy = None if cfg.codec is None else codec_proxy(get_codec(cfg.codec))
    if proxy is None:
        return lambda x: x
    q = torch.tensor([float(cfg.quality)])
    return lambda x: proxy.simulate(x, q.expand(x.shape[0]))


def _real(cfg: RefineConfig) -> Callable[[Tensor], Tensor]:
    if cfg.codec in (None, "png"):
        return lambda x: x
    return lambda x: run_codec(x, cfg.codec, [cfg.quality] * x.shape[0])


def _l2_project(d: Tensor, radius: float) -> Tensor:
    n = d.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
    return d * torch.clamp(radius / n, max=1.0)


def refine_lr(
    model: RescaleModel,
    hr: Tensor,
    cfg: RefineConfig = RefineConfig(),
    progress: Callable[[int, int], None] | None = None,
) -> RefineResult:
    """Refine the LR of ``hr`` (B×3×H×W, sides multiples of the scale after padding)."""
    hr, _ = pad_to_multiple(hr, model.scale)
    hr = hr.detach()
    proxy, real = _proxy(cfg), _real(cfg)
    params = [p.requires_grad_(False) for p in model.parameters()]
    # a restore told the quality is told what the decoder will read back, where it does
    told = None
    if cfg.codec is not None and reads_back_quality(get_codec(cfg.codec)):
        told = torch.full((hr.shape[0],), float(cfg.quality))

    @torch.no_grad()
    def score(lr: Tensor) -> float:
        return float(torch.mean((model.upscale(real(lr), quality=told).clamp(0, 1) - hr) ** 2))

    with torch.no_grad():
        lr0 = model.downscale(hr)
    best, best_mse = lr0, score(lr0)
    start = best_mse
    hist = [start]
    total = 2 * cfg.steps
    radius = cfg.eps * math.sqrt(hr[0].numel() / (3 * 64 * 64))
    # Stage 1: perturb the HR input.
    delta = torch.zeros_like(hr, requires_grad=True)
    for i in range(cfg.steps):
        lr = quantize(model(hr + delta).lr)
        loss = torch.mean((model.upscale(proxy(lr), quality=told) - hr) ** 2)
        (g,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            gn = g.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
            delta -= cfg.hr_step * g / gn * math.sqrt(hr[0].numel() / (3 * 64 * 64))
            delta.copy_(_l2_project(delta, radius))
            cand = model.downscale((hr + delta).clamp(0, 1))
            mse = score(cand)
        hist.append(mse)
        if mse < best_mse:
            best, best_mse = cand, mse
        if progress:
            progress(i + 1, total)
    # Stage 2: perturb the (best) quantised LR itself.
    base = best.clone()
    d2 = torch.zeros_like(base, requires_grad=True)
    for i in range(cfg.steps):
        lr = quantize(base + d2)
        loss = torch.mean((model.upscale(proxy(lr), quality=told) - hr) ** 2)
        (g,) = torch.autograd.grad(loss, d2)
        with torch.no_grad():
            d2 -= cfg.lr_step * g.sign()
            cand = quantize(base + d2)
            mse = score(cand)
        hist.append(mse)
        if mse < best_mse:
            best, best_mse = cand, mse
        if progress:
            progress(cfg.steps + i + 1, total)
    for p in params:
        p.requires_grad_(True)
    return RefineResult(best.detach(), start, best_mse, hist)


def refine_image(
    model: RescaleModel,
    hr: Tensor,
    cfg: RefineConfig,
    tile: int = 512,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Tensor, float, float]:
    """Refine a whole image tile by tile (memory bounded by ``tile``); returns the padded,
    refined LR and the real-codec MSE before/after (pixel-weighted over tiles).

    Each tile is refined on its own (no context across tile borders), so tiles are aligned to
    JPEG's 16×16 LR macroblocks; the untiled LR is the start point of every tile.
    """
    hr, _ = pad_to_multiple(hr, model.scale)
    s = model.scale
    t = max(16 * s, tile - tile % (16 * s))
    h, w = hr.shape[-2:]
    lr_out = torch.empty(hr.shape[0], 3, h // s, w // s)
    spans = [(y, x) for y in range(0, h, t) for x in range(0, w, t)]
    before = after = 0.0
    for k, (y, x) in enumerate(spans):
        crop = hr[..., y : y + t, x : x + t]
        res = refine_lr(model, crop, cfg)
        lr_out[..., y // s : (y + crop.shape[-2]) // s, x // s : (x + crop.shape[-1]) // s] = res.lr
        n = crop[0, 0].numel() / (h * w)
        before += res.start_mse * n
        after += res.best_mse * n
        if progress:
            progress(k + 1, len(spans))
    return lr_out, before, after
