"""Padding and tiled model application: bounded memory on any image size, seam-free.

A tile's result is computed from the tile plus ``overlap`` pixels of real context on each side
(the model's receptive radius by default) and only the tile's own part is kept, so tiled and
untiled results agree to float rounding while peak memory follows the tile size.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..models.base import RescaleModel, check_image_tensor, pad_to_multiple
from .execution import RUNTIME_TILE, autocast, model_functions, prepare, resolve
from .onnx_backend import ENGINES

DEFAULT_TILE = 768  # HR pixels per tile side (eager PyTorch)


def default_tile(precision: str, height: int = 0, width: int = 0) -> int:
    """Tile side for a resolved execution option and an HR size: the whole image for the
    compiled runtimes up to ``RUNTIME_TILE``, else ``DEFAULT_TILE``."""
    if precision in ENGINES and max(height, width) <= RUNTIME_TILE:
        return RUNTIME_TILE
    return DEFAULT_TILE


def _spans(n: int, tile: int) -> list[tuple[int, int]]:
    return [(s, min(s + tile, n)) for s in range(0, n, tile)]


def apply_tiled(
    fn: Callable[[Tensor], Tensor],
    x: Tensor,
    factor_num: int,
    factor_den: int,
    tile: int,
    overlap: int,
    align: int,
) -> Tensor:
    """Apply ``fn`` (size-scaling by ``factor_num/factor_den``) to ``x`` tile by tile.

    ``x`` sides, ``tile`` and ``overlap`` must be multiples of ``align`` (so every crop is a
    valid model input). The output tensor is allocated once; each tile writes its interior.
    """
    h, w = x.shape[-2:]
    if h % align or w % align:
        raise ValueError(f"input {h}×{w} is not a multiple of {align}")
    tile = max(align, tile - tile % align)
    overlap = -(-overlap // align) * align
    if h <= tile and w <= tile:
        return fn(x)
    out: Tensor | None = None
    for y0, y1 in _spans(h, tile):
        for x0, x1 in _spans(w, tile):
            cy0, cy1 = max(0, y0 - overlap), min(h, y1 + overlap)
            cx0, cx1 = max(0, x0 - overlap), min(w, x1 + overlap)
            res = fn(x[..., cy0:cy1, cx0:cx1])
            if out is None:
                oh, ow = h * factor_num // factor_den, w * factor_num // factor_den
                out = res.new_empty((*res.shape[:-2], oh, ow))

            def sc(v: int) -> int:
                return v * factor_num // factor_den

            oy, ox, th, tw = sc(y0 - cy0), sc(x0 - cx0), sc(y1 - y0), sc(x1 - x0)
            out[..., sc(y0) : sc(y0) + th, sc(x0) : sc(x0) + tw] = res[
                ..., oy : oy + th, ox : ox + tw
            ]
    assert out is not None
    return out


@torch.no_grad()
def downscale_image(
    model: RescaleModel,
    hr: Tensor,
    tile: int | None = None,
    overlap: int | None = None,
    precision: str = "auto",
) -> tuple[Tensor, tuple[int, int]]:
    """Pad to the model's alignment, downscale tile by tile. Returns (LR, (pad_h, pad_w)).

    ``precision`` (see :mod:`.execution`) may switch the model's memory format in place;
    ``tile`` ``None``: the execution's own default (:func:`default_tile`).
    """
    check_image_tensor(hr, "HR input")
    precision = resolve(precision, "down", model.name)
    tile = default_tile(precision, *hr.shape[-2:]) if tile is None else tile
    x, pad = pad_to_multiple(hr, model.scale)
    ov = model.receptive_radius() if overlap is None else overlap
    prepare(model, precision)
    fwd, _ = model_functions(model, precision)
    with autocast(precision):
        lr = apply_tiled(
            lambda t: model.downscale(t, fwd), x, 1, model.scale, tile, ov, model.scale
        )
    return lr.float(), pad


@torch.no_grad()
def upscale_image(
    model: RescaleModel,
    lr: Tensor,
    size: tuple[int, int] | None = None,
    tile: int | None = None,
    overlap: int | None = None,
    precision: str = "auto",
    quality: int | None = None,
) -> Tensor:
    """Upscale tile by tile (tile/overlap in HR pixels; ``tile`` ``None``: the execution's
    default), crop to ``size``, clamp to [0, 1]. ``quality``: the codec quality the LR was
    coded at (``Decoded.quality``), for a model told it."""
    check_image_tensor(lr, "LR input")
    precision = resolve(precision, "up", model.name)
    s = model.scale
    if tile is None:
        tile = default_tile(precision, lr.shape[-2] * s, lr.shape[-1] * s)
    ov = model.receptive_radius() if overlap is None else overlap
    prepare(model, precision)
    _, inv = model_functions(model, precision)
    told = None if quality is None else float(quality)

    def up(t: Tensor) -> Tensor:
        q = None if told is None else torch.full((t.shape[0],), told)
        return model.upscale(t, inverse=inv, quality=q)

    a = model.lr_align
    if size is None:
        size = (lr.shape[-2] * s, lr.shape[-1] * s)
    lr, _ = pad_to_multiple(lr, a)
    with autocast(precision):
        hr = apply_tiled(up, lr, s, 1, max(1, tile // s), -(-ov // s), a).float()
    hr = hr[..., : size[0], : size[1]]
    return hr.clamp_(0, 1)  # hr is this function's own tensor: no full-size copy
