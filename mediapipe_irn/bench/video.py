"""Video rate–distortion: down → x264 → up for each model against full-resolution x264 at
matched bitrate (BD-rate), plus the model's downscale/upscale frames per second."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import av
import numpy as np

from ..codecs import EncodeOptions, get_codec
from ..metrics import psnr
from ..pipeline.execution import frame_workers
from ..pipeline.images import to_tensor, to_uint8
from ..pipeline.media import VIDEO_EXTENSIONS
from ..pipeline.tiling import downscale_image, upscale_image
from .common import bd_against, build_model, environment, plot_rd

CLIP_SUFFIXES = VIDEO_EXTENSIONS


def read_clip(path: Path, max_frames: int | None = None) -> tuple[list[np.ndarray], float]:
    """A clip's frames (RGB uint8, at most ``max_frames``) and its frame rate."""
    with av.open(str(path)) as c:
        rate = float(c.streams.video[0].average_rate or 25)
        out = []
        for f in c.decode(video=0):
            out.append(f.to_ndarray(format="rgb24"))
            if max_frames and len(out) >= max_frames:
                break
    return out, rate


def _score(frames: list[np.ndarray], ref: list[np.ndarray]) -> tuple[float, float]:
    return (
        float(np.mean([psnr(a, b) for a, b in zip(frames, ref)])),
        float(np.mean([psnr(a, b, y=True) for a, b in zip(frames, ref)])),
    )


def _apply(fn, frames: list[np.ndarray]) -> tuple[list[np.ndarray], float]:
    """Frames through ``fn`` as the video jobs run them (one per worker thread); frames/s."""
    t0 = time.perf_counter()
    with frame_workers() as fmap:
        out = fmap(lambda f: to_uint8(fn(to_tensor(f))), frames)
    return out, len(frames) / (time.perf_counter() - t0)


def run(
    data: list[str],
    models: list[str],
    crfs: list[int],
    preset: str = "medium",
    max_frames: int | None = None,
) -> dict[str, Any]:
    clips = []
    for d in data:
        p = Path(d)
        clips += (
            [p]
            if p.is_file()
            else sorted(f for f in p.iterdir() if f.suffix.lower() in CLIP_SUFFIXES)
        )
    h264 = get_codec("h264")
    res: dict[str, Any] = {
        "data": data,
        "crfs": crfs,
        "preset": preset,
        "clips": {},
        "env": environment(),
    }
    for clip in clips:
        src, rate = read_clip(clip, max_frames)
        h, w = src[0].shape[:2]
        secs = len(src) / rate
        entry: dict[str, Any] = {"frames": len(src), "width": w, "height": h, "models": {}}

        def kbps(nbytes: int, secs: float = secs) -> float:
            return nbytes * 8 / secs / 1000

        full = []
        # the LR paths spend fewer bits at a given crf: extend the full-resolution curve to
        # higher crfs so the two rate ranges overlap for BD-rate
        for crf in sorted(set(crfs) | {c + 6 for c in crfs}):
            data_b = h264.encode(src, EncodeOptions(quality=crf, preset=preset, fps=rate))
            dec = h264.decode(data_b).frames
            p, py = _score(dec, src)
            full.append({"crf": crf, "kbps": kbps(len(data_b)), "psnr": p, "psnr_y": py})
        entry["full_resolution"] = full
        for name in models:
            m = build_model(name)
            s = m.scale
            lr, down_fps = _apply(lambda x, m=m: downscale_image(m, x)[0], src)
            curve = []
            up_fps = []
            for crf in crfs:
                data_b = h264.encode(lr, EncodeOptions(quality=crf, preset=preset, fps=rate))
                dec = h264.decode(data_b).frames
                hr, fps = _apply(lambda x, m=m, hw=(h, w): upscale_image(m, x, size=hw), dec)
                up_fps.append(fps)
                p, py = _score(hr, src)
                curve.append({"crf": crf, "kbps": kbps(len(data_b)), "psnr": p, "psnr_y": py})
            e: dict[str, Any] = {
                "curve": curve,
                "downscale_fps": down_fps,
                "upscale_fps": float(np.median(up_fps)),
                "scale": s,
            }
            e.update(bd_against(full, curve, rate="kbps"))
            entry["models"][name] = e
        _against_bicubic(entry["models"])
        res["clips"][clip.name] = entry
    return res


def _against_bicubic(models: dict[str, dict[str, Any]]) -> None:
    """BD-rate and BD-PSNR of each learned path against ``bicubic-x{scale}`` of the same run
    (equal bitrate: the measure that ranks the LR paths with each other)."""
    for name, e in models.items():
        ref = models.get(f"bicubic-x{e['scale']}")
        if ref is None or name.startswith("bicubic") or "bd_error" in e:
            continue
        e.update(bd_against(ref["curve"], e["curve"], rate="kbps", against="bicubic"))


def format_table(res: dict[str, Any]) -> str:
    lines = []
    for clip, e in res["clips"].items():
        lines.append(
            f"{clip}: {e['frames']} frames {e['width']}×{e['height']}, x264 preset {res['preset']}"
        )
        lines.append("| path | crf | kbit/s | PSNR | PSNR-Y |")
        lines.append("|---|---|---|---|---|")
        for r in e["full_resolution"]:
            lines.append(
                f"| full-res x264 | {r['crf']} | {r['kbps']:.0f} | {r['psnr']:.2f} | "
                f"{r['psnr_y']:.2f} |"
            )
        for n, m in e["models"].items():
            for r in m["curve"]:
                lines.append(
                    f"| {n} | {r['crf']} | {r['kbps']:.0f} | {r['psnr']:.2f} | {r['psnr_y']:.2f} |"
                )
        lines.append(
            "| model | BD-rate vs full-res (%) | BD-PSNR (dB) | BD-rate vs bicubic (%) | "
            "BD-PSNR vs bicubic (dB) | down fps | up fps |"
        )
        lines.append("|---|---|---|---|---|---|---|")
        for n, m in e["models"].items():
            bd = (
                ("—", "—")
                if "bd_error" in m
                else (f"{m['bd_rate_vs_full_res_pct']:+.1f}", f"{m['bd_psnr_vs_full_res_db']:+.2f}")
            )
            vb = (
                (f"{m['bd_rate_vs_bicubic_pct']:+.1f}", f"{m['bd_psnr_vs_bicubic_db']:+.2f}")
                if "bd_rate_vs_bicubic_pct" in m
                else ("—", "—")
            )
            lines.append(
                f"| {n} | {bd[0]} | {bd[1]} | {vb[0]} | {vb[1]} | {m['downscale_fps']:.2f} | "
                f"{m['upscale_fps']:.2f} |"
            )
        lines.append("")
    return "\n".join(lines)


def plot(res: dict[str, Any], path: str | Path) -> bool:
    panels = []
    for clip, e in res["clips"].items():
        ref = [(r["kbps"], r["psnr"]) for r in e["full_resolution"]]
        curves = {
            f"{n} → x264": [(r["kbps"], r["psnr"]) for r in m["curve"]]
            for n, m in e["models"].items()
        }
        panels.append((clip, "kbit/s", "full-res x264", ref, curves))
    return plot_rd(path, panels)
