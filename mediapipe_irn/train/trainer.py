"""One Trainer for training and fine-tuning (frozen-dataclass config, Adam, step LR schedule,
gradient clipping, resumable atomic checkpoints, progress with validation PSNR and bytes,
seeded). The objectives are IRN's (Xiao et al., ECCV 2020) and SAIN's (Yang et al., AAAI
2023), plus an optional rate term on the codec's size estimate (``LossWeights.rate``)."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from ..codecs import EncodeOptions, codec_proxy, get_codec, reads_back_quality
from ..errors import InputError
from ..metrics import psnr
from ..models import RescaleModel, create_model, get_spec, load_weights
from ..models.bicubic import Bicubic
from ..models.registry import fit_optional
from ..pipeline.images import to_tensor, to_uint8
from ..pipeline.output import atomic_path
from ..simulate import real_codec, run_codec
from .dataset import PatchSampler, find_sources, load_sources
from .losses import LossWeights, rescaling_loss


@dataclass(frozen=True)
class CodecConfig:
    """The codec in the loop. ``mode``: ``real`` runs the real codec forward with the
    ``grad`` backward; ``sim`` uses the differentiable JPEG forward and backward."""

    name: str = "jpeg"
    quality: tuple[int, int] = (30, 90)  # sampled uniformly per image (per batch for video)
    mode: Literal["real", "sim"] = "real"
    grad: Literal["auto", "simulator", "identity"] = "auto"

    def gradient(self) -> str:
        """``auto``: the codec's own simulator when it has one, else the identity."""
        if self.grad != "auto":
            return self.grad
        return "simulator" if codec_proxy(get_codec(self.name)) is not None else "identity"


@dataclass(frozen=True)
class TrainConfig:
    model: str
    data: tuple[str, ...]
    out: str
    steps: int = 10000
    val: tuple[str, ...] = ()
    init: str | None = None  # checkpoint/weights file or zoo model name to start from
    codec: CodecConfig | None = None  # None: lossless LR (IRN-style first stage)
    batch: int = 8
    patch: int = 64
    lr: float = 2e-4
    milestones: tuple[float, ...] = (0.5, 0.75)  # fractions of ``steps``
    gamma: float = 0.5
    warmup: int = 100
    clip: float = 10.0
    weights: LossWeights = field(default_factory=LossWeights)
    seed: int = 0
    sample_latent: bool = False  # True: z drawn from the prior (papers); False: its mode
    bf16: bool = False
    threads: int | None = None
    log_every: int = 50
    val_every: int = 500
    ckpt_every: int = 200
    val_images: int = 8
    val_crop: int = 256
    val_quality: int = 75
    rate_quality: tuple[int, int] = (30, 90)  # JPEG qualities of the size proxy, lossless stage
    device: str = "cpu"  # torch device of the model and batches ("auto": CUDA when present)
    minutes: float | None = None  # wall-clock budget over all runs; the schedule follows it
    # train only these submodules (comma-separated, e.g. "post,post_quality"); the rest frozen
    train_only: str | None = None
    # share of samples whose codec quality a quality-conditioned restore is not told (so it
    # also learns to restore without it: other codecs, files without tables)
    quality_dropout: float = 0.2


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; any other name as torch spells it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as e:
        raise InputError(f"unknown device {name!r}: {e}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda asked for, but torch sees no CUDA device")
    return dev


def _rate_model(cfg: TrainConfig, q: Tensor) -> Callable[[Tensor], Tensor] | None:
    """The codec's size estimate at the batch's qualities (its ``proxy().bits``; the lossless
    first stage uses JPEG's, at ``rate_quality``)."""
    if cfg.weights.rate <= 0:
        return None
    proxy = codec_proxy(get_codec(cfg.codec.name if cfg.codec else "jpeg"))
    if proxy is None:
        raise InputError(f"codec {cfg.codec.name!r} has no size estimate for --rate-weight")
    return lambda x: proxy.bits(x, q[: x.shape[0]])


def _compressors(
    cfg: TrainConfig,
    rng: np.random.Generator,
    conditioned: bool = False,
    subsampling: str = "4:2:0",
) -> tuple[
    Callable[[Tensor], Tensor],
    Callable[[Tensor], Tensor],
    Callable[[Tensor], Tensor] | None,
    Tensor | None,
]:
    """``(compress, compress_ref, rate, quality)`` for one batch: the qualities drawn, as the
    decoder will read them back (None for a codec whose decoder does not), with
    ``cfg.quality_dropout`` of them hidden (NaN) from a ``conditioned`` restore (drawn only
    then, so the other models' runs keep their random stream)."""
    cc = cfg.codec
    if cc is None:  # lossless LR; qualities are drawn only for a rate term
        if cfg.weights.rate <= 0:
            return (lambda x: x), (lambda x: x), None, None
        lo, hi = cfg.rate_quality
        q = torch.from_numpy(rng.integers(lo, hi + 1, size=cfg.batch)).float()
        return (lambda x: x), (lambda x: x), _rate_model(cfg, q), None
    lo, hi = cc.quality
    q = torch.from_numpy(rng.integers(lo, hi + 1, size=cfg.batch)).float()
    rate = _rate_model(cfg, q)
    told = q if reads_back_quality(get_codec(cc.name)) else None
    if conditioned and told is not None:
        hidden = torch.from_numpy(rng.random(cfg.batch) < cfg.quality_dropout)
        told = torch.where(hidden, torch.full_like(q, float("nan")), q)
    if cc.mode == "sim":
        proxy = codec_proxy(get_codec(cc.name))
        if proxy is None:
            raise InputError(f"no simulator for {cc.name!r}; use mode='real'")

        def sim(x: Tensor) -> Tensor:
            return proxy.simulate(x, q[: x.shape[0]])

        return sim, sim, rate, told
    grad = cc.gradient()
    qs = q.int().tolist()
    return (
        (lambda x: real_codec(x, cc.name, qs[: x.shape[0]], grad, subsampling)),
        (lambda x: run_codec(x, cc.name, qs[: x.shape[0]], subsampling)),
        rate,
        told,
    )


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Trainer:
    """Trains ``cfg.model`` from scratch (lossless LR, IRN's first stage) or fine-tunes it
    against a codec (real codec forward, the codec proxy's gradient; SAIN), resuming from
    ``cfg.out`` when it exists. ``fit()`` runs to ``cfg.steps``."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        get_spec(cfg.model)  # clear error on unknown names
        torch.manual_seed(cfg.seed)
        self.device = resolve_device(cfg.device)
        if self.device.type == "cuda":  # fixed batch shapes: let cuDNN pick its fastest kernels
            torch.backends.cudnn.benchmark = True
        self.model: RescaleModel = create_model(cfg.model, pretrained=False).train()
        self.model.to(self.device)
        self.params = self._trainable()
        self.optim = torch.optim.Adam(self.params, lr=cfg.lr, betas=(0.9, 0.999))
        self.step = 0
        self.elapsed = 0.0  # seconds of training, over every run of this checkpoint
        self.history: list[dict] = []
        self.rng = np.random.default_rng(cfg.seed + 1)
        self.gen = torch.Generator(device=self.device).manual_seed(cfg.seed + 2)
        self.sampler: PatchSampler | None = None
        self.out = Path(cfg.out)
        if self.out.is_file():
            self._resume()
        elif cfg.init:
            self._init_from(cfg.init)

    def _trainable(self) -> list[torch.nn.Parameter]:
        """Every parameter, or with ``train_only`` that submodule's alone (the others frozen:
        no gradient is computed through them)."""
        if self.cfg.train_only is None:
            return list(self.model.parameters())
        only = [n.strip() for n in self.cfg.train_only.split(",") if n.strip()]
        for n in only:
            if getattr(self.model, n, None) is None:
                raise InputError(f"{self.cfg.model} has no submodule {n!r} to train")
        for name, p in self.model.named_parameters():
            p.requires_grad_(name.split(".")[0] in only)
        return [p for p in self.model.parameters() if p.requires_grad]

    # -- checkpoints -------------------------------------------------------------------
    def _init_from(self, init: str) -> None:
        if Path(init).is_file():
            load_weights(self.model, init, missing="init")  # a new optional part starts new
        else:
            src = create_model(init, pretrained=True)
            if type(src) is not type(self.model):
                raise InputError(f"cannot fine-tune {self.cfg.model} from {init}")
            # a part the source lacks (an optional module added since) starts new
            self.model.load_state_dict(fit_optional(self.model, src.state_dict(), "init"))
        _log(f"initialised {self.cfg.model} from {init}")

    def _resume(self) -> None:
        ck = torch.load(self.out, map_location="cpu", weights_only=True)
        if ck.get("arch") != self.cfg.model:
            raise InputError(
                f"{self.out} is a checkpoint of {ck.get('arch')!r}, not {self.cfg.model!r}"
            )
        self.model.load_state_dict(ck["model"])
        self.optim.load_state_dict(ck["optim"])
        self.step = int(ck["step"])
        self.elapsed = float(ck.get("elapsed", 0.0))
        self.history = list(ck.get("history", []))
        self.rng.bit_generator.state = ck["rng"]
        try:
            self.gen.set_state(ck["gen"])
        except RuntimeError:  # saved on another kind of device: latent draws restart
            _log("latent generator state is from another device; reseeded")
        self._sampler_state = ck.get("sampler")
        _log(f"resumed {self.out} at step {self.step}")

    def save(self) -> None:
        ck = {
            "arch": self.cfg.model,
            "model": self.model.state_dict(),
            "optim": self.optim.state_dict(),
            "step": self.step,
            "elapsed": self.elapsed,
            "device": self.device.type,
            "history": self.history,
            "rng": self.rng.bit_generator.state,
            "gen": self.gen.get_state().cpu(),
            "sampler": self.sampler.state() if self.sampler else None,
            "config": _plain(asdict(self.cfg)),
        }
        with atomic_path(self.out, overwrite=True) as tmp:  # fsynced, renamed into place
            torch.save(ck, tmp)

    # -- schedule ----------------------------------------------------------------------
    def progress(self, step: int, elapsed: float = 0.0) -> float:
        """Fraction of the run done: by steps, or by wall clock under ``minutes``."""
        frac = step / max(1, self.cfg.steps)
        if self.cfg.minutes:
            frac = max(frac, elapsed / (60.0 * self.cfg.minutes))
        return frac

    def lr_at(self, step: int, elapsed: float = 0.0) -> float:
        cfg = self.cfg
        lr = cfg.lr * min(1.0, (step + 1) / max(1, cfg.warmup))
        for m in cfg.milestones:
            if self.progress(step, elapsed) >= m:
                lr *= cfg.gamma
        return lr

    # -- validation --------------------------------------------------------------------
    def _val_set(self) -> list[Tensor]:
        if not hasattr(self, "_val"):
            imgs = []
            if self.cfg.val:
                files = find_sources(self.cfg.val)
                step = max(1, len(files) // self.cfg.val_images)
                for f in files[::step][: self.cfg.val_images]:
                    from ..pipeline.images import read_image

                    a = read_image(f).rgb
                    c = self.cfg.val_crop
                    h, w = (min(c, a.shape[0]) // 16) * 16, (min(c, a.shape[1]) // 16) * 16
                    y0, x0 = (a.shape[0] - h) // 2, (a.shape[1] - w) // 2
                    imgs.append(to_tensor(a[y0 : y0 + h, x0 : x0 + w]).to(self.device))
            self._val = imgs
        return self._val

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        imgs = self._val_set()
        if not imgs:
            return {}
        cc = self.cfg.codec
        q = self.cfg.val_quality
        self.model.eval()
        bic = Bicubic(self.model.scale)
        sub = self.model.lr_subsampling
        told = None
        if cc is not None and reads_back_quality(get_codec(cc.name)):
            told = torch.tensor([float(q)])
        res: dict[str, list[float]] = {}
        for hr in imgs:
            for key, m in (("model", self.model), ("bicubic", bic)):
                lr = to_uint8(m.downscale(hr).clamp(0, 1))
                if cc is not None:
                    codec = get_codec(cc.name)
                    if codec.kind == "image":  # bits per HR pixel of the real file
                        opts = EncodeOptions(quality=q, subsampling=sub)
                        size = len(codec.encode([lr], opts))
                        res.setdefault(f"bpp_{key}", []).append(
                            8.0 * size / (hr.shape[-2] * hr.shape[-1])
                        )
                lt = to_tensor(lr).to(self.device)
                if cc is not None:
                    lt = run_codec(lt, cc.name, [q], sub)
                res.setdefault(f"psnr_{key}", []).append(
                    psnr(to_uint8(m.upscale(lt, quality=told).clamp(0, 1)), to_uint8(hr))
                )
        self.model.train()
        return {f"val_{k}": float(np.mean(v)) for k, v in res.items()}

    # -- loop --------------------------------------------------------------------------
    def fit(self, progress: bool = True, stop_at: int | None = None) -> dict:
        """Train to ``cfg.steps`` (or stop early at ``stop_at``, as if interrupted)."""
        cfg = self.cfg
        end = cfg.steps if stop_at is None else min(stop_at, cfg.steps)
        if self.sampler is None:
            srcs = load_sources(cfg.data, cfg.patch)
            self.sampler = PatchSampler(srcs, cfg.patch, cfg.batch, cfg.seed)
            st = getattr(self, "_sampler_state", None)
            if st:
                self.sampler.set_state(st)
        t0, s0, e0 = time.time(), self.step, self.elapsed
        agg: dict[str, torch.Tensor] = {}
        while self.step < end and self.progress(self.step, self.elapsed) < 1.0:
            for g in self.optim.param_groups:
                g["lr"] = self.lr_at(self.step, self.elapsed)
            hr = self.sampler.sample().to(self.device, non_blocking=True)
            comp, comp_ref, rate, told = _compressors(
                cfg, self.rng, self.model.quality_channels > 0, self.model.lr_subsampling
            )
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                lt = rescaling_loss(
                    self.model,
                    hr,
                    comp,
                    comp_ref,
                    cfg.weights,
                    self.gen,
                    cfg.sample_latent,
                    rate,
                    told,
                )
            self.optim.zero_grad(set_to_none=True)
            lt.total.backward()
            gn = torch.nn.utils.clip_grad_norm_(self.params, cfg.clip)
            if not math.isfinite(float(gn)):
                _log(f"step {self.step}: non-finite gradient, batch skipped")
                self.optim.zero_grad(set_to_none=True)
            else:
                self.optim.step()
            self.step += 1
            self.elapsed = e0 + time.time() - t0
            for k, v in lt.terms.items():  # summed on the device: no sync per step
                agg[k] = agg[k] + v if k in agg else v
            if progress and self.step % cfg.log_every == 0:
                rate = (self.step - s0) / max(1e-9, time.time() - t0)
                eta = (cfg.steps - self.step) / max(rate, 1e-9)
                if cfg.minutes:
                    eta = min(eta, 60.0 * cfg.minutes - self.elapsed)
                avg = {k: float(v) / cfg.log_every for k, v in agg.items()}
                agg = {}
                _log(
                    f"step {self.step}/{cfg.steps} lr {self.lr_at(self.step, self.elapsed):.2e} "
                    + " ".join(f"{k} {v:.5f}" for k, v in avg.items())
                    + f" | {rate:.2f} it/s, eta {eta / 60:.1f} min"
                )
            done = self.progress(self.step, self.elapsed) >= 1.0  # steps or budget spent
            if self.step % cfg.val_every == 0 or done:
                v = self.validate()
                if v:
                    self.history.append({"step": self.step, "hours": self.elapsed / 3600, **v})
                    _log(
                        f"step {self.step} validation: "
                        + " ".join(f"{k} {x:.3f}" for k, x in v.items())
                    )
            if self.step % cfg.ckpt_every == 0 or self.step == end or done:
                self.save()
        return {"step": self.step, "history": self.history}


def _plain(x):
    """Dataclass dicts → JSON-able builtins (tuples to lists) for ``weights_only`` loading."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


__all__ = ["CodecConfig", "TrainConfig", "Trainer", "resolve_device"]
