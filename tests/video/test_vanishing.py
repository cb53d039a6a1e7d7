"""The world's up from the vanishing lines of one frame (anylift.video.vanishing)."""

import itertools

import cv2
import numpy as np
import pytest

from anylift.data.trajectories import intrinsics, look_at
from anylift.geometry.camera import project
from anylift.video.vanishing import focal_from_images, up_from_image


def _floor_and_poles(w2c, K, size=(640, 360), poles=None):
    """A floor grid (1 m tiles, 20 x 20 m) and poles 3 m tall at ``poles`` (x, y; default a row at
    y = 12 m), drawn as lines through the camera."""
    poles = [(x, 12.0) for x in np.arange(-6, 7, 2.0)] if poles is None else poles
    w, h = size
    img = np.full((h, w, 3), 200, np.uint8)
    segments = []
    for v in np.arange(-10, 11, 1.0):
        segments += [((v, -2, 0), (v, 18, 0)), ((-10, v + 8, 0), (10, v + 8, 0))]
    for x, y in poles:
        segments.append(((x, y, 0), (x, y, 3)))
    for a, b in segments:
        pts = np.linspace(a, b, 60)
        uv, depth = project(pts, K, w2c, return_depth=True)
        uv = uv[depth > 0.1]
        ends = np.round(uv).astype(int)
        for p, q in itertools.pairwise(ends):
            if np.all(np.abs(np.r_[p, q]) < 5000):
                cv2.line(img, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), (40, 40, 40), 2, cv2.LINE_AA)
    return img


@pytest.mark.parametrize("height,roll_deg", [(5.0, 0.0), (1.6, 6.0)])
def test_up_of_a_camera_looking_down_and_rolled(height, roll_deg):
    K = intrinsics((640, 360), 600.0)
    w2c = look_at(np.array([0.5, -6.0, height]), np.array([0.0, 6.0, 0.0]), roll=np.radians(roll_deg))
    img = _floor_and_poles(w2c, K)
    up, support = up_from_image(img, K)
    true = w2c[:3, :3] @ [0.0, 0.0, 1.0]
    assert up is not None and support >= 20
    assert np.degrees(np.arccos(np.clip(up @ true, -1, 1))) < 1.5


def test_no_lines_no_up():
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur((rng.random((360, 640)) * 255).astype(np.uint8), (0, 0), 3)
    up, support = up_from_image(img, intrinsics((640, 360), 600.0))
    assert up is None or support < 20


@pytest.mark.parametrize("focal,yaw_deg", [(1500.0, 25.0), (1000.0, -30.0)])
def test_focal_of_a_static_camera_from_verticals_and_the_floor(focal, yaw_deg):
    """Poles (verticals) and a floor grid turned away from the image plane give the focal length;
    the fallback guess max(W, H) = 640 px would be 57 % / 36 % off."""
    K = intrinsics((640, 360), focal)
    yaw = np.radians(yaw_deg)
    eye = np.array([0.0, 8.0, 0.0]) + 14.0 * np.array([-np.sin(yaw), -np.cos(yaw), 0.0]) + [0, 0, 5.0]
    w2c = look_at(eye, np.array([0.0, 8.0, 0.0]))
    ring = [(3.0 * np.cos(a), 8.0 + 3.0 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 12, endpoint=False)]
    img = _floor_and_poles(w2c, K, poles=ring)
    found = focal_from_images([img] * 4, seed=0)
    assert found is not None and abs(found / focal - 1) < 0.05


def test_no_verticals_no_focal():
    """A floor alone (lines parallel to the image among them) does not tell the focal length."""
    K = intrinsics((640, 360), 900.0)
    w2c = look_at(np.array([0.0, -6.0, 5.0]), np.array([0.0, 6.0, 0.0]))
    img = _floor_and_poles(w2c, K, poles=())
    assert focal_from_images([img, img, img]) is None
