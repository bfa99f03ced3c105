"""Random HR patches from folders of images (and frames of video files), with flips and
90° rotations. Sources are decoded once and kept in memory as uint8."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError
from ..pipeline.images import read_image
from ..pipeline.media import is_image, is_video


def _video_frames(path: Path, every: int) -> list[np.ndarray]:
    import av

    frames = []
    with av.open(str(path)) as c:
        for i, fr in enumerate(c.decode(video=0)):
            if i % every == 0:
                frames.append(fr.to_ndarray(format="rgb24"))
    return frames


def find_sources(folders: Sequence[str | Path]) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        p = Path(folder)
        if p.is_file():
            files.append(p)
            continue
        if not p.is_dir():
            raise InputError(f"training data folder not found: {p}")
        files.extend(f for f in sorted(p.rglob("*")) if is_image(f) or is_video(f))
    if not files:
        raise InputError(f"no images or videos found in {', '.join(map(str, folders))}")
    return files


def load_sources(
    folders: Sequence[str | Path], min_side: int, video_every: int = 10
) -> list[np.ndarray]:
    """Decode every image (and every ``video_every``-th video frame) at least ``min_side``."""
    out = []
    for f in find_sources(folders):
        if is_video(f):
            out.extend(_video_frames(f, video_every))
        else:
            out.append(read_image(f).rgb)
    out = [a for a in out if min(a.shape[:2]) >= min_side]
    if not out:
        raise InputError(f"no source is at least {min_side} px on its short side")
    return out


class PatchSampler:
    """Endless batches ``B×3×P×P`` float32 in [0, 1], reproducible from ``seed``."""

    def __init__(self, sources: list[np.ndarray], patch: int, batch: int, seed: int = 0):
        self.sources, self.patch, self.batch = sources, patch, batch
        self.rng = np.random.default_rng(seed)

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state

    def sample(self) -> torch.Tensor:
        p = self.patch
        out = np.empty((self.batch, p, p, 3), np.uint8)
        for i in range(self.batch):
            img = self.sources[self.rng.integers(len(self.sources))]
            y = self.rng.integers(img.shape[0] - p + 1)
            x = self.rng.integers(img.shape[1] - p + 1)
            crop = img[y : y + p, x : x + p]
            if self.rng.random() < 0.5:
                crop = crop[:, ::-1]
            if self.rng.random() < 0.5:
                crop = crop[::-1]
            out[i] = np.rot90(crop, int(self.rng.integers(4)))
        return torch.from_numpy(out).permute(0, 3, 1, 2).float().div_(255.0)

    def __iter__(self) -> Iterator[torch.Tensor]:
        while True:
            yield self.sample()
