"""How close is ``jpeg_bits`` to libjpeg-turbo's real file sizes? (and its least-squares fit)"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..codecs import EncodeOptions, get_codec
from ..models.bicubic import bicubic_down
from ..pipeline.images import to_tensor
from ..simulate.jpeg_rate import FEATURES, RATE_WEIGHTS, fit_rate_weights, rate_features
from .common import environment, load_images


def _samples(
    images, qualities: list[int], crops: int, seed: int, scale: int
) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Features and real sizes (bits) of the LR (bicubic ×``scale``) of each image, or of
    ``crops`` random crops of it (sizes 32–512) when ``crops`` > 0."""
    codec = get_codec("jpeg")
    rng = np.random.default_rng(seed)
    feats, bits, qs = [], [], []
    for _, img in images:
        hr = to_tensor(img.rgb)
        lr = bicubic_down(hr, scale).clamp(0, 1) if scale > 1 else hr
        views = [lr]
        if crops:
            views = []
            for _ in range(crops):
                h, w = lr.shape[-2:]
                ch = int(min(h, rng.integers(32, 513)))
                cw = int(min(w, rng.integers(32, 513)))
                y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
                views.append(lr[..., y0 : y0 + ch, x0 : x0 + cw])
        for v in views:
            u8 = (v * 255).round().to(torch.uint8)[0].permute(1, 2, 0).contiguous().numpy()
            v = torch.from_numpy(u8).permute(2, 0, 1)[None].float() / 255
            for q in qualities:
                size = len(codec.encode([u8], EncodeOptions(quality=q)))
                with torch.no_grad():
                    feats.append(rate_features(v, q)[0])
                bits.append(8.0 * size)
                qs.append(q)
    return torch.stack(feats), torch.tensor(bits), qs


def _report(
    feats: torch.Tensor, bits: torch.Tensor, qs: list[int], weights: tuple[float, ...]
) -> dict[str, Any]:
    est = (feats.double() @ torch.tensor(weights, dtype=torch.float64)).numpy()
    real = bits.numpy()
    rel = np.abs(est - real) / real
    rows = []
    for q in sorted(set(qs)):
        m = np.array(qs) == q
        rows.append(
            {
                "quality": q,
                "corr": float(np.corrcoef(est[m], real[m])[0, 1]),
                "mean_abs_rel_err": float(rel[m].mean()),
            }
        )
    return {
        "n": len(real),
        "corr": float(np.corrcoef(est, real)[0, 1]),
        "mean_abs_rel_err": float(rel.mean()),
        "max_abs_rel_err": float(rel.max()),
        "per_quality": rows,
    }


def run(
    data: list[str],
    val: list[str],
    qualities: list[int],
    fit: bool,
    crops: int = 4,
    limit: int | None = None,
    scale: int = 2,
    seed: int = 0,
) -> dict[str, Any]:
    weights = RATE_WEIGHTS
    res: dict[str, Any] = {
        "features": list(FEATURES),
        "scale": scale,
        "qualities": qualities,
        "env": environment(),
    }
    if fit:
        f, b, _ = _samples(load_images(data, limit), qualities, crops, seed, scale)
        weights = fit_rate_weights(f, b)
        res["fit"] = {"data": list(data), "crops_per_image": crops, "samples": len(b)}
    res["weights"] = list(weights)
    for folder in val:
        f, b, qs = _samples(load_images([folder], limit), qualities, 0, seed, scale)
        res.setdefault("val", {})[folder] = _report(f, b, qs, weights)
    return res


def format_table(res: dict[str, Any]) -> str:
    lines = [
        "weights " + ", ".join(f"{n}={w:.4g}" for n, w in zip(res["features"], res["weights"])),
        "| set | images×QF | corr | mean abs rel err | max |",
        "|---|---|---|---|---|",
    ]
    for name, r in res.get("val", {}).items():
        lines.append(
            f"| {name} | {r['n']} | {r['corr']:.4f} | {100 * r['mean_abs_rel_err']:.2f} % "
            f"| {100 * r['max_abs_rel_err']:.1f} % |"
        )
    return "\n".join(lines)
