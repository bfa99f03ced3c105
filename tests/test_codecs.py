from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mediapipe_irn.codecs import EncodeOptions, RestoreMetadata, get_codec, list_codecs, sniff_codec
from mediapipe_irn.errors import CodecError, MetadataError, UnknownCodecError
from mediapipe_irn.metrics import psnr

from .conftest import sample_rgb

META = RestoreMetadata("sain-x2", 2, width=451, height=300, pad_w=1, pad_h=0)
IMAGE_CODECS = ["jpeg", "png", "webp"]


def test_builtin_codecs_registered():
    assert {"jpeg", "png", "webp", "h264"} <= set(list_codecs())
    with pytest.raises(UnknownCodecError, match="registered"):
        get_codec("nope")


@pytest.mark.parametrize("name", IMAGE_CODECS)
@pytest.mark.parametrize("shape", [(150, 226), (67, 93), (1, 1), (33, 8)])
def test_image_roundtrip_and_metadata(name, shape):
    img = sample_rgb()[: shape[0], : shape[1]].copy()
    c = get_codec(name)
    data = c.encode([img], EncodeOptions(quality=95), META)
    assert sniff_codec(data) == name
    dec = c.decode(data)
    assert dec.frames[0].shape == img.shape
    assert dec.metadata == META
    if name == "png":
        assert np.array_equal(dec.frames[0], img)
    elif min(shape) > 8:
        assert psnr(dec.frames[0], img) > 30


@pytest.mark.parametrize("name", IMAGE_CODECS)
def test_grey_input_is_expanded_and_rgba_refused(name):
    c = get_codec(name)
    grey = sample_rgb()[:40, :40, 0].copy()
    dec = c.decode(c.encode([grey], EncodeOptions(quality=90)))
    assert dec.frames[0].shape == (40, 40, 3)
    with pytest.raises(CodecError, match="alpha"):
        c.encode([np.zeros((8, 8, 4), np.uint8)])


@pytest.mark.parametrize("name", IMAGE_CODECS)
def test_corrupt_and_truncated_refused(name):
    c = get_codec(name)
    data = c.encode([sample_rgb()[:64, :64].copy()], EncodeOptions(quality=80), META)
    with pytest.raises(CodecError):
        c.decode(data[: len(data) // 2])
    with pytest.raises(CodecError):
        c.decode(b"")
    with pytest.raises(CodecError):
        c.decode(b"\x00" * 100)


def test_jpeg_quality_and_subsampling_options():
    c = get_codec("jpeg")
    img = sample_rgb()[:96, :96].copy()
    lo = c.encode([img], EncodeOptions(quality=20))
    hi = c.encode([img], EncodeOptions(quality=95))
    full = c.encode([img], EncodeOptions(quality=95, subsampling="4:4:4"))
    assert len(lo) < len(hi) < len(full)
    with pytest.raises(CodecError, match="quality"):
        c.encode([img], EncodeOptions(quality=0))


def test_jpeg_huffman_optimisation_is_lossless_and_smaller():
    c = get_codec("jpeg")
    img = sample_rgb()[:128, :160].copy()
    for q in (30, 90):
        plain = c.encode([img], EncodeOptions(quality=q), META)
        opt = c.encode([img], EncodeOptions(quality=q, optimize=True), META)
        assert len(opt) < len(plain)
        a, b = c.decode(plain), c.decode(opt)
        assert np.array_equal(a.frames[0], b.frames[0])  # the same coefficients, recoded
        assert b.metadata == META


def test_optimised_jpeg_of_a_detailed_image_at_high_quality_444(capfd):
    # more than one byte per pixel: Pillow's in-memory buffer for optimised JPEG overflows
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (256, 320, 3), dtype=np.uint8)  # over Pillow's 64 KiB floor
    c = get_codec("jpeg")
    data = c.encode([img], EncodeOptions(quality=93, subsampling="4:4:4", optimize=True))
    assert len(data) > img.shape[0] * img.shape[1]
    plain = c.encode([img], EncodeOptions(quality=93, subsampling="4:4:4"))
    assert np.array_equal(c.decode(data).frames[0], c.decode(plain).frames[0])
    # sized from the start: libjpeg never fails (and prints nothing) on the way
    assert "Suspension" not in capfd.readouterr().err
    worst = c.encode([img], EncodeOptions(quality=100, subsampling="4:4:4", optimize=True))
    assert len(worst) > 2 * img.shape[0] * img.shape[1]  # beyond that: the retry still writes it


def test_archive_stores_optimised_jpegs(tmp_path):
    from PIL import Image

    from mediapipe_irn.jobs import ArchiveConfig, archive
    from mediapipe_irn.jobs.target import OPTIMIZE

    src = tmp_path / "src"
    src.mkdir()
    Image.fromarray(sample_rgb()[:128, :160].copy()).save(src / "a.png")
    archive(src, tmp_path / "arc", ArchiveConfig(model="bicubic-x2", quality=60))
    (stored,) = (tmp_path / "arc").rglob("*.jpg")
    data = stored.read_bytes()
    c = get_codec("jpeg")
    dec = c.decode(data)
    again = c.encode(dec.frames, EncodeOptions(quality=60, optimize=False), dec.metadata)
    assert OPTIMIZE and len(data) < len(again)  # same pixels re-coded with standard tables


def test_metadata_errors_say_what_was_found():
    with pytest.raises(MetadataError, match="no mediapipe-irn"):
        RestoreMetadata.from_json(None)
    with pytest.raises(MetadataError, match="foreign"):
        RestoreMetadata.from_json("Created with GIMP")
    newer = META.to_json().replace('"mpirn":2', '"mpirn":99')
    with pytest.raises(MetadataError, match="version 99"):
        RestoreMetadata.from_json(newer)
    assert RestoreMetadata.from_json(META.to_json()) == META
    with pytest.raises(MetadataError, match="incomplete"):
        RestoreMetadata.from_json(META.to_json().replace('"w":451,', ""))


SHA = "cfa0812126233a1643be84bf7742730976d9adda1b3cb5df2e11fb48545cad0c"


def test_compact_metadata_keeps_everything_in_under_100_bytes():
    """Version 2 rides in every stored file: short keys, the weights' sha256 cut to 16 hex
    digits; every field and extra (known or not) comes back."""
    full = RestoreMetadata(
        "deblock-x1", 1, 481, 321, extra={"gain": "0.87", "weights_sha256": SHA, "grey": True}
    )
    text = full.to_json()
    assert len(text) < 100 and SHA[:16] in text and SHA[:17] not in text
    back = RestoreMetadata.from_json(text)
    assert back == replace(full, extra={**full.extra, "weights_sha256": SHA[:16]})
    odd = RestoreMetadata("sain-x2", 2, 451, 301, 1, 1, extra={"note": [1, 2]})
    assert RestoreMetadata.from_json(odd.to_json()) == odd


def test_version_1_metadata_is_still_read():
    """Files written before the compact form: the long keys, the full sha256."""
    v1 = (
        '{"extra":{"gain":"1.00","weights_sha256":"' + SHA + '"},"format":"mediapipe-irn",'
        '"height":321,"model":"deblock-x1","pad_h":0,"pad_w":0,"scale":1,"version":1,'
        '"width":481}'
    )
    m = RestoreMetadata.from_json(v1)
    assert (m.model, m.scale, m.width, m.height, m.version) == ("deblock-x1", 1, 481, 321, 1)
    assert m.extra == {"gain": "1.00", "weights_sha256": SHA}


def test_jpeg_without_metadata_decodes_with_none():
    c = get_codec("jpeg")
    dec = c.decode(c.encode([sample_rgb()[:32, :32].copy()]))
    assert dec.metadata is None


@pytest.mark.parametrize("shape", [(64, 96), (67, 93)])
def test_h264_roundtrip(shape):
    c = get_codec("h264")
    base = sample_rgb()[: shape[0], : shape[1]]
    frames = [np.roll(base, i, axis=1).copy() for i in range(6)]
    data = c.encode(frames, EncodeOptions(quality=18), META)
    dec = c.decode(data)
    assert len(dec.frames) == 6
    assert dec.frames[0].shape == frames[0].shape
    assert dec.metadata == META
    assert psnr(dec.frames[3], frames[3]) > 30
    with pytest.raises(CodecError):
        c.decode(data[: len(data) // 3])


def test_jpeg_decode_reads_back_the_quality():
    """The decoder reads the quality from the file's tables: libjpeg-turbo's exactly at every
    quality and subsampling; formats without tables say None."""
    rng = np.random.default_rng(0)
    f = rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)
    jpeg = get_codec("jpeg")
    for q in range(1, 101):
        sub = "4:4:4" if q % 2 else "4:2:0"
        data = jpeg.encode([f], EncodeOptions(quality=q, subsampling=sub))
        assert jpeg.decode(data).quality == q
    png = get_codec("png")
    assert png.decode(png.encode([f])).quality is None
    # what training and HCD may tell a restore: only where the decoder reads it back
    from mediapipe_irn.codecs import reads_back_quality

    assert reads_back_quality(jpeg)
    assert not any(reads_back_quality(get_codec(n)) for n in ("png", "webp", "h264"))


def test_jpeg_takes_qualities_between_whole_ones():
    """JPEG at a fractional quality: libjpeg's tables scaled between the whole qualities' (a
    size between theirs, read back as the nearest whole quality); whole qualities are coded
    exactly as libjpeg codes them; other codecs refuse a fractional quality."""
    import io

    from PIL import Image

    from mediapipe_irn.codecs.image import jpeg_tables
    from mediapipe_irn.jobs.target import quality_levels

    rng = np.random.default_rng(0)
    rgb = np.clip(rng.normal(128, 40, (64, 80, 3)), 0, 255).astype(np.uint8)
    jpeg = get_codec("jpeg")
    sizes = [len(jpeg.encode([rgb], EncodeOptions(quality=q))) for q in (93, 93.4, 93.8, 94)]
    assert sizes == sorted(sizes) and len(set(sizes)) == 4
    data = jpeg.encode([rgb], EncodeOptions(quality=93.4))
    assert jpeg.decode(data).quality == 93
    assert list(Image.open(io.BytesIO(data)).quantization[0]) == jpeg_tables(93.4)[0]
    whole = jpeg.encode([rgb], EncodeOptions(quality=90, optimize=True))
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90, optimize=True)
    assert whole == buf.getvalue()
    with pytest.raises(CodecError, match="whole qualities"):
        get_codec("webp").encode([rgb], EncodeOptions(quality=50.5))
    levels = quality_levels(jpeg)
    assert levels[:3] == [1, 2, 3] and levels[-1] == 100 and 93.4 in levels
    lo, hi = get_codec("webp").quality_range
    assert levels == sorted(levels) and quality_levels(get_codec("webp")) == list(range(lo, hi + 1))
