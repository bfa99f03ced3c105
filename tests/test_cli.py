from __future__ import annotations

import shutil

from click.testing import CliRunner

from mediapipe_irn.cli import main

from .conftest import SAMPLES


def test_models_lists_names():
    r = CliRunner().invoke(main, ["models"])
    assert r.exit_code == 0
    assert "sain-x2-paper" in r.output and "1,667,952" in r.output


def test_down_up_roundtrip(tmp_path):
    src = tmp_path / "in put é.png"
    shutil.copy(SAMPLES / "chelsea.png", src)
    before = src.read_bytes()
    lr, hr = tmp_path / "lr.jpg", tmp_path / "hr.png"
    r = CliRunner().invoke(main, ["down", str(src), str(lr), "--model", "bicubic-x2",
                                  "--codec", "jpeg", "--quality", "90"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["up", str(lr), str(hr), "--reference", str(src)])
    assert r.exit_code == 0, r.output
    assert "PSNR" in r.output
    psnr = float(r.output.split("PSNR ")[1].split(" dB")[0])
    assert 25 < psnr < 45
    assert src.read_bytes() == before
    r = CliRunner().invoke(main, ["down", str(src), str(lr), "--model", "bicubic-x2"])
    assert r.exit_code == 2 and "exists" in r.output


def test_clear_errors(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    r = CliRunner().invoke(main, ["down", str(bad), str(tmp_path / "o.png")])
    assert r.exit_code == 2 and "not a readable image" in r.output
    r = CliRunner().invoke(main, ["down", str(SAMPLES / "coffee.png"), str(tmp_path / "o.png"),
                                  "--model", "nope"])
    assert r.exit_code == 2 and "unknown model" in r.output
    r = CliRunner().invoke(main, ["up", str(SAMPLES / "rocket.jpg"), str(tmp_path / "o.png")])
    assert r.exit_code == 2 and "no mediapipe-irn restore metadata" in r.output
    assert not (tmp_path / "o.png").exists()
