"""``mediapipe-irn``: a thin click group over the library."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from .errors import MediapipeIRNError


def _range(text: str) -> tuple[int, int]:
    parts = text.split(":")
    try:
        lo, hi = (int(parts[0]), int(parts[-1]))
    except ValueError:
        raise click.BadParameter(f"expected N or LO:HI, got {text!r}") from None
    if lo > hi:
        raise click.BadParameter(f"empty range {text!r}")
    return lo, hi


class _Group(click.Group):
    """Turns the package's own errors into one clean line and exit status 2."""

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


@click.group(cls=_Group)
@click.version_option(package_name="mediapipe-irn")
def main() -> None:
    """Compression-aware image/video rescaling with invertible networks."""


_precision_option = click.option(
    "--precision", type=click.Choice(["auto", "fp32", "channels_last", "bf16",
                                      "bf16_channels_last", "compile"]),
    default="auto", show_default=True,
    help="execution option (auto = fp32; compile = fp32 through torch.compile, for video: "
    "compiles once per frame/tile size; README 'Speed on the CPU')")
_frame_workers_option = click.option(
    "--workers", type=click.IntRange(min=0), default=0, show_default=True,
    help="frames through the model at once, one thread each (0: one per core)")


_partial_option = click.option(
    "--allow-partial", is_flag=True,
    help="keep the output of a truncated or corrupt input (default: fail, write nothing)")


@main.command("models")
def models_cmd() -> None:
    """List registered models."""
    from .models import create_model, get_spec, list_models
    from .zoo import find_weights

    click.echo(f"{'name':<16}{'scale':>6}{'params':>12}  weights  description")
    for name in list_models():
        spec = get_spec(name)
        n = sum(p.numel() for p in create_model(name, pretrained=False).parameters())
        shipped = "yes" if find_weights(name) else "no"
        click.echo(f"{name:<16}{spec.scale:>6}{n:>12,}  {shipped:<8} {spec.description}")


def _load(model: str, weights: str | None):
    from .models import create_model

    return create_model(model, weights=weights)


@main.command()
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option("--model", default="sain-x2", show_default=True)
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None,
              help="weights file instead of the shipped ones")
@click.option("--codec", default="png", show_default=True, help="codec of the stored LR")
@click.option("--quality", type=int, default=None, help="codec quality (default: codec's)")
@click.option("--refine", type=int, default=0, show_default=True,
              help="HCD refinement steps per stage, against --codec/--quality")
@click.option("--force", is_flag=True, help="overwrite DEST")
def down(src: str, dest: str, model: str, weights: str | None, codec: str,
         quality: int | None, refine: int, force: bool) -> None:
    """Downscale one image into a self-describing LR file."""
    from .api import downscale_file

    info = downscale_file(src, dest, model=model, weights=weights, codec=codec,
                          quality=quality, overwrite=force, refine=refine)
    click.echo(f"{src} → {dest}: {info['lr_width']}×{info['lr_height']}, "
               f"{info['bytes']} bytes ({info['bpp']:.3f} bits per HR pixel)")


@main.command()
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option("--model", default=None, help="upscale with this model (needed for files "
              "without restore metadata)")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--reference", type=click.Path(exists=True, dir_okay=False), default=None,
              help="original image: print PSNR/SSIM of the restored one against it")
@click.option("--force", is_flag=True, help="overwrite DEST")
def up(src: str, dest: str, model: str | None, weights: str | None, reference: str | None,
       force: bool) -> None:
    """Restore an LR file written by `down` (PNG out)."""
    from .api import upscale_file

    info = upscale_file(src, dest, model=model, weights=weights, reference=reference,
                        overwrite=force)
    msg = f"{src} → {dest}: {info['width']}×{info['height']} with {info['model']}"
    if "psnr" in info:
        msg += f"; PSNR {info['psnr']:.2f} dB, SSIM {info['ssim']:.4f} against {reference}"
    click.echo(msg)


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return str(n)


@main.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--model", default="sain-x2", show_default=True)
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--codec", default="jpeg", show_default=True)
@click.option("--quality", type=int, default=75, show_default=True)
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="worker processes, each with cores/workers torch threads (0: one per "
              "core, at most 8)")
@click.option("--threads", type=int, default=None,
              help="torch threads per worker (default: cores / workers)")
@click.option("--verify", is_flag=True, help="restore each file and record PSNR/SSIM")
@click.option("--max-pixels", type=int, default=None, help="refuse larger images")
@click.option("--refine", type=int, default=0, show_default=True,
              help="HCD refinement steps per stage")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local",
              show_default=True)
@click.option("--scheduler", default=None, help="dask scheduler address (default: start a "
              "local cluster of --workers processes)")
@_precision_option
@click.option("--quiet", is_flag=True, help="no progress bar")
def archive(src: str, dest: str, model: str, weights: str | None, codec: str, quality: int,
            workers: int, threads: int | None, verify: bool, max_pixels: int | None,
            refine: int, engine: str,
            scheduler: str | None, precision: str, quiet: bool) -> None:
    """Archive a folder of images as self-describing LR files (resumable)."""
    from .jobs import ArchiveConfig
    from .jobs import archive as run_archive
    from .pipeline import DEFAULT_MAX_PIXELS

    cfg = ArchiveConfig(model=model, codec=codec, quality=quality, workers=workers,
                        threads_per_worker=threads, verify=verify, weights=weights,
                        refine=refine, engine=engine,
                        scheduler=scheduler, precision=precision,
                        max_pixels=max_pixels or DEFAULT_MAX_PIXELS)
    s = run_archive(src, dest, cfg, progress=not quiet)
    if s.interrupted:
        click.echo(f"interrupted: {s.done} files archived in this run, {s.skipped_done} "
                   f"already done, {s.failed} failed; the rest were not started (rerun to "
                   "continue)", err=True)
        sys.exit(s.exit_code)
    click.echo(f"{s.files} files: {s.done} archived, {s.skipped_done} already done, "
               f"{s.failed} failed, {s.unsupported} skipped (not images, links); "
               f"{_human(s.bytes_in)} → {_human(s.bytes_out)} "
               f"(ratio {s.ratio:.2f}) in {s.seconds:.1f} s")
    for rel, why in s.failures:
        click.echo(f"failed: {rel}: {why}", err=True)
    sys.exit(s.exit_code)


@main.command()
@click.argument("archive_dir", metavar="ARCHIVE", type=click.Path(exists=True, file_okay=False))
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["auto", "png", "jpeg"]), default="auto",
              show_default=True, help="auto: each file's original format")
@click.option("--jpeg-quality", "--quality", "quality", type=click.IntRange(1, 100),
              default=95, show_default=True, help="quality of JPEG output files")
@click.option("--only", "pattern", default=None, help="glob over relative paths")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--force", is_flag=True, help="replace files that already exist in OUT")
@click.option("--quiet", is_flag=True)
def restore(archive_dir: str, out: str, fmt: str, quality: int, pattern: str | None,
            weights: str | None, force: bool, quiet: bool) -> None:
    """Restore ARCHIVE to full size in OUT (a folder apart from the archive and its sources;
    existing files are kept unless --force)."""
    from .jobs import RestoreConfig
    from .jobs import restore as run_restore

    s = run_restore(archive_dir, out, RestoreConfig(fmt, quality, pattern, weights, force),
                    progress=not quiet)
    click.echo(f"{s.files} files: {s.done} restored, {s.failed} failed; "
               f"{_human(s.bytes_in)} → {_human(s.bytes_out)} in {s.seconds:.1f} s")
    for note in s.warnings:
        click.echo(f"warning: {note}", err=True)
    for rel, why in s.failures:
        click.echo(f"failed: {rel}: {why}", err=True)
    sys.exit(s.exit_code)


@main.command()
@click.argument("archive_dir", metavar="ARCHIVE", type=click.Path(exists=True, file_okay=False))
@click.option("--deep", is_flag=True, help="also decode and restore every file (in memory)")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
def verify(archive_dir: str, deep: bool, weights: str | None) -> None:
    """Check an archive without restoring it: every row's stored files are present, inside the
    archive and match their recorded sha256 (exit 0 only if all do)."""
    from .jobs import verify as run_verify

    s = run_verify(archive_dir, deep=deep, weights=weights)
    for rel, why in s.problems:
        click.echo(f"bad: {rel}: {why}", err=True)
    for rel in s.orphans:
        click.echo(f"warning: {rel}: in the archive but named by no manifest row", err=True)
    click.echo(f"{s.rows} rows: {s.ok} ok, {len(s.problems)} bad"
               + (f", {len(s.orphans)} unlisted files" if s.orphans else "")
               + (" (decoded)" if deep else ""))
    sys.exit(s.exit_code)


@main.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option("--model", default="sain-x2-lite", show_default=True)
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--crf", type=int, default=23, show_default=True)
@click.option("--preset", default="medium", show_default=True)
@_precision_option
@_frame_workers_option
@_partial_option
@click.option("--force", is_flag=True, help="overwrite DEST")
def encode(src: str, dest: str, model: str, weights: str | None, crf: int, preset: str,
           precision: str, workers: int, allow_partial: bool, force: bool) -> None:
    """Downscale a video into H.264 at the LR size (audio copied, metadata in tags)."""
    from .jobs.transcode import VideoEncodeConfig, encode_video, print_progress

    _check_dest(src, dest, force)
    s = encode_video(src, dest, VideoEncodeConfig(model, crf, preset, weights=weights,
                                                  precision=precision, workers=workers,
                                                  allow_partial=allow_partial),
                     progress=print_progress)
    click.echo(f"{src} → {dest}: {s.frames} frames {s.width}×{s.height} → "
               f"{s.out_width}×{s.out_height}, {s.fps:.2f} fps")


@main.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.argument("dest")
@click.option("--crf", type=int, default=18, show_default=True)
@click.option("--lossless", is_flag=True, help="x264 lossless (crf 0, 4:4:4)")
@click.option("--preset", default="medium", show_default=True)
@click.option("--model", default=None, help="for videos without restore metadata")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@_precision_option
@_frame_workers_option
@_partial_option
@click.option("--force", is_flag=True, help="overwrite DEST")
def decode(src: str, dest: str, crf: int, lossless: bool, preset: str, model: str | None,
           weights: str | None, precision: str, workers: int, allow_partial: bool,
           force: bool) -> None:
    """Restore a video made by `encode` (DEST `-`: YUV4MPEG2 on stdout)."""
    from .jobs.transcode import VideoDecodeConfig, decode_video, print_progress

    if dest != "-":
        _check_dest(src, dest, force)
    cfg = VideoDecodeConfig(crf, lossless, preset, model=model, weights=weights,
                            precision=precision, workers=workers, allow_partial=allow_partial)
    s = decode_video(src, dest, cfg, progress=print_progress)
    click.echo(f"{src} → {dest}: {s.frames} frames → {s.out_width}×{s.out_height}, "
               f"{s.fps:.2f} fps", err=dest == "-")


@main.command()
@click.argument("direction", type=click.Choice(["down", "up"]))
@click.option("--model", default=None, help="down: model (default sain-x2-lite); up: override")
@click.option("--meta-from", type=click.Path(exists=True, dir_okay=False), default=None,
              help="up: read restore metadata from this video's container tags")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--batch", type=click.IntRange(min=1), default=4, show_default=True,
              help="frames read per chunk")
@_frame_workers_option
def stream(direction: str, model: str | None, meta_from: str | None, weights: str | None,
           batch: int, workers: int) -> None:
    """YUV4MPEG2 on stdin → model → YUV4MPEG2 on stdout (for ffmpeg pipes)."""
    from .jobs.stream import stream_down, stream_up
    from .pipeline.video import stdout_binary

    inp = click.get_binary_stream("stdin")
    out = stdout_binary()
    if direction == "down":
        n = stream_down(inp, out, model or "sain-x2-lite", weights, batch, workers)
    else:
        meta = None
        if meta_from:
            from .jobs.transcode import read_video_metadata

            meta = read_video_metadata(meta_from, model)
        n = stream_up(inp, out, meta, model, weights, batch, workers)
    click.echo(f"{n} frames", err=True)


@main.command("meta")
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("--model", default="sain-x2-lite", show_default=True)
def meta_cmd(src: str, model: str) -> None:
    """Print the restore-metadata tag `stream down` gives SRC (for ffmpeg -metadata)."""
    from .jobs.stream import restore_metadata_for
    from .pipeline.video import open_input, video_info

    with open_input(src) as c:
        info = video_info(c)
    click.echo(restore_metadata_for(info.width, info.height, model).to_json())


def _check_dest(src: str, dest: str, force: bool) -> None:
    from .errors import OutputError
    from .pipeline.output import same_file
    from .pipeline.video import check_video_dest

    check_video_dest(dest)
    if same_file(src, dest):
        raise OutputError("DEST is SRC; refusing to overwrite the input")
    if Path(dest).exists() and not force:
        raise OutputError(f"{dest} exists (use --force to overwrite)")


def _train_options(f):
    for opt in reversed([
        click.option("--data", multiple=True, required=True, type=click.Path(exists=True),
                     help="folder of training images/videos (repeatable)"),
        click.option("--val", multiple=True, type=click.Path(exists=True),
                     help="validation folder (repeatable)"),
        click.option("--steps", type=int, default=10000, show_default=True),
        click.option("--out", required=True, type=click.Path(dir_okay=False),
                     help="checkpoint; rerunning with the same --out resumes"),
        click.option("--batch", type=int, default=8, show_default=True),
        click.option("--patch", type=int, default=64, show_default=True),
        click.option("--lr", type=float, default=2e-4, show_default=True),
        click.option("--lambda-fit", type=float, default=None,
                     help="LR guidance weight (default scale²)"),
        click.option("--rate-weight", type=float, default=0.0, show_default=True,
                     help="λ on the LR's estimated codec bits per HR pixel (rate-aware)"),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--threads", type=int, default=None),
        click.option("--val-every", type=int, default=500, show_default=True),
        click.option("--ckpt-every", type=int, default=200, show_default=True),
    ]):
        f = opt(f)
    return f


def _run_training(cfg) -> None:
    from .train import Trainer

    res = Trainer(cfg).fit()
    if res["history"]:
        click.echo(f"done at step {res['step']}: {res['history'][-1]}")


@main.command()
@click.option("--model", default="sain-x2", show_default=True)
@_train_options
def train(model: str, data, val, steps, out, batch, patch, lr, lambda_fit, rate_weight, seed,
          threads, val_every, ckpt_every) -> None:
    """Train a model from scratch with a lossless LR (resumable)."""
    from .train import LossWeights, TrainConfig

    _run_training(TrainConfig(model=model, data=tuple(data), val=tuple(val), steps=steps,
                              out=out, batch=batch, patch=patch, lr=lr, seed=seed,
                              weights=LossWeights(fit=lambda_fit, rate=rate_weight), threads=threads,
                              val_every=val_every, ckpt_every=ckpt_every))


@main.command()
@click.option("--from", "init", required=True,
              help="zoo model name or checkpoint/weights file to start from")
@click.option("--model", default=None, help="architecture (default: --from if a model name)")
@click.option("--codec", default="jpeg", show_default=True)
@click.option("--quality", default="30:90", show_default=True, help="LO:HI sampled per image")
@click.option("--crf", default=None, help="LO:HI for video codecs (alias of --quality)")
@click.option("--mode", type=click.Choice(["real", "sim"]), default="real", show_default=True,
              help="real codec forward (straight-through) or simulator forward")
@click.option("--grad", type=click.Choice(["auto", "simulator", "identity"]), default="auto",
              show_default=True)
@_train_options
def finetune(init: str, model: str | None, codec: str, quality: str, crf: str | None, mode,
             grad, data, val, steps, out, batch, patch, lr, lambda_fit, rate_weight, seed,
             threads, val_every, ckpt_every) -> None:
    """Fine-tune a model against a codec (resumable)."""
    from .codecs import get_codec
    from .models import list_models
    from .train import CodecConfig, LossWeights, TrainConfig

    get_codec(codec)
    arch = model or (init if init in list_models() else None)
    if arch is None:
        raise click.BadParameter("--model is required when --from is a file")
    q = _range(crf or quality)
    _run_training(TrainConfig(model=arch, init=init, data=tuple(data), val=tuple(val),
                              steps=steps, out=out, batch=batch, patch=patch, lr=lr,
                              seed=seed, codec=CodecConfig(codec, q, mode, grad),
                              weights=LossWeights(fit=lambda_fit, rate=rate_weight), threads=threads,
                              val_quality=(q[0] + q[1]) // 2, val_every=val_every,
                              ckpt_every=ckpt_every, warmup=0))


@main.group()
def bench() -> None:
    """Benchmarks (print a table, write JSON)."""


def _csv_ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


@bench.command("jpeg-sim")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True))
@click.option("--quality", default="10,30,50,75,90", show_default=True)
@click.option("--limit", type=int, default=None, help="at most this many images")
@click.option("--json", "json_path", default="results/jpeg_sim.json", show_default=True)
@click.option("--speed/--no-speed", default=True, show_default=True,
              help="also time forward/backward (run on an idle machine)")
def bench_jpeg_sim(data, quality: str, limit: int | None, json_path: str, speed: bool) -> None:
    """Differentiable JPEG against libjpeg-turbo: fidelity and speed."""
    from .bench import jpegsim
    from .bench.common import write_json

    res = jpegsim.run(list(data), _csv_ints(quality), limit, speed)
    click.echo(jpegsim.format_table(res))
    write_json(json_path, res)
    click.echo(f"wrote {json_path}")


@bench.command("quality")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True))
@click.option("--scale", type=int, default=2, show_default=True)
@click.option("--codec", default="jpeg", show_default=True)
@click.option("--quality", default="20,30,40,50,60,70,80,90,95", show_default=True)
@click.option("--models", default=None, help="comma-separated (default: bicubic, irn, sain "
              "at --scale)")
@click.option("--context", default="", help="comma-separated codecs also coded at full "
              "resolution for context, e.g. webp,avif")
@click.option("--limit", type=int, default=None, help="at most this many images")
@click.option("--refine", type=int, default=0, show_default=True,
              help="also measure each learned model with this many HCD steps per stage")
@click.option("--json", "json_path", default="results/quality.json", show_default=True)
@click.option("--plot", "plot_path", default="results/quality_rd.png", show_default=True)
def bench_quality(data, scale: int, codec: str, quality: str, models: str | None,
                  context: str, limit: int | None, refine: int, json_path: str,
                  plot_path: str) -> None:
    """Rate–distortion of down→codec→up against bicubic and full-resolution coding."""
    from .bench import quality as q
    from .bench.common import write_json

    names = models.split(",") if models else [f"bicubic-x{scale}", f"irn-x{scale}",
                                              f"sain-x{scale}"]
    res = q.run(list(data), names, _csv_ints(quality), codec, limit, refine,
                tuple(c for c in context.split(",") if c))
    click.echo(q.format_table(res))
    write_json(json_path, res)
    click.echo(f"wrote {json_path}")
    if q.plot(res, plot_path):
        click.echo(f"wrote {plot_path}")
    else:
        click.echo("matplotlib not installed: no plot (pip install mediapipe-irn[bench])")


@bench.command("speed")
@click.option("--models", default="sain-x2-lite,sain-x2,irn-x2,sain-x2-paper",
              show_default=True)
@click.option("--size", "sizes", default="1280x720,1920x1080,3840x2160", show_default=True)
@click.option("--precision", "precisions", default="fp32,channels_last", show_default=True,
              help="also compile, bf16, bf16_channels_last (bf16 is 24x slower than fp32 on "
              "CPUs without native bfloat16; README 'Speed on the CPU')")
@click.option("--repeat", type=int, default=3, show_default=True)
@click.option("--threads", type=int, default=None)
@click.option("--json", "json_path", default="results/speed.json", show_default=True)
def bench_speed(models: str, sizes: str, precisions: str, repeat: int, threads: int | None,
                json_path: str) -> None:
    """Inference time, memory and achieved GFLOP/s per execution option."""
    from .bench import speed
    from .bench.common import write_json

    sz = []
    for s in sizes.split(","):
        w, h = s.lower().split("x")
        sz.append((int(w), int(h)))
    res = speed.run(models.split(","), sz, precisions.split(","), repeat, threads)
    click.echo(speed.format_table(res))
    write_json(json_path, res)
    click.echo(f"wrote {json_path}")


@bench.command("transcode")
@click.option("--clip", default="samples/bbb_3s.mp4", show_default=True,
              type=click.Path(exists=True, dir_okay=False))
@click.option("--models", default="bicubic-x2,sain-x2-lite,sain-x2", show_default=True)
@click.option("--crf", type=int, default=23, show_default=True)
@click.option("--preset", default="medium", show_default=True, help="x264 preset of encode")
@click.option("--decode-preset", default="medium", show_default=True,
              help="x264 preset of decode's restored video")
@click.option("--precision", default="auto", show_default=True)
@click.option("--json", "json_path", default="results/transcode.json", show_default=True)
def bench_transcode(clip: str, models: str, crf: int, preset: str, decode_preset: str,
                    precision: str, json_path: str) -> None:
    """End-to-end encode + decode of a clip through the CLI: frames/s, bitrate, PSNR."""
    from .bench import transcode
    from .bench.common import write_json

    res = transcode.run(clip, models.split(","), crf, preset, decode_preset, precision)
    click.echo(transcode.format_table(res))
    write_json(json_path, res)
    click.echo(f"wrote {json_path}")


@bench.command("video")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True))
@click.option("--models", default="bicubic-x2,sain-x2", show_default=True)
@click.option("--crf", "crfs", default="18,23,28,33", show_default=True)
@click.option("--preset", default="medium", show_default=True)
@click.option("--max-frames", type=int, default=None)
@click.option("--json", "json_path", default="results/video.json", show_default=True)
@click.option("--plot", "plot_path", default="results/video_rd.png", show_default=True)
def bench_video(data, models: str, crfs: str, preset: str, max_frames: int | None,
                json_path: str, plot_path: str) -> None:
    """Video bitrate vs PSNR against bicubic and full-resolution x264 (BD-rate), fps."""
    from .bench import video
    from .bench.common import write_json

    res = video.run(list(data), models.split(","), _csv_ints(crfs), preset, max_frames)
    click.echo(video.format_table(res))
    write_json(json_path, res)
    click.echo(f"wrote {json_path}")
    if video.plot(res, plot_path):
        click.echo(f"wrote {plot_path}")


if __name__ == "__main__":  # pragma: no cover
    main()
