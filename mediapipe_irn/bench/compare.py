"""A picture of the choice at equal bytes: the original beside full-resolution JPEG, the
bicubic ×s path and the model's path, each at the largest JPEG quality that fits the byte
budget, cropped to one region and labelled with PSNR (whole image) and bytes."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from ..api import decode_lr, encode_lr
from ..codecs import EncodeOptions, get_codec
from ..errors import InputError
from ..metrics import psnr
from ..models import RescaleModel, create_model
from ..pipeline.images import ImageData


@dataclass(frozen=True)
class Panel:
    label: str
    rgb: np.ndarray  # the whole restored image
    nbytes: int
    quality: int | None
    psnr: float | None


def _fit(encode, budget: int) -> tuple[int, bytes]:
    """The highest JPEG quality (1–100) whose file fits ``budget`` bytes (bisection); quality
    1 when nothing fits."""
    lo, hi = 1, 100
    best = (1, encode(1))
    while lo <= hi:
        q = (lo + hi) // 2
        data = encode(q)
        if len(data) <= budget:
            best, lo = (q, data), q + 1
        else:
            hi = q - 1
    return best


def panels(img: ImageData, budget: int, model: RescaleModel) -> list[Panel]:
    jpeg = get_codec("jpeg")
    ref = img.rgb
    out = [Panel("original", ref, 0, None, None)]
    q, data = _fit(lambda q: jpeg.encode([ref], EncodeOptions(quality=q)), budget)
    dec = jpeg.decode(data).frames[0]
    out.append(Panel("JPEG full-res", dec, len(data), q, psnr(dec, ref)))
    for m in (create_model(f"bicubic-x{model.scale}"), model):
        q, data = _fit(lambda q, m=m: encode_lr(m, img, "jpeg", q)[0], budget)
        rec, _, _ = decode_lr(data, m.name, codec="jpeg")
        out.append(Panel(f"{m.name} + JPEG", rec.rgb, len(data), q, psnr(rec.rgb, ref)))
    return out


def render(
    ps: list[Panel], crop: tuple[int, int, int, int] | None = None, width: int = 256
) -> bytes:
    """PNG of the panels side by side: the same ``crop`` (x, y, w, h; default a centred
    square) of each, labelled."""
    h, w = ps[0].rgb.shape[:2]
    if crop is None:
        side = min(h, w, width)
        crop = ((w - side) // 2, (h - side) // 2, side, side)
    x, y, cw, ch = crop
    if cw < 8 or ch < 8 or x < 0 or y < 0 or x + cw > w or y + ch > h:
        raise InputError(f"crop {crop} does not lie inside the {w}×{h} image")
    label_h = 34
    canvas = Image.new("RGB", (len(ps) * (cw + 4), ch + label_h), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for i, p in enumerate(ps):
        tile = Image.fromarray(np.ascontiguousarray(p.rgb[y : y + ch, x : x + cw]))
        canvas.paste(tile, (i * (cw + 4), label_h))
        info = "reference" if p.psnr is None else f"{p.psnr:.2f} dB, {p.nbytes:,} B, q{p.quality}"
        draw.text((i * (cw + 4) + 2, 2), p.label, fill=(0, 0, 0))
        draw.text((i * (cw + 4) + 2, 17), info, fill=(0, 0, 0))
    buf = io.BytesIO()
    canvas.save(buf, "PNG")
    return buf.getvalue()


__all__ = ["Panel", "panels", "render"]
