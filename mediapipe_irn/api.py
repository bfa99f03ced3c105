"""Single-file Python API used by the CLI's ``down`` and ``up`` (and by pipelines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .codecs import EncodeOptions, RestoreMetadata, get_codec, list_codecs, sniff_codec
from .errors import InputError, MediapipeIRNError, MetadataError, OutputError
from .metrics import bits_per_pixel, psnr, ssim
from .models import RescaleModel, create_model
from .pipeline import decode_image, encode_png, read_image, to_tensor, to_uint8
from .pipeline.images import ImageData
from .pipeline.output import atomic_write, same_file
from .pipeline.rescale import FrameRescaler, metadata_from_model


def downscale_lr(
    model: RescaleModel,
    img: ImageData,
    codec: str = "jpeg",
    quality: int | None = None,
    tile: int | None = None,
    refine: int = 0,
    precision: str = "auto",
) -> tuple[np.ndarray, RestoreMetadata]:
    """The LR that :func:`encode_lr` encodes, and its restore metadata. Without ``refine``
    it does not depend on ``codec`` or ``quality`` (a benchmark computes it once per image);
    ``refine`` > 0 runs that many HCD steps per stage against this codec and quality."""
    r = FrameRescaler(model, precision, video=False, tile=tile)
    hr = to_tensor(img.rgb)
    h, w = img.size
    lr = r.down_tensor(hr)
    if refine > 0 and model.invertible:
        from .refine import RefineConfig, refine_image

        q = get_codec(codec).default_quality if quality is None else quality
        lr, _, _ = refine_image(model, hr, RefineConfig(steps=refine, codec=codec, quality=q))
    return to_uint8(lr), r.metadata(w, h, {"grey": True} if img.grey else None)


def encode_downscaled(
    lr: np.ndarray,
    meta: RestoreMetadata,
    img: ImageData,
    codec: str = "jpeg",
    quality: int | None = None,
    optimize: bool = False,
    subsampling: str = "4:2:0",
) -> tuple[bytes, dict]:
    """Encode an LR of :func:`downscale_lr` with its metadata (and ``img``'s ICC and EXIF);
    ``subsampling``: the chroma its model codes it with (``lr_subsampling``)."""
    opts = EncodeOptions(quality=quality, optimize=optimize, subsampling=subsampling)
    data = get_codec(codec).encode([lr], opts, meta, icc=img.icc, exif=img.exif)
    info = {
        "lr_height": lr.shape[0],
        "lr_width": lr.shape[1],
        "bytes": len(data),
        "bpp": bits_per_pixel(len(data), img.size[0], img.size[1]),
    }
    return data, info


def encode_lr(
    model: RescaleModel,
    img: ImageData,
    codec: str = "jpeg",
    quality: int | None = None,
    tile: int | None = None,
    refine: int = 0,
    precision: str = "auto",
    optimize: bool = False,
) -> tuple[bytes, dict]:
    """Downscale ``img`` with ``model`` and encode the LR with restore metadata.

    ``refine`` > 0 runs that many HCD steps per stage against this codec and quality;
    ``optimize``: per-image Huffman tables (JPEG).
    """
    lr, meta = downscale_lr(model, img, codec, quality, tile, refine, precision)
    return encode_downscaled(lr, meta, img, codec, quality, optimize, model.lr_subsampling)


def _decode_any(data: bytes, name: str, codec: str | None):
    """Decode with ``codec``, else the sniffed built-in, else any registered image codec."""
    kind = codec or sniff_codec(data)
    if kind == "h264":
        raise InputError(f"{name}: a video; use `mediapipe-irn decode`")
    if kind is not None:
        return get_codec(kind).decode(data)
    for cand in list_codecs():
        try:
            c = get_codec(cand)
            if c.kind == "image":
                return c.decode(data)
        except MediapipeIRNError:
            continue
    raise InputError(f"{name}: no registered image codec can read it")


def decode_lr(
    data: bytes,
    name: str = "<bytes>",
    model: str | None = None,
    weights: str | None = None,
    codec: str | None = None,
    precision: str = "auto",
) -> tuple[ImageData, RestoreMetadata, RescaleModel]:
    """Decode a stored LR file and restore the HR image it describes."""
    dec = _decode_any(data, name, codec)
    meta = dec.metadata
    if meta is None:
        if model is None:
            found = f" (found {dec.raw_metadata[:60]!r})" if dec.raw_metadata else ""
            err = MetadataError(
                f"{name} carries no mediapipe-irn restore metadata{found}; "
                "`mediapipe-irn up --model NAME` upscales it anyway"
            )
            err.found = (dec.raw_metadata or "")[:60]
            raise err
        lh, lw = dec.frames[0].shape[:2]
        meta = metadata_from_model(model, lw, lh)
    r = FrameRescaler.for_metadata(meta, model, weights, precision)
    hr = r.up_tensor(to_tensor(dec.frames[0]), meta, dec.quality)
    img = ImageData(
        to_uint8(hr), grey=bool(meta.extra.get("grey", False)), icc=dec.icc, exif=dec.exif
    )
    return img, meta, r.model


def downscale_file(
    src: str | Path,
    dest: str | Path,
    model: str = "sain-x2",
    weights: str | None = None,
    codec: str = "png",
    quality: int | None = None,
    overwrite: bool = False,
    refine: int = 0,
) -> dict[str, Any]:
    if same_file(src, dest):
        raise OutputError("destination is the source file; refusing to overwrite it")
    img = read_image(src)
    if img.alpha is not None:
        raise InputError(
            f"{src}: has an alpha channel; `down` stores colour only (the "
            "archive job keeps alpha losslessly)"
        )
    data, info = encode_lr(create_model(model, weights=weights), img, codec, quality, refine=refine)
    atomic_write(dest, data, overwrite)
    return info


def upscale_file(
    src: str | Path,
    dest: str | Path,
    model: str | None = None,
    weights: str | None = None,
    reference: str | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    if same_file(src, dest):
        raise OutputError("destination is the source file; refusing to overwrite it")
    try:
        data = Path(src).read_bytes()
    except OSError as exc:
        raise InputError(f"{src}: cannot read ({exc.strerror or exc})") from exc
    img, meta, m = decode_lr(data, str(src), model, weights)
    info: dict[str, Any] = {"width": meta.width, "height": meta.height, "model": m.name}
    if reference is not None:  # compared before anything is written
        ref = read_image(reference).rgb
        if ref.shape != img.rgb.shape:
            raise InputError(
                f"reference {reference} is {ref.shape[1]}×{ref.shape[0]}, "
                f"restored image is {meta.width}×{meta.height}"
            )
        try:
            info.update(psnr=psnr(img.rgb, ref), ssim=ssim(img.rgb, ref))
        except ValueError as exc:
            raise InputError(f"reference {reference}: {exc}") from None
    atomic_write(dest, encode_png(img), overwrite)
    return info


__all__ = [
    "atomic_write",
    "decode_image",
    "decode_lr",
    "downscale_file",
    "downscale_lr",
    "encode_downscaled",
    "encode_lr",
    "upscale_file",
]
