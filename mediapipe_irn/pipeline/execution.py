"""Execution options for inference: float32 eager, channels_last, bfloat16 autocast.

``auto`` picks float32 eager (NCHW), from ``mediapipe-irn bench speed`` on the reference CPU
(2 cores, AVX2/FMA, no native bfloat16; README, "Speed on the CPU"): channels_last moved times
by ±20 % with no consistent direction, and bfloat16, though within the 0.05 dB tolerance, ran
24× slower (emulated). On a CPU with AVX-512 BF16 or AMX, run the benchmark there and pass
``--precision`` explicitly.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import Iterator, Literal

import torch

from ..models.base import RescaleModel

Precision = Literal["auto", "fp32", "channels_last", "bf16", "bf16_channels_last"]
PRECISIONS: tuple[str, ...] = ("fp32", "channels_last", "bf16", "bf16_channels_last")


def resolve(precision: str) -> str:
    if precision == "auto":
        return "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose from auto, "
                         f"{', '.join(PRECISIONS)}")
    return precision


def prepare(model: RescaleModel, precision: str) -> RescaleModel:
    """Set the model's memory format for ``precision`` (in place); returns it."""
    p = resolve(precision)
    fmt = torch.channels_last if "channels_last" in p else torch.contiguous_format
    return model.to(memory_format=fmt)


@contextmanager
def autocast(precision: str) -> Iterator[None]:
    p = resolve(precision)
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if p.startswith("bf16") else nullcontext()
    with ctx:
        yield
