from __future__ import annotations

import math

import numpy as np
import pytest

from mediapipe_irn.metrics import bd_psnr, bd_rate, bits_per_pixel, mse_u8, psnr, ssim

from .conftest import sample_rgb

skm = pytest.importorskip("skimage.metrics")


def _noisy(rng):
    a = sample_rgb("coffee.png")[:200, :240]
    b = np.clip(a.astype(int) + rng.integers(-12, 13, a.shape), 0, 255).astype(np.uint8)
    return a, b


def test_psnr_matches_scikit_image(rng):
    a, b = _noisy(rng)
    assert psnr(a, b) == pytest.approx(skm.peak_signal_noise_ratio(a, b, data_range=255), abs=1e-6)
    assert psnr(a, a) == math.inf


def test_ssim_matches_scikit_image(rng):
    a, b = _noisy(rng)
    ref = skm.structural_similarity(
        a,
        b,
        channel_axis=2,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
    )
    assert ssim(a, b) == pytest.approx(ref, abs=1e-5)
    # on luma (one channel) as well
    from mediapipe_irn.metrics import _as_float, rgb_to_y

    ya, yb = (rgb_to_y(_as_float(x))[0, 0].double().numpy() for x in (a, b))
    ref_y = skm.structural_similarity(
        ya, yb, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
    )
    assert ssim(a, b, y=True) == pytest.approx(ref_y, abs=1e-5)


def test_y_psnr_differs_from_rgb(rng):
    a, b = _noisy(rng)
    assert psnr(a, b, y=True) != pytest.approx(psnr(a, b), abs=0.1)


def test_bd_metrics_on_known_shift():
    rate = np.array([0.1, 0.2, 0.4, 0.8])
    d = 30 + 5 * np.log10(rate)
    # the test curve reaches the same PSNR at 80 % of the rate → BD-rate −20 %
    assert bd_rate(rate, d, rate * 0.8, d) == pytest.approx(-20.0, abs=1e-6)
    assert bd_psnr(rate, d, rate, d + 1.5) == pytest.approx(1.5, abs=1e-9)
    with pytest.raises(ValueError):
        bd_rate(rate[:3], d[:3], rate[:3], d[:3])


def test_bits_per_pixel():
    assert bits_per_pixel(1000, 100, 80) == pytest.approx(1.0)


def test_uint8_mse_is_exact_and_psnr_takes_it(rng):
    """``mse_u8`` (OpenCV's sum of squares, the searches' fast path) equals the float64 mean
    and ``psnr`` on uint8 arrays agrees with its tensor path (float input) to 1e-9 dB."""
    a = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-9, 10, a.shape), 0, 255).astype(np.uint8)
    want = float(np.mean((a.astype(np.float64) - b) ** 2))
    assert mse_u8(a, b) == pytest.approx(want, rel=1e-12)
    assert psnr(a, b) == pytest.approx(psnr(a.astype(np.float64), b.astype(np.float64)), abs=1e-9)
    assert psnr(a, a) == math.inf
    with pytest.raises(ValueError, match="shape"):
        mse_u8(a, b[:-1])
