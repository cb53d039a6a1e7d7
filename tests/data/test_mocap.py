"""DeepMimic clip reader: forward kinematics, world conventions, resampling, data split."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anylift.data import mocap
from anylift.errors import InputError
from anylift.skeletons import COCO17_JOINTS

J = {name: i for i, name in enumerate(COCO17_JOINTS)}


@pytest.fixture(scope="module")
def clips() -> dict[str, mocap.MocapClip]:
    return {name: mocap.load_clip(name, allow_heldout=True) for name in mocap.ALL_CLIPS}


def test_split_is_the_developers_split():
    assert set(mocap.TRAIN_CLIPS) == {
        "walk", "jump", "dance_a", "punch", "kick", "roll", "crawl", "getup_facedown", "spin", "backflip",
    }  # fmt: skip
    assert set(mocap.HELDOUT_CLIPS) == {"cartwheel", "spinkick", "dance_b", "getup_faceup", "run"}
    assert not set(mocap.TRAIN_CLIPS) & set(mocap.HELDOUT_CLIPS)


@pytest.mark.parametrize("name", mocap.HELDOUT_CLIPS)
def test_heldout_clips_refused_without_permission(name):
    with pytest.raises(InputError, match="held out"):
        mocap.load_clip(name)


def test_unknown_clip_and_bad_fps_refused():
    with pytest.raises(InputError, match="unknown clip 'moonwalk'"):
        mocap.load_clip("moonwalk", allow_heldout=True)
    with pytest.raises(InputError, match="fps"):
        mocap.load_clip("walk", fps=0.0)


def test_every_clip_loads_with_consistent_shapes(clips):
    for name, clip in clips.items():
        assert clip.name == name
        assert clip.keypoints3d.shape == (clip.num_frames, 17, 3)
        assert clip.joints.shape == (clip.num_frames, len(clip.joint_names), 3)
        assert clip.heading.shape == (clip.num_frames,)
        assert clip.num_frames >= 20
        assert np.all(np.isfinite(clip.joints))
        rot = clip.root_rotation
        np.testing.assert_allclose(
            rot @ np.swapaxes(rot, 1, 2), np.broadcast_to(np.eye(3), rot.shape), atol=1e-9
        )
        np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-9)


def test_source_frame_rates_and_durations_match_files(clips):
    # Read from the files: walk 30 fps, 39 frames of 0.033332 s; backflip 16 fps; spin 24 fps.
    assert clips["walk"].source_fps == pytest.approx(30.0, rel=1e-3)
    assert clips["walk"].duration == pytest.approx(38 * 0.033332, abs=1 / 30)
    assert clips["backflip"].source_fps == pytest.approx(16.0, rel=1e-3)
    assert clips["spin"].source_fps == pytest.approx(24.0, rel=1e-3)


def test_bone_lengths_constant_over_time(clips):
    for clip in clips.values():
        kp = clip.keypoints3d
        for a, b in [(11, 13), (13, 15), (5, 7), (7, 9), (11, 12), (5, 6), (0, 3), (1, 2)]:
            length = np.linalg.norm(kp[:, a] - kp[:, b], axis=-1)
            assert np.ptp(length) < 1e-9, (clip.name, a, b)
    # The URDF thigh is 1.686184 units at scale 0.25.
    walk = clips["walk"].keypoints3d
    np.testing.assert_allclose(
        np.linalg.norm(walk[:, J["left_hip"]] - walk[:, J["left_knee"]], axis=-1), 0.421546
    )


def test_forward_kinematics_matches_pybullet():
    pybullet = pytest.importorskip("pybullet")
    frames = np.asarray(json.loads(mocap.clip_path("dance_a").read_text())["Frames"])
    clip = mocap.load_clip("dance_a", fps=1.0 / frames[0, 0])  # frame k is source frame k
    client = pybullet.connect(pybullet.DIRECT)
    try:
        body = pybullet.loadURDF(
            str(mocap.urdf_path()), globalScaling=mocap.URDF_SCALE, physicsClientId=client
        )
        index = {
            pybullet.getJointInfo(body, i, physicsClientId=client)[1].decode(): i
            for i in range(pybullet.getNumJoints(body, physicsClientId=client))
        }
        for k in (0, 17, 40):
            f = frames[k]
            xyzw = lambda q: [q[1], q[2], q[3], q[0]]  # noqa: E731
            pybullet.resetBasePositionAndOrientation(body, f[1:4], xyzw(f[4:8]), physicsClientId=client)
            start = 8
            for name, width in mocap._FRAME_LAYOUT[2:]:
                value = [f[start]] if width == 1 else xyzw(f[start : start + 4])
                pybullet.resetJointStateMultiDof(body, index[name], value, physicsClientId=client)
                start += width
            for name in ("left_wrist", "right_ankle", "left_knee", "neck", "right_shoulder"):
                pos = np.array(pybullet.getLinkState(body, index[name], computeForwardKinematics=True,
                                                     physicsClientId=client)[4])  # fmt: skip
                ours = clip.joint(name)[k]
                # Ours is Z-up and lifted to the floor; undo: (x, y, z) <- (x, z + floor..., -y).
                ours_src = np.array([ours[0], ours[2], -ours[1]])
                lift = clip.joint("root")[k][2] - f[2]
                np.testing.assert_allclose(ours_src - [0, lift, 0], pos, atol=1e-6, err_msg=name)
    finally:
        pybullet.disconnect(client)


def test_z_up_head_above_pelvis_when_standing(clips):
    # (kick leans far back at its peak: nose only 11 cm above the pelvis.)
    for name in ("walk", "run", "jump", "punch", "dance_a", "dance_b", "spinkick"):
        kp = clips[name].keypoints3d
        pelvis = kp[:, [11, 12]].mean(axis=1)
        assert np.all(kp[:, J["nose"], 2] - pelvis[:, 2] > 0.25), name
        if name in ("walk", "run"):
            assert np.all(kp[:, [13, 14], 2] < pelvis[:, None, 2]), name


def test_body_height_plausible(clips):
    # Stature = head top (head sphere centre + radius) with the feet on the floor; DeepMimic's
    # character is about 1.6 m at scale 0.25.
    radius = mocap._read_urdf(str(mocap.urdf_path())).head_radius
    head_top = clips["walk"].joint("head")[:, 2] + radius
    assert 1.55 < head_top.max() < 1.75
    # Stands up at the end of getup: the head top rises by more than a metre.
    getup = clips["getup_facedown"].joint("head")[:, 2]
    assert getup[-1] - getup[0] > 1.0


def test_feet_on_floor_while_walking(clips):
    for name in ("walk", "run", "dance_a", "spin"):
        clip = clips[name]
        soles = clip.joints[:, [clip.joint_names.index(n) for n in ("left_heel", "left_toe", "right_heel",
                                                                     "right_toe")], 2]  # fmt: skip
        # Lowest foot point over the clip is on z = 0 (corners can be 1 cm below the mid-width sole points).
        assert -0.001 < soles.min() < 0.02, name
    walk = clips["walk"]
    sole = [walk.joint_names.index(n) for n in ("left_heel", "left_toe", "right_heel", "right_toe")]
    lowest = np.min(walk.joints[:, sole, 2], axis=1)
    # Always some foot on the ground while walking (no flight phase).
    assert lowest.max() < 0.05
    # Ankles about 5 cm above the sole when flat.
    assert 0.03 < walk.keypoints3d[:, 15:, 2].min() < 0.08


def test_walk_moves_forward_along_heading(clips):
    walk = clips["walk"]
    pelvis = walk.keypoints3d[:, [11, 12]].mean(axis=1)
    step = pelvis[-1] - pelvis[0]
    assert step[0] > 1.0  # about 1 m/s over 1.27 s, towards the character's forward (+x)
    assert abs(step[1]) < 0.1 and abs(step[2]) < 0.05
    assert np.all(np.abs(np.angle(np.exp(1j * walk.heading))) < 0.35)
    # The nose is in front of the ears: the face looks forward.
    ears = walk.keypoints3d[:, [3, 4]].mean(axis=1)
    assert np.all(walk.keypoints3d[:, 0, 0] > ears[:, 0])


def test_left_is_left(clips):
    kp = clips["walk"].keypoints3d
    # Facing +x in a Z-up right-handed world, the left side is +y.
    for left, right in [(1, 2), (3, 4), (5, 6), (11, 12), (15, 16)]:
        assert np.all(kp[:, left, 1] > kp[:, right, 1])


@pytest.mark.parametrize("fps", [10.0, 24.0, 50.0, 120.0])
def test_resampling_keeps_duration_and_shape(fps, clips):
    ref = clips["jump"]  # 60 fps source
    clip = mocap.load_clip("jump", fps=fps)
    assert abs(clip.duration - ref.duration) <= 1.0 / fps
    assert clip.fps == fps
    # Same poses at the shared instants (t = 0 and t = 1.0 s).
    np.testing.assert_allclose(clip.keypoints3d[0], ref.keypoints3d[0], atol=1e-9)
    k = round(1.0 * fps)
    np.testing.assert_allclose(clip.keypoints3d[k], ref.keypoints3d[30], atol=1e-6)


def test_resampling_between_frames_is_smooth(clips):
    fine = np.diff(mocap.load_clip("walk", fps=120.0).keypoints3d, n=2, axis=0)
    coarse = np.diff(clips["walk"].keypoints3d, n=2, axis=0)
    # 4x upsampling: a smooth curve's second differences shrink 16x, a slerp knot's 4x; a jump
    # or a wrong time line would not shrink them.
    assert np.abs(fine).max() < 0.3 * np.abs(coarse).max()
