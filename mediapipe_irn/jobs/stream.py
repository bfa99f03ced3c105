"""ffmpeg pipe adapter: YUV4MPEG2 in on a stream, through the model, YUV4MPEG2 out.

``mediapipe-irn meta`` prints the restore metadata that ``down`` implies, for ffmpeg's
``-metadata``; ``up`` reads it from a y4m ``XMPIRN`` header parameter, from a video's
container tags (``--meta-from``), or builds it from ``--model``.
"""

from __future__ import annotations

from typing import BinaryIO, Callable

import numpy as np
import torch

from ..codecs.metadata import RestoreMetadata
from ..errors import MetadataError
from ..models import create_model
from ..pipeline.execution import frame_workers
from ..pipeline.images import to_tensor, to_uint8
from ..pipeline.tiling import downscale_image, upscale_image
from ..pipeline.video import batched
from ..pipeline.y4m import Y4MHeader, read_frames, read_header, write_frame


def restore_metadata_for(width: int, height: int, model: str) -> RestoreMetadata:
    """The metadata ``down`` will produce for frames of this size."""
    from ..models import get_spec

    s = get_spec(model).scale
    a = 2 * s
    return RestoreMetadata(model=model, scale=s, width=width, height=height,
                           pad_w=(-width) % a, pad_h=(-height) % a)


@torch.no_grad()
def stream_down(inp: BinaryIO, out: BinaryIO, model: str = "sain-x2-lite",
                weights: str | None = None, batch: int = 4, workers: int = 0) -> int:
    hdr = read_header(inp)
    m = create_model(model, weights=weights)
    meta = restore_metadata_for(hdr.width, hdr.height, model)
    lw, lh = (hdr.width + meta.pad_w) // m.scale, (hdr.height + meta.pad_h) // m.scale
    # ffmpeg's y4m reader refuses long headers, so the metadata is not put in the header;
    # `mediapipe-irn meta` prints it for ffmpeg's -metadata instead.
    out.write(Y4MHeader(lw, lh, hdr.rate).encode())

    def down(rgb: np.ndarray) -> np.ndarray:
        x = torch.nn.functional.pad(to_tensor(rgb), (0, meta.pad_w, 0, meta.pad_h),
                                    mode="replicate")
        return to_uint8(downscale_image(m, x)[0])

    return _pipe(inp, hdr, out, down, batch, workers)


@torch.no_grad()
def stream_up(inp: BinaryIO, out: BinaryIO, meta: RestoreMetadata | None = None,
              model: str | None = None, weights: str | None = None, batch: int = 4,
              workers: int = 0) -> int:
    hdr = read_header(inp)
    meta = meta or hdr.metadata
    if meta is None:
        if model is None:
            raise MetadataError("the y4m stream carries no restore metadata; pass --meta-from "
                                "the encoded video or --model")
        from ..models import get_spec

        s = get_spec(model).scale
        meta = RestoreMetadata(model=model, scale=s, width=hdr.width * s,
                               height=hdr.height * s)
    m = create_model(model or meta.model, weights=weights)
    out.write(Y4MHeader(meta.width, meta.height, hdr.rate).encode())
    size = (meta.height, meta.width)
    return _pipe(inp, hdr, out, lambda rgb: to_uint8(upscale_image(m, to_tensor(rgb), size=size)),
                 batch, workers)


def _pipe(inp: BinaryIO, hdr: Y4MHeader, out: BinaryIO,
          fn: Callable[[np.ndarray], np.ndarray], batch: int, workers: int) -> int:
    """Frames of ``inp`` through ``fn`` (one per worker thread), written to ``out`` in order
    and flushed every ``batch`` frames; returns the frame count."""
    n = 0
    with frame_workers(workers) as fmap:
        for chunk in batched(read_frames(inp, hdr), batch):
            for frame in fmap(fn, chunk):
                write_frame(out, frame)
            out.flush()
            n += len(chunk)
    return n
