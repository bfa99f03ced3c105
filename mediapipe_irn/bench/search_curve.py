"""The archive search's model of a ×2 restore (``jobs.target``): per image, the restored MSE
at a grid of JPEG qualities against the codec's error on the LR (u), and how well a line in
``u**power`` through two measured qualities predicts a third (median and 90th percentile,
in dB, inside the pair's span and beyond it), with each image's fitted slope in the units of
``X2_CURVE_SLOPE``. What the constants ``X2_CURVE_POWER`` and ``X2_CURVE_SLOPE`` come from.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..jobs import target
from ..pipeline.images import read_image
from ..pipeline.rescale import FrameRescaler
from .common import build_model, center_crop, environment, image_files, load_images

QUALITIES = (20, 30, 40, 50, 60, 70, 80, 90, 95, 100)


def _curves(data: list[str], model: str, limit: int | None) -> list[dict[str, Any]]:
    images = load_images(data, limit)
    if not images:
        raise ValueError(f"no images under {data}")
    r = FrameRescaler(build_model(model))
    out = []
    for path, img in images:
        p = target._Model(img, "jpeg", "psnr", r)
        rows = [(p.lr_error(i), p.mse(i), p.bicubic_error(i)) for q in QUALITIES for i in [p.at(q)]]
        u, mse, bic = (list(col) for col in zip(*rows))
        out.append({"image": path, "u": u, "mse": mse, "bicubic": bic})
    return out


def prediction_error(curves: list[dict[str, Any]], power: float) -> dict[str, float]:
    """Two-point line in ``u**power``: |error| in dB of its prediction at every third quality
    in 30–95 (median, p90; inside the pair's span and beyond it)."""
    inside, beyond = [], []
    idx = [i for i, q in enumerate(QUALITIES) if 30 <= q <= 95]
    for c in curves:
        x = np.asarray(c["u"]) ** power
        d = np.asarray(c["mse"])
        for i, j in itertools.combinations(idx, 2):
            if abs(x[j] - x[i]) < 1e-12:
                continue
            k = (d[j] - d[i]) / (x[j] - x[i])
            for m in idx:
                if m in (i, j):
                    continue
                pred = d[i] + k * (x[m] - x[i])
                err = abs(10 * np.log10(pred / d[m])) if pred > 0 else 10.0
                (inside if min(i, j) < m < max(i, j) else beyond).append(err)
    return {
        "inside_median_db": float(np.median(inside)),
        "inside_p90_db": float(np.percentile(inside, 90)),
        "beyond_median_db": float(np.median(beyond)),
        "beyond_p90_db": float(np.percentile(beyond, 90)),
    }


def one_point_error(
    curves: list[dict[str, Any]],
    power: float,
    slope: float,
    bicubic: float,
    anchors: tuple[float, float] = (0, 101),
) -> dict[str, float]:
    """From one measured quality in ``anchors`` (from, below) to every lower one (what the
    search predicts after its first restoration): signed error in dB (measured − predicted;
    median, mean and p90 of its size) of the prior line (``slope`` in ``X2_CURVE_SLOPE``'s
    units) and of the bicubic proxy (the restored MSE moves ``bicubic`` × the bicubic
    upscale's)."""
    line, proxy = [], []
    idx = range(len(QUALITIES))
    for c in curves:
        u, d, b = (np.asarray(c[k]) for k in ("u", "mse", "bicubic"))
        k = slope / max(u[QUALITIES.index(50)], 1e-6) ** (power - 1)
        for a, t in itertools.permutations(idx, 2):
            if t < a and anchors[0] <= QUALITIES[a] < anchors[1]:
                for errs, pred in (
                    (line, d[a] + k * (u[t] ** power - u[a] ** power)),
                    (proxy, d[a] + bicubic * (b[t] - b[a])),
                ):
                    errs.append(10 * np.log10(max(pred, 1e-6) / d[t]))
    return {
        f"{name}_{stat}": float(f(np.asarray(e)))
        for name, e in (("prior_line", line), ("bicubic", proxy))
        for stat, f in (
            ("median_db", np.median),
            ("mean_abs_db", lambda e: np.mean(np.abs(e))),
            ("p90_abs_db", lambda e: np.percentile(np.abs(e), 90)),
        )
    }


def fitted_slopes(curves: list[dict[str, Any]], power: float) -> list[float]:
    """Per image: least-squares ``mse = a + k·u**power``, reported as ``k·u(50)**(power − 1)``
    (``X2_CURVE_SLOPE``'s units: the slope target's prior uses)."""
    out = []
    for c in curves:
        u, d = np.asarray(c["u"]), np.asarray(c["mse"])
        a = np.stack([np.ones_like(u), u**power], 1)
        (_, k), *_ = np.linalg.lstsq(a, d, rcond=None)
        out.append(float(k * u[QUALITIES.index(50)] ** (power - 1)))
    return out


def run(
    data: list[str], model: str = "sain-x2", powers=(1.0, 1.5, 1.7, 2.0), limit=None
) -> dict[str, Any]:
    curves = _curves(data, model, limit)
    rows = []
    for pw in powers:
        slopes = fitted_slopes(curves, pw)
        rows.append(
            {
                "power": pw,
                **prediction_error(curves, pw),
                "slope_median": float(np.median(slopes)),
                "slope_min": min(slopes),
                "slope_max": max(slopes),
            }
        )
    return {
        "data": data,
        "model": model,
        "qualities": list(QUALITIES),
        "images": len(curves),
        "rows": rows,
        "curves": curves,
        "one_point": {
            name: one_point_error(
                curves,
                target.X2_CURVE_POWER,
                target.X2_CURVE_SLOPE,
                target.X2_BICUBIC_SLOPE,
                span,
            )
            for name, span in (
                ("below", (0, target.X2_BICUBIC_BELOW)),
                ("from", (target.X2_BICUBIC_BELOW, 101)),
            )
        },
        "search": {
            "power": target.X2_CURVE_POWER,
            "slope": target.X2_CURVE_SLOPE,
            "bicubic_slope": target.X2_BICUBIC_SLOPE,
            "bicubic_below": target.X2_BICUBIC_BELOW,
        },
        "env": environment(),
    }


ANCHOR_QUALITIES = tuple(range(5, 100, 5))


def anchor_table(
    data: list[str],
    model: str = "sain-x2",
    limit: int | None = None,
    crop: tuple[int, int] = (480, 320),
) -> dict[str, Any]:
    """Per JPEG quality, a ×2 restore's MSE per unit of the bicubic proxy's (the decoded LR
    upscaled bicubically) over the images' centre ``crop`` (W, H): median and quartiles. The
    median is ``X2_ANCHOR``, where the search's first restoration goes. Images are read one
    at a time (the training set's are ~1 MP each)."""
    r = FrameRescaler(build_model(model))
    ratios = []
    for f in image_files(data, limit):
        p = target._Model(center_crop(read_image(f), *crop), "jpeg", "psnr", r)
        ratios.append([p.mse(i) / p.bicubic_error(i) for q in ANCHOR_QUALITIES for i in [p.at(q)]])
    if not ratios:
        raise ValueError(f"no images under {data}")
    a = np.asarray(ratios)
    p25, p50, p75 = np.percentile(a, [25, 50, 75], axis=0)
    return {
        "data": data,
        "model": model,
        "crop": list(crop),
        "images": len(ratios),
        "qualities": list(ANCHOR_QUALITIES),
        "median": p50.tolist(),
        "p25": p25.tolist(),
        "p75": p75.tolist(),
        "x2_anchor": [[q, round(float(m), 3)] for q, m in zip(ANCHOR_QUALITIES, p50)],
        "env": environment(),
    }


def format_table(res: dict[str, Any]) -> str:
    lines = [
        f"{res['model']}, {res['images']} images: restored MSE against u**power, two-point "
        "prediction error (dB)",
        f"{'power':>6} {'inside':>8} {'p90':>6} {'beyond':>8} {'p90':>6} {'slope':>6} "
        f"{'min':>6} {'max':>6}",
    ]
    for r in res["rows"]:
        lines.append(
            f"{r['power']:6.2f} {r['inside_median_db']:8.3f} {r['inside_p90_db']:6.3f} "
            f"{r['beyond_median_db']:8.3f} {r['beyond_p90_db']:6.3f} {r['slope_median']:6.3f} "
            f"{r['slope_min']:6.3f} {r['slope_max']:6.3f}"
        )
    below = res["search"]["bicubic_below"]
    lines.append(
        "one point (the search's first prediction) to every lower quality, measured − "
        "predicted dB, median / mean |err| / p90 |err|:"
    )
    for name, words in (("below", f"from below {below}"), ("from", f"from {below} up")):
        o = res["one_point"][name]
        lines.append(
            f"  {words:>14}: prior line {o['prior_line_median_db']:+.3f} / "
            f"{o['prior_line_mean_abs_db']:.3f} / {o['prior_line_p90_abs_db']:.3f}, bicubic "
            f"proxy {o['bicubic_median_db']:+.3f} / {o['bicubic_mean_abs_db']:.3f} / "
            f"{o['bicubic_p90_abs_db']:.3f}"
        )
    return "\n".join(lines)
