"""The plugin is picked up through the entry point alone (install it with pip first)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from mediapipe_irn.cli import main
from mediapipe_irn.codecs import EncodeOptions, RestoreMetadata, get_codec, list_codecs
from mediapipe_irn.errors import CodecError
from mediapipe_irn.metrics import psnr

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def test_registered_through_entry_point():
    assert "avif" in list_codecs()


def test_roundtrip_with_metadata():
    img = np.asarray(Image.open(SAMPLES / "chelsea.png").convert("RGB"))[:100, :150].copy()
    meta = RestoreMetadata("sain-x2", 2, 300, 200)
    c = get_codec("avif")
    data = c.encode([img], EncodeOptions(quality=80), meta)
    dec = c.decode(data)
    assert dec.metadata == meta and dec.frames[0].shape == img.shape
    assert psnr(dec.frames[0], img) > 28
    with pytest.raises(CodecError):
        c.decode(data[: len(data) // 2])


def test_archive_uses_the_plugin(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(SAMPLES / "coffee.png", src / "coffee.png")
    r = CliRunner().invoke(
        main,
        [
            "archive",
            str(src),
            str(tmp_path / "arc"),
            "--codec",
            "avif",
            "--quality",
            "60",
            "--model",
            "bicubic-x2",
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "arc" / "coffee.png.irn.avif").is_file()
    r = CliRunner().invoke(
        main, ["restore", str(tmp_path / "arc"), str(tmp_path / "out"), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    assert Image.open(tmp_path / "out" / "coffee.png").size == (600, 400)


def test_finetune_straight_through(tmp_path):
    from mediapipe_irn.train import CodecConfig, TrainConfig, Trainer

    data = tmp_path / "d"
    data.mkdir()
    shutil.copy(SAMPLES / "coffee.png", data / "c.png")
    cfg = TrainConfig(
        model="irn-x2",
        data=(str(data),),
        out=str(tmp_path / "ck.pt"),
        steps=1,
        batch=2,
        patch=32,
        codec=CodecConfig("avif", (40, 60)),
        warmup=1,
    )
    t = Trainer(cfg)
    assert cfg.codec.gradient() == "identity"
    t.fit(progress=False)
    assert t.step == 1
