"""An exclusive lock on an archive folder, so two jobs never write one archive side by side.

``fcntl.flock`` on ``DEST/.mediapipe-irn.lock``: the kernel drops the lock when its holder
dies (however it dies), so a stale lock file never blocks a rerun; the holder's PID is written
into the file for the refusal message.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import LockedError
from ..pipeline.output import output_error

LOCK_NAME = ".mediapipe-irn.lock"


@contextmanager
def archive_lock(folder: Path, what: str) -> Iterator[None]:
    """Hold the folder's lock for the block; ``what`` names the job in the holder's note."""
    path = folder / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise output_error(path, exc) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise output_error(path, exc) from exc
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            raise LockedError(
                f"{folder} is in use by another mediapipe-irn job ({holder}); wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, {what}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


__all__ = ["LOCK_NAME", "archive_lock"]
