"""Metrics on small hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from anylift import metrics
from anylift.errors import InputError
from anylift.geometry.transforms import similarity_align


@pytest.fixture
def motion() -> np.ndarray:
    """(20, 17, 3) random-ish poses around a moving root, metres."""
    rng = np.random.default_rng(0)
    base = rng.normal(scale=0.3, size=(17, 3))
    wobble = rng.normal(scale=0.05, size=(20, 17, 3))
    path = np.linspace([0, 0, 0.9], [2, 1, 0.9], 20)
    return base + wobble + path[:, None]


def test_pure_translation(motion):
    offset = np.array([0.3, -0.4, 0.0])  # |offset| = 0.5 m
    moved = motion + offset
    assert metrics.mpjpe(moved, motion) == pytest.approx(0.0, abs=1e-12)
    assert metrics.t_root(moved, motion, align="none") == pytest.approx(0.5)
    assert metrics.t_root(moved, motion) == pytest.approx(0.0, abs=1e-12)
    assert metrics.w_mpjpe(moved, motion) == pytest.approx(0.0, abs=1e-9)


def test_t_root_drift(motion):
    drift = np.zeros((20, 1, 3))
    drift[:, 0, 0] = 0.01 * np.arange(20)  # 1 cm a frame along x
    assert metrics.t_root(motion + drift, motion) == pytest.approx(0.01 * np.mean(np.arange(20)))
    # Roots: hip midpoint for COCO-17, joint 0 for SMPL; only the root joints matter.
    moved = motion.copy()
    moved[:, 0] += 1.0
    assert metrics.t_root(moved, motion, root="coco17", align="none") == 0.0
    assert metrics.t_root(moved, motion, root="smpl24", align="none") == pytest.approx(np.sqrt(3))


def test_mpjpe_hand_computed():
    gt = np.zeros((1, 17, 3))
    gt[0, :, 0] = np.arange(17)
    pred = gt.copy()
    pred[0, 0, 1] = 0.17  # one joint off by 17 cm -> mean 1 cm
    assert metrics.mpjpe(pred, gt) == pytest.approx(0.01)
    # Moving one hip by 20 cm moves the root by 10 cm: every joint is then 10 cm off.
    pred = gt.copy()
    pred[0, 11, 2] = 0.2
    assert metrics.mpjpe(pred, gt) == pytest.approx(0.1)
    assert metrics.mpjpe(pred, gt, root="smpl24") == pytest.approx(0.2 / 17)
    mask = np.ones((1, 17), dtype=bool)
    mask[0, 0] = False
    pred = gt.copy()
    pred[0, 0, 1] = 5.0
    assert metrics.mpjpe(pred, gt, mask=mask) == 0.0


def test_pa_mpjpe_rotated_scaled_copy(motion):
    R = Rotation.from_euler("zyx", [40, -20, 10], degrees=True).as_matrix()
    copy = 1.3 * motion @ R.T + [5.0, 0.0, -1.0]
    assert metrics.pa_mpjpe(copy, motion) == pytest.approx(0.0, abs=1e-9)
    assert metrics.pa_mpjpe(copy, motion, alignment="sequence") == pytest.approx(0.0, abs=1e-9)
    assert metrics.mpjpe(copy, motion) > 0.05
    # A different rotation in each frame: per-frame alignment removes it, one sequence-wide does not.
    per_frame = np.stack([m @ Rotation.from_euler("z", 9 * t, degrees=True).as_matrix().T for t, m in
                          enumerate(motion)])  # fmt: skip
    assert metrics.pa_mpjpe(per_frame, motion) == pytest.approx(0.0, abs=1e-9)
    assert metrics.pa_mpjpe(per_frame, motion, alignment="sequence") > 0.05


def test_pa_mpjpe_known_residual():
    # A shape change PA cannot remove: check the optimum against scipy's least squares over
    # the similarity parameters.
    from scipy.optimize import least_squares

    rng = np.random.default_rng(3)
    gt = rng.normal(size=(1, 8, 3))
    pred = gt + rng.normal(scale=0.1, size=gt.shape)

    def residual(x):
        s, rotvec, t = x[0], x[1:4], x[4:]
        return (s * pred[0] @ Rotation.from_rotvec(rotvec).as_matrix().T + t - gt[0]).ravel()

    best = least_squares(residual, np.r_[1.0, np.zeros(6)])
    reference_sq = np.sum(best.fun.reshape(8, 3) ** 2, axis=1)
    ours_s, ours_r, ours_t = similarity_align(pred[0], gt[0])
    ours_sq = np.sum((ours_s * pred[0] @ ours_r.T + ours_t - gt[0]) ** 2, axis=1)
    assert ours_sq.sum() == pytest.approx(reference_sq.sum(), rel=1e-6)
    assert metrics.pa_mpjpe(pred, gt) == pytest.approx(np.mean(np.sqrt(ours_sq)))


def test_w_mpjpe_aligns_first_two_frames(motion):
    R = Rotation.from_euler("z", 30, degrees=True).as_matrix()
    rigid = motion @ R.T + [1.0, 2.0, 0.0]
    assert metrics.w_mpjpe(rigid, motion) == pytest.approx(0.0, abs=1e-9)
    # Scale is not fitted: a 2x larger world stays wrong.
    assert metrics.w_mpjpe(2.0 * motion, motion) > 0.1
    # A drift that starts after the first two frames is measured in full.
    drift = np.zeros_like(motion)
    drift[2:, :, 0] = 0.1
    assert metrics.w_mpjpe(motion + drift, motion) == pytest.approx(0.1 * 18 / 20)
    # In chunks of 10, the second chunk is re-aligned on its own first two frames.
    drift = np.zeros_like(motion)
    drift[10:, :, 0] = 0.1
    assert metrics.w_mpjpe(motion + drift, motion) == pytest.approx(0.05)
    assert metrics.w_mpjpe(motion + drift, motion, chunk=10) == pytest.approx(0.0, abs=1e-9)


def test_j2d_and_j2d_c():
    gt = np.zeros((2, 4, 2))
    gt[:, :, 0] = [0, 100, 0, 100]
    gt[:, :, 1] = [0, 0, 200, 200]  # a 100 x 200 px person
    shifted = gt + np.array([30.0, 40.0])
    assert metrics.j2d(shifted, gt) == pytest.approx(50.0)
    assert metrics.j2d_c(shifted, gt) == pytest.approx(0.0)  # where the person is does not count
    bigger = gt * 2.0  # same shape, twice the size, centre moved
    assert metrics.j2d_c(bigger, gt, crop_size=1.0) == pytest.approx(np.mean(np.hypot(50, 100)) / 200)
    one_off = gt.copy()
    one_off[:, 0, 0] -= 20.0  # widens the predicted box: centre moves 10 px left
    # Errors after centring: joint 0 is 10 px off, the three others 10 px; / 200 * 256.
    assert metrics.j2d_c(one_off, gt) == pytest.approx(10.0 / 200.0 * 256.0)


def test_foot_sliding():
    t = 10
    joints = np.zeros((t, 17, 3))
    joints[:, :, 2] = 1.0
    joints[:, 15, 2] = 0.05  # left ankle on the floor, sliding 2 cm a frame
    joints[:, 15, 0] = 0.02 * np.arange(t)
    joints[:, 16, 2] = 0.05  # right ankle planted
    assert metrics.foot_sliding(joints) == pytest.approx(0.01)  # (0.02 + 0) / 2
    # Lifted above the threshold, a moving foot does not count.
    joints[5:, 15, 2] = 0.5
    assert metrics.foot_sliding(joints) == pytest.approx(0.02 * 4 / (4 + 9))
    joints[:, [15, 16], 2] = 0.5
    assert metrics.foot_sliding(joints) == 0.0
    # Vertical motion is not sliding.
    joints[:, 16, 2] = 0.01 * np.arange(t) % 0.04
    assert metrics.foot_sliding(joints) == 0.0


def test_acceleration_and_jitter(motion):
    t = np.arange(20)[:, None, None]
    linear = motion[0] + 0.03 * t * np.array([1.0, 0.5, 0.0])
    quadratic = linear + 0.001 * t**2 * np.array([0.0, 0.0, 1.0])
    assert metrics.accel_error(linear + np.array([1.0, 2.0, 3.0]), linear) == pytest.approx(0.0, abs=1e-12)
    # x'' = 0.002 m/frame^2 everywhere -> 0.002 * 30^2 = 1.8 m/s^2 at 30 fps.
    assert metrics.accel_error(quadratic, linear) == pytest.approx(0.002)
    assert metrics.accel_error(quadratic, linear, fps=30) == pytest.approx(1.8)
    assert metrics.jitter(quadratic) == pytest.approx(0.0, abs=1e-9)
    cubic = linear + 0.001 * t**3 * np.array([1.0, 0.0, 0.0])
    assert metrics.jitter(cubic, fps=None) == pytest.approx(0.006)
    assert metrics.jitter(cubic, fps=10) == pytest.approx(6.0)


def test_masks_and_errors(motion):
    pred = motion.copy()
    pred[3, 5] = np.nan  # missing joint: skipped, not NaN
    assert np.isfinite(metrics.mpjpe(pred, motion))
    frame_mask = np.ones(20, dtype=bool)
    frame_mask[4] = False
    bad = motion.copy()
    bad[4] += np.random.default_rng(1).normal(size=(17, 3))
    assert metrics.pa_mpjpe(bad, motion, mask=frame_mask) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(InputError, match="shape"):
        metrics.mpjpe(motion[:, :10], motion)
    with pytest.raises(InputError, match="root"):
        metrics.mpjpe(motion, motion, root="h36m")
    with pytest.raises(InputError, match="no valid"):
        metrics.mpjpe(motion, motion, mask=np.zeros(20, dtype=bool))
