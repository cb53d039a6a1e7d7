"""Projection, frame-0 normalisation and the up vector, against OpenCV and hand-made cameras."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from anylift.errors import InputError
from anylift.geometry import camera as cam

K = np.array([[1000.0, 0.0, 960.0], [0.0, 1000.0, 540.0], [0.0, 0.0, 1.0]])


def _random_w2c(rng, n):
    m = np.tile(np.eye(4), (n, 1, 1))
    m[:, :3, :3] = Rotation.random(n, random_state=int(rng.integers(1 << 30))).as_matrix()
    m[:, :3, 3] = rng.normal(size=(n, 3))
    return m


def test_project_matches_cv2_project_points(rng, rig):
    look_at = rig.look_at
    w2c = look_at([3.0, -2.0, 1.5], [0.0, 0.0, 1.0])
    pts = rng.normal(size=(40, 3)) * 0.5 + [0.0, 0.0, 1.0]
    rvec, _ = cv2.Rodrigues(w2c[:3, :3])
    dist = np.zeros(5)
    expected = cv2.projectPoints(pts, rvec, w2c[:3, 3], K, dist)[0][:, 0]
    np.testing.assert_allclose(cam.project(pts, K, w2c), expected, atol=1e-9)
    got = cam.project(torch.from_numpy(pts), K, w2c)
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-9)
    _uv, depth = cam.project(pts, K, w2c, return_depth=True)
    np.testing.assert_allclose(depth, (pts @ w2c[:3, :3].T + w2c[:3, 3])[:, 2])


def test_project_per_frame_cameras(rng):
    w2c = _random_w2c(rng, 6)
    w2c[:, :3, 3] = [0.0, 0.0, 6.0]  # keep points in front
    pts = rng.normal(size=(6, 10, 3))
    got = cam.project(pts, K, w2c)
    for t in range(6):
        rvec, _ = cv2.Rodrigues(w2c[t, :3, :3])
        exp = cv2.projectPoints(pts[t], rvec, w2c[t, :3, 3], K, np.zeros(5))[0][:, 0]
        np.testing.assert_allclose(got[t], exp, atol=1e-9)


def test_invert_rigid_and_relative_to_first(rng):
    w2c = _random_w2c(rng, 7)
    np.testing.assert_allclose(cam.invert_rigid(w2c), np.linalg.inv(w2c), atol=1e-12)
    rel = cam.relative_to_first(w2c)
    np.testing.assert_allclose(rel[0], np.eye(4), atol=1e-12)
    # Points moved into camera 0's frame project exactly as before through the new cameras.
    pts = rng.normal(size=(7, 5, 3))
    pts_cam0 = pts @ w2c[0, :3, :3].T + w2c[0, :3, 3]
    np.testing.assert_allclose(cam.project(pts_cam0, K, rel), cam.project(pts, K, w2c), atol=1e-9)
    rel_t = cam.relative_to_first(torch.from_numpy(w2c))
    np.testing.assert_allclose(rel_t.numpy(), rel, atol=1e-12)
    with pytest.raises(ValueError, match="T >= 1"):
        cam.relative_to_first(np.zeros((0, 4, 4)))


def test_up_vector_explicit_or_from_frame_zero(rig):
    look_at = rig.look_at
    upright = look_at([0.0, -5.0, 1.0], [0.0, 0.0, 1.0])  # level camera in a Z-up world
    tilted = look_at([0.0, -5.0, 3.0], [0.0, 0.0, 0.0])
    w2c = np.stack([upright, tilted])
    np.testing.assert_allclose(
        cam.up_vector(SimpleNamespace(world_to_camera=w2c, up=None)), [0, 0, 1], atol=1e-12
    )
    np.testing.assert_allclose(cam.up_vector(w2c), [0, 0, 1], atol=1e-12)
    # A first frame looking down along (0, 5, -3): its -y axis is perpendicular to that.
    up0 = cam.up_vector(w2c[::-1].copy())
    np.testing.assert_allclose(up0, np.array([0.0, 3.0, 5.0]) / np.sqrt(34.0), atol=1e-12)
    explicit = SimpleNamespace(world_to_camera=w2c[::-1].copy(), up=np.array([0.0, 2.0, 0.0]))
    np.testing.assert_allclose(cam.up_vector(explicit), [0, 1, 0])
    np.testing.assert_allclose(cam.up_vector(w2c, up=[0, 0, -3.0]), [0, 0, -1])


def test_bad_up_vector_names_file_and_field():
    bad = SimpleNamespace(world_to_camera=np.eye(4)[None], up=np.zeros(3), path="shot.json")
    with pytest.raises(InputError) as err:
        cam.up_vector(bad)
    assert err.value.path == "shot.json" and err.value.field == "up"
    with pytest.raises(InputError, match="3 components"):
        cam.up_vector(np.eye(4), up=[0.0, 1.0])


@pytest.mark.parametrize(
    "up",
    [[0, 0, 1], [0, 1, 0], [0, 0, -1], [1, 0, 0], [0.3, -0.2, 0.9], [0.8, 0.0, -0.6], [-1e-9, 1e-9, -1.0]],
)
def test_world_zup_from_camera_maps_up_to_z(up):
    r = cam.world_zup_from_camera(np.eye(4), up=up)
    u = np.asarray(up, float) / np.linalg.norm(up)
    np.testing.assert_allclose(r @ u, [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-12)
    if np.allclose(u, [0, 0, 1]):
        np.testing.assert_array_equal(r, np.eye(3))
    elif not np.allclose(u, [0, 0, -1], atol=1e-6):
        # Smallest rotation: the axis is perpendicular to both up and z.
        axis = Rotation.from_matrix(r).as_rotvec()
        assert abs(axis @ u) < 1e-9 and abs(axis[2]) < 1e-9


def test_world_zup_of_a_camera_frame_world():
    # No camera file: the world is camera 0's frame; up = -y, so x stays x and forward becomes +y.
    r = cam.world_zup_from_camera(np.eye(4)[None])
    np.testing.assert_allclose(r, [[1, 0, 0], [0, 0, 1], [0, -1, 0]], atol=1e-15)


def test_rotate_world_keeps_projections(rng):
    w2c = _random_w2c(rng, 4)
    w2c[:, :3, 3] = [0.0, 0.0, 5.0]
    pts = rng.normal(size=(4, 6, 3))
    r = cam.world_zup_from_camera(w2c)
    moved = cam.rotate_world(w2c, r)
    np.testing.assert_allclose(cam.project(pts @ r.T, K, moved), cam.project(pts, K, w2c), atol=1e-9)
    # After the rotation the first camera is upright in the Z-up world.
    np.testing.assert_allclose(cam.up_vector(moved), [0, 0, 1], atol=1e-12)


def test_pixel_rays_reproject_to_their_pixels(rng):
    w2c = _random_w2c(rng, 3)
    uv = rng.uniform([0, 0], [1920, 1080], size=(3, 8, 2))
    origins, dirs = cam.pixel_rays(uv, K, w2c)
    np.testing.assert_allclose(np.linalg.norm(dirs, axis=-1), 1.0)
    np.testing.assert_allclose(origins, np.linalg.inv(w2c)[:, :3, 3], atol=1e-12)
    pts = origins[:, None] + 2.5 * dirs
    uv_back, depth = cam.project(pts, K, w2c, return_depth=True)
    np.testing.assert_allclose(uv_back, uv, atol=1e-8)
    assert np.all(depth > 0)
