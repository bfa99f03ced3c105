"""SSIMULACRA2 benchmark: the package's implementation against the PyPI reference
(``ssimulacra2``, a test/bench dependency) on the given photos as libjpeg-turbo JPEGs at
several qualities: the largest and mean difference in points, and the seconds per megapixel
of each (one thread, the reference timed on the same pixels from PNG files it reads itself)."""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..metrics import ssimulacra2
from ..pipeline.execution import capability
from .common import environment, image_files


def run(data: list[str], qualities: list[int], limit: int | None = None) -> dict[str, Any]:
    import cv2

    try:
        from ssimulacra2 import compute_ssimulacra2
    except ImportError as exc:  # pragma: no cover - a dev dependency
        raise ValueError("the reference needs `pip install ssimulacra2==0.3.0`") from exc
    cv2.setNumThreads(1)
    files = image_files(data, limit)
    if not files:
        raise ValueError(f"no images under {data}")
    diffs: list[float] = []
    rows = []
    t_ours = t_ref = mp = 0.0
    with tempfile.TemporaryDirectory(prefix="mpirn-s2-") as tmp:
        for f in files:
            rgb = np.asarray(Image.open(f).convert("RGB"))
            ref_png = Path(tmp, "ref.png")
            Image.fromarray(rgb).save(ref_png)
            for q in qualities:
                buf = io.BytesIO()
                Image.fromarray(rgb).save(buf, "JPEG", quality=q)
                dist = np.asarray(Image.open(buf).convert("RGB"))
                dist_png = Path(tmp, "dist.png")
                Image.fromarray(dist).save(dist_png)
                t = time.perf_counter()
                ours = ssimulacra2(rgb, dist)
                t_ours += time.perf_counter() - t
                t = time.perf_counter()
                ref = float(compute_ssimulacra2(str(ref_png), str(dist_png)))
                t_ref += time.perf_counter() - t
                mp += rgb.shape[0] * rgb.shape[1] / 1e6
                diffs.append(ours - ref)
                rows.append({"image": str(f), "quality": q, "ours": ours, "reference": ref})
    d = np.abs(np.asarray(diffs))
    return {
        "data": data,
        "qualities": qualities,
        "pairs": len(rows),
        "max_abs_diff": float(d.max()),
        "mean_abs_diff": float(d.mean()),
        "seconds_per_mp": t_ours / mp,
        "reference_seconds_per_mp": t_ref / mp,
        "speedup": t_ref / t_ours,
        "rows": rows,
        "capability": capability(),
        "env": environment(),
    }


def format_table(res: dict[str, Any]) -> str:
    return (
        f"{res['pairs']} pairs (JPEG qualities {res['qualities']}): |ours − reference| max "
        f"{res['max_abs_diff']:.4f}, mean {res['mean_abs_diff']:.4f} points; "
        f"{res['seconds_per_mp']:.3f} s/MP against {res['reference_seconds_per_mp']:.3f} "
        f"({res['speedup']:.1f}× faster), one thread"
    )
