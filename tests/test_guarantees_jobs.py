"""Guarantees of the long-running jobs: interrupts, truncated videos, wrong weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import av
import pytest
import torch
from click.testing import CliRunner

from mediapipe_irn.cli import main
from mediapipe_irn.codecs import get_codec
from mediapipe_irn.jobs import MANIFEST_NAME, Manifest, verify
from mediapipe_irn.zoo import find_weights

from .conftest import SAMPLES, archive_cmd, photo_folder
from .test_video import make_clip


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# 10. SIGINT / SIGTERM stop the archive within seconds, consistently -------------------------


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_stops_archive_and_rerun_completes(tmp_path, sig, code):
    n = 16
    src = photo_folder(tmp_path / "src", n)
    dest = tmp_path / "arc"
    cmd = archive_cmd(src, dest, "--model", "sain-x2-lite", "--workers", "2", "--threads", "1")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if (
            len(list(dest.glob("*.irn.jpg"))) if dest.exists() else 0
        ) >= 2 or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the job finished before it could be interrupted"
    t0 = time.time()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert time.time() - t0 < 15, "did not stop within seconds"
    assert proc.returncode == code, err
    assert "interrupted" in err and "Traceback" not in err
    with Manifest(dest / MANIFEST_NAME) as m:
        done = list(m.records("done"))
    assert 0 < len(done) < n
    assert verify(dest).exit_code == 0  # every recorded row is complete and intact
    assert not list(dest.rglob(".mpirn-tmp.*"))
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(done)} already done" in rerun.stdout
    v = verify(dest)
    assert v.rows == n and v.exit_code == 0 and not v.orphans


# 6. truncated videos are reported, failed jobs leave nothing -------------------------------


def faststart_clip(path: Path, n: int = 20) -> Path:
    """An MP4 with its index (moov) in front, so a cut tail leaves the container readable."""
    plain = make_clip(path.with_suffix(".plain.mp4"), n=n, audio=False)
    with (
        av.open(str(plain)) as inp,
        av.open(str(path), "w", options={"movflags": "faststart"}) as out,
    ):
        s = out.add_stream_from_template(inp.streams.video[0])
        for pkt in inp.demux(video=0):
            if pkt.dts is None:
                continue
            pkt.stream = s
            out.mux(pkt)
    return path


def test_truncated_video_fails_and_writes_nothing(tmp_path):
    clip = faststart_clip(tmp_path / "clip.mp4")
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with av.open(str(cut)) as c:
        assert c.streams.video[0].frames == 20  # the container still announces every frame
    out = tmp_path / "lr.mp4"
    r = cli("encode", cut, out, "--model", "bicubic-x2")
    assert r.exit_code == 2 and "truncated" in r.output and "of the 20 frames" in r.output
    assert not out.exists() and not list(tmp_path.glob(".mpirn-tmp.*"))
    r = cli("encode", cut, out, "--model", "bicubic-x2", "--allow-partial")
    assert r.exit_code == 0, r.output
    with av.open(str(out)) as c:
        assert 0 < sum(1 for _ in c.decode(video=0)) < 20


def test_video_without_frames_leaves_nothing_and_retry_works(tmp_path):
    clip = faststart_clip(tmp_path / "clip.mp4")
    data = clip.read_bytes()
    with av.open(str(clip)) as c:
        first = min(p.pos for p in c.demux(video=0) if p.pos is not None and p.pos >= 0)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(data[: first + 16])  # index intact, no whole frame
    out = tmp_path / "lr.mp4"
    r = cli("encode", empty, out, "--model", "bicubic-x2")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert not out.exists()
    assert cli("encode", clip, out, "--model", "bicubic-x2").exit_code == 0


def test_encode_refuses_bad_containers_and_stills(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", n=3, audio=False)
    r = cli("encode", clip, tmp_path / "x.avi", "--model", "bicubic-x2")
    assert r.exit_code == 2 and "output must be one of" in r.output
    r = cli("encode", SAMPLES / "chelsea.png", tmp_path / "x.mp4", "--model", "bicubic-x2")
    assert r.exit_code == 2 and "still image" in r.output
    assert not (tmp_path / "x.mp4").exists() and not (tmp_path / "x.avi").exists()


# 9. weights are checked, recorded and compared ---------------------------------------------


def _weights(tmp_path: Path, name: str, change) -> Path:
    state = torch.load(find_weights("sain-x2-lite").path, weights_only=True)
    change(state)
    path = tmp_path / name
    torch.save(state, path)
    return path


def test_corrupt_or_mismatched_weights_are_refused(tmp_path):
    def flip_exponent(state):
        k = next(iter(state))
        raw = state[k].view(-1).view(torch.int32)
        raw[0] ^= 0x40000000  # a flipped exponent bit: a huge (or inf) value

    def nan(state):
        next(iter(state.values())).view(-1)[0] = float("nan")

    def reshape(state):
        k = next(iter(state))
        state[k] = torch.zeros(3, 3)

    for name, change in (("flip.pt", flip_exponent), ("nan.pt", nan), ("shape.pt", reshape)):
        w = _weights(tmp_path, name, change)
        r = cli(
            "down",
            SAMPLES / "chelsea.png",
            tmp_path / f"{name}.png",
            "--model",
            "sain-x2-lite",
            "--weights",
            w,
        )
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        assert not (tmp_path / f"{name}.png").exists()


def test_weights_sha256_travels_and_mismatch_warns(tmp_path):
    lr = tmp_path / "lr.png"
    assert cli("down", SAMPLES / "chelsea.png", lr, "--model", "sain-x2-lite").exit_code == 0
    meta = get_codec("png").decode(lr.read_bytes()).metadata
    assert find_weights("sain-x2-lite").sha256.startswith(meta.extra["weights_sha256"])

    def nudge(state):
        for v in state.values():
            v.mul_(1.01)

    other = _weights(tmp_path, "other.pt", nudge)
    r = cli("up", lr, tmp_path / "hr.png", "--weights", other)
    assert r.exit_code == 0
    assert "was made with sain-x2-lite weights" in r.output
    r = cli("up", lr, tmp_path / "hr2.png")
    assert "was made with" not in r.output


def test_files_with_version_1_metadata_restore_as_before(tmp_path):
    """A JPEG written before the compact metadata (a "mediapipe-irn:" COM prefix, long keys,
    the full sha256) restores exactly as the same file with version 2, with no warning."""
    import warnings

    import numpy as np
    from PIL import Image

    lr = tmp_path / "lr.jpg"
    r = cli("down", SAMPLES / "chelsea.png", lr, "--model", "sain-x2-lite", "--codec", "jpeg")
    assert r.exit_code == 0, r.output
    meta = get_codec("jpeg").decode(lr.read_bytes()).metadata
    assert meta.version == 2 and len(meta.to_json()) < 120
    sha = find_weights("sain-x2-lite").sha256
    d = {
        "format": "mediapipe-irn", "version": 1, "model": meta.model, "scale": meta.scale,
        "width": meta.width, "height": meta.height, "pad_w": meta.pad_w, "pad_h": meta.pad_h,
        "extra": {"weights_sha256": sha},
    }  # fmt: skip
    old = tmp_path / "old.jpg"
    with Image.open(lr) as im:
        im.save(old, quality=90, comment=b"mediapipe-irn:" + json.dumps(d).encode())
    again = tmp_path / "again.jpg"
    with Image.open(lr) as im:
        im.save(again, quality=90, comment=meta.to_json().encode())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cli("up", old, tmp_path / "old.png").exit_code == 0
        assert cli("up", again, tmp_path / "again.png").exit_code == 0
    a, b = (np.asarray(Image.open(tmp_path / f"{n}.png")) for n in ("old", "again"))
    assert a.shape[:2] == (meta.height, meta.width) and np.array_equal(a, b)
    assert os.path.getsize(again) < os.path.getsize(old)


def test_fuzz_corpus_is_seeded_and_real(tmp_path):
    """The fuzz test's inputs are real files (guards the slow test against a vacuous run)."""
    from .test_fuzz import corpus

    files = corpus(tmp_path, cases=12, seed=1)
    assert len(files) == 12 and len({f.read_bytes() for f in files}) == 12
    assert {f.suffix for f in files} >= {".jpg", ".png", ".mp4"}
    assert json.loads(json.dumps([str(f) for f in files]))
    assert all(os.path.getsize(f) > 0 for f in files)


def test_files_of_a_folder_share_one_restoring_model_and_each_gets_its_warning(monkeypatch):
    import warnings

    import numpy as np

    from mediapipe_irn.api import decode_lr, encode_lr
    from mediapipe_irn.models import create_model
    from mediapipe_irn.pipeline import rescale
    from mediapipe_irn.pipeline.images import ImageData

    from .conftest import sample_rgb

    rgb = np.ascontiguousarray(sample_rgb()[:64, :96])
    data, _ = encode_lr(create_model("sain-x2-lite"), ImageData(rgb), "jpeg", 80)
    made = []
    monkeypatch.setattr(
        rescale, "create_model", lambda *a, **k: made.append(k) or create_model(*a, **k)
    )
    rescale._shipped_model.cache_clear()
    outs = [decode_lr(data, f"f{i}.jpg")[0].rgb for i in range(3)]
    assert len(made) == 1  # one load for three files, the same pixels for each
    assert all(np.array_equal(outs[0], o) for o in outs)
    # weights this version does not ship: the warning reaches every file, not only the first
    meta = get_codec("jpeg").decode(data).metadata
    forged = meta.to_json().replace(meta.extra["weights_sha256"], "0" * 64)
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buf, "JPEG", quality=90, comment=forged.encode())
    for _ in range(2):
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            decode_lr(buf.getvalue(), "forged.jpg")
        assert any("not shipped" in str(w.message) for w in said)
    assert len(made) == 2
    rescale._shipped_model.cache_clear()
