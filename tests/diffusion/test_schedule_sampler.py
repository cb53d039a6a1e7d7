"""Schedules, timestep spacing, DDPM/DDIM updates with oracle and real denoisers, hooks, progress."""

import threading

import numpy as np
import pytest
import torch

from anylift.diffusion import (
    SamplingCancelled,
    cosine_schedule,
    linear_schedule,
    make_schedule,
    observed_guidance,
    sample,
    sampling_timesteps,
)


def _data(seed=0, shape=(3, 8, 5, 2)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g) * 0.7 + 0.2


def test_cosine_schedule_values():
    s = cosine_schedule(1000)
    a = s.alphas_cumprod
    assert a.shape == (1000,)
    assert torch.all(a[1:] < a[:-1])
    # alpha_bar(1) = cos^2((1/1000 + s)/(1+s) pi/2) / cos^2(s/(1+s) pi/2) with s = 0.008.
    f = lambda t: np.cos((t + 0.008) / 1.008 * np.pi / 2) ** 2  # noqa: E731
    assert float(a[0]) == pytest.approx(f(0.001) / f(0.0), rel=1e-9)
    assert float(a[499]) == pytest.approx(f(0.5) / f(0.0), rel=1e-6)
    assert float(a[-1]) < 1e-4
    assert torch.allclose(s.betas, 1 - a / torch.cat([torch.ones(1, dtype=a.dtype), a[:-1]]))


def test_linear_schedule_values():
    a = linear_schedule(1000).alphas_cumprod
    betas = np.linspace(1e-4, 0.02, 1000)
    assert float(a[-1]) == pytest.approx(np.prod(1 - betas), rel=1e-9)
    # Fewer steps keep about the same final noise level.
    assert float(linear_schedule(100).alphas_cumprod[-1]) < 1e-3
    assert make_schedule("linear", 50).num_steps == 50
    with pytest.raises(ValueError, match="unknown noise schedule"):
        make_schedule("sigmoid")


def test_q_sample_matches_marginal_statistics():
    s = cosine_schedule()
    x0 = torch.full((20000, 1), 2.0)
    n = torch.full((20000,), 300)
    x = s.q_sample(x0, n, torch.randn(x0.shape, generator=torch.Generator().manual_seed(1)))
    a = float(s.alphas_cumprod[300])
    assert float(x.mean()) == pytest.approx(2.0 * a**0.5, abs=0.03)
    assert float(x.std()) == pytest.approx((1 - a) ** 0.5, abs=0.02)
    eps = torch.randn(4, 3)
    x_n = s.q_sample(x0[:4].expand(4, 3), n[:4], eps)
    assert torch.allclose(s.eps_from_x0(x_n, n[:4], x0[:4].expand(4, 3)), eps, atol=1e-5)


@pytest.mark.parametrize("spacing", ["uniform", "quadratic"])
@pytest.mark.parametrize("steps", [1, 2, 10, 50, 999, 1000])
def test_sampling_timesteps(spacing, steps):
    ts = sampling_timesteps(steps, 1000, spacing)
    assert ts.dtype == torch.long and len(ts) == steps
    assert int(ts[0]) == 999
    assert torch.all(ts[1:] < ts[:-1])
    assert int(ts[-1]) >= 0
    if steps >= 2:
        assert int(ts[-1]) == 0


def test_quadratic_spacing_is_denser_near_clean_end():
    u, q = sampling_timesteps(10), sampling_timesteps(10, spacing="quadratic")
    assert u.tolist() == [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]
    assert int(q[-2]) < int(u[-2]) and int(q[1]) < 999
    with pytest.raises(ValueError):
        sampling_timesteps(0)
    with pytest.raises(ValueError):
        sampling_timesteps(1001)


class Recorder:
    """Oracle denoiser returning the true data; records every x_n it is called with."""

    def __init__(self, data):
        self.data, self.calls = data, []

    def __call__(self, x_n, n, cond):
        self.calls.append((x_n.clone(), int(n[0])))
        assert n.shape == (x_n.shape[0],)
        return self.data


@pytest.mark.parametrize("method,eta", [("ddim", 0.0), ("ddim", 0.7), ("ddpm", 0.0)])
@pytest.mark.parametrize("steps", [1000, 50, 10])
def test_oracle_denoiser_returns_data_exactly(method, eta, steps):
    data = _data()
    oracle = Recorder(data)
    out = sample(
        oracle, data.shape, steps=steps, method=method, eta=eta, generator=torch.Generator().manual_seed(3)
    )
    assert len(oracle.calls) == steps
    assert torch.allclose(out, data, atol=1e-5)


def test_ddim_eta0_oracle_path_keeps_the_initial_noise():
    """With eta = 0 and an oracle, x_n = sqrt(a_n) x0 + sqrt(1 - a_n) eps with the same eps all along."""
    s = cosine_schedule()
    data = _data(1)
    eps = torch.randn(data.shape, generator=torch.Generator().manual_seed(5))
    oracle = Recorder(data)
    sample(oracle, data.shape, schedule=s, steps=20, x_init=eps)
    implied0 = s.eps_from_x0(oracle.calls[0][0], torch.full((3,), 999), data)
    for x_n, n in oracle.calls[1:]:
        a = float(s.alphas_cumprod[n])
        assert torch.allclose(x_n, a**0.5 * data + (1 - a) ** 0.5 * implied0, atol=1e-4)


def test_ddpm_oracle_intermediates_follow_the_forward_marginals():
    s = cosine_schedule()
    data = torch.zeros(4000, 1) + 1.5
    oracle = Recorder(data)
    sample(
        oracle, data.shape, schedule=s, steps=10, method="ddpm", generator=torch.Generator().manual_seed(0)
    )
    for x_n, n in oracle.calls[1:]:
        a = float(s.alphas_cumprod[n])
        z = (x_n - a**0.5 * data) / (1 - a) ** 0.5
        assert abs(float(z.mean())) < 0.06 and abs(float(z.std()) - 1.0) < 0.05, n


def test_ddpm_equals_ddim_with_eta_one():
    data = _data(2)
    a, b = Recorder(data), Recorder(data)
    sample(a, data.shape, steps=25, method="ddpm", generator=torch.Generator().manual_seed(9))
    sample(b, data.shape, steps=25, method="ddim", eta=1.0, generator=torch.Generator().manual_seed(9))
    for (xa, na), (xb, nb) in zip(a.calls, b.calls):
        assert na == nb
        assert torch.allclose(xa, xb, atol=1e-5)


def _net():
    torch.manual_seed(0)
    lin = torch.nn.Sequential(torch.nn.Linear(11, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10))

    def denoise(x_n, n, cond):
        feats = torch.cat([x_n.flatten(1), (n.float() / 1000)[:, None]], 1)
        return lin(feats).reshape(x_n.shape)

    return denoise


def test_ddim_eta0_is_deterministic_and_generator_reproducible():
    net = _net()
    x_init = torch.randn(4, 5, 2, generator=torch.Generator().manual_seed(0))
    a = sample(net, x_init.shape, steps=30, x_init=x_init, generator=torch.Generator().manual_seed(1))
    b = sample(net, x_init.shape, steps=30, x_init=x_init, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b)
    c = sample(net, (4, 5, 2), steps=30, eta=0.5, generator=torch.Generator().manual_seed(7))
    d = sample(net, (4, 5, 2), steps=30, eta=0.5, generator=torch.Generator().manual_seed(7))
    e = sample(net, (4, 5, 2), steps=30, eta=0.5, generator=torch.Generator().manual_seed(8))
    assert torch.equal(c, d)
    assert not torch.allclose(c, e)


def test_hooks_are_applied_in_order_to_x0():
    net, target = _net(), _data(3, (4, 5, 2))
    seen = []

    def to_target(x0, n, cond):
        seen.append(("a", int(n[0])))
        return target

    def shift(x0, n, cond):
        seen.append(("b", int(n[0])))
        assert torch.equal(x0, target) and cond == "c"
        return x0 + 1.0

    out = sample(net, target.shape, "c", steps=5, hooks=[to_target, shift])
    assert torch.allclose(out, target + 1.0, atol=1e-5)
    assert [k for k, _ in seen] == ["a", "b"] * 5


def test_progress_and_cancel():
    net, calls = _net(), []
    sample(net, (2, 5, 2), steps=7, progress=lambda *a: calls.append(a))
    assert calls == [("sampling", i, 7) for i in range(1, 8)]

    cancel = threading.Event()

    def stop_after_three(stage, done, total):
        if done == 3:
            cancel.set()

    counted = []

    def counting(x_n, n, cond):
        counted.append(1)
        return net(x_n, n, cond)

    with pytest.raises(SamplingCancelled, match="3 of 10"):
        sample(counting, (2, 5, 2), steps=10, progress=stop_after_three, cancel=cancel)
    assert len(counted) == 3


def test_observed_guidance_hook_inpaints_the_observed_view():
    g = torch.Generator().manual_seed(0)
    observed = torch.randn(2, 6, 17, 2, generator=g)
    mask = (torch.rand(2, 6, 17, generator=g) > 0.3).float()

    def model(x_n, n, cond):
        return torch.zeros_like(x_n)

    out = sample(model, (2, 3, 6, 17, 2), steps=8, hooks=[observed_guidance(observed, mask, view=0)])
    assert torch.allclose(out[:, 0], observed * mask[..., None], atol=1e-5)
    assert torch.all(out[:, 1:] == 0)
    half = observed_guidance(observed, mask, view=None, strength=0.5)(
        torch.zeros(2, 6, 17, 2), torch.tensor([5, 5]), None
    )
    assert torch.allclose(half, 0.5 * observed * mask[..., None])
    late = observed_guidance(observed, mask, view=None, until_step=10)
    assert torch.all(late(torch.zeros(2, 6, 17, 2), torch.tensor([9, 9]), None) == 0)
