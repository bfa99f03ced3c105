"""One model registry: names such as ``sain-x2`` map to an architecture and, through the zoo
manifest, to shipped weights."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import UnknownModelError, WeightsError
from .base import RescaleModel


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    scale: int
    factory: Callable[..., RescaleModel]
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def build(self) -> RescaleModel:
        return self.factory(scale=self.scale, name=self.name, **self.kwargs)


_REGISTRY: dict[str, ModelSpec] = {}
MAX_WEIGHT = 1e4  # refuse weights with larger magnitudes (see load_weights)


def register_model(spec: ModelSpec) -> ModelSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"model {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; known models: {', '.join(list_models())}"
        ) from None


def fit_optional(
    model: RescaleModel, state: dict[str, torch.Tensor], missing: str = "drop"
) -> dict[str, torch.Tensor]:
    """``state`` fitted to ``model``'s ``optional_modules`` it lacks: each removed from the
    model (``missing="drop"``) or filled in from the model's own initialisation (``"init"``)."""
    for opt in model.optional_modules:
        module = getattr(model, opt, None)
        if module is None or any(k.startswith(opt + ".") for k in state):
            continue
        if missing == "drop":
            setattr(model, opt, None)
        else:
            state = {**state, **{f"{opt}.{k}": v for k, v in module.state_dict().items()}}
    return state


def load_weights(
    model: RescaleModel, path: str | Path, sha256: str | None = None, missing: str = "drop"
) -> None:
    """Load a state dict (or a trainer checkpoint) safely into ``model``.

    ``weights_only=True`` refuses pickled code; a wrong sha256, non-finite values or a state
    dict that does not fit the architecture is a :class:`WeightsError`. The file's sha256 is
    recorded on the model (``weights_sha256``) and travels in every file it writes.
    Weights without one of the model's ``optional_modules`` (made before it existed) load
    with it removed (``missing="drop"``: the model those weights were trained as) or kept
    at its initialisation (``"init"``: to fine-tune it from them).
    """
    from ..zoo import file_sha256

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    got = file_sha256(path)
    if sha256 is not None and got != sha256:
        raise WeightsError(f"sha256 mismatch for {path}: expected {sha256}, got {got}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for corrupt files
        raise WeightsError(f"cannot read weights {path}: {exc}") from exc
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        arch = state.get("arch")
        if arch is not None and arch != model.name:
            raise WeightsError(f"{path} holds weights for {arch!r}, not {model.name!r}")
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path} is not a state dict of tensors")
    # trained weights here stay below ~1.3 in magnitude; a flipped exponent bit gives NaN, inf
    # or values like 1e30, and a garbage image with it
    bad = [
        k
        for k, v in state.items()
        if v.is_floating_point()
        and v.numel()
        and not (torch.isfinite(v).all() and float(v.abs().max()) <= MAX_WEIGHT)
    ]
    if bad:
        raise WeightsError(
            f"weights {path} hold non-finite or implausibly large values (over "
            f"{MAX_WEIGHT:g}) in {', '.join(bad[:3])}"
            f"{' …' if len(bad) > 3 else ''}: corrupt"
        )
    state = fit_optional(model, state, missing)
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError) as exc:
        raise WeightsError(f"weights {path} do not fit {model.name}: {exc}") from exc
    model.weights_sha256 = got


def create_model(
    name: str,
    pretrained: bool | None = None,
    weights: str | Path | None = None,
    made_with: str | None = None,
) -> RescaleModel:
    """Build a registered model in eval mode.

    ``pretrained=None`` loads shipped weights when the zoo has them (else the untrained
    initialisation, which is a Haar average-pool down / replicate up, with a warning);
    ``True`` requires shipped weights; ``False`` never loads them. ``weights`` loads a file
    instead (a state dict or a ``mediapipe-irn train`` checkpoint).
    ``made_with`` (a
    sha256, or ``"unrecorded"``) picks the shipped version of the weights a file was made
    with, so a file restores with its own weights after newer ones ship.
    """
    from ..zoo import find_weights

    spec = get_spec(name)
    model = spec.build()
    if weights is not None:
        load_weights(model, weights)
    elif pretrained is not False and model.learned:
        entry = find_weights(name, made_with) if made_with else find_weights(name)
        if entry is None and made_with:
            warnings.warn(
                f"{name} weights {made_with[:12]}… are not shipped with this version; using "
                "the current ones: the result may be wrong",
                stacklevel=2,
            )
            entry = find_weights(name)
        if entry is None:
            if pretrained:
                raise WeightsError(
                    f"no shipped weights for {name!r}; use pretrained=False "
                    "or train one with `mediapipe-irn train`"
                )
            warnings.warn(
                f"no shipped weights for {name!r}: using the untrained model", stacklevel=2
            )
        else:
            load_weights(model, entry.path, entry.sha256)
    return model.eval()
