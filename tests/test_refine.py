from __future__ import annotations

import torch

from mediapipe_irn.models import create_model
from mediapipe_irn.pipeline import to_tensor
from mediapipe_irn.refine import RefineConfig, refine_image, refine_lr

from .conftest import randomize, sample_rgb


def _setup():
    m = randomize(create_model("irn-x2", pretrained=False), std=0.01)
    hr = to_tensor(sample_rgb("coffee.png")[:64, :96].copy())
    return m, hr


def test_refinement_never_worse_and_keeps_best():
    m, hr = _setup()
    for codec in (None, "jpeg"):
        r = refine_lr(m, hr, RefineConfig(steps=3, codec=codec, quality=50))
        assert r.best_mse <= r.start_mse
        assert r.best_mse == min(r.history)
        assert torch.equal(r.lr, torch.round(r.lr * 255) / 255)
        assert r.lr.shape == (1, 3, 32, 48)


def test_refinement_improves_lossless_reconstruction():
    m, hr = _setup()
    r = refine_lr(m, hr, RefineConfig(steps=6, codec=None))
    assert r.best_mse < r.start_mse


def test_tiled_refinement_covers_the_image():
    m, hr = _setup()
    lr, before, after = refine_image(m, hr, RefineConfig(steps=1, codec="jpeg"), tile=32)
    assert lr.shape == (1, 3, 32, 48) and after <= before
