"""Encode-time refinement of the LR image (HCD, Xu et al., ICCV 2023), codec in the loop."""

from .hcd import RefineConfig, RefineResult, refine_image, refine_lr

__all__ = ["RefineConfig", "RefineResult", "refine_image", "refine_lr"]
