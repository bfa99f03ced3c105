"""What one archive worker does with one source file (any engine runs this: the local process
pool, Dask). Workers read sources and write outputs atomically; they never write the manifest.
Stored names: :mod:`.stored`; videos: :mod:`.video_archive`."""

from __future__ import annotations

import functools
import io
import math
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image

from ..api import decode_lr, encode_lr
from ..codecs import get_codec
from ..errors import (
    DEBUG_ENV,
    DiskFullError,
    MediapipeIRNError,
    MultiFrameError,
    UnsupportedInputError,
    describe,
)
from ..metrics import psnr, ssim, ssimulacra2
from ..models import create_model, get_spec
from ..pipeline.images import DEFAULT_MAX_PIXELS, ImageData, decode_image, extra_metadata
from ..pipeline.media import is_image, is_video
from ..pipeline.output import atomic_write, output_error
from ..pipeline.rescale import FrameRescaler
from .manifest import FileRecord
from .stored import (
    Packed,
    alpha_name,
    full_name,
    lr_name,
    min_side,
    packed,
    sha256_of,
    stored_unchanged,
)
from .target import OPTIMIZE, Target, choose

# formats kept byte for byte that a photo archive meets most (the model path cannot read them)
RAW_KINDS = dict.fromkeys(
    (".heic", ".heif", ".avif", ".nef", ".dng", ".cr2", ".cr3", ".arw", ".orf", ".rw2", ".raf"),
    "camera file (HEIC/RAW)",
)
MAX_AUTO_WORKERS = 8  # each worker holds a model and a tiled image (~0.5–1 GB)


@dataclass(frozen=True)
class ArchiveConfig:
    model: str = "sain-x2"
    codec: str = "jpeg"
    quality: int | None = 75
    workers: int = 0  # 0: one process per core, at most MAX_AUTO_WORKERS
    verify: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    weights: str | None = None
    threads_per_worker: int | None = None  # default: all cores / workers
    engine: str = "local"  # local (processes on this machine) | dask
    scheduler: str | None = None  # dask: scheduler address; None starts a local cluster
    refine: int = 0  # HCD steps per stage (0: off)
    precision: str = "auto"  # see mediapipe_irn.pipeline.execution
    redo: bool = False  # archive again the files that are already done
    target: Target | None = None  # a quality floor or byte budget per file (jobs.target)
    video_model: str = "sain-x2-lite"  # the model path for videos (the video default)
    crf: int = 23  # videos without a PSNR floor
    pack: str | None = None  # "jxl": every stored JPEG packed losslessly (codecs.pack)
    lossless: bool = False  # every source stored byte for byte (JPEGs packed with ``pack``)
    others: bool = True  # a complete backup: files that are not media stored unchanged


def settings_key(cfg: ArchiveConfig, rel: str) -> str:
    """The settings that decide how ``rel`` is stored, as one string in its row: a rerun with
    other settings stores it again (never keeps a file made under another promise)."""
    import json

    common = {"pack": cfg.pack, "lossless": cfg.lossless}
    t = cfg.target
    if cfg.lossless or not (is_image(rel) or is_video(rel)):
        kind = {}
    elif is_video(rel):
        floor = t.describe() if t is not None and t.metric == "psnr" and t.floor else None
        kind = {"video_model": cfg.video_model, "target": floor}
        kind.update({} if floor else {"crf": cfg.crf})
    elif t is not None:
        kind = {"target": t.describe(), "codecs": list(t.codecs), "models": list(t.models)}
        kind.update({"weights": cfg.weights} if cfg.weights else {})
    else:
        kind = {"model": cfg.model, "codec": cfg.codec, "quality": cfg.quality}
        kind.update({"refine": cfg.refine, "weights": cfg.weights, "verify": cfg.verify})
    return json.dumps({**common, **kind}, sort_keys=True, separators=(",", ":"))


def check_config(cfg: ArchiveConfig) -> None:
    """Refuse settings no file could be stored under, before any file is touched."""
    from ..errors import InputError

    lo, hi = get_codec(cfg.codec).quality_range
    lossy = lo < hi  # a lossless codec (PNG) takes no quality
    if cfg.target is None and cfg.quality is not None and lossy and not lo <= cfg.quality <= hi:
        raise InputError(f"--quality must be in {lo}–{hi} for {cfg.codec}, got {cfg.quality}")
    if not 0 <= cfg.crf <= 51:
        raise InputError(f"--crf must be in 0–51, got {cfg.crf}")
    if cfg.max_pixels <= 0:
        raise InputError(f"--max-pixels must be positive, got {cfg.max_pixels}")
    if cfg.threads_per_worker is not None and cfg.threads_per_worker < 1:
        raise InputError(f"--threads must be at least 1, got {cfg.threads_per_worker}")
    if cfg.refine < 0:
        raise InputError(f"--refine must be ≥ 0, got {cfg.refine}")
    resolve_workers(cfg)
    get_spec(cfg.video_model)
    if cfg.target is not None:
        for m in cfg.target.models:
            get_spec(m)


def resolve_workers(cfg: ArchiveConfig) -> int:
    """``cfg.workers``, or for 0 one worker process per core (at most 8): on 2 cores, 2
    one-thread workers archived BSD68 1.14–1.24× faster than one two-thread process (README)."""
    from ..errors import InputError

    if cfg.workers < 0:
        raise InputError(f"workers must be ≥ 0, got {cfg.workers}")
    return cfg.workers or min(os.cpu_count() or 1, MAX_AUTO_WORKERS)


def worker_threads(cfg: ArchiveConfig, workers: int) -> int:
    """Torch threads per worker process: ``--threads``, or this machine's cores shared out."""
    return cfg.threads_per_worker or max(1, (os.cpu_count() or 1) // max(1, workers))


def init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(max(1, threads))


def init_pool_worker(threads: int, parent: int) -> None:
    """A local pool worker: :func:`init_worker`; it ignores SIGINT (the driver decides what
    an interrupt means) and exits once the job's process is gone.

    A worker waiting on the pool's task queue never sees the job die (it holds the queue's
    write end itself), so a SIGKILLed job would leave its workers running for good."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the driver's handler, inherited by fork
    init_worker(threads)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="mpirn-parent-watch").start()


@functools.lru_cache(maxsize=4)
def _model(name: str, weights: str | None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_model(name, weights=weights)


def _rescaler(name: str, cfg: ArchiveConfig) -> FrameRescaler:
    weights = cfg.weights if name == cfg.model else None
    return FrameRescaler(_model(name, weights), cfg.precision)


def verify_restored(
    img: ImageData, data: bytes, name: str, codec: str, weights: str | None = None
) -> tuple[float, float, float | None]:
    """(PSNR, SSIM, SSIMULACRA2) of ``data`` (a stored LR) restored, against the source."""
    out, _, _ = decode_lr(data, name, None, weights, codec)
    s2 = ssimulacra2(img.rgb, out.rgb) if min(out.rgb.shape[:2]) >= 8 else None
    return psnr(out.rgb, img.rgb), ssim(out.rgb, img.rgb), s2


def _store(
    dest: Path,
    rel: str,
    out_rel: str,
    payload: Packed,
    img: ImageData,
    base: dict,
    p: float | None,
    s: float | None,
    scale: int,
    notes: str | None,
) -> FileRecord:
    """Write the stored file (packed where asked) and the alpha channel beside it (lossless
    PNG); the row for them."""
    alpha_rel = alpha_sha = None
    total = len(payload.data)
    if img.alpha is not None:
        buf = io.BytesIO()
        Image.fromarray(img.alpha, "L").save(buf, "PNG", optimize=True)
        alpha_rel, alpha_sha = alpha_name(rel), sha256_of(buf.getvalue())
        atomic_write(dest / alpha_rel, buf.getvalue(), overwrite=True)
        total += len(buf.getvalue())
    out_rel = payload.name(out_rel)
    atomic_write(dest / out_rel, payload.data, overwrite=True)
    return FileRecord(
        status="done",
        stored_path=out_rel,
        stored_bytes=total,
        stored_sha256=sha256_of(payload.data),
        alpha_path=alpha_rel,
        alpha_sha256=alpha_sha,
        psnr=p,
        ssim=s,
        reason="; ".join(n for n in (notes, payload.note) if n) or None,
        scale=scale,
        **{**base, **payload.fields},
    )


def process_file(src_root: str, dest_root: str, rel: str, cfg: ArchiveConfig) -> FileRecord:
    """Archive one file (runs in a worker). Bad input is a returned record, never an
    exception; a full disk raises :class:`DiskFullError` (the job must stop)."""
    path = Path(src_root) / rel
    base = dict(
        rel_path=rel,
        model=cfg.model,
        codec=cfg.codec,
        quality=cfg.quality,
        settings=settings_key(cfg, rel),
    )
    try:
        data = path.read_bytes()
        st = path.stat()
        base.update(mode=st.st_mode & 0o777, mtime=st.st_mtime)
    except OSError as exc:
        return FileRecord(status="failed", reason=f"unreadable: {exc.strerror or exc}", **base)
    base.update(size=len(data), sha256=sha256_of(data))
    dest = Path(dest_root)
    if cfg.lossless:
        return _guarded(
            lambda: replace(
                stored_unchanged(dest, rel, data, base, "lossless: the source", cfg.pack),
                psnr=math.inf,
                ssim=1.0,
            ),
            dest,
            base,
        )
    if not (is_image(rel) or is_video(rel)):  # a complete backup: stored byte for byte
        kind = RAW_KINDS.get(Path(rel).suffix.lower(), "not an image or video")
        return _guarded(
            lambda: stored_unchanged(dest, rel, data, base, f"{kind}: stored unchanged", cfg.pack),
            dest,
            base,
        )
    if is_video(rel):
        from .video_archive import process_video

        return _guarded(lambda: process_video(path, dest, rel, cfg, base), dest, base)
    return _guarded(lambda: _process_image(dest, rel, data, cfg, base), dest, base)


def _process_image(dest: Path, rel: str, data: bytes, cfg: ArchiveConfig, base: dict) -> FileRecord:
    def unchanged(reason: str, ready: Packed | None = None) -> FileRecord:
        return stored_unchanged(dest, rel, data, base, reason, cfg.pack, ready)

    if Path(rel).suffix.lower() == ".gif":  # palette images: the model path cannot help
        return unchanged("GIF: stored unchanged")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            img = decode_image(data, rel, cfg.max_pixels)
        except MultiFrameError as exc:
            return unchanged(f"{exc}: stored unchanged, every frame kept")
    lost = extra_metadata(data)
    notes = (
        "; ".join(
            [str(w.message) for w in caught]
            + ([f"not kept in the stored file: {', '.join(lost)} of the source"] if lost else [])
        )
        or None
    )
    h, w = img.size
    base.update(width=w, height=h)
    if min(h, w) < min_side(get_spec(cfg.model).scale):
        return unchanged("smaller than the minimum size: stored unchanged")
    if cfg.target is not None:
        models = {m: _rescaler(m, cfg) for m in cfg.target.models}
        # packed, the source (a JPEG: its exact bytes back) competes at its packed size
        source = packed(data, cfg.pack)
        c = choose(img, cfg.target, models, None if source.fields else len(data))
        base.update(
            target=cfg.target.describe(),
            plain_bytes=c.plain_bytes,
            plain_quality=c.plain_quality,
        )
        chosen = None if c.data is None else packed(c.data, cfg.pack)
        if chosen is not None and source.fields and len(chosen.data) >= len(source.data):
            c, chosen = replace(c, data=None, note="the packed source is smaller"), None
        if chosen is None:  # lossless: the source itself
            note = c.note or "stored unchanged"
            return replace(unchanged(note, source), psnr=math.inf, ssim=1.0, ssimulacra2=100.0)
        ext = get_codec(c.codec).extension
        out_rel = full_name(rel, ext) if c.model is None else lr_name(rel, ext)
        scale = 1 if c.model is None else get_spec(c.model).scale
        base.update(model=c.model, codec=c.codec, quality=c.quality, chroma=c.chroma)
        base.update(ssimulacra2=c.ssimulacra2)
        return _store(dest, rel, out_rel, chosen, img, base, c.psnr, c.ssim, scale, notes)
    model = _model(cfg.model, cfg.weights)
    lr_bytes, _ = encode_lr(
        model,
        img,
        cfg.codec,
        cfg.quality,
        refine=cfg.refine,
        precision=cfg.precision,
        optimize=OPTIMIZE,
    )
    out_rel = lr_name(rel, get_codec(cfg.codec).extension)
    p = s = None
    if cfg.verify:
        p, s, base["ssimulacra2"] = verify_restored(img, lr_bytes, out_rel, cfg.codec, cfg.weights)
    stored = packed(lr_bytes, cfg.pack)
    return _store(dest, rel, out_rel, stored, img, base, p, s, model.scale, notes)


def _guarded(work: Callable[[], FileRecord], dest: Path, base: dict) -> FileRecord:
    """``work()``, with every error but a full disk turned into the file's row: a message a
    user can act on (:func:`..errors.describe`), the traceback too under ``--debug``."""
    try:
        return work()
    except DiskFullError:
        raise
    except UnsupportedInputError as exc:
        return FileRecord(status="skipped", reason=str(exc), **base)
    except MediapipeIRNError as exc:
        return FileRecord(status="failed", reason=str(exc), **base)
    except OSError as exc:
        err = output_error(dest, exc)
        if isinstance(err, DiskFullError):
            raise err from exc
        return FileRecord(status="failed", reason=_reason(exc), **base)
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the job
        return FileRecord(status="failed", reason=_reason(exc), **base)


def _reason(exc: BaseException) -> str:
    text = describe(exc)
    if os.environ.get(DEBUG_ENV):
        import traceback

        text += "\n" + "".join(traceback.format_exception(exc)).rstrip()
    return text


__all__ = [
    "ArchiveConfig",
    "check_config",
    "settings_key",
    "init_pool_worker",
    "init_worker",
    "process_file",
    "resolve_workers",
    "worker_threads",
]
