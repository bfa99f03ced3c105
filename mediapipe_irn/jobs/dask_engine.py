"""The archive job on Dask distributed (optional extra ``mediapipe-irn[dask]``).

Workers run :func:`process_file` (read the source, write the output atomically) and return a
record; only the driver writes the SQLite manifest. A task on a worker that dies is
rescheduled by the scheduler (and retried on errors), and its output is still written with a
temporary name and a rename, so no file is lost or half-written.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import InputError
from .manifest import FileRecord
from .worker import ArchiveConfig, init_worker, process_file, resolve_workers, worker_threads


def _process(threads: int, src: str, dest: str, rel: str, cfg: ArchiveConfig) -> FileRecord:
    """:func:`process_file` with ``threads`` torch threads. Set here, in the task's own thread:
    OpenMP thread counts are per thread, and Dask runs tasks outside the thread that
    ``client.run`` reaches."""
    if threads:
        init_worker(threads)
    return process_file(src, dest, rel, cfg)


class DaskRun:
    """One archive job's tasks on a Dask cluster (a local one unless ``cfg.scheduler``)."""

    def __init__(self, src: str, dest: str, todo: list[str], cfg: ArchiveConfig) -> None:
        self.args = (src, dest, todo, cfg)
        self.client = self.cluster = None
        self.futures: list = []

    def _connect(self):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise InputError("the dask engine needs `pip install mediapipe-irn[dask]`") from exc
        cfg = self.args[3]
        # a local cluster shares this machine's cores like the local engine does; a remote
        # worker keeps its own setting unless --threads says otherwise
        n_workers = resolve_workers(cfg)
        threads = cfg.threads_per_worker or (0 if cfg.scheduler else worker_threads(cfg, n_workers))
        if cfg.scheduler:
            self.client = Client(cfg.scheduler)
            return threads
        # Dask's default worker environment pins OpenMP to one thread and makes glibc return
        # freed memory to the system at 64 KiB, which makes every large tensor allocation
        # fault its pages in again: with them, archive throughput was 1.8–1.9× lower (README).
        env = {
            k: str(threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
        }
        with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
            self.cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
        self.client = Client(self.cluster)
        return threads

    def results(self) -> Iterator[FileRecord]:
        from distributed import as_completed

        src, dest, todo, cfg = self.args
        if not todo:
            return
        threads = self._connect()
        try:
            self.futures = [
                self.client.submit(
                    _process,
                    threads,
                    src,
                    dest,
                    rel,
                    cfg,
                    key=f"archive-{i}-{rel}",
                    retries=2,
                    pure=False,
                )
                for i, rel in enumerate(todo)
            ]
            for fut in as_completed(self.futures):
                yield fut.result()
        finally:
            self._close()

    def stop(self, grace: float = 10.0) -> list[FileRecord]:  # noqa: ARG002
        """Cancel every task (outputs in flight are atomic) and close the cluster."""
        if self.client is not None and self.futures:
            self.client.cancel(self.futures)
        self._close()
        return []

    def _close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
