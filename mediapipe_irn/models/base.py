"""The model contract shared by every family: ``downscale``, ``upscale`` and a training forward."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import InputError
from ..nn import quality_condition, quantize


class TrainOutput(NamedTuple):
    """Everything the forward (downscaling) pass produces; nothing is kept on the module."""

    lr: Tensor  # continuous LR before quantisation (SAIN: the last E-block's LR)
    lr_sim: Tensor | None  # SAIN: the V-blocks' simulated-compressed LR; None otherwise
    z: Tensor | None  # the high-frequency latent (None for non-invertible baselines)
    out: Tensor | None  # the full forward output, ``cat(lr_or_lr_sim, z)``


class InverseOutput(NamedTuple):
    hr: Tensor  # the restored image
    lr: Tensor | None  # SAIN: the LR recovered by the last E-block in the inverse pass
    # the invertible network's own inverse, where a decoder-only filter follows it (``hr``
    # is then the filtered image); None: ``hr`` is the invertible inverse itself
    bijective: Tensor | None = None


LRFunction = Callable[["RescaleModel", Tensor], Tensor]  # (model, padded HR) -> continuous LR
InverseFunction = Callable[["RescaleModel", Tensor], "InverseOutput"]


def check_image_tensor(x: Tensor, what: str = "image") -> None:
    if not isinstance(x, Tensor) or x.dim() != 4 or x.shape[1] != 3:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise InputError(f"{what} must be a float tensor B×3×H×W, got {shape}")
    if not x.is_floating_point():
        raise InputError(f"{what} must be floating point in [0, 1], got {x.dtype}")


def pad_to_multiple(x: Tensor, multiple: int) -> tuple[Tensor, tuple[int, int]]:
    """Replicate-pad the bottom/right so both sides are multiples; returns the pad (h, w)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, (ph, pw)


class RescaleModel(nn.Module):
    """Base class: float tensors B×3×H×W in [0, 1] in and out.

    ``downscale`` pads H and W up to a multiple of ``scale`` (replicate), so the LR has
    ``ceil(H/scale) × ceil(W/scale)`` pixels and is quantised to 8-bit levels. ``upscale``
    returns ``scale``× the LR size, cropped to ``size`` when given. Both are deterministic:
    z is the prior's mode unless passed explicitly.
    """

    name: str = "model"
    scale: int = 2
    invertible: bool = True
    learned: bool = True  # has weights to load (False: a fixed baseline such as bicubic)
    lr_align: int = 1  # the inverse takes LR sides that are multiples of this (tiles included)
    lr_subsampling: str = "4:2:0"  # chroma its LR is coded with (EncodeOptions' default)
    channels: int = 3
    # submodules that weights may lack (added after them): see registry.load_weights
    optional_modules: tuple[str, ...] = ()
    prior: nn.Module
    weights_sha256: str | None = None  # of the loaded weights file (set by create_model)

    def receptive_radius(self) -> int:
        """Radius, in input pixels of the larger side (HR), that one output pixel depends on."""
        return 0

    def forward(self, hr: Tensor) -> TrainOutput:  # pragma: no cover - abstract
        raise NotImplementedError

    def inverse(self, y: Tensor) -> InverseOutput:  # pragma: no cover - abstract
        raise NotImplementedError

    def latent(
        self,
        lr: Tensor,
        z: Tensor | None = None,
        generator: torch.Generator | None = None,
        sample: bool = False,
    ) -> Tensor:
        """The latent to pair with ``lr``: given, sampled from the prior, or the prior's mode.

        Invertible subclasses set ``self.channels`` (channels after the Haar steps) and
        ``self.prior``.
        """
        shape = (lr.shape[0], self.channels - 3, lr.shape[2], lr.shape[3])
        if z is not None:
            if tuple(z.shape) != shape:
                raise InputError(f"z must have shape {shape}, got {tuple(z.shape)}")
            return z
        if sample:
            return self.prior.sample(shape, generator, like=lr)
        return self.prior.mode(shape, like=lr)

    @property
    def quality_channels(self) -> int:
        """Constant planes after ``[lr, z]`` in the inverse's input that carry the codec
        quality (:func:`~mediapipe_irn.nn.quality_condition`); 0 for a model not told it."""
        return 0

    def restore_input(
        self, lr: Tensor, z: Tensor | None = None, quality: Tensor | None = None
    ) -> Tensor:
        """The inverse's input: ``[lr, z]`` and, for a quality-conditioned model, the
        condition of ``quality`` (per image, NaN or None: unknown) as constant planes."""
        y = torch.cat((lr, self.latent(lr, z)), 1)
        if not self.quality_channels:
            return y
        c = quality_condition(quality, lr.shape[0], lr)
        planes = c[:, :, None, None].expand(-1, -1, lr.shape[2], lr.shape[3])
        return torch.cat((y, planes), 1)

    def forward_lr(self, hr: Tensor) -> Tensor:
        """The continuous LR alone, as ``forward(hr).lr``; a family overrides it to skip the
        work the LR does not depend on."""
        return self.forward(hr).lr

    def downscale(self, hr: Tensor, forward_lr: LRFunction | None = None) -> Tensor:
        """``forward_lr(model, x)`` replaces :meth:`forward_lr` (e.g. a compiled form)."""
        check_image_tensor(hr, "HR input")
        x, _ = pad_to_multiple(hr, self.scale)
        return quantize(forward_lr(self, x) if forward_lr else self.forward_lr(x))

    def upscale(
        self,
        lr: Tensor,
        z: Tensor | None = None,
        size: tuple[int, int] | None = None,
        inverse: InverseFunction | None = None,
        quality: Tensor | None = None,
    ) -> Tensor:
        """``inverse(model, y)`` replaces :meth:`inverse` (e.g. a compiled form); ``quality``:
        the codec quality each LR was coded at, for a model conditioned on it (NaN or None:
        unknown; ignored by the others). An LR whose sides are not multiples of ``lr_align``
        is replicate-padded for the inverse and its output cropped back."""
        check_image_tensor(lr, "LR input")
        h, w = lr.shape[-2:]
        lr, (ph, pw) = pad_to_multiple(lr, self.lr_align)
        y = self.restore_input(lr, z, quality)
        hr = (inverse(self, y) if inverse else self.inverse(y)).hr
        if ph or pw:
            hr = hr[..., : h * self.scale, : w * self.scale]
        if size is not None:
            hr = hr[..., : size[0], : size[1]]
        return hr
