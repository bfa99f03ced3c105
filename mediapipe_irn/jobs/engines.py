"""Where archive workers run: a local process pool, or Dask (:mod:`.dask_engine`). Both yield
records as files finish and can stop early: pending files are cancelled, files in flight get a
grace period to finish (their outputs are atomic either way), then the workers are ended.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager

from ..errors import InputError
from .manifest import FileRecord
from .worker import (
    ArchiveConfig,
    init_pool_worker,
    init_worker,
    process_file,
    resolve_workers,
    worker_threads,
)


class JobInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM reached the job's driver."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Interrupts:
    """SIGINT and SIGTERM become :class:`JobInterrupted` in the main thread, except inside
    :meth:`deferred` blocks (a manifest transaction), where they wait for the block's end."""

    def __init__(self) -> None:
        self.depth = 0
        self.pending: int | None = None

    def _handler(self, signum, frame) -> None:  # noqa: ARG002
        if self.depth:
            self.pending = signum
            return
        raise JobInterrupted(signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if not self.depth and self.pending is not None:
            signum, self.pending = self.pending, None
            raise JobInterrupted(signum)


@contextmanager
def interruptible() -> Iterator[Interrupts]:
    """Install :class:`Interrupts` for the block (signal handlers live in the main thread
    only; elsewhere the block runs without them)."""
    it = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield it
        return
    old = {s: signal.signal(s, it._handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield it
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class LocalEngine:
    """Worker processes on this machine (or the driver itself for one worker)."""

    def __init__(self, src: str, dest: str, todo: list[str], cfg: ArchiveConfig) -> None:
        self.args = (src, dest, cfg)
        self.todo = todo
        self.workers = max(1, min(resolve_workers(cfg), len(todo) or 1))
        self.threads = worker_threads(cfg, self.workers)
        self.pool: ProcessPoolExecutor | None = None
        self.futures: set[Future] = set()

    def results(self) -> Iterator[FileRecord]:
        src, dest, cfg = self.args
        if self.workers == 1:
            init_worker(self.threads)
            for rel in self.todo:
                yield process_file(src, dest, rel, cfg)
            return
        self.pool = ProcessPoolExecutor(
            self.workers, initializer=init_pool_worker, initargs=(self.threads, os.getpid())
        )
        self.futures = {self.pool.submit(process_file, src, dest, rel, cfg) for rel in self.todo}
        while self.futures:
            done, self.futures = wait(self.futures, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
        self.pool.shutdown()

    def stop(self, grace: float = 10.0) -> list[FileRecord]:
        """Cancel what has not started; give files in flight ``grace`` seconds; end the
        workers. Returns the records of the files that finished meanwhile."""
        if self.pool is None:
            return []
        for f in self.futures:
            f.cancel()
        running = {f for f in self.futures if not f.cancelled()}
        out = []
        try:
            done, _ = wait(running, timeout=grace)
            for f in done:
                try:
                    out.append(f.result())
                except Exception:  # noqa: BLE001 - a failed worker's file is not recorded
                    pass
        finally:  # a second interrupt ends the workers at once
            procs = getattr(self.pool, "_processes", None) or {}
            for p in list(procs.values()):
                if p.is_alive():
                    p.terminate()
            self.pool.shutdown(wait=True, cancel_futures=True)
        return out


def make_engine(src: str, dest: str, todo: list[str], cfg: ArchiveConfig):
    if cfg.engine == "local":
        return LocalEngine(src, dest, todo, cfg)
    if cfg.engine == "dask":
        from .dask_engine import DaskRun

        return DaskRun(src, dest, todo, cfg)
    raise InputError(f"unknown engine {cfg.engine!r} (local or dask)")


__all__ = ["Interrupts", "JobInterrupted", "LocalEngine", "interruptible", "make_engine"]
