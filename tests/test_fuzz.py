"""Mutated real JPEG/PNG/MP4 files through every job: never a traceback, always success or a
one-line error, the source folder byte-identical afterwards, and no file lost silently: every
source is archived or reported, every archived file restored or reported (slow: a few hundred
cases; mutated clips also under a floor; mutated stored files, packed ones too, fed to
restore and verify)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mediapipe_irn.cli import main
from mediapipe_irn.jobs import MANIFEST_NAME, Manifest

from .conftest import SAMPLES

SEEDS = [SAMPLES / "rocket.jpg", SAMPLES / "chelsea.png", SAMPLES / "bbb_3s.mp4"]


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One of: truncation, byte flips, a zeroed header, a zeroed middle run."""
    b = bytearray(data)
    kind = int(rng.integers(4))
    if kind == 0:
        return bytes(b[: int(rng.integers(1, len(b)))])
    if kind == 1:
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(len(b)))
            b[i] ^= 1 << int(rng.integers(8))
        return bytes(b)
    if kind == 2:
        n = int(rng.integers(4, 64))
        b[:n] = bytes(n)
        return bytes(b)
    i = int(rng.integers(len(b)))
    n = int(rng.integers(16, 4096))
    b[i : i + n] = bytes(len(b[i : i + n]))
    return bytes(b)


def corpus(root: Path, cases: int, seed: int) -> list[Path]:
    """``cases`` distinct mutated files under ``root`` (cycling over the seed files)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    out, seen = [], set()
    i = 0
    while len(out) < cases:
        src = SEEDS[i % len(SEEDS)]
        data = mutate(src.read_bytes(), rng)
        i += 1
        if data in seen:
            continue
        seen.add(data)
        p = root / f"case{len(out):03d}{src.suffix}"
        p.write_bytes(data)
        out.append(p)
    return out


def _digest(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}


def _check(args: list[str]) -> str:
    """Run one command: no uncaught exception, no traceback, one error line; its output."""
    r = CliRunner().invoke(main, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"{args}: uncaught {type(r.exception).__name__}: {r.exception}")
    assert r.exit_code in (0, 1, 2), (args, r.exit_code, r.output)
    assert "Traceback" not in r.output, (args, r.output)
    if r.exit_code == 2:
        assert r.output.count("error: ") == 1, (args, r.output)  # one error line
    return r.output


def _accounted(src: Path, arc: Path, out: Path, output: str) -> None:
    """Every source has a row (done, or failed/skipped with a reason the job printed), and
    every done row was restored into ``out`` or named by the restore's output."""
    with Manifest(arc / MANIFEST_NAME, readonly=True) as man:
        rows = {r.rel_path: r for r in man.records()}
    for p in src.iterdir():
        r = rows.get(p.name)
        assert r is not None, f"{p.name}: no row"
        assert r.status == "done" or r.reason, (p.name, r)
    for name, r in rows.items():
        if r.status == "done":
            got = list(out.glob(name + "*"))
            assert got or name in output, f"{name}: neither restored nor reported"


@pytest.mark.slow
def test_mutated_files_never_crash_any_job(tmp_path):
    src = tmp_path / "src"
    files = corpus(src, cases=300, seed=2024)
    before = _digest(src)
    work = tmp_path / "work"
    for i, f in enumerate(files):
        o = work / str(i)
        if f.suffix == ".mp4":
            _check(["encode", f, o / "lr.mp4", "--model", "bicubic-x2", "--frame-threads", "1"])
            _check(["decode", f, o / "hr.mp4", "--model", "bicubic-x2", "--frame-threads", "1"])
        else:
            _check(["down", f, o / "lr.png", "--model", "bicubic-x2"])
            _check(["up", f, o / "hr.png", "--model", "bicubic-x2"])
    # the archive job over the whole mutated folder, packed, then restore and verify it
    arc = tmp_path / "arc"
    _check(
        ["archive", src, arc, "--model", "bicubic-x2", "--workers", "1", "--pack", "jxl", "--quiet"]
    )
    out = _check(["restore", arc, tmp_path / "out", "--quiet"])
    _accounted(src, arc, tmp_path / "out", out)
    _check(["verify", arc, "--deep"])
    # a restore of an archive whose stored files (packed ones among them) were mutated in place
    rng = np.random.default_rng(7)
    stored = sorted(arc.rglob("*.irn.*"))[:80]
    assert len(stored) >= 50 and any(p.suffix == ".jxl" for p in stored)
    for p in stored:
        p.write_bytes(mutate(p.read_bytes(), rng))
    out = _check(["restore", arc, tmp_path / "out2", "--quiet"])
    _accounted(src, arc, tmp_path / "out2", out)
    _check(["verify", arc, "--deep"])
    assert _digest(src) == before
    shutil.rmtree(work, ignore_errors=True)


def _small_clip(path: Path) -> None:
    """A 160×90 cut of the sample clip at NTSC's rate (24 frames): the seed of the clip fuzz."""
    from fractions import Fraction

    import av

    with av.open(str(SEEDS[2])) as inp, av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=Fraction(30000, 1001))
        v.width, v.height, v.pix_fmt = 160, 90, "yuv420p"
        v.options = {"crf": "10"}
        for i, f in enumerate(inp.decode(video=0)):
            if i == 24:
                break
            for p in v.encode(f.reformat(160, 90, "yuv420p")):
                out.mux(p)
        for p in v.encode():
            out.mux(p)


@pytest.mark.slow
def test_mutated_clips_under_a_floor_never_lose_a_file(tmp_path):
    """50 mutated clips archived under a PSNR floor (the CRF search on each, then the whole
    clip), restored and verified: one error line at most, every clip accounted for."""
    seed = tmp_path / "seed.mp4"
    _small_clip(seed)
    rng = np.random.default_rng(11)
    clips = tmp_path / "clips"
    clips.mkdir()
    seen: set[bytes] = set()
    while len(seen) < 50:
        data = mutate(seed.read_bytes(), rng)
        if data not in seen:
            seen.add(data)
            (clips / f"clip{len(seen):02d}.mp4").write_bytes(data)
    before = _digest(clips)
    arc = tmp_path / "arc"
    _check(["archive", clips, arc, "--target-psnr", "30", "--workers", "1", "--quiet"])
    out = _check(["restore", arc, tmp_path / "out", "--quiet"])
    _accounted(clips, arc, tmp_path / "out", out)
    _check(["verify", arc, "--deep"])
    assert _digest(clips) == before
