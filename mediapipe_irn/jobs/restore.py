"""Reading an archive back: ``restore`` (to full size, into a new folder) and ``verify``.

The manifest and the stored files are untrusted input here. Every path is resolved and must
stay inside the archive (stored files) or OUT (restored files); every stored file's size and
sha256 are checked against the manifest before it is decoded; one bad file is a recorded
failure and the rest go on. ``restore`` never writes inside the archive or any source folder
recorded in it, and never replaces an existing file unless ``force`` is given.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from ..api import decode_lr
from ..codecs import get_codec
from ..codecs.pack import INSTALL, available, unpack_jpeg
from ..errors import (
    CodecError,
    DiskFullError,
    InputError,
    IntegrityError,
    MetadataError,
    OutputError,
    describe,
)
from ..metrics import mse_u8
from ..pipeline.execution import FLOAT32
from ..pipeline.images import ImageData, decode_image, encode_image
from ..pipeline.output import atomic_write, clean_temporaries, is_temporary
from .archive import SOURCES_KEY, ArchiveSummary, progress_bar
from .engines import JobInterrupted, interruptible
from .lock import LOCK_NAME, archive_lock
from .manifest import MANIFEST_NAME, FileRecord, Manifest
from .search import lowest

_SAVE_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
}
_OWN_FILES = (
    MANIFEST_NAME,
    MANIFEST_NAME + "-wal",
    MANIFEST_NAME + "-shm",
    MANIFEST_NAME + "-journal",
    LOCK_NAME,
)


@dataclass(frozen=True)
class RestoreConfig:
    format: str = "auto"  # auto (the source's own format) | png | jpeg
    quality: int = 95  # for JPEG output
    pattern: str | None = None  # glob over relative paths
    weights: str | None = None
    force: bool = False  # replace existing files in OUT
    lossless: bool = False  # videos: lossless H.264 (4:4:4) instead of CRF 18
    stored: bool = False  # the stored files themselves, unpacked (ordinary JPEGs), no model


def inside(root: Path, rel: str | None, what: str) -> Path:
    """``root / rel`` resolved, refusing a path that is absolute, climbs out with ``..`` or
    leaves ``root`` through a symbolic link."""
    if not rel:
        raise IntegrityError(f"manifest row has no {what}")
    pp = PurePosixPath(rel)
    dots = rel in (".", "") or any(part in (".", "") for part in rel.split("/"))
    if pp.is_absolute() or ".." in pp.parts or "\\" in rel or "\0" in rel or dots:
        raise IntegrityError(f"manifest {what} {rel!r} leaves its folder; refused")
    p = root / pp
    try:
        resolved = p.resolve()
    except (OSError, RuntimeError) as exc:
        raise IntegrityError(f"{what} {rel!r}: cannot resolve ({exc})") from None
    if not resolved.is_relative_to(root.resolve()):
        raise IntegrityError(f"{what} {rel!r} resolves outside its folder ({resolved}); refused")
    return p


def read_checked(dest: Path, rel: str | None, sha256: str | None) -> bytes:
    """A stored file's bytes, after checking them against the manifest's sha256."""
    path = inside(dest, rel, "stored path")
    if not path.is_file():
        raise IntegrityError(f"stored file {rel} is missing")
    data = path.read_bytes()
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise IntegrityError(
            f"stored file {rel} does not match its recorded sha256 (corrupted or replaced)"
        )
    return data


def read_stored(dest: Path, r: FileRecord) -> tuple[bytes, int]:
    """The row's stored file as it was written before packing (read, checked against its
    sha256, and where packed, unpacked and checked against the JPEG's sha256), and the
    bytes read from the archive."""
    data = read_checked(dest, r.stored_path, r.stored_sha256)
    if not r.packed:
        return data, len(data)
    try:
        jpeg = unpack_jpeg(data, r.packed)
    except CodecError as exc:
        raise IntegrityError(f"stored file {r.stored_path}: {exc}") from None
    if r.jpeg_sha256 is None or hashlib.sha256(jpeg).hexdigest() != r.jpeg_sha256:
        raise IntegrityError(
            f"stored file {r.stored_path} does not unpack to the JPEG the archive recorded"
        )
    return jpeg, len(data)


def require_unpacking(recs: list[FileRecord], archive_dir: Path) -> None:
    """Refuse, before anything is read or written, an archive with packed files where they
    cannot be unpacked."""
    n = sum(1 for r in recs if r.packed)
    if n and not all(available(p) for p in {r.packed for r in recs if r.packed}):
        raise InputError(
            f"{archive_dir}: {n} stored files are packed with JPEG XL and cannot be unpacked "
            f"here; install the packer first: {INSTALL}"
        )


def _identity(p: Path) -> tuple[int, int] | None:
    try:
        st = p.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _folders_up(p: Path) -> list[tuple[int, int]]:
    """(device, inode) of ``p`` (or its nearest existing ancestor) and of every folder above:
    a bind mount or another path to one folder has the same identity."""
    p = p.resolve()
    return [i for q in [p, *p.parents] if (i := _identity(q)) is not None]


def recorded_sources(man: Manifest) -> list[str]:
    """The source folders the manifest records; a damaged entry is an :class:`IntegrityError`."""
    raw = man.get_meta(SOURCES_KEY) or "[]"
    try:
        known = json.loads(raw)
    except ValueError:
        known = None
    if not isinstance(known, list) or not all(isinstance(k, str) for k in known):
        raise IntegrityError(f"{man.path}: its record of source folders is damaged ({raw[:60]!r})")
    return known


def _check_out(dest: Path, out: Path, man: Manifest) -> None:
    """Refuse an OUT that is, contains or lies inside the archive or a source folder, by path
    and by file identity (device and inode), so no other path to them gets through."""
    roots = [("the archive", dest)] + [("archived source", Path(s)) for s in recorded_sources(man)]
    o = out.resolve()
    out_up = _folders_up(o)
    for what, r in roots:
        r = r.resolve()
        rid = _identity(r)
        inside_r = rid is not None and rid in out_up
        contains_r = o.exists() and (oid := _identity(o)) is not None and oid in _folders_up(r)
        if o == r or o.is_relative_to(r) or r.is_relative_to(o) or inside_r or contains_r:
            raise OutputError(
                f"OUT {out} is, contains or lies inside {what} {r}; restore into a separate folder"
            )


def _restore_one(
    dest: Path, out: Path, r: FileRecord, cfg: RestoreConfig
) -> tuple[Path, bytes, int]:
    """(target path, payload, stored bytes read) for one row; raises on any problem."""
    data, n = read_stored(dest, r)
    target = inside(out, r.rel_path, "source path")
    if r.codec is None:  # stored unchanged
        return target, data, n
    if r.model is None:  # the plain codec at full size: an ordinary image file
        dec = get_codec(r.codec).decode(data)
        img = ImageData(dec.frames[0], icc=dec.icc, exif=dec.exif)
    else:
        try:
            # float32: the pixels the archive measured (or within BF16_MARGIN of them)
            img, _, _ = decode_lr(data, r.jpeg_path or "", None, cfg.weights, r.codec, FLOAT32)
        except MetadataError as exc:
            found = f" (found {exc.found!r})" if getattr(exc, "found", None) else ""
            raise IntegrityError(
                f"stored file {r.stored_path} has no usable mediapipe-irn restore "
                f"metadata{found}: damaged or replaced"
            ) from None
    alpha = None
    if r.alpha_path:
        ad = read_checked(dest, r.alpha_path, r.alpha_sha256)
        n += len(ad)
        alpha = decode_image(ad, r.alpha_path).rgb[..., 0]
        if alpha.shape != img.rgb.shape[:2]:
            raise IntegrityError(f"alpha {r.alpha_path} does not match the image's size")
    if r.stored_sha256 is None and r.stored_bytes is not None and n != r.stored_bytes:
        raise IntegrityError(
            f"stored files of {r.rel_path} are {n} bytes, the manifest says {r.stored_bytes}"
        )
    ext = Path(r.rel_path).suffix.lower()
    if cfg.format == "auto":
        fmt = _SAVE_FORMATS.get(ext, "PNG")
        if alpha is not None and fmt in ("JPEG", "BMP"):
            fmt, target = "PNG", inside(out, r.rel_path + ".png", "source path")
    else:
        # JPEG cannot hold alpha: such files come back as PNG, named so
        fmt = "PNG" if cfg.format == "png" or alpha is not None else "JPEG"
        new_ext = ".png" if fmt == "PNG" else ".jpg"
        if ext != new_ext:
            target = inside(out, r.rel_path + new_ext, "source path")
    if r.model is None and alpha is None and _SAVE_FORMATS.get(Path(r.jpeg_path).suffix) == fmt:
        return target, data, n  # already a file of the wanted format: no second generation
    img = replace(img, alpha=alpha)
    if fmt == "JPEG":
        jpeg = jpeg_keeping(img, r, cfg.quality)
        if jpeg is not None:
            return target, jpeg, n
        if cfg.format == "jpeg":  # asked for by name: a JPEG, said to break the promise
            warnings.warn(
                f"a JPEG at quality {cfg.quality} may fall under the archive's promise "
                f"({r.target}); --format auto writes such files losslessly",
                stacklevel=2,
            )
            return target, encode_image(img, "JPEG", cfg.quality), n
        warnings.warn(
            f"written losslessly as {Path(r.rel_path).name}.png: a JPEG of the restored image "
            f"would fall under the archive's promise ({r.target})",
            stacklevel=2,
        )
        fmt, target = "PNG", inside(out, r.rel_path + ".png", "source path")
    return target, encode_image(img, fmt, cfg.quality), n


# a restoration measured in bfloat16 may come out this much lower in float32 (what restore
# runs): the most of jobs.target.BF16_MARGIN
RESTORE_SLACK_DB = 0.05


def _rmse(db: float) -> float:
    return 255.0 / 10 ** (db / 20)


def jpeg_keeping(img: ImageData, r: FileRecord, quality: int) -> bytes | None:
    """The restored ``img`` as a JPEG that keeps the row's promise, or None where none can.

    A row stored under a PSNR floor ``f`` promises RMSE(out, source) ≤ rmse(f); the restored
    image is at ``r.psnr`` (less :data:`RESTORE_SLACK_DB`). By the triangle inequality the JPEG
    keeps the promise wherever RMSE(jpeg, restored) ≤ rmse(f) − rmse(r.psnr): the lowest
    quality from ``quality`` up that stays within that is written. A row without a promise is
    written at ``quality``; an SSIM promise has no such bound (None: written losslessly)."""
    if r.target is None or r.psnr is None or math.isinf(r.psnr):
        return encode_image(img, "JPEG", quality)
    metric, _, value = r.target.partition(">=")
    if metric != "psnr":
        return None
    budget = _rmse(float(value)) - _rmse(r.psnr - RESTORE_SLACK_DB)
    if budget <= 0:
        return None
    files: dict[int, bytes] = {}

    def within(q: int) -> bool:
        files[q] = encode_image(img, "JPEG", q)
        out = decode_image(files[q]).rgb
        return math.sqrt(mse_u8(out, img.rgb)) <= budget

    q = lowest(within, min(quality, 100), 100)
    return None if q is None else files[q]


def _as_stored(dest: Path, out: Path, r: FileRecord) -> list[tuple[Path, bytes]]:
    """``restore --jpeg``: each stored file itself, unpacked, under its stored name (a source
    stored unchanged: under its own), its alpha channel beside it; no model runs."""
    data, _ = read_stored(dest, r)
    name = r.rel_path if r.codec is None else r.jpeg_path
    files = [(inside(out, name, "stored path"), data)]
    if r.alpha_path:
        alpha = read_checked(dest, r.alpha_path, r.alpha_sha256)
        files.append((inside(out, r.alpha_path, "stored path"), alpha))
    return files


def _restore_video(
    dest: Path, out: Path, r: FileRecord, cfg: RestoreConfig
) -> tuple[Path, bytes | None, int]:
    """A clip: full-size ones come back as stored; model ones are restored to full size
    (H.264 at CRF 18, or lossless 4:4:4 with ``lossless``). Payload None: written here."""
    from .transcode import VideoDecodeConfig, decode_video
    from .video_archive import restored_name

    data = read_checked(dest, r.stored_path, r.stored_sha256)
    target = inside(out, restored_name(r.rel_path), "source path")
    if r.model is None:
        return target, data, len(data)
    if target.exists() and not cfg.force:
        raise OutputError(f"{target} exists; --force replaces it")
    target.parent.mkdir(parents=True, exist_ok=True)
    stored = inside(dest, r.stored_path, "stored path")
    decode_video(stored, target, VideoDecodeConfig(lossless=cfg.lossless, weights=cfg.weights))
    return target, None, len(data)


def _decode_clip(stored: Path, r: FileRecord) -> None:
    """``verify --deep`` on a clip: every frame decodes, and a model path's first frame
    restores to the source's size."""
    from ..pipeline.rescale import FrameRescaler
    from ..pipeline.video import open_input
    from .transcode import read_video_metadata

    meta = read_video_metadata(stored) if r.model is not None else None
    first = None
    try:
        with open_input(stored) as inp:
            for frame in inp.decode(video=0):
                if first is None:
                    first = frame.to_ndarray(format="rgb24")
    except Exception as exc:  # noqa: BLE001 - FFmpeg's errors, whatever their class
        raise IntegrityError(
            f"stored clip {r.stored_path} does not decode: {describe(exc)}"
        ) from None
    if first is None:
        raise IntegrityError(f"stored clip {r.stored_path} holds no decodable frame")
    if meta is not None:
        out = FrameRescaler.for_metadata(meta, video=True).up(first, meta)
        if r.width and r.height and out.shape[:2] != (r.height, r.width):
            raise IntegrityError(
                f"stored clip {r.stored_path} restores to {out.shape[1]}×{out.shape[0]}, "
                f"its source was {r.width}×{r.height}"
            )


def orphans(dest: Path, recs: list[FileRecord]) -> list[str]:
    """Files in the archive folder that no manifest row names (the tool's own aside)."""
    named = {n for r in recs for n, _ in r.stored_files()}
    out = []
    for p in sorted(dest.rglob("*")):
        rel = p.relative_to(dest).as_posix()
        aside = rel.startswith(MANIFEST_NAME + ".damaged-")  # kept by `rebuild`
        if p.is_dir() or rel in _OWN_FILES or is_temporary(p) or rel in named or aside:
            continue
        out.append(rel)
    return out


def _open_archive(dest: Path) -> Path:
    mpath = dest / MANIFEST_NAME
    if not mpath.is_file():
        raise InputError(f"{dest} is not an archive (no {MANIFEST_NAME})")
    return mpath


def restore(
    archive_dir: str | Path,
    out: str | Path,
    cfg: RestoreConfig = RestoreConfig(),
    progress: bool = True,
) -> ArchiveSummary:
    """Restore the archive in ``archive_dir`` to full size under ``out`` (relative paths kept).
    The archive is read under its shared lock from start to end: no archive job changes it
    meanwhile. A rerun into the same OUT counts the files it already wrote as restored."""
    dest, out = Path(archive_dir).resolve(), Path(out)
    mpath = _open_archive(dest)
    with archive_lock(dest, f"restore to {out}", shared=True), Manifest(mpath, True) as man:
        _check_out(dest, out, man)
        every = list(man.records())
        recs = [
            r
            for r in every
            if r.status == "done"
            and (cfg.pattern is None or fnmatch.fnmatch(r.rel_path, cfg.pattern))
        ]
        require_unpacking(recs, dest)
        if out.is_dir():
            clean_temporaries(out)  # what a killed restore left half-written
        unlisted = [
            (o, "in the archive but named by no manifest row: not restored (if the manifest "
             "lost rows, `mediapipe-irn rebuild` makes a new one from the stored files)")
            for o in orphans(dest, every)
        ]  # fmt: skip
        with interruptible():  # SIGTERM too: the file being written is cleaned up
            return _restore_rows(dest, out, recs, every, cfg, unlisted, progress)


def _restore_rows(
    dest: Path,
    out: Path,
    recs: list[FileRecord],
    every: list[FileRecord],
    cfg: RestoreConfig,
    unlisted: list[tuple[str, str]],
    progress: bool,
) -> ArchiveSummary:
    t0 = time.time()
    notes = [  # left out when archived (links, FIFOs): said again
        f"{r.rel_path}: not in the archive: {r.reason or 'left out'}"
        for r in every
        if r.status == "skipped"
        and (cfg.pattern is None or fnmatch.fnmatch(r.rel_path, cfg.pattern))
    ]
    s = dict(files=len(recs), done=0, skipped_done=0, failed=0, unsupported=0)
    s.update(bytes_in=0, bytes_out=0)
    failures = unlisted + [
        (r.rel_path, f"not in the archive: {r.status} when it was archived ({r.reason or '?'})")
        for r in every
        if r.status == "failed"
        and (cfg.pattern is None or fnmatch.fnmatch(r.rel_path, cfg.pattern))
    ]
    s["failed"] = len(failures)
    stopped = None
    for i, r in enumerate(recs, 1):
        try:
            n, size, again = _restore_row(dest, out, r, cfg, notes)
            s["done" if not again else "skipped_done"] += 1
            s["bytes_in"] += n
            s["bytes_out"] += size
        except JobInterrupted as exc:  # a rerun goes on from here
            stopped = exc.signum
            break
        except DiskFullError as exc:  # nothing after it can be written either
            s["failed"] += 1
            failures.append((r.rel_path, f"{exc}; restore stopped: free space and rerun"))
            break
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the restore
            s["failed"] += 1
            failures.append((r.rel_path, describe(exc)))
        if progress:
            progress_bar(i, len(recs), t0, r.rel_path)
    if progress and recs:
        print(file=sys.stderr)
    return ArchiveSummary(
        **s, seconds=time.time() - t0, failures=failures, warnings=notes, interrupted=stopped
    )


def _restore_row(
    dest: Path, out: Path, r: FileRecord, cfg: RestoreConfig, notes: list[str]
) -> tuple[int, int, bool]:
    """Restore one row: (stored bytes read, bytes written, whether OUT already held exactly
    this file from an earlier run)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if cfg.stored:
            files = _as_stored(dest, out, r)
            n = r.stored_bytes or 0
        elif r.codec == "h264":  # a clip: written by the video job itself
            target, payload, n = _restore_video(dest, out, r, cfg)
            files = [(target, payload)]
        else:
            target, payload, n = _restore_one(dest, out, r, cfg)
            files = [(target, payload)]
    notes += [f"{r.rel_path}: {w.message}" for w in caught]
    # the source's permission bits (never setuid/sticky bits from an untrusted manifest)
    mode = None if r.mode is None else r.mode & 0o777
    size, again = 0, True
    for target, payload in files:
        if payload is None:  # already written
            size += target.stat().st_size
            if mode is not None:
                target.chmod(mode)
        elif not cfg.force and target.is_file() and _same_bytes(target, payload):
            size += len(payload)  # a rerun: this very file is there
            continue
        else:
            atomic_write(target, payload, overwrite=cfg.force, mode=mode)
            size += len(payload)
        again = False
        if r.mtime is not None:  # the source's file time
            os.utime(target, (r.mtime, r.mtime))
    return n, size, again


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


@dataclass(frozen=True)
class VerifySummary:
    rows: int
    ok: int
    problems: list[tuple[str, str]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    not_archived: list[tuple[str, str]] = field(default_factory=list)  # failed at archive time

    @property
    def exit_code(self) -> int:
        """1 when a row is bad, a stored file is named by no row (an index that lost it) or
        a source failed to archive; else 0."""
        return 1 if self.problems or self.orphans or self.not_archived else 0


def verify(
    archive_dir: str | Path, deep: bool = False, weights: str | None = None
) -> VerifySummary:
    """Check every ``done`` row: paths inside the archive, stored files present with their
    recorded sha256 (a packed file also unpacked and checked); ``deep`` also decodes and
    restores each file (nothing is written). Stored files no row names, and rows that failed at
    archive time, are reported too. Reads under the archive's shared lock, writing nothing."""
    dest = Path(archive_dir).resolve()
    mpath = _open_archive(dest)
    with archive_lock(dest, "verify", shared=True), Manifest(mpath, True) as man:
        every = list(man.records())
        recs = [r for r in every if r.status == "done"]
        require_unpacking(recs, dest)
        problems: list[tuple[str, str]] = []
        for r in recs:
            try:
                _verify_row(dest, r, deep, weights)
            except Exception as exc:  # noqa: BLE001 - every problem is reported, none stops it
                problems.append((r.rel_path, describe(exc)))
        failed = [(r.rel_path, r.reason or "?") for r in every if r.status == "failed"]
        return VerifySummary(
            len(recs), len(recs) - len(problems), problems, orphans(dest, every), failed
        )


def _verify_row(dest: Path, r: FileRecord, deep: bool, weights: str | None) -> None:
    if r.stored_sha256 is None and r.codec is not None:
        raise IntegrityError("the manifest records no sha256 of its stored file: cannot be checked")
    if deep and r.codec == "h264":  # a clip: its file, decoded; a model path's first frame
        read_stored(dest, r)
        _decode_clip(inside(dest, r.stored_path, "stored path"), r)
    elif deep:  # checks the source path too; PNG: nothing to decide about the output format
        _restore_one(dest, dest / "_", r, RestoreConfig(format="png", weights=weights))
    else:
        inside(dest / "_", r.rel_path, "source path")
        read_stored(dest, r)  # a packed file: unpacked and checked too
        if r.alpha_path:
            read_checked(dest, r.alpha_path, r.alpha_sha256)


__all__ = [
    "RestoreConfig",
    "VerifySummary",
    "inside",
    "orphans",
    "read_stored",
    "restore",
    "verify",
]
