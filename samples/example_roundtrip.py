"""Down → JPEG → up for one image through the Python API, against bicubic at the same quality.

python samples/example_roundtrip.py samples/coffee.png 50
"""

from __future__ import annotations

import sys
import warnings

from mediapipe_irn import create_model, downscale_image, get_codec, upscale_image
from mediapipe_irn.codecs import EncodeOptions
from mediapipe_irn.metrics import bits_per_pixel, psnr
from mediapipe_irn.pipeline import read_image, to_tensor, to_uint8


def roundtrip(model_name: str, path: str, quality: int) -> tuple[float, float]:
    img = read_image(path)
    model = create_model(model_name)
    lr, _ = downscale_image(model, to_tensor(img.rgb))
    jpeg = get_codec("jpeg")
    data = jpeg.encode([to_uint8(lr)], EncodeOptions(quality=quality))
    decoded = jpeg.decode(data).frames[0]
    hr = upscale_image(model, to_tensor(decoded), size=img.size)
    h, w = img.size
    return psnr(to_uint8(hr), img.rgb), bits_per_pixel(len(data), h, w)


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "samples/coffee.png"
    quality = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    warnings.simplefilter("ignore")
    for name in ("bicubic-x2", "irn-x2", "sain-x2"):
        p, bpp = roundtrip(name, path, quality)
        print(f"{name:<12} JPEG q{quality}: {p:6.2f} dB at {bpp:.3f} bits per pixel")


if __name__ == "__main__":
    main()
