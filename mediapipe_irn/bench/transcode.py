"""End-to-end transcoding speed: ``mediapipe-irn encode`` then ``decode`` on a clip, each in
its own process and timed from the outside (process start, model load, PyAV decode, model,
x264 and muxing included, as a user sees them), with the restored video's PSNR against the
source and the LR file's bitrate."""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..metrics import psnr
from .common import environment
from .video import read_clip


def _timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.perf_counter() - t
    if r.returncode != 0:
        tail = (r.stderr.strip().splitlines() or ["?"])[-1]
        raise RuntimeError(f"{' '.join(cmd)} failed: {tail}")
    return secs


def _graphs_cached(name: str) -> bool:
    """Whether both of the model's graphs were in the video jobs' cache before the run (the
    jobs then start without torch: pipeline.serving)."""
    from ..pipeline.serving import graph_path
    from ..zoo import find_weights

    entry = find_weights(name)
    paths = [graph_path(name, entry.sha256, d) for d in ("down", "up")] if entry else [None]
    return all(p is not None and p.is_file() for p in paths)


def run(
    clip: str,
    models: list[str],
    crf: int = 23,
    preset: str = "medium",
    decode_preset: str = "medium",
    precision: str = "auto",
) -> dict[str, Any]:
    src_path = Path(clip)
    src, rate = read_clip(src_path)
    secs_media = len(src) / rate
    cli = [sys.executable, "-m", "mediapipe_irn.cli"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="mpirn-e2e-") as tmp:
        for name in models:
            lr, out = Path(tmp) / f"{name}.lr.mp4", Path(tmp) / f"{name}.out.mp4"
            enc = [
                *cli,
                "encode",
                str(src_path),
                str(lr),
                "--model",
                name,
                "--crf",
                str(crf),
                "--preset",
                preset,
                "--exec",
                precision,
                "--force",
            ]
            dec = [
                *cli,
                "decode",
                str(lr),
                str(out),
                "--preset",
                decode_preset,
                "--exec",
                precision,
                "--force",
            ]
            cached = _graphs_cached(name)
            t_enc, t_dec = _timed(enc), _timed(dec)
            restored, _ = read_clip(out)
            n = len(src)
            rows.append(
                {
                    "model": name,
                    "graphs_cached": cached,
                    "frames": n,
                    "encode_s": t_enc,
                    "decode_s": t_dec,
                    "encode_fps": n / t_enc,
                    "decode_fps": n / t_dec,
                    "end_to_end_fps": n / (t_enc + t_dec),
                    "lr_kbps": lr.stat().st_size * 8 / secs_media / 1000,
                    "psnr": float(np.mean([psnr(a, b) for a, b in zip(restored, src)])),
                }
            )
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "clip": clip,
        "width": src[0].shape[1],
        "height": src[0].shape[0],
        "crf": crf,
        "preset": preset,
        "decode_preset": decode_preset,
        "precision": precision,
        "rows": rows,
        "children_peak_rss_mb": rss,
        "env": environment(),
    }


def format_table(res: dict[str, Any]) -> str:
    lines = [
        f"{res['clip']} ({res['width']}×{res['height']}, {res['rows'][0]['frames']} "
        f"frames), encode crf {res['crf']} preset {res['preset']}, decode preset "
        f"{res['decode_preset']}",
        "| model | encode s | decode s | end-to-end fps | LR kbit/s | PSNR dB | graphs cached |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        lines.append(
            f"| {r['model']} | {r['encode_s']:.1f} | {r['decode_s']:.1f} | "
            f"{r['end_to_end_fps']:.2f} | {r['lr_kbps']:.0f} | {r['psnr']:.2f} | "
            f"{'yes' if r.get('graphs_cached') else 'no'} |"
        )
    return "\n".join(lines)


__all__ = ["format_table", "run"]
