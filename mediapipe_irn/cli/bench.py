"""Benchmarks: ``bench quality|jpeg-sim|jpeg-rate|speed|transcode|video``."""

from __future__ import annotations

from pathlib import Path

import click

from .options import EXEC_CHOICES, csv_ints, deprecated, exec_option, main, resolved


@main.group()
def bench() -> None:
    """Benchmarks (print a table, write JSON)."""


def _emit(res: dict, json_path: str, table: str | None = None) -> None:
    """A benchmark's output: its table on standard output, its results as JSON."""
    from ..bench.common import write_json

    if table is not None:
        click.echo(table)
    write_json(json_path, res)
    click.echo(f"wrote {json_path}")


@bench.command("jpeg-sim")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True))
@click.option("--quality", default="10,30,50,75,90", show_default=True)
@click.option("--limit", type=int, default=None, help="at most this many images")
@click.option("--json", "json_path", default="results/jpeg_sim.json", show_default=True)
@click.option(
    "--speed/--no-speed",
    default=True,
    show_default=True,
    help="also time forward/backward (run on an idle machine)",
)
@click.option("--codec", default="jpeg", show_default=True, help="the real JPEG encoder (jpegli …)")
def bench_jpeg_sim(
    data, quality: str, limit: int | None, json_path: str, speed: bool, codec: str
) -> None:
    """Differentiable JPEG against a real JPEG encoder: fidelity and speed."""
    from ..bench import jpegsim

    res = jpegsim.run(list(data), csv_ints(quality), limit, speed, codec)
    _emit(res, json_path, jpegsim.format_table(res))


@bench.command("quality")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True))
@click.option("--scale", type=int, default=2, show_default=True)
@click.option("--codec", default="jpeg", show_default=True)
@click.option("--quality", default="20,30,40,50,60,70,80,90,95", show_default=True)
@click.option(
    "--models",
    default=None,
    help="comma-separated names, or NAME@WEIGHTS for a "
    "weights file or checkpoint (default: bicubic, irn, sain "
    "at --scale)",
)
@click.option(
    "--context",
    default="",
    help="comma-separated codecs also coded at full resolution for context, e.g. webp,avif",
)
@click.option("--limit", type=int, default=None, help="at most this many images")
@click.option(
    "--refine",
    type=int,
    default=0,
    show_default=True,
    help="also measure each learned model with this many HCD steps per stage",
)
@click.option(
    "--hours",
    default="",
    help="MODEL=CPU_HOURS;… : also plot BD-PSNR over bicubic against training CPU-hours",
)
@exec_option
@click.option("--json", "json_path", default="results/quality.json", show_default=True)
@click.option("--plot", "plot_path", default="results/quality_rd.png", show_default=True)
def bench_quality(
    data,
    scale: int,
    codec: str,
    quality: str,
    models: str | None,
    context: str,
    limit: int | None,
    refine: int,
    hours: str,
    execution: str,
    json_path: str,
    plot_path: str,
) -> None:
    """Rate–distortion of down→codec→up against bicubic and full-resolution coding (``--exec
    fp32`` or ``onnx``: float32 throughout, to rank models without bf16 rounding)."""
    from ..bench import quality as q

    names = (
        models.split(",") if models else [f"bicubic-x{scale}", f"irn-x{scale}", f"sain-x{scale}"]
    )
    res = q.run(
        list(data),
        names,
        csv_ints(quality),
        codec,
        limit,
        refine,
        tuple(c for c in context.split(",") if c),
        execution,
    )
    _emit(res, json_path, q.format_table(res))
    if q.plot(res, plot_path):
        click.echo(f"wrote {plot_path}")
    else:
        click.echo("matplotlib not installed: no plot (pip install mediapipe-irn[bench])")
    if hours:
        h = {k: float(v) for k, _, v in (item.rpartition("=") for item in hours.split(";"))}
        out = str(Path(plot_path).with_suffix("")) + "_hours.png"
        if q.plot_vs_hours(res, h, out):
            click.echo(f"wrote {out}")


def _archive_options(fn):
    """--data, --floors, --models and --limit, as `bench archive` and `bench archive-jobs`
    take them."""
    for opt in reversed(
        [
            click.option("--data", multiple=True, required=True, type=click.Path(exists=True)),
            click.option(
                "--floors", default="26,28,30,32,34,36", show_default=True, help="PSNR floors (dB)"
            ),
            click.option(
                "--models",
                default="sain-x2,deblock-x1,deblock-x1-444",
                show_default=True,
                help="model paths (comma-separated; name@weights for a file), as the archive's "
                "--models (archive-jobs: the first is also the fixed archive's --model)",
            ),
            click.option("--limit", type=int, default=None, help="at most this many images"),
        ]
    ):
        fn = opt(fn)
    return fn


@bench.command("archive")
@_archive_options
@click.option(
    "--pack",
    type=click.Choice(["none", "jxl"]),
    default="none",
    show_default=True,
    help="jxl: add what archive --pack jxl stores (the choice packed) and its seconds",
)
@click.option(
    "--metric",
    type=click.Choice(["psnr", "ssim", "ssimulacra2"]),
    default="psnr",
    show_default=True,
    help="what --floors are in",
)
@click.option("--json", "json_path", default="results/archive.json", show_default=True)
@click.option("--plot", "plot_path", default="results/archive.png", show_default=True)
def bench_archive(
    data,
    floors: str,
    models: str,
    limit: int | None,
    pack: str,
    metric: str,
    json_path: str,
    plot_path: str,
) -> None:
    """Total bytes per PSNR floor: plain JPEG/jpegli with per-image search, model paths, and the
    archive's per-file choice; time against a fixed-quality --verify archive."""
    from ..bench import archive as a

    res = a.run(
        list(data),
        [float(f) for f in floors.split(",")],
        models.split(","),
        limit,
        None if pack == "none" else pack,
        metric,
    )
    _emit(res, json_path, a.format_table(res))
    if a.plot(res, plot_path):
        click.echo(f"wrote {plot_path}")


@bench.command("archive-jobs")
@_archive_options
@click.option("--quality", type=int, default=75, show_default=True, help="the fixed archive's")
@click.option("--json", "json_path", default="results/archive_jobs.json", show_default=True)
def bench_archive_jobs(
    data, floors: str, models: str, quality: int, limit: int | None, json_path: str
) -> None:
    """Wall-clock seconds of the archive job with a PSNR floor against a fixed-quality
    --verify archive of the same folder (one worker, one thread, everything counted)."""
    from ..bench import archive_jobs as aj

    res = aj.run(
        list(data), [float(f) for f in floors.split(",")], models.split(","), quality, limit
    )
    _emit(res, json_path, aj.format_table(res))


@bench.command("pack")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True))
@click.option("--limit", type=int, default=None, help="at most this many images")
@click.option("--json", "json_path", default="results/pack.json", show_default=True)
def bench_pack(data, limit: int | None, json_path: str) -> None:
    """Camera-like JPEGs made from the photos, archived with --lossless --pack jxl and restored:
    stored share of the sources, byte-exact files, pack/unpack seconds per megapixel."""
    from ..bench import pack

    res = pack.run(list(data), limit)
    _emit(res, json_path, pack.format_table(res))


@bench.command("ssimulacra2")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True))
@click.option("--qualities", default="20,35,50,65,80,95", show_default=True)
@click.option("--limit", type=int, default=None, help="at most this many images")
@click.option("--json", "json_path", default="results/ssimulacra2.json", show_default=True)
def bench_ssimulacra2(data, qualities: str, limit: int | None, json_path: str) -> None:
    """The package's SSIMULACRA2 against the reference on JPEGs of the photos: the difference
    in points and the seconds per megapixel of each (one thread)."""
    from ..bench import ssimulacra2 as s2

    res = s2.run(list(data), [int(q) for q in qualities.split(",")], limit)
    _emit(res, json_path, s2.format_table(res))


@bench.command("search-curve")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True))
@click.option("--model", default="sain-x2", show_default=True, help="a ×2 model (name@weights)")
@click.option("--limit", type=int, default=None, help="at most this many images")
@click.option("--json", "json_path", default="results/search_curve.json", show_default=True)
def bench_search_curve(data, model: str, limit: int | None, json_path: str) -> None:
    """The archive search's curve of a ×2 restore: restored MSE against the LR's codec error
    to a power, its two-point prediction error and fitted slope per power."""
    from ..bench import search_curve as sc

    res = sc.run(list(data), model, limit=limit)
    _emit(res, json_path, sc.format_table(res))


def _sizes(text: str) -> list[tuple[int, int]]:
    """``"1280x720,1920x1080"`` → [(1280, 720), (1920, 1080)] (width, height)."""
    out = []
    for s in text.split(","):
        try:
            w, h = (int(v) for v in s.lower().split("x"))
        except ValueError:
            raise click.BadParameter(f"{s!r} is not WIDTHxHEIGHT") from None
        if w <= 0 or h <= 0:
            raise click.BadParameter(f"{s!r}: sides must be positive")
        out.append((w, h))
    return out


@bench.command("search-anchor")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True))
@click.option("--model", default="sain-x2", show_default=True, help="a ×2 model (name@weights)")
@click.option("--limit", type=int, default=None, help="at most this many images")
@click.option("--crop", default="480x320", show_default=True, help="centre crop WxH per image")
@click.option("--json", "json_path", default="results/search_anchor.json", show_default=True)
def bench_search_anchor(data, model: str, limit: int | None, crop: str, json_path: str) -> None:
    """Where the archive search's first ×2 restoration goes (``X2_ANCHOR``): per JPEG
    quality, the median restored MSE per unit of the bicubic proxy's."""
    from ..bench import search_curve as sc

    (size,) = _sizes(crop)
    res = sc.anchor_table(list(data), model, limit, size)
    click.echo(
        f"{res['model']}, {res['images']} images ({crop} centre crops): restored MSE / "
        "bicubic proxy MSE, median (quartiles)"
    )
    for q, m, lo, hi in zip(res["qualities"], res["median"], res["p25"], res["p75"]):
        click.echo(f"  quality {q:3d}: {m:.3f} ({lo:.3f}-{hi:.3f})")
    click.echo(f"X2_ANCHOR = {tuple(tuple(r) for r in res['x2_anchor'])}")
    _emit(res, json_path)


@bench.command("speed")
@click.option("--models", default="sain-x2-lite,sain-x2,irn-x2,sain-x2-paper", show_default=True)
@click.option("--size", "sizes", default="1280x720,1920x1080,3840x2160", show_default=True)
@click.option(
    "--exec",
    "precisions",
    default="fp32,channels_last",
    show_default=True,
    help="also compile, bf16, bf16_channels_last (bf16 is 24x slower than fp32 on "
    "CPUs without native bfloat16; README 'Speed on the CPU')",
)
@click.option("--repeat", type=int, default=3, show_default=True)
@click.option("--threads", type=int, default=None)
@click.option(
    "--tile", type=int, default=None, help="HR pixels per tile side (default: each option's own)"
)
@click.option(
    "--frame-workers",
    "workers",
    type=int,
    default=0,
    show_default=True,
    help="N frames at once on N one-thread workers, as the video jobs run (times per frame)",
)
@click.option("--json", "json_path", default="results/speed.json", show_default=True)
@deprecated("--precision", "--exec", "precisions")
@click.pass_context
def bench_speed(
    ctx: click.Context,
    models: str,
    sizes: str,
    precisions: str,
    repeat: int,
    threads: int | None,
    tile: int | None,
    workers: int,
    json_path: str,
) -> None:
    """Inference time, memory and achieved GFLOP/s per execution option."""
    from ..bench import speed

    sz = _sizes(sizes)
    precisions = resolved(ctx, "precisions", precisions)
    res = speed.run(models.split(","), sz, precisions.split(","), repeat, threads, tile, workers)
    _emit(res, json_path, speed.format_table(res))


@bench.command("transcode")
@click.option(
    "--clip",
    default="samples/bbb_3s.mp4",
    show_default=True,
    type=click.Path(exists=True, dir_okay=False),
)
@click.option("--models", default="bicubic-x2,sain-x2-lite,sain-x2", show_default=True)
@click.option("--crf", type=int, default=23, show_default=True)
@click.option("--preset", default="medium", show_default=True, help="x264 preset of encode")
@click.option(
    "--decode-preset",
    default="medium",
    show_default=True,
    help="x264 preset of decode's restored video",
)
@click.option(
    "--exec",
    "precision",
    type=click.Choice(EXEC_CHOICES),
    default="auto",
    show_default=True,
    help="how encode/decode run the model",
)
@click.option("--json", "json_path", default="results/transcode.json", show_default=True)
@deprecated("--precision", "--exec", "precision", type=click.Choice(EXEC_CHOICES))
@click.pass_context
def bench_transcode(
    ctx: click.Context,
    clip: str,
    models: str,
    crf: int,
    preset: str,
    decode_preset: str,
    precision: str,
    json_path: str,
) -> None:
    """End-to-end encode + decode of a clip through the CLI: frames/s, bitrate, PSNR."""
    from ..bench import transcode

    precision = resolved(ctx, "precision", precision)
    res = transcode.run(clip, models.split(","), crf, preset, decode_preset, precision)
    _emit(res, json_path, transcode.format_table(res))


@bench.command("video")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True))
@click.option("--models", default="bicubic-x2,sain-x2", show_default=True)
@click.option("--crf", "crfs", default="18,23,28,33", show_default=True)
@click.option("--preset", default="medium", show_default=True)
@click.option("--max-frames", type=int, default=None)
@click.option("--json", "json_path", default="results/video.json", show_default=True)
@click.option("--plot", "plot_path", default="results/video_rd.png", show_default=True)
def bench_video(
    data,
    models: str,
    crfs: str,
    preset: str,
    max_frames: int | None,
    json_path: str,
    plot_path: str,
) -> None:
    """Video bitrate vs PSNR against bicubic and full-resolution x264 (BD-rate), fps."""
    from ..bench import video

    res = video.run(list(data), models.split(","), csv_ints(crfs), preset, max_frames)
    _emit(res, json_path, video.format_table(res))
    if video.plot(res, plot_path):
        click.echo(f"wrote {plot_path}")


@bench.command("jpeg-rate")
@click.option(
    "--data",
    multiple=True,
    default=("../shared/data/train",),
    show_default=True,
    type=click.Path(exists=True),
    help="images the fit uses (with --fit)",
)
@click.option(
    "--val",
    multiple=True,
    required=True,
    type=click.Path(exists=True),
    help="folders reported separately (the LR of each whole image)",
)
@click.option(
    "--quality", default="20,25,30,35,40,45,50,55,60,65,70,75,80,85,90,95", show_default=True
)
@click.option("--fit", is_flag=True, help="refit the weights on --data first (NNLS)")
@click.option(
    "--crops",
    type=int,
    default=4,
    show_default=True,
    help="random crops (32–512 px) per training image for the fit",
)
@click.option("--limit", type=int, default=None, help="at most this many images per folder")
@click.option("--json", "json_path", default="results/jpeg_rate.json", show_default=True)
def bench_jpeg_rate(
    data, val, quality: str, fit: bool, crops: int, limit: int | None, json_path: str
) -> None:
    """The JPEG size estimate against libjpeg-turbo's real sizes (correlation, error)."""
    from ..bench import jpegrate

    res = jpegrate.run(list(data), list(val), csv_ints(quality), fit, crops, limit)
    _emit(res, json_path, jpegrate.format_table(res))


@bench.command("onnx")
@click.option("--models", default="sain-x2-lite,sain-x2", show_default=True)
@click.option("--size", "sizes", default="1280x720,1920x1080", show_default=True)
@click.option("--repeat", type=int, default=3, show_default=True)
@click.option("--threads", type=int, default=2, show_default=True)
@click.option("--json", "json_path", default="results/onnxruntime.json", show_default=True)
def bench_onnx(models: str, sizes: str, repeat: int, threads: int, json_path: str) -> None:
    """Probe ONNX Runtime (and OpenVINO when installed) against eager PyTorch (needs
    `pip install mediapipe-irn[onnx]`)."""
    from ..bench import onnx

    sz = _sizes(sizes)
    res = onnx.run(models.split(","), sz, repeat, threads)
    _emit(res, json_path, onnx.format_table(res))
