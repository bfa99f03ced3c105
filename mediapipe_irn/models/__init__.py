"""Model families and the one registry.

``*-paper`` names are the published configurations; the short names are compact ones sized
for CPU training and are what the jobs use by default (see README, "Models").
"""

from .base import InverseOutput, RescaleModel, TrainOutput
from .bicubic import Bicubic, bicubic_down, bicubic_up
from .deblock import Deblock
from .dlv import DLV
from .irn import IRN
from .registry import ModelSpec, create_model, get_spec, list_models, load_weights, register_model
from .sain import SAIN

for _s in (2, 4):
    register_model(
        ModelSpec(
            f"bicubic-x{_s}",
            "bicubic",
            _s,
            Bicubic,
            description="antialiased bicubic down, bicubic up",
        )
    )
    register_model(
        ModelSpec(
            f"irn-x{_s}-paper",
            "irn",
            _s,
            IRN,
            {"blocks": 8, "growth": 32},
            "IRN paper: Haar + 8 InvBlocks per ×2 step, DenseBlock growth 32",
        )
    )
    register_model(
        ModelSpec(
            f"irn-x{_s}",
            "irn",
            _s,
            IRN,
            {"blocks": 3, "growth": 16},
            "compact IRN: 3 InvBlocks per ×2 step, growth 16",
        )
    )
register_model(
    ModelSpec(
        "sain-x2-paper",
        "sain",
        2,
        SAIN,
        {"e_blocks": 5, "v_blocks": 3, "growth": 32},
        "SAIN paper: Haar, 5 E-blocks, 3 V-blocks, GMM-5",
    )
)
register_model(
    ModelSpec(
        "sain-x4-paper",
        "sain",
        4,
        SAIN,
        {"e_blocks": 10, "v_blocks": 6, "growth": 32},
        "SAIN paper: 2 Haar, 10 E-blocks, 6 V-blocks, GMM-5",
    )
)
register_model(
    ModelSpec(
        "sain-x2",
        "sain",
        2,
        SAIN,
        {"e_blocks": 2, "v_blocks": 1, "growth": 16, "post": 24, "post_quality": True},
        "compact SAIN: Haar, 2 E-blocks, 1 V-block, growth 16, a 24-wide restore filter told "
        "the JPEG quality",
    )
)
register_model(
    ModelSpec(
        "sain-x2-lite",
        "sain",
        2,
        SAIN,
        {"e_blocks": 1, "v_blocks": 1, "growth": 16, "subnet": "conv", "depth": 2},
        "fast SAIN: Haar, 1 E-block, 1 V-block, subnets of two 3×3 convs "
        "(16 wide); ~1/19 of sain-x2's FLOPs",
    )
)
register_model(
    ModelSpec(
        "sain-x4",
        "sain",
        4,
        SAIN,
        {"e_blocks": 4, "v_blocks": 2, "growth": 16},
        "compact SAIN: 2 Haar, 4 E-blocks, 2 V-blocks, growth 16",
    )
)

register_model(
    ModelSpec(
        "dlv-x2",
        "dlv",
        2,
        DLV,
        {"blocks": 3, "growth": 16, "v_std": 0.1},
        "DLV-style dual latents: [HR, v] → Haar + 3 InvBlocks, growth 16",
    )
)
register_model(
    ModelSpec(
        "deblock-x1",
        "deblock",
        1,
        Deblock,
        {"width": 48, "blocks": 4},
        "full-resolution JPEG restore: a plain JPEG file (4:2:0), decoded and cleaned by a "
        "quality-conditioned residual network (48 wide, 4 blocks at half resolution)",
    )
)
register_model(
    ModelSpec(
        "deblock-x1-444",
        "deblock",
        1,
        Deblock,
        {"width": 48, "blocks": 4, "subsampling": "4:4:4"},
        "deblock-x1 for 4:4:4 JPEG files (full-resolution chroma)",
    )
)

__all__ = [
    "DLV",
    "Deblock",
    "IRN",
    "SAIN",
    "Bicubic",
    "InverseOutput",
    "ModelSpec",
    "RescaleModel",
    "TrainOutput",
    "bicubic_down",
    "bicubic_up",
    "create_model",
    "get_spec",
    "list_models",
    "load_weights",
    "register_model",
]
