"""ffmpeg pipe adapter: YUV4MPEG2 in on a stream, through the model, YUV4MPEG2 out.

``mediapipe-irn meta`` prints the restore metadata that ``down`` implies
(:func:`..pipeline.rescale.restore_metadata_for`), for ffmpeg's
``-metadata``; ``up`` reads it from a y4m ``XMPIRN`` header parameter, from a video's
container tags (``--meta-from``), or builds it from ``--model``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

import numpy as np

from ..codecs.metadata import RestoreMetadata
from ..errors import MetadataError
from ..pipeline.execution import frame_workers
from ..pipeline.serving import (
    CachedRescaler,
    metadata_from_model,
    session_threads,
    video_rescaler,
)
from ..pipeline.video import batched
from ..pipeline.y4m import Y4MHeader, read_frames, read_header, write_frame


def stream_down(
    inp: BinaryIO,
    out: BinaryIO,
    model: str = "sain-x2-lite",
    weights: str | None = None,
    batch: int = 4,
    workers: int = 0,
) -> int:
    hdr = read_header(inp)
    threads = session_threads(workers)
    r = video_rescaler("down", model, weights, "auto", threads, size=(hdr.height, hdr.width))
    meta = r.metadata(hdr.width, hdr.height)
    s = r.scale
    lw, lh = (hdr.width + meta.pad_w) // s, (hdr.height + meta.pad_h) // s
    # ffmpeg's y4m reader refuses long headers, so the metadata is not put in the header;
    # `mediapipe-irn meta` prints it for ffmpeg's -metadata instead.
    out.write(Y4MHeader(lw, lh, hdr.rate).encode())
    return _pipe(inp, hdr, out, r.down, batch, workers, not isinstance(r, CachedRescaler))


def stream_up(
    inp: BinaryIO,
    out: BinaryIO,
    meta: RestoreMetadata | None = None,
    model: str | None = None,
    weights: str | None = None,
    batch: int = 4,
    workers: int = 0,
) -> int:
    hdr = read_header(inp)
    meta = meta or hdr.metadata
    if meta is None:
        if model is None:
            raise MetadataError(
                "the y4m stream carries no restore metadata; pass --meta-from "
                "the encoded video or --model"
            )
        meta = metadata_from_model(model, hdr.width, hdr.height)
    r = video_rescaler("up", model, weights, "auto", session_threads(workers), meta=meta)
    out.write(Y4MHeader(meta.width, meta.height, hdr.rate).encode())
    torch_threads = not isinstance(r, CachedRescaler)
    return _pipe(inp, hdr, out, lambda rgb: r.up(rgb, meta), batch, workers, torch_threads)


def _pipe(
    inp: BinaryIO,
    hdr: Y4MHeader,
    out: BinaryIO,
    fn: Callable[[np.ndarray], np.ndarray],
    batch: int,
    workers: int,
    torch_threads: bool = True,
) -> int:
    """Frames of ``inp`` through ``fn`` (one per worker thread), written to ``out`` in order
    and flushed every ``batch`` frames; returns the frame count."""
    n = 0
    with frame_workers(workers, torch_threads=torch_threads) as fmap:
        for chunk in batched(read_frames(inp, hdr), batch):
            for frame in fmap(fn, chunk):
                write_frame(out, frame)
            out.flush()
            n += len(chunk)
    return n


__all__ = ["stream_down", "stream_up"]
