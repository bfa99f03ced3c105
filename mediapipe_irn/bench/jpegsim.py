"""How close is ``diff_jpeg`` to a real JPEG encoder (libjpeg-turbo by default; any JPEG
codec, e.g. the jpegli plugin), and what does it cost?"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..codecs import EncodeOptions, get_codec
from ..metrics import psnr
from ..pipeline.images import to_tensor, to_uint8
from ..simulate import diff_jpeg
from .common import environment, load_images, median_seconds


def _time(fn, repeat: int = 10) -> float:
    return median_seconds(fn, repeat) * 1000  # ms


def speed(batch: int = 16, size: int = 144) -> dict[str, float]:
    """Median ms for forward and forward+backward on a B×3×S×S batch."""
    x = torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(0))
    q = torch.full((batch,), 50.0)
    xg = x.clone().requires_grad_(True)
    res = {"forward_ms": _time(lambda: diff_jpeg(x, q))}
    res["forward_backward_ms"] = _time(lambda: diff_jpeg(xg, q).sum().backward())
    try:
        from kornia.enhance import jpeg_codec_differentiable as kj
    except ImportError:
        return res
    res["kornia_forward_ms"] = _time(lambda: kj(x, q))
    res["kornia_forward_backward_ms"] = _time(lambda: kj(xg, q).sum().backward())
    return res


def run(
    data: list[str],
    qualities: list[int],
    limit: int | None = None,
    with_speed: bool = True,
    codec_name: str = "jpeg",
) -> dict[str, Any]:
    codec = get_codec(codec_name)
    images = load_images(data, limit)
    rows = []
    for q in qualities:
        vs_real, gap = [], []
        for _, img in images:
            real = codec.decode(codec.encode([img.rgb], EncodeOptions(quality=q))).frames[0]
            sim = to_uint8(diff_jpeg(to_tensor(img.rgb), q))
            vs_real.append(psnr(sim, real))
            gap.append(psnr(sim, img.rgb) - psnr(real, img.rgb))
        rows.append(
            {
                "quality": q,
                "psnr_sim_vs_real": float(np.mean(vs_real)),
                "min_psnr_sim_vs_real": float(np.min(vs_real)),
                "delta_psnr_mean": float(np.mean(gap)),
                "delta_psnr_max_abs": float(np.max(np.abs(gap))),
            }
        )
    return {
        "codec": codec_name,
        "images": len(images),
        "data": list(data),
        "rows": rows,
        "speed": speed() if with_speed else {},
        "env": environment(),
    }


def format_table(res: dict[str, Any]) -> str:
    lines = [
        f"diff_jpeg vs {res.get('codec', 'jpeg')} over {res['images']} images",
        "| QF | sim vs real (dB, mean) | min | ΔPSNR to original, mean | max abs |",
        "|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        lines.append(
            f"| {r['quality']} | {r['psnr_sim_vs_real']:.2f} | "
            f"{r['min_psnr_sim_vs_real']:.2f} | {r['delta_psnr_mean']:+.3f} | "
            f"{r['delta_psnr_max_abs']:.3f} |"
        )
    s = res["speed"]
    if not s:
        return "\n".join(lines)
    lines.append(
        f"speed, 16×3×144²: forward {s['forward_ms']:.1f} ms, forward+backward "
        f"{s['forward_backward_ms']:.1f} ms"
    )
    if "kornia_forward_ms" in s:
        lines.append(
            f"kornia, same batch: forward {s['kornia_forward_ms']:.1f} ms, "
            f"forward+backward {s['kornia_forward_backward_ms']:.1f} ms"
        )
    return "\n".join(lines)
