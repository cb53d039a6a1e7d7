"""Camera trajectory generators: modes, directions, tracking, splits, reproducibility."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from anylift.data import trajectories as tr
from anylift.data.mocap import load_clip
from anylift.errors import InputError
from anylift.io.cameras import Camera

T = 60
STILL = np.array([1.0, 2.0, 0.9])  # a standing subject's pelvis
UP = np.array([0.0, 0.0, 1.0])
NO_SHAKE = {"shake_rotation": 0.0, "shake_translation": 0.0}


def project(cam: Camera, points: np.ndarray) -> np.ndarray:
    """(T, N, 3) world -> (T, N, 2) pixels, written out here to stay independent of geometry/."""
    p = (
        np.einsum("tij,tnj->tni", cam.world_to_camera[:, :3, :3], points)
        + cam.world_to_camera[:, None, :3, 3]
    )
    assert np.all(p[..., 2] > 0)
    return np.einsum("ij,tnj->tni", cam.K[:2, :2], p[..., :2] / p[..., 2:]) + cam.K[:2, 2]


def centres(cam: Camera) -> np.ndarray:
    return cam.camera_to_world()[:, :3, 3]


@pytest.fixture(scope="module")
def walk_pelvis() -> np.ndarray:
    kp = load_clip("walk", fps=30.0).keypoints3d
    return kp[:, [11, 12]].mean(axis=1)


def test_look_at_conventions():
    eye = np.array([0.0, -4.0, 1.0])
    target = np.array([0.0, 0.0, 1.0])
    w2c = tr.look_at(eye, target)
    r = w2c[:3, :3]
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    # Looking along +y from y = -4: camera x = world +x, camera y (down) = world -z, z forward = +y.
    np.testing.assert_allclose(r, [[1, 0, 0], [0, 0, -1], [0, 1, 0]], atol=1e-12)
    np.testing.assert_allclose(w2c[:3, :3] @ target + w2c[:3, 3], [0, 0, 4], atol=1e-12)
    # Positive roll = clockwise for the operator: the camera's +x axis dips towards world -z.
    rolled = tr.look_at(eye, target, roll=math.radians(30))
    x_axis_world = rolled[:3, :3].T[:, 0]
    assert x_axis_world[2] == pytest.approx(-0.5)


@pytest.mark.parametrize("mode", tr.PREDEFINED_MODES)
@pytest.mark.parametrize("returning", [False, True])
def test_tracked_modes_keep_pelvis_centred(mode, returning, walk_pelvis):
    n = len(walk_pelvis)
    cam = tr.predefined_trajectory(
        mode, n, walk_pelvis, seed=3, returning=returning, track_pelvis=True, **NO_SHAKE
    )
    uv = project(cam, walk_pelvis[:, None])[:, 0]
    np.testing.assert_allclose(uv, np.broadcast_to(cam.K[:2, 2], uv.shape), atol=1e-6)


@pytest.mark.parametrize("mode", tr.PREDEFINED_MODES)
def test_untracked_modes_keep_the_body_in_the_image(mode, walk_pelvis):
    n = len(walk_pelvis)
    for seed in range(4):
        cam = tr.predefined_trajectory(mode, n, walk_pelvis, seed=seed, track_pelvis=False)
        body = walk_pelvis[:, None] + np.array([[0, 0, -0.9], [0, 0, 0.8]])
        uv = project(cam, body)
        w, h = cam.image_size
        assert np.all((uv[..., 0] > 0) & (uv[..., 0] < w) & (uv[..., 1] > 0) & (uv[..., 1] < h))


def test_zoom_in_shrinks_distance_and_grows_the_subject():
    cam = tr.predefined_trajectory(
        "zoom_in", T, STILL, seed=1, returning=False, track_pelvis=True, **NO_SHAKE
    )
    params = tr.sample_predefined_params(1, "zoom_in", returning=False, track_pelvis=True, **NO_SHAKE)
    distance = np.linalg.norm(centres(cam) - STILL, axis=1)
    assert np.all(np.diff(distance) < 0)
    assert distance[-1] / distance[0] == pytest.approx(1.0 - params.magnitude, rel=1e-6)
    height = np.ptp(
        project(cam, np.stack([STILL + 0.8 * UP, STILL - 0.9 * UP])[None].repeat(T, 0))[..., 1], 1
    )
    assert height[-1] > height[0] * 1.1
    out = tr.predefined_trajectory(
        "zoom_out", T, STILL, seed=1, returning=False, track_pelvis=True, **NO_SHAKE
    )
    assert np.all(np.diff(np.linalg.norm(centres(out) - STILL, axis=1)) > 0)


@pytest.mark.parametrize("mode,sign", [("move_left", -1.0), ("move_right", 1.0)])
def test_move_left_goes_along_the_cameras_minus_x(mode, sign):
    cam = tr.predefined_trajectory(mode, T, STILL, seed=2, returning=False, track_pelvis=False, **NO_SHAKE)
    x0 = cam.camera_to_world()[0, :3, 0]  # frame 0's camera +x axis in the world
    step = centres(cam)[-1] - centres(cam)[0]
    assert sign * step @ x0 > 0.1
    np.testing.assert_allclose(np.cross(step, x0), 0.0, atol=1e-9)  # purely sideways
    # Untracked, the orientation is fixed and the subject drifts the opposite way in the picture.
    np.testing.assert_allclose(cam.world_to_camera[:, :3, :3], cam.world_to_camera[:1, :3, :3].repeat(T, 0))
    u = project(cam, STILL[None, None].repeat(T, 0))[:, 0, 0]
    assert -sign * (u[-1] - u[0]) > 10.0


@pytest.mark.parametrize("mode,sign", [("rotate_cw", 1.0), ("rotate_ccw", -1.0)])
def test_rotate_rolls_the_right_way(mode, sign):
    params = tr.sample_predefined_params(4, mode, returning=False, track_pelvis=True, **NO_SHAKE)
    cam = tr.build_trajectory(params, T, STILL)
    unrolled = tr.build_trajectory(replace(params, magnitude=0.0), T, STILL).camera_to_world()[:, :3, :3]
    x_axis = cam.camera_to_world()[:, :3, 0]
    # Roll = angle of the camera's +x from the unrolled +x towards the unrolled +y (down).
    roll = np.arctan2(
        np.einsum("ti,ti->t", x_axis, unrolled[:, :, 1]), np.einsum("ti,ti->t", x_axis, unrolled[:, :, 0])
    )
    assert sign * roll[-1] == pytest.approx(params.magnitude, abs=1e-9)
    assert np.all(sign * np.diff(roll) > 0)
    # The +x axis dips below the horizontal for clockwise.
    assert sign * x_axis[-1, 2] < -0.1
    # Clockwise camera roll turns the picture counter-clockwise: the head moves left of the pelvis.
    uv = project(cam, np.stack([STILL, STILL + 0.6 * UP])[None].repeat(T, 0))
    assert sign * (uv[-1, 1, 0] - uv[-1, 0, 0]) < -5.0
    np.testing.assert_allclose(centres(cam), centres(cam)[:1].repeat(T, 0), atol=1e-9)


@pytest.mark.parametrize("mode", tr.PREDEFINED_MODES)
@pytest.mark.parametrize("track", [False, True])
def test_returning_modes_end_where_they_started(mode, track):
    cam = tr.predefined_trajectory(mode, T + 1, STILL, seed=5, returning=True, track_pelvis=track, **NO_SHAKE)
    np.testing.assert_allclose(cam.world_to_camera[-1], cam.world_to_camera[0], atol=1e-9)
    motion = np.linalg.norm(cam.world_to_camera - cam.world_to_camera[0], axis=(1, 2))
    assert motion.argmax() == T // 2 and motion.max() > 0.05


def test_sampled_trajectories_are_proper_and_frame_the_subject(walk_pelvis):
    n = len(walk_pelvis)
    kinds = []
    for seed in range(40):
        split = "train" if seed % 2 else "test"
        params = tr.sample_params(seed, split)
        cam = tr.build_trajectory(params, n, walk_pelvis)
        kinds.append(params.kind)
        r = cam.world_to_camera[:, :3, :3]
        np.testing.assert_allclose(r @ np.swapaxes(r, 1, 2), np.broadcast_to(np.eye(3), r.shape), atol=1e-9)
        np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-9)
        assert cam.image_size in tr.IMAGE_SIZES and cam.num_frames == n
        uv = project(cam, walk_pelvis[:, None] + np.array([[0, 0, -0.9], [0, 0, 0.8]]))
        w, h = cam.image_size
        assert np.all((uv[..., 0] > 0) & (uv[..., 0] < w) & (uv[..., 1] > 0) & (uv[..., 1] < h)), seed
        if params.kind == "real_like":
            # The operator keeps the person roughly centred.
            centre = project(cam, walk_pelvis[:, None])[:, 0]
            assert np.all(np.abs(centre - cam.K[:2, 2]) < 0.3 * np.array([w, h])), seed
    assert {"real_like", "predefined"} <= set(kinds)


def test_mode_probability():
    rng = np.random.default_rng(0)
    kinds = [tr.sample_params(rng, "train", mode_prob=0.3).kind for _ in range(600)]
    assert kinds.count("predefined") / 600 == pytest.approx(0.3, abs=0.06)
    assert all(tr.sample_params(i, mode_prob=0.0).kind == "real_like" for i in range(20))


def test_train_and_test_never_share_a_trajectory():
    train = [tr.sample_params(s, "train") for s in range(300)]
    test = [tr.sample_params(s, "test") for s in range(300)]
    for params in train:
        assert tr.split_of(math.degrees(params.fov_long), *tr.FOV_RANGE_DEG) == "train"
    for params in test:
        assert tr.split_of(math.degrees(params.fov_long), *tr.FOV_RANGE_DEG) == "test"
    for params in train + test:
        if params.kind == "predefined":
            assert tr.split_of(params.magnitude, *tr.MAGNITUDE_RANGE[params.mode]) == params.split
    train_k = {(p.image_size, round(p.focal, 9)) for p in train}
    test_k = {(p.image_size, round(p.focal, 9)) for p in test}
    assert not train_k & test_k
    # Both splits still cover the whole field-of-view range.
    for group in (train, test):
        fov = np.degrees([p.fov_long for p in group])
        assert fov.min() < 46 and fov.max() > 74
    with pytest.raises(InputError, match="split"):
        tr.sample_params(0, "validation")


def test_same_seed_same_trajectory(walk_pelvis):
    n = len(walk_pelvis)
    a = tr.sample_trajectory(np.random.default_rng(7), n, walk_pelvis)
    b = tr.sample_trajectory(np.random.default_rng(7), n, walk_pelvis)
    c = tr.sample_trajectory(np.random.default_rng(8), n, walk_pelvis)
    np.testing.assert_array_equal(a.world_to_camera, b.world_to_camera)
    np.testing.assert_array_equal(a.K, b.K)
    assert not np.allclose(a.world_to_camera, c.world_to_camera)
    assert tr.sample_params(11, "test") == tr.sample_params(11, "test")


def test_handheld_shake_is_small_and_smooth():
    base = tr.sample_predefined_params(9, "move_left", track_pelvis=True, returning=False, **NO_SHAKE)
    shaky = tr.build_trajectory(
        replace(base, shake_rotation=math.radians(1.0), shake_translation=0.01), 240, STILL
    )
    steady = tr.build_trajectory(base, 240, STILL)
    delta = np.einsum("tji,tjk->tik", steady.world_to_camera[:, :3, :3], shaky.world_to_camera[:, :3, :3])
    angle = np.degrees(np.arccos(np.clip((np.trace(delta, axis1=1, axis2=2) - 1) / 2, -1, 1)))
    rms = np.sqrt(np.mean(angle**2))
    assert 0.5 < rms < 3.0  # about sqrt(3) * 1 degree for three independent axes
    # Smooth, not white noise (for which the ratio would be about 1.4).
    assert np.sqrt(np.mean(np.diff(angle) ** 2)) < 0.5 * rms
    offset = np.linalg.norm(centres(shaky) - centres(steady), axis=1)
    assert 0.005 < np.sqrt(np.mean(offset**2)) < 0.04


def test_internet_like_views_are_frontal(walk_pelvis):
    n = len(walk_pelvis)
    facing = 0.0  # the walk faces +x
    middle = walk_pelvis.mean(axis=0)
    for seed in range(20):
        cam = tr.internet_like_trajectory(seed, n, walk_pelvis, facing)
        rel = centres(cam) - middle
        azimuth = np.degrees(np.angle(np.exp(1j * (np.arctan2(rel[:, 1], rel[:, 0]) - facing))))
        assert np.all(np.abs(azimuth) < 36.0), seed
        elevation = np.degrees(np.arctan2(rel[:, 2], np.linalg.norm(rel[:, :2], axis=1)))
        assert np.all((elevation > -3.0) & (elevation < 20.0)), seed


def test_ring_cameras():
    target = np.array([0.5, -1.0, 1.0])
    cams = tr.ring_cameras(6, target, radius=3.0, height=1.5, num_frames=4, start_azimuth=0.3)
    assert len(cams) == 6
    eyes = np.array([centres(c)[0] for c in cams])
    np.testing.assert_allclose(np.linalg.norm(eyes[:, :2] - target[:2], axis=1), 3.0)
    np.testing.assert_allclose(eyes[:, 2], 1.5)
    azimuth = np.arctan2(eyes[:, 1] - target[1], eyes[:, 0] - target[0])
    np.testing.assert_allclose(np.angle(np.exp(1j * (np.diff(azimuth) - math.pi / 3))), 0.0, atol=1e-12)
    assert azimuth[0] == pytest.approx(0.3)
    for cam in cams:
        assert cam.num_frames == 4
        np.testing.assert_allclose(
            project(cam, target[None, None].repeat(4, 0))[:, 0], [[960, 540]] * 4, atol=1e-9
        )


def test_bad_inputs():
    with pytest.raises(InputError, match="subject_track"):
        tr.sample_trajectory(0, 10, np.zeros((5, 3)))
    with pytest.raises(InputError, match="mode"):
        tr.predefined_trajectory("barrel_roll", 10, STILL)


def test_wide_camera_range_covers_unseen_designs(walk_pelvis):
    n = len(walk_pelvis)
    params = [tr.sample_params(s, "train", camera_range="wide") for s in range(300)]
    fov = np.degrees([p.fov_long for p in params])
    elev = np.degrees([p.elevation for p in params])
    assert fov.min() < 28 and fov.max() > 75  # 85 mm to ~24 mm (the last bin is the test split's)
    assert elev.min() < -10 and elev.max() > 55  # low angle to drone / stands
    assert min(p.framing for p in params) < 0.2  # small people
    static = [p for p in params if p.kind == "predefined" and p.magnitude == 0 and not p.track_pelvis]
    assert 0.08 < len(static) / len(params) < 0.25
    for p in params:  # the split still holds inside the wide range
        assert tr.split_of(math.degrees(p.fov_long), *tr.WIDE_FOV_RANGE_DEG) == "train"
    cam = tr.build_trajectory(static[0], n, walk_pelvis)  # a locked-off tripod does not move
    np.testing.assert_allclose(cam.world_to_camera, np.broadcast_to(cam.world_to_camera[0], (n, 4, 4)))
    high = max(params, key=lambda p: p.elevation)
    cam = tr.build_trajectory(high, n, walk_pelvis)
    eye = -np.einsum("tji,tj->ti", cam.world_to_camera[:, :3, :3], cam.world_to_camera[:, :3, 3])
    assert np.all(eye[:, 2] > walk_pelvis[:, 2] + 1.0)  # really above, looking down
    # The standard range is unchanged by the option's existence.
    assert tr.sample_params(5, "train") == tr.sample_params(5, "train", camera_range="standard")
    with pytest.raises(InputError, match="camera_range"):
        tr.sample_params(0, "train", camera_range="huge")


def test_extreme_camera_range_adds_long_lenses_top_views_and_close_framing(walk_pelvis):
    n = len(walk_pelvis)
    params = [tr.sample_params(s, "train", camera_range="extreme") for s in range(300)]
    fov = np.degrees([p.fov_long for p in params])
    elev = np.degrees([p.elevation for p in params])
    framing = np.array([p.framing for p in params])
    assert fov.min() < 8 and fov.max() > 95  # beyond 300 mm and below 16 mm
    assert elev.max() > 78 and framing.max() > 0.85
    # Most draws stay in the wide ranges: each quantity is drawn extreme with probability 0.35.
    inside = (fov >= tr.WIDE_FOV_RANGE_DEG[0]) & (fov <= tr.WIDE_FOV_RANGE_DEG[1])
    assert 0.6 < inside.mean() < 0.9
    for p in (min(params, key=lambda p: p.fov_long), max(params, key=lambda p: p.elevation)):
        cam = tr.build_trajectory(p, n, walk_pelvis)
        assert np.isfinite(cam.world_to_camera).all()
        uv = project(cam, walk_pelvis[:, None])[:, 0]  # the pelvis in the picture (in front: local project)
        assert (np.abs(uv - np.array(cam.image_size) / 2) < np.array(cam.image_size) / 2).all()
