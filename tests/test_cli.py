from __future__ import annotations

import shutil

import click
import pytest
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
    r = CliRunner().invoke(
        main,
        ["down", str(src), str(lr), "--model", "bicubic-x2", "--codec", "jpeg", "--quality", "90"],
    )
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
    r = CliRunner().invoke(
        main, ["down", str(SAMPLES / "coffee.png"), str(tmp_path / "o.png"), "--model", "nope"]
    )
    assert r.exit_code == 2 and "unknown model" in r.output
    r = CliRunner().invoke(main, ["up", str(SAMPLES / "rocket.jpg"), str(tmp_path / "o.png")])
    assert r.exit_code == 2 and "no mediapipe-irn restore metadata" in r.output
    assert not (tmp_path / "o.png").exists()


def test_one_meaning_per_option_and_old_spellings_warn(tmp_path):
    from mediapipe_irn.cli.options import parse_quality

    assert parse_quality("75") == [75]
    assert parse_quality("30:90", "range") == [30, 90] and parse_quality("50", "range") == [50, 50]
    assert parse_quality("20,30,95", "list") == [20, 30, 95]
    for bad, form in (("30:90", "one"), ("1,2", "one"), ("x", "list"), ("90:30", "range")):
        with pytest.raises(click.BadParameter):
            parse_quality(bad, form)
    clip = tmp_path / "c.mp4"
    from .test_video import make_clip

    make_clip(clip, n=3, audio=False)
    r = CliRunner().invoke(
        main,
        [
            "encode",
            str(clip),
            str(tmp_path / "a.mp4"),
            "--model",
            "bicubic-x2",
            "--precision",
            "fp32",
            "--workers",
            "1",
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "--precision is deprecated" in r.output and "--frame-threads" in r.output
    r = CliRunner().invoke(
        main,
        [
            "encode",
            str(clip),
            str(tmp_path / "b.mp4"),
            "--model",
            "bicubic-x2",
            "--exec",
            "fp32",
            "--frame-threads",
            "1",
        ],
    )
    assert r.exit_code == 0 and "deprecated" not in r.output
    r = CliRunner().invoke(main, ["encode", str(clip), str(tmp_path / "c2.mp4"), "--exec", "fast"])
    assert r.exit_code == 2  # a choice, not free text
    r = CliRunner().invoke(
        main,
        [
            "down",
            str(SAMPLES / "chelsea.png"),
            str(tmp_path / "x.jpg"),
            "--codec",
            "jpeg",
            "--quality",
            "30:90",
        ],
    )
    assert r.exit_code == 2 and "only for training" in r.output
