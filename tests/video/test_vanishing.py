"""The world's up from the vanishing lines of one frame (anylift.video.vanishing)."""

import itertools

import cv2
import numpy as np
import pytest

from anylift.data.trajectories import intrinsics, look_at
from anylift.geometry.camera import project
from anylift.video.vanishing import up_from_image


def _floor_and_poles(w2c, K, size=(640, 360)):
    """A floor grid (1 m tiles, 20 x 20 m) and a row of poles drawn as lines through the camera."""
    w, h = size
    img = np.full((h, w, 3), 200, np.uint8)
    segments = []
    for v in np.arange(-10, 11, 1.0):
        segments += [((v, -2, 0), (v, 18, 0)), ((-10, v + 8, 0), (10, v + 8, 0))]
    for x in np.arange(-6, 7, 2.0):
        segments.append(((x, 12, 0), (x, 12, 3)))
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
