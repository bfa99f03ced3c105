"""Video commands: ``encode``, ``decode``, ``stream`` (ffmpeg pipes) and ``meta``."""

from __future__ import annotations

from pathlib import Path

import click

from .options import (
    deprecated,
    exec_option,
    force_option,
    frame_threads_option,
    main,
    partial_option,
    quiet_option,
    resolved,
)


@main.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option("--model", default="sain-x2-lite", show_default=True)
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--crf", type=int, default=23, show_default=True)
@click.option("--preset", default="medium", show_default=True)
@exec_option
@frame_threads_option
@partial_option
@force_option
@quiet_option
@click.pass_context
def encode(
    ctx: click.Context,
    src: str,
    dest: str,
    model: str,
    weights: str | None,
    crf: int,
    preset: str,
    execution: str,
    frame_threads: int,
    allow_partial: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Downscale a video into H.264 at the LR size (audio copied, metadata in tags)."""
    from ..jobs.transcode import VideoEncodeConfig, encode_video, print_progress

    _check_dest(src, dest, force)
    cfg = VideoEncodeConfig(
        model,
        crf,
        preset,
        weights=weights,
        precision=resolved(ctx, "execution", execution),
        workers=resolved(ctx, "frame_threads", frame_threads),
        allow_partial=allow_partial,
    )
    s = encode_video(src, dest, cfg, progress=None if quiet else print_progress)
    click.echo(
        f"{src} → {dest}: {s.frames} frames {s.width}×{s.height} → "
        f"{s.out_width}×{s.out_height}, {s.fps:.2f} fps"
    )


@main.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.argument("dest")
@click.option("--crf", type=int, default=18, show_default=True)
@click.option("--lossless", is_flag=True, help="x264 lossless (crf 0, 4:4:4)")
@click.option("--preset", default="medium", show_default=True)
@click.option("--model", default=None, help="for videos without restore metadata")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@exec_option
@frame_threads_option
@partial_option
@force_option
@quiet_option
@click.pass_context
def decode(
    ctx: click.Context,
    src: str,
    dest: str,
    crf: int,
    lossless: bool,
    preset: str,
    model: str | None,
    weights: str | None,
    execution: str,
    frame_threads: int,
    allow_partial: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Restore a video made by `encode` (DEST `-`: YUV4MPEG2 on stdout)."""
    from ..jobs.transcode import VideoDecodeConfig, decode_video, print_progress

    if dest != "-":
        _check_dest(src, dest, force)
    cfg = VideoDecodeConfig(
        crf,
        lossless,
        preset,
        model=model,
        weights=weights,
        precision=resolved(ctx, "execution", execution),
        workers=resolved(ctx, "frame_threads", frame_threads),
        allow_partial=allow_partial,
    )
    s = decode_video(src, dest, cfg, progress=None if quiet else print_progress)
    click.echo(
        f"{src} → {dest}: {s.frames} frames → {s.out_width}×{s.out_height}, {s.fps:.2f} fps",
        err=dest == "-",
    )


@main.command()
@click.argument("direction", type=click.Choice(["down", "up"]))
@click.option("--model", default=None, help="down: model (default sain-x2-lite); up: override")
@click.option(
    "--meta-from",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="up: read restore metadata from this video's container tags",
)
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option(
    "--chunk",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="frames read (and output flushed) per chunk",
)
@deprecated("--batch", "--chunk", "chunk", type=click.IntRange(min=1))
@frame_threads_option
@click.pass_context
def stream(
    ctx: click.Context,
    direction: str,
    model: str | None,
    meta_from: str | None,
    weights: str | None,
    chunk: int,
    frame_threads: int,
) -> None:
    """YUV4MPEG2 on stdin → model → YUV4MPEG2 on stdout (for ffmpeg pipes)."""
    from ..jobs.stream import stream_down, stream_up
    from ..pipeline.video import stdout_binary

    batch = resolved(ctx, "chunk", chunk)
    workers = resolved(ctx, "frame_threads", frame_threads)
    inp = click.get_binary_stream("stdin")
    out = stdout_binary()
    if direction == "down":
        n = stream_down(inp, out, model or "sain-x2-lite", weights, batch, workers)
    else:
        meta = None
        if meta_from:
            from ..jobs.transcode import read_video_metadata

            meta = read_video_metadata(meta_from, model)
        n = stream_up(inp, out, meta, model, weights, batch, workers)
    click.echo(f"{n} frames", err=True)


@main.command("meta")
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("--model", default="sain-x2-lite", show_default=True)
def meta_cmd(src: str, model: str) -> None:
    """Print the restore-metadata tag `stream down` gives SRC (for ffmpeg -metadata)."""
    from ..pipeline.serving import restore_metadata_for
    from ..pipeline.video import open_input, video_info

    with open_input(src) as c:
        info = video_info(c)
    click.echo(restore_metadata_for(info.width, info.height, model).to_json())


def _check_dest(src: str, dest: str, force: bool) -> None:
    from ..errors import OutputError
    from ..pipeline.output import same_file
    from ..pipeline.video import check_video_dest

    check_video_dest(dest)
    if same_file(src, dest):
        raise OutputError("DEST is SRC; refusing to overwrite the input")
    if Path(dest).exists() and not force:
        raise OutputError(f"{dest} exists (use --force to overwrite)")
