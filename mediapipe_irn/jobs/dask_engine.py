"""The archive job on Dask distributed (optional extra ``mediapipe-irn[dask]``).

Workers run :func:`process_file` (read the source, write the output atomically) and return a
record; only the driver writes the SQLite manifest. A task on a worker that dies is
rescheduled by the scheduler (and retried on errors), and its output is still written with a
temporary name and a rename, so no file is lost or half-written.
"""

from __future__ import annotations

from typing import Iterator

from ..errors import InputError
from .archive import ArchiveConfig, _init_worker, process_file, resolve_workers, worker_threads
from .manifest import FileRecord


def _process(threads: int, src: str, dest: str, rel: str, cfg: ArchiveConfig) -> FileRecord:
    """:func:`process_file` with ``threads`` torch threads. Set here, in the task's own thread:
    OpenMP thread counts are per thread, and Dask runs tasks outside the thread that
    ``client.run`` reaches."""
    if threads:
        _init_worker(threads)
    return process_file(src, dest, rel, cfg)


def run_on_dask(src: str, dest: str, todo: list[str], cfg: ArchiveConfig
                ) -> Iterator[FileRecord]:
    try:
        import dask
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise InputError("the dask engine needs `pip install mediapipe-irn[dask]`") from exc
    cluster = None
    # a local cluster shares this machine's cores like the local engine does; a remote worker
    # keeps its own setting unless --threads says otherwise
    n_workers = resolve_workers(cfg)
    threads = cfg.threads_per_worker or (0 if cfg.scheduler else worker_threads(cfg, n_workers))
    if cfg.scheduler:
        client = Client(cfg.scheduler)
    else:
        # Dask's default worker environment pins OpenMP to one thread and makes glibc return
        # freed memory to the system at 64 KiB, which makes every large tensor allocation
        # fault its pages in again: with them, archive throughput was 1.8–1.9× lower (README).
        env = {k: str(threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                         "OPENBLAS_NUM_THREADS")}
        with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                   processes=True, host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
    try:
        futs = [client.submit(_process, threads, src, dest, rel, cfg,
                              key=f"archive-{i}-{rel}", retries=2, pure=False)
                for i, rel in enumerate(todo)]
        for fut in as_completed(futs):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
