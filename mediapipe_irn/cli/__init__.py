"""``mediapipe-irn``: a thin click group over the library. Shared options and the group are in
:mod:`.options`; the commands in :mod:`.images`, :mod:`.video`, :mod:`.train`, :mod:`.bench`."""

from __future__ import annotations

import click

from .options import main


@main.command("models")
def models_cmd() -> None:
    """List registered models."""
    from ..models import create_model, get_spec, list_models
    from ..zoo import find_weights

    click.echo(f"{'name':<16}{'scale':>6}{'params':>12}  weights  description")
    for name in list_models():
        spec = get_spec(name)
        n = sum(p.numel() for p in create_model(name, pretrained=False).parameters())
        shipped = "yes" if find_weights(name) else "no"
        click.echo(f"{name:<16}{spec.scale:>6}{n:>12,}  {shipped:<8} {spec.description}")


from . import bench, images, train, video  # noqa: E402,F401  (they register their commands)

__all__ = ["main"]
