"""What the archive, restore and verify jobs promise (README "Guarantees"): nothing the user
had is overwritten, misplaced or silently dropped, and the archive checks what it reads."""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from mediapipe_irn.cli import main
from mediapipe_irn.errors import DiskFullError, LockedError, OutputError
from mediapipe_irn.jobs import (
    MANIFEST_NAME,
    ArchiveConfig,
    Manifest,
    RestoreConfig,
    archive,
    restore,
    verify,
)
from mediapipe_irn.jobs.lock import archive_lock

from .conftest import SAMPLES

CFG = ArchiveConfig(model="bicubic-x2", quality=90, workers=1)


def digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def photo(path: Path, seed: int = 0, size=(64, 80)) -> Path:
    base = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))
    a = np.roll(base, 11 * seed, axis=1)[: size[0], : size[1]]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(a)).save(path)
    return path


@pytest.fixture
def src(tmp_path) -> Path:
    s = tmp_path / "src"
    for i, name in enumerate(["a.png", "b.png", "sub/c.png"]):
        photo(s / name, i)
    return s


def cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width``×``height`` and holds one tiny (truncated) IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


# 1. restore never overwrites, never writes into the archive or a source ------------------


def test_restore_refuses_source_and_archive_folders(src, tmp_path):
    arc = tmp_path / "arc"
    archive(src, arc, CFG, progress=False)
    before_src, before_arc = digest(src), digest(arc)
    for out in (src, arc, arc / "inside", src / "sub", tmp_path):
        r = cli("restore", arc, out, "--format", "jpeg", "--quiet")
        assert r.exit_code == 2, (out, r.output)
        assert "restore into a separate folder" in r.output
    assert digest(src) == before_src
    assert {k: v for k, v in digest(arc).items() if "sqlite" not in k and "lock" not in k} == {
        k: v for k, v in before_arc.items() if "sqlite" not in k and "lock" not in k
    }


def test_restore_keeps_existing_files_unless_forced(src, tmp_path):
    arc, out = tmp_path / "arc", tmp_path / "out"
    archive(src, arc, CFG, progress=False)
    out.mkdir()
    (out / "a.png").write_bytes(b"mine")
    r = cli("restore", arc, out, "--quiet")
    assert r.exit_code == 1 and "a.png" in r.output and "--force" in r.output
    assert (out / "a.png").read_bytes() == b"mine"
    assert (out / "b.png").is_file() and (out / "sub" / "c.png").is_file()
    r = cli("restore", arc, out, "--quiet", "--force")
    assert r.exit_code == 0, r.output
    assert Image.open(out / "a.png").size == (80, 64)


# 2. stored names are unique whatever the sources are called --------------------------------


def test_stored_names_never_collide(tmp_path):
    s = tmp_path / "src"
    photo(s / "a.png", 0)
    photo(s / "a.png.jpg", 1)
    photo(s / "a.png.irn.jpg", 2)
    Image.new("RGB", (5, 5), (9, 9, 9)).save(s / "t.png")  # stored unchanged
    photo(s / "t.png.irn-orig.png", 3)
    arc, out = tmp_path / "arc", tmp_path / "out"
    res = archive(s, arc, CFG, progress=False)
    assert res.done == 5 and res.failed == 0
    with Manifest(arc / MANIFEST_NAME) as m:
        names = [n for r in m.records() for n, _ in r.stored_files()]
    assert len(names) == len(set(names)) == 5
    assert restore(arc, out, progress=False).done == 5
    for name in ("a.png", "a.png.jpg", "a.png.irn.jpg", "t.png.irn-orig.png"):
        ref = np.asarray(Image.open(s / name).convert("RGB"), dtype=float)
        got = np.asarray(Image.open(out / name).convert("RGB"), dtype=float)
        assert np.abs(ref - got).mean() < 12, name  # each restored from its own LR
    assert (out / "t.png").read_bytes() == (s / "t.png").read_bytes()


# 3. the manifest is untrusted ---------------------------------------------------------------


@pytest.mark.parametrize(
    "column,value",
    [
        ("rel_path", "../escaped.png"),
        ("rel_path", "/tmp/mpirn-escaped.png"),
        ("stored_path", "../secret.txt"),
        ("stored_path", "/etc/hostname"),
    ],
)
def test_manifest_paths_cannot_leave_their_folders(src, tmp_path, column, value):
    arc, out = tmp_path / "arc", tmp_path / "out"
    archive(src, arc, CFG, progress=False)
    (tmp_path / "secret.txt").write_text("not yours")
    db = sqlite3.connect(arc / MANIFEST_NAME)
    with db:
        db.execute(f"UPDATE files SET {column} = ? WHERE rel_path = 'a.png'", (value,))
    db.close()
    s = restore(arc, out, progress=False)
    # a redirected stored path also leaves the real stored file unlisted: reported too
    assert s.failed == (2 if column == "stored_path" else 1) and s.done == 2
    assert any("refused" in why or "leaves" in why for _, why in s.failures)
    assert not (tmp_path / "escaped.png").exists() and not Path("/tmp/mpirn-escaped.png").exists()
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["b.png", "c.png"]
    assert verify(arc).exit_code == 1


# 4. only the tool's own temporary files are cleaned up --------------------------------------


def test_archive_keeps_user_part_files(src, tmp_path):
    arc = tmp_path / "arc"
    arc.mkdir()
    (arc / ".notes.part").write_text("mine")
    (arc / "sub").mkdir()
    (arc / "sub" / ".draft.jpg.part").write_text("mine too")
    (arc / ".mpirn-tmp.a.png.irn.jpg.x1y2.part").write_bytes(b"left by a crash")
    archive(src, arc, CFG, progress=False)
    assert (arc / ".notes.part").read_text() == "mine"
    assert (arc / "sub" / ".draft.jpg.part").read_text() == "mine too"
    assert not (arc / ".mpirn-tmp.a.png.irn.jpg.x1y2.part").exists()


# 5. multi-frame sources keep every frame ----------------------------------------------------


def _animated(path: Path) -> Path:
    frames = [Image.fromarray(np.full((40, 48, 3), 40 * i, np.uint8)) for i in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    return path


@pytest.mark.parametrize("name", ["anim.gif", "pages.tiff", "anim.webp", "anim.png"])
def test_multi_frame_sources_are_kept_whole(tmp_path, name):
    s = tmp_path / "src"
    s.mkdir()
    f = _animated(s / name)
    assert Image.open(f).n_frames == 3
    arc, out = tmp_path / "arc", tmp_path / "out"
    res = archive(s, arc, CFG, progress=False)
    assert res.done == 1
    with Manifest(arc / MANIFEST_NAME) as m:
        assert "3 frames" in m.get(name).reason or name.endswith(".gif")
    restore(arc, out, progress=False)
    assert (out / name).read_bytes() == f.read_bytes()
    r = cli("down", f, tmp_path / "x.png")
    assert r.exit_code == 2 and "frames" in r.output and not (tmp_path / "x.png").exists()


# 7. integrity: recorded sha256, verify, missing and unlisted files ---------------------------


def test_restore_and_verify_check_what_they_read(src, tmp_path):
    arc = tmp_path / "arc"
    archive(src, arc, CFG, progress=False)
    assert verify(arc, deep=True).exit_code == 0
    r = cli("verify", arc)
    assert r.exit_code == 0 and "3 ok" in r.output
    a, b = arc / "a.png.irn.jpg", arc / "b.png.irn.jpg"
    da, db_ = a.read_bytes(), b.read_bytes()
    a.write_bytes(db_)  # swapped: a perfectly valid JPEG, of the wrong image
    b.write_bytes(da)
    (arc / "stray.jpg").write_bytes(da)
    s = restore(arc, tmp_path / "out", progress=False)
    assert s.done == 1 and s.failed == 3  # the two swapped, and the unlisted stray file
    why = dict(s.failures)
    assert "sha256" in why["a.png"] and "sha256" in why["b.png"]
    assert "named by no manifest row" in why["stray.jpg"]
    (arc / "sub" / "c.png.irn.jpg").unlink()
    r = cli("verify", arc)
    assert r.exit_code == 1
    assert "a.png" in r.output and "b.png" in r.output and "missing" in r.output
    assert "stray.jpg" in r.output


def test_replaced_lr_without_metadata_is_a_clear_failure(src, tmp_path):
    arc = tmp_path / "arc"
    archive(src, arc, CFG, progress=False)
    plain = arc / "a.png.irn.jpg"
    Image.open(SAMPLES / "rocket.jpg").save(plain, quality=80)
    db = sqlite3.connect(arc / MANIFEST_NAME)
    with db:  # a manifest that agrees with the replaced file: only the metadata is missing
        db.execute(
            "UPDATE files SET stored_sha256 = ? WHERE rel_path = 'a.png'",
            (hashlib.sha256(plain.read_bytes()).hexdigest(),),
        )
    db.close()
    s = restore(arc, tmp_path / "out", progress=False)
    ((rel, why),) = s.failures
    assert rel == "a.png" and "restore metadata" in why and "--model" not in why


# 8. one bad stored file never stops the restore ---------------------------------------------


def test_decompression_bomb_in_archive_is_one_failure(src, tmp_path):
    arc = tmp_path / "arc"
    archive(src, arc, ArchiveConfig(model="bicubic-x2", codec="png", workers=1), progress=False)
    bomb = png_header(30000, 30000)
    (arc / "a.png.irn.png").write_bytes(bomb)
    db = sqlite3.connect(arc / MANIFEST_NAME)
    with db:
        db.execute(
            "UPDATE files SET stored_sha256 = ?, stored_bytes = ? WHERE rel_path = 'a.png'",
            (hashlib.sha256(bomb).hexdigest(), len(bomb)),
        )
    db.close()
    r = cli("restore", arc, tmp_path / "out", "--quiet")
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "a.png" in r.output and "decompression bomb" in r.output
    assert (tmp_path / "out" / "b.png").is_file() and (tmp_path / "out" / "sub/c.png").is_file()


# 11. one job per archive --------------------------------------------------------------------


def test_second_job_on_one_archive_is_refused(src, tmp_path):
    arc = tmp_path / "arc"
    archive(src, arc, CFG, progress=False)
    (src / "new.png").write_bytes((src / "a.png").read_bytes())
    with archive_lock(arc, "test holder"):
        r = cli("archive", src, arc, "--model", "bicubic-x2", "--quiet")
        assert r.exit_code == 2 and f"pid {os.getpid()}" in r.output
        with pytest.raises(LockedError):
            restore(arc, tmp_path / "out", progress=False)
    # the holder is gone (its lock with it); its note left in the file does not block
    assert (arc / ".mediapipe-irn.lock").read_text().startswith(f"pid {os.getpid()}")
    assert archive(src, arc, CFG, progress=False).done == 1


# 12. a full disk stops the job cleanly; a rerun completes ----------------------------------


def test_disk_full_stops_cleanly_and_rerun_completes(src, tmp_path, monkeypatch):
    import mediapipe_irn.jobs.worker as worker

    arc = tmp_path / "arc"
    real = worker.atomic_write
    calls = {"n": 0}

    def full_after_one(dest, data, overwrite=False, mode=None):
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(dest, data, overwrite, mode)

    monkeypatch.setattr(worker, "atomic_write", full_after_one)
    with pytest.raises(DiskFullError, match="disk full.*1 of 3 files"):
        archive(src, arc, CFG, progress=False)
    monkeypatch.setattr(worker, "atomic_write", real)
    with Manifest(arc / MANIFEST_NAME) as m:
        assert [r.rel_path for r in m.records("done")] == ["a.png"]
    assert not list(arc.rglob(".mpirn-tmp.*"))
    s = archive(src, arc, CFG, progress=False)
    assert s.done == 2 and s.skipped_done == 1
    assert verify(arc).exit_code == 0


def test_manifest_disk_full_is_a_clean_stop(src, tmp_path, monkeypatch):
    arc = tmp_path / "arc"

    class FullDisk:  # the connection, failing every row write as SQLite does on ENOSPC
        def __init__(self, db):
            self.db = db

        def execute(self, sql, *args):
            if sql.startswith("INSERT OR REPLACE INTO files"):
                raise sqlite3.OperationalError("database or disk is full")
            return self.db.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self.db, name)

        def __enter__(self):
            return self.db.__enter__()

        def __exit__(self, *exc):
            return self.db.__exit__(*exc)

    real_init = Manifest.__init__

    def init(self, path):
        real_init(self, path)
        self.db = FullDisk(self.db)

    monkeypatch.setattr(Manifest, "__init__", init)
    r = cli("archive", src, arc, "--model", "bicubic-x2", "--workers", "1", "--quiet")
    assert r.exit_code == 2 and "disk full" in r.output and "Traceback" not in r.output
    monkeypatch.undo()
    assert archive(src, arc, CFG, progress=False).done == 3


# clear errors, links and permissions ------------------------------------------------------


def test_unwritable_output_is_one_line(src, tmp_path, monkeypatch):
    import mediapipe_irn.pipeline.output as output

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(output.tempfile, "mkstemp", denied)
    r = cli("down", src / "a.png", tmp_path / "o" / "x.png", "--model", "bicubic-x2")
    assert r.exit_code == 2 and "cannot write" in r.output
    monkeypatch.undo()
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: permissions do not bind")
        for args in (["down", src / "a.png", ro / "x.png"], ["archive", src, ro / "arc"]):
            r = cli(*args, "--model", "bicubic-x2")
            assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    finally:
        ro.chmod(0o700)


def test_symlinks_are_recorded_not_followed(src, tmp_path):
    outside = photo(tmp_path / "elsewhere" / "o.png")
    (src / "out-link.png").symlink_to(outside)
    (src / "in-link.png").symlink_to(src / "a.png")
    (src / "loop.png").symlink_to(src / "loop.png")
    (src / "dir-link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    s = archive(src, tmp_path / "arc", CFG, progress=False)
    assert s.files == 7 and s.done == 3 and s.unsupported == 4
    with Manifest(tmp_path / "arc" / MANIFEST_NAME) as m:
        assert "outside SRC" in m.get("out-link.png").reason
        assert "its own name" in m.get("in-link.png").reason
        assert "looping" in m.get("loop.png").reason
        assert "outside SRC" in m.get("dir-link").reason
    for args in (
        ["down", src / "loop.png", tmp_path / "x.png"],
        ["up", src / "loop.png", tmp_path / "y.png"],
    ):
        r = cli(*args)
        assert r.exit_code == 2 and "Traceback" not in r.output


def test_outputs_get_ordinary_permissions(src, tmp_path):
    os.chmod(src / "a.png", 0o640)
    arc, out = tmp_path / "arc", tmp_path / "out"
    archive(src, arc, CFG, progress=False)
    restore(arc, out, progress=False)
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "a.png").stat().st_mode & 0o777 == 0o640
    assert (out / "b.png").stat().st_mode & 0o777 == (src / "b.png").stat().st_mode & 0o777
    assert (arc / "b.png.irn.jpg").stat().st_mode & 0o777 == 0o666 & ~umask
    cli("down", src / "a.png", tmp_path / "d.png", "--model", "bicubic-x2")
    assert (tmp_path / "d.png").stat().st_mode & 0o777 == 0o666 & ~umask


def test_bombs_and_tiny_references_are_one_line(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(20000, 10001))  # 200.02 MP: just over the one limit
    for cmd in ("down", "up"):
        r = cli(cmd, bomb, tmp_path / f"{cmd}.png", "--model", "bicubic-x2")
        assert r.exit_code == 2 and "200000000" in r.output, r.output
        assert not (tmp_path / f"{cmd}.png").exists()
    small = tmp_path / "small.png"
    Image.new("RGB", (8, 6), (100, 50, 25)).save(small)
    cli("down", small, tmp_path / "s.png", "--model", "bicubic-x2")
    r = cli("up", tmp_path / "s.png", tmp_path / "s_up.png", "--reference", small)
    assert r.exit_code == 2 and "SSIM" in r.output
    assert not (tmp_path / "s_up.png").exists()


def test_restore_config_force_is_off_by_default():
    assert RestoreConfig().force is False
    assert issubclass(LockedError, OutputError)
