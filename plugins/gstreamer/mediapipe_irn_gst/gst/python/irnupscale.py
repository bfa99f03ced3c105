"""``irnupscale``: LR RGB in, restored RGB out (see ``irn_common``)."""

from __future__ import annotations

import json

from irn_common import TAG_PREFIX, Gst, GstBase, GObject, _IRNBase, _scale_of


class IRNUpscale(_IRNBase):
    __gstmetadata__ = ("IRN upscale", "Filter/Converter/Video/Scaler",
                       "Restore frames downscaled by irndownscale", "mediapipe-irn")

    def out_size(self, w, h):
        s = _scale_of(self.model_name)
        return w * s, h * s

    def do_sink_event(self, event):
        if event.type == Gst.EventType.TAG:
            tags = event.parse_tag()
            for name in ("extended-comment", "comment"):
                for i in range(tags.get_tag_size(name)):
                    v = tags.get_value_index(name, i)
                    if isinstance(v, str) and v.startswith(TAG_PREFIX):
                        model = json.loads(v[len(TAG_PREFIX):]).get("model")
                        if model and model != self.model_name and self.in_info is None:
                            self.model_name, self._model, self._served = model, None, None
        return GstBase.BaseTransform.do_sink_event(self, event)

    def run(self, rgb):
        from mediapipe_irn.pipeline.serving import metadata_from_model

        h, w = rgb.shape[:2]
        meta = metadata_from_model(self.model_name, w, h)
        return self.served("up", meta=meta).up(rgb.copy(), meta)


GObject.type_register(IRNUpscale)
__gstelementfactory__ = ("irnupscale", Gst.Rank.NONE, IRNUpscale)
