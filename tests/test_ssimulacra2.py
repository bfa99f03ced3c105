"""The package's SSIMULACRA2 against the reference implementation (PyPI ``ssimulacra2``):
sample photos as libjpeg-turbo JPEGs at qualities 20-95, odd sizes, identical images."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mediapipe_irn.metrics import ssimulacra2

from .conftest import SAMPLES

reference = pytest.importorskip("ssimulacra2")


def _jpeg(rgb: np.ndarray, q: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=q)
    return np.asarray(Image.open(buf).convert("RGB"))


def _reference(a: np.ndarray, b: np.ndarray, tmp_path) -> float:
    pa, pb = tmp_path / "a.png", tmp_path / "b.png"
    Image.fromarray(a).save(pa)
    Image.fromarray(b).save(pb)
    return float(reference.compute_ssimulacra2(str(pa), str(pb)))


@pytest.mark.parametrize("name", ["chelsea.png", "coffee.png", "rocket.jpg"])
@pytest.mark.parametrize("q", [20, 50, 80, 95])
def test_matches_the_reference_on_jpegs(name, q, tmp_path):
    rgb = np.asarray(Image.open(SAMPLES / name).convert("RGB"))[:240, :320]
    dist = _jpeg(rgb, q)
    assert abs(ssimulacra2(rgb, dist) - _reference(rgb, dist, tmp_path)) < 0.05


@pytest.mark.parametrize("size", [(97, 131), (64, 9), (9, 70), (35, 35)])
def test_odd_and_narrow_sizes_match(size, tmp_path):
    rgb = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))[: size[0], : size[1]]
    rgb = np.ascontiguousarray(rgb)
    dist = _jpeg(rgb, 40)
    assert abs(ssimulacra2(rgb, dist) - _reference(rgb, dist, tmp_path)) < 0.05


def test_identical_is_100_and_worse_is_lower():
    rgb = np.asarray(Image.open(SAMPLES / "coffee.png").convert("RGB"))
    assert ssimulacra2(rgb, rgb) == pytest.approx(100.0)
    scores = [ssimulacra2(rgb, _jpeg(rgb, q)) for q in (95, 70, 30, 10)]
    assert scores == sorted(scores, reverse=True) and scores[-1] < 50 < scores[0]


def test_bad_inputs_are_refused():
    a = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError):
        ssimulacra2(a, a[:16])
    with pytest.raises(ValueError):
        ssimulacra2(a[:4, :4], a[:4, :4])
    with pytest.raises(ValueError):
        ssimulacra2(a.astype(np.float32), a.astype(np.float32))
