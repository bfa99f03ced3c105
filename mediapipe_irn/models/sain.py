"""SAIN: Self-Asymmetric Invertible Network (Yang et al., "Self-Asymmetric Invertible Network
for Compression-Aware Image Rescaling", AAAI 2023).

Haar transform(s), then E-blocks (whose last ``LR = x1 + E(x2)`` is the high-quality image
that is transmitted), then V-blocks that map to ``[simulated-compressed LR, z]``. Upscaling
feeds the *decoded* LR and a latent from the learnable Gaussian mixture through the inverse.
"""

from __future__ import annotations

from torch import Tensor, nn

from ..nn import (
    QUALITY_CHANNELS,
    EnhancedInvBlock,
    GaussianMixturePrior,
    HaarDownsampling,
    InvBlock,
    QualityFiLM,
    RestoreFilter,
    condition_from_planes,
    make_subnet,
)
from .base import InverseOutput, RescaleModel, TrainOutput
from .irn import haar_steps


class SAIN(RescaleModel):
    """Self-Asymmetric Invertible Network (Yang et al., "Self-Asymmetric Invertible Network for
    Compression-Aware Image Rescaling", AAAI 2023): ``e_blocks`` enhanced invertible blocks
    produce the LR; ``v_blocks`` more model what a codec does to it (the simulated-compressed
    LR the inverse starts from); z follows a learnable Gaussian mixture, reconstructed at its
    mode. ``post`` > 0 adds a decoder-only :class:`RestoreFilter` of that width after the
    inverse; ``post_quality`` tells it the codec quality (:class:`QualityFiLM`). Both are
    optional: weights without them load with them removed."""

    optional_modules = ("post", "post_quality")

    def __init__(
        self,
        scale: int = 2,
        e_blocks: int = 5,
        v_blocks: int = 3,
        growth: int = 32,
        gmm_components: int = 5,
        name: str = "sain",
        subnet: str = "dense",
        depth: int = 2,
        post: int = 0,
        post_quality: bool = False,
    ) -> None:
        super().__init__()
        self.scale, self.name = scale, name
        self.e_blocks, self.v_blocks, self.growth = e_blocks, v_blocks, growth
        # one coupling block runs two subnets in series; each adds (convs) px at LR size
        self._convs = 5 if subnet == "dense" else depth
        c = 3
        haar: list[nn.Module] = []
        for _ in range(haar_steps(scale)):
            haar.append(HaarDownsampling(c))
            c *= 4
        self.haar = nn.ModuleList(haar)
        sub = make_subnet(subnet, growth, depth)
        self.enhanced = nn.ModuleList(EnhancedInvBlock(sub, c, 3) for _ in range(e_blocks))
        self.vanilla = nn.ModuleList(InvBlock(sub, c, 3) for _ in range(v_blocks))
        self.channels = c
        self.prior = GaussianMixturePrior(gmm_components)
        self.post = RestoreFilter(post) if post else None
        self.post_quality = QualityFiLM(post) if post and post_quality else None

    @property
    def quality_channels(self) -> int:
        return QUALITY_CHANNELS if self.post is not None and self.post_quality is not None else 0

    def receptive_radius(self) -> int:
        post = RestoreFilter.convs if self.post is not None else 0
        return 2 * self._convs * (self.e_blocks + self.v_blocks) * self.scale + post

    def forward(self, hr: Tensor) -> TrainOutput:
        x = hr
        for op in self.haar:
            x = op(x)
        lr = x[:, :3]
        for blk in self.enhanced:
            x, lr = blk.forward_lr(x)
        for blk in self.vanilla:
            x = blk(x)
        return TrainOutput(lr, x[:, :3], x[:, 3:], x)

    def forward_lr(self, hr: Tensor) -> Tensor:
        """The transmitted LR is the last E-block's ``x1 + E(x2)``: the V-blocks and that
        block's F, G, H do not touch it, so downscaling skips them (runs 5 of sain-x2's 11
        subnets, 1 of sain-x2-lite's 7)."""
        x = hr
        for op in self.haar:
            x = op(x)
        if not self.enhanced:
            return x[:, :3]
        for blk in self.enhanced[:-1]:
            x = blk(x)
        return self.enhanced[-1].lr_only(x)

    def inverse(self, y: Tensor) -> InverseOutput:
        film = None
        if self.quality_channels:  # the condition's constant planes (restore_input)
            film = self.post_quality(condition_from_planes(y, self.channels))
            y = y[:, : self.channels]
        x = y
        for blk in reversed(self.vanilla):
            x = blk(x, rev=True)
        lr = None
        for i, blk in enumerate(reversed(self.enhanced)):
            x, lr_i = blk.forward_lr(x, rev=True)
            if i == 0:
                lr = lr_i
        for op in reversed(self.haar):
            x = op(x, rev=True)
        if self.post is not None:
            return InverseOutput(self.post(x, film), lr, x)
        return InverseOutput(x, lr)
