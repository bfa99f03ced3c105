"""Golden outputs of every shipped weight: a change that silently alters what a shipped model
produces fails here. After an intended change (new weights, a deliberate numerical change),
regenerate with

    MPIRN_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden.py -m pretrained

and commit ``tests/golden/golden.json`` with the reason.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from mediapipe_irn.models import create_model
from mediapipe_irn.pipeline import to_tensor
from mediapipe_irn.zoo import read_manifest

from .conftest import sample_rgb

GOLDEN = Path(__file__).parent / "golden" / "golden.json"
REGENERATE = os.environ.get("MPIRN_REGENERATE_GOLDEN") == "1"


def _fingerprint(name: str) -> dict:
    """LR levels (exact: integers) and restored-image statistics of a fixed 48×64 crop."""
    torch.manual_seed(0)
    m = create_model(name, pretrained=True)
    x = to_tensor(np.ascontiguousarray(sample_rgb("chelsea.png")[100:148, 200:264]))
    with torch.no_grad():
        lr = m.downscale(x)
        hr = m.upscale(lr).clamp(0, 1)
    # 8×8-block means of the LR's 8-bit levels: robust to a level that rounds the other way
    # on another CPU, sensitive to any real change of the model
    blocks = torch.nn.functional.avg_pool2d(lr * 255, 8)
    hr_blocks = torch.nn.functional.avg_pool2d(hr * 255, 16)
    return {
        "lr_blocks": [round(float(v), 3) for v in blocks.flatten()],
        "hr_blocks": [round(float(v), 3) for v in hr_blocks.flatten()],
    }


@pytest.mark.pretrained
@pytest.mark.parametrize("name", sorted(read_manifest()))
def test_shipped_weights_reproduce_their_golden_output(name):
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.is_file() else {}
    got = _fingerprint(name)
    if REGENERATE:
        golden[name] = got
        GOLDEN.write_text(json.dumps(golden, indent=2, sort_keys=True) + "\n")
        return
    assert name in golden, f"no golden output for {name}: regenerate (module docstring)"
    want = golden[name]
    assert np.allclose(got["lr_blocks"], want["lr_blocks"], atol=0.05), "LR changed"
    assert np.allclose(got["hr_blocks"], want["hr_blocks"], atol=0.05), "restoration changed"


def test_a_changed_model_would_fail(monkeypatch):
    """The fingerprint moves far beyond the tolerance when weights change by 1 %."""
    from mediapipe_irn.models import registry

    name = "sain-x2-lite"
    base = _fingerprint(name)
    real = registry.create_model

    def nudged(*a, **k):
        m = real(*a, **k)
        with torch.no_grad():
            for p in m.parameters():
                p.mul_(1.01)
        return m

    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "create_model", nudged)
    moved = _fingerprint(name)
    assert np.abs(np.subtract(base["hr_blocks"], moved["hr_blocks"])).max() > 0.05


def test_golden_file_covers_every_shipped_weight():
    golden = json.loads(GOLDEN.read_text())
    assert set(golden) == set(read_manifest())
