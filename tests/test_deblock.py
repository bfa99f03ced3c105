"""The full-resolution JPEG restore (``deblock-x1``): identity when new, seam-free tiles and
runtime halves on odd sizes, told the quality, and a plain JPEG file on disk."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mediapipe_irn.codecs import EncodeOptions, get_codec
from mediapipe_irn.models import create_model
from mediapipe_irn.pipeline import downscale_image, upscale_image
from mediapipe_irn.pipeline.rescale import FrameRescaler

from .conftest import randomize


def _model(std: float = 0.0):
    m = create_model("deblock-x1", pretrained=False)
    return (randomize(m, std=std) if std else m).eval()


def test_new_model_restores_the_decoded_image_itself():
    x = torch.rand(1, 3, 37, 53, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        lr, _ = downscale_image(_model(), x, precision="fp32")
        out = upscale_image(_model(), lr, precision="fp32", quality=50)
    assert torch.equal(lr, (x * 255).round() / 255)  # the stored image is the image
    assert out.shape == x.shape and (out - lr).abs().max() < 1e-6


@pytest.mark.parametrize("size", [(37, 53), (150, 191)])
def test_tiles_match_the_whole_image_on_odd_sizes(size):
    m = _model(std=0.05)
    lr = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        whole = upscale_image(m, lr, tile=4096, precision="fp32", quality=40)
        tiled = upscale_image(m, lr, tile=48, precision="fp32", quality=40)
        unaware = upscale_image(m, lr, tile=4096, precision="fp32")
        direct = m.upscale(lr, quality=torch.tensor([40.0])).clamp(0, 1)  # odd sides padded
    assert whole.shape == lr.shape == direct.shape
    assert (whole - direct).abs().max() < 1e-5
    assert (whole - tiled).abs().max() < 1e-5
    assert (whole - lr).abs().max() > 1e-2  # the randomised network does something
    assert (whole - unaware).abs().max() > 1e-3  # and the quality reaches it


def test_too_little_overlap_shows_seams():
    m = _model(std=0.05)
    lr = torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        whole = upscale_image(m, lr, tile=4096, precision="fp32")
        seams = upscale_image(m, lr, tile=32, overlap=0, precision="fp32")
    assert (whole - seams).abs().max() > 1e-3


@pytest.mark.parametrize("engine", ["onnx", "openvino"])
@pytest.mark.parametrize("shape", [(151, 203), (203, 151)])
def test_runtimes_match_float32_on_odd_sizes(engine, shape):
    """The exported restore takes even sides; odd images, tiles and OpenVINO's two halves
    (two threads) stay on that grid."""
    from mediapipe_irn.pipeline import onnx_backend

    if not onnx_backend.available(engine):
        pytest.skip(f"{engine} not installed")
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        m = _model(std=0.05)
        lr = torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(3))
        with torch.no_grad():
            ref = upscale_image(m, lr, precision="fp32", quality=60)
            got = upscale_image(m, lr, precision=engine, quality=60)
            tiled = upscale_image(m, lr, precision=engine, quality=60, tile=64)
        assert (got - ref).abs().max() < 1e-4
        assert (tiled - ref).abs().max() < 1e-4
    finally:
        torch.set_num_threads(threads)


def test_stored_file_is_a_plain_full_size_jpeg(tmp_path):
    from PIL import Image

    rgb = np.random.default_rng(0).integers(0, 256, (45, 61, 3), dtype=np.uint8)
    r = FrameRescaler(_model(std=0.02), "fp32")
    lr = r.down(rgb)
    assert np.array_equal(lr, rgb)
    jpeg = get_codec("jpeg")
    data = jpeg.encode([lr], EncodeOptions(quality=70), r.metadata(61, 45))
    (tmp_path / "x.jpg").write_bytes(data)
    with Image.open(tmp_path / "x.jpg") as im:
        assert im.format == "JPEG" and im.size == (61, 45)
    dec = jpeg.decode(data)
    assert dec.metadata is not None and dec.metadata.scale == 1 and dec.quality == 70
    out = r.up(dec.frames[0], dec.metadata, dec.quality)
    assert out.shape == rgb.shape and not np.array_equal(out, dec.frames[0])


def test_444_variant_stores_and_trains_on_full_resolution_chroma():
    from PIL import Image, JpegImagePlugin

    from mediapipe_irn.simulate import run_codec

    m = create_model("deblock-x1-444", pretrained=False)
    assert m.lr_subsampling == "4:4:4" and _model().lr_subsampling == "4:2:0"
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[:, ::2] = (255, 0, 0)  # one-pixel colour stripes: 4:2:0 averages them away
    rgb[:, 1::2] = (0, 0, 255)
    from mediapipe_irn.api import encode_downscaled

    r = FrameRescaler(m, "fp32")
    data, _ = encode_downscaled(
        r.down(rgb), r.metadata(32, 32), _image(rgb), "jpeg", 90, False, "4:4:4"
    )
    import io

    with Image.open(io.BytesIO(data)) as im:
        assert JpegImagePlugin.get_sampling(im) == 0  # 4:4:4
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    full = run_codec(x, "jpeg", [90], "4:4:4")
    sub = run_codec(x, "jpeg", [90])
    assert (full - x).abs().mean() < 0.5 * (sub - x).abs().mean()


def _image(rgb):
    from mediapipe_irn.pipeline.images import ImageData

    return ImageData(rgb)


def test_archive_tries_the_full_size_restore_in_the_plain_files_chroma():
    """One full-size restore path per image: the one coded like the smallest plain JPEG."""
    from mediapipe_irn.jobs import Target, choose
    from mediapipe_irn.pipeline import read_image

    from .conftest import SAMPLES

    rs = {
        n: FrameRescaler(randomize(create_model(n, pretrained=False), std=0.01), "fp32")
        for n in ("deblock-x1", "deblock-x1-444")
    }
    img = read_image(SAMPLES / "astronaut.png")
    small = _image(np.ascontiguousarray(img.rgb[96:224, 160:288]))
    for floor in (28.0, 40.0):
        c = choose(small, Target(floor=floor, models=tuple(rs)), rs)
        plain = [k for k in c.tried if "@full" in k and c.tried[k] == c.plain_bytes]
        tried = [k for k in c.tried if "deblock" in k]
        assert len(tried) == 1, c.tried
        assert tried[0].endswith("-444") == plain[0].endswith("4:4:4"), c.tried


def _file_with_gain(rgb: np.ndarray, gain: str) -> bytes:
    from mediapipe_irn.codecs import RestoreMetadata

    h, w = rgb.shape[:2]
    meta = RestoreMetadata("deblock-x1", 1, w, h, extra={"gain": gain})
    return get_codec("jpeg").encode([rgb], EncodeOptions(quality=40), meta)


def test_restore_gain_blends_the_decoded_file_and_the_filter():
    """A file's restore gain (``extra['gain']``): 0 restores the plain decode, 1 the filter's
    output, 0.5 halfway; a gain that is not a number in 0–2 is refused."""
    from mediapipe_irn.api import decode_lr
    from mediapipe_irn.errors import MetadataError

    rng = np.random.default_rng(3)
    rgb = (rng.random((40, 56, 3)) * 255).astype(np.uint8)
    plain = get_codec("jpeg").decode(_file_with_gain(rgb, "0.00")).frames[0].astype(float)
    out = {g: decode_lr(_file_with_gain(rgb, g))[0].rgb.astype(float) for g in ("0.00", "0.50")}
    full = decode_lr(_file_with_gain(rgb, "1.00"))[0].rgb.astype(float)
    assert np.array_equal(out["0.00"], plain)
    assert np.abs(full - plain).max() > 2  # the shipped filter changes this file
    assert np.abs(out["0.50"] - (plain + full) / 2).max() <= 1.0
    for bad in ("abc", "2.50", "-0.10"):
        with pytest.raises(MetadataError, match="gain"):
            decode_lr(_file_with_gain(rgb, bad))
