"""One candidate path of the archive's quality targets (:mod:`.target`) for one image: the
plain codec at full resolution, or a model path (downscale once → codec → restore), with its
bytes at each quality, its codec error and its restored quality, each measured once."""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from typing import Literal

import numpy as np

from ..codecs import EncodeOptions, get_codec
from ..codecs.image import jpeg_tables
from ..codecs.metadata import RestoreMetadata
from ..metrics import mse_u8, psnr, ssim, ssimulacra2
from ..pipeline.images import ImageData, to_tensor, to_uint8
from ..pipeline.rescale import GAIN_KEY, FrameRescaler, gain_text, with_gain

# Archived JPEGs get per-image Huffman tables: still baseline JPEG that every decoder opens,
# 2-6 % smaller at full size and 3-9 % as a x2 LR (Set5+Set14, QF 30-90), for a slower encode.
OPTIMIZE = True

Metric = Literal["psnr", "ssim", "ssimulacra2"]

# JPEG qualities searched in steps of FINE_STEP from FINE_FROM up (libjpeg's tables scaled
# between whole qualities, which are 8-15 % apart in bytes at the top): plain JPEG on
# Set5+Set14 0.8 % smaller at 34 dB and 2.2 % at 36 (`bench archive`'s jpeg-fine way)
FINE_FROM, FINE_STEP = 85, 0.2


def _score(metric: Metric, out: np.ndarray, ref: np.ndarray) -> float:
    if metric == "psnr":
        return psnr(out, ref)
    return ssim(out, ref) if metric == "ssim" else ssimulacra2(ref, out)


def quality_levels(codec, fine: bool = True) -> list[int | float]:
    """The qualities a search steps through: whole ones, and for a codec with
    ``fractional_quality`` (JPEG) steps of ``FINE_STEP`` from ``FINE_FROM`` up, where whole
    qualities are 8–15 % apart in bytes (``fine``)."""
    lo, hi = codec.quality_range
    if not (fine and getattr(codec, "fractional_quality", False)) or hi <= FINE_FROM:
        return list(range(lo, hi + 1))
    n = round((hi - FINE_FROM) / FINE_STEP)
    steps = [round(FINE_FROM + k * FINE_STEP, 6) for k in range(n + 1)]
    return [*range(lo, FINE_FROM), *(int(v) if float(v).is_integer() else v for v in steps)]


@functools.lru_cache(maxsize=1024)
def _mean_log_step(level: float) -> float:
    """Minus the mean log step of libjpeg's two tables at ``level`` (0 at quality 100)."""
    return -float(np.mean(np.log(jpeg_tables(level))))


def path_key(codec: str, name: str, chroma: str) -> str:
    """A path's name: ``codec@name``, with ``-chroma`` unless 4:2:0."""
    return f"{codec}@{name}" + ("" if chroma == "4:2:0" else f"-{chroma}")


class _Path:
    """One candidate path for one image: bytes at a quality, and its restored quality. The
    search works on indices into ``levels`` (:func:`quality_levels`)."""

    def __init__(
        self, img: ImageData, codec: str, metric: Metric, chroma: str = "4:2:0", fine: bool = True
    ) -> None:
        self.img, self.codec, self.metric, self.chroma = img, get_codec(codec), metric, chroma
        self.levels = quality_levels(self.codec, fine)
        self.steps = (0, len(self.levels) - 1)  # the index range
        self._bytes: dict[int, bytes] = {}
        self._exact: dict[int, float] = {}
        self._out: dict[int, np.ndarray] = {}  # restored images (a few per image)

    name = "full"

    def at(self, quality: float) -> int:
        """The index of the level nearest ``quality``."""
        return min(range(len(self.levels)), key=lambda i: abs(self.levels[i] - quality))

    def make(self, quality: int | float) -> bytes:
        raise NotImplementedError

    def restore(self, data: bytes) -> np.ndarray:
        raise NotImplementedError

    def encode(self, q: int) -> bytes:
        if q not in self._bytes:
            self._bytes[q] = self.make(self.levels[q])
        return self._bytes[q]

    def size(self, q: int) -> int:
        return len(self.encode(q))

    @property
    def key(self) -> str:
        """``codec@full``, ``codec@full-4:4:4``, ``codec@model``: the path's name."""
        return path_key(self.codec.name, self.name, self.chroma)

    def known_sizes(self) -> dict[int, int]:
        """Bytes at the qualities already encoded."""
        return {q: len(b) for q, b in self._bytes.items()}

    def position(self, q: int) -> float:
        """Where quality ``q`` lies on a scale the metric is near linear in, for the plain
        search's false position: JPEG's minus mean log quantiser step of libjpeg's tables at
        the level (known without encoding; PSNR is close to linear in it), other codecs' log
        bytes (an encode each)."""
        if getattr(self.codec, "fractional_quality", False):
            return _mean_log_step(self.levels[q])
        return math.log(self.size(q))

    def stored(self, q: int) -> bytes:
        """The file to store at quality ``q`` (after :meth:`value`)."""
        return self.encode(q)

    def restored(self, q: int) -> np.ndarray:
        return self.restore(self.encode(q))

    def value(self, q: int) -> float:
        """The metric of the whole restored image at quality ``q``."""
        if q not in self._exact:
            out = self._out[q] = self.restored(q)
            self._exact[q] = _score(self.metric, out, self.img.rgb)
        return self._exact[q]

    def measured(self, q: int) -> np.ndarray | None:
        """The restored image at quality ``q`` where :meth:`value` has measured it."""
        return self._out.get(q)

    def mse(self, q: int) -> float:
        self.value(q)
        return mse_u8(self._out[q], self.img.rgb)

    def both(self, q: int) -> tuple[float, float, float | None]:
        """(PSNR, SSIM, SSIMULACRA2) of the whole restored image at quality ``q``
        (SSIMULACRA2 None below its 8×8 minimum)."""
        self.value(q)
        out = self._out[q]
        s2 = ssimulacra2(self.img.rgb, out) if min(out.shape[:2]) >= 8 else None
        return psnr(out, self.img.rgb), ssim(out, self.img.rgb), s2


class _Plain(_Path):
    """The codec at full resolution: an ordinary image file."""

    def make(self, quality: int | float, optimize: bool = OPTIMIZE) -> bytes:
        return self.codec.encode(
            [self.img.rgb],
            EncodeOptions(quality=quality, subsampling=self.chroma, optimize=optimize),
            None,
            icc=self.img.icc,
            exif=self.img.exif,
        )

    def restored(self, q: int) -> np.ndarray:
        """The decoded file at quality ``q``. Per-image Huffman tables change the bytes, not
        the pixels: until its bytes are asked for, a quality is measured on a file without
        them (a JPEG encode at 512² 0.8 ms instead of 2.2; a plain search measures 7-9)."""
        data = self._bytes.get(q)
        return self.restore(data if data is not None else self.make(self.levels[q], False))

    def restore(self, data: bytes) -> np.ndarray:
        return self.codec.decode(data).frames[0]


class _Model(_Path):
    """Model downscale (once) → codec → model restore. A full-size restore's file is the plain
    path's of its codec and chroma (``twin``) plus the restore metadata: the search takes that
    path's files and measurements, and encodes its own only to store it."""

    def __init__(
        self,
        img: ImageData,
        codec: str,
        metric: Metric,
        r: FrameRescaler,
        optimize: bool = OPTIMIZE,
        twin: _Plain | None = None,
    ) -> None:
        super().__init__(img, codec, metric, r.model.lr_subsampling)
        self.r, self.name, self.optimize = r, r.model.name, optimize
        h, w = img.size
        extra: dict = {"grey": True} if img.grey else {}
        if r.scale == 1:  # a full-size restore: its gain, a fixed-width placeholder until chosen
            extra[GAIN_KEY] = gain_text(1.0)
        self.meta = r.metadata(w, h, extra)
        self.lr = r.down(img.rgb)
        self._lr_err: dict[int, float] = {}
        self._bic_err: dict[int, float] = {}
        self._dec: dict[int, np.ndarray] = {}  # decoded files, LR pixels
        self._gain: dict[int, float] = {}
        same = twin is not None and r.scale == 1 and optimize == OPTIMIZE
        same = same and (twin.codec.name, twin.chroma) == (self.codec.name, self.chroma)
        self.twin = twin if same and np.array_equal(self.lr, img.rgb) else None
        self._overhead: int | None = None  # the metadata's bytes in a twin's file

    def size(self, q: int) -> int:
        if self.twin is None:
            return super().size(q)
        if self._overhead is None:
            self._overhead = len(self.encode(q)) - self.twin.size(q)
        return self.twin.size(q) + self._overhead

    def known_sizes(self) -> dict[int, int]:
        known = {} if self.twin is None else self.twin.known_sizes()
        if not known:
            return super().known_sizes()
        self.size(min(known))  # the metadata's bytes: one encode
        return {q: n + self._overhead for q, n in known.items()}

    def _file(self, q: int) -> bytes:
        """A file with this path's pixels at quality ``q`` (the twin's, where there is one)."""
        return self.encode(q) if self.twin is None else self.twin.encode(q)

    @property
    def key(self) -> str:
        return f"{self.codec.name}@{self.name}"  # the model's name says its chroma

    def make(self, quality: int | float, meta: RestoreMetadata | None = None) -> bytes:
        return self.codec.encode(
            [self.lr],
            EncodeOptions(quality=quality, subsampling=self.chroma, optimize=self.optimize),
            meta or self.meta,
            icc=self.img.icc,
            exif=self.img.exif,
        )

    def restored(self, q: int) -> np.ndarray:
        """A full-size restore at the gain that suits this file best (least squares against
        the source, two decimals: what :func:`..pipeline.rescale.with_gain` applies when the
        file is restored, so the measured value is the restored file's)."""
        if self.r.scale != 1:
            return super().restored(q)
        dec = self.codec.decode(self._file(q))
        lr = to_tensor(dec.frames[0])
        raw = self.r.up_tensor(lr, self.meta, dec.quality)  # the placeholder's gain: 1
        h, w = self.img.size
        d = lr[0, :, :h, :w].double() * 255
        res = raw[0].double() * 255 - d
        err = to_tensor(self.img.rgb)[0].double() * 255 - d
        den = float((res * res).sum())
        best = float(gain_text(float((res * err).sum()) / den if den else 1.0))
        # the rounded least-squares gain, or the plain decode or the filter where the
        # rounding (two decimals, 8-bit output) left it a hair behind them
        outs = {g: to_uint8(with_gain(lr, raw, g)) for g in dict.fromkeys((best, 1.0, 0.0))}
        g = self._gain[q] = min(outs, key=lambda g: mse_u8(outs[g], self.img.rgb))
        return outs[g]

    def stored(self, q: int) -> bytes:
        if self.r.scale != 1:
            return self.encode(q)
        self.value(q)
        extra = {**self.meta.extra, GAIN_KEY: gain_text(self._gain[q])}
        data = self.make(self.levels[q], replace(self.meta, extra=extra))
        assert len(data) == self.size(q)  # the gain's text is fixed-width
        return data

    def restore(self, data: bytes) -> np.ndarray:
        dec = self.codec.decode(data)
        return self.r.up(dec.frames[0], self.meta, dec.quality)

    def _decoded(self, q: int) -> np.ndarray:
        """The decoded file at quality ``q`` (LR pixels; a twin's pixels where there is one:
        its measured decode, or its file as it measures one, without the Huffman tables)."""
        if q not in self._dec:
            if self.twin is None:
                self._dec[q] = self.codec.decode(self.encode(q)).frames[0]
            else:
                out = self.twin.measured(q)
                self._dec[q] = out if out is not None else self.twin.restored(q)
        return self._dec[q]

    def lr_error(self, q: int) -> float:
        """MSE the codec adds to the LR at quality ``q`` (no restoration needed)."""
        if q not in self._lr_err:
            self._lr_err[q] = mse_u8(self._decoded(q), self.lr)
        return self._lr_err[q]

    def bicubic_error(self, q: int) -> float:
        """MSE against the source of the decoded LR at quality ``q`` upscaled bicubically (a
        couple of ms): a ×2 restore's MSE moves with it from one quality to another."""
        if q not in self._bic_err:
            import cv2

            h, w = self.img.size
            lr = self._decoded(q)
            up = cv2.resize(
                lr,
                (lr.shape[1] * self.r.scale, lr.shape[0] * self.r.scale),
                interpolation=cv2.INTER_CUBIC,
            )
            self._bic_err[q] = mse_u8(np.ascontiguousarray(up[:h, :w]), self.img.rgb)
        return self._bic_err[q]
