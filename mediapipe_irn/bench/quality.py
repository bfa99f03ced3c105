"""Rate–distortion benchmark: down → codec → up for each model, at equal bytes (Bjøntegaard
BD-rate / BD-PSNR) against the bicubic path of the same scale (the comparison that ranks
models) and against full-resolution coding of the original (each over the curves' overlap);
optional full-resolution curves of other codecs (WebP, AVIF) for context."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ..api import decode_lr, downscale_lr, encode_downscaled
from ..codecs import EncodeOptions, get_codec
from ..jobs.target import stored_file
from ..metrics import bits_per_pixel, psnr, ssim, ssimulacra2
from ..pipeline.execution import resolve
from ..pipeline.rescale import FrameRescaler
from .common import bd_against, build_model, environment, load_images, plot_rd, pyplot, save_figure

REFERENCE_QUALITIES = [5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 95]


def _scores(out: np.ndarray, ref: np.ndarray, nbytes: int) -> dict[str, float]:
    h, w = ref.shape[:2]
    return {
        "psnr": psnr(out, ref),
        "psnr_y": psnr(out, ref, y=True),
        "ssim": ssim(out, ref),
        "ssim_y": ssim(out, ref, y=True),
        "ssimulacra2": ssimulacra2(ref, out),  # what people see (bench ssimulacra2)
        "bpp": bits_per_pixel(nbytes, h, w),
    }


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def _interp_psnr(ref: list[dict[str, float]], bpp: float) -> float | None:
    """Full-resolution PSNR at ``bpp`` (linear in log-rate); None outside the curve."""
    r = np.log([p["bpp"] for p in ref])
    d = np.array([p["psnr"] for p in ref])
    order = np.argsort(r)
    r, d = r[order], d[order]
    x = np.log(bpp)
    if x < r[0] or x > r[-1]:
        return None
    return float(np.interp(x, r, d))


def _full_res_curve(
    images, codec: str, qualities: list[int], subsampling: str = "4:2:0"
) -> list[dict[str, float]]:
    c = get_codec(codec)
    out = []
    for q in qualities:
        rows = []
        for _, img in images:
            b = c.encode([img.rgb], EncodeOptions(quality=q, subsampling=subsampling))
            rows.append(_scores(c.decode(b).frames[0], img.rgb, len(b)))
        out.append({"quality": q, **_mean(rows)})
    return out


def run(
    data: list[str],
    models: list[str],
    qualities: list[int],
    codec: str = "jpeg",
    limit: int | None = None,
    refine: int = 0,
    context: tuple[str, ...] = (),
    exec_: str = "auto",
) -> dict[str, Any]:
    """``refine`` > 0 adds, for each learned model, a ``<name>+hcd<refine>`` row (HCD steps
    per stage against the same codec and quality) with its encode time; a full-size restore
    gets a ``<name>+gain`` row (each file at the gain the archive's search stores).
    ``context``: other codecs coded at full resolution, for the plot and the table.
    ``exec_``: how the models run (``--exec``; what it resolved to per model is recorded)."""
    images = load_images(data, limit)
    c = get_codec(codec)
    results: dict[str, Any] = {
        "data": list(data),
        "images": len(images),
        "codec": codec,
        "qualities": qualities,
        "models": {},
        "env": environment(),
        "refine": refine,
        "exec": exec_,
        "execution": {},
    }
    lossless = c.quality_range[0] == c.quality_range[1]  # e.g. PNG: no rate to compare at
    ref_rows = [] if lossless else _full_res_curve(images, codec, REFERENCE_QUALITIES)
    results["full_resolution"] = ref_rows
    results["context"] = {
        name: _full_res_curve(images, name, REFERENCE_QUALITIES) for name in context
    }
    built = {n: build_model(n) for n in models}
    # (name, HCD steps, row suffix); a full-size restore also at the gain the archive gives
    # each file (``<name>+gain``)
    runs = [(n, 0, "") for n in models]
    runs += [(n, refine, f"+hcd{refine}") for n in models if refine > 0 and built[n].invertible]
    runs += [(n, 0, "+gain") for n in models if built[n].scale == 1 and built[n].learned]
    for name, steps, suffix in runs:
        m = built[name]
        base, _, weights = name.partition("@")  # restore with the same weights
        precision = exec_ if m.learned else "auto"  # the runtimes take the learned ones
        # a model coding its LR with other chroma (the 4:4:4 full-size restore) is compared
        # with full-resolution coding in that chroma
        sub = m.lr_subsampling
        ref = ref_rows
        key = f"full_resolution_{sub}"
        if sub != "4:2:0" and not lossless:
            if key not in results:  # once per chroma, whatever the number of models in it
                results[key] = _full_res_curve(images, codec, REFERENCE_QUALITIES, sub)
            ref = results[key]
        curve = []
        t0 = time.perf_counter()  # the LR does not depend on the quality without refinement
        lrs = [None if steps else downscale_lr(m, img, precision=precision) for _, img in images]
        down_s = (time.perf_counter() - t0) / len(images)
        for q in qualities:
            rows = []
            t0 = time.perf_counter()
            for (path, img), lr in zip(images, lrs):
                if suffix == "+gain":  # the archive search's file (its gain), Huffman as the rest
                    data_b = stored_file(img, FrameRescaler(m, precision), q, codec, False)
                else:
                    lr_meta = lr or downscale_lr(
                        m, img, codec, q, refine=steps, precision=precision
                    )
                    data_b, _ = encode_downscaled(*lr_meta, img, codec, q, False, sub)
                out, _, _ = decode_lr(
                    data_b, path, base, weights or None, codec=codec, precision=precision
                )
                rows.append(_scores(out.rgb, img.rgb, len(data_b)))
            row = {
                "quality": q,
                **_mean(rows),
                # the LR computed once per image counts a share in each quality
                "seconds_per_image": (time.perf_counter() - t0) / len(images)
                + down_s / len(qualities),
            }
            row["full_res_psnr_at_equal_bytes"] = _interp_psnr(ref, row["bpp"]) if ref else None
            curve.append(row)
        entry: dict[str, Any] = {"curve": curve}
        results["execution"][base] = {d: resolve(precision, d, base) for d in ("down", "up")}
        if lossless:
            entry["bd_error"] = "lossless codec: no rate-distortion curve"
        else:
            entry.update(bd_against(ref, curve))
        results["models"][name + suffix] = entry
    base = next((n for n in results["models"] if n.startswith("bicubic")), None)
    if base and not lossless:
        for name, entry in results["models"].items():
            if name != base:
                ref = results["models"][base]["curve"]
                entry.update(bd_against(ref, entry["curve"], against="bicubic"))
        results["bicubic_reference"] = base
    return results


def format_table(res: dict[str, Any]) -> str:
    names = list(res["models"])
    base = next((n for n in names if n.startswith("bicubic")), None)
    lines = [
        f"{res['codec']} over {res['images']} images ({', '.join(res['data'])})",
        "| model | QF | PSNR | PSNR-Y | SSIM | SSIM-Y | SSIMULACRA2 | bpp | Δ vs bicubic | "
        "full-res PSNR at same bpp |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in names:
        for i, p in enumerate(res["models"][n]["curve"]):
            d = ""
            if base and n != base:
                d = f"{p['psnr'] - res['models'][base]['curve'][i]['psnr']:+.2f}"
            fr = p["full_res_psnr_at_equal_bytes"]
            lines.append(
                f"| {n} | {p['quality']} | {p['psnr']:.2f} | {p['psnr_y']:.2f} | "
                f"{p['ssim']:.4f} | {p['ssim_y']:.4f} | {p.get('ssimulacra2', float('nan')):.2f} | "
                f"{p['bpp']:.3f} | {d} | "
                f"{'—' if fr is None else f'{fr:.2f}'} |"
            )
    lines += [
        "",
        "At equal bytes (BD over each pair's overlap): against the bicubic path "
        "(ranks models) and against full-resolution coding",
        "| model | BD-PSNR vs bicubic (dB) | BD-rate vs bicubic (%) | "
        "BD-rate vs full-res (%) | BD-PSNR vs full-res (dB) | "
        "BD-rate vs full-res, SSIMULACRA2 (%) |",
        "|---|---|---|---|---|---|",
    ]

    def fmt(e: dict, key: str, spec: str) -> str:
        return "—" if key not in e else format(e[key], spec)

    for n in names:
        e = res["models"][n]
        lines.append(
            f"| {n} | {fmt(e, 'bd_psnr_vs_bicubic_db', '+.2f')} | "
            f"{fmt(e, 'bd_rate_vs_bicubic_pct', '+.1f')} | "
            f"{fmt(e, 'bd_rate_vs_full_res_pct', '+.1f')} | "
            f"{fmt(e, 'bd_psnr_vs_full_res_db', '+.2f')} | "
            f"{fmt(e, 'bd_rate_ssimulacra2_vs_full_res_pct', '+.1f')} |"
        )
    for name, curve in res.get("context", {}).items():
        pts = ", ".join(f"{p['bpp']:.3f} bpp {p['psnr']:.2f} dB" for p in curve[::3])
        lines.append(f"full-resolution {name}: {pts}")
    return "\n".join(lines)


def plot(res: dict[str, Any], path: str | Path) -> bool:
    """RD plot (PSNR vs bpp); returns False when matplotlib is not installed."""
    ref = [(p["bpp"], p["psnr"]) for p in res["full_resolution"]]
    curves = {
        f"{n} → {res['codec']}": [(p["bpp"], p["psnr"]) for p in e["curve"]]
        for n, e in res["models"].items()
    }
    for name, curve in res.get("context", {}).items():
        curves[f"full-resolution {name}"] = [(p["bpp"], p["psnr"]) for p in curve]
    title = f"{res['images']} images: {', '.join(Path(d).name for d in res['data'])}"
    return plot_rd(
        path, [(title, "bits per HR pixel", f"full-resolution {res['codec']}", ref, curves)]
    )


def plot_vs_hours(res: dict[str, Any], hours: dict[str, float], path: str | Path) -> bool:
    """BD-PSNR over the bicubic path against each model's training CPU-hours (does more
    compute still pay?); returns False without matplotlib or points."""
    pts = [
        (hours[n], e["bd_psnr_vs_bicubic_db"], n)
        for n, e in res["models"].items()
        if n in hours and "bd_psnr_vs_bicubic_db" in e
    ]
    plt = pyplot()
    if plt is None or not pts:
        return False
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=110)
    for h, bd, n in sorted(pts):
        ax.plot(h, bd, "o")
        ax.annotate(
            n.split("/")[-1], (h, bd), fontsize=7, xytext=(4, 2), textcoords="offset points"
        )
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("training CPU-hours (2-core AMD EPYC, one thread)")
    ax.set_ylabel("BD-PSNR over bicubic-x2 at equal bytes (dB)")
    ax.grid(alpha=0.3)
    return save_figure(fig, path)
