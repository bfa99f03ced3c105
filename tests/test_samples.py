"""The example scripts in samples/ run as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import SAMPLES


def test_example_roundtrip_runs():
    r = subprocess.run(
        [sys.executable, str(SAMPLES / "example_roundtrip.py"), str(SAMPLES / "coffee.png"), "50"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "dB" in r.stdout


def test_example_archive_runs(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "chelsea.png").write_bytes((SAMPLES / "chelsea.png").read_bytes())
    r = subprocess.run(
        [sys.executable, str(SAMPLES / "example_archive.py"), str(src), str(tmp_path / "arc")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "1 archived" in r.stdout and "chelsea.png" in r.stdout
