"""GStreamer elements ``irndownscale`` and ``irnupscale`` (Python, GstBase.BaseTransform).

Load with ``GST_PLUGIN_PATH=<this folder's parent>``; the plugin loader runs the system
Python, so ``mediapipe_irn`` (and torch) must be importable from it (``PYTHONPATH``). Frames go
through ``mediapipe_irn.pipeline.serving.video_rescaler``, as in the video jobs: from the
model's cached exported graphs without importing torch where it can, else through torch,
imported on the first frame (``gst-inspect-1.0`` stays fast either way).

- ``irndownscale``: RGB in, LR RGB out (sides padded to a multiple of 2·scale, so the LR is
  even for 4:2:0 encoders); properties ``model``, ``refine`` (HCD steps). It sends the
  restore metadata downstream as a ``comment`` tag ``mediapipe-irn=<json>``, which
  mp4mux/matroskamux store and ``mediapipe-irn decode`` reads.
- ``irnupscale``: LR RGB in, RGB out at ``scale``× the LR size; the model comes from the
  ``model`` property, or from an upstream ``mediapipe-irn`` tag when one arrives first.
"""

from __future__ import annotations

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstBase", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GObject, Gst, GstBase, GstVideo  # noqa: E402

Gst.init(None)

_CAPS = Gst.Caps.from_string("video/x-raw,format=RGB,width=[1,32768],height=[1,32768]")
TAG_PREFIX = "mediapipe-irn="
_MODEL_PROP = {"model": (str, "model", "registered model name", "sain-x2-lite",
                         GObject.ParamFlags.READWRITE)}


def _scale_of(model: str) -> int:
    from mediapipe_irn.pipeline.serving import model_scale  # the zoo's manifest: no torch

    return model_scale(model)


def _frame_array(buf: Gst.Buffer, info: GstVideo.VideoInfo, flags: Gst.MapFlags):
    import numpy as np

    ok, mapinfo = buf.map(flags)
    if not ok:
        raise RuntimeError("cannot map buffer")
    stride = info.stride[0]
    arr = np.ndarray((info.height, stride), dtype=np.uint8, buffer=mapinfo.data)
    return mapinfo, arr[:, : info.width * 3].reshape(info.height, info.width, 3)


class _IRNBase(GstBase.BaseTransform):
    __gsttemplates__ = (
        Gst.PadTemplate.new("src", Gst.PadDirection.SRC, Gst.PadPresence.ALWAYS, _CAPS),
        Gst.PadTemplate.new("sink", Gst.PadDirection.SINK, Gst.PadPresence.ALWAYS, _CAPS),
    )
    __gproperties__ = dict(_MODEL_PROP)

    def __init__(self) -> None:
        super().__init__()
        self.model_name = "sain-x2-lite"
        self.in_info = self.out_info = None
        self._model = self._served = None

    def do_get_property(self, prop):
        if prop.name == "model":
            return self.model_name
        return getattr(self, prop.name.replace("-", "_"))

    def do_set_property(self, prop, value):
        if prop.name == "model":
            self.model_name = value
            self._model = self._served = None
        else:
            setattr(self, prop.name.replace("-", "_"), value)

    def served(self, direction: str, size=None, meta=None):
        """The video jobs' rescaler (``serving.video_rescaler``), built on the first frame."""
        if self._served is None:
            import os

            from mediapipe_irn.pipeline.serving import video_rescaler

            name = self.model_name if direction == "down" else None
            self._served = video_rescaler(
                direction, name, None, "auto", os.cpu_count() or 1, size=size, meta=meta
            )
        return self._served

    def rescaler(self):
        """The package's torch frame-rescaling layer (video padding rule), built on first use
        (HCD refinement needs the model itself)."""
        if self._model is None:
            from mediapipe_irn.pipeline.rescale import FrameRescaler

            self._model = FrameRescaler.load(self.model_name, video=True)
        return self._model

    def model(self):
        return self.rescaler().model

    def out_size(self, w: int, h: int) -> tuple[int, int]:
        raise NotImplementedError

    def do_transform_caps(self, direction, caps, filt):
        out = Gst.Caps.new_empty()
        for i in range(caps.get_size()):
            st = caps.get_structure(i).copy()
            okw, w = st.get_int("width")
            okh, h = st.get_int("height")
            # Only the forward direction (sink → src) is a function of the size; the reverse
            # is many-to-one because of padding, so it leaves the size open.
            if okw and okh and direction == Gst.PadDirection.SINK:
                ow, oh = self.out_size(w, h)
                st.set_value("width", ow)
                st.set_value("height", oh)
            else:
                st.remove_field("width")
                st.remove_field("height")
            out.append_structure(st)
        if filt:
            out = filt.intersect_full(out, Gst.CapsIntersectMode.FIRST)
        return out

    def do_set_caps(self, incaps, outcaps):
        self.in_info = GstVideo.VideoInfo.new_from_caps(incaps)
        self.out_info = GstVideo.VideoInfo.new_from_caps(outcaps)
        return True

    def do_get_unit_size(self, caps):
        info = GstVideo.VideoInfo.new_from_caps(caps)
        return True, info.size

    def run(self, rgb):
        raise NotImplementedError

    def do_transform(self, inbuf, outbuf):
        try:
            imap, src = _frame_array(inbuf, self.in_info, Gst.MapFlags.READ)
            omap, dst = _frame_array(outbuf, self.out_info, Gst.MapFlags.WRITE)
            try:
                dst[...] = self.run(src)
            finally:
                inbuf.unmap(imap)
                outbuf.unmap(omap)
        except Exception as exc:  # noqa: BLE001 - report to the bus, not a crash
            Gst.error(f"{self.get_name()}: {exc}")
            return Gst.FlowReturn.ERROR
        return Gst.FlowReturn.OK
