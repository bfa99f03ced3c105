"""The one way this package writes a file: a temporary name beside the target, fsync, rename.

Temporary names are ``.mpirn-tmp.<name>.<random>.part``: they cannot be mistaken for a user's
file, so a job may delete leftovers of an earlier crash (:func:`clean_temporaries`) without
touching anything else. Finished files get ordinary permissions (the given ``mode``, else
0666 minus the umask), not ``mkstemp``'s 0600. Write errors become :class:`OutputError`;
a full disk is :class:`DiskFullError`.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import DiskFullError, InputError, OutputError

TEMP_PREFIX = ".mpirn-tmp."
TEMP_SUFFIX = ".part"


def _umask() -> int:
    try:  # Linux ≥ 4.7 reports it without changing it
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def default_mode() -> int:
    """What ``open()`` would give a new file: 0666 minus the umask."""
    return 0o666 & ~_umask()


def output_error(dest: str | Path, exc: OSError) -> OutputError:
    """The package's error for an OS error while writing ``dest``."""
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return DiskFullError(f"{dest}: disk full ({exc.strerror or exc})")
    return OutputError(f"{dest}: cannot write ({exc.strerror or exc})")


@contextmanager
def atomic_path(
    dest: str | Path, overwrite: bool = False, mode: int | None = None
) -> Iterator[Path]:
    """Yield a temporary path beside ``dest`` for a writer that needs a path (a muxer);
    on success the file is fsynced, given ``mode`` and renamed into place; on any error it is
    removed and ``dest`` is left as it was."""
    dest = Path(dest)
    if not overwrite and (dest.exists() or dest.is_symlink()):
        raise OutputError(f"{dest} exists (use --force to overwrite)")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f"{TEMP_PREFIX}{dest.name[:80]}.", suffix=TEMP_SUFFIX, dir=dest.parent
        )
        os.close(fd)
    except OSError as exc:
        raise output_error(dest, exc) from exc
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, default_mode() if mode is None else mode & 0o7777)
        if overwrite:
            os.replace(tmp, dest)
        else:
            _place_new(Path(tmp), dest)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OutputError):
            raise
        raise output_error(dest, exc) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _place_new(tmp: Path, dest: Path) -> None:
    """Move ``tmp`` to ``dest`` only if nothing is there, atomically: a hard link fails where
    ``dest`` exists, so two jobs writing one name never replace each other's file (a check
    before a rename races). Where the file system has no hard links, check and rename."""
    appeared = OutputError(f"{dest} appeared while it was being written; left untouched")
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise appeared from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
            raise
        if dest.exists() or dest.is_symlink():
            raise appeared from None
        os.replace(tmp, dest)
        return
    tmp.unlink()


def atomic_write(
    dest: str | Path, data: bytes, overwrite: bool = False, mode: int | None = None
) -> None:
    """Write ``data`` to ``dest`` atomically (see :func:`atomic_path`)."""
    with atomic_path(dest, overwrite, mode) as tmp:
        try:
            with open(tmp, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise output_error(dest, exc) from exc


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file (after links); a link loop is an :class:`InputError`."""
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError) as exc:
        raise InputError(f"{a} or {b}: cannot resolve the path ({exc})") from None


def is_temporary(path: Path) -> bool:
    return path.name.startswith(TEMP_PREFIX) and path.name.endswith(TEMP_SUFFIX)


def clean_temporaries(root: Path) -> int:
    """Delete this package's leftover temporary files under ``root``; returns how many."""
    n = 0
    for p in root.rglob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        if p.is_file() and not p.is_symlink() and is_temporary(p):
            p.unlink(missing_ok=True)
            n += 1
    return n


__all__ = [
    "TEMP_PREFIX",
    "atomic_path",
    "atomic_write",
    "clean_temporaries",
    "default_mode",
    "is_temporary",
    "output_error",
    "same_file",
]
