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


def test_time_budget_stops_and_drives_the_schedule(tmp_path):
    # a budget far shorter than one step: exactly one step runs, then the run ends saved
    t = Trainer(_cfg(tmp_path, steps=1000, minutes=1e-6, ckpt_every=1000))
    t.fit(progress=False)
    assert t.step == 1
    ck = torch.load(tmp_path / "ck.pt", weights_only=True)
    assert ck["step"] == 1 and ck["elapsed"] > 0 and ck["device"] == "cpu"
    # the LR milestones follow elapsed time under a budget, steps without one
    timed = Trainer(_cfg(tmp_path, steps=1000, minutes=1.0, out=str(tmp_path / "b.pt")))
    assert timed.lr_at(10, elapsed=20.0) == timed.cfg.lr
    assert timed.lr_at(10, elapsed=40.0) == timed.cfg.lr * 0.5
    assert timed.lr_at(10, elapsed=50.0) == timed.cfg.lr * 0.25
    plain = Trainer(_cfg(tmp_path, steps=1000, out=str(tmp_path / "c.pt")))
    assert plain.lr_at(10, elapsed=1e6) == plain.cfg.lr


def test_device_names_resolve_with_clear_errors():
    import pytest

    from mediapipe_irn.errors import InputError
    from mediapipe_irn.train.trainer import resolve_device

    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(InputError, match="device"):
        resolve_device("no-such-device")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA"):
            resolve_device("cuda")


def test_bf16_autocast_trains_and_logs_host_numbers(tmp_path, capsys):
    from click.testing import CliRunner

    from mediapipe_irn.cli import main

    _cfg(tmp_path)  # the data folder
    out = tmp_path / "bf.pt"
    args = ["finetune", "--from", "sain-x2", "--codec", "jpeg", "--quality", "30:90"]
    args += ["--data", str(tmp_path / "data"), "--steps", "2", "--batch", "2", "--patch", "32"]
    args += ["--rate-weight", "0.05", "--bf16", "--out", str(out)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    ck = torch.load(out, weights_only=True)
    assert ck["step"] == 2 and ck["config"]["bf16"] is True
    assert all(v.dtype == torch.float32 for v in ck["model"].values() if v.is_floating_point())
    # the loss terms are device tensors, read on the host only when logged
    t = Trainer(_cfg(tmp_path, steps=2, out=str(tmp_path / "t.pt"), log_every=1))
    t.fit(progress=True)
    logged = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("step 1/")]
    assert logged and "rec " in logged[0] and "tensor" not in logged[0]


def test_train_only_one_submodule_freezes_the_rest(tmp_path):
    """--train-only post: the restore filter learns, every other weight stays as it was."""
    import pytest

    from mediapipe_irn.errors import InputError
    from mediapipe_irn.models import create_model

    src = create_model("sain-x2", pretrained=False)
    w = tmp_path / "base.pt"
    torch.save({k: v for k, v in src.state_dict().items() if not k.startswith("post.")}, w)
    cfg = _cfg(tmp_path, codec=CodecConfig("jpeg", (30, 90)), steps=2, init=str(w))
    t = Trainer(TrainConfig(**{**cfg.__dict__, "train_only": "post"}))
    before = {k: v.clone() for k, v in t.model.state_dict().items()}
    t.fit(progress=False)
    changed = {k for k, v in t.model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and all(k.startswith("post.") for k in changed)
    with pytest.raises(InputError, match="no submodule"):
        Trainer(
            TrainConfig(**{**cfg.__dict__, "train_only": "nothing", "out": str(tmp_path / "x")})
        )
    # several, comma-separated: the filter and its quality condition (told the batch's
    # qualities, some hidden), nothing else
    both = {**cfg.__dict__, "train_only": "post,post_quality", "out": str(tmp_path / "pq.pt")}
    t = Trainer(TrainConfig(**{**both, "steps": 3}))
    before = {k: v.clone() for k, v in t.model.state_dict().items()}
    t.fit(progress=False)
    changed = {k for k, v in t.model.state_dict().items() if not torch.equal(v, before[k])}
    assert {k.split(".")[0] for k in changed} == {"post", "post_quality"}


def test_reconstruction_loss_is_l1_squared_error_or_db():
    """``LossWeights.rec_norm``: the papers' L1 on the restored HR, its squared error (what
    PSNR measures), each per HR value, or each image's −PSNR averaged; anything else is
    refused."""
    import pytest

    from mediapipe_irn.models import create_model
    from mediapipe_irn.train import LossWeights, rescaling_loss

    torch.manual_seed(0)
    m = create_model("sain-x2", pretrained=False)
    hr = torch.rand(2, 3, 16, 16)
    same = lambda x: x  # noqa: E731 - a lossless "codec"

    def db(d):
        return 10 * torch.log10((d * d).flatten(1).mean(1))

    for norm, err in (("l1", lambda d: d.abs()), ("l2", lambda d: d * d), ("db", db)):
        out = rescaling_loss(m, hr, same, same, LossWeights(rec_norm=norm))
        assert torch.allclose(out.terms["rec"], err(out.hr.detach() - hr).mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="rec_norm"):
        LossWeights(rec_norm="l3")


def test_gain_fit_takes_the_reconstruction_after_each_images_least_squares_gain():
    """``LossWeights.gain_fit`` (full-size restores): that share of the reconstruction term is
    the error of ``decoded + g·(restored − decoded)`` at each image's least-squares ``g``
    (what the archive stores), so it is never above gain 1's; the rest is gain 1's."""
    import pytest

    from mediapipe_irn.models import create_model
    from mediapipe_irn.nn import quantize
    from mediapipe_irn.train import LossWeights, rescaling_loss
    from mediapipe_irn.train.losses import gained, reconstruction_loss

    torch.manual_seed(0)
    m = create_model("deblock-x1", pretrained=False)
    with torch.no_grad():  # a filter that overshoots: the best gain is not 1
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    hr = torch.rand(2, 3, 16, 16)
    noisy = lambda x: (x + 0.05 * torch.sin(40 * x)).clamp(0, 1)  # noqa: E731 - a lossy "codec"
    plain = rescaling_loss(m, hr, noisy, noisy, LossWeights(rec_norm="l2"))
    fitted = rescaling_loss(m, hr, noisy, noisy, LossWeights(rec_norm="l2", gain_fit=1.0))
    half = rescaling_loss(m, hr, noisy, noisy, LossWeights(rec_norm="l2", gain_fit=0.5))
    dec = noisy(quantize(hr))  # what the loss decodes: the 8-bit image through the codec
    best = reconstruction_loss(gained(plain.hr.detach(), dec, hr, 2.0) - hr, "l2")
    assert torch.allclose(fitted.terms["rec"], best, rtol=1e-5)
    assert best < plain.terms["rec"]
    assert torch.allclose(half.terms["rec"], (best + plain.terms["rec"]) / 2, rtol=1e-5)
    for g in (0.0, 0.5, 1.5):  # the least-squares gain beats any other per image
        other = reconstruction_loss(dec + g * (plain.hr.detach() - dec) - hr, "l2")
        assert best <= other + 1e-9
    with pytest.raises(ValueError, match="gain_fit"):
        LossWeights(gain_fit=1.5)
