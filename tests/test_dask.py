from __future__ import annotations

import os
import shutil
import signal
import threading

import numpy as np
import pytest
from PIL import Image

from mediapipe_irn.jobs import MANIFEST_NAME, ArchiveConfig, Manifest, archive

from .conftest import SAMPLES

distributed = pytest.importorskip("distributed")


def _src(tmp_path, n=6):
    src = tmp_path / "src"
    src.mkdir()
    base = np.asarray(Image.open(SAMPLES / "coffee.png").convert("RGB"))
    for i in range(n):
        Image.fromarray(np.roll(base, 11 * i, axis=0)).save(src / f"im {i}.png")
    (src / "bad.jpg").write_bytes(b"\xff\xd8\xff junk")
    return src


def test_dask_local_cluster_matches_local_engine(tmp_path):
    src = _src(tmp_path)
    a = archive(src, tmp_path / "local", ArchiveConfig(model="bicubic-x2"), progress=False)
    b = archive(
        src,
        tmp_path / "dask",
        ArchiveConfig(model="bicubic-x2", engine="dask", workers=2),
        progress=False,
    )
    assert (a.done, a.failed) == (b.done, b.failed) == (6, 1)
    for i in range(6):
        name = f"im {i}.png.irn.jpg"
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()


@pytest.mark.slow  # timing-sensitive (SIGKILL of a live worker); run with -m slow
def test_worker_killed_mid_job_loses_no_file(tmp_path):
    from distributed import Client, LocalCluster

    src = _src(tmp_path, n=10)
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        killed = threading.Event()

        def on_record(rec):
            if not killed.is_set():
                os.kill(victim, signal.SIGKILL)
                killed.set()

        s = archive(
            src,
            tmp_path / "arc",
            ArchiveConfig(model="bicubic-x2", engine="dask", scheduler=cluster.scheduler_address),
            progress=False,
            on_record=on_record,
        )
    assert killed.is_set()
    assert s.done == 10 and s.failed == 1
    with Manifest(tmp_path / "arc" / MANIFEST_NAME) as m:
        done = [r for r in m.records("done")]
    assert len(done) == 10
    for r in done:
        Image.open(tmp_path / "arc" / r.stored_path).load()
    assert not [p for p in (tmp_path / "arc").iterdir() if p.name.endswith(".part")]
    shutil.rmtree(tmp_path / "arc")
