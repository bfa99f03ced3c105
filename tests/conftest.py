from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def randomize(model: torch.nn.Module, std: float = 0.02, seed: int = 0) -> torch.nn.Module:
    """Perturb every weight so zero-initialised blocks are no longer the identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * std)
    return model


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(autouse=True, scope="session")
def _graph_cache(tmp_path_factory):
    """The video jobs' cache of exported graphs (pipeline.serving) in a folder of the test
    session, not the user's (subprocesses inherit it)."""
    import os

    from mediapipe_irn.pipeline.serving import CACHE_ENV

    old = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("graph-cache"))
    yield
    if old is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = old


@pytest.fixture(autouse=True)
def _no_untrained_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="no shipped weights")
        yield


def sample_rgb(name: str = "chelsea.png") -> np.ndarray:
    from mediapipe_irn.pipeline import read_image

    return read_image(SAMPLES / name).rgb


def photo_folder(root: Path, n: int) -> Path:
    """``n`` distinct 512² photos (the astronaut sample, rolled) in a new folder ``root``."""
    from PIL import Image

    root.mkdir(parents=True)
    base = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))
    for i in range(n):
        Image.fromarray(np.roll(base, 7 * i, axis=1)).save(root / f"img {i:02d}.png")
    return root


def archive_cmd(src: Path, dest: Path, *extra: str) -> list[str]:
    """The ``archive`` command line, run as its own process."""
    import sys

    return [
        sys.executable,
        "-m",
        "mediapipe_irn.cli",
        "archive",
        str(src),
        str(dest),
        "--quiet",
        *extra,
    ]
