"""Video frames without torch: a model's whole-frame downscale and restore, exported to ONNX
once, kept in a cache on disk and run by ONNX Runtime on numpy arrays.

A video job's process spent ~2 s of a 3-second 720p clip's encode or decode importing torch
before its first frame (README, "Speed on the CPU"). Where the execution option resolves to
``onnx``, the weights are shipped ones (known by their sha256) and the frame fits one tile
(``RUNTIME_TILE``), :func:`video_rescaler` looks here first: a graph exported earlier from the
same weights by the same code (:func:`fingerprint`: the model and export sources, this format,
the torch and onnx versions) is run without importing torch. Otherwise the job builds the
torch :class:`~.rescale.FrameRescaler` as before and stores its graph for the next run.
Outputs: the convolutions of the ``onnx`` option, the uint8 conversions in numpy with the same
float32 operations (tested against it). Cache: ``$MPIRN_CACHE_DIR``, else
``$XDG_CACHE_HOME/mediapipe_irn`` (``~/.cache``); a graph that fails to load is rebuilt, and a
cache that cannot be written costs only the speed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..codecs.metadata import RestoreMetadata
from ..errors import MetadataError
from .execution import RUNTIME_TILE, resolve, worker_count
from .onnx_backend import available, ort_session

if TYPE_CHECKING:
    from ..models.base import RescaleModel
    from .rescale import FrameRescaler

FORMAT = 1  # of the cached graphs: bump when what they compute changes outside the fingerprint
CACHE_ENV = "MPIRN_CACHE_DIR"


def padding(width: int, height: int, align: int) -> tuple[int, int]:
    """(pad_w, pad_h) that bring the frame to a multiple of ``align``."""
    return (-width) % align, (-height) % align


def frame_metadata(
    width: int, height: int, model: str, scale: int, video: bool, extra: dict[str, Any] | None
) -> RestoreMetadata:
    """The restore metadata of a ``width``×``height`` frame downscaled by ``model`` (padding:
    twice the scale for video, so the LR's sides are even; the scale for stills)."""
    pw, ph = padding(width, height, 2 * scale if video else scale)
    return RestoreMetadata(
        model=model, scale=scale, width=width, height=height, pad_w=pw, pad_h=ph,
        extra=dict(extra or {}),
    )  # fmt: skip


def model_scale(model: str) -> int:
    """``model``'s scale: from the zoo's manifest for shipped models (no torch), else the
    registry (which imports it; an unknown name is its error)."""
    from ..zoo import find_weights

    entry = find_weights(model)
    if entry is not None and "scale" in entry.info:
        return int(entry.info["scale"])
    from ..models import get_spec

    return get_spec(model).scale


def restore_metadata_for(
    width: int, height: int, model: str, video: bool = True, extra: dict[str, Any] | None = None
) -> RestoreMetadata:
    """The metadata a rescaler's ``down`` gives a ``width``×``height`` frame, without building
    the model (the ffmpeg pipe's ``meta`` command and the GStreamer element)."""
    return frame_metadata(width, height, model, model_scale(model), video, extra)


def metadata_from_model(model: str, lr_width: int, lr_height: int) -> RestoreMetadata:
    """Metadata for an LR that carries none, made up from the model the user named: the HR
    size is the LR's times the scale (nothing to crop)."""
    s = model_scale(model)
    return RestoreMetadata(
        model=model, scale=s, width=lr_width * s, height=lr_height * s, extra={"assumed": True}
    )


def check_scale(meta: RestoreMetadata, name: str, scale: int, where: str = "the file") -> None:
    if meta.scale != scale:
        raise MetadataError(f"{where} was made at ×{meta.scale}; {name} is ×{scale}")


def cache_dir() -> Path | None:
    """Where the graphs are kept; None where no home folder can be determined (no cache)."""
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root)
    try:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    except RuntimeError:
        return None
    return Path(base) / "mediapipe_irn"


@functools.cache
def fingerprint() -> str:
    """What the cached graphs depend on besides the weights: the sources of the models and
    of the export, :data:`FORMAT`, and the torch and onnx versions that exported them."""
    h = hashlib.sha256(f"format {FORMAT}".encode())
    for dist in ("torch", "onnx"):
        try:
            h.update(f"{dist} {version(dist)}".encode())
        except PackageNotFoundError:
            h.update(f"{dist} none".encode())
    pkg = Path(__file__).resolve().parents[1]
    for src in sorted((pkg / "models").glob("*.py")) + [pkg / "pipeline" / "onnx_backend.py"]:
        h.update(src.name.encode() + src.read_bytes())
    return h.hexdigest()[:16]


def graph_path(name: str, sha256: str, direction: str) -> Path | None:
    root = cache_dir()
    if root is None:
        return None
    return root / "graphs" / f"{name}-{sha256[:16]}-{direction}-{fingerprint()}.onnx"


def session_threads(workers: int = 0, precision: str = "auto") -> int:
    """ONNX Runtime's threads per call under :func:`..execution.frame_workers`: one per frame
    worker where there are several (as torch's own threads there), else one per core."""
    return 1 if worker_count(workers, precision) > 1 else os.cpu_count() or 1


def _eligible(name: str, sha256: str | None, precision: str, direction: str, size) -> bool:
    """Whether frames of ``size`` (padded HR height, width) may run from a cached graph."""
    return (
        bool(sha256)
        and max(size) <= RUNTIME_TILE
        and resolve(precision, direction, name) == "onnx"
        and available("onnx")
    )


def store(model: RescaleModel, direction: str) -> Path | None:
    """Export ``model``'s whole-frame ``direction`` into the cache unless there; the path, or
    None where the cache cannot be written (a warning: the next run is slower, nothing else)."""
    import onnx

    from .onnx_backend import _export

    path = graph_path(model.name, model.weights_sha256 or "", direction)
    if path is None or path.is_file():
        return path
    graph = onnx.load_from_string(_export(model, direction, frames=True))
    onnx.helper.set_model_props(graph, {"name": model.name, "scale": str(model.scale)})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(graph.SerializeToString())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        warnings.warn(f"cannot cache the exported graph in {path.parent}: {exc}", stacklevel=2)
        return None
    return path


def _to_float(rgb: np.ndarray) -> np.ndarray:  # as images.to_tensor: H×W×3 uint8 → 1×3×H×W
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None]).astype(np.float32) / np.float32(255)


def _to_uint8(x: np.ndarray) -> np.ndarray:  # as images.to_uint8: 1×3×H×W → H×W×3, rounded
    y = np.clip(x[0] * np.float32(255), 0, 255)
    return np.ascontiguousarray(np.rint(y, out=y).astype(np.uint8).transpose(1, 2, 0))


class CachedRescaler:
    """:class:`~.rescale.FrameRescaler`'s ``down``/``up``/``metadata``/``check`` for video
    frames, from a cached graph of one direction, without torch."""

    def __init__(self, path: Path, sha256: str, threads: int) -> None:
        self.session = ort_session(str(path), threads)
        props = self.session.get_modelmeta().custom_metadata_map
        self.name, self.scale = props["name"], int(props["scale"])
        self.weights_sha256 = sha256

    def metadata(
        self, width: int, height: int, extra: dict[str, Any] | None = None
    ) -> RestoreMetadata:
        extra = {**(extra or {}), "weights_sha256": self.weights_sha256}
        return frame_metadata(width, height, self.name, self.scale, True, extra)  # video

    def check(self, meta: RestoreMetadata, where: str = "the file") -> None:
        check_scale(meta, self.name, self.scale, where)

    def _run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"x": x})[0]

    def down(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        pw, ph = padding(w, h, 2 * self.scale)
        if pw or ph:  # replicate, as pad_to_multiple
            rgb = np.pad(rgb, ((0, ph), (0, pw), (0, 0)), mode="edge")
        return _to_uint8(self._run(_to_float(rgb)))

    def up(self, rgb: np.ndarray, meta: RestoreMetadata, quality: int | None = None) -> np.ndarray:
        hr = self._run(_to_float(rgb))[..., : meta.height, : meta.width]
        return _to_uint8(np.clip(hr, 0, 1))


def video_rescaler(
    direction: str,
    model: str | None,
    weights: str | None,
    precision: str,
    threads: int,
    size: tuple[int, int] | None = None,
    meta: RestoreMetadata | None = None,
) -> CachedRescaler | FrameRescaler:
    """The rescaler of a video job: ``down`` (``model``, frames of HR ``size``: height,
    width) or ``up`` (the file's ``meta``, ``model`` overriding it): from the cache where
    eligible and present, else the torch one (its graph then stored). ``threads``: ONNX
    Runtime's threads per call (1 under several frame workers)."""
    from ..zoo import find_weights

    sha = None
    if direction == "down":
        assert model is not None and size is not None
        name = model
        entry = None if weights else find_weights(model)
        sha = entry.sha256 if entry else None
        # padded to the alignment (2·scale) it stays within RUNTIME_TILE, a multiple of it
        s = max(size)
    else:
        assert meta is not None
        name = model or meta.model
        # a weights file is never cached (sha None)
        if not weights and name == meta.model and not meta.extra.get("assumed"):
            sha = meta.extra.get("weights_sha256")  # the file's own (unrecorded: torch)
            entry = find_weights(name, sha) if sha else None
            sha = entry.sha256 if entry else sha  # version 2 records a prefix
        elif not weights:  # metadata made up, or another model named: its current weights
            entry = find_weights(name)
            sha = entry.sha256 if entry else None
        s = max(meta.height + meta.pad_h, meta.width + meta.pad_w)
    eligible = _eligible(name, sha, precision, direction, (s, s))
    path = graph_path(name, sha, direction) if eligible else None  # eligible: sha known
    if path is not None and path.is_file():
        try:
            r = CachedRescaler(path, sha, threads)
            if meta is not None:
                r.check(meta)
            return r
        except MetadataError:
            raise
        except Exception:  # noqa: BLE001 - an unreadable graph: rebuilt below
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
    from .rescale import FrameRescaler

    if direction == "down":
        fr = FrameRescaler.load(name, weights, precision, video=True)
    else:
        fr = FrameRescaler.for_metadata(meta, model, weights, precision, video=True)
    if eligible and fr.model.weights_sha256 == sha:
        store(fr.model, direction)
    return fr


__all__ = [
    "CachedRescaler",
    "cache_dir",
    "check_scale",
    "fingerprint",
    "frame_metadata",
    "graph_path",
    "metadata_from_model",
    "model_scale",
    "padding",
    "restore_metadata_for",
    "session_threads",
    "store",
    "video_rescaler",
]
