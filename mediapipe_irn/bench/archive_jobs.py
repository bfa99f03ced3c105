"""The archive job end to end: wall-clock seconds of ``mediapipe-irn archive SRC DEST
--target-psnr F`` against ``mediapipe-irn archive SRC DEST --quality Q --verify`` over the same
folder, each its own process as a user runs it (one worker, one thread; starting Python, loading
the models, reading the sources, writing the files and the manifest all counted, in both). The
fixed archive runs before and after the floors, so drift in the machine's speed shows; each
ratio is against the mean of the two.

`bench archive` times the search itself (``choose``) against the fixed path's core per image;
this times the job the issue's promise is about ("the target mode costs at most 2× a
fixed-quality ``--verify`` archive of the same folder").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..jobs import MANIFEST_NAME, FileRecord, Manifest
from ..pipeline.media import is_image
from ..train.dataset import find_sources
from .common import environment


def _job(src: Path, dest: Path, args: list[str]) -> tuple[float, list[FileRecord]]:
    """Seconds of one archive process, and what its manifest recorded per file."""
    cmd = [sys.executable, "-m", "mediapipe_irn.cli", "archive", str(src), str(dest)]
    cmd += ["--workers", "1", "--threads", "1", "--quiet", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t
    if p.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-2000:]}")
    with Manifest(dest / MANIFEST_NAME) as man:
        recs = list(man.records("done"))
    if not recs:
        raise RuntimeError(f"{dest}: no file archived")
    return dt, recs


def run(
    data: list[str],
    floors: list[float],
    models: list[str],
    quality: int = 75,
    limit: int | None = None,
) -> dict[str, Any]:
    if any("@" in m for m in models):
        raise ValueError("archive-jobs runs the archive as a user does: shipped models by name")
    files = [f for f in find_sources(data) if is_image(f)]
    files = files[:limit] if limit else files
    if not files:
        raise ValueError(f"no images under {data}")
    model = ["--model", models[0]]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mpirn-bench-") as tmp:
        src = Path(tmp, "src")
        src.mkdir()
        for i, f in enumerate(files):  # one flat folder, names kept apart
            shutil.copy2(f, src / f"{i:04d}-{f.name}")

        def fixed(tag: str) -> tuple[float, list[FileRecord]]:
            args = [*model, "--quality", str(quality), "--verify"]
            return _job(src, Path(tmp, f"fixed-{tag}"), args)

        subprocess.run([sys.executable, "-m", "mediapipe_irn.cli", "--help"], capture_output=True)
        t_before, m_fixed = fixed("before")
        for floor in floors:
            args = [*model, "--target-psnr", f"{floor:g}", "--models", ",".join(models)]
            dt, recs = _job(src, Path(tmp, f"target-{floor:g}"), args)
            paths: dict[str, int] = {}
            for r in recs:
                k = f"{r.codec}@{r.model or 'full'}"
                paths[k] = paths.get(k, 0) + 1
            rows.append(
                {
                    "floor": floor,
                    "seconds": dt,
                    "bytes_out": sum(r.stored_bytes or 0 for r in recs),
                    "paths": paths,
                    "worst_psnr": min(r.psnr for r in recs if r.psnr is not None),
                }
            )
        t_after, _ = fixed("after")
    t_fixed = (t_before + t_after) / 2
    for r in rows:
        r["ratio"] = r["seconds"] / t_fixed
    return {
        "data": data,
        "images": len(files),
        "models": models,
        "fixed": {
            "quality": quality,
            "seconds_before": t_before,
            "seconds_after": t_after,
            "bytes_out": sum(r.stored_bytes or 0 for r in m_fixed),
        },
        "rows": rows,
        "env": environment(),
    }


def format_table(res: dict[str, Any]) -> str:
    f = res["fixed"]
    lines = [
        f"{res['images']} images; fixed --quality {f['quality']} --verify: "
        f"{f['seconds_before']:.1f} s before, {f['seconds_after']:.1f} s after",
        f"{'floor':>6} {'seconds':>8} {'ratio':>6} {'worst':>6} {'KB':>8}  paths",
    ]
    for r in res["rows"]:
        paths = ", ".join(f"{n} {k}" for k, n in sorted(r["paths"].items()))
        lines.append(
            f"{r['floor']:6.1f} {r['seconds']:8.1f} {r['ratio']:6.2f} {r['worst_psnr']:6.2f} "
            f"{r['bytes_out'] / 1e3:8.1f}  {paths}"
        )
    return "\n".join(lines)
