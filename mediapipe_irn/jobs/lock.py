"""The lock on an archive folder: an archive job holds it exclusively, so two jobs never write
one archive side by side; ``restore`` and ``verify`` hold it shared for as long as they read,
so no archive changes the files under them (and any number of them read side by side).

``fcntl.flock`` on ``DEST/.mediapipe-irn.lock``: the kernel drops the lock when its holder
dies (however it dies), so a stale lock file never blocks a rerun; the exclusive holder's PID
is written into the file for the refusal message. Reading needs no write access: a reader
opens the lock file read-only, and where there is none and none can be made (a read-only
copy of an archive), no archive can write there either and it reads without one.
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


def _open(path: Path, shared: bool) -> int | None:
    """The lock file's descriptor; None where a reader finds a folder nobody can write."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if not shared:
            raise output_error(path, exc) from exc
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None  # read-only folder without a lock file: nothing can write it
    except OSError as exc:
        raise output_error(path, exc) from exc


@contextmanager
def archive_lock(folder: Path, what: str, shared: bool = False) -> Iterator[None]:
    """Hold the folder's lock for the block, exclusive (an archive job) or ``shared`` (a
    restore or verify); ``what`` names the job in the holder's note."""
    path = folder / LOCK_NAME
    fd = _open(path, shared)
    if fd is None:
        yield
        return
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise output_error(path, exc) from exc
            raise LockedError(f"{folder} is in use by {_holder(fd, shared)}") from None
        if not shared:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, {what}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int, shared: bool) -> str:
    """Who holds the lock, for the refusal message."""
    if not shared:
        try:  # a shared lock still free: the holders are readers
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return "a mediapipe-irn restore or verify; archive when it has finished"
        except OSError:
            pass
    note = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
    return f"another mediapipe-irn job ({note}); wait for it to finish"


__all__ = ["LOCK_NAME", "archive_lock"]
