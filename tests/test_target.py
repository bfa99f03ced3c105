"""Quality-targeted archive (jobs.target): the search helpers, the per-file choice, and the
archive/restore round trip under a floor."""

from __future__ import annotations

import importlib
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from mediapipe_irn.cli import main
from mediapipe_irn.codecs import get_codec
from mediapipe_irn.errors import InputError
from mediapipe_irn.jobs import MANIFEST_NAME, ArchiveConfig, Manifest, Target, archive, choose
from mediapipe_irn.jobs.target import highest, lowest, lowest_smooth
from mediapipe_irn.metrics import psnr
from mediapipe_irn.pipeline import read_image
from mediapipe_irn.pipeline.images import ImageData
from mediapipe_irn.pipeline.rescale import FrameRescaler

from .conftest import SAMPLES


def _monotone(rng, n=100):
    return np.cumsum(rng.uniform(0, 1, n))


@pytest.mark.parametrize("seed", range(20))
def test_search_helpers_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    vals = _monotone(rng)
    sizes = np.cumsum(rng.uniform(1, 5, 100))
    floor = rng.uniform(vals[0] - 5, vals[-1] + 5)

    def f(q):
        return float(vals[q - 1])

    want = next((q for q in range(1, 101) if f(q) >= floor), None)
    assert lowest(lambda q: f(q) >= floor, 1, 100) == want
    assert lowest_smooth(f, floor, 1, 100, lambda q: float(np.log(sizes[q - 1]))) == want
    under = next((q for q in range(100, 0, -1) if f(q) <= floor), None)
    assert highest(lambda q: f(q) <= floor, 1, 100) == under


@pytest.fixture(scope="module")
def photo() -> ImageData:
    img = read_image(SAMPLES / "astronaut.png")
    return ImageData(np.ascontiguousarray(img.rgb[96:288, 160:352]))


@pytest.fixture(scope="module")
def rescalers():
    return {m: FrameRescaler.load(m) for m in Target(floor=30.0).models}


def _restored_psnr(c, img, r) -> float:
    dec = get_codec(c.codec).decode(c.data)
    out = (
        dec.frames[0]
        if c.model is None
        else r[c.model].up(dec.frames[0], dec.metadata, dec.quality)
    )
    return psnr(out, img.rgb)


@pytest.mark.parametrize("floor", [27.0, 31.0, 35.0])
def test_choice_meets_the_floor_and_never_loses_to_plain(photo, rescalers, floor):
    c = choose(photo, Target(floor=floor), rescalers)
    assert c.data is not None
    measured = _restored_psnr(c, photo, rescalers)
    assert measured >= floor
    assert measured == pytest.approx(c.psnr, abs=1e-6)
    assert len(c.data) <= c.plain_bytes
    # the plain quality recorded is the lowest that meets the floor
    jpeg = get_codec("jpeg")
    from mediapipe_irn.codecs import EncodeOptions

    def plain(q, ch):
        data = jpeg.encode([photo.rgb], EncodeOptions(quality=q, subsampling=ch))
        return psnr(jpeg.decode(data).frames[0], photo.rgb), len(data)

    best = min(
        (
            plain(q, ch)[1]
            for ch in ("4:2:0", "4:4:4")
            for q in range(1, 101)
            if plain(q, ch)[0] >= floor
        ),
        default=None,
    )
    assert c.plain_bytes is not None and best is not None
    assert c.plain_bytes <= best * 1.02  # the search finds (close to) the smallest plain file


def test_unreachable_floor_is_stored_unchanged(photo, rescalers):
    c = choose(photo, Target(floor=70.0), rescalers)
    assert c.data is None and "unchanged" in c.note


def test_source_smaller_than_any_candidate_is_kept(photo, rescalers):
    c = choose(photo, Target(floor=30.0), rescalers, source_bytes=100)
    assert c.data is None and "smaller" in c.note


def test_budget_mode_stays_within_the_budget(photo, rescalers):
    h, w = photo.size
    c = choose(photo, Target(max_bpp=0.5), rescalers)
    assert c.data is not None and len(c.data) <= 0.5 * h * w / 8
    assert c.plain_bytes is not None and c.plain_bytes <= 0.5 * h * w / 8
    assert _restored_psnr(c, photo, rescalers) == pytest.approx(c.psnr, abs=1e-6)


def test_ssim_floor(photo, rescalers):
    from mediapipe_irn.metrics import ssim

    c = choose(photo, Target(metric="ssim", floor=0.9), rescalers)
    dec = get_codec(c.codec).decode(c.data)
    out = (
        dec.frames[0]
        if c.model is None
        else rescalers[c.model].up(dec.frames[0], dec.metadata, dec.quality)
    )
    assert ssim(out, photo.rgb) >= 0.9


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"floor": 30.0, "max_bpp": 1.0},
        {"metric": "ssim", "floor": 30.0},
        {"max_bpp": -1.0},
        {"floor": 30.0, "codecs": ()},
        {"floor": 30.0, "codecs": ("h264",)},
    ],
)
def test_bad_targets_are_refused(kw):
    with pytest.raises(InputError):
        Target(**kw)


def test_archive_with_a_floor_round_trips(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(SAMPLES / "rocket.jpg", src / "rocket.jpg")
    full = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))
    Image.fromarray(full[96:288, 160:352]).save(src / "crop.png")
    rgba = np.dstack([full[:96, :128], np.full((96, 128), 200, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(src / "alpha.png")
    dest, out = tmp_path / "arc", tmp_path / "out"
    res = CliRunner().invoke(
        main, ["archive", str(src), str(dest), "--target-psnr", "31", "--workers", "1", "--quiet"]
    )
    assert res.exit_code == 0, res.output
    assert "psnr>=31" in res.output and "worst PSNR" in res.output
    with Manifest(dest / MANIFEST_NAME) as man:
        rows = {r.rel_path: r for r in man.records()}
    assert set(rows) == {"rocket.jpg", "crop.png", "alpha.png"}
    for r in rows.values():
        assert r.status == "done" and r.target == "psnr>=31"
        assert r.psnr >= 31
        colour = r.stored_bytes - ((dest / r.alpha_path).stat().st_size if r.alpha_path else 0)
        assert r.plain_bytes is None or colour <= r.plain_bytes
    assert rows["alpha.png"].alpha_path
    from mediapipe_irn.pipeline.execution import FLOAT32

    restore_job = importlib.import_module("mediapipe_irn.jobs.restore")

    ran = []  # each model path restores in float32: the pixels its PSNR was measured on
    real = restore_job.decode_lr
    monkeypatch.setattr(restore_job, "decode_lr", lambda *a: ran.append(a[5]) or real(*a))
    res = CliRunner().invoke(main, ["restore", str(dest), str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    assert ran == [FLOAT32] * sum(r.model is not None for r in rows.values())
    for name in rows:  # what restore writes keeps the promise (a JPEG that cannot: a PNG)
        path = out / name if (out / name).exists() else out / (name + ".png")
        assert psnr(read_image(path).rgb, read_image(src / name).rgb) >= 31
    assert (read_image(out / "alpha.png").alpha == 200).all()
    if rows["rocket.jpg"].path == "jpeg@full":  # a JPEG stored as JPEG comes back as is
        assert (out / "rocket.jpg").read_bytes() == (
            dest / rows["rocket.jpg"].stored_path
        ).read_bytes()
    res = CliRunner().invoke(main, ["verify", str(dest), "--deep"])
    assert res.exit_code == 0, res.output


def test_rerun_with_a_target_skips_done_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(SAMPLES / "rocket.jpg", src / "rocket.jpg")
    cfg = ArchiveConfig(workers=1, target=Target(floor=30.0))
    first = archive(src, tmp_path / "arc", cfg, progress=False)
    again = archive(src, tmp_path / "arc", cfg, progress=False)
    assert first.done == 1 and again.skipped_done == 1 and again.done == 0
    assert sum(first.paths.values()) == 1 and first.worst_psnr >= 30


def test_target_options_exclude_each_other(tmp_path):
    res = CliRunner().invoke(
        main,
        ["archive", str(SAMPLES), str(tmp_path / "a"), "--target-psnr", "30", "--max-bpp", "1"],
    )
    assert res.exit_code != 0 and "exclude each other" in res.output


def _clip(path, frames=30, size=(96, 160), audio=True):
    """A short H.264 clip panning over a photo, with an AAC tone when ``audio``."""
    import av

    photo = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))
    h, w = size
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=15)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"crf": "12"}
        a = c.add_stream("aac", rate=16000) if audio else None
        for i in range(frames):
            rgb = np.ascontiguousarray(photo[100 : 100 + h, 100 + 3 * i : 100 + 3 * i + w])
            for p in v.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        if a is not None:
            t = np.arange(16000 * frames // 15) / 16000
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            af = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            af.sample_rate = 16000
            for p in a.encode(af):
                c.mux(p)
            for p in a.encode():
                c.mux(p)


def _streams(path):
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        n = sum(1 for _ in c.decode(video=0))
        return n, (v.height, v.width), sorted(s.type for s in c.streams)


def test_videos_are_archived_to_a_floor_and_restored(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _clip(src / "clip.mp4")
    dest, out = tmp_path / "arc", tmp_path / "out"
    res = CliRunner().invoke(
        main, ["archive", str(src), str(dest), "--target-psnr", "30", "--workers", "1", "--quiet"]
    )
    assert res.exit_code == 0, res.output
    with Manifest(dest / MANIFEST_NAME) as man:
        (r,) = list(man.records())
    assert r.status == "done" and r.codec == "h264", r
    assert r.psnr >= 30 and r.worst_psnr is not None and r.target == "psnr>=30"
    assert r.stored_bytes < r.size
    n, size, kinds = _streams(dest / r.stored_path)
    assert kinds == ["audio", "video"]  # the audio is copied
    res = CliRunner().invoke(main, ["restore", str(dest), str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    assert _streams(out / "clip.mp4") == (30, (96, 160), ["audio", "video"])
    assert CliRunner().invoke(main, ["verify", str(dest), "--deep"]).exit_code == 0
    # a rerun finds its own files there; restore never overwrites anything else
    res = CliRunner().invoke(main, ["restore", str(dest), str(out), "--quiet"])
    assert res.exit_code == 0 and "1 already restored" in res.output, res.output
    (out / "clip.mp4").write_bytes(b"the user's own file")
    res = CliRunner().invoke(main, ["restore", str(dest), str(out), "--quiet"])
    assert res.exit_code == 1 and "exists" in res.output
    assert (out / "clip.mp4").read_bytes() == b"the user's own file"


def test_videos_without_a_floor_go_through_the_model(tmp_path):
    from mediapipe_irn.jobs.video_archive import measure_clip

    src = tmp_path / "src"
    src.mkdir()
    _clip(src / "c.mov", frames=12, audio=False)
    cfg = ArchiveConfig(workers=1, crf=30)
    s = archive(src, tmp_path / "arc", cfg, progress=False)
    assert s.done == 1 and s.paths == {"h264@sain-x2-lite": 1}
    with Manifest(tmp_path / "arc" / MANIFEST_NAME) as man:
        (r,) = list(man.records())
    assert r.quality == 30 and r.scale == 2 and r.stored_path.endswith(".irn.mov")
    mean, worst = measure_clip(src / "c.mov", tmp_path / "arc" / r.stored_path)
    assert worst <= mean and mean > 20


@pytest.mark.parametrize(("floor", "model"), [(31.0, "deblock-x1"), (35.0, "deblock-x1-444")])
def test_full_size_restore_stores_a_smaller_ordinary_jpeg(photo, rescalers, floor, model):
    """The shipped full-size restores win above the ×2 path's reach: an ordinary full-size
    JPEG (in the chroma of the smallest plain one) that a plain decode leaves under the floor
    and the restore brings over it, smaller than plain JPEG at that floor."""
    import io

    from PIL import Image, JpegImagePlugin

    c = choose(photo, Target(floor=floor), rescalers)
    assert c.model == model, c.tried
    assert len(c.data) < 0.95 * c.plain_bytes
    with Image.open(io.BytesIO(c.data)) as im:
        assert im.size == photo.rgb.shape[1::-1]
        assert JpegImagePlugin.get_sampling(im) == (0 if model.endswith("444") else 2)
    plain = get_codec("jpeg").decode(c.data).frames[0]
    assert psnr(plain, photo.rgb) < floor <= _restored_psnr(c, photo, rescalers)


def test_x2_path_is_skipped_where_the_floor_is_out_of_its_reach(photo, rescalers, monkeypatch):
    """The ×2 path is not even downscaled where the floor lies more than X2_REACH_DB above
    the image's bicubic round trip; below that it is searched."""
    from mediapipe_irn.jobs import target

    reach = target._bicubic_round_trip_psnr(photo, 2) + target.X2_REACH_DB
    downs = []
    real_down = FrameRescaler.down
    monkeypatch.setattr(FrameRescaler, "down", lambda r, rgb: downs.append(r) or real_down(r, rgb))
    high = choose(photo, Target(floor=reach + 0.5), rescalers)
    assert "jpeg@sain-x2" not in high.tried and not [r for r in downs if r.scale == 2]
    low = choose(photo, Target(floor=27.0), rescalers)
    assert "jpeg@sain-x2" in low.tried and [r for r in downs if r.scale == 2]


@pytest.mark.parametrize("floor", [26.0, 28.0, 30.0])
def test_x2_search_lands_near_the_lowest_quality(photo, rescalers, floor):
    """The ×2 path's search (at most MAX_EXACT whole-image restorations, its curve in the LR
    error to the power X2_CURVE_POWER) ends where a further restoration was predicted to save
    under X2_NEXT_GAIN of its bytes: within that share (and 2 % for the prediction) of the
    lowest quality that meets the floor, found here by restoring at every quality."""
    from mediapipe_irn.jobs import target

    p = target._Model(photo, "jpeg", "psnr", rescalers["sain-x2"])
    restored = []
    real = p.restore
    p.restore = lambda data: restored.append(1) or real(data)
    q = target._search_model(p, floor, None)
    floor = target.needed(p, floor)  # plus a margin where the model runs in bfloat16
    assert q is not None and p.value(q) >= floor and len(restored) <= target.MAX_EXACT
    lo, hi = p.steps  # indices into the qualities searched
    best = next(b for b in range(lo, hi + 1) if all(p.value(x) >= floor for x in range(b, hi + 1)))
    assert (1 - target.X2_NEXT_GAIN) * p.size(q) <= 1.02 * p.size(best), (q, best)


@pytest.mark.parametrize("table", [True, False])
def test_x2_search_first_restores_where_the_anchor_table_points(
    photo, rescalers, monkeypatch, table
):
    """With ``X2_ANCHOR``, the ×2 path's first whole-image restoration is at the lowest quality
    where the table's median restore over the bicubic proxy meets the aim; without it, at the
    top quality. Either way the result meets the floor."""
    from mediapipe_irn.jobs import target

    if not table:
        monkeypatch.setattr(target, "X2_ANCHOR", ())
    p = target._Model(photo, "jpeg", "psnr", rescalers["sain-x2"])
    restored = []
    real = p.restore
    p.restore = lambda data: restored.append(data) or real(data)
    q = target._search_model(p, 28.0, None)
    need = target.needed(p, 28.0)
    aim = target._distortion("psnr", need + target.X2_AIM["psnr"])
    lo, hi = p.steps
    first = hi
    if table:
        first = target.lowest(
            lambda i: p.bicubic_error(i) * target._anchor_ratio(p.levels[i]) <= aim, lo, hi
        )
        assert first < hi - 10
    assert restored[0] == p.encode(first)
    assert q is not None and p.value(q) >= need


@pytest.mark.parametrize("model", ["sain-x2", "deblock-x1"])
def test_a_bfloat16_restoration_must_clear_the_floor_by_a_margin(photo, rescalers, model):
    """A restoration measured in bfloat16 counts as a hit only BF16_MARGIN above the floor (a
    float32 restore elsewhere may come out a little lower); in float32, the floor itself."""
    from mediapipe_irn.jobs import target

    m = rescalers[model].model
    p16 = target._Model(photo, "jpeg", "psnr", FrameRescaler(m, "bf16"))
    p32 = target._Model(photo, "jpeg", "psnr", FrameRescaler(m, "fp32"))
    margin = target.BF16_MARGIN["bf16"]["psnr"]
    assert target.needed(p16, 28.0) == 28.0 + margin
    assert target.needed(p32, 28.0) == 28.0
    # a floor a hair under the float32 value at one quality: bfloat16 may not stop there
    floor = p32.value(p32.at(50)) - margin / 3
    q = target._search_model(p16, floor, None)
    assert q is not None and p16.value(q) >= floor + margin


def test_full_size_restore_stores_its_best_gain(photo, rescalers):
    """The search gives a full-size restore the least-squares gain on the source (two
    decimals; the plain decode's 0 or the filter's 1 where rounding left it behind them) and
    stores it: the restored file's PSNR is the one measured, at least the plain decode's and
    the filter's at gain 1; the stored file's size is the searched one."""
    from mediapipe_irn.api import decode_lr
    from mediapipe_irn.jobs import target

    p = target._Model(photo, "jpeg", "psnr", rescalers["deblock-x1"])
    for q in (p.at(60), p.at(95), p.at(93.4)):
        v = p.value(q)
        data = p.stored(q)
        img, meta, _ = decode_lr(data)
        assert meta.extra["gain"] == f"{p._gain[q]:.2f}" and len(data) == p.size(q)
        assert psnr(img.rgb, photo.rgb) == pytest.approx(v, abs=1e-9)
        plain = get_codec("jpeg").decode(data).frames[0]
        dec = get_codec("jpeg").decode(p.encode(q))
        full = rescalers["deblock-x1"].up(dec.frames[0], dec.metadata, dec.quality)
        assert v >= psnr(plain, photo.rgb) and v >= psnr(full, photo.rgb)


def test_full_size_restore_is_tried_with_jpegli_in_its_chroma(photo, rescalers):
    """With jpegli accepted, the 4:2:0 full-size restore is searched on jpegli's files too
    (4:2:0, what jpegli writes); the 4:4:4 one never is."""
    from mediapipe_irn.codecs import list_codecs

    if "jpegli" not in list_codecs():
        pytest.skip("the jpegli plugin is not installed")
    c = choose(photo, Target(floor=33.0, codecs=("jpeg", "jpegli")), rescalers)
    assert "jpegli@deblock-x1" in c.tried and "jpegli@deblock-x1-444" not in c.tried
    assert c.psnr >= 33.0


@pytest.mark.parametrize("chroma", ["4:2:0", "4:4:4"])
def test_plain_jpeg_search_encodes_only_what_it_measures(photo, chroma):
    """The plain JPEG path's search places its guesses by libjpeg's quantiser steps, known
    without encoding: a handful of measured qualities per floor, each measured on a file
    without per-image Huffman tables (the same pixels; the stored file's are encoded only
    when its bytes are asked for), and it finds the lowest quality meeting each floor
    (checked against every quality, each on its stored file)."""
    from mediapipe_irn.jobs.target import _meeting, _Plain

    full = _Plain(photo, "jpeg", "psnr", chroma)
    every = [full.codec.decode(full.encode(q)).frames[0] for q in range(full.steps[1] + 1)]
    fresh = _Plain(photo, "jpeg", "psnr", chroma)  # measured on a file without the tables
    assert fresh.restored(40).tobytes() == every[40].tobytes() and not fresh._bytes
    every = [psnr(out, photo.rgb) for out in every]
    for floor in (26.0, 29.5, 33.0, 37.0, 41.0):
        p = _Plain(photo, "jpeg", "psnr", chroma)
        q = _meeting(p, floor)
        assert q == next(i for i, v in enumerate(every) if v >= floor)
        assert not p._bytes and 0 < len(p._exact) <= 14
        assert p.size(q) == full.size(q) and list(p._bytes) == [q]


def test_full_size_restore_search_shares_its_plain_twins_files(photo, rescalers):
    """A full-size restore's file is the plain JPEG's of its chroma plus the restore metadata:
    searched through its twin it measures the same sizes, codec errors and restored quality as
    on its own files, and encodes one file of its own (the metadata's bytes)."""
    from mediapipe_irn.jobs.target import _Model, _Plain

    r = rescalers["deblock-x1"]
    twin = _Plain(photo, "jpeg", "psnr", r.model.lr_subsampling)
    shared = _Model(photo, "jpeg", "psnr", r, twin=twin)
    alone = _Model(photo, "jpeg", "psnr", r)
    assert shared.twin is twin and alone.twin is None
    for q in (shared.at(35), shared.at(70), shared.at(92.4)):
        assert shared.size(q) == alone.size(q) == len(alone.encode(q))
        assert shared.lr_error(q) == alone.lr_error(q)
        assert shared.value(q) == alone.value(q)
    assert len(shared._bytes) == 1 and len(alone._bytes) == 3
    q = shared.at(70)
    assert shared.stored(q) == alone.stored(q)
    other = _Plain(photo, "jpeg", "psnr", "4:4:4")  # another chroma: no twin
    assert _Model(photo, "jpeg", "psnr", r, twin=other).twin is None


def test_x2_first_prediction_follows_the_bicubic_upscale(photo, rescalers):
    """From one restoration, the ×2 search predicts another quality's restored MSE by the
    change in MSE of the same decoded LR upscaled bicubically (from below quality
    ``X2_BICUBIC_BELOW``): on the crop, within 0.5 dB from quality 80 down to 40 and 20."""
    from mediapipe_irn.jobs import target

    p = target._Model(photo, "jpeg", "psnr", rescalers["sain-x2"])
    a = p.at(80)
    assert p.levels[a] < target.X2_BICUBIC_BELOW
    for q in (40, 20):
        t = p.at(q)
        pred = p.mse(a) + target.X2_BICUBIC_SLOPE * (p.bicubic_error(t) - p.bicubic_error(a))
        assert abs(10 * np.log10(pred / p.mse(t))) < 0.5, q
        assert p.bicubic_error(t) > p.bicubic_error(a) > 0


@pytest.mark.parametrize("margin", [0.9, 1.1])
def test_full_size_restore_is_not_tried_below_its_reach(photo, rescalers, margin):
    """A full-size restore whose floor needs less restored/decoded MSE at the top quality under
    the bytes to beat than one image in ten reaches (``FULL_SIZE_REACH``) is not restored at
    all; a little above that share it is."""
    from mediapipe_irn.jobs import target

    twin = target._Plain(photo, "jpeg", "psnr")
    p = target._Model(photo, "jpeg", "psnr", rescalers["deblock-x1"], twin=twin)
    q6 = p.at(6)
    share = margin * target._full_size_reach(6)
    floor = 10 * np.log10(255**2 / (share * p.lr_error(q6))) - target.AIM["psnr"]
    target._search_model(p, floor, p.size(q6) + 1)
    assert bool(p._exact) == (margin > 1)


@pytest.mark.parametrize("floor", [55.0, 75.0])
def test_a_ssimulacra2_floor_holds_on_the_whole_image(photo, rescalers, floor):
    from mediapipe_irn.metrics import ssimulacra2

    c = choose(photo, Target(metric="ssimulacra2", floor=floor), rescalers)
    assert c.data is not None and c.ssimulacra2 >= floor
    dec = get_codec(c.codec).decode(c.data)
    if c.model is None:
        out = dec.frames[0]
    else:
        out = rescalers[c.model].up(dec.frames[0], dec.metadata, dec.quality)
    assert ssimulacra2(photo.rgb, out) >= floor  # the stored file, restored, measured again
    assert c.plain_bytes is None or len(c.data) <= c.plain_bytes


def test_quality_levels_name_ssimulacra2_floors(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    full = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))
    Image.fromarray(full[96:288, 160:352]).save(src / "crop.png")
    dest = tmp_path / "arc"
    res = CliRunner().invoke(
        main, ["archive", str(src), str(dest), "--quality-level", "medium", "--quiet"]
    )
    assert res.exit_code == 0 and "ssimulacra2>=50" in res.output, res.output
    with Manifest(dest / MANIFEST_NAME) as man:
        (r,) = man.records()
    assert r.target == "ssimulacra2>=50" and r.ssimulacra2 >= 50
    res = CliRunner().invoke(
        main, ["archive", str(src), str(dest), "--quality-level", "high", "--target-psnr", "30"]
    )
    assert res.exit_code == 2 and "exclude each other" in res.output
