"""The ``onnx`` execution option: a model's downscale and restore through ONNX Runtime
(float32, CPU), exported once per model and process (in memory, dynamic height and width).

Optional: ``pip install mediapipe-irn[onnx]`` (onnxruntime, and onnx for the export). Measured
against eager PyTorch in one run (``mediapipe-irn bench onnx``, README "Speed on the CPU"): on
the compact conv model ``sain-x2-lite`` 2.2–2.7× faster both ways, on the dense-block models
1.2–1.5×, outputs within 1e-5; ``auto`` therefore picks it for the models in
:data:`AUTO_MODELS` when it is installed.
"""

from __future__ import annotations

import importlib.util
import io
import threading
import warnings
import weakref

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import InputError
from ..models.base import InverseFunction, InverseOutput, LRFunction, RescaleModel

AUTO_MODELS = frozenset({"sain-x2-lite"})  # where it was ≥ 1.5× eager float32 (README)


def available() -> bool:
    """Whether ONNX Runtime and the ONNX exporter's package are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


class _Call(nn.Module):
    def __init__(self, model: RescaleModel, direction: str) -> None:
        super().__init__()
        self.model, self.direction = model, direction

    def forward(self, x: Tensor) -> Tensor:
        if self.direction == "down":
            return self.model.forward_lr(x)
        return self.model.inverse(x).hr


def _session(model: RescaleModel, direction: str, channels: int):
    import onnxruntime as ort

    buf = io.BytesIO()
    x = torch.zeros(1, channels, 16 * model.scale, 16 * model.scale)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Call(model, direction).eval(),
            (x,),
            buf,
            input_names=["x"],
            output_names=["y"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={"x": {2: "h", 3: "w"}, "y": {2: "oh", 3: "ow"}},
        )
    so = ort.SessionOptions()
    so.intra_op_num_threads = torch.get_num_threads()
    so.inter_op_num_threads = 1
    return ort.InferenceSession(buf.getvalue(), so, providers=["CPUExecutionProvider"])


_SESSIONS: weakref.WeakKeyDictionary[RescaleModel, dict[str, object]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _get(model: RescaleModel, direction: str):
    with _LOCK:  # one export per model and direction, whichever thread asks first
        per = _SESSIONS.setdefault(model, {})
        if direction not in per:
            channels = 3 if direction == "down" else model.channels
            per[direction] = _session(model, direction, channels)
        return per[direction]


def _run(sess, x: Tensor) -> Tensor:
    a = np.ascontiguousarray(x.detach().float().cpu().numpy())
    return torch.from_numpy(sess.run(None, {"x": a})[0])


def functions(model: RescaleModel) -> tuple[LRFunction, InverseFunction]:
    """``(forward_lr, inverse)`` running through ONNX Runtime (see module docstring)."""
    if not available():
        raise InputError("the onnx execution option needs `pip install mediapipe-irn[onnx]`")
    if not model.invertible:
        raise InputError(f"{model.name}: the onnx option runs the invertible models only")

    def forward_lr(m: RescaleModel, x: Tensor) -> Tensor:
        return _run(_get(m, "down"), x)

    def inverse(m: RescaleModel, y: Tensor) -> InverseOutput:
        return InverseOutput(_run(_get(m, "up"), y), None)

    return forward_lr, inverse


__all__ = ["AUTO_MODELS", "available", "functions"]
