"""Storage-saving archival: a folder of images → a mirror tree of self-describing LR files and
a SQLite manifest; and the restore job back to full size.

Guarantees: nothing under SRC is opened for writing; every output goes to a temporary name in
its final folder and is renamed into place, then the manifest row is written in one
transaction; a rerun skips rows that are ``done`` with the same sha256, so a job killed at any
moment and rerun ends with every file archived exactly once. Workers (processes) read sources
and write outputs; only the driver writes the manifest.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import sys
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
from PIL import Image

from ..api import atomic_write, decode_lr, encode_lr
from ..codecs import get_codec
from ..errors import InputError, MediapipeIRNError, OutputError
from ..metrics import psnr, ssim
from ..models import create_model, get_spec
from ..pipeline.images import DEFAULT_MAX_PIXELS, READ_EXTENSIONS, ImageData, decode_image
from .manifest import MANIFEST_NAME, FileRecord, Manifest

PART_SUFFIX = ".part"


@dataclass(frozen=True)
class ArchiveConfig:
    model: str = "sain-x2"
    codec: str = "jpeg"
    quality: int | None = 75
    workers: int = 1  # 0: one per core, at most MAX_AUTO_WORKERS
    verify: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    weights: str | None = None
    threads_per_worker: int | None = None  # default: all cores / workers
    engine: str = "local"  # local (processes on this machine) | dask
    scheduler: str | None = None  # dask: scheduler address; None starts a local cluster
    refine: int = 0  # HCD steps per stage (0: off)
    precision: str = "auto"  # see mediapipe_irn.pipeline.execution


@dataclass(frozen=True)
class ArchiveSummary:
    files: int = 0
    done: int = 0
    skipped_done: int = 0
    failed: int = 0
    unsupported: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.bytes_in / self.bytes_out if self.bytes_out else 0.0


def min_side(scale: int) -> int:
    """Images with a side below this are stored unchanged (too small to rescale usefully)."""
    return 8 * scale


def stored_name(rel: str, ext: str) -> str:
    """``a/b.png`` → ``a/b.png.jpg``: the source extension stays, so names never collide."""
    return rel + ext


def walk_sources(src: Path, exclude: Path | None = None) -> Iterable[Path]:
    for root, dirs, files in os.walk(src):
        rp = Path(root)
        if exclude is not None:
            dirs[:] = [d for d in dirs if (rp / d).resolve() != exclude]
        dirs.sort()
        for f in sorted(files):
            yield rp / f


@functools.lru_cache(maxsize=4)
def _model(name: str, weights: str | None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_model(name, weights=weights)


MAX_AUTO_WORKERS = 8  # each worker holds a model and a tiled image (~0.5–1 GB)


def resolve_workers(cfg: ArchiveConfig) -> int:
    """``cfg.workers``, or for 0 one worker process per core (at most 8): on 2 cores, 2
    one-thread workers archived BSD68 1.14–1.24× faster than one two-thread process (README)."""
    if cfg.workers < 0:
        raise InputError(f"workers must be ≥ 0, got {cfg.workers}")
    return cfg.workers or min(os.cpu_count() or 1, MAX_AUTO_WORKERS)


def worker_threads(cfg: ArchiveConfig, workers: int) -> int:
    """Torch threads per worker process: ``--threads``, or this machine's cores shared out."""
    return cfg.threads_per_worker or max(1, (os.cpu_count() or 1) // max(1, workers))


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(max(1, threads))


def _init_pool_worker(threads: int, parent: int) -> None:
    """A local pool worker: :func:`_init_worker`, and exit once the job's process is gone.

    A worker waiting on the pool's task queue never sees the job die (it holds the queue's
    write end itself), so a SIGKILLed job would leave its workers running for good."""
    _init_worker(threads)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="mpirn-parent-watch").start()


def _verify(img: ImageData, data: bytes, name: str, codec: str,
            weights: str | None) -> tuple[float, float]:
    out, _, _ = decode_lr(data, name, None, weights, codec)
    return psnr(out.rgb, img.rgb), ssim(out.rgb, img.rgb)


def process_file(src_root: str, dest_root: str, rel: str, cfg: ArchiveConfig) -> FileRecord:
    """Archive one file (runs in a worker). Never raises for bad input: returns a record."""
    path = Path(src_root) / rel
    base = dict(rel_path=rel, model=cfg.model, codec=cfg.codec, quality=cfg.quality)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FileRecord(status="failed", reason=f"unreadable: {exc.strerror or exc}", **base)
    digest = hashlib.sha256(data).hexdigest()
    base.update(size=len(data), sha256=digest)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            img = decode_image(data, rel, cfg.max_pixels)
        notes = "; ".join(str(w.message) for w in caught) or None
        h, w = img.size
        base.update(width=w, height=h)
        spec = get_spec(cfg.model)
        dest = Path(dest_root)
        if min(h, w) < min_side(spec.scale):
            out_rel = stored_name(rel, "")  # stored unchanged, byte for byte
            atomic_write(dest / out_rel, data, overwrite=True)
            return FileRecord(status="done", stored_path=out_rel, stored_bytes=len(data),
                              reason="smaller than the minimum size: stored unchanged",
                              **{**base, "model": None, "codec": None, "quality": None})
        model = _model(cfg.model, cfg.weights)
        codec = get_codec(cfg.codec)
        lr_bytes, _ = encode_lr(model, img, cfg.codec, cfg.quality, refine=cfg.refine,
                                precision=cfg.precision)
        out_rel = stored_name(rel, codec.extension)
        alpha_rel = None
        total = len(lr_bytes)
        if img.alpha is not None:  # alpha is kept losslessly beside the colour
            buf = io.BytesIO()
            Image.fromarray(img.alpha, "L").save(buf, "PNG", optimize=True)
            alpha_rel = rel + ".alpha.png"
            atomic_write(dest / alpha_rel, buf.getvalue(), overwrite=True)
            total += len(buf.getvalue())
        atomic_write(dest / out_rel, lr_bytes, overwrite=True)
        p = s = None
        if cfg.verify:
            p, s = _verify(img, lr_bytes, out_rel, cfg.codec, cfg.weights)
        return FileRecord(status="done", stored_path=out_rel, stored_bytes=total,
                          alpha_path=alpha_rel, psnr=p, ssim=s, reason=notes, **base)
    except MediapipeIRNError as exc:
        return FileRecord(status="failed", reason=str(exc), **base)
    except (OSError, ValueError, MemoryError) as exc:
        return FileRecord(status="failed", reason=f"{type(exc).__name__}: {exc}", **base)


def _results(src: str, dest: str, todo: list[str], cfg: ArchiveConfig) -> Iterator[FileRecord]:
    """Run ``process_file`` over ``todo`` on the chosen engine; yield records as they finish."""
    if not todo:
        return
    if cfg.engine == "dask":
        from .dask_engine import run_on_dask

        yield from run_on_dask(src, dest, todo, cfg)
        return
    if cfg.engine != "local":
        raise InputError(f"unknown engine {cfg.engine!r} (local or dask)")
    workers = max(1, min(resolve_workers(cfg), len(todo)))
    threads = worker_threads(cfg, workers)
    if workers == 1:
        _init_worker(threads)
        for rel in todo:
            yield process_file(src, dest, rel, cfg)
        return
    with ProcessPoolExecutor(workers, initializer=_init_pool_worker,
                             initargs=(threads, os.getpid())) as pool:
        futs = [pool.submit(process_file, src, dest, rel, cfg) for rel in todo]
        for fut in futs:
            yield fut.result()


def _clean_partials(dest: Path) -> None:
    for p in dest.rglob(f"*{PART_SUFFIX}"):
        if p.name.startswith("."):
            p.unlink(missing_ok=True)


def _progress(done: int, total: int, t0: float, name: str) -> None:
    el = time.time() - t0
    eta = el / done * (total - done) if done else 0.0
    bar = "#" * int(30 * done / max(total, 1))
    print(f"\r[{bar:<30}] {done}/{total} {el:6.1f}s eta {eta:6.1f}s {name[-40:]:<40}",
          end="", file=sys.stderr, flush=True)


def archive(src: str | Path, dest: str | Path, cfg: ArchiveConfig = ArchiveConfig(),
            progress: bool = True,
            on_record: Callable[[FileRecord], None] | None = None) -> ArchiveSummary:
    """Archive every image under ``src`` into ``dest`` (resumable; see module docstring)."""
    src, dest = Path(src).resolve(), Path(dest).resolve()
    if not src.is_dir():
        raise InputError(f"source folder not found: {src}")
    if src == dest or src.is_relative_to(dest):
        raise OutputError("DEST must not be SRC or contain it")
    get_spec(cfg.model)
    get_codec(cfg.codec)
    dest.mkdir(parents=True, exist_ok=True)
    _clean_partials(dest)
    t0 = time.time()
    files = [p for p in walk_sources(src, dest) if p.is_file() and not p.is_symlink()]
    s = dict(files=len(files), done=0, skipped_done=0, failed=0, unsupported=0, bytes_in=0,
             bytes_out=0)
    failures: list[tuple[str, str]] = []
    with Manifest(dest / MANIFEST_NAME) as man:
        todo: list[str] = []
        for p in files:
            rel = p.relative_to(src).as_posix()
            if p.suffix.lower() not in READ_EXTENSIONS:
                s["unsupported"] += 1
                man.put(FileRecord(rel, "skipped", size=p.stat().st_size,
                                   reason=f"unsupported format ({p.suffix or 'no extension'})"))
                continue
            old = man.get(rel)
            if old is not None and old.status == "done" and old.size == p.stat().st_size \
                    and old.sha256 == hashlib.sha256(p.read_bytes()).hexdigest() \
                    and (dest / (old.stored_path or "")).is_file():
                s["skipped_done"] += 1
                s["bytes_in"] += old.size or 0
                s["bytes_out"] += old.stored_bytes or 0
                continue
            todo.append(rel)

        def record(rec: FileRecord, i: int) -> None:
            man.put(rec)
            if rec.status == "done":
                s["done"] += 1
                s["bytes_in"] += rec.size or 0
                s["bytes_out"] += rec.stored_bytes or 0
            else:
                s["failed"] += 1
                failures.append((rec.rel_path, rec.reason or ""))
            if on_record:
                on_record(rec)
            if progress:
                _progress(i, len(todo), t0, rec.rel_path)

        for i, rec in enumerate(_results(str(src), str(dest), todo, cfg), 1):
            record(rec, i)
        if progress and todo:
            print(file=sys.stderr)
    return ArchiveSummary(**s, seconds=time.time() - t0, failures=failures)


@dataclass(frozen=True)
class RestoreConfig:
    format: str = "auto"  # auto (the source's own format) | png | jpeg
    quality: int = 95  # for JPEG output
    pattern: str | None = None  # glob over relative paths
    weights: str | None = None


_SAVE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP",
                 ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}


def _encode_output(img: ImageData, alpha: np.ndarray | None, fmt: str, quality: int) -> bytes:
    if alpha is not None and fmt in ("JPEG", "BMP"):
        fmt = "PNG"
    if alpha is not None:
        im = Image.fromarray(np.dstack([img.rgb, alpha]), "RGBA")
    elif img.grey:
        im = Image.fromarray(img.rgb, "RGB").convert("L")
    else:
        im = Image.fromarray(img.rgb, "RGB")
    kw: dict = {}
    if img.icc and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        kw["icc_profile"] = img.icc
    if img.exif and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        kw["exif"] = img.exif
    if fmt in ("JPEG", "WEBP"):
        kw["quality"] = quality
    if fmt == "WEBP":
        kw["lossless"] = True
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def restore(dest: str | Path, out: str | Path, cfg: RestoreConfig = RestoreConfig(),
            progress: bool = True) -> ArchiveSummary:
    """Restore the archive in ``dest`` to full size under ``out`` (relative paths kept)."""
    import fnmatch

    dest, out = Path(dest), Path(out)
    mpath = dest / MANIFEST_NAME
    if not mpath.is_file():
        raise InputError(f"{dest} is not an archive (no {MANIFEST_NAME})")
    t0 = time.time()
    s = dict(files=0, done=0, skipped_done=0, failed=0, unsupported=0, bytes_in=0,
             bytes_out=0)
    failures = []
    with Manifest(mpath) as man:
        recs = [r for r in man.records("done")
                if cfg.pattern is None or fnmatch.fnmatch(r.rel_path, cfg.pattern)]
    s["files"] = len(recs)
    for i, r in enumerate(recs, 1):
        try:
            stored = dest / (r.stored_path or "")
            data = stored.read_bytes()
            s["bytes_in"] += len(data)
            rel = Path(r.rel_path)
            if r.model is None:  # stored unchanged
                target, payload = out / rel, data
            else:
                img, _, _ = decode_lr(data, str(stored), None, cfg.weights, r.codec)
                alpha = None
                if r.alpha_path:
                    alpha = np.asarray(Image.open(dest / r.alpha_path).convert("L"))
                ext = rel.suffix.lower()
                if cfg.format == "auto":
                    fmt, target = _SAVE_FORMATS.get(ext, "PNG"), out / rel
                    if alpha is not None and fmt in ("JPEG", "BMP"):
                        fmt, target = "PNG", out / (r.rel_path + ".png")
                else:
                    fmt = {"png": "PNG", "jpeg": "JPEG"}[cfg.format]
                    new_ext = ".png" if fmt == "PNG" else ".jpg"
                    target = out / (r.rel_path if ext == new_ext else r.rel_path + new_ext)
                payload = _encode_output(img, alpha, fmt, cfg.quality)
            atomic_write(target, payload, overwrite=True)
            s["done"] += 1
            s["bytes_out"] += len(payload)
        except (MediapipeIRNError, OSError, ValueError) as exc:
            s["failed"] += 1
            failures.append((r.rel_path, str(exc)))
        if progress:
            _progress(i, len(recs), t0, r.rel_path)
    if progress and recs:
        print(file=sys.stderr)
    return ArchiveSummary(**s, seconds=time.time() - t0, failures=failures)
