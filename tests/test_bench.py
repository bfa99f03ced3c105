from __future__ import annotations

import json

from click.testing import CliRunner

from mediapipe_irn.cli import main

from .conftest import SAMPLES


def test_bench_quality_writes_json_and_compares_at_equal_bytes(tmp_path):
    js, png = tmp_path / "q.json", tmp_path / "rd.png"
    r = CliRunner().invoke(main, ["bench", "quality", "--data", str(SAMPLES / "chelsea.png"),
                                  "--data", str(SAMPLES / "coffee.png"), "--models",
                                  "bicubic-x2", "--quality", "30,50,70,90", "--json", str(js),
                                  "--plot", str(png)])
    assert r.exit_code == 0, r.output
    res = json.loads(js.read_text())
    curve = res["models"]["bicubic-x2"]["curve"]
    assert [p["quality"] for p in curve] == [30, 50, 70, 90]
    assert curve[0]["bpp"] < curve[-1]["bpp"] and curve[0]["psnr"] < curve[-1]["psnr"]
    assert "bd_rate_vs_full_res_pct" in res["models"]["bicubic-x2"]
    assert png.stat().st_size > 1000


def test_bench_jpeg_sim(tmp_path):
    js = tmp_path / "s.json"
    r = CliRunner().invoke(main, ["bench", "jpeg-sim", "--data", str(SAMPLES), "--quality",
                                  "50", "--limit", "2", "--no-speed", "--json", str(js)])
    assert r.exit_code == 0, r.output
    row = json.loads(js.read_text())["rows"][0]
    assert row["psnr_sim_vs_real"] > 40
