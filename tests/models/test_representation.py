"""Model coordinates, masks, root/local split, camera condition and epipolar lines."""

import numpy as np
import pytest
import torch

from anylift import representation as rep
from anylift.geometry.camera import project
from anylift.geometry.epipolar import point_line_distance

K = np.array([[1200.0, 0.0, 950.0], [0.0, 1100.0, 530.0], [0.0, 0.0, 1.0]])


def _body(depth=4.0, frames=10, seed=0):
    """(T, 17, 3) camera-frame points of a 1.5 m tall figure at ``depth`` (x right, y down)."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-0.5, 0.5, (17, 3)) * np.array([0.5, 1.0, 0.3])
    pts[0, 1], pts[15, 1] = -0.75, 0.75  # nose top, ankle bottom: 1.5 m extent
    t = np.linspace(0, 0.3, frames)[:, None, None] * np.array([1.0, 0.0, 0.0])
    return pts + t + np.array([0.2, 0.1, depth])


def _pixels(cam_pts):
    uv = cam_pts[..., :2] / cam_pts[..., 2:]
    return uv * np.array([K[0, 0], K[1, 1]]) + np.array([K[0, 2], K[1, 2]])


def test_normalisation_round_trip_and_scale():
    px = _pixels(_body(depth=4.0))
    kp = np.concatenate([px, np.full((*px.shape[:-1], 1), 0.9)], -1)
    nk = rep.normalise_keypoints(kp, K)
    assert nk.points.dtype == np.float32 and nk.mask.all()
    # Body extent 1.5 m at ~4 m: scale ~ 1.5 / 4 in normalised image units, bodies ~1 unit tall.
    assert nk.normalisation.scale == pytest.approx(1.5 / 4.0, rel=0.08)
    assert np.allclose(nk.normalisation.to_pixels(nk.points), px, atol=1e-3)
    expect = ((px[..., 0] - K[0, 2]) / K[0, 0]) / nk.normalisation.scale
    assert np.allclose(nk.points[..., 0], expect, atol=1e-5)
    assert np.allclose(rep.denormalise_keypoints(nk.points, nk.normalisation), px, atol=1e-3)
    forced = rep.normalise_keypoints(kp, K, scale=2.0)
    assert forced.normalisation.scale == 2.0
    assert np.allclose(forced.points * 2.0, nk.points * nk.normalisation.scale, atol=1e-5)


def test_mask_and_fill():
    px = _pixels(_body())
    kp = np.concatenate([px, np.full((*px.shape[:-1], 1), 0.9)], -1)
    kp[4, 3, :2] = np.nan  # missing
    kp[5, 3, 2] = 0.1  # low score
    kp[:, 16, :] = np.nan  # never seen
    nk = rep.normalise_keypoints(kp, K, score_threshold=0.3)
    assert not nk.mask[4, 3] and not nk.mask[5, 3] and not nk.mask[:, 16].any()
    assert nk.mask.sum() == 10 * 17 - 2 - 10
    assert np.isfinite(nk.points).all()
    # A joint missing in frames 4-5 is interpolated between frames 3 and 6.
    full = rep.normalise_keypoints(
        np.concatenate([px, np.ones_like(px[..., :1])], -1), K, scale=nk.normalisation.scale
    )
    lin = full.points[3, 3] + (full.points[6, 3] - full.points[3, 3]) * np.array([1 / 3, 2 / 3])[:, None]
    assert np.allclose(nk.points[4:6, 3], lin, atol=1e-5)
    # A never-seen joint sits at the centroid of the others (harmless).
    assert np.allclose(nk.points[:, 16], nk.points[:, :16].mean(axis=1), atol=1e-5)
    assert np.array_equal(rep.visibility_mask(px), np.ones((10, 17), bool))
    nothing = rep.normalise_keypoints(np.full((3, 17, 3), np.nan), K)
    assert nothing.normalisation.scale == 1.0 and np.all(nothing.points == 0) and not nothing.mask.any()


def test_root_local_round_trip_numpy_and_torch():
    x = np.random.default_rng(0).normal(size=(2, 5, 21, 2))
    rl = rep.to_root_local(x)
    assert np.allclose(rl[..., 11:13, :], x[..., 11:13, :])
    mid = 0.5 * (x[..., 11, :] + x[..., 12, :])
    assert np.allclose(rl[..., 0, :], x[..., 0, :] - mid) and np.allclose(rl[..., 20, :], x[..., 20, :] - mid)
    assert np.allclose(rep.from_root_local(rl), x)
    xt = torch.from_numpy(x)
    assert torch.allclose(rep.from_root_local(rep.to_root_local(xt)), xt)
    assert np.allclose(rep.to_root_local(xt).numpy(), rl)
    root, local = rep.split_root_local(rl)
    assert root.shape == (2, 5, 2, 2) and local.shape == (2, 5, 19, 2)
    assert np.allclose(local[..., 0, :], rl[..., 0, :]) and np.allclose(local[..., 11, :], rl[..., 13, :])


def test_camera_condition_units():
    frames, depth = 6, 4.0
    w2c = np.broadcast_to(np.eye(4), (frames, 4, 4)).copy()
    w2c[:, 0, 3] = -np.linspace(0.0, 0.6, frames)  # camera moves +0.6 m along x
    # Put the world somewhere else: the condition is relative to frame 0.
    offset = np.eye(4)
    offset[:3, :3] = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1.0]])
    offset[:3, 3] = [3.0, -1.0, 2.0]
    w2c_world = w2c @ offset
    px = _pixels(_body(depth=depth, frames=1))
    scale = rep.normalise_keypoints(px, K).normalisation.scale
    cond = rep.camera_condition(w2c_world, K, (1920, 1080), scale)
    assert cond.shape == (frames, rep.CAMERA_DIM) and cond.dtype == np.float32
    assert np.allclose(cond[0, :12], np.eye(4)[:3].ravel(), atol=1e-6)
    assert np.allclose(cond[:, 3], -np.linspace(0, 0.6, frames) / rep.BODY_SIZE_M, atol=1e-6)
    assert np.allclose(
        cond[:, 12:], [1920 / (2 * 1200 * scale), 1080 / (2 * 1100 * scale), np.log(scale)], atol=1e-5
    )
    # Consistent units: the image shift of a point at the subject's depth, in model coordinates,
    # is about the translation feature.
    point = np.array([0.0, 0.0, depth])
    shift = (point[0] + w2c[-1, 0, 3]) / depth / scale
    assert shift == pytest.approx(cond[-1, 3], rel=0.1)
    ref = rep.camera_condition(w2c_world, K, (1920, 1080), scale, reference=w2c_world[2])
    assert np.allclose(ref[2, :12], np.eye(4)[:3].ravel(), atol=1e-6)


def test_training_lines_pass_through_keypoints_and_the_epipole():
    rng = np.random.default_rng(0)
    pts = rep.normalise_keypoints(_pixels(_body()), K).points
    lines, virtual = rep.training_lines(pts, rng, 0.375)
    assert lines.shape == (10, 17, 3) and lines.dtype == np.float32
    assert np.allclose(np.linalg.norm(lines[..., :2], axis=-1), 1.0, atol=1e-5)
    assert np.abs(point_line_distance(pts, lines)).max() < 1e-5
    e = rep.epipoles_of(virtual, np.broadcast_to(np.eye(4), (10, 4, 4)), 0.375)
    assert np.abs((lines.astype(np.float64) * e[:, None, :]).sum(-1)).max() / np.abs(e).max() < 1e-5
    # Different draws give different epipoles; a moving input camera moves the epipole.
    lines2, _ = rep.training_lines(pts, rng, 0.375)
    assert not np.allclose(lines, lines2, atol=1e-3)
    rel = np.broadcast_to(np.eye(4), (10, 4, 4)).copy()
    rel[:, 0, 3] = np.linspace(0, 1, 10)
    e_moving = rep.epipoles_of(virtual, rel, 0.375)
    assert not np.allclose(e_moving[0, :2] / e_moving[0, 2], e_moving[-1, :2] / e_moving[-1, 2])


def test_orbit_and_ring_cameras():
    centre = np.array([0.3, 0.2, 4.0])
    ring = rep.ring_cameras(centre, 4)
    assert ring.shape == (4, 4, 4)
    centres = np.stack([-c[:3, :3].T @ c[:3, 3] for c in ring])
    assert np.allclose(centres[0], 0.0, atol=1e-9)
    # Same height and distance from the vertical axis through the subject, 90 degrees apart.
    horiz = (centres - centre)[:, [0, 2]]
    assert np.allclose(centres[:, 1], 0.0, atol=1e-9)
    assert np.allclose(np.linalg.norm(horiz, axis=1), np.hypot(0.3, 4.0))
    assert abs(float(horiz[0] @ horiz[1])) < 1e-9 and np.allclose(horiz[2], -horiz[0])
    # Every camera looks at the subject: it projects to the principal point.
    for c in ring:
        p = c[:3, :3] @ centre + c[:3, 3]
        assert p[2] > 0 and np.allclose(p[:2], 0.0, atol=1e-9)
        assert np.allclose(c[:3, :3] @ c[:3, :3].T, np.eye(3)) and np.linalg.det(c[:3, :3]) == pytest.approx(
            1.0
        )


def test_inference_lines_between_views_pass_through_the_true_points():
    body = _body(depth=4.0, frames=5)  # camera 0 frame = world
    centre = body[0].mean(axis=0)
    views = rep.ring_cameras(centre, 3)
    w2c = np.repeat(views[:, None], 5, axis=1)  # (V, T, 4, 4)
    k_model = lambda s: np.diag([1 / s, 1 / s, 1.0])  # noqa: E731
    s0, s1 = 0.4, 0.3
    x0 = project(body, k_model(s0), w2c[0])
    x1 = project(body, k_model(s1), w2c[1])
    F = rep.fundamental_matrices(w2c[1], s1, w2c[0], s0)
    lines = rep.lines_between_views(x1, F)
    assert lines.shape == (5, 17, 3)
    assert np.abs(point_line_distance(x0, lines)).max() < 1e-9
    lines_t = rep.lines_between_views(torch.from_numpy(x1), F)
    assert isinstance(lines_t, torch.Tensor) and np.allclose(lines_t.numpy(), lines)
    # A wrong point is off its line.
    assert np.abs(point_line_distance(x0[:, ::-1], lines)).mean() > 0.01
