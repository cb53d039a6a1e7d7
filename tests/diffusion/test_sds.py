"""Score distillation: gradient formula and convergence towards the data with an oracle."""

import itertools

import pytest
import torch

from anylift.diffusion import cosine_schedule, sds_gradient


def test_sds_gradient_formula_with_oracle():
    s = cosine_schedule()
    data = torch.randn(64, 10, 2, generator=torch.Generator().manual_seed(0))
    x = torch.randn(64, 10, 2, generator=torch.Generator().manual_seed(1))
    oracle = lambda x_n, n, cond: data  # noqa: E731
    g_snr = sds_gradient(oracle, x, None, s, weighting="snr", generator=torch.Generator().manual_seed(2))
    assert torch.allclose(g_snr, x - data, atol=1e-3)
    g = sds_gradient(oracle, x, None, s, generator=torch.Generator().manual_seed(2))
    ratio = (g / (x - data)).flatten(1)
    # Each sequence has one n: the same factor sqrt(a (1 - a)) in (0, 1/2] on all its entries.
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio), atol=1e-3)
    assert float(ratio.min()) > 0.0 and float(ratio.max()) <= 0.5 + 1e-4
    assert float(ratio.std()) > 0.01  # different sequences drew different steps


def test_sds_respects_the_step_range():
    s = cosine_schedule()
    data = torch.zeros(200, 3)
    x = torch.ones(200, 3)
    seen = []

    def oracle(x_n, n, cond):
        seen.append(n)
        return data

    sds_gradient(oracle, x, None, s, n_range=(0.5, 0.6), generator=torch.Generator().manual_seed(0))
    n = seen[0]
    assert int(n.min()) >= 499 and int(n.max()) <= 600 and len(set(n.tolist())) > 20
    with pytest.raises(ValueError):
        sds_gradient(oracle, x, None, s, n_range=(0.7, 0.2))
    with pytest.raises(ValueError):
        sds_gradient(oracle, x, None, s, weighting="mystery")


@pytest.mark.parametrize("weighting,lr", [("sds", 1.0), ("snr", 0.3)])
def test_sds_with_oracle_pulls_sequences_towards_the_data(weighting, lr):
    s = cosine_schedule()
    g = torch.Generator().manual_seed(0)
    data = torch.randn(8, 16, 17, 2, generator=g)
    x = torch.randn(8, 16, 17, 2, generator=g).requires_grad_(True)
    opt = torch.optim.SGD([x], lr=lr)
    oracle = lambda x_n, n, cond: data  # noqa: E731
    dists = [float((x.detach() - data).norm())]
    for _ in range(30):
        opt.zero_grad()
        x.backward(gradient=sds_gradient(oracle, x, None, s, weighting=weighting, generator=g))
        opt.step()
        dists.append(float((x.detach() - data).norm()))
    # Monotone down to the float32 noise floor of eps_pred - eps.
    assert all(b < a for a, b in itertools.pairwise(dists) if a > 1e-3 * dists[0])
    assert dists[-1] < 0.02 * dists[0]
