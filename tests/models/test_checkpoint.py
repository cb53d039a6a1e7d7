"""Checkpoint files: round trip and every kind of bad file raising CheckpointError."""

import pytest
import torch

from anylift.errors import CheckpointError, InputError
from anylift.models import (
    EMA,
    DenoiserConfig,
    MultiViewDenoiser,
    SingleViewDenoiser,
    export_checkpoint,
    load_checkpoint,
    save_checkpoint,
)


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = SingleViewDenoiser(DenoiserConfig.tiny())
    ema = EMA(model, decay=0.5)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1)
    ema.update(model)
    path = save_checkpoint(
        tmp_path / "sv.pt", model, ema=ema, normalisation={"body_size_m": 1.5}, extra={"step": 7}
    )
    return path, model, ema


def test_round_trip(saved):
    path, model, ema = saved
    ck = load_checkpoint(path, kind="single_view")
    assert ck.config == model.config and ck.skeleton == "coco17"
    assert ck.normalisation == {"body_size_m": 1.5} and ck.extra == {"step": 7}
    for k, v in model.state_dict().items():
        assert torch.equal(ck.model.state_dict()[k], v)
    for k, v in ema.model.state_dict().items():
        assert torch.equal(ck.ema_model.state_dict()[k], v)
    assert ck.inference_model is ck.ema_model
    assert not torch.equal(ck.model.net.head.weight, ck.ema_model.net.head.weight)
    x = torch.randn(2, 8, 17, 2)
    n = torch.tensor([3, 900])
    model.eval()
    with torch.no_grad():
        assert torch.equal(ck.model(x, n), model(x, n))
    assert not ck.model.training


def test_multi_view_without_ema(tmp_path):
    model = MultiViewDenoiser(DenoiserConfig.tiny("multi_view", num_object_keypoints=3))
    ck = load_checkpoint(save_checkpoint(tmp_path / "mv.pt", model), kind="multi_view")
    assert ck.ema_model is None and ck.inference_model is ck.model
    assert isinstance(ck.model, MultiViewDenoiser) and ck.config.num_points == 20


def _rewrite(path, **changes):
    data = torch.load(path, weights_only=True)
    data.update(changes)
    torch.save(data, path)


def _expect(path, *words, **kw):
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, **kw)
    text = str(info.value)
    assert str(path) in text
    for w in words:
        assert w in text, text
    assert isinstance(info.value, InputError)
    return info.value


def test_missing_file(tmp_path):
    err = _expect(tmp_path / "nope.pt", "not found", "checkpoint")
    assert err.fix


def test_truncated_and_corrupt_files(saved, tmp_path):
    path, _, _ = saved
    data = path.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    _expect(cut, "cannot read", "corrupt or truncated")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"this is not a checkpoint at all" * 10)
    _expect(junk, "cannot read")
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    _expect(empty, "cannot read")


def test_not_an_anylift_checkpoint(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, other)
    _expect(other, "not an anylift checkpoint", "format")


def test_other_version(saved):
    path, _, _ = saved
    _rewrite(path, version=2)
    _expect(path, "version 2", "Update anylift")
    _rewrite(path, version=0)
    _expect(path, "version 0", "Re-train or convert")


def test_wrong_kind(saved):
    path, _, _ = saved
    _expect(path, "single_view model", "multi_view", kind="multi_view")


def test_other_skeleton(tmp_path):
    model = SingleViewDenoiser(DenoiserConfig.tiny(skeleton="openpose18", num_joints=18))
    path = save_checkpoint(tmp_path / "op.pt", model)
    _expect(path, "openpose18", "coco17")
    assert load_checkpoint(path, skeleton="openpose18").config.num_joints == 18


def test_weights_that_do_not_fit_the_config(saved):
    path, _, _ = saved
    data = torch.load(path, weights_only=True)
    data["config"]["width"] = 64
    torch.save(data, path)
    _expect(path, "do not fit")
    data["config"] = {"width": 32, "colour": "blue"}
    torch.save(data, path)
    _expect(path, "do not fit")


def test_export_keeps_the_ema_weights_in_half_precision(saved, tmp_path):
    path, _model, ema = saved
    out = export_checkpoint(path, tmp_path / "ship.pt", extra={"note": "shipped"})
    raw = torch.load(out, weights_only=True)
    assert raw["ema"] is None
    assert all(v.dtype == torch.float16 for v in raw["weights"].values() if v.is_floating_point())
    assert out.stat().st_size < 0.4 * path.stat().st_size
    ck = load_checkpoint(out, kind="single_view")
    assert ck.ema_model is None and ck.extra == {"step": 7, "note": "shipped"}
    assert ck.normalisation == {"body_size_m": 1.5}
    x = torch.randn(2, 8, 17, 2)
    n = torch.tensor([3, 900])
    ema.model.eval()
    with torch.no_grad():
        want, got = ema.model(x, n), ck.inference_model(x, n)
    assert got.dtype == torch.float32
    assert torch.allclose(got, want, atol=2e-2, rtol=2e-2)
    assert not torch.allclose(got, ck.inference_model(x, n + 50), atol=1e-6)
