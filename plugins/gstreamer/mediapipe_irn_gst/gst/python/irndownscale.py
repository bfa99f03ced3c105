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
        s = _scale_of(self.model_name)
        a = 2 * s
        return (w + (-w) % a) // s, (h + (-h) % a) // s

    def _meta_json(self) -> str:
        from mediapipe_irn.jobs.stream import restore_metadata_for

        return restore_metadata_for(self.in_info.width, self.in_info.height,
                                    self.model_name).to_json()

    def run(self, rgb):
        import torch

        from mediapipe_irn.pipeline import downscale_image, to_tensor, to_uint8

        if not self._tagged:
            tags = Gst.TagList.new_empty()
            tags.add_value(Gst.TagMergeMode.REPLACE, "comment",
                           TAG_PREFIX + self._meta_json())
            self.srcpad.push_event(Gst.Event.new_tag(tags))
            self._tagged = True
        m = self.model()
        s = m.scale
        a = 2 * s
        h, w = rgb.shape[:2]
        x = torch.nn.functional.pad(to_tensor(rgb.copy()), (0, (-w) % a, 0, (-h) % a),
                                    mode="replicate")
        with torch.no_grad():
            lr, _ = downscale_image(m, x)
        if self.refine > 0:
            from mediapipe_irn.refine import RefineConfig, refine_image

            lr, _, _ = refine_image(m, x, RefineConfig(steps=self.refine))
        return to_uint8(lr)


GObject.type_register(IRNDownscale)
__gstelementfactory__ = ("irndownscale", Gst.Rank.NONE, IRNDownscale)
