"""Reading and writing still images with documented policies.

- EXIF orientation is applied on read (the pixels are stored upright; the Orientation tag is
  reset to 1 in the EXIF that travels on).
- Grey (L, I;16 …) and palette images become RGB; ``ImageData.grey`` records it so a restore
  can write grey again.
- Alpha is kept separately, losslessly (``ImageData.alpha``); the colour goes through the model.
- 16-bit sources are reduced to 8-bit with a warning.
- Images over ``max_pixels`` (decompression bombs; 200 MP by default, the one limit used
  everywhere: Pillow's own guard is raised to match) are refused before decoding.
- Multi-page and animated images (TIFF, GIF, APNG, WebP, MPO) are refused with
  :class:`MultiFrameError`: the model path would keep only the first frame (the archive
  stores such files unchanged instead).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from ..codecs.image import DEFAULT_MAX_PIXELS, save_image
from ..errors import InputError, MultiFrameError
from .media import IMAGE_EXTENSIONS


def bomb_error(name: str, pixels: int | None, limit: int = DEFAULT_MAX_PIXELS) -> InputError:
    size = f"{pixels} pixels" if pixels else "its size"
    return InputError(
        f"{name}: {size} exceeds the limit of {limit} pixels (decompression bomb guard)"
    )


READ_EXTENSIONS = IMAGE_EXTENSIONS  # (kept name) the one list: pipeline/media.py


@dataclass(frozen=True)
class ImageData:
    rgb: np.ndarray  # H×W×3 uint8
    alpha: np.ndarray | None = None  # H×W uint8, or None
    grey: bool = False
    icc: bytes | None = None
    exif: bytes | None = None
    bits: int = 8
    source_format: str | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.rgb.shape[0], self.rgb.shape[1]


def _to_8bit(im: Image.Image) -> tuple[Image.Image, int]:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.uint32)
        peak = 65535 if im.mode.startswith("I;16") or arr.max() > 255 else 255
        arr8 = np.clip(np.round(arr.astype(np.float64) * 255.0 / peak), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, "L"), 16
    if im.mode in ("F",):
        raise InputError("floating-point images are not supported")
    if im.mode in ("RGB;16", "RGBA;16", "RGBX;16"):  # pragma: no cover - rare Pillow modes
        return im.convert("RGB"), 16
    return im, 8


def _stored_bits(data: bytes, fmt: str | None, im: Image.Image) -> int:
    """Bits per sample as the file stores them (PNG's IHDR, TIFF's BitsPerSample)."""
    if fmt == "PNG" and len(data) > 24 and data[12:16] == b"IHDR":
        return data[24]
    if fmt == "TIFF":
        bps = getattr(im, "tag_v2", {}).get(258)
        return max(bps) if isinstance(bps, tuple) and bps else int(bps or 8)
    return 8


def extra_metadata(data: bytes) -> list[str]:
    """What the file carries beside its pixels, colour profile and EXIF that a re-encoded
    copy does not keep: XMP, a resolution (DPI), text comments."""
    try:
        im = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError):
        return []
    info, out = im.info, []
    if "xmp" in info or "XML:com.adobe.xmp" in info:
        out.append("XMP")
    if "dpi" in info or "resolution" in info:
        out.append("DPI")
    texts = [k for k, v in info.items() if isinstance(v, str) and k not in ("XML:com.adobe.xmp",)]
    if "comment" in info or texts:
        out.append("text comments")
    return out


def decode_image(
    data: bytes, name: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS
) -> ImageData:
    """Decode image bytes under the policies above; errors are :class:`InputError`."""
    if not data:
        raise InputError(f"{name}: empty file")
    try:
        im = Image.open(io.BytesIO(data))
        w, h = im.size
        if w * h > max_pixels:
            raise bomb_error(name, w * h, max_pixels)
        frames = getattr(im, "n_frames", 1) or 1
        if frames > 1:
            raise MultiFrameError(
                f"{name}: {im.format} with {frames} frames (multi-page or "
                "animated); only single-frame images can go through the "
                "model"
            )
        fmt = im.format
        icc = im.info.get("icc_profile")
        exif = im.getexif()
        im = ImageOps.exif_transpose(im) if exif.get(0x0112, 1) != 1 else im
        im.load()
    except InputError:
        raise
    except Image.DecompressionBombError:
        raise bomb_error(name, None) from None
    except UnidentifiedImageError:  # its text names an in-memory buffer, not the file
        raise InputError(f"{name}: not a readable image (unknown or damaged format)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{name}: not a readable image ({exc})") from exc
    if 0x0112 in exif:
        exif[0x0112] = 1
    exif_bytes = exif.tobytes() if len(exif) else None
    im, bits = _to_8bit(im)
    if bits == 8 and _stored_bits(data, fmt, im) > 8:  # Pillow opens 16-bit RGB as 8-bit RGB
        bits = 16
    if bits == 16:
        warnings.warn(f"{name}: 16-bit image reduced to 8 bits", stacklevel=2)
    if im.mode == "CMYK":
        warnings.warn(f"{name}: CMYK image converted to RGB (it comes back as RGB)", stacklevel=2)
    alpha = None
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("LA", "La", "PA"):
        im = im.convert("RGBA")
    grey = im.mode in ("L", "1")
    if im.mode in ("RGBA", "RGBa"):
        a = np.asarray(im.getchannel("A"))
        alpha = None if a.min() == 255 else a.copy()
        src = im.convert("RGB")
        grey = False
    else:
        src = im.convert("RGB")
    rgb = np.ascontiguousarray(np.asarray(src, dtype=np.uint8))
    return ImageData(rgb, alpha, grey, icc, exif_bytes, bits, fmt)


def read_image(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageData:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return decode_image(data, str(path), max_pixels)


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """H×W×3 uint8 → 1×3×H×W float32 in [0, 1]."""
    arr = rgb if rgb.flags.writeable and rgb.flags.c_contiguous else np.array(rgb, order="C")
    return torch.from_numpy(arr).permute(2, 0, 1)[None].float() / 255.0


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """1×3×H×W float in [0, 1] → H×W×3 uint8 (rounded)."""
    # one float temporary (in-place clamp and round): a 4K frame's float copies are 100 MB each
    arr = x[0].detach().float().mul(255.0).clamp_(0, 255).round_().to(torch.uint8)
    return arr.permute(1, 2, 0).contiguous().cpu().numpy()


def encode_image(img: ImageData, fmt: str = "PNG", quality: int = 95) -> bytes:
    """The image as ``fmt`` (PNG, JPEG, WEBP (lossless), TIFF, BMP): RGBA when it has alpha
    (JPEG and BMP cannot: the caller picks PNG), L when it was grey; ICC/EXIF kept. JPEG is
    written 4:4:4 (an output, not an archive: chroma kept)."""
    if img.alpha is not None:
        if fmt in ("JPEG", "BMP"):
            raise InputError(f"{fmt} cannot hold an alpha channel")
        im = Image.fromarray(np.dstack([img.rgb, img.alpha]), "RGBA")
    elif img.grey:
        im = Image.fromarray(img.rgb, "RGB").convert("L")
    else:
        im = Image.fromarray(img.rgb, "RGB")
    kw: dict = {}
    if fmt in ("JPEG", "WEBP"):
        kw["quality"] = quality
    if fmt == "JPEG":  # full chroma: a restored 4:4:4 image re-saved 4:2:0 at 95 lost 0.36 dB
        kw["subsampling"] = 0
    if fmt == "WEBP":
        kw["lossless"] = True
    return save_image(im, fmt, img.icc, img.exif, **kw)


def encode_png(img: ImageData) -> bytes:
    """PNG of the image (:func:`encode_image`)."""
    return encode_image(img, "PNG")
