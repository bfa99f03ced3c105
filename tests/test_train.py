from __future__ import annotations

import math
import shutil

import torch

from mediapipe_irn.train import CodecConfig, TrainConfig, Trainer

from .conftest import SAMPLES


def _cfg(tmp_path, **kw):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    for n in ("coffee.png", "chelsea.png"):
        shutil.copy(SAMPLES / n, data / n)
    base = dict(
        model="sain-x2",
        data=(str(data),),
        out=str(tmp_path / "ck.pt"),
        steps=4,
        batch=2,
        patch=32,
        log_every=2,
        val_every=100,
        ckpt_every=2,
        warmup=1,
    )
    base.update(kw)
    return TrainConfig(**base)


def test_training_resumes_where_it_stopped(tmp_path):
    Trainer(_cfg(tmp_path, steps=4)).fit(progress=False, stop_at=2)
    t = Trainer(_cfg(tmp_path, steps=4))
    assert t.step == 2
    t.fit(progress=False)
    ck = torch.load(tmp_path / "ck.pt", weights_only=True)
    assert ck["step"] == 4
    # same seed, uninterrupted → same weights as stopped-and-resumed
    cfg2 = _cfg(tmp_path, steps=4, out=str(tmp_path / "ck2.pt"))
    Trainer(cfg2).fit(progress=False)
    ck2 = torch.load(tmp_path / "ck2.pt", weights_only=True)
    for k in ck["model"]:
        assert torch.allclose(ck["model"][k], ck2["model"][k], atol=1e-6), k


def test_finetune_against_real_jpeg_changes_weights(tmp_path):
    cfg = _cfg(tmp_path, codec=CodecConfig("jpeg", (30, 90)), steps=2)
    t = Trainer(cfg)
    before = {k: v.clone() for k, v in t.model.state_dict().items()}
    t.fit(progress=False)
    changed = [k for k, v in t.model.state_dict().items() if not torch.equal(v, before[k])]
    assert changed
    assert all(math.isfinite(float(v.abs().sum())) for v in t.model.state_dict().values())
