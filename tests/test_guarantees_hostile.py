"""What a hostile run of archive/restore/verify found (round 2): each case ends with nothing
lost, a one-line message naming the file, and an exit status that says something failed."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from mediapipe_irn.cli import main
from mediapipe_irn.errors import DiskFullError, InputError, IntegrityError, LockedError
from mediapipe_irn.jobs import (
    MANIFEST_NAME,
    ArchiveConfig,
    Manifest,
    Target,
    archive,
    rebuild,
    restore,
    verify,
)
from mediapipe_irn.jobs.lock import archive_lock
from mediapipe_irn.metrics import psnr
from mediapipe_irn.pipeline import read_image
from mediapipe_irn.pipeline.output import OutputError, atomic_write

from .conftest import SAMPLES
from .test_archive import tree_digest as _digest

CFG = ArchiveConfig(model="bicubic-x2", quality=90, workers=1)


@pytest.fixture
def src(tmp_path) -> Path:
    s = tmp_path / "src"
    s.mkdir()
    shutil.copy(SAMPLES / "rocket.jpg", s / "rocket.jpg")
    shutil.copy(SAMPLES / "chelsea.png", s / "chelsea.png")
    return s


def _rows(dest: Path) -> dict:
    with Manifest(dest / MANIFEST_NAME, readonly=True) as man:
        return {r.rel_path: r for r in man.records()}


# sources that went bad never replace their archived copies ----------------------------------


@pytest.mark.parametrize("damage", ["random", "empty", "bitrot"])
def test_a_changed_source_keeps_its_archived_copy(src, tmp_path, damage):
    dest = tmp_path / "arc"
    archive(src, dest, CFG, progress=False)
    good = _rows(dest)["rocket.jpg"]
    original = (src / "rocket.jpg").read_bytes()
    if damage == "random":
        bad = np.random.default_rng(0).bytes(len(original))
    elif damage == "empty":
        bad = b""
    else:  # still decodes, wrong pixels
        bad = original[:3000] + bytes(b ^ 0x55 for b in original[3000:6000]) + original[6000:]
    (src / "rocket.jpg").write_bytes(bad)
    res = CliRunner().invoke(main, ["archive", str(src), str(dest), "--model", "bicubic-x2"])
    assert res.exit_code == 1 and "rocket.jpg: changed since it was archived" in res.output
    assert _rows(dest)["rocket.jpg"] == good
    assert CliRunner().invoke(main, ["verify", str(dest)]).exit_code == 0
    out = tmp_path / "out"
    restore(dest, out, progress=False)
    src_img = read_image(SAMPLES / "rocket.jpg").rgb
    assert psnr(read_image(out / "rocket.jpg").rgb, src_img) > 25
    # --force asks for the new content: a source that cannot be read still keeps the copy
    if damage != "bitrot":
        s = archive(src, dest, ArchiveConfig(**{**CFG.__dict__, "redo": True}), progress=False)
        assert s.exit_code == 1 and "kept" in dict(s.failures)["rocket.jpg"]
        assert _rows(dest)["rocket.jpg"] == good


def test_a_second_source_folder_is_refused(tmp_path):
    cam1, cam2 = tmp_path / "cam1", tmp_path / "cam2"
    for cam, name in ((cam1, "coffee.png"), (cam2, "chelsea.png")):
        cam.mkdir()
        shutil.copy(SAMPLES / name, cam / "IMG_0001.png")
    dest = tmp_path / "arc"
    archive(cam1, dest, CFG, progress=False)
    before = _digest(dest)
    res = CliRunner().invoke(main, ["archive", str(cam2), str(dest)])
    assert res.exit_code == 2 and "is the archive of" in res.output and str(cam1) in res.output
    after = {k: v for k, v in _digest(dest).items() if "sqlite" not in k and "lock" not in k}
    assert after == {k: v for k, v in before.items() if "sqlite" not in k and "lock" not in k}


# an index that is gone is an error, and can be rebuilt ---------------------------------------


@pytest.mark.parametrize("how", ["zero-bytes", "dropped-table", "lost-rows", "garbage"])
def test_verify_and_restore_refuse_an_archive_whose_index_is_gone(src, tmp_path, how):
    dest = tmp_path / "arc"
    archive(src, dest, ArchiveConfig(**{**CFG.__dict__, "pack": None}), progress=False)
    m = dest / MANIFEST_NAME
    if how == "zero-bytes":
        m.write_bytes(b"")
    elif how == "garbage":
        m.write_bytes(b"\x00junk" * 100)
    else:
        db = sqlite3.connect(m)
        with db:
            db.execute("DROP TABLE files" if how == "dropped-table" else "DELETE FROM files")
        db.close()
    before = m.read_bytes()
    res = CliRunner().invoke(main, ["verify", str(dest)])
    assert res.exit_code != 0, res.output
    assert m.read_bytes() == before  # verify never rewrites the manifest
    res = CliRunner().invoke(main, ["restore", str(dest), str(tmp_path / "out")])
    assert res.exit_code != 0
    assert not any((tmp_path / "out").glob("*.png"))
    # rebuilt from the stored files: everything restores again
    s = rebuild(dest, force=how == "lost-rows")
    assert s.rows == 2 and s.kept_aside is not None and s.problems == []
    assert verify(dest).exit_code == 0
    r = restore(dest, tmp_path / "again", progress=False)
    assert r.done == 2 and r.failed == 0
    assert (tmp_path / "again" / "chelsea.png").is_file()


def test_rebuild_refuses_a_readable_manifest(src, tmp_path):
    archive(src, tmp_path / "arc", CFG, progress=False)
    with pytest.raises(InputError, match="readable"):
        rebuild(tmp_path / "arc")


# reading an archive needs no write access, and holds the lock ---------------------------------


def test_a_read_only_archive_verifies_and_restores(src, tmp_path, monkeypatch):
    """A folder that refuses writes, for root too: every open for writing there fails with
    EROFS, as on a read-only mount."""
    dest = tmp_path / "arc"
    archive(src, dest, CFG, progress=False)
    (dest / ".mediapipe-irn.lock").unlink()
    before = _digest(dest)
    real_open = os.open

    def read_only_fs(path, flags, *a, **kw):
        if str(path).startswith(str(dest)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *a, **kw)

    monkeypatch.setattr(os, "open", read_only_fs)
    assert verify(dest).exit_code == 0
    r = restore(dest, tmp_path / "out", progress=False)
    assert r.done == 2 and r.failed == 0
    monkeypatch.undo()
    assert _digest(dest) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_a_read_only_folder_verifies_and_restores(src, tmp_path):
    dest = tmp_path / "arc"
    archive(src, dest, CFG, progress=False)
    os.chmod(dest, 0o555)
    try:
        assert verify(dest).exit_code == 0
        assert restore(dest, tmp_path / "out", progress=False).done == 2
    finally:
        os.chmod(dest, 0o755)


def test_readers_share_the_lock_and_keep_archives_out(src, tmp_path):
    dest = tmp_path / "arc"
    archive(src, dest, CFG, progress=False)
    with archive_lock(dest, "restore", shared=True):
        with pytest.raises(LockedError, match="restore or verify"):
            archive(src, dest, CFG, progress=False)
        assert verify(dest).exit_code == 0  # readers side by side
    with archive_lock(dest, "archive"):
        with pytest.raises(LockedError):
            verify(dest)
        with pytest.raises(LockedError):
            restore(dest, tmp_path / "out", progress=False)


def test_no_overwrite_write_never_replaces_a_file_that_appears(tmp_path, monkeypatch):
    """The file another job creates between the check and the rename survives."""
    target = tmp_path / "a.png"
    real_link = os.link

    def racing_link(a, b, *args, **kw):
        Path(b).write_bytes(b"the other job's file")
        return real_link(a, b, *args, **kw)

    monkeypatch.setattr(os, "link", racing_link)
    with pytest.raises(OutputError, match="appeared"):
        atomic_write(target, b"ours")
    assert target.read_bytes() == b"the other job's file"
    assert list(tmp_path.iterdir()) == [target]  # no temporary left


def test_restore_refuses_a_source_reached_by_another_path(src, tmp_path, monkeypatch):
    """OUT through a bind mount (simulated: a link that path resolution does not see) is
    still the source folder: same device and inode."""
    dest = tmp_path / "arc"
    archive(src, dest, CFG, progress=False)
    before = _digest(src)
    other = tmp_path / "mnt"
    other.symlink_to(src)
    monkeypatch.setattr(Path, "resolve", lambda self, strict=False: Path(os.path.abspath(self)))
    res = CliRunner().invoke(main, ["restore", str(dest), str(other), "--force"])
    assert res.exit_code == 2 and "separate folder" in res.output
    monkeypatch.undo()
    assert _digest(src) == before


# odd entries and odd inputs ------------------------------------------------------------------


def test_a_fifo_is_left_out_not_waited_on(src, tmp_path):
    os.mkfifo(src / "pipe.png")
    dest = tmp_path / "arc"
    cmd = [sys.executable, "-m", "mediapipe_irn.cli", "archive", str(src), str(dest), "--quiet"]
    for _ in range(2):  # and on a rerun
        run = subprocess.run(cmd + ["--model", "bicubic-x2"], capture_output=True, timeout=120)
        assert run.returncode == 0, run.stderr
    assert "FIFO" in _rows(dest)["pipe.png"].reason


def test_16_bit_rgb_and_cmyk_are_noted(tmp_path):
    import cv2

    s = tmp_path / "src"
    s.mkdir()
    rgb = np.asarray(Image.open(SAMPLES / "chelsea.png").convert("RGB"))
    cv2.imwrite(str(s / "deep.png"), rgb[..., ::-1].astype(np.uint16) * 257)
    Image.fromarray(rgb).convert("CMYK").save(s / "print.jpg", quality=92)
    archive(s, tmp_path / "arc", CFG, progress=False)
    rows = _rows(tmp_path / "arc")
    assert "16-bit" in rows["deep.png"].reason and "CMYK" in rows["print.jpg"].reason


def test_camera_raw_and_heic_are_stored_byte_for_byte(src, tmp_path):
    for name in ("IMG_1.HEIC", "DSC_2.NEF", "IMG_3.dng", "notes.txt"):
        (src / name).write_bytes(os.urandom(3000))
    dest, out = tmp_path / "arc", tmp_path / "out"
    s = archive(src, dest, CFG, progress=False)
    assert s.exit_code == 0 and s.done == 6
    assert "camera file" in _rows(dest)["DSC_2.NEF"].reason
    restore(dest, out, progress=False)
    for name in ("IMG_1.HEIC", "DSC_2.NEF", "IMG_3.dng", "notes.txt"):
        assert (out / name).read_bytes() == (src / name).read_bytes()


def test_a_long_name_and_a_folder_named_like_a_stored_file(tmp_path):
    s = tmp_path / "src"
    (s / "a.png.irn.jpg").mkdir(parents=True)
    shutil.copy(SAMPLES / "chelsea.png", s / "a.png")
    shutil.copy(SAMPLES / "coffee.png", s / "a.png.irn.jpg" / "b.png")
    long = "é" * 100 + "x" * 48 + ".png"  # 253 bytes: its stored names pass 255
    shutil.copy(SAMPLES / "coffee.png", s / long)
    dest, out = tmp_path / "arc", tmp_path / "out"
    res = CliRunner().invoke(main, ["archive", str(s), str(dest), "--model", "bicubic-x2"])
    assert (
        res.exit_code == 1
        and "a.png: its stored name a.png.irn.jpg is the name of a folder" in (res.output)
    )
    assert restore(dest, out, progress=False).done == 2
    assert (out / long).is_file() and (out / "a.png.irn.jpg" / "b.png").is_file()


# what the manifest says is untrusted ---------------------------------------------------------


def _tamper(dest: Path, sql: str, *args) -> None:
    db = sqlite3.connect(dest / MANIFEST_NAME)
    with db:
        db.execute(sql, args)
    db.close()


def test_a_damaged_record_of_sources_is_a_clear_error(src, tmp_path):
    dest = tmp_path / "arc"
    archive(src, dest, CFG, progress=False)
    _tamper(dest, "UPDATE meta SET value = ? WHERE key = 'sources'", "[not json")
    res = CliRunner().invoke(main, ["restore", str(dest), str(tmp_path / "out")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "record of source folders is damaged" in res.output


def test_a_row_named_dot_is_refused_and_the_rest_restore(src, tmp_path):
    dest, out = tmp_path / "arc", tmp_path / "out"
    archive(src, dest, CFG, progress=False)
    _tamper(dest, "UPDATE files SET rel_path = '.' WHERE rel_path = 'chelsea.png'")
    r = restore(dest, out, progress=False)
    assert r.failed == 1 and r.done == 1 and out.is_dir() and (out / "rocket.jpg").is_file()
    assert verify(dest).exit_code == 1


def test_a_row_without_a_stored_sha256_fails_verify(src, tmp_path):
    dest = tmp_path / "arc"
    archive(src, dest, CFG, progress=False)
    _tamper(dest, "UPDATE files SET stored_sha256 = NULL WHERE rel_path = 'rocket.jpg'")
    v = verify(dest)
    assert v.exit_code == 1 and "no sha256" in dict(v.problems)["rocket.jpg"]


# restore: reruns, leftovers, a full disk, file times -------------------------------------------


def test_a_resumed_restore_counts_what_it_wrote_and_cleans_leftovers(src, tmp_path):
    dest, out = tmp_path / "arc", tmp_path / "out"
    archive(src, dest, CFG, progress=False)
    first = restore(dest, out, progress=False)
    (out / ".mpirn-tmp.rocket.jpg.abc.part").write_bytes(b"half")  # a killed restore's
    again = restore(dest, out, progress=False)
    assert first.done == 2 and again.exit_code == 0 and again.skipped_done == 2
    assert not list(out.glob(".mpirn-tmp.*"))
    src_mtime = (src / "chelsea.png").stat().st_mtime
    assert abs((out / "chelsea.png").stat().st_mtime - src_mtime) < 1e-3


def test_restore_stops_at_a_full_disk(src, tmp_path, monkeypatch):
    import importlib

    restore_module = importlib.import_module("mediapipe_irn.jobs.restore")

    dest = tmp_path / "arc"
    archive(src, dest, CFG, progress=False)
    calls = []

    def full(*a, **kw):
        calls.append(a[0])
        raise DiskFullError(f"{a[0]}: disk full")

    monkeypatch.setattr(restore_module, "atomic_write", full)
    r = restore_module.restore(dest, tmp_path / "out", progress=False)
    assert len(calls) == 1 and r.failed == 1 and "free space and rerun" in r.failures[0][1]


def test_an_unexpected_error_names_the_file_not_the_exception(src, tmp_path, monkeypatch):
    from mediapipe_irn.jobs import worker

    def boom(*a, **kw):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(worker, "_process_image", boom)
    s = archive(src, tmp_path / "arc", CFG, progress=False)
    why = dict(s.failures)["chelsea.png"]
    assert "RuntimeError" not in why and "something inside broke" in why and "--debug" in why
    monkeypatch.setenv("MEDIAPIPE_IRN_DEBUG", "1")
    s = archive(src, tmp_path / "arc2", CFG, progress=False)
    assert "Traceback" in dict(s.failures)["chelsea.png"]


# the promise holds on what restore writes ----------------------------------------------------


@pytest.mark.pretrained
def test_restored_jpeg_sources_keep_the_floor(tmp_path):
    s = tmp_path / "src"
    s.mkdir()
    shutil.copy(SAMPLES / "rocket.jpg", s / "rocket.jpg")
    dest, out = tmp_path / "arc", tmp_path / "out"
    archive(s, dest, ArchiveConfig(workers=1, target=Target(floor=32.0)), progress=False)
    r = _rows(dest)["rocket.jpg"]
    res = CliRunner().invoke(main, ["restore", str(dest), str(out)])
    assert res.exit_code == 0, res.output
    (got,) = out.iterdir()
    value = psnr(read_image(got).rgb, read_image(s / "rocket.jpg").rgb)
    assert value >= 32.0, (r.path, value)
    if got.suffix == ".png":
        assert "written losslessly" in res.output


def test_stored_files_are_checked_before_anything_is_written(src, tmp_path):
    dest = tmp_path / "arc"
    archive(src, dest, CFG, progress=False)
    stored = dest / _rows(dest)["chelsea.png"].stored_path
    stored.write_bytes(stored.read_bytes()[:-10])
    r = restore(dest, tmp_path / "out", progress=False)
    assert r.failed == 1 and not (tmp_path / "out" / "chelsea.png").exists()
    with pytest.raises(IntegrityError):
        from mediapipe_irn.jobs.restore import read_checked

        read_checked(dest, _rows(dest)["chelsea.png"].stored_path, "0" * 64)


def test_a_second_interrupt_still_reports_what_was_archived(src, tmp_path, monkeypatch):
    from mediapipe_irn.jobs import archive as archive_fn
    from mediapipe_irn.jobs.engines import JobInterrupted
    from mediapipe_irn.jobs.worker import process_file

    archive_module = sys.modules[archive_fn.__module__]

    class Engine:  # two files finish, then Ctrl-C, then Ctrl-C again while stopping
        def __init__(self, s, d, todo, cfg):
            self.args = (s, d, todo, cfg)

        def results(self):
            s, d, todo, cfg = self.args
            for rel in todo:
                yield process_file(s, d, rel, cfg)
            raise JobInterrupted(2)

        def stop(self, grace=10.0):
            raise JobInterrupted(2)

    monkeypatch.setattr(archive_module, "make_engine", Engine)
    s = archive_fn(src, tmp_path / "arc", CFG, progress=False)
    assert s.interrupted == 2 and s.done == 2 and s.exit_code == 130


def test_a_terminated_restore_leaves_no_half_file_and_a_rerun_finishes(tmp_path):
    import signal
    import time

    from .conftest import photo_folder

    src = photo_folder(tmp_path / "src", 24)
    dest, out = tmp_path / "arc", tmp_path / "out"
    archive(src, dest, CFG, progress=False)
    cmd = [sys.executable, "-m", "mediapipe_irn.cli", "restore", str(dest), str(out), "--quiet"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t = time.time()
    while time.time() - t < 60 and not (out.is_dir() and any(out.glob("*.png"))):
        time.sleep(0.02)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=60)
    assert p.returncode in (143, 0)  # 0: it had finished first
    assert not list(out.glob(".mpirn-tmp.*"))
    r = restore(dest, out, progress=False)
    assert r.exit_code == 0 and r.done + r.skipped_done == 24
    assert len(list(out.glob("*.png"))) == 24
