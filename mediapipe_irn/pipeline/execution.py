"""Execution options for inference: float32 eager, channels_last, bfloat16 autocast, and
float32 through ``torch.compile`` (inductor; static shapes, so meant for video, where every
frame and tile has one of a few sizes: each new size compiles again).

``onnx`` / ``openvino``: float32 through ONNX Runtime / OpenVINO (optional extras,
:mod:`.onnx_backend`).

``auto`` chooses by the model, what is installed and what the CPU offers (README, "Speed on the
CPU", measured side by side). ONNX Runtime for the models where it won end to end
(``onnx_backend.AUTO_MODELS``: the video default, 4.05 → 5.58 frames/s on 720p) when installed.
Otherwise OpenVINO when installed: in bfloat16 where bfloat16 is native (AVX512-BF16 or
AMX-BF16; ``sain-x2`` 1080p 0.53 s down / 1.31 s up, 4K 2.7 s down against eager bf16's 5.4;
≤ 0.003 dB on the samples upscaling, where eager bf16 cost 0.06), float32 elsewhere. Without
it, ONNX Runtime where eager would run float32 (1.9–2.8× faster on the dense models), and
eager bfloat16 downscaling where bfloat16 is native (``AUTO_NATIVE_BF16``). Without native
bfloat16 (AVX2-only CPUs, where emulated bf16 ran 24× slower) eager never runs bf16.
"""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal, TypeVar, get_args

if TYPE_CHECKING:  # torch is imported where it is used: this module decides without it
    from ..models.base import InverseFunction, LRFunction, RescaleModel

Precision = Literal[
    "auto",
    "fp32",
    "channels_last",
    "bf16",
    "bf16_channels_last",
    "compile",
    "onnx",
    "openvino",
    "openvino_bf16",
]
PRECISIONS: tuple[str, ...] = get_args(Precision)[1:]  # every option but auto
# What auto runs where bfloat16 is native and OpenVINO is not installed, per direction (README
# "Speed on the CPU", measured on an AMD EPYC with AVX512-BF16): bf16 downscaling was 2.4x
# faster than float32 for sain-x2 at 1080p and within 0.05 dB on the samples; bf16 upscaling
# cost up to 0.06 dB, so it stays fp32.
AUTO_NATIVE_BF16 = {"down": "bf16", "up": "fp32"}
# ONNX Runtime / OpenVINO run an image up to this side in one tile. The overlap (sain-x2: 60 px
# a side) is a quarter of the work at 768 px on a 1080p frame; one tile took sain-x2's
# OpenVINO-bf16 upscaling there from 2.20 to 1.89 s. Larger images keep 768 px tiles: 1920 px
# tiles tripled OpenVINO's peak memory on 4K (1.6 → 4.8 GB) for 2-16 % (README "Speed on the CPU")
RUNTIME_TILE = 1920


FORCE_ENV = "MPIRN_NATIVE_BF16"  # "1"/"0": force the capability answer (tests, benchmarks)


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (read once: ``auto`` is resolved for every frame)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


# oneDNN's ISA caps (its ONEDNN_MAX_CPU_ISA values) under which it has no native bfloat16: a
# machine capped to one of them runs as a CPU without it (how an AVX2-only CPU is emulated).
ISA_CAP_ENVS = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")
NO_BF16_ISAS = frozenset(
    {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"}
)


def isa_cap() -> str | None:
    """oneDNN's ISA cap from the environment (``ONEDNN_MAX_CPU_ISA``), upper-cased, or None."""
    for env in ISA_CAP_ENVS:
        if os.environ.get(env):
            return os.environ[env].strip().upper()
    return None


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16), as torch's
    oneDNN kernels use it, and no oneDNN ISA cap below that is set; ``MPIRN_NATIVE_BF16=1/0``
    forces the answer."""
    forced = os.environ.get(FORCE_ENV)
    if forced in ("0", "1"):
        return forced == "1"
    if isa_cap() in NO_BF16_ISAS:
        return False
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def capability(model: str | None = None) -> dict[str, object]:
    """What the CPU offers and what ``auto`` runs (recorded by jobs and benchmarks)."""
    import torch

    from . import onnx_backend

    caps = getattr(torch.backends.cpu, "get_cpu_capability", lambda: "unknown")()
    return {
        "cpu": cpu_name(),
        "torch_cpu_capability": caps,
        "isa_cap": isa_cap(),
        "native_bf16": native_bf16(),
        "onnxruntime": onnx_backend.available("onnx"),
        "openvino": onnx_backend.available("openvino"),
        "auto_down": resolve("auto", "down", model),
        "auto_up": resolve("auto", "up", model),
    }


def _exportable(model: str) -> bool:
    from ..models import get_spec

    try:
        return get_spec(model).family != "bicubic"
    except Exception:  # noqa: BLE001 - an unknown name is refused where the model is built
        return False


# `auto` with its bfloat16 options swapped for their float32 forms: the same pixels on every
# machine (to 0.0003 dB), what restoring an archive runs (its PSNR was measured on them)
FLOAT32 = "auto_fp32"
_FLOAT32_OF = {"bf16": "fp32", "bf16_channels_last": "channels_last", "openvino_bf16": "openvino"}


def resolve(precision: str, direction: str = "up", model: str | None = None) -> str:
    """The execution option ``precision`` stands for; ``auto`` depends on the model, what is
    installed, the CPU and the direction (``down`` or ``up``); ``FLOAT32``: ``auto`` in
    float32."""
    if precision == FLOAT32:
        p = resolve("auto", direction, model)
        return _FLOAT32_OF.get(p, p)
    if precision == "auto":
        from . import onnx_backend

        eager = AUTO_NATIVE_BF16[direction] if native_bf16() else "fp32"
        if model in onnx_backend.AUTO_MODELS and onnx_backend.available("onnx"):
            return "onnx"  # before _exportable: deciding this needs no model registry
        if model is None or not _exportable(model):
            return eager
        if onnx_backend.available("openvino"):
            return "openvino_bf16" if native_bf16() else "openvino"
        if eager == "fp32" and onnx_backend.available("onnx"):
            return "onnx"  # 1.9-2.8x float32 eager on the dense models (README)
        return eager
    if precision not in PRECISIONS:
        raise ValueError(
            f"unknown precision {precision!r}; choose from auto, {', '.join(PRECISIONS)}"
        )
    return precision


def prepare(model: RescaleModel, precision: str) -> RescaleModel:
    """Set the model's memory format for ``precision`` (in place); returns it."""
    import torch

    p = resolve(precision)
    fmt = torch.channels_last if "channels_last" in p else torch.contiguous_format
    if all(w.is_contiguous(memory_format=fmt) for w in model.parameters() if w.dim() == 4):
        return model  # already so: no re-assignment while other threads run the model
    return model.to(memory_format=fmt)


_COMPILED: weakref.WeakKeyDictionary[RescaleModel, tuple[LRFunction, InverseFunction]] = (
    weakref.WeakKeyDictionary()
)


def model_functions(
    model: RescaleModel, precision: str
) -> tuple[LRFunction | None, InverseFunction | None]:
    """``(forward_lr, inverse)`` replacements for ``precision``: compiled ones for
    ``compile`` (built once per model), ONNX Runtime sessions for ``onnx``, ``(None, None)``
    (the model's own) otherwise."""
    from . import onnx_backend

    p = resolve(precision)
    if p in onnx_backend.ENGINES:
        return onnx_backend.functions(model, p)
    if p != "compile":
        return None, None
    import torch

    fns = _COMPILED.get(model)
    if fns is None:
        cls = type(model)
        fns = (
            torch.compile(cls.forward_lr, dynamic=False),
            torch.compile(cls.inverse, dynamic=False),
        )
        _COMPILED[model] = fns
    return fns


@contextmanager
def autocast(precision: str) -> Iterator[None]:
    p = resolve(precision)
    if not p.startswith("bf16"):
        yield
        return
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16):
        yield


T = TypeVar("T")
R = TypeVar("R")
FrameMap = Callable[[Callable[[T], R], Sequence[T]], list[R]]


def worker_count(workers: int = 0, precision: str = "auto") -> int:
    """How many frames :func:`frame_workers` runs at once."""
    if workers < 0:
        raise ValueError(f"workers must be ≥ 0, got {workers}")
    return 1 if resolve(precision) == "compile" else workers or os.cpu_count() or 1


@contextmanager
def frame_workers(
    workers: int = 0, precision: str = "auto", torch_threads: bool = True
) -> Iterator[FrameMap]:
    """Yield ``fmap(fn, frames)``, which runs ``fn`` on each frame, ``workers`` frames at a
    time (0: one per core), each worker a thread running torch single-threaded.

    Frames go through the model one at a time: on the reference 2-core CPU, batches of 4 720p
    frames ran ~2× slower per frame than single frames (the activations leave the cache), and
    two one-thread workers ran 10–20 % faster than one two-thread call (README, "Speed on the
    CPU"). Torch's thread count is restored on exit (``torch_threads=False``: frames that
    never reach torch, :mod:`.serving`, which does not import it). With ``compile`` there is
    one worker (compiled code is not run from several threads); its kernels use torch's threads.
    """
    n = worker_count(workers, precision)
    if n == 1:
        yield lambda fn, frames: [fn(f) for f in frames]
        return
    if torch_threads:
        import torch

        old = torch.get_num_threads()
        torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(n, thread_name_prefix="mpirn-frame") as pool:
            yield lambda fn, frames: list(pool.map(fn, frames))
    finally:
        if torch_threads:
            torch.set_num_threads(old)
