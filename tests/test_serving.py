"""Video frames from cached exported graphs, without torch (pipeline.serving)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mediapipe_irn.pipeline import serving

from .conftest import SAMPLES, sample_rgb
from .test_video import make_clip

pytestmark = pytest.mark.skipif(
    not __import__("mediapipe_irn.pipeline.onnx_backend", fromlist=["x"]).available("onnx"),
    reason="needs the onnx extra",
)
LITE = "sain-x2-lite"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(serving.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_cached_graphs_give_the_onnx_options_frames(cache):
    from mediapipe_irn.pipeline.rescale import FrameRescaler

    hr = sample_rgb("coffee.png")[:94, :134]  # odd alignment: replicate padding on both sides
    ref = FrameRescaler.load(LITE, execution="onnx", video=True)
    meta = ref.metadata(hr.shape[1], hr.shape[0])
    lr_ref = ref.down(hr)
    up_ref = ref.up(lr_ref, meta)
    for direction in ("down", "up"):
        path = serving.store(ref.model, direction)
        assert path is not None and path.parent.parent == cache and path.is_file()
    down = serving.CachedRescaler(serving.graph_path(LITE, meta.extra["weights_sha256"], "down"),
                                  meta.extra["weights_sha256"], 1)  # fmt: skip
    up = serving.CachedRescaler(serving.graph_path(LITE, meta.extra["weights_sha256"], "up"),
                                meta.extra["weights_sha256"], 1)  # fmt: skip
    assert down.metadata(hr.shape[1], hr.shape[0]) == meta
    lr = down.down(hr)
    assert lr.shape == lr_ref.shape and lr.dtype == np.uint8
    assert np.array_equal(lr, lr_ref)
    out = up.up(lr_ref, meta)
    assert out.shape == hr.shape
    # the same convolutions and float32 conversions: equal, at most a level off by ordering
    diff = np.abs(out.astype(int) - up_ref)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


def test_video_jobs_run_from_the_cache_without_torch(tmp_path, cache):
    clip = make_clip(tmp_path / "in.mp4", n=6, size=(72, 100))
    script = textwrap.dedent(
        """
        import sys
        from mediapipe_irn.cli import main
        for args in (["encode", sys.argv[1], sys.argv[2]], ["decode", sys.argv[2], sys.argv[3]]):
            try:
                main([*args, "--exec", "onnx", "--force", "--quiet"])
            except SystemExit as e:
                assert not e.code, e.code
        print("torch" in sys.modules)
        """
    )
    env = {**os.environ, serving.CACHE_ENV: str(cache)}
    runs = []
    for i in (1, 2):
        lr, out = tmp_path / f"lr{i}.mp4", tmp_path / f"out{i}.mp4"
        r = subprocess.run(
            [sys.executable, "-c", script, str(clip), str(lr), str(out)],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        runs.append(r.stdout.split()[-1])
    assert runs == ["True", "False"]  # the first run builds and stores; the second needs no torch
    assert len(list((cache / "graphs").glob(f"{LITE}-*.onnx"))) == 2
    assert (tmp_path / "lr1.mp4").read_bytes() == (tmp_path / "lr2.mp4").read_bytes()
    import av

    def frames(p):
        with av.open(str(p)) as c:
            return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]

    a, b = frames(tmp_path / "out1.mp4"), frames(tmp_path / "out2.mp4")
    assert len(a) == len(b) == 6
    assert max(np.abs(x.astype(int) - y).max() for x, y in zip(a, b)) <= 1


def test_an_unreadable_cached_graph_is_rebuilt(cache):
    from mediapipe_irn.pipeline.rescale import FrameRescaler
    from mediapipe_irn.zoo import find_weights

    sha = find_weights(LITE).sha256
    path = serving.graph_path(LITE, sha, "down")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a graph")
    r = serving.video_rescaler("down", LITE, None, "onnx", 1, size=(72, 100))
    assert isinstance(r, FrameRescaler)  # the torch path, and its graph stored again
    again = serving.video_rescaler("down", LITE, None, "onnx", 1, size=(72, 100))
    assert isinstance(again, serving.CachedRescaler)
    frame = sample_rgb("coffee.png")[:72, :100]
    assert np.array_equal(again.down(frame), r.down(frame))


def test_what_runs_from_the_cache(cache):
    from mediapipe_irn.codecs.metadata import RestoreMetadata
    from mediapipe_irn.pipeline.rescale import FrameRescaler
    from mediapipe_irn.zoo import find_weights

    sha = find_weights(LITE).sha256
    serving.video_rescaler("down", LITE, None, "onnx", 1, size=(72, 100))  # stores the graph
    for size in ((72, 100), (1080, 1920)):  # up to one tile: 1080p whole
        r = serving.video_rescaler("down", LITE, None, "onnx", 1, size=size)
        assert isinstance(r, serving.CachedRescaler), size
    # eager asked for, or frames beyond one tile: torch; weights given as a file: never cached
    for precision, size in (("fp32", (72, 100)), ("onnx", (1080, 2560))):
        r = serving.video_rescaler("down", LITE, None, precision, 1, size=size)
        assert isinstance(r, FrameRescaler), (precision, size)
    assert not serving._eligible(LITE, None, "onnx", "down", (72, 100))
    # a file made with weights this version does not ship: torch, and nothing cached for them
    meta = RestoreMetadata(LITE, 2, 100, 72, 0, 0, extra={"weights_sha256": "0" * 64})
    with pytest.warns(UserWarning):  # the zoo has no such version: the current weights warn
        r = serving.video_rescaler("up", None, None, "onnx", 1, meta=meta)
    assert isinstance(r, FrameRescaler)
    assert not serving.graph_path(LITE, "0" * 64, "up").exists()
    # a cached graph of another scale than the file's: the metadata error, as without the cache
    serving.video_rescaler("up", None, None, "onnx", 1, meta=RestoreMetadata(
        LITE, 2, 100, 72, extra={"weights_sha256": sha}))  # fmt: skip
    wrong = RestoreMetadata(LITE, 4, 100, 72, extra={"weights_sha256": sha})
    from mediapipe_irn.errors import MetadataError

    with pytest.raises(MetadataError, match="×4"):
        serving.video_rescaler("up", None, None, "onnx", 1, meta=wrong)


def test_a_cache_that_cannot_be_written_costs_only_speed(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv(serving.CACHE_ENV, str(blocker))
    from mediapipe_irn.jobs.transcode import VideoEncodeConfig, encode_video

    clip = make_clip(tmp_path / "in.mp4", n=3, size=(48, 64), audio=False)
    with pytest.warns(UserWarning, match="cannot cache"):
        s = encode_video(clip, tmp_path / "lr.mp4", VideoEncodeConfig(precision="onnx"))
    assert s.frames == 3 and (tmp_path / "lr.mp4").stat().st_size > 0
    assert blocker.read_text() == ""


def test_no_home_folder_means_no_cache(monkeypatch):
    from mediapipe_irn.pipeline.rescale import FrameRescaler

    monkeypatch.delenv(serving.CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory")

    monkeypatch.setattr(serving.Path, "home", no_home)
    assert serving.cache_dir() is None and serving.graph_path(LITE, "ab", "up") is None
    r = serving.video_rescaler("down", LITE, None, "onnx", 1, size=(48, 64))
    assert isinstance(r, FrameRescaler)  # the job runs, through torch


def test_the_command_line_starts_without_torch():
    code = (
        "import sys; from mediapipe_irn.cli import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "import mediapipe_irn.jobs.transcode\n"
        "from mediapipe_irn.pipeline import serving as s\n"
        "assert s.model_scale('sain-x2-lite') == 2 and s.model_scale('sain-x4') == 4\n"
        "assert s.metadata_from_model('sain-x4', 30, 20).width == 120\n"
        "assert s.restore_metadata_for(101, 60, 'sain-x2-lite').pad_w == 3\n"
        "print('torch' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[-1] == "False"


def test_frames_without_metadata_restore_from_the_cache(cache):
    """A file that records no metadata, the model named (``decode --model``, ``irnupscale``):
    the current weights, as the torch path takes them, from the cache."""
    from mediapipe_irn.errors import UnknownModelError
    from mediapipe_irn.models import get_spec
    from mediapipe_irn.pipeline.rescale import FrameRescaler

    assert serving.model_scale(LITE) == get_spec(LITE).scale
    with pytest.raises(UnknownModelError):
        serving.model_scale("no-such-model")
    lr = sample_rgb("coffee.png")[:36, :50]
    meta = serving.metadata_from_model(LITE, 50, 36)
    first = serving.video_rescaler("up", LITE, None, "onnx", 1, meta=meta)
    assert isinstance(first, FrameRescaler)  # builds and stores the graph
    again = serving.video_rescaler("up", LITE, None, "onnx", 1, meta=meta)
    assert isinstance(again, serving.CachedRescaler)
    diff = np.abs(again.up(lr, meta).astype(int) - first.up(lr, meta))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


def test_the_public_names_load_on_first_use():
    import mediapipe_irn
    import mediapipe_irn.jobs
    import mediapipe_irn.jobs.archive  # the submodule loading must not replace the function
    from mediapipe_irn import archive, create_model, downscale_image
    from mediapipe_irn.jobs import restore

    assert callable(archive) and callable(restore) and not isinstance(archive, type(sys))
    assert mediapipe_irn.jobs.archive is archive and mediapipe_irn.archive is archive
    assert create_model("bicubic-x2").scale == 2 and callable(downscale_image)
    for pkg in (mediapipe_irn, mediapipe_irn.jobs, __import__("mediapipe_irn.pipeline").pipeline):
        assert sorted(pkg.__all__) == sorted(pkg._WHERE)  # every name listed loads
        assert all(getattr(pkg, n) is not None for n in pkg.__all__)
    with pytest.raises(AttributeError):
        mediapipe_irn.no_such_name  # noqa: B018
    assert SAMPLES.is_dir()
