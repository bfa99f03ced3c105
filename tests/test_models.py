from __future__ import annotations

import pytest
import torch

from mediapipe_irn.errors import UnknownModelError, WeightsError
from mediapipe_irn.models import create_model, list_models, load_weights
from mediapipe_irn.pipeline import downscale_image, upscale_image

from .conftest import randomize


def n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name,count", [("irn-x2-paper", 1_667_952), ("irn-x4-paper", 4_355_136)])
def test_irn_paper_parameter_counts_match_official(name, count):
    assert n_params(create_model(name, pretrained=False)) == count


@pytest.mark.parametrize("name,approx", [("sain-x2-paper", 2.02e6), ("sain-x4-paper", 6.49e6)])
def test_sain_paper_parameter_counts(name, approx):
    assert abs(n_params(create_model(name, pretrained=False)) - approx) / approx < 0.005


def test_registry_lists_required_names():
    for n in [
        "bicubic-x2",
        "bicubic-x4",
        "irn-x2",
        "irn-x4",
        "sain-x2",
        "sain-x4",
        "irn-x2-paper",
        "irn-x4-paper",
        "sain-x2-paper",
        "sain-x4-paper",
    ]:
        assert n in list_models()


def test_unknown_model_is_a_clear_error():
    with pytest.raises(UnknownModelError, match="known models"):
        create_model("sain-x3")


SMALL = [n for n in list_models() if not n.endswith("-paper")]  # paper sizes: slow on a CPU


@pytest.mark.parametrize("name", SMALL)
def test_odd_sizes_pad_and_crop(name):
    m = create_model(name, pretrained=False)
    hr = torch.rand(1, 3, 67, 93)
    lr, pad = downscale_image(m, hr)
    s = m.scale
    assert lr.shape[-2:] == (-(-67 // s), -(-93 // s))
    assert pad == ((-67) % s, (-93) % s)
    assert torch.equal(lr, torch.round(lr * 255) / 255)  # 8-bit levels
    out = upscale_image(m, lr, size=(67, 93))
    assert out.shape == hr.shape


def test_upscale_is_deterministic():
    m = randomize(create_model("sain-x2", pretrained=False))
    lr = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(m.upscale(lr), m.upscale(lr))


def test_bad_tensor_input_is_refused():
    m = create_model("irn-x2", pretrained=False)
    with pytest.raises(ValueError, match="B×3×H×W"):
        m.downscale(torch.rand(3, 16, 16))


def test_weights_roundtrip_and_mismatch(tmp_path):
    m = randomize(create_model("irn-x2", pretrained=False))
    path = tmp_path / "w.pt"
    torch.save(m.state_dict(), path)
    m2 = create_model("irn-x2", weights=path)
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), m2.state_dict().values()))
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        load_weights(create_model("irn-x2", pretrained=False), path, sha256="0" * 64)
    with pytest.raises(WeightsError, match="do not fit"):
        create_model("sain-x2", weights=path)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="cannot read"):
        create_model("irn-x2", weights=bad)


def test_pretrained_true_without_shipped_weights_is_an_error(monkeypatch):
    import mediapipe_irn.zoo as zoo

    monkeypatch.setattr(zoo, "read_manifest", lambda: {})
    with pytest.raises(WeightsError, match="no shipped weights"):
        create_model("irn-x4", pretrained=True)


def test_shipped_weights_verify_sha(monkeypatch, tmp_path):
    import mediapipe_irn.zoo as zoo

    m = create_model("irn-x2", pretrained=False)
    torch.save(m.state_dict(), tmp_path / "irn-x2.pt")
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path)
    monkeypatch.setattr(
        zoo, "read_manifest", lambda: {"irn-x2": {"file": "irn-x2.pt", "sha256": "f" * 64}}
    )
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        create_model("irn-x2", pretrained=True)


@pytest.mark.parametrize("name", [n for n in SMALL if create_model(n, pretrained=False).invertible])
def test_forward_lr_is_the_forward_lr(name):
    """Downscaling through ``forward_lr`` (SAIN skips the V-blocks) gives forward's LR."""
    m = randomize(create_model(name, pretrained=False), std=0.05)
    x = torch.rand(2, 3, 8 * m.scale, 12 * m.scale, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        full = m(x).lr
        assert torch.allclose(m.forward_lr(x), full, atol=1e-6)
        assert torch.equal(m.downscale(x), torch.round(full.clamp(0, 1) * 255) / 255)


def test_new_weights_keep_the_old_ones_for_files_made_with_them(monkeypatch, tmp_path):
    """Shipping new weights under a name keeps the previous file; a file restores with the
    weights whose sha256 it records, and a file that records none (made before the sha256
    was recorded) with the version marked "unrecorded"."""
    import mediapipe_irn.zoo as zoo
    from mediapipe_irn.codecs import RestoreMetadata
    from mediapipe_irn.models import get_spec
    from mediapipe_irn.pipeline.rescale import FrameRescaler

    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path)
    monkeypatch.setattr(zoo, "MANIFEST", tmp_path / "manifest.json")
    name = "sain-x2-lite"
    spec = get_spec(name)
    states = []
    for seed in (1, 2, 3):
        m = randomize(create_model(name, pretrained=False), seed=seed)
        torch.save({"arch": name, "model": m.state_dict(), "step": seed}, tmp_path / "ck.pt")
        e = zoo.add_to_zoo(tmp_path / "ck.pt", name, spec.family, spec.scale, spec.kwargs, ["x"])
        states.append((e["sha256"], m.state_dict()))
    entry = zoo.read_manifest()[name]
    assert entry["sha256"] == states[2][0]
    assert [p["sha256"] for p in entry["previous"]] == [states[1][0], states[0][0]]
    assert [p["unrecorded"] for p in entry["previous"]] == [False, True]

    def restored_state(extra):
        meta = RestoreMetadata(model=name, scale=2, width=8, height=8, extra=extra)
        return FrameRescaler.for_metadata(meta).model.state_dict()

    for sha, state in states:  # the full sha256 (version 1 files) and its 16-digit prefix
        for recorded in (sha, sha[: zoo.SHA_DIGITS]):
            got = restored_state({"weights_sha256": recorded})
            assert all(torch.equal(got[k], state[k]) for k in state)
    got = restored_state({})  # no sha recorded: the first shipped version
    assert all(torch.equal(got[k], states[0][1][k]) for k in got)
    with pytest.warns(UserWarning, match="not shipped"):
        restored_state({"weights_sha256": "0" * 64})
    assert create_model(name).weights_sha256 == states[2][0]  # new files: the current ones


def test_quality_condition_is_optional_and_starts_as_identity(tmp_path):
    """sain-x2's restore filter told the JPEG quality (FiLM): weights without it load with it
    removed, or with it at its start, where every quality restores as the plain filter; a
    trained one restores each quality its own way, and an unknown quality (None or NaN) is one
    input of its own."""
    m = randomize(create_model("sain-x2", pretrained=False)).eval()
    assert m.post_quality is not None and m.quality_channels == 2
    old = {k: v for k, v in m.state_dict().items() if not k.startswith("post_quality.")}
    path = tmp_path / "old.pt"
    torch.save(old, path)
    dropped = create_model("sain-x2", weights=path)
    assert dropped.post_quality is None and dropped.quality_channels == 0
    kept = create_model("sain-x2", pretrained=False)
    load_weights(kept, path, missing="init")
    kept.eval()
    lr = torch.rand(2, 3, 24, 20, generator=torch.Generator().manual_seed(0))
    q = torch.tensor([20.0, 90.0])
    nan = torch.tensor([float("nan")] * 2)
    with torch.no_grad():
        plain = dropped.upscale(lr)
        assert torch.equal(dropped.upscale(lr, quality=q), plain)  # ignored without it
        assert torch.allclose(kept.upscale(lr, quality=q), plain, atol=1e-6)
        a, b = m.upscale(lr, quality=q), m.upscale(lr, quality=q.flip(0))
        assert not torch.allclose(a[0], b[0])
        for i in range(2):  # each image restored with its own quality
            one = m.upscale(lr[i : i + 1], quality=q[i : i + 1])
            assert torch.allclose(one, a[i : i + 1], atol=1e-5)
        assert torch.equal(m.upscale(lr), m.upscale(lr, quality=nan))
        assert not torch.allclose(m.upscale(lr), a)


def test_restore_filter_is_optional_in_weights(tmp_path):
    """sain-x2's decoder-only restore filter: weights made without it load with it removed (the
    model they were trained as), or kept at its start (the identity) to fine-tune it."""
    m = randomize(create_model("sain-x2", pretrained=False))
    assert m.post is not None
    old = {k: v for k, v in m.state_dict().items() if not k.startswith("post.")}
    path = tmp_path / "old.pt"
    torch.save(old, path)
    dropped = create_model("sain-x2", weights=path)
    assert dropped.post is None
    assert dropped.receptive_radius() == m.receptive_radius() - 3
    kept = create_model("sain-x2", pretrained=False)
    load_weights(kept, path, missing="init")
    assert kept.post is not None
    lr = torch.rand(1, 3, 24, 20, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = dropped.upscale(lr), kept.upscale(lr)
        assert torch.equal(a, b)  # a new filter is the identity
        m.post = None
        assert torch.equal(m.upscale(lr), a)
    with torch.no_grad():
        kept.post.net[-1].weight.add_(0.01)
        assert not torch.equal(kept.upscale(lr), a)  # and a trained one is not
    with pytest.raises(WeightsError, match="do not fit"):  # only optional parts may be missing
        torch.save({k: v for k, v in old.items() if not k.startswith("prior.")}, path)
        create_model("sain-x2", weights=path)
