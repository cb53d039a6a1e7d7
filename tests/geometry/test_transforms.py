"""The numpy-only core: alignment against scipy and known transforms, look-at, intrinsics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from anylift.errors import InputError
from anylift.geometry.transforms import intrinsics, look_at, similarity_align, spans_plane, swing


def _similarities(n: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rng.uniform(0.5, 2.0, n), Rotation.random(n, random_state=rng).as_matrix(), rng.normal(size=(n, 3))


def test_similarity_align_recovers_batched_weighted_similarities():
    rng = np.random.default_rng(0)
    s, R, t = _similarities(6, rng)
    src = rng.normal(size=(6, 9, 3))
    dst = s[:, None, None] * np.einsum("bij,bnj->bni", R, src) + t[:, None]
    # Outliers with weight 0 (one of them NaN) must not move the fit.
    w = rng.uniform(0.2, 1.0, size=(6, 9))
    w[:, :2] = 0.0
    dst[:, 0] += 5.0
    dst[:, 1] = np.nan
    got_s, got_R, got_t = similarity_align(src, dst, w)
    np.testing.assert_allclose(got_s, s, atol=1e-12)
    np.testing.assert_allclose(got_R, R, atol=1e-12)
    np.testing.assert_allclose(got_t, t, atol=1e-12)
    # Rigid: the scale is not fitted.
    rigid_s, rigid_R, _ = similarity_align(src, dst, w, scale=False)
    np.testing.assert_array_equal(rigid_s, 1.0)
    np.testing.assert_allclose(rigid_R, R, atol=1e-12)


def test_similarity_align_is_the_least_squares_optimum():
    # Noisy points: the weighted residual is the one scipy's least squares finds.
    from scipy.optimize import least_squares

    rng = np.random.default_rng(1)
    src = rng.normal(size=(10, 3))
    dst = (
        1.3 * src @ Rotation.from_rotvec([0.3, -0.8, 0.2]).as_matrix().T
        + 0.2
        + rng.normal(scale=0.1, size=(10, 3))
    )
    w = rng.uniform(0.1, 2.0, 10)

    def residual(x):
        pred = x[0] * src @ Rotation.from_rotvec(x[1:4]).as_matrix().T + x[4:]
        return (np.sqrt(w)[:, None] * (pred - dst)).ravel()

    best = least_squares(residual, np.r_[1.0, np.zeros(6)], xtol=1e-14, ftol=1e-14)
    s, R, t = similarity_align(src, dst, w)
    ours = np.sum(w[:, None] * (s * src @ R.T + t - dst) ** 2)
    assert ours == pytest.approx(np.sum(best.fun**2), rel=1e-9)
    assert np.linalg.det(R) == pytest.approx(1.0)


def test_rigid_align_matches_scipy_align_vectors():
    # What the SMPL fit's torso initialisation used before: equal within 1e-9.
    rng = np.random.default_rng(2)
    src = rng.normal(size=(4, 3))
    src -= src.mean(0)
    dst = np.einsum("bij,nj->bni", Rotation.random(50, random_state=rng).as_matrix(), src)
    dst += rng.normal(scale=0.05, size=dst.shape)
    dst -= dst.mean(1, keepdims=True)
    _, R, _ = similarity_align(src, dst, scale=False)
    ref = np.stack([Rotation.align_vectors(d, src)[0].as_matrix() for d in dst])
    np.testing.assert_allclose(R, ref, atol=1e-9)


def test_align_without_centring_rotates_about_the_origin():
    rng = np.random.default_rng(3)
    R = Rotation.random(4, random_state=rng).as_matrix()
    rays = rng.normal(size=(4, 2, 3))
    _, got, t = similarity_align(rays, np.einsum("bij,bnj->bni", R, rays), scale=False, centre=False)
    np.testing.assert_allclose(got, R, atol=1e-12)
    np.testing.assert_array_equal(t, 0.0)


def test_look_at_and_intrinsics_project_the_target_to_the_centre():
    K = intrinsics((640, 480), 500.0)
    np.testing.assert_array_equal(K, [[500, 0, 320], [0, 500, 240], [0, 0, 1]])
    eye = np.array([[3.0, -2.0, 1.5], [0.0, 4.0, 2.0]])
    target = np.array([0.0, 0.0, 1.0])
    w2c = look_at(eye, target, roll=[0.0, 0.4])
    cam = np.einsum("bij,j->bi", w2c[:, :3, :3], target) + w2c[:, :3, 3]
    px = (cam @ K.T)[:, :2] / cam[:, 2:]
    np.testing.assert_allclose(px, [[320, 240], [320, 240]], atol=1e-9)
    # Unrolled: the camera's -y is world up projected on the image plane.
    assert w2c[0, 1, 2] < 0 and abs(w2c[0, 0, 2]) < 1e-12
    np.testing.assert_allclose(
        w2c[:, :3, :3] @ np.swapaxes(w2c[:, :3, :3], 1, 2), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-12
    )
    with pytest.raises(InputError, match="straight up or down"):
        look_at([0.0, 0.0, 5.0], [0.0, 0.0, 0.0])


def test_swing_turns_a_onto_b_about_their_common_normal():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 5, 7, 3))
    a /= np.linalg.norm(a, axis=-1, keepdims=True)
    b /= np.linalg.norm(b, axis=-1, keepdims=True)
    b[0, 0] = -a[0, 0]  # opposite: half a turn
    b[0, 1] = a[0, 1]  # equal: the identity
    R = swing(a, b)
    assert R.shape == (5, 7, 3, 3)
    np.testing.assert_allclose(np.einsum("...ij,...j->...i", R, a), b, atol=1e-9)
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape), atol=1e-9)
    np.testing.assert_allclose(R[0, 1], np.eye(3), atol=1e-12)
    # Smallest: the turn's axis (a x b) is left in place, and the angle is the one between a and b.
    n = np.cross(a[1:], b[1:])
    np.testing.assert_allclose(np.einsum("...ij,...j->...i", R[1:], n), n, atol=1e-9)
    angle = np.arccos(np.clip((np.trace(R, axis1=-2, axis2=-1) - 1) / 2, -1, 1))
    np.testing.assert_allclose(angle[1:], np.arccos(np.clip((a[1:] * b[1:]).sum(-1), -1, 1)), atol=1e-7)
    np.testing.assert_allclose(swing(a[2, 3], b[2, 3]), R[2, 3], atol=1e-15)


def test_spans_plane_sees_lines_and_ignores_unweighted_points():
    line = np.outer(np.arange(5.0), [1.0, 2.0, -1.0]) + 3.0
    plane = line.copy()
    plane[2] += [0.0, 0.0, 0.5]
    assert not spans_plane(line) and spans_plane(plane)
    # The point off the line does not count with weight 0 (nor do NaNs there).
    w = np.ones((2, 5))
    w[0, 2] = 0.0
    plane_nan = np.stack([plane, plane])
    plane_nan[1, 4] = np.nan
    w[1, 4] = 0.0
    np.testing.assert_array_equal(spans_plane(plane_nan, w), [False, True])
    assert not spans_plane(np.zeros((4, 3)))
