"""Latent priors for the high-frequency variable z: standard Gaussian (IRN) and SAIN's
learnable Gaussian mixture sampled with hard Gumbel-softmax and reparameterisation."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class GaussianPrior(nn.Module):
    """z ~ N(0, I). Deterministic value (``mode``) is 0."""

    def sample(
        self,
        shape: tuple[int, ...],
        generator: torch.Generator | None = None,
        like: Tensor | None = None,
    ) -> Tensor:
        dev = like.device if like is not None else None
        dt = like.dtype if like is not None else None
        return torch.randn(shape, generator=generator, device=dev, dtype=dt)

    def mode(self, shape: tuple[int, ...], like: Tensor) -> Tensor:
        return like.new_zeros(shape)

    def nll(self, z: Tensor) -> Tensor:
        """Mean negative log-likelihood per batch item (constants dropped), as IRN's L_distr."""
        return 0.5 * (z**2).flatten(1).sum(1).mean()


class GaussianMixturePrior(nn.Module):
    """Per-element i.i.d. mixture of K scalar Gaussians with learnable weights, means, log-vars.

    Sampling picks a component with a hard Gumbel-softmax (so gradients reach the weights) and
    draws ``mu + exp(logvar/2)·eps``. The deterministic value (``mode``) is the mean of the most
    probable component.
    """

    def __init__(self, components: int = 5) -> None:
        super().__init__()
        logits = torch.zeros(components)
        logits[components // 2] = 0.1  # start with the zero-mean component as the mode
        self.logits = nn.Parameter(logits)
        self.mus = nn.Parameter(torch.linspace(-0.5, 0.5, components))
        self.logvars = nn.Parameter(torch.zeros(components))

    def sample(
        self,
        shape: tuple[int, ...],
        generator: torch.Generator | None = None,
        like: Tensor | None = None,
        tau: float = 1.0,
    ) -> Tensor:
        k = self.logits.numel()
        dev = self.logits.device
        u = torch.rand((*shape, k), generator=generator, device=dev).clamp_(1e-9, 1 - 1e-9)
        gumbel = -torch.log(-torch.log(u))
        soft = F.softmax((self.logits + gumbel) / tau, dim=-1)
        hard = F.one_hot(soft.argmax(-1), k).to(soft.dtype)
        onehot = hard - soft.detach() + soft
        eps = torch.randn(shape, generator=generator, device=dev)
        mu = (onehot * self.mus).sum(-1)
        std = (onehot * torch.exp(0.5 * self.logvars)).sum(-1)
        z = mu + std * eps
        return z.to(like.dtype) if like is not None else z

    def mode(self, shape: tuple[int, ...], like: Tensor) -> Tensor:
        mu = self.mus[self.logits.argmax()].detach()
        return like.new_full(shape, float(mu))

    def nll(self, z: Tensor) -> Tensor:
        logp = F.log_softmax(self.logits, 0)
        d = z.unsqueeze(-1)
        comp = -0.5 * (
            (d - self.mus) ** 2 * torch.exp(-self.logvars) + self.logvars + math.log(2 * math.pi)
        )
        return -torch.logsumexp(logp + comp, -1).flatten(1).sum(1).mean()
