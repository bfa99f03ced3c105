"""Rebuilding an archive's manifest from its stored files, when the index is gone or damaged
(a zero-byte manifest, a dropped table, a copy made without its ``-wal`` file).

Every stored name parses back to one source path (:mod:`.stored`), and every stored file
describes itself: a model path's file carries its restore metadata (model, scale, size), a
packed file unpacks to its JPEG, a source stored unchanged is the source. So each stored file
becomes a ``done`` row again, its sha256 taken from the file; what only the old manifest knew
(the source's sha256 unless stored unchanged, the promise it was stored under, its PSNR, the
source folder) is left empty and the row says it was rebuilt. The damaged manifest is kept
aside, renamed, never deleted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..codecs import get_codec, list_codecs
from ..codecs.pack import PACKED_SUFFIX, is_jpeg, unpack_jpeg
from ..errors import InputError, IntegrityError, MediapipeIRNError, describe
from ..pipeline.output import is_temporary
from .lock import LOCK_NAME, archive_lock
from .manifest import MANIFEST_NAME, FileRecord, Manifest
from .stored import ALPHA_MARK, FULL_MARK, LR_MARK, ORIG_MARK, sha256_of

_OWN = (MANIFEST_NAME, LOCK_NAME)
REBUILT = "rebuilt from the stored file (the source's sha256, promise and PSNR were lost)"


@dataclass(frozen=True)
class RebuildSummary:
    rows: int
    kept_aside: str | None  # where the damaged manifest went
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0


def _codec_for(ext: str, video: bool) -> str:
    if video:
        return "h264"
    for name in list_codecs():
        c = get_codec(name)
        if c.kind == "image" and c.extension == ext and name != "jpegli":
            return name
    raise IntegrityError(f"no codec writes {ext} files")


def _parse(name: str) -> tuple[str, str, str, str | None] | None:
    """(kind, source path, stored file's own extension, packing) of a stored name; None for a
    name the archive never writes. Kinds: orig, full, lr, alpha."""
    pack = None
    for p, suffix in PACKED_SUFFIX.items():
        if name.endswith(suffix):
            name, pack = name[: -len(suffix)], p
    if name.endswith(ALPHA_MARK):
        return "alpha", name[: -len(ALPHA_MARK)], ".png", pack
    if name.endswith(ORIG_MARK):  # a source without an extension
        return "orig", name[: -len(ORIG_MARK)], "", pack
    stem, dot, ext = name.rpartition(".")
    ext = dot + ext
    for mark, kind in ((ORIG_MARK, "orig"), (FULL_MARK, "full"), (LR_MARK, "lr")):
        if stem.endswith(mark):
            rel = stem[: -len(mark)]
            if kind == "orig" and not rel.endswith(ext):
                return None
            return kind, rel, ext, pack
    return None


def _row(dest: Path, name: str, kind: str, rel: str, ext: str, pack: str | None) -> FileRecord:
    from ..pipeline.media import is_video

    data = (dest / name).read_bytes()
    fields: dict = dict(stored_path=name, stored_sha256=sha256_of(data), stored_bytes=len(data))
    body = data
    if pack is not None:
        body = unpack_jpeg(data, pack)
        fields.update(packed=pack, jpeg_sha256=sha256_of(body), jpeg_bytes=len(body))
    elif is_jpeg(body):
        fields.update(jpeg_sha256=sha256_of(body), jpeg_bytes=len(body))
    if kind == "orig":  # the source itself
        return FileRecord(
            rel, "done", size=len(body), sha256=sha256_of(body), reason=REBUILT, **fields
        )
    video = is_video(rel)
    codec = _codec_for(ext, video)
    model, scale, w, h = None, 1, None, None
    if kind == "lr":
        if video:
            from .transcode import read_video_metadata

            meta = read_video_metadata(dest / name)
        else:
            meta = get_codec(codec).decode(body).metadata
            if meta is None:
                raise IntegrityError("carries no restore metadata: damaged or not the archive's")
        model, scale, w, h = meta.model, meta.scale, meta.width, meta.height
    return FileRecord(
        rel, "done", codec=codec, model=model, scale=scale, width=w, height=h, reason=REBUILT,
        **fields,
    )  # fmt: skip


def rebuild(archive_dir: str | Path, force: bool = False) -> RebuildSummary:
    """A new manifest for the archive in ``archive_dir`` from its stored files (module
    docstring). A readable manifest is refused unless ``force`` (rebuilding loses what only it
    records); the old one is renamed ``…sqlite.damaged-<time>``."""
    dest = Path(archive_dir).resolve()
    if not dest.is_dir():
        raise InputError(f"{dest}: no such archive folder")
    mpath = dest / MANIFEST_NAME
    with archive_lock(dest, "rebuild"):
        if mpath.exists() and not force:
            try:
                with Manifest(mpath, readonly=True) as man:
                    n = sum(1 for _ in man.records())
            except IntegrityError:
                pass
            else:
                raise InputError(
                    f"{mpath} is readable ({n} rows): rebuilding would lose the promises and "
                    "source checksums it records; --force rebuilds anyway"
                )
        aside = None
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = Path(str(mpath) + suffix)
            if p.exists():
                q = Path(f"{mpath}.damaged-{time.strftime('%Y%m%dT%H%M%S')}{suffix}")
                p.rename(q)
                aside = aside or str(q)
        rows: dict[str, FileRecord] = {}
        alphas: dict[str, tuple[str, str]] = {}
        problems: list[tuple[str, str]] = []
        for p in sorted(dest.rglob("*")):
            name = p.relative_to(dest).as_posix()
            if p.is_dir() or p.is_symlink() or is_temporary(p) or name.startswith(_OWN):
                continue
            parsed = _parse(name)
            if parsed is None:
                problems.append((name, "not a name the archive writes: left as it is"))
                continue
            kind, rel, ext, pack = parsed
            try:
                if kind == "alpha":
                    alphas[rel] = (name, sha256_of(p.read_bytes()))
                    continue
                if rel in rows:
                    raise IntegrityError(
                        f"a second stored file for {rel} ({rows[rel].stored_path})"
                    )
                rows[rel] = _row(dest, name, kind, rel, ext, pack)
            except (MediapipeIRNError, OSError, ValueError) as exc:
                problems.append((name, describe(exc)))
        with Manifest(mpath) as man:
            for rel, r in rows.items():
                if rel in alphas:
                    a, sha = alphas.pop(rel)
                    n = (r.stored_bytes or 0) + (dest / a).stat().st_size
                    r = FileRecord(
                        **{**r.__dict__, "alpha_path": a, "alpha_sha256": sha, "stored_bytes": n}
                    )
                man.put(r)
        problems += [(a, "an alpha channel whose image is missing") for a, _ in alphas.values()]
    return RebuildSummary(len(rows), aside, problems)


__all__ = ["RebuildSummary", "rebuild"]
