"""What an archive holds, per file: how each source is stored, the quality measured on the
whole file (PSNR, SSIM, SSIMULACRA2), its bytes against the source's and against the plain
codec under the same promise (where that was searched), and what failed or was left out.
Read-only."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import InputError
from .lock import archive_lock
from .manifest import MANIFEST_NAME, FileRecord, Manifest


def _finite(v: float | None) -> float | None:
    return None if v is None or math.isinf(v) else round(v, 3)


def row(r: FileRecord) -> dict[str, Any]:
    """One file's line of the report (JSON-ready)."""
    return {
        "file": r.rel_path,
        "status": r.status,
        "stored_as": r.path if r.status == "done" else None,
        "quality": r.quality,
        "promise": r.target,
        "psnr": _finite(r.psnr),
        "lossless": r.psnr is not None and math.isinf(r.psnr),
        "ssim": None if r.ssim is None else round(r.ssim, 5),
        "ssimulacra2": None if r.ssimulacra2 is None else round(r.ssimulacra2, 2),
        "source_bytes": r.size,
        "stored_bytes": r.stored_bytes if r.status == "done" else None,
        "packed": r.packed,
        "plain_bytes": r.plain_bytes,
        "note": r.reason,
    }


def report(archive_dir: str | Path) -> dict[str, Any]:
    """Every row of the archive in ``archive_dir``, and the totals."""
    dest = Path(archive_dir).resolve()
    mpath = dest / MANIFEST_NAME
    if not mpath.is_file():
        raise InputError(f"{dest} is not an archive (no {MANIFEST_NAME})")
    with archive_lock(dest, "report", shared=True), Manifest(mpath, readonly=True) as man:
        rows = [row(r) for r in man.records()]
    done = [r for r in rows if r["status"] == "done"]
    both = [r for r in done if r["plain_bytes"]]
    return {
        "archive": str(dest),
        "files": rows,
        "totals": {
            "files": len(rows),
            "done": len(done),
            "failed": sum(r["status"] == "failed" for r in rows),
            "left_out": sum(r["status"] == "skipped" for r in rows),
            "source_bytes": sum(r["source_bytes"] or 0 for r in done),
            "stored_bytes": sum(r["stored_bytes"] or 0 for r in done),
            # the saving against the plain codec, over the files searched both ways only
            "files_with_plain_search": len(both),
            "plain_bytes": sum(r["plain_bytes"] for r in both),
            "chosen_bytes": sum(r["stored_bytes"] or 0 for r in both),
        },
    }


def format_report(rep: dict[str, Any]) -> str:
    head = (
        f"{'file':<34} {'status':<7} {'stored as':<22} {'PSNR':>7} {'SSIM':>7} {'SSIMU2':>6} "
        f"{'source':>10} {'stored':>10} {'vs plain':>8}"
    )
    lines = [head]
    for r in rep["files"]:
        psnr = "lossless" if r["lossless"] else f"{r['psnr']:.2f}" if r["psnr"] else "-"
        ssim = f"{r['ssim']:.4f}" if r["ssim"] is not None else "-"
        s2 = f"{r['ssimulacra2']:.1f}" if r["ssimulacra2"] is not None else "-"
        vs = f"{100 * r['stored_bytes'] / r['plain_bytes']:.1f}%" if r["plain_bytes"] else "-"
        name = r["file"] if len(r["file"]) <= 34 else "…" + r["file"][-33:]
        src, stored = (
            f"{v:,}" if v is not None else "-" for v in (r["source_bytes"], r["stored_bytes"])
        )
        lines.append(
            f"{name:<34} {r['status']:<7} {r['stored_as'] or '-':<22} {psnr:>7} {ssim:>7} "
            f"{s2:>6} {src:>10} {stored:>10} {vs:>8}"
        )
        if r["status"] != "done" and r["note"]:
            lines.append(f"  {r['note'].splitlines()[0]}")
    t = rep["totals"]
    lines.append(
        f"{t['files']} files: {t['done']} stored, {t['failed']} failed, {t['left_out']} left out; "
        f"{t['source_bytes']:,} → {t['stored_bytes']:,} bytes"
    )
    if t["plain_bytes"]:
        lines.append(
            f"against the plain codec under the same promise ({t['files_with_plain_search']} "
            f"files searched both ways): {100 * t['chosen_bytes'] / t['plain_bytes']:.1f} %"
        )
    return "\n".join(lines)


__all__ = ["format_report", "report", "row"]
