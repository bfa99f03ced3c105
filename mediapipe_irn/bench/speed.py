"""Speed benchmark: median downscale/upscale time per model, size and execution option, peak
RSS (each configuration runs in its own process), FLOPs per pixel, achieved GFLOP/s, and the
PSNR change each option causes against float32 eager."""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import torch
from torch import nn

from ..metrics import psnr
from ..pipeline.execution import PRECISIONS, capability, frame_workers, prepare
from ..pipeline.images import to_tensor, to_uint8
from ..pipeline.tiling import downscale_image, upscale_image
from .common import build_model, environment


def conv_flops_per_hr_pixel(model_name: str, direction: str) -> float:
    """Multiply–adds ×2 of every convolution for one direction, per HR pixel, of the model as
    its weights build it (``name@weights`` as in :func:`.common.build_model`)."""
    m = build_model(model_name)
    total = 0

    def hook(mod: nn.Conv2d, inp, out) -> None:
        nonlocal total
        k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
        total += 2 * k * out.numel()

    hooks = [c.register_forward_hook(hook) for c in m.modules() if isinstance(c, nn.Conv2d)]
    hr = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        if direction == "down":
            m.downscale(hr)
        else:
            m.upscale(torch.rand(1, 3, 64 // m.scale, 64 // m.scale))
    for h in hooks:
        h.remove()
    return total / (64 * 64)


def machine_peak_gflops(n: int = 2048, repeat: int = 5) -> dict[str, float]:
    """Achieved GFLOP/s of a large float32 (and bfloat16) matrix product: the practical peak
    the convolutions can be compared with."""
    out = {}
    # bf16 may be emulated (~1 min a product here): one timed run, no warm-up, whose
    # first-call overhead is negligible at that length
    for name, dt, warm, reps in (
        ("fp32", torch.float32, True, repeat),
        ("bf16", torch.bfloat16, False, 1),
    ):
        a, b = torch.randn(n, n, dtype=dt), torch.randn(n, n, dtype=dt)
        if warm:
            a @ b
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        out[f"gemm_{name}_gflops"] = 2 * n**3 * reps / (time.perf_counter() - t) / 1e9
    return out


def _test_image(h: int, w: int) -> torch.Tensor:
    from pathlib import Path

    import numpy as np
    from PIL import Image

    p = Path(__file__).resolve().parents[2] / "samples" / "astronaut.png"
    if p.is_file():
        im = Image.open(p).convert("RGB").resize((w, h), Image.BICUBIC)
        return to_tensor(np.asarray(im))
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))


def measure_one(
    model_name: str,
    h: int,
    w: int,
    precision: str,
    repeat: int,
    tile: int | None = None,
    workers: int = 0,
) -> dict[str, Any]:
    """Run in a fresh process: times, quality and peak RSS of one configuration. ``workers``
    > 0: that many frames at once on one-thread frame workers, as the video jobs run them
    (times are per frame: wall clock over the frames)."""
    model = prepare(build_model(model_name), precision)
    hr = _test_image(h, w)
    if "channels_last" in precision:
        hr = hr.contiguous(memory_format=torch.channels_last)
    times: dict[str, list[float]] = {"down": [], "up": []}
    lrs = outs = None
    first = (0.0, 0.0)
    n = max(1, workers)
    with torch.no_grad(), frame_workers(workers or 1, precision) as fmap:
        for i in range(repeat + 1):
            lrs = outs = None  # the previous run's images would count in this run's peak RSS
            t = time.perf_counter()
            lrs = fmap(
                lambda x: downscale_image(model, x, tile=tile, precision=precision)[0], [hr] * n
            )
            t1 = time.perf_counter()
            outs = fmap(
                lambda x: upscale_image(model, x, size=(h, w), tile=tile, precision=precision), lrs
            )
            t2 = time.perf_counter()
            if i:  # first run is warm-up (and compilation, for ``compile``)
                times["down"].append((t1 - t) / n)
                times["up"].append((t2 - t1) / n)
            else:
                first = ((t1 - t) / n, (t2 - t1) / n)
    assert outs is not None
    out = outs[0]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "down_s": statistics.median(times["down"]),
        "up_s": statistics.median(times["up"]),
        "first_down_s": first[0],
        "first_up_s": first[1],
        "psnr": psnr(to_uint8(out.float()), to_uint8(hr)),
        "peak_rss_mb": rss,
    }


def run(
    models: list[str],
    sizes: list[tuple[int, int]],
    precisions: list[str],
    repeat: int = 3,
    threads: int | None = None,
    tile: int | None = None,
    workers: int = 0,
) -> dict[str, Any]:
    """Each configuration in a fresh process; ``tile``: HR pixels per tile side (``None``:
    each execution's default); ``workers`` > 0: frames on that many one-thread frame workers
    at once, times per frame (:func:`measure_one`)."""
    rows = []
    for name in models:
        fl = {d: conv_flops_per_hr_pixel(name, d) for d in ("down", "up")}
        for w, h in sizes:
            base_psnr = None
            for p in precisions:
                cmd = [
                    sys.executable,
                    "-m",
                    "mediapipe_irn.bench.speed",
                    name,
                    str(h),
                    str(w),
                    p,
                    str(repeat),
                    str(threads or 0),
                    str(tile or 0),
                    str(workers),
                ]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    rows.append(
                        {
                            "model": name,
                            "size": f"{w}x{h}",
                            "precision": p,
                            "error": r.stderr.strip().splitlines()[-1:],
                        }
                    )
                    continue
                m = json.loads(r.stdout.strip().splitlines()[-1])
                if p == "fp32":
                    base_psnr = m["psnr"]
                px = h * w
                rows.append(
                    {
                        "model": name,
                        "size": f"{w}x{h}",
                        "precision": p,
                        **m,
                        "flops_per_pixel_down": fl["down"],
                        "flops_per_pixel_up": fl["up"],
                        "gflops_down": fl["down"] * px / m["down_s"] / 1e9,
                        "gflops_up": fl["up"] * px / m["up_s"] / 1e9,
                        "psnr_delta_vs_fp32": None if base_psnr is None else m["psnr"] - base_psnr,
                    }
                )
    return {
        "rows": rows,
        "tile": tile,
        "frame_workers": workers,
        "peak": machine_peak_gflops(),
        "env": environment(),
        "capability": capability(),
        "auto": {
            m: {d: capability(m.partition("@")[0])[f"auto_{d}"] for d in ("down", "up")}
            for m in models
        },
    }


def format_table(res: dict[str, Any]) -> str:
    lines = [
        "| model | size | option | down s | up s | GFLOP/s down/up | kFLOP/px down/up | "
        "peak RSS MB | ΔPSNR vs fp32 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        if "error" in r:
            lines.append(
                f"| {r['model']} | {r['size']} | {r['precision']} | error: {r['error']} |||||"
            )
            continue
        d = r["psnr_delta_vs_fp32"]
        lines.append(
            f"| {r['model']} | {r['size']} | {r['precision']} | {r['down_s']:.3f} | "
            f"{r['up_s']:.3f} | {r['gflops_down']:.0f}/{r['gflops_up']:.0f} | "
            f"{r['flops_per_pixel_down'] / 1e3:.0f}/{r['flops_per_pixel_up'] / 1e3:.0f}"
            f" | {r['peak_rss_mb']:.0f} | {'—' if d is None else f'{d:+.3f}'} |"
        )
    if "peak" in res:
        pk = res["peak"]
        lines.append(
            f"\nmachine: float32 GEMM {pk['gemm_fp32_gflops']:.0f} GFLOP/s, bfloat16 "
            f"GEMM {pk['gemm_bf16_gflops']:.1f} GFLOP/s ({res['env']['threads']} "
            "threads)"
        )
    cap = res.get("capability")
    if cap:
        lines.append(
            f"capability: torch {cap['torch_cpu_capability']}, native bfloat16 "
            f"{'yes' if cap['native_bf16'] else 'no'}, onnxruntime "
            f"{'yes' if cap.get('onnxruntime') else 'no'}, openvino "
            f"{'yes' if cap.get('openvino') else 'no'}; auto runs "
            + ", ".join(
                f"{m}: {a['down']} down, {a['up']} up" for m, a in res.get("auto", {}).items()
            )
        )
        base = {
            (r["model"], r["size"]): r
            for r in res["rows"]
            if r.get("precision") == "fp32" and "error" not in r
        }
        for r in res["rows"]:
            b = base.get((r["model"], r["size"]))
            if b and r.get("precision") != "fp32" and "error" not in r:
                lines.append(
                    f"{r['model']} {r['size']} {r['precision']}: "
                    f"{b['down_s'] / r['down_s']:.2f}× down, "
                    f"{b['up_s'] / r['up_s']:.2f}× up against fp32 eager"
                )
    return "\n".join(lines)


if __name__ == "__main__":  # one configuration, in its own process (for peak RSS)
    import warnings

    warnings.simplefilter("ignore")
    _name, _h, _w, _p, _rep, _thr, _tile, _wk = sys.argv[1:9]
    if int(_thr):
        torch.set_num_threads(int(_thr))
    print(
        json.dumps(
            measure_one(_name, int(_h), int(_w), _p, int(_rep), int(_tile) or None, int(_wk))
        )
    )

__all__ = [
    "PRECISIONS",
    "conv_flops_per_hr_pixel",
    "format_table",
    "machine_peak_gflops",
    "measure_one",
    "run",
]
