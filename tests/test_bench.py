from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from mediapipe_irn.cli import main

from .conftest import SAMPLES


def test_bench_quality_writes_json_and_compares_at_equal_bytes(tmp_path):
    js, png = tmp_path / "q.json", tmp_path / "rd.png"
    r = CliRunner().invoke(
        main,
        [
            "bench",
            "quality",
            "--data",
            str(SAMPLES / "chelsea.png"),
            "--data",
            str(SAMPLES / "coffee.png"),
            "--models",
            "bicubic-x2",
            "--quality",
            "30,50,70,90",
            "--json",
            str(js),
            "--plot",
            str(png),
        ],
    )
    assert r.exit_code == 0, r.output
    res = json.loads(js.read_text())
    curve = res["models"]["bicubic-x2"]["curve"]
    assert [p["quality"] for p in curve] == [30, 50, 70, 90]
    assert curve[0]["bpp"] < curve[-1]["bpp"] and curve[0]["psnr"] < curve[-1]["psnr"]
    assert "bd_rate_vs_full_res_pct" in res["models"]["bicubic-x2"]
    assert png.stat().st_size > 1000


def test_bench_jpeg_sim(tmp_path):
    js = tmp_path / "s.json"
    r = CliRunner().invoke(
        main,
        [
            "bench",
            "jpeg-sim",
            "--data",
            str(SAMPLES),
            "--quality",
            "50",
            "--limit",
            "2",
            "--no-speed",
            "--json",
            str(js),
        ],
    )
    assert r.exit_code == 0, r.output
    row = json.loads(js.read_text())["rows"][0]
    assert row["psnr_sim_vs_real"] > 40


def test_bench_quality_ranks_models_against_bicubic_at_equal_bytes(tmp_path):
    js = tmp_path / "q.json"
    r = CliRunner().invoke(
        main,
        [
            "bench",
            "quality",
            "--data",
            str(SAMPLES / "chelsea.png"),
            "--models",
            "bicubic-x2,sain-x2-lite",
            "--quality",
            "30,50,70,90",
            "--context",
            "webp",
            "--hours",
            "sain-x2-lite=0.87",
            "--json",
            str(js),
            "--plot",
            str(tmp_path / "rd.png"),
        ],
    )
    assert r.exit_code == 0, r.output
    res = json.loads(js.read_text())
    lite = res["models"]["sain-x2-lite"]
    assert res["bicubic_reference"] == "bicubic-x2"
    assert "bd_psnr_vs_bicubic_db" not in res["models"]["bicubic-x2"]
    assert abs(lite["bd_psnr_vs_bicubic_db"]) < 5 and "bd_rate_vs_bicubic_pct" in lite
    webp = res["context"]["webp"]
    assert len(webp) >= 4 and webp[0]["bpp"] < webp[-1]["bpp"]
    assert "BD-PSNR vs bicubic" in r.output and "full-resolution webp" in r.output
    assert (tmp_path / "rd_hours.png").stat().st_size > 1000


def test_bd_of_a_curve_against_itself_is_zero():
    from mediapipe_irn.bench.common import bd_against

    curve = [{"bpp": b, "psnr": p} for b, p in [(0.2, 25), (0.4, 28), (0.8, 31), (1.6, 34)]]
    shifted = [{"bpp": c["bpp"], "psnr": c["psnr"] + 1} for c in curve]
    same = bd_against(curve, curve, against="bicubic")
    assert abs(same["bd_psnr_vs_bicubic_db"]) < 1e-9 and abs(same["bd_rate_vs_bicubic_pct"]) < 1e-6
    assert abs(bd_against(curve, shifted, against="bicubic")["bd_psnr_vs_bicubic_db"] - 1) < 1e-9


def test_compare_shows_every_path_at_the_same_budget(tmp_path):
    from PIL import Image

    out = tmp_path / "cmp.png"
    r = CliRunner().invoke(
        main,
        [
            "compare",
            str(SAMPLES / "chelsea.png"),
            str(out),
            "--bpp",
            "0.4",
            "--model",
            "sain-x2-lite",
        ],
    )
    assert r.exit_code == 0, r.output
    budget = int(0.4 * 300 * 451 / 8)
    rows = [ln.split() for ln in r.output.splitlines() if " B " in ln]
    assert len(rows) == 3
    for row in rows:
        assert int(row[row.index("B") - 1].replace(",", "")) <= budget  # within the budget
    im = Image.open(out)
    assert im.size[0] > 4 * 256 and im.size[1] > 256
    r = CliRunner().invoke(
        main, ["compare", str(SAMPLES / "chelsea.png"), str(out), "--bpp", "0.4"]
    )
    assert r.exit_code == 2 and "exists" in r.output


def test_onnx_probe_matches_eager_output():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from mediapipe_irn.bench import onnx

    res = onnx.run(["sain-x2-lite"], [(64, 48)], repeat=1, threads=1)
    assert {r["direction"] for r in res["rows"]} == {"down", "up"}
    assert all(r["max_abs_diff"] < 1e-4 and r["onnxruntime_s"] > 0 for r in res["rows"])


def test_bench_archive_totals_every_way_and_meets_the_floor(tmp_path):
    from PIL import Image

    data = tmp_path / "data"
    data.mkdir()
    Image.open(SAMPLES / "astronaut.png").crop((100, 60, 292, 220)).save(data / "a.png")
    js = tmp_path / "a.json"
    r = CliRunner().invoke(
        main,
        [
            "bench",
            "archive",
            "--data",
            str(data),
            "--floors",
            "30,34",
            "--json",
            str(js),
            "--plot",
            str(tmp_path / "a.png"),
        ],
    )
    assert r.exit_code == 0, r.output
    res = json.loads(js.read_text())
    assert [row["floor"] for row in res["rows"]] == [30, 34]
    for row in res["rows"]:
        b = row["bytes"]
        assert b["choice"] <= b["jpeg"] <= b["jpeg-4:2:0"]  # the choice never loses
        assert row["worst_choice"] >= row["floor"]
        assert row["vs_jpeg"]["jpeg"] == 1.0
        assert sum(row["paths"].values()) == 1
    assert res["rows"][0]["bytes"]["jpeg"] < res["rows"][1]["bytes"]["jpeg"]
    assert "cpu" in res["capability"]


def test_search_curve_finds_the_power_its_curves_follow():
    """``bench search-curve``'s measures: curves exactly linear in u**1.7 are predicted
    without error at power 1.7 and with error at power 1; the fitted slope comes back in
    ``X2_CURVE_SLOPE``'s units (k·u(50)**0.7)."""
    import numpy as np

    from mediapipe_irn.bench.search_curve import QUALITIES, fitted_slopes, prediction_error

    u = np.linspace(300.0, 10.0, len(QUALITIES))  # falls with the quality
    curves = [{"u": list(u), "mse": list(5.0 + k * u**1.7)} for k in (0.01, 0.02)]
    assert prediction_error(curves, 1.7)["beyond_p90_db"] < 1e-9
    assert prediction_error(curves, 1.0)["inside_median_db"] > 0.05
    u50 = u[QUALITIES.index(50)]
    assert fitted_slopes(curves, 1.7) == pytest.approx([0.01 * u50**0.7, 0.02 * u50**0.7])


def test_search_curve_one_point_errors_are_signed_and_zero_where_exact():
    """The first prediction's two predictors: a curve whose MSE moves exactly as its bicubic
    upscale's is predicted without error by the proxy at slope 1, too low by the proxy at
    slope 0.5 (PSNR measured below predicted: negative), and a curve exactly on the prior
    line without error by the line."""
    import numpy as np

    from mediapipe_irn.bench.search_curve import QUALITIES, one_point_error

    u = np.linspace(300.0, 10.0, len(QUALITIES))
    u50 = u[QUALITIES.index(50)]
    on_line = 5.0 + 0.4 / u50**0.7 * u**1.7
    curves = [{"u": list(u), "mse": list(on_line), "bicubic": list(30.0 + on_line)}]
    exact = one_point_error(curves, 1.7, 0.4, 1.0)
    assert exact["prior_line_p90_abs_db"] < 1e-9 and exact["bicubic_p90_abs_db"] < 1e-9
    assert one_point_error(curves, 1.7, 0.4, 0.5)["bicubic_median_db"] < -0.1


def test_bench_search_anchor_is_the_median_ratio_on_centre_crops(tmp_path):
    """``bench search-anchor``: per quality, the median over images of a ×2 restore's MSE
    per unit of its bicubic proxy's, each on the image's centre crop; ``x2_anchor`` pairs it
    with the quality, rounded, ready for ``jobs.target.X2_ANCHOR``."""
    from mediapipe_irn.bench.common import center_crop
    from mediapipe_irn.jobs import target
    from mediapipe_irn.pipeline import read_image
    from mediapipe_irn.pipeline.rescale import FrameRescaler

    js = tmp_path / "a.json"
    files = [str(SAMPLES / "chelsea.png"), str(SAMPLES / "astronaut.png")]
    args = ["bench", "search-anchor", "--crop", "96x64", "--json", str(js)]
    r = CliRunner().invoke(main, [*args, "--data", files[0], "--data", files[1]])
    assert r.exit_code == 0, r.output
    res = json.loads(js.read_text())
    assert res["images"] == 2 and res["crop"] == [96, 64]
    rescaler = FrameRescaler.load("sain-x2")
    ratios = []
    for f in files:
        img = center_crop(read_image(f), 96, 64)
        assert img.size == (64, 96)
        p = target._Model(img, "jpeg", "psnr", rescaler)
        i = p.at(res["qualities"][3])
        ratios.append(p.mse(i) / p.bicubic_error(i))
    assert res["median"][3] == pytest.approx(np.median(ratios), rel=1e-6)
    assert res["x2_anchor"][3] == [res["qualities"][3], round(res["median"][3], 3)]
    assert "X2_ANCHOR = ((5, " in r.output
    bad = CliRunner().invoke(main, [*args[:2], "--data", files[0], "--crop", "96x"])
    assert bad.exit_code != 0 and "WIDTHxHEIGHT" in bad.output


def test_bench_search_curve_writes_json(tmp_path):
    js = tmp_path / "c.json"
    r = CliRunner().invoke(
        main,
        ["bench", "search-curve", "--data", str(SAMPLES / "chelsea.png"), "--json", str(js)],
    )
    assert r.exit_code == 0, r.output
    res = json.loads(js.read_text())
    assert res["images"] == 1 and [row["power"] for row in res["rows"]] == [1.0, 1.5, 1.7, 2.0]
    assert len(res["curves"][0]["mse"]) == len(res["qualities"])
    # each point is the named quality's (the search's own steps are finer at the top)
    from mediapipe_irn.codecs import EncodeOptions, get_codec
    from mediapipe_irn.jobs.target import OPTIMIZE
    from mediapipe_irn.pipeline import read_image
    from mediapipe_irn.pipeline.rescale import FrameRescaler

    lr = FrameRescaler.load("sain-x2").down(read_image(SAMPLES / "chelsea.png").rgb)
    jpeg = get_codec("jpeg")
    data = jpeg.encode([lr], EncodeOptions(quality=95, optimize=OPTIMIZE))
    u95 = float(np.mean((jpeg.decode(data).frames[0].astype(np.float32) - lr) ** 2))
    assert res["curves"][0]["u"][res["qualities"].index(95)] == pytest.approx(u95, rel=1e-6)


def test_bench_quality_adds_the_full_size_restore_at_its_gain(tmp_path):
    """A full-size restore gets a ``+gain`` row: each file at the archive's least-squares
    gain, never below the filter at gain 1, for the few bytes the gain's text adds."""
    from mediapipe_irn.bench import quality

    res = quality.run([str(SAMPLES / "chelsea.png")], ["deblock-x1"], [50, 95])
    plain, gain = res["models"]["deblock-x1"]["curve"], res["models"]["deblock-x1+gain"]["curve"]
    assert [r["quality"] for r in gain] == [50, 95]
    for a, b in zip(plain, gain):
        assert b["psnr"] >= a["psnr"] - 1e-3 and 0 < b["bpp"] - a["bpp"] < 0.001


def test_bench_archive_jobs_times_both_jobs_on_one_folder(tmp_path):
    from PIL import Image

    data = tmp_path / "data"
    data.mkdir()
    Image.open(SAMPLES / "astronaut.png").crop((100, 60, 292, 220)).save(data / "a.png")
    Image.open(SAMPLES / "chelsea.png").crop((0, 0, 160, 128)).save(data / "b.png")
    js = tmp_path / "j.json"
    args = ["bench", "archive-jobs", "--data", str(data), "--floors", "30", "--json", str(js)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    res = json.loads(js.read_text())
    assert res["images"] == 2
    (row,) = res["rows"]
    assert row["worst_psnr"] >= 30  # read back from the target job's manifest
    assert sum(row["paths"].values()) == 2
    fixed = res["fixed"]
    assert fixed["seconds_before"] > 0 and fixed["seconds_after"] > 0
    mean = (fixed["seconds_before"] + fixed["seconds_after"]) / 2
    assert row["ratio"] == pytest.approx(row["seconds"] / mean)
    # two files: the second one's cost is the whole job's less the first file's alone
    assert row["per_file"] == pytest.approx(row["seconds"] - row["one_file"])
    assert row["per_file_ratio"] == pytest.approx(row["per_file"] / fixed["per_file"])
    assert 0 < row["bytes_out"] and 0 < fixed["bytes_out"]
