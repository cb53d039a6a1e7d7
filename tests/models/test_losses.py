"""Losses: masked L1, hip masking of local-only samples, line matching."""

import numpy as np
import pytest
import torch

from anylift import representation as rep
from anylift.models import line_loss, masked_l1, target_mask


def test_masked_l1_ignores_masked_entries():
    pred = torch.zeros(2, 3, 4, 2)
    target = torch.ones(2, 3, 4, 2)
    target[0, 0, 0] = 100.0
    mask = torch.ones(2, 3, 4)
    mask[0, 0, 0] = 0
    assert float(masked_l1(pred, target, mask)) == pytest.approx(1.0)
    assert float(masked_l1(pred, target, torch.zeros(2, 3, 4))) == 0.0


def test_target_mask_drops_hips_of_local_only_samples():
    mask = torch.ones(3, 5, 17)
    out = target_mask(mask, torch.tensor([False, True, False]))
    assert float(out[1, :, 11].sum()) == 0.0 and float(out[1, :, 12].sum()) == 0.0
    assert float(out[1].sum()) == 5 * 15 and float(out[0].sum()) == float(out[2].sum()) == 5 * 17
    mv = target_mask(torch.ones(2, 4, 5, 17), torch.tensor([True, False]))
    assert float(mv[0].sum()) == 4 * 5 * 15 and float(mv[1].sum()) == 4 * 5 * 17


def _points_and_lines(seed=0):
    rng = np.random.default_rng(seed)
    glob = rng.normal(size=(2, 6, 17, 2))
    angle = rng.uniform(0, np.pi, size=(2, 6, 17))
    normal = np.stack([np.cos(angle), np.sin(angle)], -1)
    lines = np.concatenate([normal, -(normal * glob).sum(-1, keepdims=True)], -1)
    return glob, normal, lines


def test_line_loss_is_zero_on_lines_and_linear_in_distance():
    glob, normal, lines = _points_and_lines()
    lines_t = torch.from_numpy(lines)
    losses = []
    for d in [0.0, 0.1, 0.25, 0.5]:
        moved = torch.from_numpy(rep.to_root_local(glob + d * normal))
        losses.append(float(line_loss(moved, lines_t)))
    assert losses[0] == pytest.approx(0.0, abs=1e-12)
    assert losses == pytest.approx([0.0, 0.1, 0.25, 0.5], abs=1e-9)
    # Unnormalised lines and "no line" (all zero) rows are handled.
    scaled = lines_t * 3.0
    scaled[0, 0] = 0.0
    moved = torch.from_numpy(rep.to_root_local(glob + 0.2 * normal))
    assert float(line_loss(moved, scaled)) == pytest.approx(0.2, abs=1e-9)


def test_line_loss_mask_and_gradient():
    glob, normal, lines = _points_and_lines(1)
    moved = glob + 0.3 * normal
    moved[0] += 5.0 * normal[0]  # sample 0 far off, but masked out
    mask = torch.ones(2, 6, 17)
    mask[0] = 0
    x = torch.from_numpy(rep.to_root_local(moved)).requires_grad_(True)
    loss = line_loss(x, torch.from_numpy(lines), mask)
    assert float(loss.detach()) == pytest.approx(0.3, abs=1e-9)
    loss.backward()
    assert float(x.grad[0].abs().sum()) == 0.0 and float(x.grad[1].abs().sum()) > 0.0
