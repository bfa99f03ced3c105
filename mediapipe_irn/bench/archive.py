"""Archive benchmark: total bytes per quality floor of each way to keep a folder of photos at
least that good (PSNR RGB against the source, whole image):

- ``jpeg-4:2:0``: plain libjpeg-turbo 4:2:0 with a per-image quality search (what
  jpeg-archive's ``jpeg-recompress`` does by default);
- ``jpeg``: the same, per image the smaller of 4:2:0 and 4:4:4 (the baseline every share is
  against: 4:2:0 alone cannot reach high floors on colourful images), whole qualities;
- ``jpeg-fine``: the same with the archive's steps between whole qualities at the top
  (``jobs.target.FINE_FROM``), which every path of the choice searches;
- ``jpegli``: plain jpegli, per-image search (when the plugin is installed);
- ``<model>``: the model path alone (×2 …, or ``deblock-x1``'s full-resolution JPEG and
  restore), per-image search;
- ``choice``: the archive's per-file choice with JPEG only (:func:`..jobs.target.choose`);
- ``choice+jpegli``: the same, jpegli allowed;
- with ``pack="jxl"``, ``choice+jxl`` (and ``choice+jpegli+jxl``): what ``archive --pack jxl``
  stores, each chosen JPEG packed losslessly (:mod:`..codecs.pack`), a JPEG source also
  competing at its packed size, as the archive decides; the seconds packing takes (with its
  byte-exact check) and unpacking takes, per source megapixel.

An image a way cannot bring to the floor counts at its source size (stored unchanged), for
every way alike. Seconds per image: the JPEG-only choice, against a fixed-quality ``--verify``
archive of the same image (downscale, encode, restore, PSNR and SSIM) in the same run, each
model's runtime compiled beforehand (once per process in an archive).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..api import encode_lr
from ..codecs import list_codecs
from ..codecs.pack import is_jpeg, require, unpack_jpeg
from ..jobs.stored import packed
from ..jobs.target import OPTIMIZE, Target, choose, smallest_bytes
from ..jobs.worker import verify_restored
from ..pipeline.execution import capability
from ..pipeline.rescale import FrameRescaler
from .common import build_model, environment, load_images, pyplot, save_figure


def _fixed_verify_seconds(img, r: FrameRescaler, quality: int) -> float:
    t = time.perf_counter()
    data, _ = encode_lr(r.model, img, "jpeg", quality, optimize=OPTIMIZE)
    verify_restored(img, data, "bench", "jpeg")  # what `archive --verify` does per file
    return time.perf_counter() - t


class _Packing:
    """What packing does to one stored form, as ``archive --pack`` decides it
    (:func:`..jobs.stored.packed`: packed with its byte-exact check, kept where smaller), timed."""

    def __init__(self, pack: str) -> None:
        self.pack = pack
        self.pack_s = self.unpack_s = 0.0

    def stored(self, data: bytes | None, source: bytes) -> int:
        """Bytes the archive writes: the packed choice, or the source where that is smaller
        or nothing lossy met the floor (a JPEG source: packed too)."""
        own = self.size(source)
        return own if data is None else min(self.size(data), own)

    def size(self, data: bytes) -> int:
        if not is_jpeg(data):
            return len(data)
        t = time.perf_counter()
        p = packed(data, self.pack)
        self.pack_s += time.perf_counter() - t
        if p.fields.get("packed"):
            t = time.perf_counter()
            unpack_jpeg(p.data, self.pack)
            self.unpack_s += time.perf_counter() - t
        return len(p.data)


def run(
    data: list[str],
    floors: list[float],
    models: list[str],
    limit: int | None = None,
    pack: str | None = None,
    metric: str = "psnr",
) -> dict[str, Any]:
    """``metric``: what the floors are in (``psnr``, ``ssim``, ``ssimulacra2``); every way is
    searched to it and every file meets it on the whole image."""
    require(pack)
    images = load_images(data, limit)
    if not images:
        raise ValueError(f"no images under {data}")
    rescalers = {m: FrameRescaler(build_model(m)) for m in models}  # name or name@weights
    crop = images[0][1].rgb[:64, :64]  # each runtime compiles once per process, not per file:
    for r in rescalers.values():  # not in the times below, as in a long archive
        r.up(r.down(crop), r.metadata(crop.shape[1], crop.shape[0]), 75)
    jpegli = "jpegli" in list_codecs()
    ways = ["jpeg-4:2:0", "jpeg", "jpeg-fine"] + (["jpegli"] if jpegli else []) + models
    ways += ["choice"]
    ways += ["choice+jpegli"] if jpegli else []
    ways += ([f"choice+{pack}"] + ([f"choice+jpegli+{pack}"] if jpegli else [])) if pack else []
    megapixels = sum(img.size[0] * img.size[1] for _, img in images) / 1e6
    rows: list[dict[str, Any]] = []
    for floor in floors:
        packing = {w: _Packing(pack) for w in ways if pack and w.endswith(f"+{pack}")}
        total = dict.fromkeys(ways, 0)
        met = dict.fromkeys(ways, 0)
        paths: dict[str, int] = {}
        t_choice = t_fixed = 0.0
        worst = float("inf")
        for path, img in images:
            source_data = Path(path).read_bytes()
            source = len(source_data)  # stored unchanged
            sub = smallest_bytes(img, floor, "jpeg", metric=metric, fine=False)
            full = smallest_bytes(img, floor, "jpeg", "4:4:4", metric=metric, fine=False)
            fine = [
                smallest_bytes(img, floor, "jpeg", ch, metric=metric) for ch in ("4:2:0", "4:4:4")
            ]
            got: dict[str, int | None] = {
                "jpeg-4:2:0": sub,
                "jpeg": min((b for b in (sub, full) if b is not None), default=None),
                "jpeg-fine": min((b for b in fine if b is not None), default=None),
            }
            if jpegli:
                got["jpegli"] = smallest_bytes(img, floor, "jpegli", metric=metric)
            for m in models:
                got[m] = smallest_bytes(img, floor, "jpeg", rescaler=rescalers[m], metric=metric)
            t = time.perf_counter()
            c = choose(img, Target(metric, floor, models=tuple(models)), rescalers)
            t_choice += time.perf_counter() - t
            t_fixed += _fixed_verify_seconds(img, rescalers[models[0]], 75)
            got["choice"] = None if c.data is None else len(c.data)
            key = "unchanged" if c.data is None else f"{c.codec}@{c.model or 'full'}"
            paths[key] = paths.get(key, 0) + 1
            worst = min(worst, _value(c, metric))
            if jpegli:
                cj = choose(
                    img,
                    Target(metric, floor, codecs=("jpeg", "jpegli"), models=tuple(models)),
                    rescalers,
                )
                got["choice+jpegli"] = None if cj.data is None else len(cj.data)
            if pack:
                got[f"choice+{pack}"] = packing[f"choice+{pack}"].stored(c.data, source_data)
                if jpegli:
                    w = f"choice+jpegli+{pack}"
                    got[w] = packing[w].stored(cj.data, source_data)
            for w in ways:
                total[w] += got[w] if got[w] is not None else source
                met[w] += got[w] is not None
        n = len(images)
        rows.append(
            {
                "floor": floor,
                "bytes": total,
                "files_meeting_floor": met,
                "vs_jpeg": {w: total[w] / total["jpeg"] for w in ways},
                "paths": paths,
                "worst_choice": worst,  # in the floors' metric
                "seconds_per_image_choice": t_choice / n,
                "seconds_per_image_fixed_verify": t_fixed / n,
            }
        )
        if pack:
            rows[-1].update(
                packed_vs_unpacked={
                    w: total[f"{w}+{pack}"] / total[w]
                    for w in ("choice", "choice+jpegli")
                    if f"{w}+{pack}" in total
                },
                # the JPEG-only choice's files: packing with its check, and unpacking
                pack_seconds_per_mp=packing[f"choice+{pack}"].pack_s / megapixels,
                unpack_seconds_per_mp=packing[f"choice+{pack}"].unpack_s / megapixels,
            )
    return {
        "data": data,
        "images": len(images),
        "models": models,
        "pack": pack,
        "metric": metric,
        "megapixels": megapixels,
        "ways": ways,
        "rows": rows,
        "capability": capability(),
        "env": environment(),
    }


def _value(c, metric: str) -> float:
    """The chosen file's value in ``metric`` (a source stored unchanged: the best there is)."""
    if c.data is None:
        return {"psnr": float("inf"), "ssim": 1.0}.get(metric, 100.0)
    return {"psnr": c.psnr, "ssim": c.ssim}.get(metric, c.ssimulacra2)


def _worst(row: dict[str, Any]) -> float:
    return row.get("worst_choice", row.get("worst_psnr_choice", float("nan")))


def format_table(res: dict[str, Any]) -> str:
    ways = res["ways"]
    head = f"{'floor':>6} " + " ".join(f"{w:>14}" for w in ways)
    metric = res.get("metric", "psnr")
    lines = [f"{res['images']} images, {metric} floors; total KB (share of plain JPEG)", head]
    for r in res["rows"]:
        cells = [f"{r['bytes'][w] / 1e3:8.1f} ({100 * r['vs_jpeg'][w]:3.0f}%)" for w in ways]
        lines.append(f"{r['floor']:6.1f} " + " ".join(f"{c:>14}" for c in cells))
    lines.append("")
    lines.append(
        f"{'floor':>6} {'paths (JPEG-only choice)':<44} {'worst':>6} {'s/img':>6} "
        f"{'fixed':>6} {'ratio':>6}"
    )
    for r in res["rows"]:
        paths = ", ".join(f"{n} {k}" for k, n in sorted(r["paths"].items()))
        tc, tf = r["seconds_per_image_choice"], r["seconds_per_image_fixed_verify"]
        lines.append(
            f"{r['floor']:6.1f} {paths:<44} {_worst(r):6.2f} {tc:6.2f} {tf:6.2f} {tc / tf:6.2f}"
        )
    if res.get("pack"):
        lines += [
            "",
            f"{'floor':>6} {'packed / unpacked':<34} {'pack s/MP':>9} {'unpack s/MP':>11}",
        ]
        for r in res["rows"]:
            shares = ", ".join(f"{w} {100 * v:.1f} %" for w, v in r["packed_vs_unpacked"].items())
            lines.append(
                f"{r['floor']:6.1f} {shares:<34} {r['pack_seconds_per_mp']:9.3f} "
                f"{r['unpack_seconds_per_mp']:11.3f}"
            )
    return "\n".join(lines)


def plot(res: dict[str, Any], path: str | Path) -> bool:
    plt = pyplot()
    if plt is None:
        return False
    fig, ax = plt.subplots(figsize=(6.5, 4.3), dpi=110)
    floors = [r["floor"] for r in res["rows"]]
    for w in res["ways"]:
        ax.plot(floors, [100 * r["vs_jpeg"][w] for r in res["rows"]], marker="o", label=w)
    ax.set_xlabel(
        {"psnr": "PSNR floor per image (dB, RGB)", "ssim": "SSIM floor per image"}.get(
            res.get("metric", "psnr"), "SSIMULACRA2 floor per image"
        )
    )
    ax.set_ylabel("total bytes, % of plain JPEG (per-image quality search)")
    ax.set_title(f"archive bytes at a floor ({res['images']} images)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return save_figure(fig, path)
