"""Training commands: ``train`` and ``finetune`` (one Trainer)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import main, parse_quality


def _train_options(f):
    for opt in reversed(
        [
            click.option(
                "--data",
                multiple=True,
                required=True,
                type=click.Path(exists=True),
                help="folder of training images/videos (repeatable)",
            ),
            click.option(
                "--val",
                multiple=True,
                type=click.Path(exists=True),
                help="validation folder (repeatable)",
            ),
            click.option("--steps", type=int, default=10000, show_default=True),
            click.option(
                "--out",
                required=True,
                type=click.Path(dir_okay=False),
                help="checkpoint; rerunning with the same --out resumes",
            ),
            click.option("--batch", type=int, default=8, show_default=True),
            click.option("--patch", type=int, default=64, show_default=True),
            click.option("--lr", type=float, default=2e-4, show_default=True),
            click.option(
                "--lambda-fit", type=float, default=None, help="LR guidance weight (default scale²)"
            ),
            click.option(
                "--rate-weight",
                type=float,
                default=0.0,
                show_default=True,
                help="λ on the LR's estimated codec bits per HR pixel (rate-aware)",
            ),
            click.option(
                "--rec-loss",
                type=click.Choice(["l1", "l2", "db"]),
                default="l1",
                show_default=True,
                help="HR reconstruction loss: l1 (the papers), l2 (squared error: what PSNR "
                "measures) or db (each image's −PSNR: every quality's gain in dB counts alike)",
            ),
            click.option(
                "--gain-fit",
                type=float,
                default=0.0,
                show_default=True,
                help="full-size restores: share of the reconstruction loss taken after each "
                "image's least-squares gain (what the archive stores with the file)",
            ),
            click.option(
                "--ssim-weight",
                type=float,
                default=0.0,
                show_default=True,
                help="λ on 1 − MS-SSIM of the restoration (a term that follows what people see)",
            ),
            click.option("--seed", type=int, default=0, show_default=True),
            click.option("--threads", type=int, default=None),
            click.option(
                "--device",
                default="cpu",
                show_default=True,
                help="torch device to train on: cpu, cuda, cuda:1, or auto",
            ),
            click.option(
                "--minutes",
                type=float,
                default=None,
                help="wall-clock budget (all runs of --out); the LR schedule follows it",
            ),
            click.option(
                "--bf16",
                is_flag=True,
                help="bfloat16 autocast for the model's passes (faster on GPUs; losses in float32)",
            ),
            click.option(
                "--train-only",
                default=None,
                help="train only these submodules, comma-separated (e.g. post,post_quality: the "
                "restore filter and its quality condition); the rest frozen",
            ),
            click.option("--val-every", type=int, default=500, show_default=True),
            click.option("--ckpt-every", type=int, default=200, show_default=True),
            click.option(
                "--force",
                is_flag=True,
                help="start over: replace the checkpoint at --out instead of resuming",
            ),
            click.option("--quiet", is_flag=True, help="no progress log"),
        ]
    ):
        f = opt(f)
    return f


def _run_training(model: str, opts: dict, **cfg_fields) -> None:
    """Build the one TrainConfig from the shared options and run it (``--force`` starts
    over)."""
    from ..train import LossWeights, TrainConfig, Trainer

    cfg = TrainConfig(
        model=model,
        data=tuple(opts["data"]),
        val=tuple(opts["val"]),
        steps=opts["steps"],
        out=opts["out"],
        batch=opts["batch"],
        patch=opts["patch"],
        lr=opts["lr"],
        seed=opts["seed"],
        weights=LossWeights(
            fit=opts["lambda_fit"],
            rate=opts["rate_weight"],
            rec_norm=opts["rec_loss"],
            gain_fit=opts["gain_fit"],
            ssim=opts["ssim_weight"],
        ),
        threads=opts["threads"],
        device=opts["device"],
        minutes=opts["minutes"],
        bf16=opts["bf16"],
        val_every=opts["val_every"],
        ckpt_every=opts["ckpt_every"],
        train_only=opts["train_only"],
        **cfg_fields,
    )
    if opts["force"]:
        Path(cfg.out).unlink(missing_ok=True)
    res = Trainer(cfg).fit(progress=not opts["quiet"])
    if res["history"]:
        click.echo(f"done at step {res['step']}: {res['history'][-1]}")


@main.command()
@click.option("--model", default="sain-x2", show_default=True)
@click.option(
    "--rate-quality",
    default="30:90",
    show_default=True,
    help="LO:HI JPEG qualities of the size estimate behind --rate-weight",
)
@click.option("--from", "init", default=None, help="zoo model name or weights file to start from")
@_train_options
def train(model: str, rate_quality: str, init: str | None, **opts) -> None:
    """Train a model with a lossless LR, from scratch or from ``--from`` (resumable)."""
    lo, hi = parse_quality(rate_quality, "range")
    _run_training(model, opts, rate_quality=(lo, hi), init=init)


@main.command()
@click.option(
    "--from", "init", required=True, help="zoo model name or checkpoint/weights file to start from"
)
@click.option("--model", default=None, help="architecture (default: --from if a model name)")
@click.option("--codec", default="jpeg", show_default=True)
@click.option("--quality", default="30:90", show_default=True, help="LO:HI sampled per image")
@click.option("--crf", default=None, help="LO:HI for video codecs (alias of --quality)")
@click.option(
    "--mode",
    type=click.Choice(["real", "sim"]),
    default="real",
    show_default=True,
    help="real codec forward (straight-through) or simulator forward",
)
@click.option(
    "--grad",
    type=click.Choice(["auto", "simulator", "identity"]),
    default="auto",
    show_default=True,
)
@_train_options
def finetune(
    init: str,
    model: str | None,
    codec: str,
    quality: str,
    crf: str | None,
    mode: str,
    grad: str,
    **opts,
) -> None:
    """Fine-tune a model against a codec (resumable)."""
    from ..codecs import get_codec
    from ..models import list_models
    from ..train import CodecConfig

    get_codec(codec)
    arch = model or (init if init in list_models() else None)
    if arch is None:
        raise click.BadParameter("--model is required when --from is a file")
    lo, hi = parse_quality(crf or quality, "range")
    _run_training(
        arch,
        opts,
        init=init,
        codec=CodecConfig(codec, (lo, hi), mode, grad),
        val_quality=(lo + hi) // 2,
        warmup=0,
    )


@main.command("zoo-add")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))
@click.argument("name")
@click.option(
    "--command",
    "commands",
    multiple=True,
    required=True,
    help="an exact command that made the checkpoint (repeatable, in order)",
)
@click.option("--notes", default="", help="what a user should know about these weights")
@click.option("--cpu-hours", type=float, default=None, help="training CPU-hours, all stages")
def zoo_add(
    checkpoint: str, name: str, commands: tuple[str, ...], notes: str, cpu_hours: float | None
) -> None:
    """Ship a trained checkpoint as NAME's weights (zoo file + manifest entry, sha256)."""
    from ..models import get_spec
    from ..zoo import add_to_zoo

    spec = get_spec(name)
    extra = {"cpu_hours": cpu_hours} if cpu_hours is not None else {}
    entry = add_to_zoo(
        checkpoint, name, spec.family, spec.scale, spec.kwargs, list(commands), notes, extra
    )
    click.echo(
        f"{name}: {entry['file']} sha256 {entry['sha256']}, {entry['params']:,} params, "
        f"{entry['training']['steps']} steps"
    )
