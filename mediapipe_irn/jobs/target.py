"""Quality-targeted storage of one image: per file, the smallest stored form that keeps it at
least as good as a floor (PSNR or SSIM on RGB against the source), or the best one within a
byte budget.

Candidates, for each accepted codec: the plain codec at full resolution (an ordinary image file)
and each model path (model downscale → codec → model restore). ``deblock-x1`` and
``deblock-x1-444``, the full-size restores, store an ordinary full-size JPEG (4:2:0, 4:4:4) and
restore it through an artifact filter: tried with JPEG and jpegli (4:2:0 only, what jpegli
writes), each image in the chroma of its smallest plain JPEG only (one more search, not two).
For each, the lowest quality that meets the floor is found with the real codec and the real
restoration. The plain path is cheap to measure, so it is searched exactly. A model path runs
its downscale once per image and is searched only below the bytes of the best candidate so far
(its LR bytes at a quality are known before anything is restored). Its restored quality is
predicted from the codec's error on the LR, which costs no restoration, through a curve
calibrated per image by whole-image restorations: a ×2 path's first where an image with the
training images' median restore over the bicubic proxy would meet the floor (``X2_ANCHOR``), or
the top quality where even that misses (if it misses the floor, nothing lower meets it), then
each predicted quality, which is verified the same way and refines the curve. A ×2 restore's
MSE is close to linear in the LR's error to the power 1.7 (two points predict a third to 0.035
dB, median, on Set5+Set14; 0.13 dB linear in the error itself), and from one point it moves as
the bicubic upscale's of the same decoded LR does; a full-size restore's is a near-constant
share of the decoded file's. The search ends at a hit near the floor, when the best hit is
within 3 % of the bytes of the lowest quality not ruled out (a ×2 path's: its next prediction
saves under 16 %), or after MAX_EXACT restorations; one to three per model path and image are
typical. (Tile sampling was measured first: four 40² tiles per Set14 image were 2 dB off the
whole image's PSNR and each estimate cost a fifth of a restoration; 24² tiles sampled by the
bicubic proxy's error, or a centre crop of a quarter of the image, still 0.2-0.5 dB off the
whole image's margin.) A hit measured in bfloat16 must clear the floor by ``BF16_MARGIN``. If
nothing lossy meets the floor, or the best candidate is not smaller than the source file, the
source is stored unchanged (lossless). The paths
themselves (bytes and measurements per quality) are :mod:`.paths`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..codecs import get_codec
from ..metrics import psnr
from ..pipeline.execution import resolve
from ..pipeline.images import ImageData
from ..pipeline.rescale import FrameRescaler
from .paths import (  # noqa: F401 - OPTIMIZE, FINE_*, quality_levels: read from here too
    FINE_FROM,
    FINE_STEP,
    OPTIMIZE,
    Metric,
    _Model,
    _Path,
    _Plain,
    path_key,
    quality_levels,
)
from .search import Curve, highest, lowest, lowest_smooth

# the full-size restores (4:2:0 and 4:4:4 JPEG files): model paths tried by default, with
# JPEG and jpegli (whose 4:2:0 files the filter, trained on libjpeg's, restores less well:
# the stored gain takes what it is worth)
FULL_SIZE_RESTORES = ("deblock-x1", "deblock-x1-444")
FULL_SIZE_CODECS = ("jpeg", "jpegli")
MAX_EXACT = 4  # whole-image restorations per model path and image, at most
# a hit this near the floor ends the search
CLOSE_ENOUGH = {"psnr": 0.15, "ssim": 0.002, "ssimulacra2": 1.0}
# the search also ends when the best hit is within this share of the bytes of the lowest
# quality not yet ruled out (nothing much left to gain); predictions aim this far above the
# floor (a near miss costs another restoration, a near hit only its few bytes)
SMALL_GAIN, AIM = 0.03, {"psnr": 0.03, "ssim": 0.0005, "ssimulacra2": 0.3}
# a ×2 path's search also ends when its next prediction would save under this share of the
# best hit's bytes (a ×2 restoration is about 70 % of what a fixed-quality archive spends per
# file, 0.45 s of 0.61 with its downscale at 768×512). Replayed with sain-x2 06e8c82a21d9,
# against 0.03: ×2 restorations on Set5+Set14 38 → 34 at 26 dB (+0.14 % bytes), 34 → 28 at
# 28 dB (+0.31 %); BSD68 116 → 114, 105 → 95 (+0.00 / +0.04 %). With X2_ANCHOR's first
# restoration nearer the floor, 0.16 against 0.08: Set5+Set14 32 → 27 at 26 dB (+0.7 % bytes),
# 29 → 26 at 28 (+0.3 %), 22 → 19 at 30 (+0.03 %); BSD68 88 → 84, 84 → 79, 66 → 63, 50 → 44 at
# 26-32 dB (+0.03-0.10 %). Full-size restores, cheaper and what high floors choose, go on.
X2_NEXT_GAIN = 0.16
# ×2 predictions aim higher: their misses were 60 % of the second restorations at 0.03 (BSD68,
# 26-32 dB), and each costs a restoration; at 0.12 about a sixth fewer restorations for
# 0.2-0.4 % of the bytes (20 BSD68 images, 26-30 dB)
X2_AIM = {"psnr": 0.12, "ssim": 0.0005, "ssimulacra2": 0.5}
# a full-size restore's MSE per unit of the decoded file's: before any is measured (deblock-x1
# with its stored gain at the qualities the archive chose on BSD68, 26-32 dB: median 0.79,
# 10-90 % 0.74-0.83); and by quality the share that about one image in ten reaches (the 10th
# percentile of both full-size restores on Set5+Set14 and 30 BSD68 images, QF 3-90: 0.82-0.85
# at QF 3, 0.74-0.76 at 6, 0.68-0.72 from 10; the filter has less to remove at the bottom):
# where the floor needs less than that at the top quality under the best bytes so
# far, the path is not tried, no restoration spent on it (at 26 dB a third of these
# restorations missed by 0.2-1.2 dB at QF 6; the chosen bytes unchanged on Set5+Set14, +0.05 %
# at 32 dB on BSD68)
FULL_SIZE_PRIOR = 0.79
FULL_SIZE_REACH = ((3, 0.83), (6, 0.73), (10, 0.69), (15, 0.68))
# a ×2 restore's MSE against the LR's codec error u: linear in u**X2_CURVE_POWER; before a
# second point, its slope is X2_CURVE_SLOPE / u(mid-range quality)**(power − 1) (`bench
# search-curve`, sain-x2 on Set5+Set14: median of the per-image fits 0.40, 0.29–0.58; two
# points predict a third to 0.035 dB, median, against 0.13 dB linear in u)
X2_CURVE_POWER, X2_CURVE_SLOPE = 1.7, 0.40
# from one point (the top quality) below quality X2_BICUBIC_BELOW, a PSNR search predicts
# instead that the restored MSE moves as much as the MSE of the same decoded LR upscaled
# bicubically (`bench search-curve`'s one point, sain-x2 on Set5+Set14, to every lower
# quality: |error| mean 0.122 dB, p90 0.278, where the prior line's is 0.159 and 0.401; from
# 90 up the proxy's is 0.369 and 0.824, the line's 0.234 and 0.594, and the line serves)
X2_BICUBIC_SLOPE, X2_BICUBIC_BELOW = 1.0, 90
# the most a ×2 path's best restore (quality 100) has been above the image's bicubic round
# trip (sain-x2 on the 87 validation images: 3.47 dB; median 0.88): a PSNR floor further above
# it skips the path before its downscale
X2_REACH_DB = 4.0
# a restoration in bfloat16 (what `auto` runs with OpenVINO where the CPU has it) differs
# from float32's, what a machine without it restores with: bf16 − fp32 at most +0.014 dB PSNR
# and +0.0004 SSIM with OpenVINO, +0.033 dB and +0.0006 with torch (sain-x2, deblock-x1,
# deblock-x1-444; Set5+Set14 at JPEG 20/50/85, and half of Set5+Set14+BSD68 at 10/30/60/90).
# A hit measured in bfloat16 needs this much above the floor (replayed: +0.2-0.9 % bytes).
# SSIMULACRA2: bf16 − fp32 at most +0.46 points with OpenVINO, +0.51 with torch (sain-x2;
# deblock-x1 +0.03), every second Set14 and every tenth BSD68 image at JPEG 30/60/90
BF16_MARGIN = {
    "openvino_bf16": {"psnr": 0.02, "ssim": 0.0006, "ssimulacra2": 0.6},
    "bf16": {"psnr": 0.05, "ssim": 0.001, "ssimulacra2": 0.7},
    "bf16_channels_last": {"psnr": 0.05, "ssim": 0.001, "ssimulacra2": 0.7},
}


# a ×2 path's first restoration: at the lowest quality where the restore's MSE, at this share
# (by JPEG quality) of the bicubic proxy's, meets the floor: the median over the 130 training
# images' 480×320 centre crops (`bench search-anchor`, results/search_anchor_train.json;
# quartiles 0.68-0.82 at quality 20). Replayed against the top quality (8 % stop rule), sain-x2
# 06e8c82a21d9, every restoration cached: BSD68 ×2 restorations 113 → 88 at 26 dB (full-size
# 47 → 50; +0.45 % bytes), 94 → 84 at 28 (+0.13 %), 70 → 66 at 30, 48 → 50 at 32; Set5+Set14
# 34 → 32 at 26 dB, 28 → 29 at 28 (its images restore further above bicubic than most).
X2_ANCHOR = (
    (5, 0.93), (10, 0.859), (15, 0.809), (20, 0.773), (25, 0.744), (30, 0.721), (35, 0.701),
    (40, 0.683), (45, 0.666), (50, 0.652), (55, 0.638), (60, 0.626), (65, 0.61), (70, 0.592),
    (75, 0.574), (80, 0.553), (85, 0.528), (90, 0.513), (95, 0.506),
)  # fmt: skip


def _anchor_ratio(level: float) -> float:
    """A ×2 restore's MSE per unit of the bicubic proxy's at JPEG quality ``level``."""
    qs, rs = zip(*X2_ANCHOR)
    return float(np.interp(level, qs, rs))


def _full_size_reach(level: float) -> float:
    """The restored/decoded MSE one full-size restore in ten reaches at JPEG quality ``level``."""
    qs, rs = zip(*FULL_SIZE_REACH)
    return float(np.interp(level, qs, rs))


def _bicubic_round_trip_psnr(img: ImageData, scale: int) -> float:
    """PSNR of the image bicubic-downscaled by ``scale`` and back (a few ms; no model)."""
    import torch

    from ..models.base import pad_to_multiple
    from ..models.bicubic import bicubic_down, bicubic_up
    from ..pipeline.images import to_tensor, to_uint8

    h, w = img.size
    with torch.no_grad():
        x, _ = pad_to_multiple(to_tensor(img.rgb), scale)
        lr = to_tensor(to_uint8(bicubic_down(x, scale).clamp(0, 1)))
        out = to_uint8(bicubic_up(lr, scale).clamp(0, 1))[:h, :w]
    return psnr(out, img.rgb)


@dataclass(frozen=True)
class Target:
    """What the archive promises per file: ``metric`` ≥ ``floor``, or the best ``metric``
    within ``max_bpp`` bits per source pixel. ``codecs`` are the formats the user accepts;
    ``models`` the model paths tried beside full resolution."""

    metric: Metric = "psnr"
    floor: float | None = None
    max_bpp: float | None = None
    codecs: tuple[str, ...] = ("jpeg",)
    models: tuple[str, ...] = ("sain-x2", *FULL_SIZE_RESTORES)

    def __post_init__(self) -> None:
        from ..errors import InputError

        if (self.floor is None) == (self.max_bpp is None):
            raise InputError("give exactly one of a quality floor and a byte budget")
        if self.metric not in ("psnr", "ssim", "ssimulacra2"):
            raise InputError(f"unknown quality metric {self.metric!r}")
        if self.floor is not None and self.metric == "ssim" and not 0 < self.floor < 1:
            raise InputError(f"an SSIM floor lies in (0, 1), got {self.floor}")
        if self.floor is not None and self.metric == "ssimulacra2" and not 0 < self.floor < 100:
            raise InputError(f"an SSIMULACRA2 floor lies in (0, 100), got {self.floor}")
        if self.max_bpp is not None and self.max_bpp <= 0:
            raise InputError(f"--max-bpp must be positive, got {self.max_bpp}")
        if not self.codecs:
            raise InputError("no codec accepted")
        for c in self.codecs:
            if get_codec(c).kind != "image":
                raise InputError(f"{c} is not an image codec")

    def describe(self) -> str:
        if self.floor is not None:
            return f"{self.metric}>={self.floor:g}"
        return f"bpp<={self.max_bpp:g}"

    @property
    def plain_codec(self) -> str:
        """The codec the saving is reported against: JPEG when accepted, else the first."""
        return "jpeg" if "jpeg" in self.codecs else self.codecs[0]


@dataclass(frozen=True)
class Choice:
    """What to store for one image. ``data`` None: the source unchanged (lossless)."""

    data: bytes | None
    codec: str | None = None
    model: str | None = None  # None: full resolution, no model
    quality: int | float | None = None  # JPEG: also between whole qualities
    chroma: str | None = None  # the codec's chroma subsampling
    psnr: float = math.inf
    ssim: float = 1.0
    ssimulacra2: float | None = 100.0  # the perceptual score of what is stored, restored
    plain_bytes: int | None = None  # the plain codec at full resolution, same floor
    plain_quality: int | float | None = None
    note: str | None = None
    tried: dict[str, int | None] = field(default_factory=dict)  # path → bytes (None: missed)


def _distortion(metric: Metric, value: float) -> float:
    """PSNR → MSE, SSIM → 1 − SSIM, SSIMULACRA2 → 100 − score: what the curve predicts
    (lower is better)."""
    if metric == "psnr":
        return 255.0**2 / 10 ** (value / 10)
    return 1.0 - value if metric == "ssim" else 100.0 - value


def needed(p: _Model, floor: float) -> float:
    """What a restoration measured here must reach for ``floor``: the floor, plus
    ``BF16_MARGIN`` where the model runs in bfloat16 (a float32 restore elsewhere may come
    out that much lower)."""
    margin = BF16_MARGIN.get(resolve(p.r.execution, "up", p.r.model.name))
    return floor + (margin[p.metric] if margin else 0.0)


def _search_model(p: _Model, floor: float, below: int | None) -> int | None:
    """Lowest quality of a model path meeting ``floor`` on the whole image, among those whose
    bytes are under ``below``; None when there is none (module docstring)."""
    floor = needed(p, floor)
    lo, hi = p.steps
    if below is not None:
        # the sizes already known (a full-size restore's: its twin's) narrow the bisection
        known = p.known_sizes()
        a = max((q for q, n in known.items() if n < below), default=lo)
        b = min((q for q, n in known.items() if n >= below and q > a), default=hi + 1) - 1
        top = highest(lambda q: p.size(q) < below, a, b)
        if top is None:
            return None
        hi = top
    target = _distortion(p.metric, floor + (AIM if p.r.scale == 1 else X2_AIM)[p.metric])
    best: int | None
    if p.r.scale == 1 and p.metric == "psnr":
        # a full-size restore removes part of the file's own error: start from restored
        # MSE = FULL_SIZE_PRIOR × the decoded file's (no restoration yet; a miss refines it)
        if _full_size_reach(p.levels[hi]) * p.lr_error(hi) > target:
            return None

        def x(q: int) -> float:
            return p.lr_error(q)

        curve, best = Curve(FULL_SIZE_PRIOR), None
        curve.add(0.0, 0.0)
        b_hi, spent = None, 0
    else:
        # the first restoration: where an image with the population's margin over the
        # bicubic proxy meets the aim (X2_ANCHOR), or the top quality
        a = hi
        if p.metric == "psnr" and X2_ANCHOR:
            ok = lowest(lambda q: p.bicubic_error(q) * _anchor_ratio(p.levels[q]) <= target, lo, hi)
            a = hi if ok is None else ok
        if p.value(a) < floor and a == hi:
            return None

        def x(q: int) -> float:
            return p.lr_error(q) ** X2_CURVE_POWER

        d_hi = _distortion(p.metric, p.value(a))
        # the slope before a second point exists (X2_CURVE_SLOPE), in the metric's own units
        mid = max(p.lr_error(p.at(50)), 1e-6) ** (X2_CURVE_POWER - 1)
        curve = Curve(X2_CURVE_SLOPE / mid * d_hi / max(p.mse(a), 1e-6))
        curve.add(x(a), d_hi)
        if p.value(a) >= floor:
            best = a
            if a < hi and p.value(a) - floor < CLOSE_ENOUGH[p.metric]:
                return a
        else:
            best, lo = None, a + 1
        # from one point below X2_BICUBIC_BELOW, PSNR: the restore's MSE moves as the
        # bicubic upscale's of the same decoded LR does (X2_BICUBIC_SLOPE)
        b_hi, spent = None, 1
        if p.metric == "psnr" and X2_BICUBIC_SLOPE and p.levels[a] < X2_BICUBIC_BELOW:
            b_hi = p.bicubic_error(a)

    def predict(q: int) -> float:
        if b_hi is not None and len(curve.points) == 1:
            return d_hi + X2_BICUBIC_SLOPE * (p.bicubic_error(q) - b_hi)
        return curve(x(q))

    next_gain = X2_NEXT_GAIN if p.r.scale > 1 else 0.0
    for _ in range(MAX_EXACT - spent):
        top = hi if best is None else best - 1
        q = lowest(lambda q: predict(q) <= target, lo, top)
        if q is None and spent == 0 and lo <= hi:
            q = hi  # the prior says even the top misses: measure it
        if q is None or (best is not None and p.size(q) >= (1 - next_gain) * p.size(best)):
            break  # nothing left, or too little predicted to be worth a restoration
        value = p.value(q)
        curve.add(x(q), _distortion(p.metric, value))
        if value >= floor:
            best = q
            if value - floor < CLOSE_ENOUGH[p.metric]:
                break
        else:
            lo = q + 1
        if best is not None and (best <= lo or p.size(best) <= (1 + SMALL_GAIN) * p.size(lo)):
            break
    return best


def _meeting(p: _Path, floor: float, below: int | None = None) -> int | None:
    """Lowest quality of path ``p`` meeting ``floor`` (model paths: among those under
    ``below`` bytes); None where there is none."""
    if isinstance(p, _Model):
        return _search_model(p, floor, below)
    return lowest_smooth(p.value, floor, *p.steps, p.position)


def stored_file(
    img: ImageData, rescaler: FrameRescaler, q: int, codec: str = "jpeg", optimize: bool = OPTIMIZE
) -> bytes:
    """The file the archive stores for ``rescaler``'s path at quality ``q`` (a full-size
    restore's with the gain the search gives it); ``optimize``: per-image Huffman tables."""
    p = _Model(img, codec, "psnr", rescaler, optimize)
    return p.stored(p.at(q))


def smallest_bytes(
    img: ImageData,
    floor: float,
    codec: str = "jpeg",
    chroma: str = "4:2:0",
    rescaler: FrameRescaler | None = None,
    metric: Metric = "psnr",
    fine: bool = True,
) -> int | None:
    """Bytes of one path's smallest file meeting ``floor`` on the whole image, searched as
    :func:`choose` searches it: ``codec`` at full resolution (``chroma``), or through
    ``rescaler``'s model; None where the path cannot reach the floor. ``fine=False``: whole
    qualities only (what other tools search)."""
    p = (
        _Plain(img, codec, metric, chroma, fine)
        if rescaler is None
        else _Model(img, codec, metric, rescaler)
    )
    q = _meeting(p, floor)
    return None if q is None else p.size(q)


def choose(
    img: ImageData,
    target: Target,
    rescalers: dict[str, FrameRescaler],
    source_bytes: int | None = None,
) -> Choice:
    """The smallest stored form of ``img`` meeting ``target`` (module docstring)."""
    # chroma at full resolution too where the codec offers it: 4:2:0 caps PSNR on
    # colourful images (Set14's baboon: under 28 dB at quality 100)
    plains = {
        p.key: p
        for c in target.codecs
        for ch in getattr(get_codec(c), "subsamplings", ("4:2:0",))
        for p in [_Plain(img, c, target.metric, ch)]
    }

    def model_paths(chroma: str | None) -> list[_Model]:
        """Each model path per codec; a full-size restore (JPEG only, the codec it knows)
        only in the chroma of the smallest plain JPEG (``chroma``; None: in every one); a ×2
        path not where a PSNR floor is out of its reach (``X2_REACH_DB``)."""
        return [
            _Model(
                img,
                c,
                target.metric,
                r,
                twin=plains.get(path_key(c, "full", r.model.lr_subsampling)),
            )
            for m in target.models
            for c in target.codecs
            for r in [rescalers[m]]
            if (r.scale > 1 and reachable(r.scale))
            or (
                r.scale == 1
                and c in FULL_SIZE_CODECS
                and chroma in (None, r.model.lr_subsampling)
                and r.model.lr_subsampling in getattr(get_codec(c), "subsamplings", ("4:2:0",))
            )
        ]

    @functools.cache  # once per image, whatever the number of codecs
    def reachable(scale: int) -> bool:
        if target.metric != "psnr" or target.floor is None or scale != 2:
            return True
        return target.floor <= _bicubic_round_trip_psnr(img, scale) + X2_REACH_DB

    if target.max_bpp is not None:
        return _within_budget(img, target, plains, model_paths(None), source_bytes)
    floor = float(target.floor)
    best: tuple[_Path, int] | None = None
    tried: dict[str, int | None] = {}
    found: dict[str, tuple[_Path, int]] = {}
    for key, p in plains.items():
        q = _meeting(p, floor)
        tried[key] = None if q is None else p.size(q)
        if q is not None:
            found[key] = (p, q)
            if best is None or p.size(q) < best[0].size(best[1]):
                best = (p, q)
    plain_found = [pq for k, pq in found.items() if k.split("@")[0] == target.plain_codec]
    plain = min(plain_found, key=lambda pq: pq[0].size(pq[1]), default=None)
    for p in model_paths(None if plain is None else plain[0].chroma):
        q = _meeting(p, floor, None if best is None else best[0].size(best[1]))
        tried[p.key] = None if q is None else p.size(q)
        if q is not None and (best is None or p.size(q) < best[0].size(best[1])):
            best = (p, q)
    extra = dict(
        plain_bytes=None if plain is None else plain[0].size(plain[1]),
        plain_quality=None if plain is None else plain[0].levels[plain[1]],
        tried=tried,
    )
    if best is None:
        return Choice(None, note="no lossy candidate meets the floor: stored unchanged", **extra)
    return _final(best, source_bytes, extra)


def _final(best: tuple[_Path, int], source_bytes: int | None, extra: dict) -> Choice:
    p, q = best
    ps, ss, s2 = p.both(q)
    data = p.stored(q)
    if source_bytes is not None and len(data) >= source_bytes:
        return Choice(None, note="the source file is smaller: stored unchanged", **extra)
    model = None if isinstance(p, _Plain) else p.name
    return Choice(data, p.codec.name, model, p.levels[q], p.chroma, ps, ss, s2, **extra)


def _within_budget(
    img: ImageData,
    target: Target,
    plains: dict[str, _Plain],
    models: list[_Model],
    source_bytes: int | None,
) -> Choice:
    h, w = img.size
    budget = int(target.max_bpp * h * w / 8)
    best: tuple[_Path, int] | None = None
    smallest: tuple[_Path, int] | None = None
    tried: dict[str, int | None] = {}
    for p in [*plains.values(), *models]:
        lo, hi = p.steps
        q = highest(lambda q, p=p: p.size(q) <= budget, lo, hi)
        tried[p.key] = None if q is None else p.size(q)
        if smallest is None or p.size(lo) < smallest[0].size(smallest[1]):
            smallest = (p, lo)
        if q is not None and (best is None or p.value(q) > best[0].value(best[1])):
            best = (p, q)
    plain = plains[f"{target.plain_codec}@full"]
    pq = highest(lambda q: plain.size(q) <= budget, *plain.steps)
    extra = dict(
        plain_bytes=None if pq is None else plain.size(pq),
        plain_quality=None if pq is None else plain.levels[pq],
        tried=tried,
    )
    if best is None:
        assert smallest is not None
        c = _final(smallest, source_bytes, extra)
        return c if c.data is None else _noted(c, f"no candidate fits {budget} bytes: the smallest")
    return _final(best, source_bytes, extra)


def _noted(c: Choice, note: str) -> Choice:
    return replace(c, note=note)


__all__ = [
    "FULL_SIZE_RESTORES",
    "Choice",
    "Target",
    "choose",
    "highest",
    "lowest",
    "smallest_bytes",
    "stored_file",
]
