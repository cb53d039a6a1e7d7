"""Denoisers: shapes, overfitting a handful of windows, multi-view equivariance, EMA, masking."""

import importlib.util
import pathlib

import numpy as np
import pytest
import torch

from anylift import representation as rep
from anylift.diffusion import cosine_schedule, sample
from anylift.models import (
    EMA,
    DenoiserConfig,
    MultiViewCondition,
    MultiViewDenoiser,
    SingleViewCondition,
    SingleViewDenoiser,
    denoising_losses,
    init_from_multi_view,
    init_from_single_view,
    random_observation_mask,
)

_spec = importlib.util.spec_from_file_location("synthetic", pathlib.Path(__file__).with_name("synthetic.py"))
synthetic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic)

FIXED_N = torch.tensor([20, 150, 400, 700])


def _fixed_l1(model, schedule, x0, cond, mask):
    model.eval()
    with torch.no_grad():
        n = FIXED_N[: x0.shape[0]]
        out = denoising_losses(
            model, schedule, x0, cond, mask, n=n, generator=torch.Generator().manual_seed(5)
        )
    model.train()
    return float(out["l1"])


def _train(model, schedule, x0, cond, mask, steps, **kw):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        loss = denoising_losses(model, schedule, x0, cond, mask, generator=g, **kw)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_single_view_overfits_a_few_windows():
    torch.manual_seed(0)
    x0, cond, mask, lines = synthetic.single_view_batch(4, 16)
    model, s = SingleViewDenoiser(DenoiserConfig.tiny()), cosine_schedule()
    before = _fixed_l1(model, s, x0, cond, mask)
    _train(model, s, x0, cond, mask, 150, lines=lines, line_weight=0.1)
    after = _fixed_l1(model, s, x0, cond, mask)
    assert after < before / 5, (before, after)


def _multi_view_batch(num, frames, views, seed=0, num_objects=0):
    rng = np.random.default_rng(seed)
    glob = synthetic.walking_windows(num * views, frames, seed, 17 + num_objects).reshape(
        num, views, frames, -1, 2
    )
    x0 = torch.from_numpy(rep.to_root_local(glob))
    camera = torch.from_numpy(rng.normal(size=(num, views, frames, rep.CAMERA_DIM)).astype(np.float32) * 0.3)
    obs_mask = torch.from_numpy((rng.uniform(size=(num, frames, 17 + num_objects)) > 0.2).astype(np.float32))
    cond = MultiViewCondition.from_input(camera, x0[:, 0], obs_mask)
    return x0, cond


def test_multi_view_overfits_a_few_windows_with_object_keypoints():
    torch.manual_seed(0)
    x0, cond = _multi_view_batch(4, 16, 3, num_objects=4)
    config = DenoiserConfig.tiny("multi_view", num_object_keypoints=4)
    model, s = MultiViewDenoiser(config), cosine_schedule()
    mask = torch.ones(x0.shape[:-1])
    before = _fixed_l1(model, s, x0, cond, mask)
    _train(model, s, x0, cond, mask, 150)
    after = _fixed_l1(model, s, x0, cond, mask)
    assert after < before / 5, (before, after)
    assert model(x0, FIXED_N, cond).shape == (4, 3, 16, 21, 2)


def test_permuting_views_permutes_outputs():
    torch.manual_seed(1)
    x0, cond = _multi_view_batch(2, 12, 4)
    model = MultiViewDenoiser(DenoiserConfig.tiny("multi_view", dropout=0.1)).eval()
    x_n = x0 + torch.randn_like(x0)
    n = torch.tensor([100, 800])
    order = [0, 3, 1, 2]
    with torch.no_grad():
        out = model(x_n, n, cond)
        perm = model(x_n[:, order], n, cond.permute_views(order))
        virtual_only = model(x_n[:, [0, 2, 1, 3]], n, cond.permute_views([0, 2, 1, 3]))
    assert torch.allclose(perm, out[:, order], atol=1e-5)
    assert torch.allclose(virtual_only, out[:, [0, 2, 1, 3]], atol=1e-5)
    # ... and the views do talk to each other: changing view 3 changes view 1's output.
    x_changed = x_n.clone()
    x_changed[:, 3] += 1.0
    with torch.no_grad():
        assert not torch.allclose(model(x_changed, n, cond)[:, 1], out[:, 1], atol=1e-4)


def test_single_view_conditions_matter_and_defaults_work():
    torch.manual_seed(2)
    x0, cond, _mask, _lines = synthetic.single_view_batch(2, 10)
    model = SingleViewDenoiser(DenoiserConfig.tiny()).eval()
    n = torch.tensor([10, 500])
    with torch.no_grad():
        full = model(x0, n, cond)
        no_lines = model(x0, n, SingleViewCondition(cond.camera, None, cond.mask))
        bare = model(x0, n)
    assert full.shape == bare.shape == (2, 10, 17, 2)
    assert not torch.allclose(full, no_lines)
    with pytest.raises(ValueError, match="17 points"):
        model(x0[:, :, :15], n)


def test_sampling_a_model_with_ddim():
    torch.manual_seed(3)
    x0, cond = _multi_view_batch(1, 8, 2)
    model = MultiViewDenoiser(DenoiserConfig.tiny("multi_view"))
    out = sample(model, x0.shape, cond, steps=5, generator=torch.Generator().manual_seed(0))
    assert out.shape == x0.shape and torch.isfinite(out).all()


def test_ema_tracks_the_weights():
    model = torch.nn.Linear(3, 2)
    ema = EMA(model, decay=0.9)
    w0 = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)  # first update uses min(0.9, 2/11)
    d = 2.0 / 11.0
    assert torch.allclose(ema.model.weight, d * w0 + (1 - d) * (w0 + 1.0), atol=1e-6)
    for _ in range(200):
        ema.update(model)
    assert torch.allclose(ema.model.weight, model.weight, atol=1e-6)
    assert not ema.model.weight.requires_grad
    other = torch.nn.Linear(3, 2)
    ema.copy_to(other)
    assert torch.equal(other.weight, ema.model.weight)


def test_random_observation_mask():
    g = torch.Generator().manual_seed(0)
    mask = torch.ones(64, 30, 21)
    mask[:, :, 3] = 0
    out = random_observation_mask(mask, g, point_drop=0.2, frame_drop=0.0, num_joints=17, object_drop=0.5)
    assert out.dtype == mask.dtype and float(out[:, :, 3].sum()) == 0.0
    body = float(out[:, :, :17].sum() / mask[:, :, :17].sum())
    obj = float(out[:, :, 17:].mean())
    assert abs(body - 0.8) < 0.02 and abs(obj - 0.4) < 0.03
    frames = random_observation_mask(torch.ones(200, 50, 17), g, point_drop=0.0, frame_drop=0.3)
    per_frame = frames.sum(-1)
    assert set(per_frame.unique().tolist()) == {0.0, 17.0}
    assert abs(float((per_frame == 0).float().mean()) - 0.3) < 0.02


def test_presets():
    d = DenoiserConfig.default("multi_view")
    assert (d.layers, d.width, d.heads, d.window, d.num_points) == (4, 256, 4, 60, 17)
    assert DenoiserConfig.from_dict(d.to_dict()) == d
    assert DenoiserConfig.tiny(num_object_keypoints=8).num_points == 25
    with pytest.raises(ValueError):
        DenoiserConfig(width=30, heads=4)
    with pytest.raises(ValueError):
        DenoiserConfig(kind="three_view")
    with pytest.raises(ValueError):
        SingleViewDenoiser(DenoiserConfig.tiny("multi_view"))


def test_init_multi_view_from_single_view():
    sv = SingleViewDenoiser(DenoiserConfig.tiny())
    mv = MultiViewDenoiser(DenoiserConfig.tiny("multi_view"))
    copied = init_from_single_view(mv, sv.state_dict())
    assert "net.blocks.0.attn_t.qkv.weight" in copied and "net.head.weight" in copied
    assert "net.embed.mlp.0.weight" not in copied and not any("attn_v" in k for k in copied)
    assert torch.equal(mv.net.blocks[1].ff.net[0].weight, sv.net.blocks[1].ff.net[0].weight)
    assert torch.equal(mv.net.step.mlp[2].weight, sv.net.step.mlp[2].weight)


def test_epipolar_model_widens_a_trained_one_and_reads_its_lines():
    torch.manual_seed(2)
    x0, cond = _multi_view_batch(2, 12, 4)
    lines = torch.randn((*x0.shape[:-1], 3))
    lines[:, 0] = 0.0
    with_lines = MultiViewCondition(cond.camera, cond.observed, cond.observed_mask, lines)
    plain = MultiViewDenoiser(DenoiserConfig.tiny("multi_view")).eval()
    epi = MultiViewDenoiser(DenoiserConfig.tiny("multi_view", epipolar=True)).eval()
    init_from_multi_view(epi, plain.state_dict())
    x_n, n = x0 + torch.randn_like(x0), torch.tensor([100, 800])
    with torch.no_grad():
        # Widened: the new input columns start at zero, so the outputs are the trained model's.
        assert torch.allclose(epi(x_n, n, with_lines), plain(x_n, n, cond), atol=1e-6)
        epi.net.embed.mlp[0].weight.normal_()
        out = epi(x_n, n, with_lines)
        # The lines matter, but only where the input view observes the joint.
        assert not torch.allclose(out, epi(x_n, n, cond), atol=1e-4)
        hidden = cond.observed_mask[:, 0] == 0
        assert hidden.any()
        moved = with_lines.lines.clone()
        moved[hidden[:, None].expand(-1, 4, -1, -1)] += 5.0
        changed = MultiViewCondition(cond.camera, cond.observed, cond.observed_mask, moved)
        assert torch.allclose(epi(x_n, n, changed), out, atol=1e-5)
        # ... and permute with their views.
        order = [0, 3, 1, 2]
        assert torch.allclose(
            epi(x_n[:, order], n, with_lines.permute_views(order)), out[:, order], atol=1e-5
        )
    # Other differences are refused.
    with pytest.raises(ValueError):
        init_from_multi_view(
            MultiViewDenoiser(DenoiserConfig.tiny("multi_view", width=64, heads=4)), plain.state_dict()
        )


def test_centre_root_removes_global_translation():
    x = np.random.default_rng(0).normal(size=(5, 17, 2))
    c = rep.centre_root(x)
    assert np.allclose(c[:, 11] + c[:, 12], 0.0)
    keep = [i for i in range(17) if i not in (11, 12)]
    assert np.allclose(rep.to_root_local(c)[:, keep], rep.to_root_local(x)[:, keep])
