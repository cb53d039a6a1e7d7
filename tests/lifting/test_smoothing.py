"""The input keypoints' GCV Whittaker smoothing (anylift.lifting.smoothing)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anylift.lifting import smoothing


def _track(t: np.ndarray) -> np.ndarray:
    """(T, 17, 2) pixels: a still hip, a swinging wrist (1.5 Hz, 120 px) and a kicking foot."""
    xy = np.zeros((len(t), 17, 2)) + np.array([320.0, 240.0])
    xy[:, 9, 0] += 120 * np.sin(2 * np.pi * 1.5 * t)
    xy[:, 9, 1] += 40 * np.cos(2 * np.pi * 1.5 * t)
    xy[:, 15, 1] -= 150 * np.exp(-(((t - t.mean()) / 0.15) ** 2))  # a kick: up 150 px and back in 0.3 s
    xy += np.arange(17)[None, :, None]  # joints apart
    return xy


def _with_scores(xy: np.ndarray, score: float = 0.9) -> np.ndarray:
    return np.concatenate([xy, np.full((*xy.shape[:2], 1), score)], -1)


@pytest.mark.parametrize("order", [2, 3])
def test_the_banded_solve_and_trace_equal_the_dense_ones_at_uneven_frame_times(order):
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(0.02, 0.05, 40))
    bands = smoothing._penalty_bands(times, order)
    frames = (times - times[0]) * smoothing.TIME_UNIT_FPS
    d = np.zeros((40 - order, 40))  # divided differences x order!: the order-th derivative
    for i in range(40 - order):
        t = frames[i : i + order + 1]
        for j in range(order + 1):
            d[i, i + j] = math.factorial(order) / np.prod([t[j] - t[m] for m in range(order + 1) if m != j])
    w = rng.uniform(0.0, 1.0, (3, 40))
    w[:, 5:9] = 0.0  # a gap
    rhs = rng.normal(size=(3, 40, 2))
    lam = np.array([0.5, 10.0, 300.0])
    x, trace = smoothing._banded_solve_and_trace(w, rhs, bands, lam)
    for k in range(3):
        a = np.diag(w[k]) + lam[k] * d.T @ d
        np.testing.assert_allclose(x[k], np.linalg.solve(a, rhs[k]), atol=1e-8)
        assert trace[k] == pytest.approx(float(np.diag(np.linalg.inv(a)) @ w[k]), abs=1e-8)


def test_jitter_is_taken_out_and_a_fast_clean_kick_is_left_alone():
    t = np.arange(60) / 30.0
    clean = _track(t)
    rng = np.random.default_rng(1)
    noisy = clean + rng.normal(0.0, 6.0, clean.shape)
    out, lam = smoothing.smooth_keypoints(_with_scores(noisy), t)
    before = np.linalg.norm(noisy - clean, axis=-1).mean()
    after = np.linalg.norm(out[..., :2] - clean, axis=-1)
    assert after.mean() < 0.6 * before
    assert after[:, 15].mean() < 0.8 * np.linalg.norm(noisy - clean, axis=-1)[:, 15].mean()  # the kick too
    assert lam[0] > lam[15]  # the still hip smoothed harder than the kicking foot
    # Without noise the kick's peak is kept (GCV picks a light penalty).
    out, _ = smoothing.smooth_keypoints(_with_scores(clean), t)
    assert np.abs(out[..., :2] - clean).max() < 3.0


def test_undetected_joints_and_scores_are_unchanged_and_a_steady_motion_at_uneven_times_is_exact():
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.uniform(1 / 60, 1 / 24, 50))  # variable-rate footage
    xy = np.zeros((50, 17, 2)) + 100.0
    xy[..., 0] += 300.0 * (times - times[0])[:, None]  # constant velocity: no third-difference cost
    kp = _with_scores(xy, 0.7)
    kp[10:15, 3] = [np.nan, np.nan, 0.0]
    kp[:, 4] = [np.nan, np.nan, 0.0]  # never seen
    out, lam = smoothing.smooth_keypoints(kp, times)
    np.testing.assert_array_equal(out[..., 2], kp[..., 2])
    assert np.isnan(out[10:15, 3, :2]).all() and np.isnan(out[:, 4, :2]).all() and np.isnan(lam[4])
    seen = kp[..., 2] > 0
    np.testing.assert_allclose(out[seen][:, :2], kp[seen][:, :2], atol=1e-6)


def test_a_shaking_camera_is_not_taken_for_jitter_and_slow_footage_is_left_alone():
    from scipy.spatial.transform import Rotation

    from anylift.io.cameras import Camera

    rng = np.random.default_rng(4)
    t_len, fps = 60, 30.0
    body = np.array([0.0, 0.0, 5.0]) + rng.normal(0.0, 0.3, (17, 3))  # a still person 5 m ahead
    shake = Rotation.from_rotvec(rng.normal(0.0, np.radians(0.6), (t_len, 3))).as_matrix()  # a hand's tremor
    w2c = np.zeros((t_len, 4, 4))
    w2c[:, :3, :3], w2c[:, 3, 3] = shake, 1.0
    k = np.array([[1000.0, 0.0, 640.0], [0.0, 1000.0, 360.0], [0.0, 0.0, 1.0]])
    cam = Camera(K=k, world_to_camera=w2c)
    p = np.einsum("tij,kj->tki", shake, body) @ k.T
    clean = p[..., :2] / p[..., 2:]
    kp = _with_scores(clean + rng.normal(0.0, 3.0, clean.shape))
    times = np.arange(t_len) / fps
    err = lambda out: np.linalg.norm(out[..., :2] - clean, axis=-1).mean()  # noqa: E731
    raw = err(kp)
    assert err(smoothing.smooth_keypoints(kp, times, cam)[0]) < 0.6 * raw
    assert err(smoothing.smooth_keypoints(kp, times)[0]) > raw  # in pixels the shake looks like jitter
    slow = np.arange(t_len) / 12.0  # under MIN_FPS: as given
    out, lam = smoothing.smooth_keypoints(kp, slow, cam)
    np.testing.assert_array_equal(out, kp)
    assert np.isnan(lam).all()
