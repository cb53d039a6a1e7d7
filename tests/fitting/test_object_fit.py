"""Object pose fitting: exact recovery, masks, scale, symmetric boxes that must not flip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from anylift.errors import InputError
from anylift.fitting.object_fit import ObjectFitConfig, choose_symmetric, fit_object_pose, kabsch
from anylift.object_templates import box_template, get_template, user_template

torch.set_num_threads(1)
T = 48


def _poses(seed: int = 0, spin: float = 0.08):
    """(T,3,3), (T,3): a tumbling, travelling object (about 5 degrees per frame)."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    axis = rng.normal(size=3)
    rotvec = np.stack([0.3 * np.sin(0.1 * t), spin * t, 0.5 * spin * t], -1) + axis
    rot = Rotation.from_rotvec(rotvec).as_matrix()
    trans = np.stack([0.02 * t, np.sin(0.1 * t), 0.8 + 0.2 * np.cos(0.15 * t)], -1) + rng.normal(size=3)
    return rot, trans


def _points(tp, rot, trans, scale):
    return scale * np.einsum("tij,mj->tmi", rot, tp.canonical) + trans[:, None]


def _angles_deg(a, b):
    return np.degrees(Rotation.from_matrix(np.swapaxes(a, -1, -2) @ b).magnitude())


@pytest.mark.parametrize(
    "tp",
    [
        get_template("box"),
        get_template("chair"),
        get_template("table"),
        user_template(np.random.default_rng(3).normal(scale=0.3, size=(6, 3))),
    ],
    ids=["box", "chair", "table", "user"],
)
def test_recovers_known_poses_from_noiseless_keypoints(tp):
    rot, trans = _poses(1)
    fit = fit_object_pose(_points(tp, rot, trans, 1.3), tp)
    assert _angles_deg(fit.rotation, rot).max() < 1.0
    assert np.abs(fit.translation - trans).max() < 1e-3
    assert abs(fit.scale - 1.3) < 1e-4
    assert fit.observed.all() and fit.final_error < 1e-4
    assert np.array_equal(fit.assignment, np.tile(np.arange(tp.num_keypoints), (T, 1)))


def test_masked_keypoints():
    tp = get_template("box")
    rot, trans = _poses(2)
    q = _points(tp, rot, trans, 0.8)
    rng = np.random.default_rng(0)
    mask = rng.random(q.shape[:2]) > 0.4
    # The reference pair (0, 7) is never seen together: the scale must come from other frames' spreads.
    mask[:, 7] &= ~mask[:, 0]
    mask[20:23] = False  # fully occluded
    mask[30] = False
    mask[30, [1, 2]] = True  # two keypoints: translation from them, rotation interpolated
    mask[[5, 6], :] = False
    mask[[5, 6], :3] = True
    q_nan = np.where(mask[..., None], q, np.nan)  # masked values must not be read
    fit = fit_object_pose(q_nan, tp, weights=mask)
    determined = mask.sum(1) >= 3
    assert np.array_equal(fit.observed, determined)
    assert abs(fit.scale - 0.8) < 1e-4
    assert _angles_deg(fit.rotation[determined], rot[determined]).max() < 1.0
    assert np.abs(fit.translation[determined] - trans[determined]).max() < 1e-3
    # Gaps are bridged smoothly: within a few degrees / centimetres of the truth.
    assert _angles_deg(fit.rotation, rot).max() < 5.0
    assert np.abs(fit.keypoints3d[30, [1, 2]] - q[30, [1, 2]]).max() < 5e-3
    assert np.isnan(fit.error[20]) and fit.error[determined].max() < 1e-4


def test_rotating_box_does_not_flip_between_symmetric_poses():
    """Corner labels swapped among the box's symmetries at random (a detector that cannot tell)."""
    tp = get_template("box")
    rot, trans = _poses(4)
    q = _points(tp, rot, trans, 1.0)
    rng = np.random.default_rng(5)
    k = rng.integers(0, tp.num_symmetries, size=T)
    k[0] = 2  # the first frame's labelling is itself a symmetric one
    swapped = np.stack([q[t][tp.symmetry_permutations[k[t]]] for t in range(T)])
    true_step = _angles_deg(rot[:-1], rot[1:])

    # Per-frame alignment alone jumps by 180 degrees wherever the labels change.
    naive, _ = kabsch(tp.canonical, swapped, np.ones((T, 8)), 1.0)
    assert _angles_deg(naive[:-1], naive[1:]).max() > 170.0

    fit = fit_object_pose(swapped + rng.normal(scale=0.002, size=swapped.shape), tp)
    step = _angles_deg(fit.rotation[:-1], fit.rotation[1:])
    assert np.all(step < true_step + 1.0)
    # One symmetry for the whole clip: the fitted pose is the truth turned by frame 0's symmetry.
    rel = np.swapaxes(rot, -1, -2) @ fit.rotation
    assert np.abs(rel - tp.symmetry_rotations[k[0]]).max() < 0.02
    # The fitted keypoints are the observed ones, relabelled consistently.
    assert np.abs(fit.keypoints3d - np.take_along_axis(swapped, fit.assignment[..., None], 1)).max() < 0.01
    assert np.abs(fit.keypoints3d - q[:, tp.symmetry_permutations[k[0]]]).max() < 0.01


def test_choose_symmetric_keeps_a_cube_continuous():
    tp = box_template((0.4, 0.4, 0.4))
    rot, trans = _poses(6, spin=0.05)
    rng = np.random.default_rng(0)
    k = rng.integers(0, 24, size=T)
    jumped = rot @ tp.symmetry_rotations[k]
    moved = trans + np.einsum("tij,tj->ti", rot, tp.symmetry_offsets[k])
    out_r, out_t, chosen = choose_symmetric(jumped, moved, 1.0, tp)
    rel = np.swapaxes(rot, -1, -2) @ out_r
    assert np.abs(rel - rel[0]).max() < 1e-9 and np.allclose(out_t, trans)
    assert chosen[0] == 0


def test_refinement_smooths_noisy_rotations():
    tp = get_template("box")
    rot, trans = _poses(7, spin=0.03)
    noisy = _points(tp, rot, trans, 1.0) + np.random.default_rng(1).normal(scale=0.01, size=(T, 8, 3))
    init = fit_object_pose(noisy, tp, config=ObjectFitConfig(iterations=0))
    refined = fit_object_pose(noisy, tp, config=ObjectFitConfig(w_smooth=1.0))
    e0, e1 = _angles_deg(init.rotation, rot).mean(), _angles_deg(refined.rotation, rot).mean()
    assert e1 < 0.8 * e0, (e0, e1)


def test_errors_name_the_problem():
    tp = get_template("box")
    with pytest.raises(InputError, match=r"\(T, 8, 3\)"):
        fit_object_pose(np.zeros((5, 6, 3)), tp)
    q = _points(tp, *_poses(0), 1.0)
    mask = np.zeros(q.shape[:2], bool)
    mask[:, :2] = True
    with pytest.raises(InputError, match="three object keypoints"):
        fit_object_pose(q, tp, weights=mask)
