"""Videos in the archive: per clip, H.264 at full size or through the model (the video
default, ×2), audio and subtitles copied, restore metadata in the container.

With a PSNR floor (``--target-psnr``), the CRF of each path is found on sampled segments
(:data:`SEGMENTS` short runs of frames spread over the clip, not only its start: each is coded
as its own short clip), the path whose segments take fewer bytes at its CRF is chosen, and the
whole clip is coded and then measured frame by frame against the source: the mean PSNR over
frames must meet the floor (a miss lowers the CRF and codes again); the worst one-second
window is reported beside it. Without a floor the clip goes through the model at ``--crf``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..codecs import EncodeOptions
from ..codecs.video import H264Codec
from ..errors import InputError, IntegrityError, MetadataError
from ..metrics import psnr
from ..pipeline.media import VIDEO_OUTPUTS
from ..pipeline.rescale import FrameRescaler
from ..pipeline.video import open_input, video_info
from .manifest import FileRecord
from .stored import full_name, lr_name, sha256_of, stored_unchanged
from .target import highest
from .transcode import (
    VideoEncodeConfig,
    _transcode,
    encode_video,
    read_video_metadata,
)

SEGMENTS, SEGMENT_FRAMES = 3, 8
CRF_RANGE = (10, 45)  # searched; below 10 x264's files grow with no visible gain
MAX_RETRIES = 2  # whole-clip codings after the first, each 2 CRF lower


def video_ext(rel: str) -> str:
    """The container a clip is stored (and restored) in: its own when this package writes
    it, else Matroska."""
    suf = Path(rel).suffix.lower()
    return suf if suf in VIDEO_OUTPUTS else ".mkv"


def restored_name(rel: str) -> str:
    return rel if Path(rel).suffix.lower() in VIDEO_OUTPUTS else rel + ".mkv"


def _frames(path: str | Path) -> Iterator[np.ndarray]:
    with open_input(path) as inp:
        for f in inp.decode(video=0):
            yield f.to_ndarray(format="rgb24")


def sample_segments(src: str | Path) -> tuple[list[list[np.ndarray]], Fraction]:
    """:data:`SEGMENTS` runs of :data:`SEGMENT_FRAMES` frames spread evenly over the clip, and
    its frame rate."""
    with open_input(src) as inp:
        info = video_info(inp)
    n = info.expected_frames()[0] or sum(1 for _ in _frames(src))
    k = min(SEGMENTS, max(1, n // SEGMENT_FRAMES))
    starts = [max(0, round((n - SEGMENT_FRAMES) * (2 * i + 1) / (2 * k))) for i in range(k)]
    want = {s + j: i for i, s in enumerate(starts) for j in range(SEGMENT_FRAMES)}
    segs: list[list[np.ndarray]] = [[] for _ in starts]
    for idx, rgb in enumerate(_frames(src)):
        if idx in want:
            segs[want[idx]].append(rgb)
        if idx > max(want):
            break
    segs = [s for s in segs if s]
    if not segs:
        raise InputError(f"{src}: no decodable video frames")
    # the exact rate (NTSC's 30000/1001): a float's Fraction does not fit FFmpeg's rationals
    return segs, Fraction(info.rate).limit_denominator(1 << 16)


class _ClipPath:
    """One path for one clip's sampled segments: bytes and mean PSNR at a CRF."""

    def __init__(self, segs: list[list[np.ndarray]], fps: Fraction, r: FrameRescaler | None):
        self.segs, self.fps, self.r = segs, fps, r
        h, w = segs[0][0].shape[:2]
        self.meta = r.metadata(w, h) if r else None
        self.coded = [[r.down(f) for f in s] for s in segs] if r else segs
        self._cache: dict[int, tuple[int, float]] = {}

    def measure(self, crf: int) -> tuple[int, float]:
        """(bytes of the segments, mean PSNR over their frames) at ``crf``."""
        if crf not in self._cache:
            codec, n, scores = H264Codec(), 0, []
            for src, coded in zip(self.segs, self.coded):
                data = codec.encode(coded, EncodeOptions(quality=crf, fps=self.fps))
                n += len(data)
                for ref, f in zip(src, codec.decode(data).frames):
                    out = self.r.up(f, self.meta) if self.r else f
                    scores.append(psnr(out, ref))
            self._cache[crf] = (n, float(np.mean(scores)))
        return self._cache[crf]

    def highest_crf(self, floor: float) -> int | None:
        return highest(lambda c: self.measure(c)[1] >= floor, *CRF_RANGE)


@dataclass(frozen=True)
class ClipChoice:
    model: str | None  # None: H.264 at full size
    crf: int
    plain_crf: int | None
    plain_bytes_est: int | None  # the full-size path on the segments, at its CRF
    chosen_bytes_est: int


def choose_clip(src: str | Path, floor: float, r: FrameRescaler) -> ClipChoice | None:
    """The path and CRF whose sampled segments meet ``floor`` in fewer bytes; None when
    neither reaches it within :data:`CRF_RANGE`."""
    segs, fps = sample_segments(src)
    plain, model = _ClipPath(segs, fps, None), _ClipPath(segs, fps, r)
    cp, cm = plain.highest_crf(floor), model.highest_crf(floor)
    pb = None if cp is None else plain.measure(cp)[0]
    mb = None if cm is None else model.measure(cm)[0]
    if cp is None and cm is None:
        return None
    if cm is not None and (pb is None or mb < pb):
        return ClipChoice(r.model.name, cm, cp, pb, mb)
    return ClipChoice(None, cp, cp, pb, pb)


def code_clip(src: str | Path, dest: Path, model: str | None, crf: int, weights: str | None):
    """Code the whole clip to ``dest``: through ``model`` or at full size."""
    if model is not None:
        encode_video(src, dest, VideoEncodeConfig(model=model, crf=crf, weights=weights, workers=1))
        return
    with open_input(src) as inp:
        info = video_info(inp)
    # at the source's own size (an odd-sized clip in 4:4:4), so it restores as it is stored
    _transcode(src, dest, list, (info.height, info.width), crf, "medium", 4, {}, False, None)


def measure_clip(
    src: str | Path, stored: str | Path, weights: str | None = None
) -> tuple[float, float]:
    """(mean PSNR over frames, worst one-second window's mean) of a stored clip restored
    against its source."""
    r = meta = None
    try:
        meta = read_video_metadata(stored)
    except MetadataError:  # a full-size clip carries none
        pass
    if meta is not None:
        r = FrameRescaler.for_metadata(meta, None, weights, video=True)
    with open_input(src) as inp:
        fps = max(1, round(float(video_info(inp).rate)))
    scores = []
    ours, theirs = _frames(stored), _frames(src)
    for ref in theirs:
        f = next(ours, None)
        if f is None:
            raise IntegrityError(f"{stored}: fewer frames than its source")
        out = r.up(f, meta) if r is not None else f[: ref.shape[0], : ref.shape[1]]
        scores.append(psnr(out, ref))
    if not scores:
        raise InputError(f"{stored}: no frames to measure")
    windows = [np.mean(scores[i : i + fps]) for i in range(0, len(scores), fps)]
    return float(np.mean(scores)), float(min(windows))


def process_video(path: Path, dest: Path, rel: str, cfg, base: dict) -> FileRecord:
    """Archive one clip (runs in a worker, like an image; module docstring)."""
    from .worker import _model  # the worker's model cache

    floor = None
    notes: list[str] = []
    t = cfg.target
    if t is not None and t.metric == "psnr" and t.floor is not None:
        floor = t.floor
        base["target"] = t.describe()
    elif t is not None:
        notes.append(f"videos take a PSNR floor only: coded at crf {cfg.crf}")
    r = FrameRescaler(_model(cfg.video_model, None), cfg.precision, video=True)
    with open_input(path) as inp:
        info = video_info(inp)
    base.update(width=info.width, height=info.height)
    model, crf, ratio = cfg.video_model, cfg.crf, None
    if floor is not None:
        c = choose_clip(path, floor, r)
        if c is None:
            why = "no CRF meets the floor: stored unchanged"
            return stored_unchanged(dest, rel, path.read_bytes(), base, why)
        model, crf = c.model, c.crf
        if c.plain_bytes_est is not None:
            ratio = c.plain_bytes_est / c.chosen_bytes_est
            base["plain_quality"] = c.plain_crf
    ext = video_ext(rel)
    out_rel = lr_name(rel, ext) if model else full_name(rel, ext)
    out = dest / out_rel
    mean = worst = None
    for _ in range(MAX_RETRIES + 1):
        code_clip(path, out, model, crf, None)
        if floor is None and not cfg.verify:
            break
        mean, worst = measure_clip(path, out)
        if floor is None or mean >= floor or crf - 2 < CRF_RANGE[0]:
            break
        crf -= 2
    stored = out.read_bytes()
    if floor is not None and (mean < floor or len(stored) >= base["size"]):
        out.unlink()
        why = "the floor was missed on the whole clip" if mean < floor else "the source is smaller"
        return stored_unchanged(dest, rel, path.read_bytes(), base, f"{why}: stored unchanged")
    if ratio is not None:  # only an estimate from the sampled segments: not a saving to report
        notes.append(
            f"plain H.264 at the same floor: about {ratio:.2f}× these bytes (estimated on the "
            "sampled segments, not searched on the whole clip; left out of the saving)"
        )
    if worst is not None:
        notes.append(f"worst one-second window {worst:.2f} dB")
    base.update(model=model, codec="h264", quality=crf)
    return FileRecord(
        status="done",
        stored_path=out_rel,
        stored_bytes=len(stored),
        stored_sha256=sha256_of(stored),
        psnr=mean,
        worst_psnr=worst,
        scale=r.model.scale if model else 1,
        reason="; ".join(notes) or None,
        **base,
    )


__all__ = [
    "process_video",
    "ClipChoice",
    "choose_clip",
    "code_clip",
    "measure_clip",
    "restored_name",
    "sample_segments",
    "video_ext",
]
