"""The archive's SQLite manifest. Only the driver process writes it; every update is one
transaction made after the output file has been renamed into place."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Iterator

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
"""


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


class Manifest:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)

    def get(self, rel_path: str) -> FileRecord | None:
        cur = self.db.execute(f"SELECT {', '.join(f.name for f in fields(FileRecord))} "
                              "FROM files WHERE rel_path = ?", (rel_path,))
        row = cur.fetchone()
        return FileRecord(*row) if row else None

    def put(self, rec: FileRecord) -> None:
        d = asdict(rec)
        d["updated"] = time.time()
        cols = ", ".join(d)
        marks = ", ".join("?" for _ in d)
        with self.db:  # one transaction
            self.db.execute(f"INSERT OR REPLACE INTO files ({cols}) VALUES ({marks})",
                            tuple(d.values()))

    def records(self, status: str | None = None) -> Iterator[FileRecord]:
        q = f"SELECT {', '.join(f.name for f in fields(FileRecord))} FROM files"
        args: tuple = ()
        if status:
            q += " WHERE status = ?"
            args = (status,)
        for row in self.db.execute(q + " ORDER BY rel_path", args):
            yield FileRecord(*row)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
