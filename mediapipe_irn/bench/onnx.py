"""Probe: the models' whole-frame downscale/upscale through ONNX Runtime against eager PyTorch
in the same process (float32), for the optional-backend question. Needs ``pip install
onnxruntime onnx`` (not dependencies of the package)."""

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
                    diff = float(np.abs(sess.run(None, {"x": a})[0] - mod(inp).numpy()).max())
                    rows.append(
                        {
                            "model": name,
                            "direction": direction,
                            "size": f"{w}x{h}",
                            "torch_eager_s": t_pt,
                            "onnxruntime_s": t_ort,
                            "speedup": t_pt / t_ort,
                            "max_abs_diff": diff,
                        }
                    )
    return {"rows": rows, "threads": threads, "onnxruntime": ort.__version__, "env": environment()}


def format_table(res: dict[str, Any]) -> str:
    lines = [
        f"ONNX Runtime {res['onnxruntime']} vs eager PyTorch, float32, whole frame, "
        f"{res['threads']} threads",
        "| model | direction | size | eager s | onnxruntime s | speed-up | max abs diff |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        lines.append(
            f"| {r['model']} | {r['direction']} | {r['size']} | "
            f"{r['torch_eager_s']:.3f} | {r['onnxruntime_s']:.3f} | "
            f"{r['speedup']:.2f}× | {r['max_abs_diff']:.1e} |"
        )
    return "\n".join(lines)
