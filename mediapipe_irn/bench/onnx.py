"""Probe: the models' whole-frame downscale/upscale through ONNX Runtime (and OpenVINO, when
installed) against eager PyTorch in the same process, all float32 (OpenVINO's inference
precision pinned to f32: on CPUs with native bf16 it would otherwise run bf16). Needs ``pip
install mediapipe-irn[onnx]``; OpenVINO ``pip install openvino`` (not a dependency)."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..models import RescaleModel, create_model
from ..pipeline.execution import capability
from .common import environment, median_seconds


class _Down(nn.Module):
    def __init__(self, m: RescaleModel) -> None:
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m.forward_lr(x)


class _Up(nn.Module):
    def __init__(self, m: RescaleModel) -> None:
        super().__init__()
        self.m = m

    def forward(self, lr):
        return self.m.upscale(lr)


def run(
    models: list[str], sizes: list[tuple[int, int]], repeat: int = 3, threads: int = 2
) -> dict[str, Any]:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise InputError("bench onnx needs `pip install onnxruntime onnx`") from exc
    try:
        import openvino

        ov_core, ov_version = openvino.Core(), openvino.__version__
    except ImportError:
        ov_core = ov_version = None
    torch.set_num_threads(threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in models:
            m = create_model(name).eval()
            for w, h in sizes:
                x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))
                lr = m.downscale(x)
                for direction, mod, inp in (("down", _Down(m), x), ("up", _Up(m), lr)):
                    path = Path(tmp) / f"{name}-{direction}-{w}x{h}.onnx"
                    torch.onnx.export(
                        mod,
                        (inp,),
                        str(path),
                        input_names=["x"],
                        output_names=["y"],
                        opset_version=17,
                        dynamo=False,
                    )
                    so = ort.SessionOptions()
                    so.intra_op_num_threads = threads
                    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
                    a = inp.numpy()
                    t_ort = median_seconds(lambda s=sess, a=a: s.run(None, {"x": a}), repeat)
                    t_pt = median_seconds(lambda f=mod, i=inp: f(i), repeat)
                    ref = mod(inp).numpy()
                    diff = float(np.abs(sess.run(None, {"x": a})[0] - ref).max())
                    row = {
                        "model": name,
                        "direction": direction,
                        "size": f"{w}x{h}",
                        "torch_eager_s": t_pt,
                        "onnxruntime_s": t_ort,
                        "speedup": t_pt / t_ort,
                        "max_abs_diff": diff,
                    }
                    if ov_core is not None:
                        cm = ov_core.compile_model(
                            str(path),
                            "CPU",
                            {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": threads},
                        )
                        t_ov = median_seconds(lambda c=cm, a=a: c([a]), repeat)
                        out = next(iter(cm([a]).values()))
                        row.update(
                            openvino_s=t_ov,
                            openvino_speedup=t_pt / t_ov,
                            openvino_max_abs_diff=float(np.abs(out - ref).max()),
                        )
                    rows.append(row)
    return {
        "rows": rows,
        "threads": threads,
        "onnxruntime": ort.__version__,
        "openvino": ov_version,
        "capability": capability(),
        "env": environment(),
    }


def format_table(res: dict[str, Any]) -> str:
    ov = res.get("openvino")
    lines = [
        f"ONNX Runtime {res['onnxruntime']}"
        + (f" and OpenVINO {ov}" if ov else "")
        + f" vs eager PyTorch, float32, whole frame, {res['threads']} threads",
        "| model | direction | size | eager s | onnxruntime s (speed-up, max diff) |"
        + (" openvino s (speed-up, max diff) |" if ov else ""),
        "|---|---|---|---|---|" + ("---|" if ov else ""),
    ]
    for r in res["rows"]:
        line = (
            f"| {r['model']} | {r['direction']} | {r['size']} | {r['torch_eager_s']:.3f} | "
            f"{r['onnxruntime_s']:.3f} ({r['speedup']:.2f}×, {r['max_abs_diff']:.1e}) |"
        )
        if "openvino_s" in r:
            line += (
                f" {r['openvino_s']:.3f} ({r['openvino_speedup']:.2f}×, "
                f"{r['openvino_max_abs_diff']:.1e}) |"
            )
        lines.append(line)
    return "\n".join(lines)
