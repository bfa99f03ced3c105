"""Lossless JPEG XL packing of stored JPEGs (codecs.pack, archive --pack jxl, restore --jpeg)."""

from __future__ import annotations

import hashlib
import io
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from mediapipe_irn.cli import main
from mediapipe_irn.codecs import EncodeOptions, get_codec
from mediapipe_irn.codecs import pack as pack_mod
from mediapipe_irn.errors import CodecError, InputError
from mediapipe_irn.jobs import MANIFEST_NAME, ArchiveConfig, Manifest, Target, archive, restore
from mediapipe_irn.jobs.restore import RestoreConfig, verify
from mediapipe_irn.jobs.target import stored_file
from mediapipe_irn.pipeline import read_image
from mediapipe_irn.pipeline.images import ImageData
from mediapipe_irn.pipeline.rescale import FrameRescaler

from .conftest import SAMPLES

pytest.importorskip("imagecodecs")


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _tree(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` but the archive's own (manifest, lock)."""
    return {
        p.relative_to(root).as_posix(): _sha(p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith((MANIFEST_NAME, ".mediapipe-irn"))
    }


@pytest.fixture(scope="module")
def photo() -> ImageData:
    return ImageData(read_image(SAMPLES / "astronaut.png").rgb)


def _icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "mediapipe-irn test camera"  # Make
    exif[0x0112] = 1
    return exif.tobytes()


def _camera_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    """A JPEG as cameras write them: standard Huffman tables, EXIF and ICC."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(
        buf, "JPEG", quality=quality, optimize=False, exif=_exif(), icc_profile=_icc()
    )
    return buf.getvalue()


def test_every_stored_form_unpacks_to_the_exact_jpeg(photo):
    jpeg = get_codec("jpeg")
    forms = {
        f"plain {ch}": jpeg.encode([photo.rgb], EncodeOptions(quality=60, subsampling=ch))
        for ch in ("4:2:0", "4:4:4")
    }
    for m in ("deblock-x1", "deblock-x1-444", "sain-x2"):  # full-size restores, the x2 LR
        forms[m] = stored_file(photo, FrameRescaler.load(m), 60)
    forms["EXIF+ICC"] = _camera_jpeg(photo.rgb, 92)
    assert get_codec("jpeg").decode(forms["sain-x2"]).metadata is not None
    for name, data in forms.items():
        packed = pack_mod.pack_jpeg(data)
        assert len(packed) < len(data), name
        assert pack_mod.unpack_jpeg(packed) == data, name


def test_a_jpeg_packing_would_not_shrink_stays_a_jpeg(photo):
    from mediapipe_irn.jobs.stored import packed

    tiny = get_codec("jpeg").encode([photo.rgb[:16, :16]], EncodeOptions(quality=50))
    p = packed(tiny, "jxl")
    assert p.data == tiny and "packed" not in p.fields and p.fields["jpeg_bytes"] == len(tiny)
    assert p.name("a.png.irn.jpg") == "a.png.irn.jpg"
    big = packed(get_codec("jpeg").encode([photo.rgb], EncodeOptions(quality=50)), "jxl")
    assert big.fields["packed"] == "jxl" and big.name("a.png.irn.jpg") == "a.png.irn.jpg.jxl"


def test_packing_refuses_what_is_not_a_jpeg():
    with pytest.raises(CodecError):
        pack_mod.pack_jpeg((SAMPLES / "chelsea.png").read_bytes())
    with pytest.raises(CodecError):
        pack_mod.unpack_jpeg(b"\xff\x0a" + b"\0" * 64)  # a JPEG XL signature, then junk


@pytest.fixture
def src(tmp_path) -> Path:
    s = tmp_path / "src"
    (s / "sub").mkdir(parents=True)
    full = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))
    Image.fromarray(full[96:288, 160:352]).save(s / "crop.png")
    shutil.copy(SAMPLES / "rocket.jpg", s / "sub" / "rocket.jpg")
    (s / "camera.jpg").write_bytes(_camera_jpeg(full[:192, :256], 93))
    rgba = np.dstack([full[:192, 64:320], np.full((192, 256), 200, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(s / "alpha.png")
    return s


def test_packed_archive_restores_what_the_unpacked_one_does(src, tmp_path):
    before = _tree(src)
    target = Target(floor=30.0)
    plain = archive(src, tmp_path / "a", ArchiveConfig(workers=1, target=target), progress=False)
    cfg = ArchiveConfig(workers=1, target=target, pack="jxl")
    packed = archive(src, tmp_path / "p", cfg, progress=False)
    assert plain.exit_code == packed.exit_code == 0 and packed.done == 4
    assert packed.bytes_out < plain.bytes_out
    with Manifest(tmp_path / "p" / MANIFEST_NAME) as man:
        rows = {r.rel_path: r for r in man.records()}
    for r in rows.values():
        unpacked = (tmp_path / "a" / r.jpeg_path).read_bytes()
        if r.codec is not None:  # every stored JPEG is packed, and its row says what it holds
            assert r.packed == "jxl" and r.stored_path == r.jpeg_path + ".jxl"
            assert r.jpeg_sha256 == _sha(unpacked) and r.jpeg_bytes == len(unpacked)
            assert r.stored_bytes < r.jpeg_bytes + (
                (tmp_path / "p" / r.alpha_path).stat().st_size if r.alpha_path else 0
            )
    assert verify(tmp_path / "p", deep=True).exit_code == 0
    restore(tmp_path / "a", tmp_path / "ra", progress=False)
    s = restore(tmp_path / "p", tmp_path / "rp", progress=False)
    assert s.exit_code == 0 and s.done == 4
    assert _tree(tmp_path / "ra") == _tree(tmp_path / "rp")
    # --jpeg: the stored JPEGs themselves, as the unpacked archive holds them; no model
    s = restore(tmp_path / "p", tmp_path / "j", RestoreConfig(stored=True), progress=False)
    assert s.exit_code == 0
    assert _tree(tmp_path / "j") == _tree(tmp_path / "a")
    assert _tree(src) == before


def test_lossless_keeps_jpeg_sources_bit_exact_in_fewer_bytes(src, tmp_path):
    res = CliRunner().invoke(
        main,
        ["archive", str(src), str(tmp_path / "p"), "--lossless", "--pack", "jxl", "--quiet"],
    )
    assert res.exit_code == 0, res.output
    with Manifest(tmp_path / "p" / MANIFEST_NAME) as man:
        rows = {r.rel_path: r for r in man.records()}
    for rel in ("camera.jpg", "sub/rocket.jpg"):
        assert rows[rel].codec is None and rows[rel].packed == "jxl"
        assert rows[rel].stored_bytes < 0.95 * (src / rel).stat().st_size
    assert rows["crop.png"].packed is None  # not a JPEG: stored as it is
    res = CliRunner().invoke(main, ["restore", str(tmp_path / "p"), str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert _tree(tmp_path / "o") == _tree(src)


def test_a_floor_only_the_source_meets_stores_it_packed(tmp_path):
    s = tmp_path / "src"
    s.mkdir()
    rgb = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))[:160, :224]
    (s / "low.jpg").write_bytes(_camera_jpeg(rgb, 30))
    cfg = ArchiveConfig(workers=1, target=Target(floor=60.0), pack="jxl")
    assert archive(s, tmp_path / "p", cfg, progress=False).exit_code == 0
    with Manifest(tmp_path / "p" / MANIFEST_NAME) as man:
        (row,) = man.records()
    assert row.codec is None and row.packed == "jxl" and row.psnr == float("inf")
    restore(tmp_path / "p", tmp_path / "o", progress=False)
    assert (tmp_path / "o" / "low.jpg").read_bytes() == (s / "low.jpg").read_bytes()


def test_rerun_with_packing_repacks_and_leaves_no_orphan(src, tmp_path):
    dest = tmp_path / "p"
    cfg = ArchiveConfig(model="bicubic-x2", quality=80, workers=1)
    assert archive(src, dest, cfg, progress=False).done == 4
    again = archive(src, dest, ArchiveConfig(**{**cfg.__dict__, "pack": "jxl"}), progress=False)
    assert again.done == 4 and again.skipped_done == 0
    v = verify(dest)
    assert v.exit_code == 0 and v.orphans == [] and v.ok == 4
    third = archive(src, dest, ArchiveConfig(**{**cfg.__dict__, "pack": "jxl"}), progress=False)
    assert third.skipped_done == 4 and third.done == 0


def test_a_tampered_packed_file_or_row_is_caught(src, tmp_path):
    dest = tmp_path / "p"
    cfg = ArchiveConfig(model="bicubic-x2", quality=80, workers=1, pack="jxl")
    archive(src, dest, cfg, progress=False)
    stored = dest / "crop.png.irn.jpg.jxl"
    stored.write_bytes(stored.read_bytes()[:-40] + b"\0" * 40)
    db = sqlite3.connect(dest / MANIFEST_NAME)
    with db:  # a row whose JPEG sha256 was changed: its packed file no longer matches it
        db.execute("UPDATE files SET jpeg_sha256 = ? WHERE rel_path = 'camera.jpg'", ("0" * 64,))
    db.close()
    v = verify(dest)
    bad = dict(v.problems)
    assert set(bad) == {"crop.png", "camera.jpg"} and v.exit_code == 1
    assert "sha256" in bad["crop.png"] and "unpack" in bad["camera.jpg"]
    s = restore(dest, tmp_path / "o", progress=False)
    assert s.failed == 2 and s.done == 2
    assert not (tmp_path / "o" / "crop.png").exists()


def test_packing_without_its_binding_is_refused_before_anything(src, tmp_path, monkeypatch):
    dest = tmp_path / "p"
    cfg = ArchiveConfig(model="bicubic-x2", quality=80, workers=1, pack="jxl")
    archive(src, dest, cfg, progress=False)
    before = _tree(dest)
    monkeypatch.setattr(pack_mod, "_codecs", lambda: None)
    with pytest.raises(InputError, match=r"mediapipe-irn\[jxl\]"):
        archive(src, tmp_path / "new", cfg, progress=False)
    assert not (tmp_path / "new").exists()
    res = CliRunner().invoke(main, ["restore", str(dest), str(tmp_path / "o")])
    assert res.exit_code != 0 and "mediapipe-irn[jxl]" in res.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    with pytest.raises(InputError, match="packed"):
        verify(dest)
    assert _tree(dest) == before
