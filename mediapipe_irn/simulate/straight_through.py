"""Run a real registered codec in the forward pass and pass a gradient back.

``real_codec(x, codec, quality, grad="simulator")``: the forward value is exactly what the real
codec decodes; the backward pass is the gradient of the codec's own proxy (``"simulator"``:
JPEG's ``diff_jpeg``; H.264's JPEG stand-in; whatever a third-party codec's ``proxy()``
returns) or the identity (``"identity"``, for any codec).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from ..codecs import EncodeOptions, codec_proxy, get_codec

Gradient = Literal["simulator", "identity"]


def _to_frames(x: Tensor) -> list[np.ndarray]:
    arr = (x.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8)
    arr = arr.permute(0, 2, 3, 1).contiguous().cpu().numpy()
    return list(arr)


def run_codec(x: Tensor, codec: str, quality: Sequence[int], subsampling: str = "4:2:0") -> Tensor:
    """Encode and decode each image of ``x`` with the real codec (no gradient); ``subsampling``:
    an image codec's chroma.

    For a video codec the batch is treated as one clip at a single quality (the first).
    """
    c = get_codec(codec)
    frames = _to_frames(x)
    if c.kind == "video":
        dec = c.decode(c.encode(frames, EncodeOptions(quality=int(quality[0])))).frames
    else:
        dec = [
            c.decode(c.encode([f], EncodeOptions(quality=int(q), subsampling=subsampling))).frames[
                0
            ]
            for f, q in zip(frames, quality)
        ]
    out = torch.from_numpy(np.stack(dec)).permute(0, 3, 1, 2).float() / 255.0
    return out.to(device=x.device, dtype=x.dtype)


def real_codec(
    x: Tensor,
    codec: str,
    quality: Sequence[int] | Tensor,
    grad: Gradient = "identity",
    subsampling: str = "4:2:0",
) -> Tensor:
    """Real codec forward, straight-through backward (identity or simulator gradient; the
    simulator is 4:2:0 whatever ``subsampling`` the real codec runs)."""
    q = [int(v) for v in (quality.tolist() if isinstance(quality, Tensor) else quality)]
    if len(q) == 1:
        q = q * x.shape[0]
    real = run_codec(x, codec, q, subsampling)
    if grad == "simulator":
        proxy = codec_proxy(get_codec(codec))
        if proxy is None:
            raise ValueError(f"no simulator for codec {codec!r}; use grad='identity'")
        sim = proxy.simulate(x, torch.tensor(q, dtype=torch.float32, device=x.device))
        return real + (sim - sim.detach())
    if grad == "identity":
        return real + (x - x.detach())
    raise ValueError(f"unknown gradient {grad!r}")
