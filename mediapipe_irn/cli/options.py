"""The command group and the options several commands share, each with one meaning:

- ``--workers``: worker *processes* (``archive``); ``--frame-threads``: frames through the
  model at once, one thread each (``encode``, ``decode``, ``stream``);
- ``--batch``: the training batch; ``--chunk``: frames read per chunk (``stream``);
- ``--quality``: the codec quality of what is written, in one syntax per command kind (``N``;
  ``LO:HI`` sampled per image in training; ``A,B,C`` in benchmarks), parsed by
  :func:`parse_quality`; ``--jpeg-quality``: the quality of JPEG files ``restore`` writes;
- ``--exec``: how the model runs (``auto`` or one of ``pipeline.execution.PRECISIONS``);
  ``--force``: replace existing outputs; ``--quiet``: no
  progress output.

Old spellings (``--precision``, ``--workers`` of the video commands, ``--batch`` of
``stream``, ``--quality`` of ``restore``) still work for one release, with a warning.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable

import click

from ..errors import DEBUG_ENV, MediapipeIRNError
from ..pipeline.execution import PRECISIONS

EXEC_CHOICES = ["auto", *PRECISIONS]


class Group(click.Group):
    """Turns the package's own errors into one clean line and exit status 2, an interrupt
    into 128 + the signal, and warnings into ``warning:`` lines."""

    def invoke(self, ctx: click.Context):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            try:
                return self._invoke(ctx)
            finally:
                for w in caught:
                    click.echo(f"warning: {w.message}", err=True)

    def _invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MediapipeIRNError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM turned into JobInterrupted
            click.echo("interrupted", err=True)
            sys.exit(128 + getattr(exc, "signum", 2))


def _debug(_ctx: click.Context, _param, value: bool) -> bool:
    if value:  # workers inherit it: a failed file's row carries its traceback
        import os

        os.environ[DEBUG_ENV] = "1"
    return value


@click.group(cls=Group)
@click.version_option(package_name="mediapipe-irn")
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    callback=_debug,
    help="show where an unexpected error happened (its traceback) with a failed file",
)
def main() -> None:
    """Compression-aware image/video rescaling with invertible networks."""


def deprecated(old: str, new: str, dest: str, **kw) -> Callable:
    """A hidden old spelling of an option: sets ``dest`` and warns."""

    def cb(ctx: click.Context, _param, value):
        if value is not None and value != ():
            warnings.warn(f"{old} is deprecated here; use {new}", DeprecationWarning, stacklevel=1)
            ctx.meta[f"deprecated:{dest}"] = value
        return value

    return click.option(
        old,
        f"_{dest}_old",
        hidden=True,
        default=None,
        callback=cb,
        expose_value=False,
        is_eager=False,
        **kw,
    )


def resolved(ctx: click.Context, dest: str, value):
    """``value``, unless the deprecated spelling of ``dest`` was given."""
    return ctx.meta.get(f"deprecated:{dest}", value)


def exec_option(f):
    f = click.option(
        "--exec",
        "execution",
        type=click.Choice(EXEC_CHOICES),
        default="auto",
        show_default=True,
        help="how the model runs (auto: by the CPU and what is installed — ONNX Runtime or "
        "OpenVINO where they won, bf16 where the CPU has it natively, else fp32; compile = "
        "fp32 through torch.compile, for video; README 'Speed on the CPU')",
    )(f)
    return deprecated("--precision", "--exec", "execution", type=click.Choice(EXEC_CHOICES))(f)


def frame_threads_option(f):
    f = click.option(
        "--frame-threads",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="frames through the model at once, one thread each (0: one per core)",
    )(f)
    return deprecated("--workers", "--frame-threads", "frame_threads", type=click.IntRange(min=0))(
        f
    )


partial_option = click.option(
    "--allow-partial",
    is_flag=True,
    help="keep the output of a truncated or corrupt input (default: fail, write nothing)",
)
force_option = click.option("--force", is_flag=True, help="replace an existing output")
quiet_option = click.option("--quiet", is_flag=True, help="no progress output")


def parse_quality(text: str, form: str = "one") -> list[int]:
    """The one parser of ``--quality``: ``N``, ``LO:HI`` or ``A,B,C``. ``form`` says which the
    command takes: ``one`` (N), ``range`` (N or LO:HI → [LO, HI]), ``list`` (N or A,B,C)."""
    text = str(text).strip()
    try:
        if ":" in text:
            if form != "range":
                raise click.BadParameter(f"a range {text!r} is only for training")
            lo, hi = (int(v) for v in text.split(":"))
            if lo > hi:
                raise click.BadParameter(f"empty range {text!r}")
            return [lo, hi]
        vals = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected N, LO:HI or A,B,C, got {text!r}") from None
    if not vals or (len(vals) > 1 and form != "list"):
        raise click.BadParameter(f"expected one number, got {text!r}")
    return vals * 2 if form == "range" else vals


def csv_ints(text: str) -> list[int]:
    return parse_quality(text, "list")


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return str(n)


__all__ = [
    "EXEC_CHOICES",
    "Group",
    "csv_ints",
    "deprecated",
    "exec_option",
    "force_option",
    "frame_threads_option",
    "human",
    "main",
    "parse_quality",
    "partial_option",
    "quiet_option",
    "resolved",
]
