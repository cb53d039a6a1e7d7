"""The world's up from the vanishing lines of one frame (anylift.video.vanishing)."""

import itertools

import cv2
import numpy as np
import pytest

from anylift.data.trajectories import intrinsics, look_at
from anylift.geometry.camera import project
from anylift.video.vanishing import (
    LEVEL_UP_DEG,
    STEEP_UP_DEG,
    focal_from_images,
    image_vanishing_points,
    line_segments,
    people_accept,
    people_up,
    people_vertical,
    under_the_floor,
    up_from_image,
)


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


def test_lines_of_a_large_soft_frame_are_found_as_in_a_small_one():
    """The floor-and-poles scene at 640x360, its lines faint (168 on 200, a floor's tiles), enlarged
    6 times (3840x2160, cubic: every edge six pixels soft, as in much real 4K footage): its lines
    are looked for in it shrunk to LINE_SIDE and give the same up, in the large frame's pixels.
    LSD on the whole large frame: 10 segments behind the up (measured; shrunk: 101), and on a
    footage render's 4K copy 168 segments of its original's 416, and no up."""
    K = intrinsics((640, 360), 600.0)
    w2c = look_at(np.array([0.5, -6.0, 5.0]), np.array([0.0, 6.0, 0.0]))
    small = (200 - (200 - _floor_and_poles(w2c, K).astype(float)) * 0.2).astype(np.uint8)
    large = cv2.resize(small, None, fx=6, fy=6, interpolation=cv2.INTER_CUBIC)
    true = w2c[:3, :3] @ [0.0, 0.0, 1.0]
    for img, k in ((small, K), (large, np.diag([6.0, 6.0, 1.0]) @ K)):
        up, support = up_from_image(img, k)
        assert up is not None and support >= 20, support
        assert np.degrees(np.arccos(np.clip(up @ true, -1, 1))) < 1.5
    seg = line_segments(cv2.cvtColor(large, cv2.COLOR_BGR2GRAY), 100.0)
    assert len(seg) > 20 and seg[:, [0, 2]].max() > 2000  # the large frame's pixels


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


def _standing_people(w2c, K, n=10, frames=4, seed=0):
    """Axes (ankles to shoulders, 1.4 m) of ``n`` people standing about the floor, each leaning up
    to 4 deg and stepping a little from frame to frame: (n * frames, 4) px and their ids."""
    rng = np.random.default_rng(seed)
    feet = np.c_[rng.uniform(-5, 5, n), rng.uniform(5, 13, n), np.zeros(n)]
    lean = np.radians(rng.uniform(-4, 4, (n, 2)))
    axes, ids = [], []
    for t in range(frames):
        f = feet + np.c_[0.3 * t * np.ones(n), np.zeros((n, 2))]
        top = f + 1.4 * np.c_[np.tan(lean), np.ones(n)]
        axes.append(np.c_[project(f, K, w2c), project(top, K, w2c)])
        ids.append(np.arange(n))
    return np.concatenate(axes), np.concatenate(ids)


@pytest.mark.parametrize("pitch_deg,seed", [(1.0, 1), (4.0, 0), (8.0, 2)])
def test_the_people_vertical_of_a_nearly_level_camera_gives_no_focal(pitch_deg, seed):
    """A camera pitched a few degrees: the verticals meet 6000-50000 px away, and people leaning
    up to 4 degrees fix that distance only to a few times over (their point's error, about 1.6-2.1
    degrees at the guess): the focal it gives with the floor's lines (444, 1062, 1380 px for 900
    with the error taken as nil) is noise, and there is none."""
    size, focal = (640, 360), 900.0
    K = intrinsics(size, focal)
    aim = np.array([0.0, 9.0, 1.6 - 11.0 * np.tan(np.radians(pitch_deg))])
    w2c = look_at(np.array([0.3, -2.0, 1.6]), aim)
    img = _floor_and_poles(w2c, K, size, poles=())
    axes, ids = _standing_people(w2c, K, seed=seed)
    vertical = people_vertical(axes, ids, (320.0, 180.0), 640.0)
    assert vertical is not None and np.degrees(vertical.error) < 3.0
    assert focal_from_images([img] * 4, vertical=vertical) is None
    sure = focal_from_images([img] * 4, vertical=vertical._replace(error=0.0))  # as if known exactly
    assert sure is not None and abs(sure / focal - 1) > 0.15


def test_people_tell_the_verticals_from_a_floor_seen_from_above():
    """A floor's lines seen from above converge above the image as a building's verticals would;
    people standing about give the true verticals, and with them the focal and the up."""
    size, focal = (640, 360), 700.0
    K = intrinsics(size, focal)
    w2c = look_at(np.array([0.0, -2.0, 7.0]), np.array([0.0, 9.0, 0.0]))  # 32 deg down
    img = _floor_and_poles(w2c, K, size, poles=())
    axes, ids = _standing_people(w2c, K)
    vertical = people_vertical(axes, ids, (320.0, 180.0), 640.0)
    assert vertical is not None
    true_up = w2c[:3, :3] @ [0.0, 0.0, 1.0]
    vp = np.linalg.solve(K, vertical.point)
    assert np.degrees(np.arccos(abs(vp @ true_up) / np.linalg.norm(vp))) < 3.0  # people lean
    assert focal_from_images([img] * 4) is None  # the floor alone does not tell it
    found = focal_from_images([img] * 4, vertical=vertical)
    assert found is not None and abs(found / focal - 1) < 0.05
    prior = people_up(vertical.point, K, axes)
    assert np.degrees(np.arccos(prior @ true_up)) < 3.0
    up, _ = up_from_image(img, K, prior, max_angle=15.0)
    assert np.degrees(np.arccos(np.clip(up @ true_up, -1, 1))) < 1.5


def _steep_floor(focal, yaw_deg=30.0):
    """(K, w2c, image): a tiled floor (no verticals) seen from 9 m up, 51 deg down, turned
    ``yaw_deg`` from its tiles, on a 640x360 picture."""
    K = intrinsics((640, 360), focal)
    yaw = np.radians(yaw_deg)
    target = np.array([0.0, 8.0, 0.0])
    eye = target + 7.3 * np.array([-np.sin(yaw), -np.cos(yaw), 0.0]) + [0.0, 0.0, 9.0]
    w2c = look_at(eye, target)
    return K, w2c, _floor_and_poles(w2c, K, poles=())


def _vertical_at(img, feet_px, size=(640, 360)):
    """f -> the verticals' vanishing point of the up read from ``img`` at focal f, the people's
    feet at ``feet_px`` (N, 2) (as the camera estimate reads it without the people's vertical)."""
    vps = image_vanishing_points(img)

    def at(f):
        k = intrinsics(size, f)
        rays = np.linalg.solve(k, np.c_[feet_px, np.ones(len(feet_px))].T).T
        rays = np.repeat((rays / np.linalg.norm(rays, axis=1, keepdims=True))[:, None], 2, axis=1)
        up, _ = up_from_image(img, k, max_angle=STEEP_UP_DEG, max_roll=LEVEL_UP_DEG, vps=vps, feet=rays)
        return None if up is None else k @ up

    return at


@pytest.mark.parametrize("focal,yaw_deg", [(1100.0, 30.0), (700.0, -20.0)])
def test_a_floor_seen_steeply_tells_the_focal_where_the_people_accept_it(focal, yaw_deg):
    """Seen from 51 deg above, a tiled floor has no verticals, and its two families (one converging
    where verticals would) give the focal length only taken as perpendicular; people standing
    about accept it in place of the guess max(W, H) = 640 px, and not a focal from families that
    are not perpendicular in place of the true one; people crawling have no say."""
    K, w2c, img = _steep_floor(focal, yaw_deg)
    true_up = w2c[:3, :3] @ [0.0, 0.0, 1.0]
    assert 50.0 < np.degrees(np.arcsin(-true_up[2])) < 52.0
    assert focal_from_images([img] * 4) is None  # not without the floor's right angle
    found = focal_from_images([img] * 4, floor=True)
    assert found is not None and abs(found / focal - 1) < 0.05
    axes, ids = _standing_people(w2c, K, n=6, frames=6)
    at = _vertical_at(img, axes[:, :2])
    assert people_accept(found, 640.0, at, axes, ids)
    for wrong in (0.75, 1.5):  # what two families not at right angles would give
        assert not people_accept(wrong * focal, focal, at, axes, ids)
    crawling = np.c_[axes[:, :2], axes[:, :2] + np.c_[axes[:, 3] - axes[:, 1], axes[:, 0] - axes[:, 2]]]
    assert not people_accept(found, 640.0, at, crawling, ids)  # no one upright: no say


def test_a_floor_seen_square_on_gives_no_focal_even_taken_as_square():
    """Tiles square to the camera: one family runs across the picture (its point far to a side),
    the other converges straight ahead; the pair lies 90 deg apart from the principal point and its
    focal is noise, so none is given."""
    K = intrinsics((640, 360), 640.0)
    w2c = look_at(np.array([0.0, -6.0, 4.0]), np.array([0.05, 6.0, 0.0]))
    img = _floor_and_poles(w2c, K, poles=())
    assert focal_from_images([img] * 4, floor=True) is None


def test_no_vertical_from_too_few_people_or_one_line():
    """Two people, or one walking along the camera's axis (every axis on one line), fix no point."""
    K = intrinsics((640, 360), 700.0)
    w2c = look_at(np.array([0.0, -2.0, 7.0]), np.array([0.0, 9.0, 0.0]))
    axes, ids = _standing_people(w2c, K, n=2, frames=20)
    assert people_vertical(axes, ids, (320.0, 180.0), 640.0) is None
    feet = np.c_[np.zeros(12), np.linspace(5, 13, 12), np.zeros(12)]
    line = np.c_[project(feet, K, w2c), project(feet + np.array([0.0, 0.0, 1.4]), K, w2c)]
    assert people_vertical(line, np.arange(12), (320.0, 180.0), 640.0) is None


def _ankle_rays(w2c, K, feet):
    """(N, 2, 3) unit rays in the camera's axes to two ankles 10 cm above each floor point."""
    rays = []
    for x, y in feet:
        ankles = np.array([[x - 0.1, y, 0.1], [x + 0.1, y, 0.1]])
        cam = (w2c[:3, :3] @ ankles.T).T + w2c[:3, 3]
        rays.append(cam / np.linalg.norm(cam, axis=1, keepdims=True))
    return np.array(rays)


def test_the_feet_tell_a_floor_seen_steeply_from_above():
    """Looking 55 deg down at a tiled floor, the floor's lines converge above the image within
    40 deg of the image's up, as verticals would: taken as the up, the camera would look up. The
    feet of two people (fewer than the verticals need) rule that out, and the up is then the
    floor's normal, looked for further from the image's up."""
    K = intrinsics((640, 360), 700.0)
    w2c = look_at(np.array([0.0, -2.0, 9.0]), np.array([0.0, 4.3, 0.0]))
    true_up = w2c[:3, :3] @ [0.0, 0.0, 1.0]
    assert 54.0 < np.degrees(np.arccos(-true_up[1])) < 56.0  # the image's up is (0, -1, 0)
    img = _floor_and_poles(w2c, K, poles=())
    feet = _ankle_rays(w2c, K, [(-1.5, 3.0), (1.0, 5.5)] * 5)

    def off(up):
        return np.degrees(np.arccos(np.clip(up @ true_up, -1, 1)))

    wrong, _ = up_from_image(img, K)  # without the feet
    assert wrong is not None and off(wrong) > 60.0 and under_the_floor(wrong, feet)
    assert up_from_image(img, K, feet=feet)[0] is None  # the floor's normal lies beyond 40 deg
    up, support = up_from_image(img, K, max_angle=STEEP_UP_DEG, feet=feet)
    assert up is not None and support >= 20 and off(up) < 1.5
    assert not under_the_floor(up, feet)
    assert not under_the_floor(up, feet[:2] * np.nan)  # no feet seen: nothing ruled out


@pytest.mark.parametrize("roll_deg", [25.0, -35.0])
def test_the_wider_window_is_for_pitch_only(roll_deg):
    """A phone rolled 25-35 deg puts the floor's family running across the picture 55-65 deg from
    the image's up, with more segments than the verticals, and the feet of people straight ahead
    lie level with it: within the steep window it would be the up, 90 deg off. Leaning sideways
    by more than LEVEL_UP_DEG it is no up, and the verticals are found."""
    K = intrinsics((640, 360), 600.0)
    w2c = look_at(np.array([0.3, -6.0, 1.6]), np.array([0.0, 6.0, 0.6]), roll=np.radians(roll_deg))
    true_up = w2c[:3, :3] @ [0.0, 0.0, 1.0]
    img = _floor_and_poles(w2c, K, poles=[(-1.0, 12.0), (1.0, 12.0)])
    feet = _ankle_rays(w2c, K, [(0.0, 4.0), (0.5, 7.0), (-0.5, 9.0)] * 4)

    def off(up):
        return np.degrees(np.arccos(np.clip(up @ true_up, -1, 1)))

    across, _ = up_from_image(img, K, max_angle=STEEP_UP_DEG, feet=feet)
    assert off(across) > 80.0
    up, _ = up_from_image(img, K, max_angle=STEEP_UP_DEG, max_roll=LEVEL_UP_DEG, feet=feet)
    assert up is not None and off(up) < 1.5
