"""What the archive tells the user is true: settings changes store files again, savings come
from real searches, every file is accounted for, options are checked before any file."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from mediapipe_irn.cli import main
from mediapipe_irn.jobs import MANIFEST_NAME, ArchiveConfig, Manifest, Target, archive
from mediapipe_irn.jobs.target import smallest_bytes
from mediapipe_irn.pipeline import read_image

from .conftest import SAMPLES

CFG = ArchiveConfig(model="bicubic-x2", quality=80, workers=1)


@pytest.fixture
def src(tmp_path):
    s = tmp_path / "src"
    s.mkdir()
    full = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))
    Image.fromarray(full[96:288, 160:352]).save(s / "crop.png")
    shutil.copy(SAMPLES / "rocket.jpg", s / "rocket.jpg")
    return s


def _rows(dest):
    with Manifest(dest / MANIFEST_NAME, readonly=True) as man:
        return {r.rel_path: r for r in man.records()}


def test_a_changed_quality_stores_the_files_again(src, tmp_path):
    dest = tmp_path / "arc"
    assert archive(src, dest, CFG, progress=False).done == 2
    again = archive(src, dest, ArchiveConfig(**{**CFG.__dict__, "quality": 60}), progress=False)
    assert again.done == 2 and again.skipped_done == 0
    assert {r.quality for r in _rows(dest).values()} == {60}
    same = archive(src, dest, ArchiveConfig(**{**CFG.__dict__, "quality": 60}), progress=False)
    assert same.skipped_done == 2 and same.done == 0


@pytest.mark.pretrained
def test_a_changed_floor_stores_the_files_again(src, tmp_path):
    dest = tmp_path / "arc"
    cfg = ArchiveConfig(workers=1, target=Target(floor=30.0))
    archive(src, dest, cfg, progress=False)
    res = CliRunner().invoke(
        main, ["archive", str(src), str(dest), "--target-psnr", "32", "--quiet"]
    )
    assert res.exit_code == 0 and "0 already done" in res.output, res.output
    rows = _rows(dest)
    assert all(r.target == "psnr>=32" and r.psnr >= 32 for r in rows.values())
    # and the saving it prints is the plain codec's own search, image by image
    for name, r in rows.items():
        img = read_image(src / name)
        plain = min(smallest_bytes(img, 32.0, "jpeg", ch) for ch in ("4:2:0", "4:4:4"))
        assert r.plain_bytes == plain


def test_out_of_range_options_are_refused_before_any_file(src, tmp_path):
    for opts in (["--quality", "150"], ["--crf", "99"], ["--max-pixels", "-1"]):
        res = CliRunner().invoke(main, ["archive", str(src), str(tmp_path / "arc"), *opts])
        assert res.exit_code == 2, (opts, res.output)
        assert not (tmp_path / "arc").exists()


def test_report_lists_every_file_and_its_result(src, tmp_path):
    (src / "notes.txt").write_text("kept as it is")
    (src / "broken.png").write_bytes(b"\x89PNG broken")
    dest = tmp_path / "arc"
    archive(src, dest, ArchiveConfig(**{**CFG.__dict__, "verify": True}), progress=False)
    res = CliRunner().invoke(main, ["report", str(dest), "--json"])
    assert res.exit_code == 0
    rep = json.loads(res.output)
    files = {r["file"]: r for r in rep["files"]}
    assert set(files) == {"crop.png", "rocket.jpg", "notes.txt", "broken.png"}
    assert files["crop.png"]["stored_as"] == "jpeg@bicubic-x2" and files["crop.png"]["psnr"] > 20
    assert 0 < files["crop.png"]["ssimulacra2"] < 100  # every metric of the stored result
    assert files["notes.txt"]["stored_as"] == "unchanged"
    assert "not kept in the stored file: DPI, text comments" in files["rocket.jpg"]["note"]
    assert files["broken.png"]["status"] == "failed" and files["broken.png"]["note"]
    assert rep["totals"]["failed"] == 1 and rep["totals"]["done"] == 3
    table = CliRunner().invoke(main, ["report", str(dest)]).output
    assert "crop.png" in table and "jpeg@bicubic-x2" in table and "1 failed" in table


def test_verify_deep_decodes_the_stored_clips(tmp_path):
    import sqlite3

    from .test_target import _clip

    s = tmp_path / "src"
    s.mkdir()
    _clip(s / "clip.mp4", frames=12, audio=False)
    dest = tmp_path / "arc"
    archive(s, dest, ArchiveConfig(workers=1, crf=30), progress=False)
    (r,) = _rows(dest).values()
    stored = dest / r.stored_path
    data = bytearray(stored.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 4000] = bytes(4000)  # frames gone, container intact
    stored.write_bytes(bytes(data))
    import hashlib

    db = sqlite3.connect(dest / MANIFEST_NAME)
    with db:  # the manifest agrees with the damaged file: only decoding it can tell
        sha = hashlib.sha256(bytes(data)).hexdigest()
        db.execute("UPDATE files SET stored_sha256 = ?, stored_bytes = ?", (sha, len(data)))
    db.close()
    assert CliRunner().invoke(main, ["verify", str(dest)]).exit_code == 0
    res = CliRunner().invoke(main, ["verify", str(dest), "--deep"])
    assert res.exit_code == 1 and "clip.mp4" in res.output


def test_a_video_saving_is_never_an_estimate(tmp_path):
    from .test_target import _clip

    s = tmp_path / "src"
    s.mkdir()
    _clip(s / "clip.mp4", frames=30, audio=False)
    dest = tmp_path / "arc"
    summary = archive(s, dest, ArchiveConfig(workers=1, target=Target(floor=30.0)), progress=False)
    (r,) = _rows(dest).values()
    assert r.plain_bytes is None and summary.plain_bytes == 0


@pytest.mark.parametrize(
    "opts",
    [
        ["--target-psnr", "30", "--quality", "80"],
        ["--target-psnr", "30", "--verify"],
        ["--quality-level", "high", "--refine", "2"],
        ["--lossless", "--quality", "90"],
        ["--lossless", "--models", "sain-x2"],
    ],
)
def test_options_a_mode_ignores_are_refused(src, tmp_path, opts):
    res = CliRunner().invoke(main, ["archive", str(src), str(tmp_path / "arc"), *opts])
    assert res.exit_code == 2 and "has no effect" in res.output, res.output
    assert not (tmp_path / "arc").exists()
