from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import av
import numpy as np
import pytest

from mediapipe_irn.errors import InputError, MetadataError
from mediapipe_irn.jobs.transcode import (
    VideoDecodeConfig,
    VideoEncodeConfig,
    decode_video,
    encode_video,
    read_video_metadata,
)
from mediapipe_irn.metrics import psnr

from .conftest import SAMPLES, sample_rgb


def make_clip(path, n=8, size=(96, 128), audio=True, rate=25):
    base = sample_rgb("coffee.png")
    h, w = size
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=rate)
        v.width, v.height, v.pix_fmt = w + w % 2, h + h % 2, "yuv420p"
        a = None
        if audio:
            a = c.add_stream("aac", rate=48000)
        for i in range(n):
            f = np.ascontiguousarray(base[i * 3 : i * 3 + v.height, i * 2 : i * 2 + v.width])
            for p in v.encode(
                av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv420p")
            ):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        if a is not None:
            t = np.arange(48000 * n // rate) / 48000
            samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            for k in range(0, samples.shape[1], 1024):
                af = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(samples[:, k : k + 1024]), format="flt", layout="mono"
                )
                af.sample_rate = 48000
                for p in a.encode(af):
                    c.mux(p)
            for p in a.encode():
                c.mux(p)
    return path


def probe(path):
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        pts = [f.pts for f in c.decode(video=0)]
        return {
            "w": v.codec_context.width,
            "h": v.codec_context.height,
            "frames": len(pts),
            "audio": len(c.streams.audio),
            "rate": v.average_rate,
            "pts": pts,
            "tags": dict(c.metadata),
        }


def frames(path):
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


@pytest.mark.parametrize("model", ["bicubic-x2", "irn-x2"])
def test_encode_decode_roundtrip(tmp_path, model):
    src = make_clip(tmp_path / "in.mp4")
    enc, dec = tmp_path / "lr.mp4", tmp_path / "out.mkv"
    s = encode_video(src, enc, VideoEncodeConfig(model=model, crf=18, preset="ultrafast"))
    assert s.frames == 8
    pe = probe(enc)
    assert (pe["w"], pe["h"]) == (64, 48) and pe["frames"] == 8 and pe["audio"] == 1
    assert pe["rate"] == Fraction(25)
    assert pe["pts"] == probe(src)["pts"]
    meta = read_video_metadata(enc)
    assert (meta.model, meta.width, meta.height) == (model, 128, 96)
    decode_video(enc, dec, VideoDecodeConfig(crf=10, preset="ultrafast"))
    pd = probe(dec)
    assert (pd["w"], pd["h"]) == (128, 96) and pd["frames"] == 8 and pd["audio"] == 1
    a, b = frames(src), frames(dec)
    assert psnr(b[4], a[4]) > 22


def test_odd_size_is_padded_and_restored(tmp_path):
    src = tmp_path / "odd.mkv"
    with av.open(str(src), "w") as c:  # ffv1 allows odd sizes
        v = c.add_stream("ffv1", rate=25)
        v.width, v.height, v.pix_fmt = 101, 75, "yuv444p"
        for i in range(3):
            f = np.ascontiguousarray(sample_rgb()[i : i + 75, :101])
            for p in v.encode(
                av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv444p")
            ):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
    enc, dec = tmp_path / "lr.mp4", tmp_path / "out.mp4"
    encode_video(src, enc, VideoEncodeConfig(model="bicubic-x2", preset="ultrafast"))
    meta = read_video_metadata(enc)
    assert (meta.pad_w, meta.pad_h) == (3, 1)
    assert (probe(enc)["w"], probe(enc)["h"]) == (52, 38)
    decode_video(enc, dec, VideoDecodeConfig(preset="ultrafast"))
    p = probe(dec)  # 4:2:0 H.264 needs even sides: one replicated column/row is added
    assert (p["w"], p["h"], p["frames"]) == (102, 76, 3)
    restored = frames(dec)[1][:75, :101]
    assert psnr(restored, frames(src)[1]) > 22
    exact = tmp_path / "exact.mkv"
    decode_video(enc, exact, VideoDecodeConfig(lossless=True, preset="ultrafast"))
    assert (probe(exact)["w"], probe(exact)["h"]) == (101, 75)


def test_bad_inputs_leave_no_output(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)
    with pytest.raises(InputError):
        encode_video(junk, tmp_path / "o.mp4", VideoEncodeConfig(model="bicubic-x2"))
    import wave

    audio_only = tmp_path / "a.wav"
    with wave.open(str(audio_only), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(8000)
        wf.writeframes(b"\x00\x00" * 800)
    with pytest.raises(InputError, match="no video stream"):
        encode_video(audio_only, tmp_path / "o.mp4", VideoEncodeConfig(model="bicubic-x2"))
    src = make_clip(tmp_path / "in.mp4", audio=False)
    with pytest.raises(MetadataError, match="no mediapipe-irn restore metadata"):
        decode_video(src, tmp_path / "o.mp4")
    trunc = tmp_path / "trunc.mp4"
    trunc.write_bytes(src.read_bytes()[:600])
    with pytest.raises(InputError):
        encode_video(trunc, tmp_path / "o.mp4", VideoEncodeConfig(model="bicubic-x2"))
    assert not list(tmp_path.glob("o.mp4*")) and not list(tmp_path.glob(".o.*"))


def test_decode_to_y4m_stdout(tmp_path):
    src = make_clip(tmp_path / "in.mp4", n=3, audio=False)
    enc = tmp_path / "lr.mp4"
    encode_video(src, enc, VideoEncodeConfig(model="bicubic-x2", preset="ultrafast"))
    r = subprocess.run(
        [sys.executable, "-m", "mediapipe_irn.cli", "decode", str(enc), "-"], capture_output=True
    )
    assert r.returncode == 0, r.stderr
    head, _, rest = r.stdout.partition(b"\n")
    assert head.startswith(b"YUV4MPEG2 W128 H96 F25:1")
    assert rest.count(b"FRAME\n") == 3
    assert len(rest) == 3 * (6 + 128 * 96 * 3 // 2)


def test_sample_clip_keeps_audio_and_frame_count(tmp_path):
    enc = tmp_path / "bbb_lr.mp4"
    encode_video(
        SAMPLES / "bbb_3s.mp4",
        enc,
        VideoEncodeConfig(model="bicubic-x2", preset="ultrafast", crf=28),
    )
    p = probe(enc)
    assert (p["w"], p["h"], p["frames"], p["audio"]) == (640, 360, 75, 1)


def test_bench_video_reports_rd_and_fps(tmp_path):
    from mediapipe_irn.bench import video

    clip = make_clip(tmp_path / "c.mp4", n=4, audio=False)
    from mediapipe_irn.zoo import ZOO_DIR

    lite = f"sain-x2-lite@{ZOO_DIR / 'sain-x2-lite.pt'}"  # a model given by its weights file
    res = video.run([str(clip)], ["bicubic-x2", lite], [18, 24, 30, 36], preset="ultrafast")
    e = res["clips"]["c.mp4"]
    curve = e["models"]["bicubic-x2"]["curve"]
    assert curve[0]["kbps"] > curve[-1]["kbps"] and curve[0]["psnr"] > curve[-1]["psnr"]
    assert e["models"]["bicubic-x2"]["downscale_fps"] > 0
    # the learned path is ranked against bicubic at equal bitrate; bicubic is the reference
    assert "bd_rate_vs_bicubic_pct" not in e["models"]["bicubic-x2"]
    assert abs(e["models"][lite]["bd_psnr_vs_bicubic_db"]) < 10
    table = video.format_table(res)
    assert "full-res x264" in table and "BD-rate vs bicubic" in table


def test_bench_transcode_times_the_cli_and_scores_the_result(tmp_path):
    from mediapipe_irn.bench import transcode

    clip = make_clip(tmp_path / "c.mp4", n=6, audio=False)
    res = transcode.run(
        str(clip), ["bicubic-x2"], crf=18, preset="ultrafast", decode_preset="ultrafast"
    )
    (row,) = res["rows"]
    assert row["frames"] == 6 and row["encode_s"] > 0 and row["decode_s"] > 0
    assert row["end_to_end_fps"] == pytest.approx(6 / (row["encode_s"] + row["decode_s"]))
    assert 22 < row["psnr"] < 60 and row["lr_kbps"] > 0
    assert "| bicubic-x2 |" in transcode.format_table(res)
    with pytest.raises(RuntimeError, match="failed"):
        transcode.run(str(clip), ["no-such-model"], preset="ultrafast")


def test_chunks_run_ahead_in_order_and_a_failure_leaves_nothing(tmp_path, monkeypatch):
    """The model runs one chunk ahead of x264 in a thread of its own: every frame comes out in
    its place, and an error in a later chunk leaves no output file and no thread behind."""
    import threading

    from mediapipe_irn.jobs import transcode

    src = make_clip(tmp_path / "in.mp4", n=11, audio=False)
    calls = []

    def marked(frames):  # frame k of the clip gets a bright square in column block k
        out = []
        for f in frames:
            g = f.copy()
            k = len(calls)
            calls.append(k)
            g[:16, 16 * (k % 8) : 16 * (k % 8) + 16] = 255
            out.append(g)
        return out

    dest = tmp_path / "out.mp4"
    transcode._transcode(src, dest, marked, (96, 128), 10, "ultrafast", 4, {}, False, None)
    got = frames(dest)
    assert len(got) == 11
    for k, f in enumerate(got):
        col = 16 * (k % 8) + 8
        assert f[8, col].mean() > 240, k  # frame k carries frame k's mark
        assert psnr(f[32:], frames(src)[k][32:]) > 30

    def failing(frames_):
        if len(calls) >= 8:  # the third chunk
            raise RuntimeError("model failed")
        return marked(frames_)

    calls.clear()
    bad = tmp_path / "bad.mp4"
    with pytest.raises(RuntimeError, match="model failed"):
        transcode._transcode(src, bad, failing, (96, 128), 10, "ultrafast", 4, {}, False, None)
    assert not bad.exists() and list(tmp_path.glob("*.part*")) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("mpirn-chunk")]
