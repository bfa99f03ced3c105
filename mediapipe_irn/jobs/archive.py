"""Storage-saving archival: a folder of images → a mirror tree of self-describing LR files and
a SQLite manifest (restore and verify: :mod:`.restore`).

Guarantees (README "Guarantees"): nothing under SRC is opened for writing; every output goes
to a temporary name in its final folder and is renamed into place, then the manifest row is
written in one transaction; a rerun skips rows that are ``done`` with the same sha256, so a
job killed at any moment and rerun ends with every file archived exactly once. One job at a
time holds the archive's lock. SIGINT/SIGTERM stop the job within seconds (files in flight
finish or are discarded), a full disk stops it cleanly; both leave the manifest consistent.
Workers (processes) read sources and write outputs; only the driver writes the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..codecs import get_codec
from ..codecs.pack import PACKED_SUFFIX, require
from ..errors import DiskFullError, InputError, OutputError, describe
from ..models import get_spec
from ..pipeline.media import is_image, is_video
from ..pipeline.output import clean_temporaries
from .engines import Interrupts, JobInterrupted, interruptible, make_engine
from .lock import LOCK_NAME, archive_lock
from .manifest import MANIFEST_NAME, FileRecord, Manifest
from .stored import alpha_name, full_name, lr_name, orig_name
from .video_archive import video_ext
from .worker import ArchiveConfig, check_config, settings_key

SOURCES_KEY = "sources"


@dataclass(frozen=True)
class ArchiveSummary:
    files: int = 0
    done: int = 0
    skipped_done: int = 0
    failed: int = 0
    unsupported: int = 0  # recorded as skipped: not an image, multi-frame, symlink …
    bytes_in: int = 0
    bytes_out: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    interrupted: int | None = None  # the signal that stopped the job
    warnings: list[str] = field(default_factory=list)
    paths: dict[str, int] = field(default_factory=dict)  # files per stored path (jpeg@full …)
    worst_psnr: float | None = None  # the lowest PSNR recorded among the files
    worst_ssimulacra2: float | None = None  # the lowest SSIMULACRA2 recorded
    plain_bytes: int = 0  # the plain codec under the same promise, over the files that have it
    chosen_bytes: int = 0  # what the same files took

    @property
    def ratio(self) -> float:
        return self.bytes_in / self.bytes_out if self.bytes_out else 0.0

    @property
    def exit_code(self) -> int:
        """128 + signal when interrupted (130 SIGINT, 143 SIGTERM), 1 if any file failed."""
        if self.interrupted:
            return 128 + self.interrupted
        return 1 if self.failed else 0


def walk_sources(src: Path, exclude: Path | None = None) -> Iterable[Path]:
    """Every entry under ``src`` that is a file or a symbolic link (to anything), sorted;
    ``exclude`` (the archive itself when it lies inside SRC) is not walked."""
    for root, dirs, files in os.walk(src):
        rp = Path(root)
        links = [d for d in dirs if (rp / d).is_symlink()]
        dirs[:] = sorted(
            d for d in dirs if d not in links and (exclude is None or (rp / d).resolve() != exclude)
        )
        for f in sorted(files + links):
            yield rp / f


def _sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _not_archived(p: Path, src: Path, others: bool) -> str | None:
    """Why the entry ``p`` is not archived (a link, not a regular file; not media unless
    ``others``: a complete backup stores every other file unchanged), or None."""
    if p.is_symlink():
        return symlink_reason(p, src)
    try:
        mode = p.lstat().st_mode
    except OSError as exc:
        return f"cannot be read ({describe(exc)})"
    if not stat.S_ISREG(mode):  # a FIFO would block the reader for good
        kind = "FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "device"
        return f"not a regular file ({kind}): not archived"
    if not others and not (is_image(p) or is_video(p)):
        return f"not an image or video ({p.suffix or 'no extension'}): not archived (--media-only)"
    return None


def symlink_reason(p: Path, src: Path) -> str:
    try:
        target = p.resolve(strict=True)
    except (OSError, RuntimeError):
        return "broken or looping symbolic link: not followed"
    if not target.is_relative_to(src):
        return f"symbolic link to outside SRC ({target}): not followed"
    return "symbolic link inside SRC: its target is archived under its own name"


def progress_bar(done: int, total: int, t0: float, name: str) -> None:
    el = time.time() - t0
    eta = el / done * (total - done) if done else 0.0
    bar = "#" * int(30 * done / max(total, 1))
    print(
        f"\r[{bar:<30}] {done}/{total} {el:6.1f}s eta {eta:6.1f}s {name[-40:]:<40}",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _record_sources(man: Manifest, src: Path, dest: Path) -> None:
    """Record ``src`` as the archive's source folder; refuse a second, different one (its
    files would share stored names with the first's and replace them)."""
    from .restore import recorded_sources

    known = recorded_sources(man)
    others = [k for k in known if k != str(src)]
    if others:
        raise InputError(
            f"{dest} is the archive of {others[0]}; archive {src} into a folder of its own "
            "(one archive holds one source folder)"
        )
    if str(src) not in known:
        man.set_meta(SOURCES_KEY, json.dumps(known + [str(src)]))


def _names(rel: str, exts: list[str]) -> list[str]:
    """Every name the archive may store ``rel`` under (packed or not)."""
    out = [alpha_name(rel), orig_name(rel)]
    for ext in [video_ext(rel)] if is_video(rel) else exts:
        out += [lr_name(rel, ext), full_name(rel, ext)]
    return out + [n + suffix for n in out for suffix in PACKED_SUFFIX.values()]


def _drop_replaced(
    dest: Path, old: FileRecord | None, new: FileRecord, owner: dict[str, str]
) -> None:
    """After ``new`` replaced ``old`` in the manifest: delete the stored files of ``old`` that
    ``new`` does not name and no other source owns (the new copy is already in place)."""
    if old is None or new.status != "done":
        return
    keep = {n for n, _ in new.stored_files()}
    for name, _ in old.stored_files():
        if name and name not in keep and owner.get(name, new.rel_path) == new.rel_path:
            try:
                (dest / name).unlink(missing_ok=True)
            except OSError:
                pass  # an orphan is reported by verify; never worth failing the job


def archive(
    src: str | Path,
    dest: str | Path,
    cfg: ArchiveConfig = ArchiveConfig(),
    progress: bool = True,
    on_record: Callable[[FileRecord], None] | None = None,
) -> ArchiveSummary:
    """Archive every image under ``src`` into ``dest`` (resumable; see module docstring)."""
    src, dest = Path(src).resolve(), Path(dest).resolve()
    if not src.is_dir():
        raise InputError(f"source folder not found: {src}")
    if src == dest or src.is_relative_to(dest):
        raise OutputError("DEST must not be SRC or contain it")
    get_spec(cfg.model)
    check_config(cfg)  # before any file is touched
    require(cfg.pack)
    if cfg.lossless and cfg.target is not None:
        raise InputError("lossless stores every source as it is: it takes no quality target")
    codecs = cfg.target.codecs if cfg.target is not None else (cfg.codec,)
    exts = sorted({get_codec(c).extension for c in codecs})
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{dest}: cannot create the archive folder ({exc.strerror or exc})"
        ) from exc
    if not os.access(dest, os.W_OK | os.X_OK):
        raise OutputError(f"{dest}: archive folder is not writable")
    with (
        archive_lock(dest, f"archive {src}"),
        Manifest(dest / MANIFEST_NAME) as man,
        interruptible() as sig,
    ):
        try:
            clean_temporaries(dest)
            _record_sources(man, src, dest)
            return _run(src, dest, cfg, exts, man, sig, progress, on_record)
        except JobInterrupted as exc:  # before any file was dispatched
            return ArchiveSummary(interrupted=exc.signum)


def _run(
    src: Path,
    dest: Path,
    cfg: ArchiveConfig,
    exts: list[str],
    man: Manifest,
    sig: Interrupts,
    progress: bool,
    on_record: Callable[[FileRecord], None] | None,
) -> ArchiveSummary:
    t0 = time.time()
    files = list(walk_sources(src, dest))
    s = dict(
        files=len(files), done=0, skipped_done=0, failed=0, unsupported=0, bytes_in=0, bytes_out=0
    )
    failures: list[tuple[str, str]] = []
    todo: list[str] = []
    # folders of SRC, as the archive mirrors them: no stored file may take one's name
    folders = {q.as_posix() for p in files for q in p.relative_to(src).parents if q.parts}
    owner = {}  # stored name → the source that owns it (other rows, and this run's)
    for r in man.records():
        for name, _ in r.stored_files():
            owner[name] = r.rel_path
    for p in files:
        rel = p.relative_to(src).as_posix()
        why = _not_archived(p, src, cfg.others)
        old = man.get(rel)
        if why is not None:
            s["unsupported"] += 1
            if old is None or old.status != "done":  # an archived copy is never dropped
                man.put(FileRecord(rel, "skipped", size=p.lstat().st_size, reason=why))
            continue
        if old is not None and old.status == "done":
            try:  # a new size is a change: no need to read the file for that
                changed = old.size != p.stat().st_size or _sha256_file(p) != old.sha256
            except OSError as exc:
                s["failed"] += 1
                failures.append(
                    (rel, f"cannot be read ({describe(exc)}); the archived copy is kept")
                )
                continue
            if changed and not cfg.redo:
                s["failed"] += 1
                failures.append(
                    (
                        rel,
                        "changed since it was archived; the archived copy is kept "
                        "(--force archives the new content in its place)",
                    )
                )
                continue
            if (
                not cfg.redo
                and all((dest / n).is_file() for n, _ in old.stored_files())
                and old.settings == settings_key(cfg, rel)  # else stored again, as now asked
            ):
                s["skipped_done"] += 1
                s["bytes_in"] += old.size or 0
                s["bytes_out"] += old.stored_bytes or 0
                continue
        names = _names(rel, exts)
        clash = [owner[n] for n in names if owner.get(n, rel) != rel]
        taken = [n for n in names if n in folders]
        if clash or taken:  # names only collide with an older archive's, or with a folder
            s["failed"] += 1
            why = (
                f"stored name collides with {clash[0]}'s"
                if clash
                else f"its stored name {taken[0]} is the name of a folder in SRC; rename one"
            )
            failures.append((rel, why))
            if old is None or old.status != "done":
                man.put(FileRecord(rel, "failed", reason=why))
            continue
        owner.update(dict.fromkeys(names, rel))
        todo.append(rel)

    finished = 0
    paths: dict[str, int] = {}
    worst: list[float] = []
    worst_s2: list[float] = []
    plain = [0, 0]  # plain codec's bytes, chosen bytes (files where both are known)

    def record(rec: FileRecord) -> None:
        nonlocal finished
        finished += 1
        with sig.deferred():
            old = man.get(rec.rel_path)
            if rec.status != "done" and old is not None and old.status == "done":
                # a failed re-read never replaces a good copy
                rec = replace(rec, reason=f"{rec.reason}; the archived copy from before is kept")
            else:
                man.put(rec)
                _drop_replaced(dest, old, rec, owner)
        if rec.status == "done":
            s["done"] += 1
            s["bytes_in"] += rec.size or 0
            s["bytes_out"] += rec.stored_bytes or 0
            paths[rec.path] = paths.get(rec.path, 0) + 1
            if rec.psnr is not None:
                worst.append(rec.psnr)
            if rec.ssimulacra2 is not None:
                worst_s2.append(rec.ssimulacra2)
            if rec.plain_bytes is not None:
                plain[0] += rec.plain_bytes
                plain[1] += rec.stored_bytes or 0
        elif rec.status == "skipped":
            s["unsupported"] += 1
        else:
            s["failed"] += 1
            failures.append((rec.rel_path, rec.reason or ""))
        if on_record:
            on_record(rec)
        if progress:
            progress_bar(finished, len(todo), t0, rec.rel_path)

    engine = make_engine(str(src), str(dest), todo, cfg)
    stopped: int | None = None
    try:
        for rec in engine.results():
            record(rec)
    except JobInterrupted as exc:
        stopped = exc.signum
        try:
            for rec in engine.stop():
                record(rec)
        except JobInterrupted:  # a second one: the workers ended at once; the count stands
            pass
    except DiskFullError as exc:
        engine.stop(grace=0)
        clean_temporaries(dest)
        n = s["done"] + s["skipped_done"]
        raise DiskFullError(
            f"{exc}; stopped with {n} of {s['files']} files archived — "
            "free space and rerun to continue"
        ) from None
    finally:
        if progress and todo:
            print(file=sys.stderr)
    if stopped:
        clean_temporaries(dest)
    return ArchiveSummary(
        **s,
        seconds=time.time() - t0,
        failures=failures,
        interrupted=stopped,
        paths=paths,
        worst_psnr=min(worst, default=None),
        worst_ssimulacra2=min(worst_s2, default=None),
        plain_bytes=plain[0],
        chosen_bytes=plain[1],
    )


__all__ = ["LOCK_NAME", "ArchiveConfig", "ArchiveSummary", "archive", "walk_sources"]
