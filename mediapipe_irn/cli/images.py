"""Image commands: ``down``, ``up``, ``archive``, ``restore``, ``verify``."""

from __future__ import annotations

import sys

import click

from .options import (
    deprecated,
    exec_option,
    force_option,
    human,
    main,
    parse_quality,
    quiet_option,
    resolved,
)

# SSIMULACRA2 floors by name, as the metric's authors describe its scale: 90 very high
# (not told from the original at 1:1 at a normal viewing distance), 70 high, 50 medium, 30 low
QUALITY_LEVELS = {"very-high": 90.0, "high": 70.0, "medium": 50.0, "low": 30.0}


@main.command()
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option("--model", default="sain-x2", show_default=True)
@click.option(
    "--weights",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="weights file instead of the shipped ones",
)
@click.option("--codec", default="png", show_default=True, help="codec of the stored LR")
@click.option("--quality", default=None, help="codec quality N (default: the codec's)")
@click.option(
    "--refine",
    type=int,
    default=0,
    show_default=True,
    help="HCD refinement steps per stage, against --codec/--quality",
)
@force_option
@quiet_option
def down(
    src: str,
    dest: str,
    model: str,
    weights: str | None,
    codec: str,
    quality: str | None,
    refine: int,
    force: bool,
    quiet: bool,
) -> None:
    """Downscale one image into a self-describing LR file (PNG by default: lossless, for a
    pipeline that encodes it later; `archive` defaults to JPEG, the stored format)."""
    from ..api import downscale_file

    q = None if quality is None else parse_quality(quality)[0]
    info = downscale_file(
        src,
        dest,
        model=model,
        weights=weights,
        codec=codec,
        quality=q,
        overwrite=force,
        refine=refine,
    )
    if not quiet:
        click.echo(
            f"{src} → {dest}: {info['lr_width']}×{info['lr_height']}, "
            f"{info['bytes']} bytes ({info['bpp']:.3f} bits per HR pixel)"
        )


@main.command()
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option(
    "--model",
    default=None,
    help="upscale with this model (needed for files without restore metadata)",
)
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option(
    "--reference",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="original image: print PSNR/SSIM of the restored one against it",
)
@force_option
@quiet_option
def up(
    src: str,
    dest: str,
    model: str | None,
    weights: str | None,
    reference: str | None,
    force: bool,
    quiet: bool,
) -> None:
    """Restore an LR file written by `down` (PNG out)."""
    from ..api import upscale_file

    info = upscale_file(
        src, dest, model=model, weights=weights, reference=reference, overwrite=force
    )
    msg = f"{src} → {dest}: {info['width']}×{info['height']} with {info['model']}"
    if "psnr" in info:
        msg += f"; PSNR {info['psnr']:.2f} dB, SSIM {info['ssim']:.4f} against {reference}"
    if not quiet:
        click.echo(msg)


@main.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--model", default="sain-x2", show_default=True)
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--codec", default="jpeg", show_default=True)
@click.option("--quality", default="75", show_default=True, help="codec quality N")
@click.option(
    "--target-psnr",
    type=float,
    default=None,
    help="keep every file at least this PSNR (dB, RGB): per file the smallest of the plain "
    "codec at full size and the model path, quality searched",
)
@click.option("--target-ssim", type=float, default=None, help="the same with an SSIM floor (0–1)")
@click.option(
    "--target-ssimulacra2",
    type=float,
    default=None,
    help="the same with a SSIMULACRA2 floor (0–100, what people see: 90 very high, 70 high, "
    "50 medium, 30 low)",
)
@click.option(
    "--quality-level",
    type=click.Choice(list(QUALITY_LEVELS)),
    default=None,
    help="a SSIMULACRA2 floor by name: "
    + ", ".join(f"{k} {v:g}" for k, v in QUALITY_LEVELS.items()),
)
@click.option(
    "--max-bpp",
    type=float,
    default=None,
    help="per file the best PSNR within this many bits per source pixel",
)
@click.option(
    "--codecs",
    default="jpeg",
    show_default=True,
    help="formats a quality target may choose from (comma-separated: jpeg,webp,avif,jpegli)",
)
@click.option(
    "--models",
    default=None,
    help="model paths a quality target tries beside the plain codec (comma-separated; default: "
    "--model and deblock-x1 / deblock-x1-444, the full-size JPEG restores)",
)
@click.option(
    "--video-model",
    default="sain-x2-lite",
    show_default=True,
    help="the model path for videos (the video default)",
)
@click.option(
    "--crf",
    type=click.IntRange(0, 51),
    default=23,
    show_default=True,
    help="videos without a PSNR floor: x264 CRF",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="worker processes, each with cores/workers torch threads (0: one per core, at most 8)",
)
@click.option(
    "--threads", type=int, default=None, help="torch threads per worker (default: cores / workers)"
)
@click.option("--verify", is_flag=True, help="restore each file and record PSNR/SSIM")
@click.option("--max-pixels", type=int, default=None, help="refuse larger images")
@click.option(
    "--refine", type=int, default=0, show_default=True, help="HCD refinement steps per stage"
)
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option(
    "--scheduler",
    default=None,
    help="dask scheduler address (default: start a local cluster of --workers processes)",
)
@click.option(
    "--pack",
    type=click.Choice(["none", "jxl"]),
    default="none",
    show_default=True,
    help="jxl: pack every stored JPEG losslessly with JPEG XL (restore gives the JPEG back byte "
    "for byte; needs the jxl extra)",
)
@click.option(
    "--lossless",
    is_flag=True,
    help="store every source byte for byte (with --pack jxl, JPEG sources packed)",
)
@click.option(
    "--media-only",
    is_flag=True,
    help="leave out files that are not images or videos (by default they are stored "
    "unchanged: a complete backup)",
)
@exec_option
@click.option("--force", is_flag=True, help="archive again files that are already done")
@quiet_option
@click.pass_context
def archive(
    ctx: click.Context,
    src: str,
    dest: str,
    model: str,
    weights: str | None,
    codec: str,
    quality: str,
    target_psnr: float | None,
    target_ssim: float | None,
    target_ssimulacra2: float | None,
    quality_level: str | None,
    max_bpp: float | None,
    codecs: str,
    models: str | None,
    video_model: str,
    crf: int,
    workers: int,
    threads: int | None,
    verify: bool,
    max_pixels: int | None,
    refine: int,
    engine: str,
    scheduler: str | None,
    pack: str,
    lossless: bool,
    media_only: bool,
    execution: str,
    force: bool,
    quiet: bool,
) -> None:
    """Archive a folder of images and videos as self-describing files (resumable). With a quality
    target (--target-psnr, --target-ssim or --max-bpp) each file gets the smallest stored form
    that keeps the promise."""
    from ..jobs import ArchiveConfig, Target
    from ..jobs import archive as run_archive
    from ..jobs.target import FULL_SIZE_RESTORES
    from ..pipeline import DEFAULT_MAX_PIXELS

    given = [
        o
        for o, v in (
            ("--target-psnr", target_psnr),
            ("--target-ssim", target_ssim),
            ("--target-ssimulacra2", target_ssimulacra2),
            ("--quality-level", quality_level),
            ("--max-bpp", max_bpp),
        )
        if v is not None
    ]
    if quality_level is not None:
        target_ssimulacra2 = QUALITY_LEVELS[quality_level]
    if len(given) > 1:
        raise click.UsageError(f"{' and '.join(given)} exclude each other: give one")
    if lossless and given:
        raise click.UsageError(f"--lossless stores the sources as they are: drop {given[0]}")
    # options the chosen mode would ignore are refused, never dropped
    ignored = {
        "a quality target": ("quality", "codec", "refine", "verify"),
        "--lossless": ("quality", "codec", "refine", "verify", "model", "codecs", "models"),
    }
    mode = "--lossless" if lossless else "a quality target" if given else None
    if mode is not None:
        dropped = [
            "--" + name.replace("_", "-")
            for name in ignored[mode]
            if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
        ]
        if dropped:
            hint = " (a target searches the quality per file)" if mode != "--lossless" else ""
            raise click.UsageError(f"{', '.join(dropped)} has no effect with {mode}{hint}")
    target = None
    if given:
        metric, floor = next(
            ((m, v) for m, v in (("psnr", target_psnr), ("ssim", target_ssim)) if v is not None),
            ("ssimulacra2", target_ssimulacra2),
        )
        target = Target(
            metric=metric,
            floor=floor,
            max_bpp=max_bpp,
            codecs=_names(codecs),
            models=_names(models) if models else tuple(dict.fromkeys((model, *FULL_SIZE_RESTORES))),
        )

    cfg = ArchiveConfig(
        model=model,
        codec=codec,
        quality=parse_quality(quality)[0],
        workers=workers,
        threads_per_worker=threads,
        verify=verify,
        weights=weights,
        refine=refine,
        engine=engine,
        scheduler=scheduler,
        precision=resolved(ctx, "execution", execution),
        max_pixels=max_pixels or DEFAULT_MAX_PIXELS,
        redo=force,
        target=target,
        video_model=video_model,
        crf=crf,
        pack=None if pack == "none" else pack,
        lossless=lossless,
        others=not media_only,
    )
    s = run_archive(src, dest, cfg, progress=not quiet)
    if s.interrupted:
        click.echo(
            f"interrupted: {s.done} files archived in this run, {s.skipped_done} "
            f"already done, {s.failed} failed; the rest were not started (rerun to "
            "continue)",
            err=True,
        )
        sys.exit(s.exit_code)
    click.echo(
        f"{s.files} files: {s.done} archived, {s.skipped_done} already done, "
        f"{s.failed} failed, {s.unsupported} left out (links, not regular files"
        + (", not media" if media_only else "")
        + "); "
        f"{human(s.bytes_in)} → {human(s.bytes_out)} "
        f"(ratio {s.ratio:.2f}) in {s.seconds:.1f} s"
    )
    if target is not None and s.paths:
        click.echo(_target_line(s, target.describe()))
    for rel, why in s.failures:
        click.echo(f"failed: {rel}: {why}", err=True)
    sys.exit(s.exit_code)


def _names(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def _target_line(s, promise: str) -> str:
    """Which path how many files took, the worst PSNR, and the saving against the plain codec
    under the same promise."""
    paths = ", ".join(f"{n} {k}" for k, n in sorted(s.paths.items(), key=lambda kv: -kv[1]))
    line = f"{promise}: {paths}"
    if s.worst_ssimulacra2 is not None and promise.startswith("ssimulacra2"):
        line += f"; worst SSIMULACRA2 {s.worst_ssimulacra2:.1f}"
    elif s.worst_psnr is not None:
        line += f"; worst PSNR {s.worst_psnr:.2f} dB"
    if s.plain_bytes:
        line += (
            f"; {human(s.chosen_bytes)} against {human(s.plain_bytes)} for the plain codec "
            f"under the same promise ({100 * s.chosen_bytes / s.plain_bytes:.1f} %, over the "
            "files it was searched for)"
        )
    return line


@main.command()
@click.argument("archive_dir", metavar="ARCHIVE", type=click.Path(exists=True, file_okay=False))
@click.argument("out", type=click.Path(file_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "png", "jpeg"]),
    default="auto",
    show_default=True,
    help="auto: each file's original format",
)
@click.option(
    "--jpeg-quality",
    "quality",
    type=click.IntRange(1, 100),
    default=95,
    show_default=True,
    help="quality of the JPEG files restore writes",
)
@deprecated("--quality", "--jpeg-quality", "quality", type=click.IntRange(1, 100))
@click.option("--only", "pattern", default=None, help="glob over relative paths")
@click.option("--lossless", is_flag=True, help="videos: lossless H.264 (4:4:4) instead of CRF 18")
@click.option(
    "--jpeg",
    "as_stored",
    is_flag=True,
    help="write the stored files themselves, unpacked (ordinary JPEGs, under their stored "
    "names), without running a model",
)
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--force", is_flag=True, help="replace files that already exist in OUT")
@click.option("--quiet", is_flag=True)
@click.pass_context
def restore(
    ctx: click.Context,
    archive_dir: str,
    out: str,
    fmt: str,
    quality: int,
    pattern: str | None,
    lossless: bool,
    as_stored: bool,
    weights: str | None,
    force: bool,
    quiet: bool,
) -> None:
    """Restore ARCHIVE to full size in OUT (a folder apart from the archive and its sources;
    existing files are kept unless --force)."""
    from ..jobs import RestoreConfig
    from ..jobs import restore as run_restore

    quality = resolved(ctx, "quality", quality)
    s = run_restore(
        archive_dir,
        out,
        RestoreConfig(fmt, quality, pattern, weights, force, lossless, as_stored),
        progress=not quiet,
    )
    if s.interrupted:
        click.echo("interrupted: the files restored so far are complete; rerun to go on", err=True)
    again = f", {s.skipped_done} already restored" if s.skipped_done else ""
    click.echo(
        f"{s.files} files: {s.done} restored{again}, {s.failed} failed; "
        f"{human(s.bytes_in)} → {human(s.bytes_out)} in {s.seconds:.1f} s"
    )
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
    from ..jobs import verify as run_verify

    s = run_verify(archive_dir, deep=deep, weights=weights)
    for rel, why in s.problems:
        click.echo(f"bad: {rel}: {why}", err=True)
    for rel in s.orphans:
        click.echo(
            f"bad: {rel}: in the archive but named by no manifest row (if the manifest lost "
            "rows, `mediapipe-irn rebuild` makes a new one from the stored files)",
            err=True,
        )
    for rel, why in s.not_archived:
        click.echo(f"missing: {rel}: failed when it was archived ({why})", err=True)
    click.echo(
        f"{s.rows} rows: {s.ok} ok, {len(s.problems)} bad"
        + (f", {len(s.orphans)} unlisted files" if s.orphans else "")
        + (f", {len(s.not_archived)} sources not archived" if s.not_archived else "")
        + (" (decoded)" if deep else "")
    )
    sys.exit(s.exit_code)


@main.command()
@click.argument("archive_dir", metavar="ARCHIVE", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="the report as JSON on standard output")
def report(archive_dir: str, as_json: bool) -> None:
    """Per file: how it is stored, its PSNR/SSIM, its bytes against the source and the plain
    codec, and what failed or was left out (reads the archive, writes nothing)."""
    import json

    from ..jobs.report import format_report
    from ..jobs.report import report as run_report

    rep = run_report(archive_dir)
    click.echo(json.dumps(rep, indent=1) if as_json else format_report(rep))


@main.command()
@click.argument("archive_dir", metavar="ARCHIVE", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="rebuild even though the manifest is readable")
def rebuild(archive_dir: str, force: bool) -> None:
    """Make a new manifest for ARCHIVE from its stored files, when the old one is gone or
    damaged (it is kept aside, renamed). The stored files' own names and metadata give every
    row back; the sources' checksums and the promises they were stored under are lost."""
    from ..jobs import rebuild as run_rebuild

    s = run_rebuild(archive_dir, force)
    for name, why in s.problems:
        click.echo(f"bad: {name}: {why}", err=True)
    aside = f"; the old manifest is kept as {s.kept_aside}" if s.kept_aside else ""
    click.echo(f"{s.rows} rows rebuilt, {len(s.problems)} problems{aside}")
    sys.exit(s.exit_code)


@main.command()
@click.argument("image", type=click.Path(exists=True, dir_okay=False))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--bpp", type=float, default=None, help="byte budget in bits per HR pixel")
@click.option("--bytes", "nbytes", type=int, default=None, help="byte budget")
@click.option("--model", default="sain-x2", show_default=True)
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--crop", default=None, help="X,Y,W,H of the region shown (default: centre)")
@force_option
def compare(
    image: str,
    out: str,
    bpp: float | None,
    nbytes: int | None,
    model: str,
    weights: str | None,
    crop: str | None,
    force: bool,
) -> None:
    """Side-by-side crops of the original, full-resolution JPEG, bicubic and the model, all
    at the same byte budget, each labelled with its PSNR and bytes (PNG)."""
    from ..bench.compare import panels, render
    from ..models import create_model
    from ..pipeline.images import read_image
    from ..pipeline.output import atomic_write

    if (bpp is None) == (nbytes is None):
        raise click.BadParameter("give exactly one of --bpp and --bytes")
    img = read_image(image)
    h, w = img.size
    budget = nbytes if nbytes is not None else int(bpp * h * w / 8)
    box = None
    if crop:
        try:
            box = tuple(int(v) for v in crop.split(","))
            assert len(box) == 4
        except (ValueError, AssertionError):
            raise click.BadParameter(f"--crop takes X,Y,W,H, got {crop!r}") from None
    ps = panels(img, budget, create_model(model, weights=weights))
    atomic_write(out, render(ps, box), overwrite=force)
    for p in ps[1:]:
        click.echo(
            f"{p.label:<22} {p.nbytes:>9,} B  {8 * p.nbytes / (h * w):.3f} bpp  "
            f"q{p.quality:<3} {p.psnr:.2f} dB"
        )
    click.echo(f"wrote {out}")
