"""Triangulation against cv2.triangulatePoints and synthetic ground truth (static and moving cameras)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from anylift.geometry import camera as cam
from anylift.geometry import triangulation as tri


def _scene(rig, rng, views, frames=20, joints=17, w2c=None):
    """Points (T, K, 3) near (0, 0, 1), ring cameras (V, 4, 4), projections (V, 3, 4), pixels (V, T, K, 2)."""
    pts = rng.normal(size=(frames, joints, 3)) * [0.3, 0.3, 0.5] + [0.0, 0.0, 1.0]
    w2c = rig.ring_cameras(views) if w2c is None else w2c
    proj = tri.projection_matrices(rig.K, w2c)
    return pts, w2c, proj, cam.project(pts[None], rig.K, w2c[:, None])


def _err(a, b):
    return np.linalg.norm(a - b, axis=-1)


@pytest.mark.parametrize("views", [2, 3, 5])
def test_noiseless_points_are_recovered(rig, rng, views):
    pts, _, proj, uv = _scene(rig, rng, views)
    for f in (tri.triangulate, tri.triangulate_robust):
        assert _err(f(uv, np.ones(uv.shape[:-1]), proj), pts).max() < 1e-6
        got = f(torch.from_numpy(uv), None, torch.from_numpy(proj))
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
        assert _err(got.numpy(), pts).max() < 1e-6


def test_matches_cv2_triangulate_points(rig, rng):
    # Two cameras 90 degrees apart.
    pts, _, proj, uv = _scene(rig, rng, 2, frames=1, joints=200, w2c=rig.ring_cameras(4)[:2])
    h = cv2.triangulatePoints(proj[0], proj[1], uv[0, 0].T, uv[1, 0].T)
    assert _err(tri.triangulate(uv, None, proj)[0], (h[:3] / h[3]).T).max() < 1e-9
    # With 1 px noise the DLTs differ only by conditioning (we solve in a frame centred on the
    # cameras): far below the noise's own effect of about 6 mm.
    noisy = uv + rng.normal(size=uv.shape)
    h = cv2.triangulatePoints(proj[0], proj[1], noisy[0, 0].T, noisy[1, 0].T)
    expected = (h[:3] / h[3]).T
    got = tri.triangulate(noisy, None, proj)[0]
    noise_effect = _err(expected, pts[0]).mean()
    assert noise_effect > 2e-3
    assert _err(got, expected).mean() < 0.02 * noise_effect
    assert _err(got, expected).max() < 1e-3


def test_noise_error_is_small_and_shrinks_with_more_views(rig):
    errors = []
    ring = rig.ring_cameras(8)
    for views in ([0, 2], [0, 2, 4, 6], list(range(8))):  # 90 degrees apart, then every 45
        rng = np.random.default_rng(99)
        pts, _, proj, uv = _scene(rig, rng, len(views), frames=40, w2c=ring[views])
        errors.append(_err(tri.triangulate(uv + rng.normal(size=uv.shape), None, proj), pts).mean())
    assert errors[0] < 0.01  # 1 px at 4 m with f = 1000 px: a few mm
    # About 1/sqrt(2) per doubling of the views.
    assert errors[0] > 1.2 * errors[1] > 1.2**2 * errors[2]


def test_robust_resists_an_outlier_view(rig, rng):
    pts, _, proj, uv = _scene(rig, rng, 5, frames=40)
    noisy = uv + rng.normal(size=uv.shape)
    noisy[2] += rng.normal(size=noisy[2].shape) * 40.0  # one view is far off (bad detections)
    dlt = _err(tri.triangulate(noisy, None, proj), pts).mean()
    robust = _err(tri.triangulate_robust(noisy, None, proj), pts).mean()
    robust_t = _err(
        tri.triangulate_robust(torch.from_numpy(noisy), None, torch.from_numpy(proj)).numpy(), pts
    ).mean()
    assert robust < 0.3 * dlt
    assert robust_t == pytest.approx(robust, rel=1e-6)
    # Without the outlier both are about as good.
    clean = uv + rng.normal(size=uv.shape)
    assert (
        _err(tri.triangulate_robust(clean, None, proj), pts).mean()
        < 1.1 * _err(tri.triangulate(clean, None, proj), pts).mean()
    )


def test_zero_weight_views_are_ignored_and_missing_points_flagged(rig, rng):
    _pts, _, proj, uv = _scene(rig, rng, 4)
    noisy = uv + rng.normal(size=uv.shape)
    garbage = noisy.copy()
    garbage[1] = rng.uniform(-1e4, 1e4, size=garbage[1].shape)
    garbage[1, 0, 0] = np.nan  # missing detections are NaN in Keypoints2D
    w = np.ones(uv.shape[:-1])
    w[1] = 0.0
    without = tri.triangulate(noisy[[0, 2, 3]], None, proj[[0, 2, 3]])
    np.testing.assert_allclose(tri.triangulate(garbage, w, proj), without, atol=1e-12)
    # NaN pixels count as unseen; a joint in fewer than two views is invalid.
    sparse = noisy.copy()
    sparse[1:, 3, 5] = np.nan  # frame 3, joint 5 only in view 0
    w2 = np.ones(uv.shape[:-1])
    w2[:, 4, 6] = [0.9, 0.0, 0.0, 0.0]  # frame 4, joint 6 only in view 0 by weight
    points, valid = tri.triangulate(sparse, w2, proj, return_valid=True)
    assert valid.shape == (20, 17) and valid.sum() == 20 * 17 - 2
    assert not valid[3, 5] and not valid[4, 6]
    assert np.isnan(points[3, 5]).all() and np.isnan(points[4, 6]).all()
    assert np.isfinite(points[valid]).all()
    filled = tri.triangulate_robust(sparse, w2, proj, fill=0.0)
    np.testing.assert_array_equal(filled[3, 5], 0.0)
    w2[2, 7, 8] = 0.0  # three views left: valid, unless four are required
    four = tri.triangulate(sparse, w2, proj, min_views=4, return_valid=True)[1]
    assert four.sum() == valid.sum() - 1 and not four[7, 8]


def test_confidence_weights_pull_towards_trusted_views(rig, rng):
    pts, _, proj, uv = _scene(rig, rng, 3, frames=5)
    bad = uv.copy()
    bad[0] += 15.0
    low = np.ones(uv.shape[:-1])
    low[0] = 0.05
    assert (
        _err(tri.triangulate(bad, low, proj), pts).mean()
        < 0.2 * _err(tri.triangulate(bad, None, proj), pts).mean()
    )


def test_moving_cameras_per_frame_projections(rig, rng):
    frames = 12
    pts = rng.normal(size=(frames, 17, 3)) * 0.3 + [0.0, 0.0, 1.0]
    # Every view moves along its own ring, one step per frame.
    w2c = np.stack([rig.ring_cameras(3, phase=0.1 * t + 0.2) for t in range(frames)], axis=1)  # (V, T, 4, 4)
    proj = tri.projection_matrices(rig.K, w2c)
    assert proj.shape == (3, frames, 3, 4)
    uv = cam.project(pts[None], rig.K, w2c)
    assert _err(tri.triangulate(uv, None, proj), pts).max() < 1e-6
    assert (
        _err(tri.triangulate_robust(torch.from_numpy(uv), None, torch.from_numpy(proj)).numpy(), pts).max()
        < 1e-6
    )
    # Using frame 0's cameras for every frame is wrong by far.
    assert _err(tri.triangulate(uv, None, proj[:, 0]), pts).mean() > 0.05


def test_far_world_origin_float32(rig, rng):
    # A COLMAP-like world whose origin is 1 km from the scene: float32 still lands within mm.
    pts, w2c, _, uv = _scene(rig, rng, 4)
    shift = np.eye(4)
    shift[:3, 3] = [-1000.0, 500.0, 0.0]  # world' = world + (1000, -500, 0)
    w2c_far = w2c @ shift
    proj = tri.projection_matrices(rig.K, w2c_far)
    got = tri.triangulate(torch.from_numpy(uv).float(), None, torch.from_numpy(proj).float())
    assert got.dtype == torch.float32
    assert _err(got.double().numpy(), pts + np.array([1000.0, -500.0, 0.0])).max() < 5e-3


def test_diffusion_batch_layout_and_gradients(rig, rng):
    # (B, V, T, K, 2) with per-sample cameras (B, V, 3, 4), views on axis 1.
    b, v, t, k = 3, 4, 6, 5
    pts = rng.normal(size=(b, t, k, 3)) * 0.3 + [0.0, 0.0, 1.0]
    w2c = np.stack([rig.ring_cameras(v, phase=0.5 * i) for i in range(b)])  # (B, V, 4, 4)
    proj = torch.from_numpy(tri.projection_matrices(rig.K, w2c))
    uv = torch.from_numpy(cam.project(pts[:, None], rig.K, w2c[:, :, None]))  # (B, V, T, K, 2)
    conf = torch.ones(b, v, t, k, dtype=torch.float64)
    conf[0, :3, 0, 0] = 0.0  # one joint seen by a single view
    for f in (tri.triangulate, tri.triangulate_robust):
        out, valid = f(uv, conf, proj, view_axis=1, fill=0.0, return_valid=True)
        assert out.shape == (b, t, k, 3) and valid.shape == (b, t, k)
        assert valid.sum() == b * t * k - 1
        assert _err(out[valid].numpy(), pts[valid.numpy()]).max() < 1e-6
        for i in range(b):
            np.testing.assert_allclose(
                out[i].numpy(), f(uv[i], conf[i], proj[i], fill=0.0).numpy(), atol=1e-12
            )
        x = (uv + 0.5).requires_grad_(True)
        f(x, conf, proj, view_axis=1, fill=0.0).square().sum().backward()
        assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
        assert (x.grad[0, :, 0, 0] == 0).all()  # the invalid joint gets no gradient


def test_gradcheck_small_problem(rig, rng):
    _pts, _, proj, uv = _scene(rig, rng, 3, frames=2, joints=2)
    x = torch.from_numpy(uv + rng.normal(size=uv.shape)).requires_grad_(True)
    w = torch.from_numpy(rng.uniform(0.3, 1.0, size=uv.shape[:-1])).requires_grad_(True)
    p = torch.from_numpy(proj)
    assert torch.autograd.gradcheck(lambda a, c: tri.triangulate(a, c, p), (x, w))
    assert torch.autograd.gradcheck(lambda a: tri.triangulate_robust(a, None, p, iterations=3), (x,))


def test_reprojection_error_and_input_checks(rig, rng):
    pts, _, proj, uv = _scene(rig, rng, 3, frames=4)
    shifted = uv.copy()
    shifted[1, ..., 0] += 3.0
    shifted[2, 0, 0] = np.nan
    err = tri.reprojection_error(pts, shifted, proj)
    assert err.shape == (3, 4, 17)
    np.testing.assert_allclose(err[0], 0.0, atol=1e-9)
    np.testing.assert_allclose(err[1], 3.0, atol=1e-9)
    assert np.isnan(err[2, 0, 0])
    with pytest.raises(ValueError, match="do not fit"):
        tri.triangulate(uv, None, np.zeros((3, 5, 3, 4)))
    with pytest.raises(ValueError, match="weights must be >= 0"):
        tri.triangulate(uv, -np.ones(uv.shape[:-1]), proj)
    with pytest.raises(ValueError, match="points2d"):
        tri.triangulate(uv[..., :1], None, proj)


def test_smallest_eigenvector_matches_eigh(rig, rng):
    # Triangulation systems (4 ring views, 2 px noise), random ones with close smallest eigenvalues
    # (the eigh fallback), an exactly consistent one (smallest eigenvalue 0) and the invalid points'
    # fixed matrix: eigh's vector up to sign, in numpy and in torch.
    _, _, proj, uv = _scene(rig, rng, 4, frames=50)
    x = np.moveaxis(uv + rng.normal(scale=2.0, size=uv.shape), 0, -2)[..., None]  # (T, K, V, 2, 1)
    rows = [x[..., i, :] * proj[:, 2] - proj[:, i] for i in (0, 1)]  # DLT rows (T, K, V, 4)
    rows = np.concatenate(rows, -2).reshape(-1, 8, 4)
    noisy = rng.normal(size=(500, 8, 4))
    exact = rng.normal(size=(3, 4))
    point = np.append(rng.normal(size=3), 1.0)
    exact -= (exact @ point)[:, None] * point / (point @ point)  # rows orthogonal to the point
    a = np.concatenate([
        np.swapaxes(rows, -1, -2) @ rows, np.swapaxes(noisy, -1, -2) @ noisy,
        (exact.T @ exact)[None], np.diag([4.0, 3.0, 2.0, 1.0])[None],
    ])  # fmt: skip
    a = a / np.trace(a, axis1=-2, axis2=-1)[:, None, None]
    want = np.linalg.eigh(a)[1][..., 0]
    for got in (tri._smallest_eigenvector(a, np), tri._smallest_eigenvector(torch.tensor(a), torch).numpy()):
        np.testing.assert_allclose(np.abs((got * want).sum(-1)), 1.0, atol=1e-9)
    consistent = tri._smallest_eigenvector(a, np)[-2]
    np.testing.assert_allclose(np.abs(consistent), np.abs(point) / np.linalg.norm(point))
