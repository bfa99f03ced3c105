from __future__ import annotations

import pytest
import torch

from mediapipe_irn.models import create_model
from mediapipe_irn.pipeline import downscale_image, upscale_image

from .conftest import randomize


@pytest.mark.parametrize("name", ["irn-x2", "sain-x2", "sain-x2-lite", "sain-x4"])
def test_tiled_matches_untiled(name):
    m = randomize(create_model(name, pretrained=False), std=0.02)
    g = torch.Generator().manual_seed(3)
    hr = torch.rand(1, 3, 150, 190, generator=g)
    with torch.no_grad():
        full_lr, _ = downscale_image(m, hr, tile=4096)
        tiled_lr, _ = downscale_image(m, hr, tile=64)
        assert (full_lr - tiled_lr).abs().max() <= 1 / 255 + 1e-6
        full = upscale_image(m, full_lr, size=(150, 190), tile=4096)
        tiled = upscale_image(m, full_lr, size=(150, 190), tile=64)
    assert (full - tiled).abs().max() <= 1 / 255


def test_too_little_overlap_shows_seams():
    """The equality above is not vacuous: without context the tiles disagree."""
    m = randomize(create_model("sain-x2", pretrained=False), std=0.05)
    hr = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        full = upscale_image(m, downscale_image(m, hr, tile=4096)[0], tile=4096)
        lr = downscale_image(m, hr, tile=4096)[0]
        seams = upscale_image(m, lr, tile=32, overlap=0)
    assert (full - upscale_image(m, lr, tile=4096)).abs().max() == 0
    assert (full - seams).abs().max() > 1 / 255


def test_each_execution_gets_its_own_default_tile():
    from mediapipe_irn.pipeline.tiling import DEFAULT_TILE, default_tile

    assert default_tile("fp32", 1080, 1920) == default_tile("bf16", 64, 64) == DEFAULT_TILE
    assert default_tile("onnx", 1080, 1920) == default_tile("openvino_bf16", 720, 1280)
    assert default_tile("openvino", 1080, 1920) >= 1920  # a 1080p frame in one tile
    assert default_tile("openvino", 2160, 3840) == DEFAULT_TILE  # larger: bounded memory
