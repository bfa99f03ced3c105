"""The archive job on Dask distributed (optional extra ``mediapipe-irn[dask]``).

Workers run :func:`process_file` (read the source, write the output atomically) and return a
record; only the driver writes the SQLite manifest. A task on a worker that dies is
rescheduled by the scheduler (and retried on errors), and its output is still written with a
temporary name and a rename, so no file is lost or half-written.
"""

from __future__ import annotations

import os
from typing import Iterator

from ..errors import InputError
from .archive import ArchiveConfig, process_file
from .manifest import FileRecord


def _set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(max(1, n))


def run_on_dask(src: str, dest: str, todo: list[str], cfg: ArchiveConfig
                ) -> Iterator[FileRecord]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise InputError("the dask engine needs `pip install mediapipe-irn[dask]`") from exc
    cluster = None
    if cfg.scheduler:
        client = Client(cfg.scheduler)
    else:
        cluster = LocalCluster(n_workers=max(1, cfg.workers), threads_per_worker=1,
                               processes=True, host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
    try:
        # a local cluster shares this machine's cores like the local engine does; a remote
        # worker keeps its own default unless --threads says otherwise
        threads = cfg.threads_per_worker or (
            max(1, (os.cpu_count() or 1) // max(1, cfg.workers)) if cluster is not None else 0)
        if threads:
            client.run(_set_threads, threads)
        futs = [client.submit(process_file, src, dest, rel, cfg, key=f"archive-{i}-{rel}",
                              retries=2, pure=False) for i, rel in enumerate(todo)]
        for fut in as_completed(futs):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
