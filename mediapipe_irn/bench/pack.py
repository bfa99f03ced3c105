"""Lossless packing benchmark: a folder of camera-like JPEGs (made from the given photos with
libjpeg-turbo at quality 90–95, 4:2:0, standard Huffman tables as cameras write them, a camera
EXIF block) archived with ``archive --lossless --pack jxl`` and restored; reports the stored
share of the source bytes, whether every file came back byte for byte (sha256), and the seconds
packing (with its byte-exact check) and unpacking take per megapixel, each timed alone on one
thread."""

from __future__ import annotations

import hashlib
import io
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

from ..codecs.pack import pack_jpeg, require, unpack_jpeg
from ..jobs import ArchiveConfig, archive, restore
from ..pipeline.execution import capability
from .common import environment, image_files

QUALITIES = (90, 91, 92, 93, 94, 95)


def camera_exif(i: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "mediapipe-irn bench"  # Make
    exif[0x0110] = "camera-like JPEG"  # Model
    exif[0x0132] = f"2026:01:{1 + i % 28:02d} 12:00:00"  # DateTime
    exif[0x0112] = 1  # Orientation
    return exif.tobytes()


def camera_jpeg(path: str | Path, i: int) -> bytes:
    """The photo at ``path`` as a camera-like JPEG (quality from :data:`QUALITIES` by ``i``)."""
    rgb = Image.open(path).convert("RGB")
    buf = io.BytesIO()
    q = QUALITIES[i % len(QUALITIES)]
    rgb.save(buf, "JPEG", quality=q, optimize=False, subsampling=2, exif=camera_exif(i))
    return buf.getvalue()


def _timed(fn, *args) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def run(data: list[str], limit: int | None = None, pack: str = "jxl") -> dict[str, Any]:
    require(pack)
    files = image_files(data, limit)
    if not files:
        raise ValueError(f"no images under {data}")
    with tempfile.TemporaryDirectory(prefix="mpirn-pack-") as tmp:
        src, dest, out = Path(tmp, "src"), Path(tmp, "archive"), Path(tmp, "restored")
        src.mkdir()
        pixels = pack_s = unpack_s = 0.0
        for i, f in enumerate(files):
            jpeg = camera_jpeg(f, i)
            (src / f"{Path(f).stem}.jpg").write_bytes(jpeg)
            w, h = Image.open(io.BytesIO(jpeg)).size
            pixels += w * h
            packed, t = _timed(pack_jpeg, jpeg, pack)
            pack_s += t
            unpack_s += _timed(unpack_jpeg, packed, pack)[1]
        cfg = ArchiveConfig(lossless=True, pack=pack, workers=1, threads_per_worker=1)
        a, t_archive = _timed(lambda: archive(src, dest, cfg, progress=False))
        r, t_restore = _timed(lambda: restore(dest, out, progress=False))
        exact = sum(
            hashlib.sha256(p.read_bytes()).digest()
            == hashlib.sha256((out / p.name).read_bytes()).digest()
            for p in src.iterdir()
            if (out / p.name).is_file()
        )
    mp = pixels / 1e6
    return {
        "data": data,
        "files": len(files),
        "qualities": list(QUALITIES),
        "pack": pack,
        "source_bytes": a.bytes_in,
        "stored_bytes": a.bytes_out,
        "stored_share": a.bytes_out / a.bytes_in,
        "archived": a.done,
        "restored": r.done,
        "byte_exact": exact,
        "megapixels": mp,
        "pack_seconds_per_mp": pack_s / mp,
        "unpack_seconds_per_mp": unpack_s / mp,
        "archive_seconds": t_archive,
        "restore_seconds": t_restore,
        "capability": capability(),
        "env": environment(),
    }


def format_table(res: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"{res['files']} camera-like JPEGs (quality {res['qualities'][0]}-"
            f"{res['qualities'][-1]}, standard Huffman tables, EXIF), {res['megapixels']:.1f} MP",
            f"archive --lossless --pack {res['pack']}: {res['source_bytes'] / 1e6:.2f} MB → "
            f"{res['stored_bytes'] / 1e6:.2f} MB ({100 * res['stored_share']:.1f} % of the "
            f"sources); {res['byte_exact']} of {res['files']} restored byte for byte",
            f"pack {res['pack_seconds_per_mp']:.3f} s/MP (with its check), unpack "
            f"{res['unpack_seconds_per_mp']:.3f} s/MP; archive job {res['archive_seconds']:.1f} s, "
            f"restore job {res['restore_seconds']:.1f} s",
        ]
    )
