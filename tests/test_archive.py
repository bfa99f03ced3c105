from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from mediapipe_irn.cli import main
from mediapipe_irn.errors import InputError
from mediapipe_irn.jobs import MANIFEST_NAME, ArchiveConfig, Manifest, archive, restore
from mediapipe_irn.metrics import psnr

from .conftest import SAMPLES, archive_cmd, photo_folder

CFG = ArchiveConfig(model="bicubic-x2", quality=90)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def src(tmp_path) -> Path:
    s = tmp_path / "src"
    (s / "sub dir").mkdir(parents=True)
    shutil.copy(SAMPLES / "chelsea.png", s / "chelsea.png")
    shutil.copy(SAMPLES / "rocket.jpg", s / "sub dir" / "fusée ñ.jpg")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 52, 4), dtype=np.uint8), "RGBA").save(s / "alpha.png")
    Image.fromarray(np.asarray(Image.open(SAMPLES / "coffee.png").convert("L"))).save(
        s / "grey.png"
    )
    Image.fromarray(rng.integers(0, 255, (9, 9, 3), dtype=np.uint8)).save(s / "tiny.png")
    Image.fromarray((np.arange(48 * 64).reshape(48, 64) * 20).astype(np.uint16)).save(
        s / "deep16.png"
    )
    rot = Image.open(SAMPLES / "coffee.png").crop((0, 0, 64, 48))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° CW on display
    rot.save(s / "rotated.jpg", exif=exif.tobytes(), quality=95)
    (s / "empty.png").write_bytes(b"")
    (s / "trunc.jpg").write_bytes((SAMPLES / "rocket.jpg").read_bytes()[:4000])
    (s / "notes.txt").write_text("not an image")
    (s / "fake.webp").write_bytes(b"RIFF\x00\x00\x00\x00WEBPjunk")
    return s


def test_archive_restore_roundtrip(src, tmp_path):
    before = tree_digest(src)
    dest, out = tmp_path / "arc", tmp_path / "out"
    s = archive(
        src, dest, ArchiveConfig(model="bicubic-x2", quality=90, verify=True), progress=False
    )
    # notes.txt too: a complete backup keeps every other file unchanged
    assert s.failed == 3 and s.unsupported == 0 and s.done == 8
    assert {r for r, _ in s.failures} == {"empty.png", "trunc.jpg", "fake.webp"}
    assert tree_digest(src) == before
    with Manifest(dest / MANIFEST_NAME) as m:
        rec = m.get("chelsea.png")
        assert rec.status == "done" and rec.width == 451 and rec.height == 300
        assert rec.sha256 == hashlib.sha256((src / "chelsea.png").read_bytes()).hexdigest()
        assert rec.psnr > 25 and 0 < rec.ssim <= 1
        assert "16-bit" in m.get("deep16.png").reason
        assert "empty" in m.get("empty.png").reason
    r = restore(dest, out, progress=False)
    # what failed at archive time is said again: the user does not get those files back
    assert r.done == 8 and r.failed == 3 and r.exit_code == 1
    assert (out / "notes.txt").read_bytes() == (src / "notes.txt").read_bytes()
    assert {rel for rel, why in r.failures if why.startswith("not in the archive")} == {
        "empty.png",
        "trunc.jpg",
        "fake.webp",
    }
    a = np.asarray(Image.open(out / "chelsea.png"))
    assert a.shape == (300, 451, 3)
    assert psnr(a, np.asarray(Image.open(src / "chelsea.png").convert("RGB"))) > 25
    assert Image.open(out / "sub dir" / "fusée ñ.jpg").size == (640, 427)
    # alpha kept losslessly, grey stays grey, small files come back byte for byte
    ra = np.asarray(Image.open(out / "alpha.png"))
    assert ra.shape[2] == 4
    assert np.array_equal(ra[..., 3], np.asarray(Image.open(src / "alpha.png"))[..., 3])
    assert Image.open(out / "grey.png").mode == "L"
    assert (out / "tiny.png").read_bytes() == (src / "tiny.png").read_bytes()
    assert Image.open(out / "rotated.jpg").size == (48, 64)  # EXIF orientation applied
    assert tree_digest(src) == before


def test_rerun_is_idempotent(src, tmp_path):
    dest = tmp_path / "arc"
    archive(src, dest, CFG, progress=False)
    first = tree_digest(dest)
    s = archive(src, dest, CFG, progress=False)
    assert s.done == 0 and s.skipped_done == 8
    assert {k: v for k, v in tree_digest(dest).items() if "sqlite" not in k} == {
        k: v for k, v in first.items() if "sqlite" not in k
    }


def test_cli_exit_status_and_summary(src, tmp_path):
    r = CliRunner().invoke(
        main, ["archive", str(src), str(tmp_path / "arc"), "--model", "bicubic-x2", "--quiet"]
    )
    assert r.exit_code == 1
    assert "8 archived" in r.output and "3 failed" in r.output and "ratio" in r.output
    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(SAMPLES / "chelsea.png", good / "c.png")
    r = CliRunner().invoke(
        main, ["archive", str(good), str(tmp_path / "arc2"), "--model", "bicubic-x2", "--quiet"]
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        main, ["restore", str(tmp_path / "arc2"), str(tmp_path / "o"), "--format", "png", "--quiet"]
    )
    assert r.exit_code == 0 and (tmp_path / "o" / "c.png").is_file()


def test_dest_inside_src_is_not_walked(src):
    dest = src / "archive"
    s = archive(src, dest, CFG, progress=False)
    assert s.files == 11
    s2 = archive(src, dest, CFG, progress=False)
    assert s2.files == 11 and s2.done == 0


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_sigkill_mid_run_then_resume(tmp_path):
    n = 40  # enough that the job cannot finish between two polls on a fast, idle machine
    src = photo_folder(tmp_path / "src", n)
    before = tree_digest(src)
    dest = tmp_path / "arc"
    cmd = archive_cmd(src, dest, "--model", "bicubic-x2")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:  # kill once some, but not all, files are done
        done = len(list(dest.glob("*.png.irn.jpg"))) if dest.exists() else 0
        if done >= 3 or proc.poll() is not None:
            break
        time.sleep(0.05)
    workers = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(dest.glob("*.png.irn.jpg")))
    assert done_before < n, "the job finished before it could be killed"
    deadline = time.time() + 15  # its worker processes follow it
    while time.time() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "orphaned workers"
    rerun = subprocess.run(cmd, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    stored = sorted(dest.glob("*.png.irn.jpg"))
    assert len(stored) == n
    assert not [p for p in dest.rglob("*") if p.name.endswith(".part")]
    with Manifest(dest / MANIFEST_NAME) as m:
        recs = list(m.records())
    assert len(recs) == n and all(r.status == "done" for r in recs)
    for p in stored:
        Image.open(p).load()  # every output is a complete JPEG
    assert tree_digest(src) == before


def test_workers_default_to_one_per_core(monkeypatch):
    from mediapipe_irn.jobs.worker import MAX_AUTO_WORKERS, resolve_workers, worker_threads

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    auto = ArchiveConfig(workers=0)
    assert resolve_workers(auto) == 2 and worker_threads(auto, 2) == 1
    assert resolve_workers(ArchiveConfig(workers=3)) == 3
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert resolve_workers(auto) == MAX_AUTO_WORKERS
    with pytest.raises(InputError, match="workers"):
        resolve_workers(ArchiveConfig(workers=-1))
