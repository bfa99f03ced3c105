"""``irndownscale``: RGB in, LR RGB out (see ``irn_common`` for the shared base)."""

from __future__ import annotations

from irn_common import _MODEL_PROP, TAG_PREFIX, GObject, Gst, _IRNBase, _scale_of


class IRNDownscale(_IRNBase):
    __gstmetadata__ = ("IRN downscale", "Filter/Converter/Video/Scaler",
                       "Downscale RGB frames with an invertible rescaling network",
                       "mediapipe-irn")
    __gproperties__ = {
        **_MODEL_PROP,
        "refine": (int, "refine", "HCD refinement steps per stage (0: off)", 0, 1000, 0,
                   GObject.ParamFlags.READWRITE),
    }

    def __init__(self) -> None:
        super().__init__()
        self.refine = 0
        self._tagged = False

    def out_size(self, w, h):
        from mediapipe_irn.pipeline.serving import padding

        s = _scale_of(self.model_name)
        pw, ph = padding(w, h, 2 * s)
        return (w + pw) // s, (h + ph) // s

    def _meta_json(self) -> str:
        w, h = self.in_info.width, self.in_info.height
        return self.served("down", size=(h, w)).metadata(w, h).to_json()

    def run(self, rgb):
        from mediapipe_irn.pipeline import to_tensor, to_uint8

        if not self._tagged:
            tags = Gst.TagList.new_empty()
            tags.add_value(Gst.TagMergeMode.REPLACE, "comment",
                           TAG_PREFIX + self._meta_json())
            self.srcpad.push_event(Gst.Event.new_tag(tags))
            self._tagged = True
        if self.refine <= 0:
            return self.served("down", size=rgb.shape[:2]).down(rgb.copy())
        from mediapipe_irn.refine import RefineConfig, refine_image

        x = to_tensor(rgb.copy())
        lr, _, _ = refine_image(self.model(), x, RefineConfig(steps=self.refine))
        return to_uint8(lr)


GObject.type_register(IRNDownscale)
__gstelementfactory__ = ("irndownscale", Gst.Rank.NONE, IRNDownscale)
