from __future__ import annotations

import numpy as np
import pytest
import torch

from mediapipe_irn.codecs import EncodeOptions, get_codec
from mediapipe_irn.metrics import psnr
from mediapipe_irn.pipeline import to_tensor, to_uint8
from mediapipe_irn.simulate import diff_jpeg, quality_tables, real_codec

from .conftest import sample_rgb


def test_quality_tables_follow_libjpeg():
    tl, tc = quality_tables(torch.tensor([50.0, 75.0, 10.0, 100.0]))
    assert tl[0, 0, 0] == 16 and tc[0, 0, 0] == 17  # q50 = base tables
    assert tl[1, 0, 0] == 8  # (16·50+50)//100
    assert tl[2, 7, 7] == 255  # clipped
    assert tl[3].max() == 1


@pytest.mark.parametrize("q", [30, 50, 75, 90])
@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png"])
def test_simulator_matches_libjpeg(name, q):
    img = sample_rgb(name)[:200, :250].copy()
    real = get_codec("jpeg").decode(get_codec("jpeg").encode([img], EncodeOptions(quality=q)))
    sim = to_uint8(diff_jpeg(to_tensor(img), q))
    assert psnr(sim, real.frames[0]) >= 40.0
    assert abs(psnr(sim, img) - psnr(real.frames[0], img)) <= 0.2


def test_per_image_quality_and_gradient():
    x = torch.rand(2, 3, 40, 56, requires_grad=True)
    y = diff_jpeg(x, torch.tensor([20.0, 95.0]))
    assert y.shape == x.shape
    assert (y[0] - x[0]).abs().mean() > (y[1] - x[1]).abs().mean()
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("rounding", ["cubic", "fourier"])
def test_surrogates_are_close_to_exact(rounding):
    x = to_tensor(sample_rgb()[:64, :64].copy())
    assert psnr(to_uint8(diff_jpeg(x, 50, rounding=rounding)), to_uint8(diff_jpeg(x, 50))) > 30


@pytest.mark.parametrize(
    "codec,grad", [("jpeg", "simulator"), ("jpeg", "identity"), ("webp", "identity")]
)
def test_straight_through_forward_is_the_real_codec(codec, grad):
    img = sample_rgb()[:48, :64].copy()
    x = to_tensor(img).requires_grad_(True)
    y = real_codec(x, codec, [40], grad)
    c = get_codec(codec)
    ref = c.decode(c.encode([img], EncodeOptions(quality=40))).frames[0]
    assert np.array_equal(to_uint8(y), ref)
    y.sum().backward()
    assert x.grad.abs().sum() > 0


def test_jpeg_size_estimate_tracks_libjpeg_turbo():
    """The size proxy against real libjpeg-turbo sizes on the samples (fitted on other data)."""
    from mediapipe_irn.codecs import EncodeOptions, get_codec
    from mediapipe_irn.pipeline.images import to_tensor
    from mediapipe_irn.simulate import jpeg_bits

    codec = get_codec("jpeg")
    est, real = [], []
    for name in ("chelsea.png", "coffee.png", "astronaut.png"):
        rgb = sample_rgb(name)[:200, :256]
        for q in (20, 50, 80, 95):
            real.append(8 * len(codec.encode([rgb], EncodeOptions(quality=q))))
            est.append(float(jpeg_bits(to_tensor(rgb), q)))
    est, real = np.array(est), np.array(real)
    assert np.corrcoef(est, real)[0, 1] > 0.98
    assert np.mean(np.abs(est - real) / real) < 0.10


def test_jpeg_size_estimate_has_a_useful_gradient():
    from mediapipe_irn.simulate import jpeg_bits
    from mediapipe_irn.simulate.jpeg_rate import fit_rate_weights, rate_features

    x = torch.rand(2, 3, 32, 48, generator=torch.Generator().manual_seed(0), requires_grad=True)
    bits = jpeg_bits(x, torch.tensor([30.0, 90.0]))
    assert bits[1] > bits[0] > 0  # higher quality, more bits
    bits.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # a step against the gradient makes the image cheaper (smoother)
    with torch.no_grad():
        y = (x - 0.02 * x.grad.sign()).clamp(0, 1)
    assert float(jpeg_bits(y, 30.0)[0]) < float(bits[0].detach())
    f = rate_features(x.detach(), 50.0)
    w = fit_rate_weights(f.repeat(4, 1) * torch.rand(8, 1), torch.rand(8) * 1e4 + 1e3)
    assert all(v >= 0 for v in w) and len(w) == f.shape[1]


def test_codecs_own_their_proxies_and_plugins_bring_theirs(monkeypatch):
    """real_codec's "simulator" gradient comes from the codec's own proxy(); a third-party
    codec registered with a proxy gets its gradient, one without gets a clear error."""
    from mediapipe_irn.codecs import base, codec_proxy
    from mediapipe_irn.simulate.proxy import JPEGProxy

    assert isinstance(codec_proxy(get_codec("jpeg")), JPEGProxy)
    assert codec_proxy(get_codec("png")) is None and codec_proxy(get_codec("webp")) is None
    assert codec_proxy(get_codec("h264")).quality_map is not None

    class Halver:  # a proxy whose gradient is visibly its own: d/dx (x/2) = 1/2
        def simulate(self, x, quality):
            return x / 2

        def bits(self, x, quality):
            return x.sum((1, 2, 3))

    class Plugin:
        name, kind, extension = "test-plugin", "image", ".png"
        default_quality, quality_range = 75, (1, 100)

        def encode(self, frames, options=None, metadata=None, icc=None, exif=None):
            return get_codec("png").encode(frames)

        def decode(self, data):
            return get_codec("png").decode(data)

        def proxy(self):
            return Halver()

    class NoProxy(Plugin):
        name = "test-plugin-plain"

        def proxy(self):
            return None

    base.list_codecs()  # entry points discovered first, so the two below are the only change
    monkeypatch.setitem(base._CODECS, "test-plugin", Plugin)
    monkeypatch.setitem(base._CODECS, "test-plugin-plain", NoProxy)
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    real_codec(x, "test-plugin", [75], grad="simulator").sum().backward()
    assert torch.allclose(x.grad, torch.full_like(x, 0.5))
    with pytest.raises(ValueError, match="no simulator"):
        real_codec(x, "test-plugin-plain", [75], grad="simulator")
