"""One generic invertibility contract over every block and every invertible model."""

from __future__ import annotations

import pytest
import torch

from mediapipe_irn.models import create_model, list_models
from mediapipe_irn.nn import EnhancedInvBlock, HaarDownsampling, InvBlock, conv_block, dense_block

from .conftest import randomize

BLOCKS = {
    "haar": lambda: HaarDownsampling(3),
    "invblock": lambda: InvBlock(dense_block(8), 12, 3),
    "enhanced": lambda: EnhancedInvBlock(dense_block(8), 12, 3),
    "enhanced-conv": lambda: EnhancedInvBlock(conv_block(8, 2), 12, 3),
}


def _blocks_input(name: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    c = 3 if name == "haar" else 12
    return torch.rand(2, c, 16, 20, generator=g)


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_block_is_invertible(name):
    blk = randomize(BLOCKS[name](), std=0.05)
    x = _blocks_input(name)
    with torch.no_grad():
        y = blk(x)
        back = blk(y, rev=True)
    if name != "haar":  # the block does something
        assert (y - x).abs().max() > 1e-3
    assert (back - x).abs().max() < 1e-4


INVERTIBLE = [n for n in list_models() if create_model(n, pretrained=False).invertible]


@pytest.mark.parametrize("name", INVERTIBLE)
def test_model_is_invertible_with_true_z(name):
    m = randomize(create_model(name, pretrained=False), std=0.01)
    s = m.scale
    x = torch.rand(1, 3, 8 * s, 12 * s, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        out = m(x)
        inv = m.inverse(out.out)
    # a decoder-only filter after the inverse (SAIN's restore filter) is not part of the
    # bijection: the invertible network's own inverse is what must give x back
    back = inv.hr if inv.bijective is None else inv.bijective
    assert out.out.shape == (1, m.channels, 8, 12)
    assert (back - x).abs().max() < 1e-4
    if inv.bijective is not None:  # and the filter, randomised, does change the image
        assert (inv.hr - inv.bijective).abs().max() > 1e-4


def test_dlv_full_inverse_recovers_both_latents():
    m = randomize(create_model("dlv-x2", pretrained=False), std=0.01).eval()
    x = torch.rand(2, 3, 16, 24, generator=torch.Generator().manual_seed(5))
    v = torch.randn(2, 1, 16, 24, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        out = m.forward_v(x, v)
        back = m.inverse_full(out.out)
        other = m.forward_v(x, v * 0).lr
    assert (back - torch.cat((x, v), 1)).abs().max() < 1e-4
    assert (other - out.lr).abs().max() > 1e-4  # v changes the LR


def test_enhanced_block_recovers_its_lr():
    blk = randomize(EnhancedInvBlock(dense_block(8), 12, 3), std=0.05)
    x = _blocks_input("enhanced")
    with torch.no_grad():
        fwd = blk.forward_lr(x)
        inv = blk.forward_lr(fwd.out, rev=True)
    assert (inv.lr - fwd.lr).abs().max() < 1e-4


def test_conv_subnet_starts_as_identity_and_checks_depth():
    from mediapipe_irn.nn import ConvBlock, make_subnet

    blk = EnhancedInvBlock(conv_block(8, 3), 12, 3)
    x = _blocks_input("enhanced-conv")
    with torch.no_grad():
        assert torch.equal(blk(x), x)
    assert len([m for m in ConvBlock(9, 3, 8, 3).modules() if isinstance(m, torch.nn.Conv2d)]) == 3
    with pytest.raises(ValueError, match="depth"):
        ConvBlock(9, 3, 8, 0)
    with pytest.raises(ValueError, match="unknown subnet"):
        make_subnet("mlp", 8)
