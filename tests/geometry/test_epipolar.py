"""Fundamental matrix, epipolar lines and epipoles against OpenCV and the identity x2^T F x1 = 0."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from anylift.geometry import camera as cam
from anylift.geometry import epipolar as epi


@pytest.fixture
def pair(rig, rng):
    """Two cameras 90 degrees apart on a ring and 60 points seen by both: (K1, w2c1, K2, w2c2, x1, x2)."""
    k2 = rig.K.copy()
    k2[0, 0], k2[1, 1], k2[0, 2] = 1400.0, 1350.0, 900.0
    w2c1 = rig.look_at([4.0, 0.5, 1.3], [0.0, 0.0, 1.0])
    w2c2 = rig.look_at([-0.5, 4.0, 1.8], [0.0, 0.0, 1.0])
    pts = rng.normal(size=(60, 3)) * [0.4, 0.4, 0.8] + [0.0, 0.0, 1.0]
    return rig.K, w2c1, k2, w2c2, cam.project(pts, rig.K, w2c1), cam.project(pts, k2, w2c2)


def _same_up_to_scale(a, b, atol):
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    assert min(np.abs(a - b).max(), np.abs(a + b).max()) < atol


def test_fundamental_matches_cv2_and_epipolar_constraint(pair):
    k1, w2c1, k2, w2c2, x1, x2 = pair
    f = epi.fundamental_from_cameras(k1, w2c1, k2, w2c2)
    f_cv, _ = cv2.findFundamentalMat(x1, x2, cv2.FM_8POINT)
    _same_up_to_scale(f, f_cv, 1e-6)
    h1 = np.concatenate([x1, np.ones((60, 1))], axis=1)
    h2 = np.concatenate([x2, np.ones((60, 1))], axis=1)
    algebraic = np.einsum("ni,ij,nj->n", h2, f / np.linalg.norm(f), h1)
    assert np.abs(algebraic).max() < 1e-12
    # The same in pixels: x2 lies on the epipolar line of x1 and vice versa.
    assert epi.point_line_distance(x2, epi.epipolar_lines(f, x1)).max() < 1e-8
    assert epi.point_line_distance(x1, epi.epipolar_lines(f.T, x2)).max() < 1e-8
    # Swapping the cameras transposes F.
    _same_up_to_scale(epi.fundamental_from_cameras(k2, w2c2, k1, w2c1), f.T, 1e-12)


def test_lines_are_normalised_and_distances_are_pixels(pair, rng):
    k1, w2c1, k2, w2c2, x1, x2 = pair
    lines = epi.epipolar_lines(epi.fundamental_from_cameras(k1, w2c1, k2, w2c2), x1)
    np.testing.assert_allclose(lines[:, 0] ** 2 + lines[:, 1] ** 2, 1.0)
    # A point moved by d along the line's normal is d pixels away.
    d = rng.uniform(-20, 20, size=60)
    moved = x2 + d[:, None] * lines[:, :2]
    np.testing.assert_allclose(epi.point_line_distance(moved, lines, signed=True), d, atol=1e-8)
    np.testing.assert_allclose(epi.point_line_distance(moved, 7.0 * lines), np.abs(d), atol=1e-8)
    # Hand-made: the line x + y - 2 = 0 and the point (2, 2) are sqrt(2) apart.
    assert epi.point_line_distance(np.array([2.0, 2.0]), np.array([1.0, 1.0, -2.0])) == pytest.approx(
        np.sqrt(2)
    )
    # A degenerate line stays finite.
    assert np.isfinite(epi.normalize_lines(np.zeros(3))).all()


def test_epipoles(pair):
    k1, w2c1, k2, w2c2, x1, _ = pair
    f = epi.fundamental_from_cameras(k1, w2c1, k2, w2c2)
    e1, e2 = epi.epipole(f, image=1), epi.epipole(f, image=2)
    assert np.abs(f @ e1).max() < 1e-9 * np.linalg.norm(f) and np.abs(f.T @ e2).max() < 1e-9 * np.linalg.norm(
        f
    )
    # e1 is camera 2's centre seen by camera 1, and every epipolar line in image 1 passes through it.
    centre2 = np.linalg.inv(w2c2)[:3, 3]
    np.testing.assert_allclose(e1[:2] / e1[2], cam.project(centre2[None], k1, w2c1)[0], rtol=1e-9)
    _same_up_to_scale(epi.epipole_from_cameras(k1, w2c1, w2c2), e1, 1e-9)
    _same_up_to_scale(epi.epipole_from_cameras(k2, w2c2, w2c1), e2, 1e-9)
    lines1 = epi.epipolar_lines(f.T, cam.project(np.random.default_rng(0).normal(size=(5, 3)), k2, w2c2))
    assert np.abs(lines1 @ (e1 / e1[2])).max() < 1e-6
    # The line through a keypoint and the epipole is that keypoint's epipolar line.
    through = epi.line_through_points(x1, e1)
    own = epi.epipolar_lines(f.T, pair[5])
    _same_up_to_scale(through[0], own[0], 1e-9)
    with pytest.raises(ValueError, match="1 or 2"):
        epi.epipole(f, image=3)


def test_epipole_at_infinity_for_side_by_side_cameras(rig):
    a = np.eye(4)
    b = np.eye(4)
    b[0, 3] = -0.5  # camera 2 half a metre to the right, same orientation
    f = epi.fundamental_from_cameras(rig.K, a, rig.K, b)
    e = epi.epipole(f, image=1)
    assert abs(e[2]) < 1e-12 and abs(abs(e[0]) - 1.0) < 1e-12
    # Lines through a point and an epipole at infinity are horizontal.
    line = epi.line_through_points(np.array([100.0, 200.0]), e)
    np.testing.assert_allclose(np.abs(line), [0.0, 1.0, 200.0], atol=1e-9)


def test_torch_matches_numpy_and_is_differentiable(pair):
    k1, w2c1, k2, w2c2, x1, x2 = pair
    f_np = epi.fundamental_from_cameras(k1, w2c1, k2, w2c2)
    f_t = epi.fundamental_from_cameras(*(torch.from_numpy(a) for a in (k1, w2c1, k2, w2c2)))
    np.testing.assert_allclose(f_t.numpy(), f_np, rtol=1e-12, atol=1e-18)
    p1 = torch.from_numpy(x1[:4]).requires_grad_(True)
    p2 = torch.from_numpy(x2[:4] + 3.0).requires_grad_(True)

    def loss(a, b):
        return epi.point_line_distance(b, epi.epipolar_lines(f_t, a))

    assert torch.autograd.gradcheck(loss, (p1, p2))
    np.testing.assert_allclose(
        loss(p1, p2).detach().numpy(), epi.point_line_distance(x2[:4] + 3.0, epi.epipolar_lines(f_np, x1[:4]))
    )
    e_t = epi.epipole(f_t, image=2)
    np.testing.assert_allclose(e_t.numpy(), epi.epipole(f_np, image=2), atol=1e-12)


def test_batched_over_views(pair):
    k1, w2c1, k2, w2c2, x1, _ = pair
    w2c_many = np.stack([w2c2, w2c1 @ np.linalg.inv(w2c1) @ w2c2, w2c2])
    f = epi.fundamental_from_cameras(k1, w2c1, k2, w2c_many)
    assert f.shape == (3, 3, 3)
    lines = epi.epipolar_lines(f[:, None], np.broadcast_to(x1, (3, 60, 2)))
    assert lines.shape == (3, 60, 3)
    np.testing.assert_allclose(lines[0], epi.epipolar_lines(f[0], x1))
