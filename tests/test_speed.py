from __future__ import annotations

import pytest
import torch

from mediapipe_irn.bench import speed
from mediapipe_irn.models import create_model
from mediapipe_irn.pipeline import downscale_image, upscale_image
from mediapipe_irn.pipeline.execution import resolve

from .conftest import randomize


def test_flops_per_pixel_counts_convolutions():
    small = speed.conv_flops_per_hr_pixel("sain-x2", "down")
    big = speed.conv_flops_per_hr_pixel("sain-x2-paper", "down")
    lite = speed.conv_flops_per_hr_pixel("sain-x2-lite", "down")
    assert 0 < lite < small < big
    assert speed.conv_flops_per_hr_pixel("bicubic-x2", "down") == 0


@pytest.mark.parametrize("precision", ["channels_last", "bf16"])
def test_precisions_stay_close_to_fp32(precision):
    m = randomize(create_model("irn-x2", pretrained=False), std=0.01)
    hr = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(0))
    lr32, _ = downscale_image(m, hr, precision="fp32")
    lr, _ = downscale_image(m, hr, precision=precision)
    # Both outputs are 8-bit quantised: bf16's ~3 significant digits can move a value near a
    # rounding boundary by a level or two, never more, and rarely.
    diff = (lr - lr32).abs()
    assert lr.dtype == torch.float32
    assert diff.max() <= 3 / 255 + 1e-6 and diff.mean() < 0.5 / 255
    up = upscale_image(m, lr32, precision=precision)
    assert (up - upscale_image(m, lr32, precision="fp32")).abs().max() < 0.02


def test_unknown_precision():
    with pytest.raises(ValueError, match="unknown precision"):
        resolve("fp8")


def test_measure_one_reports_rss_and_times():
    r = speed.measure_one("bicubic-x2", 64, 96, "fp32", repeat=1)
    assert r["down_s"] > 0 and r["peak_rss_mb"] > 10 and r["psnr"] > 20


def test_frame_workers_time_frames_side_by_side(monkeypatch):
    """--frame-workers N: N frames at once on one-thread workers, times per frame."""
    from mediapipe_irn.pipeline import execution

    seen = []
    real = execution.frame_workers

    def spy(workers=0, precision="auto"):
        seen.append(workers)
        return real(workers, precision)

    monkeypatch.setattr(speed, "frame_workers", spy)
    one = speed.measure_one("sain-x2-lite", 64, 96, "fp32", repeat=1)
    two = speed.measure_one("sain-x2-lite", 64, 96, "fp32", repeat=1, workers=2)
    assert seen == [1, 2]
    assert two["down_s"] > 0 and abs(two["psnr"] - one["psnr"]) < 1e-6


def test_speed_run_passes_the_tile_to_each_measurement():
    res = speed.run(["sain-x2-lite"], [(96, 64)], ["fp32"], repeat=1, tile=32)
    (row,) = res["rows"]
    assert "error" not in row, row
    assert res["tile"] == 32
    # tiled (32 px tiles: 6 of them) and untiled results agree: the tile really was used
    whole = speed.measure_one("sain-x2-lite", 64, 96, "fp32", repeat=1, tile=768)
    assert abs(row["psnr"] - whole["psnr"]) < 0.05


@pytest.mark.parametrize("batch", [1, 2])
def test_dense_block_inference_path_matches_training_path(batch):
    from mediapipe_irn.nn.subnets import DenseBlock

    blk = randomize(DenseBlock(6, 5, growth=8), std=0.1)
    x = torch.rand(batch, 6, 20, 24, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        fast = blk(x)
    slow = blk(x).detach()  # grad mode: the concatenating path
    assert torch.allclose(fast, slow, atol=1e-5) and slow.abs().max() > 0


def test_frame_workers_keep_order_and_results_and_restore_threads():
    from mediapipe_irn.pipeline.execution import frame_workers

    m = randomize(create_model("sain-x2-lite", pretrained=False), std=0.05)
    g = torch.Generator().manual_seed(7)
    frames = [torch.rand(1, 3, 40, 56, generator=g) for _ in range(5)]
    before = torch.get_num_threads()
    ref = [downscale_image(m, f)[0] for f in frames]
    with frame_workers(2) as fmap:
        assert torch.get_num_threads() == 1
        got = fmap(lambda f: downscale_image(m, f)[0], frames)
        with pytest.raises(ZeroDivisionError):
            fmap(lambda f: 1 / 0, frames)
    assert torch.get_num_threads() == before
    assert all((a - b).abs().max() <= 1 / 255 + 1e-6 for a, b in zip(got, ref))
    with frame_workers(1) as fmap:
        assert fmap(lambda v: v * 2, [1, 2, 3]) == [2, 4, 6]
    with pytest.raises(ValueError, match="workers"):
        with frame_workers(-1):
            pass


@pytest.mark.slow
def test_compiled_execution_matches_eager():
    """torch.compile (inductor; needs a C++ compiler) gives the eager results."""
    m = randomize(create_model("sain-x2-lite", pretrained=False), std=0.05)
    hr = torch.rand(1, 3, 40, 56, generator=torch.Generator().manual_seed(8))
    lr32, _ = downscale_image(m, hr, precision="fp32")
    lr, _ = downscale_image(m, hr, precision="compile")
    assert (lr - lr32).abs().max() <= 1 / 255 + 1e-6
    up = upscale_image(m, lr32, precision="compile")
    assert (up - upscale_image(m, lr32, precision="fp32")).abs().max() < 1e-4


@pytest.mark.parametrize("forced,expect", [("1", True), ("0", False)])
def test_capability_detection_can_be_forced(monkeypatch, forced, expect):
    from mediapipe_irn.pipeline import execution

    monkeypatch.setenv(execution.FORCE_ENV, forced)
    assert execution.native_bf16() is expect
    cap = execution.capability()
    assert cap["native_bf16"] is expect
    for d in ("down", "up"):
        assert cap[f"auto_{d}"] == (execution.AUTO_NATIVE_BF16[d] if expect else "fp32")
        assert execution.resolve("auto", d) == cap[f"auto_{d}"]
    monkeypatch.delenv(execution.FORCE_ENV)
    for env in execution.ISA_CAP_ENVS:
        monkeypatch.delenv(env, raising=False)
    flags = execution.cpu_flags()
    assert execution.native_bf16() == bool(flags & {"avx512_bf16", "amx_bf16"})


@pytest.mark.parametrize("cap,native", [("AVX2", False), ("avx512_core", False), ("ALL", None)])
def test_a_onednn_isa_cap_below_bf16_reads_as_a_float32_only_cpu(monkeypatch, cap, native):
    from mediapipe_irn.pipeline import execution

    monkeypatch.delenv(execution.FORCE_ENV, raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    monkeypatch.setattr(execution, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    expect = True if native is None else native  # an uncapping value leaves the flags' answer
    assert execution.native_bf16() is expect
    cap_report = execution.capability()
    assert cap_report["isa_cap"] == cap.upper()
    assert cap_report["auto_down"] == ("bf16" if expect else "fp32")


@pytest.mark.pretrained
def test_auto_on_this_machine_stays_within_0_05_db_of_fp32():
    """Whatever ``auto`` picks on the machine running the tests, restored quality stays within
    0.05 dB of float32 on the samples."""
    from mediapipe_irn.metrics import psnr
    from mediapipe_irn.pipeline import read_image, to_tensor, to_uint8

    from .conftest import SAMPLES

    m = create_model("sain-x2")
    for name in ("chelsea.png", "coffee.png"):
        rgb = read_image(SAMPLES / name).rgb[:128, :160]
        x = to_tensor(rgb)
        out = {}
        for p in ("fp32", "auto"):
            lr, _ = downscale_image(m, x, precision=p)
            out[p] = psnr(to_uint8(upscale_image(m, lr, size=rgb.shape[:2], precision=p)), rgb)
        assert abs(out["auto"] - out["fp32"]) <= 0.05, (name, out)


@pytest.mark.parametrize("engine", ["onnx", "openvino"])  # openvino_bf16: the auto test
@pytest.mark.parametrize("name", ["sain-x2-lite", "sain-x2", "irn-x2", "dlv-x2"])
def test_runtime_execution_matches_float32(name, engine):
    """ONNX Runtime and OpenVINO give float32's output (odd sizes, tiles and all)."""
    from mediapipe_irn.pipeline import onnx_backend

    if not onnx_backend.available(engine):
        pytest.skip(f"{engine} not installed")
    m = create_model(name)
    hr = torch.rand(1, 3, 70, 98, generator=torch.Generator().manual_seed(1))
    lr32, _ = downscale_image(m, hr, precision="fp32")
    lr, _ = downscale_image(m, hr, precision=engine, tile=48)
    assert (lr - lr32).abs().max() <= 1 / 255 + 1e-6
    assert (lr != lr32).float().mean() < 0.001  # a level may round the other way, rarely
    up32 = upscale_image(m, lr32, precision="fp32")
    assert (upscale_image(m, lr32, precision=engine, tile=48) - up32).abs().max() < 1e-4


@pytest.mark.parametrize("direction", ["down", "up"])
def test_exported_dense_blocks_sum_convolutions_of_their_parts(direction):
    """Eager inference writes each dense-block conv into a slice of one buffer; the exported
    graph instead sums convolutions of each part (no scatter nodes from slice writes, no conv
    reading a copied concatenation), and computes the same function (the runtime tests)."""
    onnx = pytest.importorskip("onnx")
    from mediapipe_irn.pipeline.onnx_backend import _export

    graph = onnx.load_from_string(_export(create_model("sain-x2"), direction)).graph
    made_by = {o: n.op_type for n in graph.node for o in n.output}
    assert not {n.op_type for n in graph.node} & {"ScatterND", "ScatterElements"}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    assert len(convs) >= 15 * 5  # down runs 5 dense blocks, up 11: 15 convs each
    assert not [n.name for n in convs if made_by.get(n.input[0]) == "Concat"]


@pytest.mark.parametrize("shape", [(200, 480), (480, 200)])  # split across the width / height
def test_openvino_two_streams_on_halves_match_float32(monkeypatch, shape):
    """With two threads OpenVINO runs two overlapping halves side by side; the stitched output
    is float32 eager's."""
    from mediapipe_irn.pipeline import onnx_backend

    if not onnx_backend.available("openvino"):
        pytest.skip("openvino not installed")
    import openvino as ov

    started = []

    class Counting(ov.AsyncInferQueue):
        def start_async(self, inputs, userdata=None):
            started.append(userdata)
            return super().start_async(inputs, userdata)

    monkeypatch.setattr(ov, "AsyncInferQueue", Counting)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        m = randomize(create_model("sain-x2", pretrained=False)).eval()  # a runner of its own
        hr = torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(2))
        lr32, _ = downscale_image(m, hr, precision="fp32")
        lr, _ = downscale_image(m, hr, precision="openvino")
        assert started == [0, 1]  # two halves, one request each
        assert (lr - lr32).abs().max() <= 1 / 255 + 1e-6
        assert (lr != lr32).float().mean() < 0.001
        up32 = upscale_image(m, lr32, precision="fp32", quality=40)
        up = upscale_image(m, lr32, precision="openvino", quality=40)  # the condition's planes
        assert (up - up32).abs().max() < 1e-4
        assert started == [0, 1, 0, 1]
        assert (upscale_image(m, lr32, precision="fp32") - up32).abs().max() > 1e-3
    finally:
        torch.set_num_threads(threads)


def test_openvino_from_frame_workers_runs_one_stream_per_core(monkeypatch):
    """From one-thread frame workers (the video jobs) OpenVINO gets one one-thread stream per
    core and whole frames, so two workers' frames run side by side, with float32's output."""
    from mediapipe_irn.pipeline import onnx_backend
    from mediapipe_irn.pipeline.execution import frame_workers

    if not onnx_backend.available("openvino"):
        pytest.skip("openvino not installed")
    import openvino as ov

    configs, started = [], []
    compile_model = ov.Core.compile_model

    def capture(self, model, device, config):
        configs.append(dict(config))
        return compile_model(self, model, device, config)

    class Counting(ov.AsyncInferQueue):
        def start_async(self, inputs, userdata=None):
            started.append(userdata)
            return super().start_async(inputs, userdata)

    monkeypatch.setattr(ov.Core, "compile_model", capture)
    monkeypatch.setattr(ov, "AsyncInferQueue", Counting)
    monkeypatch.setattr(onnx_backend.os, "cpu_count", lambda: 2)
    m = create_model("sain-x2-lite", pretrained=False).eval()  # a runner of its own
    lr = torch.rand(1, 3, 60, 200, generator=torch.Generator().manual_seed(3))
    up32 = upscale_image(m, lr, precision="fp32")
    with frame_workers(2) as fmap:
        outs = fmap(lambda x: upscale_image(m, x, precision="openvino"), [lr, lr])
    assert [(c["NUM_STREAMS"], c["INFERENCE_NUM_THREADS"]) for c in configs] == [(2, 2)]
    assert started == []  # whole frames: no halves
    for out in outs:
        assert (out - up32).abs().max() < 1e-4


def test_auto_uses_a_runtime_only_where_it_won_and_is_installed(monkeypatch):
    from mediapipe_irn.errors import InputError
    from mediapipe_irn.pipeline import execution, onnx_backend

    have = {"onnx": True, "openvino": False}
    monkeypatch.setattr(onnx_backend, "available", lambda engine="onnx": have[engine])
    for forced in ("0", "1"):  # whatever the CPU, the video default goes through ONNX Runtime
        monkeypatch.setenv(execution.FORCE_ENV, forced)
        for name in onnx_backend.AUTO_MODELS:
            assert execution.resolve("auto", "down", name) == "onnx"
            assert execution.capability(name)["auto_up"] == "onnx"
    monkeypatch.setenv(execution.FORCE_ENV, "0")  # float32-only CPU
    assert execution.resolve("auto", "up", "sain-x2") == "onnx"  # the runtime installed
    have["onnx"] = False
    assert execution.resolve("auto", "up", "sain-x2") == "fp32"
    have["openvino"] = True
    assert execution.resolve("auto", "up", "sain-x2") == "openvino"
    assert execution.resolve("auto", "down", "sain-x2") == "openvino"
    assert execution.resolve("auto", "up", "bicubic-x2") == "fp32"  # nothing to export
    monkeypatch.setenv(execution.FORCE_ENV, "1")  # native bf16: OpenVINO bf16 both ways
    assert execution.resolve("auto", "down", "sain-x2") == "openvino_bf16"
    assert execution.resolve("auto", "up", "sain-x2") == "openvino_bf16"
    have["openvino"] = False  # without it: eager bf16 down, float32 up
    assert execution.resolve("auto", "down", "sain-x2") == "bf16"
    assert execution.resolve("auto", "up", "sain-x2") == "fp32"
    have["onnx"] = True  # ONNX Runtime where eager would run float32
    assert execution.resolve("auto", "down", "sain-x2") == "bf16"
    assert execution.resolve("auto", "up", "sain-x2") == "onnx"
    have.update(onnx=False, openvino=False)
    assert execution.resolve("auto", "up", "sain-x2-lite") == "fp32"
    with pytest.raises(InputError, match="mediapipe-irn\\[openvino\\]"):
        onnx_backend.functions(create_model("sain-x2-lite"), "openvino")


def test_float32_is_auto_without_bfloat16(monkeypatch):
    """``FLOAT32`` (what restoring an archive runs) resolves as ``auto`` does, bfloat16 options
    swapped for their float32 forms, on a CPU with native bfloat16 or without."""
    from mediapipe_irn.pipeline import execution, onnx_backend

    have = {"onnx": False, "openvino": True}
    monkeypatch.setattr(onnx_backend, "available", lambda engine="onnx": have[engine])
    for forced in ("1", "0"):
        monkeypatch.setenv(execution.FORCE_ENV, forced)
        assert execution.resolve(execution.FLOAT32, "up", "sain-x2") == "openvino"
        assert execution.resolve(execution.FLOAT32, "down", "sain-x2") == "openvino"
    have["openvino"] = False
    monkeypatch.setenv(execution.FORCE_ENV, "1")
    assert execution.resolve("auto", "down", "sain-x2") == "bf16"
    assert execution.resolve(execution.FLOAT32, "down", "sain-x2") == "fp32"
