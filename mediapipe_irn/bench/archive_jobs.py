"""The archive job end to end: wall-clock seconds of ``mediapipe-irn archive SRC DEST
--target-psnr F`` against ``mediapipe-irn archive SRC DEST --quality Q --verify`` over the same
folder, each its own process as a user runs it (one worker, one thread; starting Python, loading
the models, reading the sources, writing the files and the manifest all counted, in both). The
fixed archive runs before and after the floors, so drift in the machine's speed shows; each
ratio is against the mean of the two. Each job also runs on the folder's first file alone:
a job costs start-up (Python, the models' loading and compiling) plus a cost per file, so the
difference gives the cost per further file, what a large folder pays, and its ratio.

`bench archive` times the search itself (``choose``) against the fixed path's core per image;
this times the jobs themselves, what a user waits for.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ..jobs import MANIFEST_NAME, FileRecord, Manifest
from .common import environment, image_files


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
    files = image_files(data, limit)
    if not files:
        raise ValueError(f"no images under {data}")
    model = ["--model", models[0]]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mpirn-bench-") as tmp:
        src, one = Path(tmp, "src"), Path(tmp, "one")
        src.mkdir()
        one.mkdir()
        for i, f in enumerate(files):  # one flat folder, names kept apart
            shutil.copy2(f, src / f"{i:04d}-{f.name}")
        shutil.copy2(files[0], one / files[0].name)

        def timed(args: list[str], tag: str) -> dict[str, Any]:
            """The job on the folder, and on its first file alone: a job's seconds are
            start-up + files × per file, so the difference gives both."""
            t1, _ = _job(one, Path(tmp, f"{tag}-one"), args)
            t, recs = _job(src, Path(tmp, tag), args)
            per_file = (t - t1) / (len(files) - 1) if len(files) > 1 else t1
            return {"seconds": t, "one_file": t1, "per_file": per_file, "recs": recs}

        subprocess.run([sys.executable, "-m", "mediapipe_irn.cli", "--help"], capture_output=True)
        fixed_args = [*model, "--quality", str(quality), "--verify"]
        before = timed(fixed_args, "fixed-before")
        for floor in floors:
            args = [*model, "--target-psnr", f"{floor:g}", "--models", ",".join(models)]
            got = timed(args, f"target-{floor:g}")
            recs = got.pop("recs")
            rows.append(
                {
                    "floor": floor,
                    **got,
                    "bytes_out": sum(r.stored_bytes or 0 for r in recs),
                    "paths": dict(Counter(r.path for r in recs)),
                    "worst_psnr": min(r.psnr for r in recs if r.psnr is not None),
                }
            )
        after = timed(fixed_args, "fixed-after")
    fixed = {k: (before[k] + after[k]) / 2 for k in ("seconds", "per_file")}
    for r in rows:
        r["ratio"] = r["seconds"] / fixed["seconds"]
        r["per_file_ratio"] = r["per_file"] / fixed["per_file"]
    return {
        "data": data,
        "images": len(files),
        "models": models,
        "fixed": {
            "quality": quality,
            "seconds_before": before["seconds"],
            "seconds_after": after["seconds"],
            "one_file_before": before["one_file"],
            "one_file_after": after["one_file"],
            "per_file": fixed["per_file"],
            "bytes_out": sum(r.stored_bytes or 0 for r in before["recs"]),
        },
        "rows": rows,
        "env": environment(),
    }


def format_table(res: dict[str, Any]) -> str:
    f = res["fixed"]
    lines = [
        f"{res['images']} images; fixed --quality {f['quality']} --verify: "
        f"{f['seconds_before']:.1f} s before, {f['seconds_after']:.1f} s after "
        f"({f['one_file_before']:.1f} / {f['one_file_after']:.1f} s for one file; "
        f"{f['per_file']:.2f} s per further file)",
        f"{'floor':>6} {'seconds':>8} {'ratio':>6} {'s/file':>7} {'ratio':>6} {'worst':>6} "
        f"{'KB':>8}  paths",
    ]
    for r in res["rows"]:
        paths = ", ".join(f"{n} {k}" for k, n in sorted(r["paths"].items()))
        lines.append(
            f"{r['floor']:6.1f} {r['seconds']:8.1f} {r['ratio']:6.2f} {r['per_file']:7.2f} "
            f"{r['per_file_ratio']:6.2f} {r['worst_psnr']:6.2f} {r['bytes_out'] / 1e3:8.1f}  "
            f"{paths}"
        )
    return "\n".join(lines)
