"""Clips the archive meets in the wild: NTSC rates, odd sizes, variable frame rate, B-frames,
clips shorter than the sampled segments, long GOPs; each archived and restored under a floor."""

from __future__ import annotations

import hashlib
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from mediapipe_irn.jobs import MANIFEST_NAME, ArchiveConfig, Manifest, Target, archive, restore

from .conftest import SAMPLES

CLIPS = {
    # name: (rate, time base, frames, (h, w), x264 options, pts step pattern)
    "ntsc.mp4": (Fraction(30000, 1001), Fraction(1, 30000), 40, (144, 176), {}, None),
    "odd.mp4": (Fraction(25), None, 24, (143, 175), {}, None),
    "vfr.mkv": (Fraction(30), Fraction(1, 1000), 30, (96, 128), {}, (33, 50, 17)),
    "bframes.mp4": (Fraction(24), None, 30, (96, 128), {"bframes": "3", "b-pyramid": "2"}, None),
    "short.mp4": (Fraction(25), None, 5, (96, 128), {}, None),
    "longgop.mp4": (Fraction(25), None, 40, (96, 128), {"g": "600", "keyint_min": "600"}, None),
}  # fmt: skip


def _make(path, rate, time_base, frames, size, options, steps):
    import av

    photo = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))
    h, w = size
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=rate)
        # 4:2:0 needs even sides: an odd-sized clip is 4:4:4 (as screen captures often are)
        v.width, v.height = w, h
        v.pix_fmt = "yuv444p" if w % 2 or h % 2 else "yuv420p"
        if time_base is not None:
            v.time_base = time_base
            v.codec_context.time_base = time_base
        v.options = {"crf": "6", "bframes": "0", **options}
        tb = time_base or 1 / Fraction(rate)
        if steps is None:  # constant rate: one frame duration in the time base
            steps = (int(1 / (Fraction(rate) * tb)),)
        pts = 0
        for i in range(frames):
            rgb = np.ascontiguousarray(photo[60 : 60 + h, 80 + 3 * i : 80 + 3 * i + w])
            f = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            f.pts, f.time_base = pts, tb
            pts += steps[i % len(steps)]
            for p in v.encode(f):
                c.mux(p)
        for p in v.encode():
            c.mux(p)


def _frames(path) -> tuple[int, tuple[int, int]]:
    import av

    with av.open(str(path)) as c:
        shapes = [f.to_ndarray(format="rgb24").shape[:2] for f in c.decode(video=0)]
    return len(shapes), shapes[0]


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    src = tmp_path_factory.mktemp("odd") / "src"
    src.mkdir()
    for name, spec in CLIPS.items():
        _make(src / name, *spec)
    return src


def test_odd_clips_archive_and_restore_under_a_floor(clips, tmp_path):
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in clips.iterdir()}
    cfg = ArchiveConfig(workers=1, target=Target(floor=30.0))
    s = archive(clips, tmp_path / "arc", cfg, progress=False)
    assert s.failures == [] and s.done == len(CLIPS), s.failures
    with Manifest(tmp_path / "arc" / MANIFEST_NAME) as man:
        rows = {r.rel_path: r for r in man.records()}
    for name, r in rows.items():
        assert r.status == "done" and r.psnr >= 30, (name, r)
    out = tmp_path / "out"
    res = restore(tmp_path / "arc", out, progress=False)
    assert res.failures == [] and res.done == len(CLIPS)
    for name in CLIPS:
        got = out / name
        if not got.exists():  # a model path restores into the archive's own container
            (got,) = out.glob(name + "*")
        assert _frames(got) == _frames(clips / name), name
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in clips.iterdir()}
    assert after == before
