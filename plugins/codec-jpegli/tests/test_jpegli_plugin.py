from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

pytest.importorskip("pyjpegli")

from mediapipe_irn.cli import main  # noqa: E402
from mediapipe_irn.codecs import EncodeOptions, RestoreMetadata, get_codec, list_codecs  # noqa: E402
from mediapipe_irn.metrics import psnr  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def test_registered_and_roundtrips_metadata_exif_icc():
    assert "jpegli" in list_codecs()
    c = get_codec("jpegli")
    rgb = np.asarray(Image.open(SAMPLES / "chelsea.png").convert("RGB"))
    meta = RestoreMetadata(model="sain-x2", scale=2, width=902, height=600)
    exif = Image.Exif()
    exif[0x010F] = "mediapipe-irn test"
    icc = bytes(range(256)) * 300  # 76,800 bytes: two APP2 chunks
    data = c.encode([rgb], EncodeOptions(quality=80), meta, icc=icc, exif=exif.tobytes())
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG" and im.size == (451, 300)
    assert im.info.get("icc_profile") == icc
    assert im.getexif()[0x010F] == "mediapipe-irn test"
    dec = c.decode(data)
    assert dec.metadata == meta
    assert psnr(dec.frames[0], rgb) > 30
    q30 = len(c.encode([rgb], EncodeOptions(quality=30)))
    assert q30 < len(c.encode([rgb], EncodeOptions(quality=90)))


def test_archive_and_restore_with_jpegli(tmp_path):
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
            "jpegli",
            "--model",
            "bicubic-x2",
            "--quiet",
            "--verify",
        ],
    )
    assert r.exit_code == 0, r.output
    stored = tmp_path / "arc" / "coffee.png.irn.jpg"
    assert Image.open(stored).format == "JPEG"
    r = CliRunner().invoke(
        main, ["restore", str(tmp_path / "arc"), str(tmp_path / "out"), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    assert Image.open(tmp_path / "out" / "coffee.png").size == (600, 400)
