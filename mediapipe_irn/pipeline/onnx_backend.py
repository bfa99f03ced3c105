"""The ``onnx`` and ``openvino`` execution options: a model's downscale and restore exported
to ONNX once per model and process (in memory, dynamic height and width) and run, float32 on
the CPU, by ONNX Runtime or by OpenVINO (its inference precision pinned to f32).

Optional: ``pip install mediapipe-irn[onnx]`` (onnxruntime + onnx, the exporter's package) or
``mediapipe-irn[openvino]``. Measured against eager PyTorch in one run (``mediapipe-irn bench
onnx``, README "Speed on the CPU"), outputs within 1e-6: on ``sain-x2-lite`` ONNX Runtime
1.8–4.4× faster, OpenVINO 2.2–5.5×; on the dense-block models (``sain-x2``, ``irn-x2``, 720p
and 1080p, exported as sums of convolutions: ``DenseBlock._forward_export``) ONNX Runtime
1.9–2.8×, OpenVINO 2.2–3.3×. ``auto`` (:func:`..execution.resolve`) uses them
accordingly where installed.
"""

from __future__ import annotations

import importlib.util
import io
import os
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:  # torch is imported where it is used: deciding (`available`) needs none
    from torch import Tensor

    from ..models.base import InverseFunction, InverseOutput, LRFunction, RescaleModel

AUTO_MODELS = frozenset({"sain-x2-lite"})  # where ONNX Runtime was ≥ 1.5× eager (README)
# option → the package it runs on; openvino_bf16 lets OpenVINO run bfloat16 where the CPU has it
ENGINES = {"onnx": "onnxruntime", "openvino": "openvino", "openvino_bf16": "openvino"}


def available(engine: str = "onnx") -> bool:
    """Whether ``engine``'s runtime and the ONNX exporter's package are installed."""
    return all(importlib.util.find_spec(m) is not None for m in (ENGINES[engine], "onnx"))


def _export(model: RescaleModel, direction: str, frames: bool = False) -> bytes:
    """``model``'s ``forward_lr`` (``down``) or ``inverse`` (``up``) as ONNX; ``frames``: its
    whole ``downscale`` (quantised LR) or ``upscale`` (the restore input built in the graph,
    quality unknown) instead, the form :mod:`.serving` runs on frames without torch."""
    import torch

    class _Call(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, x: Tensor) -> Tensor:
            if direction == "down":
                return self.model.downscale(x) if frames else self.model.forward_lr(x)
            return self.model.upscale(x) if frames else self.model.inverse(x).hr

    buf = io.BytesIO()
    channels = 3 if direction == "down" or frames else model.channels + model.quality_channels
    x = torch.zeros(1, channels, 16 * model.scale, 16 * model.scale)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Call().eval(),
            (x,),
            buf,
            input_names=["x"],
            output_names=["y"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={"x": {2: "h", 3: "w"}, "y": {2: "oh", 3: "ow"}},
        )
    return buf.getvalue()


def ort_session(graph: bytes | str, threads: int):
    """An ONNX Runtime CPU session of ``graph`` (bytes or a file) on ``threads`` threads."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(graph, so, providers=["CPUExecutionProvider"])


def _runner(model: RescaleModel, direction: str, engine: str) -> Callable[[np.ndarray], np.ndarray]:
    """``run(x) -> y`` on float32 arrays, through ``engine``; safe to call from several
    threads (ONNX Runtime sessions are; OpenVINO keeps one infer request per thread)."""
    import torch

    onnx_bytes = _export(model, direction)
    threads = torch.get_num_threads()
    if engine == "onnx":
        sess = ort_session(onnx_bytes, threads)
        return lambda a: sess.run(None, {"x": a})[0]
    import openvino as ov

    # Two streams of threads/2 each, on two overlapping halves of the input side by side:
    # `sain-x2` 720p 1.5x faster than one request on the whole frame (float32, AVX2; bf16 on
    # AVX512-BF16 alike), 1.2-1.3x at 1080p (README "Speed on the CPU").
    # Called from one-thread frame workers (torch at one thread, the video jobs): one
    # one-thread stream per core, whole frames, so the workers' requests run side by side
    # instead of queueing on one stream (`sain-x2-lite` 720p up, two workers: 1.7-1.8x).
    cores = os.cpu_count() or 1
    workers = threads == 1 and cores > 1
    if workers:
        streams = threads = cores
    else:
        streams = 2 if threads >= 2 else 1
    core = ov.Core()
    cm = core.compile_model(
        core.read_model(onnx_bytes, b""),
        "CPU",
        {
            "INFERENCE_PRECISION_HINT": "bf16" if engine == "openvino_bf16" else "f32",
            "INFERENCE_NUM_THREADS": threads,
            "NUM_STREAMS": streams,
        },
    )
    out, local = cm.output(0), threading.local()
    s = model.scale
    if direction == "down":  # input HR: the receptive radius, on the scale's grid
        overlap, align, num, den = -(-model.receptive_radius() // s) * s, s, 1, s
    else:  # input LR (and latent): the radius in LR pixels
        overlap, align, num, den = -(-model.receptive_radius() // s), model.lr_align, s, 1
    overlap = -(-overlap // align) * align  # both halves start on the align grid

    def run(a: np.ndarray) -> np.ndarray:  # one queue of requests per thread
        q = getattr(local, "q", None)
        if q is None:
            # per thread: one request for whole frames, one per half otherwise
            q = local.q = ov.AsyncInferQueue(cm, 1 if workers else streams)
        axis = a.ndim - 1 if a.shape[-1] >= a.shape[-2] else a.ndim - 2
        n = a.shape[axis]
        mid = n // 2 - (n // 2) % align
        if workers or streams == 1 or n < 4 * overlap + 2 * align or mid <= overlap:
            return np.array(q[0].infer({0: a})[out])  # a copy: the request reuses its buffers

        def along(lo: int, hi: int | None) -> tuple[slice, ...]:  # [lo:hi] on the cut axis
            return (slice(None),) * axis + (slice(lo, hi),)

        start = max(0, mid - overlap)  # the second half's first input index
        outs: list[np.ndarray | None] = [None, None]

        def done(req, i: int) -> None:  # a copy: the request reuses its buffers
            outs[i] = np.array(req.get_output_tensor(0).data)

        q.set_callback(done)
        for i, (c0, c1) in enumerate(((0, min(n, mid + overlap)), (start, n))):
            q.start_async({0: np.ascontiguousarray(a[along(c0, c1)])}, i)
        q.wait_all()
        first = outs[0][along(0, mid * num // den)]  # each half's own part, as views
        second = outs[1][along((mid - start) * num // den, None)]
        return np.concatenate([first, second], axis)

    return run


# Runners of shipped or loaded weights are shared by every model object carrying the same
# weights (a restore job builds a model per file; an export and compile costs seconds); others
# live as long as their model object.
_BY_WEIGHTS: dict[tuple, Callable] = {}
_BY_OBJECT: weakref.WeakKeyDictionary[RescaleModel, dict[tuple, Callable]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def _run(model: RescaleModel, direction: str, engine: str, x: Tensor) -> Tensor:
    import torch

    key = (direction, engine, torch.get_num_threads())
    with _LOCK:  # one export per model, direction and engine, whichever thread asks first
        sha = getattr(model, "weights_sha256", None)
        cache = _BY_WEIGHTS if sha else _BY_OBJECT.setdefault(model, {})
        full = (type(model).__name__, model.name, sha, *key) if sha else key
        if full not in cache:
            cache[full] = _runner(model, direction, engine)
        run = cache[full]
    return torch.from_numpy(run(np.ascontiguousarray(x.detach().float().cpu().numpy())))


def functions(model: RescaleModel, engine: str = "onnx") -> tuple[LRFunction, InverseFunction]:
    """``(forward_lr, inverse)`` running through ``engine`` (see module docstring)."""
    if not available(engine):
        raise InputError(
            f"the {engine} execution option needs `pip install mediapipe-irn[{engine}]`"
        )
    if not model.learned:
        raise InputError(f"{model.name}: the {engine} option runs the learned models only")
    from ..models.base import InverseOutput

    def forward_lr(m: RescaleModel, x: Tensor) -> Tensor:
        return _run(m, "down", engine, x)

    def inverse(m: RescaleModel, y: Tensor) -> InverseOutput:
        return InverseOutput(_run(m, "up", engine, y), None)

    return forward_lr, inverse


__all__ = ["AUTO_MODELS", "ENGINES", "available", "functions", "ort_session"]
