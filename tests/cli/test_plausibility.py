"""Plausibility checks (anylift.lifting.checks): what is refused, what is warned about."""

from __future__ import annotations

import numpy as np
import pytest

from anylift.errors import InputError
from anylift.io.cameras import Camera, static_camera
from anylift.io.keypoints import Keypoints2D
from anylift.io.motion import Motion
from anylift.lifting.checks import check_inputs, check_result


def person(frames: int, height_px: float, centre=(320.0, 240.0), seen=None) -> Keypoints2D:
    """A standing person ``height_px`` tall (17 joints on a vertical line), seen in ``seen`` frames."""
    kp = np.zeros((frames, 17, 3))
    kp[..., 0] = centre[0] + np.linspace(-0.1, 0.1, 17) * height_px
    kp[..., 1] = centre[1] + np.linspace(-0.5, 0.5, 17) * height_px
    kp[..., 2] = 0.9
    if seen is not None:
        kp[seen:, :, 2] = 0.0
    return Keypoints2D(kp, fps=30.0, image_size=(640, 480))


def test_an_ordinary_clip_passes_quietly():
    assert check_inputs(person(12, 200.0), static_camera(12, (640, 480))) == []


def test_few_frames_with_a_person_warn_and_one_frame_is_refused():
    # Seen in frames 0-2 only: the lift covers those (anylift.lifting.span), no warning.
    assert check_inputs(person(12, 200.0, seen=3), None) == []
    gappy = person(12, 200.0)
    gappy.keypoints[2:11, :, 2] = 0.0
    (warning,) = check_inputs(gappy, None)
    assert "seen in only 3 of 12 frames" in warning
    gappy.keypoints[0, :, 2] = 0.0
    (warning,) = check_inputs(gappy, None)
    assert "seen in only 2 of 11 frames (frames 1 to 11)" in warning
    with pytest.raises(InputError, match="seen in only 1 of 12 frames"):
        check_inputs(person(12, 200.0, seen=1), None)
    assert check_inputs(person(1, 200.0), None) == []  # a one-frame clip is fine


def test_feet_mostly_unseen_warn():
    """Framed from the waist up (people at a table): the lift guesses the legs and the floor."""
    kp = person(12, 200.0)
    kp.keypoints[:7, 15:17, 2] = 0.1  # ankles unsure: not seen
    (warning,) = check_inputs(kp, None)
    assert "the feet are seen in only 5 of the 12 frames the person is seen in (42 %)" in warning
    kp.keypoints[6, 15, 2] = 0.9  # one ankle is enough
    assert check_inputs(kp, None) == []


def test_size_in_pixels_against_the_focal_length():
    cam = static_camera(4, (640, 480))  # fx = 640
    with pytest.raises(InputError, match="spans 4 pixels"):
        check_inputs(person(4, 4.0), cam)
    with pytest.raises(InputError, match="10 times the image size"):
        check_inputs(person(4, 7000.0), cam)
    (far,) = check_inputs(
        person(4, 10.0), Camera(K=cam.K * [[10], [10], [1]], world_to_camera=cam.world_to_camera)
    )
    assert "puts them 960 m from the camera" in far  # 6400 px * 1.5 m / 10 px
    (near,) = check_inputs(
        person(4, 479.0), Camera(K=cam.K * [[0.05], [0.05], [1]], world_to_camera=cam.world_to_camera)
    )
    assert "0.1 m from the camera" in near


def test_off_image_person_warns():
    (warning,) = check_inputs(person(4, 200.0, centre=(3000.0, 240.0)), None)
    assert "far outside the 640 x 480 image" in warning


def test_a_camera_looking_almost_straight_down_warns():
    cam = static_camera(4, (640, 480))
    level = Camera(K=cam.K, world_to_camera=cam.world_to_camera, up=np.array([0.0, -1.0, 0.0]))
    assert check_inputs(person(4, 200.0), level) == []  # up is the camera's -y: a level camera

    def pitched(deg: float) -> Camera:  # turned about the camera's x axis: looking down ``deg``
        a = np.radians(deg)
        turn = np.array([[1.0, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
        w2c = cam.world_to_camera.copy()
        w2c[:, :3, :3] = turn  # viewing direction (row 2) (0, sin, cos): down is +y
        return Camera(K=cam.K, world_to_camera=w2c, up=np.array([0.0, -1.0, 0.0]))

    assert check_inputs(person(4, 200.0), pitched(75.0)) == []
    (warning,) = check_inputs(person(4, 200.0), pitched(85.0))
    assert "looks down 85 deg, almost straight down" in warning
    (warning,) = check_inputs(person(4, 200.0), pitched(-85.0))
    assert "looks up 85 deg" in warning


@pytest.mark.parametrize("seed", [-1, 2**32, 2**70, 1.5, True])
def test_seed_out_of_range(seed):
    with pytest.raises(InputError, match="seed"):
        check_inputs(person(4, 200.0), None, seed=seed)


def _motion(points: np.ndarray) -> Motion:
    t = len(points)
    return Motion(fps=30.0, joints=np.zeros((t, 24, 3)), keypoints3d=points, global_orient=np.zeros((t, 3)),
                  body_pose=np.zeros((t, 69)), transl=np.zeros((t, 3)), betas=np.zeros(10),
                  body_model="smpl-proxy", world_to_camera=np.tile(np.eye(4), (t, 1, 1)),
                  intrinsics=np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]))  # fmt: skip


def test_result_behind_the_camera_far_away_or_of_no_human_height():
    body = np.zeros((5, 17, 3))
    body[..., 1] = np.linspace(-0.85, 0.85, 17)  # 1.7 m tall along the camera's y

    def at(z: float, scale: float = 1.0) -> Motion:
        return _motion(body * scale + np.array([0.0, 0.0, z]))

    assert check_result(at(4.0)) == []
    behind = check_result(at(-4.0))
    assert behind == ["the lifted person is behind the camera in 5 of 5 frames"]
    (far,) = check_result(at(5000.0))
    assert "up to 5 km from the camera" in far
    (tiny,) = check_result(at(4.0, scale=0.07))
    assert "0.12 m tall" in tiny
