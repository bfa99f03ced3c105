"""Shared helpers for the benchmarks."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..pipeline.images import ImageData, read_image
from ..pipeline.media import is_image
from ..train.dataset import find_sources


def build_model(spec: str):
    """``name`` (shipped weights) or ``name@path`` (a weights file or trainer checkpoint)."""
    from ..models import create_model

    name, _, path = spec.partition("@")
    return create_model(name, weights=path or None)


def bd_against(
    ref: list[dict[str, float]],
    curve: list[dict[str, float]],
    rate: str = "bpp",
    against: str = "full_res",
) -> dict[str, Any]:
    """BD-rate and BD-PSNR of ``curve`` against ``ref`` (rows keyed by ``rate`` and ``psnr``),
    as ``bd_rate_vs_{against}_pct`` / ``bd_psnr_vs_{against}_db``, or why they cannot be had;
    where both curves have SSIMULACRA2, its BD-rate too (``bd_rate_ssimulacra2_vs_…``: the
    bytes at equal perceptual quality)."""
    from ..metrics import bd_psnr, bd_rate

    out: dict[str, Any] = {}
    args = [[p[k] for p in c] for c in (ref, curve) for k in (rate, "psnr")]
    try:
        out[f"bd_rate_vs_{against}_pct"] = bd_rate(*args)
        out[f"bd_psnr_vs_{against}_db"] = bd_psnr(*args)
    except ValueError as exc:
        key = "bd_error" if against == "full_res" else f"bd_error_vs_{against}"
        return {key: str(exc)}
    if all("ssimulacra2" in p for c in (ref, curve) for p in c):
        s2 = [[p[k] for p in c] for c in (ref, curve) for k in (rate, "ssimulacra2")]
        try:
            out[f"bd_rate_ssimulacra2_vs_{against}_pct"] = bd_rate(*s2)
        except ValueError as exc:
            out[f"bd_error_ssimulacra2_vs_{against}"] = str(exc)
    return out


def image_files(folders: tuple[str, ...] | list[str], limit: int | None = None) -> list[Path]:
    """The images under ``folders`` (sorted per folder), at most ``limit`` of them."""
    files = [f for f in find_sources(folders) if is_image(f)]
    return files[:limit] if limit else files


def load_images(
    folders: tuple[str, ...] | list[str], limit: int | None = None
) -> list[tuple[str, ImageData]]:
    return [(str(f), read_image(f)) for f in image_files(folders, limit)]


def center_crop(img: ImageData, width: int, height: int) -> ImageData:
    """The centre ``width`` × ``height`` of ``img`` (each side at most the image's)."""
    h, w = img.size
    ch, cw = min(height, h), min(width, w)
    y, x = (h - ch) // 2, (w - cw) // 2
    rgb = np.ascontiguousarray(img.rgb[y : y + ch, x : x + cw])
    return replace(
        img, rgb=rgb, alpha=None if img.alpha is None else img.alpha[y : y + ch, x : x + cw]
    )


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` over ``repeat`` calls, after one warm-up call."""
    fn()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(statistics.median(ts))


def environment() -> dict[str, Any]:
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def write_json(path: str | Path, payload: dict[str, Any]) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(payload, indent=2, default=float))


Curve = list[tuple[float, float]]


def pyplot():
    """matplotlib's pyplot on the Agg backend, or None when ``mediapipe-irn[bench]`` is not
    installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save_figure(fig, path: str | Path) -> bool:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


def plot_rd(path: str | Path, panels: list[tuple[str, str, str, Curve, dict[str, Curve]]]) -> bool:
    """Rate–distortion panels: (title, x label, reference label, reference curve, curves).

    Returns False when matplotlib (``mediapipe-irn[bench]``) is not installed.
    """
    plt = pyplot()
    if plt is None:
        return False
    fig, axes = plt.subplots(
        1, len(panels), figsize=(5.5 * len(panels), 4.3), dpi=110, squeeze=False
    )
    for ax, (title, xlabel, ref_label, ref, curves) in zip(axes[0], panels):
        ax.plot(*zip(*ref), "k--", marker=".", label=ref_label)
        for name, c in curves.items():
            ax.plot(*zip(*c), marker="o", label=name)
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("PSNR RGB (dB)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    return save_figure(fig, path)
