"""The archive's SQLite manifest. Only the driver process writes it; every update is one
transaction made after the output file has been renamed into place. It records, per source
file, the stored files and their sha256 (checked by ``restore`` and ``verify``), and in a
``meta`` table the source folders archived into it (``restore`` refuses to write there).
A full disk is :class:`DiskFullError`; any other SQLite failure is :class:`OutputError`."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from urllib.parse import quote

from ..codecs.pack import PACKED_SUFFIX
from ..errors import DiskFullError, IntegrityError, OutputError

MANIFEST_NAME = "mediapipe-irn-manifest.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    rel_path TEXT PRIMARY KEY,
    size INTEGER, sha256 TEXT, width INTEGER, height INTEGER,
    stored_path TEXT, stored_bytes INTEGER, alpha_path TEXT,
    model TEXT, codec TEXT, quality INTEGER,
    status TEXT NOT NULL, reason TEXT,
    psnr REAL, ssim REAL, updated REAL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
_ADDED_COLUMNS = {
    "stored_sha256": "TEXT",
    "alpha_sha256": "TEXT",
    "mode": "INTEGER",
    "scale": "INTEGER",
    "chroma": "TEXT",
    "target": "TEXT",
    "plain_bytes": "INTEGER",
    "plain_quality": "INTEGER",
    "worst_psnr": "REAL",
    "packed": "TEXT",
    "jpeg_sha256": "TEXT",
    "jpeg_bytes": "INTEGER",
    "mtime": "REAL",
    "settings": "TEXT",
    "ssimulacra2": "REAL",
}


@dataclass(frozen=True)
class FileRecord:
    rel_path: str
    status: str  # done | failed | skipped
    size: int | None = None
    sha256: str | None = None
    width: int | None = None
    height: int | None = None
    stored_path: str | None = None
    stored_bytes: int | None = None
    alpha_path: str | None = None
    model: str | None = None
    codec: str | None = None
    quality: int | None = None
    reason: str | None = None
    psnr: float | None = None
    ssim: float | None = None
    stored_sha256: str | None = None
    alpha_sha256: str | None = None
    mode: int | None = None  # the source's permission bits (restored files get them back)
    scale: int | None = None  # 1: the plain codec at full size; 2, 4: a model path
    chroma: str | None = None  # the codec's chroma subsampling, where it has a choice
    target: str | None = None  # the promise the file was stored under (psnr>=30, bpp<=1)
    plain_bytes: int | None = None  # the plain codec at full size under the same promise
    plain_quality: int | None = None
    worst_psnr: float | None = None  # videos: the worst one-second window's mean PSNR
    # the stored JPEG packed losslessly (codecs.pack): how, and the JPEG it unpacks to (the
    # JPEG's sha256 without ``packed``: packing was tried and would not have saved a byte)
    packed: str | None = None
    jpeg_sha256: str | None = None
    jpeg_bytes: int | None = None
    mtime: float | None = None  # the source's modification time (restored files get it back)
    settings: str | None = None  # what decided how it is stored (jobs.worker.settings_key)
    ssimulacra2: float | None = None  # the perceptual score of the stored file, restored

    @property
    def path(self) -> str:
        """How the file is stored: ``unchanged``, ``jpeg@full``, ``jpeg@sain-x2`` …"""
        if self.codec is None:
            return "unchanged"
        return f"{self.codec}@{'full' if self.model is None else self.model}"

    @property
    def jpeg_path(self) -> str | None:
        """The stored JPEG's own name (the stored path without the packing's suffix)."""
        if self.packed and self.stored_path:
            suffix = PACKED_SUFFIX.get(self.packed, "")
            if suffix and self.stored_path.endswith(suffix):
                return self.stored_path[: -len(suffix)]
        return self.stored_path

    def stored_files(self) -> list[tuple[str, str | None]]:
        """(stored path, sha256) of every file this row owns in the archive."""
        out = [(self.stored_path, self.stored_sha256)] if self.stored_path else []
        if self.alpha_path:
            out.append((self.alpha_path, self.alpha_sha256))
        return out


@contextmanager
def _sql(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        msg = str(exc)
        if "full" in msg:
            raise DiskFullError(f"{path}: disk full ({msg})") from exc
        raise OutputError(f"{path}: manifest error ({msg})") from exc


_COLUMNS = ", ".join(f.name for f in fields(FileRecord))


def _open_readonly(path: Path) -> sqlite3.Connection:
    """``path`` opened without writing anything beside it: as an immutable file, unless a
    write-ahead log is there (a job that died mid-write), which read-only mode replays; where
    SQLite cannot open that log read-only (a folder that refuses writes), immutable too (rows
    only in the log are then missing, and their stored files show up as unlisted)."""
    if not path.is_file() or path.stat().st_size == 0:
        raise IntegrityError(f"{path}: the manifest is empty or missing; {_REBUILD}")
    uri = "file:" + quote(str(path.resolve()))
    wal = Path(str(path) + "-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        try:
            return _connected(path, uri + "?mode=ro")
        except sqlite3.OperationalError:  # cannot open its log read-only
            pass
    return _connected(path, uri + "?mode=ro&immutable=1")


def _connected(path: Path, uri: str) -> sqlite3.Connection:
    """A connection to ``uri`` that has read the schema; a file that is no database is an
    :class:`IntegrityError` (SQLite's OperationalError passes: the caller may retry)."""
    db = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        db.close()
        raise
    except sqlite3.DatabaseError as exc:
        db.close()
        raise IntegrityError(f"{path}: the manifest is damaged ({exc}); {_REBUILD}") from None
    return db


def _readable_columns(db: sqlite3.Connection, path: Path) -> str:
    """The SELECT list for FileRecord over this manifest's columns (an earlier version's
    lacks some: NULL for those), after checking the index is there at all."""
    try:
        have = {r[1] for r in db.execute("PRAGMA table_info(files)")}
    except sqlite3.DatabaseError as exc:
        raise IntegrityError(f"{path}: the manifest is damaged ({exc}); {_REBUILD}") from None
    if "rel_path" not in have or "status" not in have:
        raise IntegrityError(f"{path}: the manifest has no table of files; {_REBUILD}")
    return ", ".join(f.name if f.name in have else f"NULL AS {f.name}" for f in fields(FileRecord))


_REBUILD = "`mediapipe-irn rebuild ARCHIVE` makes a new one from the stored files"


class Manifest:
    """The manifest, opened to write (an archive job) or ``readonly`` (restore, verify: never
    changes the file, works on a read-only copy, and refuses an empty or damaged index)."""

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        with _sql(self.path):
            if readonly:
                self.db = _open_readonly(self.path)
                self._columns = _readable_columns(self.db, self.path)
                return
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
            have = {r[1] for r in self.db.execute("PRAGMA table_info(files)")}
            for col, kind in _ADDED_COLUMNS.items():
                if col not in have:  # an archive made by an earlier version
                    self.db.execute(f"ALTER TABLE files ADD COLUMN {col} {kind}")
            self._columns = _COLUMNS

    def get_meta(self, key: str) -> str | None:
        with _sql(self.path):
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with _sql(self.path), self.db:
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def get(self, rel_path: str) -> FileRecord | None:
        with _sql(self.path):
            cur = self.db.execute(
                f"SELECT {self._columns} FROM files WHERE rel_path = ?", (rel_path,)
            )
            row = cur.fetchone()
        return FileRecord(*row) if row else None

    def put(self, rec: FileRecord) -> None:
        d = asdict(rec)
        d["updated"] = time.time()
        cols = ", ".join(d)
        marks = ", ".join("?" for _ in d)
        if self.readonly:
            raise OutputError(f"{self.path}: opened read-only")
        with _sql(self.path), self.db:  # one transaction
            self.db.execute(
                f"INSERT OR REPLACE INTO files ({cols}) VALUES ({marks})", tuple(d.values())
            )

    def records(self, status: str | None = None) -> Iterator[FileRecord]:
        q = f"SELECT {self._columns} FROM files"
        args: tuple = ()
        if status:
            q += " WHERE status = ?"
            args = (status,)
        with _sql(self.path):
            rows = self.db.execute(q + " ORDER BY rel_path", args).fetchall()
        for row in rows:
            yield FileRecord(*row)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
