"""The ffmpeg pipe adapter, with Debian's ffmpeg on both ends (skipped where it is absent)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from fractions import Fraction

import pytest

from mediapipe_irn.jobs.stream import stream_down, stream_up
from mediapipe_irn.metrics import psnr
from mediapipe_irn.pipeline.y4m import Y4MHeader, read_frames, read_header, write_frame

from .conftest import SAMPLES, sample_rgb

FFMPEG = shutil.which("ffmpeg")
CLI = [sys.executable, "-m", "mediapipe_irn.cli"]


@pytest.mark.parametrize("size", [(64, 96), (47, 65)])
def test_y4m_roundtrip_in_memory(size):
    h, w = size
    img = sample_rgb("coffee.png")[:h, :w].copy()
    buf = io.BytesIO()
    buf.write(Y4MHeader(w, h, Fraction(30000, 1001)).encode())
    write_frame(buf, img)
    buf.seek(0)
    hdr = read_header(buf)
    assert (hdr.width, hdr.height, hdr.rate) == (w, h, Fraction(30000, 1001))
    (out,) = list(read_frames(buf, hdr))
    assert out.shape == img.shape and psnr(out, img) > 30


def test_stream_down_up_in_memory():
    img = sample_rgb("coffee.png")[:72, :100].copy()
    src = io.BytesIO()
    src.write(Y4MHeader(100, 72, Fraction(25)).encode())
    for _ in range(3):
        write_frame(src, img)
    src.seek(0)
    lr = io.BytesIO()
    assert stream_down(src, lr, "bicubic-x2") == 3
    lr.seek(0)
    assert read_header(io.BytesIO(lr.getvalue())).width == 50
    hr = io.BytesIO()
    assert stream_up(lr, hr, model="bicubic-x2") == 3
    hr.seek(0)
    frames = list(read_frames(hr, read_header(hr)))
    assert frames[0].shape == (72, 100, 3) and psnr(frames[0], img) > 24


def test_not_y4m_is_refused():
    from mediapipe_irn.errors import InputError

    with pytest.raises(InputError, match="not a YUV4MPEG2"):
        read_header(io.BytesIO(b"garbage\n"))
    with pytest.raises(InputError, match="unsupported y4m colour space"):
        read_header(io.BytesIO(b"YUV4MPEG2 W4 H4 F25:1 C420p10\n"))


@pytest.mark.skipif(FFMPEG is None, reason="needs ffmpeg (Debian package)")
def test_ffmpeg_pipeline_keeps_audio_and_metadata(tmp_path):
    src = SAMPLES / "bbb_3s.mp4"
    meta = subprocess.run(
        CLI + ["meta", str(src), "--model", "bicubic-x2"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    lr = tmp_path / "lr.mp4"
    p1 = subprocess.Popen(
        [
            FFMPEG,
            "-v",
            "error",
            "-i",
            str(src),
            "-t",
            "0.4",
            "-f",
            "yuv4mpegpipe",
            "-pix_fmt",
            "yuv420p",
            "-",
        ],
        stdout=subprocess.PIPE,
    )
    p2 = subprocess.Popen(
        CLI + ["stream", "down", "--model", "bicubic-x2"],
        stdin=p1.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    p3 = subprocess.run(
        [
            FFMPEG,
            "-v",
            "error",
            "-y",
            "-f",
            "yuv4mpegpipe",
            "-i",
            "-",
            "-i",
            str(src),
            "-map",
            "0:v",
            "-map",
            "1:a?",
            "-c:v",
            "libx264",
            "-crf",
            "20",
            "-c:a",
            "copy",
            "-shortest",
            "-metadata",
            f"mediapipe-irn={meta}",
            "-movflags",
            "+use_metadata_tags",
            str(lr),
        ],
        stdin=p2.stdout,
    )
    p1.wait()
    p2.wait()
    assert p3.returncode == 0 and p2.returncode == 0
    out = tmp_path / "hr.mp4"
    r = subprocess.run(CLI + ["decode", str(lr), str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    import av

    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (1280, 720)
        assert len(c.streams.audio) == 1
        n = sum(1 for _ in c.decode(video=0))
    assert n == 10
