"""The evaluation case builder (anylift.data.evaluation): inputs, truth, corruption, scoring."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anylift.data import evaluation, mocap, trajectories
from anylift.data.evaluation import COCO17_OKS_SIGMAS, make_case, static_camera_like
from anylift.errors import InputError
from anylift.fitting.smpl_fit import SmplFitConfig
from anylift.io.cameras import read_camera, write_camera
from anylift.io.keypoints import read_keypoints, write_keypoints
from anylift.io.motion import read_motion, write_motion

# The truth's SMPL fields are not what these tests check: a short fit keeps them fast.
FAST_FIT = SmplFitConfig(stage1_iterations=5, stage2_iterations=20)


def case(clip="cartwheel", seed=0, **kw):
    kw.setdefault("noise_px", 3.0)
    kw.setdefault("dropout", 0.05)
    return make_case(clip, seed, allow_heldout=True, fit_config=FAST_FIT, **kw)


@pytest.fixture(scope="module")
def cartwheel():
    return case()


def test_shapes_and_truth(cartwheel):
    c = cartwheel
    clip = mocap.load_clip("cartwheel", allow_heldout=True)
    t = clip.num_frames
    assert c.keypoints.keypoints.shape == (t, 17, 3)
    assert c.keypoints.fps == 30.0 and c.keypoints.image_size == (1920, 1080)
    assert c.camera.num_frames == t and c.camera.image_size == (1920, 1080)
    np.testing.assert_allclose(c.camera.up, [0, 0, 1])
    assert c.truth.num_frames == t and c.truth.joints.shape == (t, 24, 3)
    # The keypoint truth is the mocap itself, not the fitted body.
    np.testing.assert_array_equal(c.truth.keypoints3d, clip.keypoints3d)
    np.testing.assert_array_equal(c.truth.world_to_camera, c.camera.world_to_camera)
    np.testing.assert_array_equal(c.truth.intrinsics, c.camera.K)
    assert c.truth.body_model == "smpl-proxy"
    # Even the short fit puts the SMPL body within a few cm of the mocap keypoints.
    assert c.fit_error < 0.08
    assert c.name == "cartwheel/traj0" and c.clean_keypoints.shape == (t, 17, 2)


def test_truth_projects_to_the_clean_2d(cartwheel):
    c = cartwheel
    K, w2c = c.camera.K, c.camera.world_to_camera
    cam = np.einsum("tij,tnj->tni", w2c[:, :3, :3], c.truth.keypoints3d) + w2c[:, None, :3, 3]
    hom = cam @ K.T
    uv = hom[..., :2] / hom[..., 2:]
    assert np.abs(uv - c.clean_keypoints).max() < 1e-6


def test_camera_is_test_split_and_sees_the_body():
    for seed in range(4):
        c = case("cartwheel", seed)
        assert c.trajectory.split == "test"
        fov = math.degrees(c.trajectory.fov_long)
        assert trajectories.split_of(fov, *trajectories.FOV_RANGE_DEG) == "test"
        uv = c.clean_keypoints
        w, h = c.camera.image_size
        assert (uv[..., 0] > 0).all() and (uv[..., 0] < w).all()
        assert (uv[..., 1] > 0).all() and (uv[..., 1] < h).all()
        # The camera moves (a dynamic trajectory, not a tripod).
        centres = c.camera.camera_to_world()[:, :3, 3]
        rot = c.camera.world_to_camera[:, :3, :3]
        turned = np.degrees(np.arccos(np.clip((np.trace(rot[0].T @ rot[-1]) - 1) / 2, -1, 1)))
        assert np.linalg.norm(centres - centres[0], axis=1).max() > 0.05 or turned > 2.0


def test_dropout_rate_and_bursts(cartwheel):
    c = cartwheel
    t = c.num_frames
    # The whole body is in view, so only occlusion drops joints: exactly round(rate * T * 17).
    assert c.dropped.sum() == round(0.05 * t * 17)
    scores = c.keypoints.keypoints[..., 2]
    np.testing.assert_array_equal(scores == 0, c.dropped)
    assert np.isnan(c.keypoints.keypoints[c.dropped][:, :2]).all()
    assert np.isfinite(c.keypoints.keypoints[~c.dropped]).all()
    # Occlusions come in runs of frames, not as isolated joints only.
    runs = c.dropped[1:] & c.dropped[:-1]
    assert runs.sum() > 0.3 * c.dropped.sum()


def test_noise_statistics():
    c = case("cartwheel", 1, noise_px=4.0, dropout=0.0, outlier_rate=0.0)
    residual = c.keypoints.keypoints[..., :2] - c.clean_keypoints
    sigma = 4.0 * COCO17_OKS_SIGMAS / COCO17_OKS_SIGMAS.mean()
    z = residual / sigma[None, :, None]
    assert abs(z.std() - 1.0) < 0.05
    assert abs(z.mean()) < 0.05
    # Hips are noisier than the nose, as in COCO's annotation statistics.
    assert residual[:, 11].std() > 2.5 * residual[:, 0].std()
    assert not c.dropped.any() and not c.outliers.any()
    assert c.keypoints.keypoints[..., 2].min() >= 0.3


def test_outliers_are_gross_and_mostly_low_score():
    c = case("cartwheel", 2, noise_px=1.0, dropout=0.0, outlier_rate=0.1)
    rate = c.outliers.mean()
    assert 0.07 < rate < 0.13
    err = np.linalg.norm(c.keypoints.keypoints[..., :2] - c.clean_keypoints, axis=-1)
    box = (c.clean_keypoints.max(1) - c.clean_keypoints.min(1)).max(-1)
    assert (err[c.outliers] > 0.04 * np.broadcast_to(box[:, None], err.shape)[c.outliers]).all()
    assert np.percentile(err[~c.outliers], 99) < 10.0
    scores = c.keypoints.keypoints[..., 2]
    assert scores[c.outliers].mean() < scores[~c.outliers].mean() - 0.25


def test_joints_out_of_view_are_dropped():
    c = case("cartwheel", 0, image_size=(1920, 1080))
    depth = np.ones(c.clean_keypoints.shape[:2])
    clean = c.clean_keypoints.copy()
    clean[:10, 0] = -5.0  # nose left of the image
    depth[20:22, 3] = -1.0  # behind the camera
    rng = np.random.default_rng(0)
    kp, dropped, _ = evaluation.corrupt_keypoints(clean, depth, (1920, 1080), rng, noise_px=1.0, dropout=0.0)
    assert dropped[:10, 0].all() and dropped[20:22, 3].all()
    assert dropped.sum() == 12 and (kp[dropped, 2] == 0).all()


def test_deterministic_and_seeded(cartwheel):
    again = case()
    np.testing.assert_array_equal(again.keypoints.keypoints, cartwheel.keypoints.keypoints)
    np.testing.assert_array_equal(again.camera.world_to_camera, cartwheel.camera.world_to_camera)
    other_noise = case(noise_seed=99)
    np.testing.assert_array_equal(other_noise.camera.world_to_camera, cartwheel.camera.world_to_camera)
    assert not np.array_equal(other_noise.dropped, cartwheel.dropped)
    other = case(seed=1)
    assert not np.allclose(other.camera.world_to_camera, cartwheel.camera.world_to_camera)


def test_heldout_needs_the_flag_training_clips_do_not():
    with pytest.raises(InputError, match="held out"):
        make_case("run", 0, noise_px=1.0, dropout=0.0, fit_config=FAST_FIT)
    c = make_case("walk", 0, noise_px=1.0, dropout=0.0, fps=10.0, fit_config=FAST_FIT)
    assert c.clip == "walk"
    with pytest.raises(InputError, match="unknown clip"):
        make_case("moonwalk", 0, noise_px=1.0, dropout=0.0, allow_heldout=True)
    with pytest.raises(InputError, match="dropout"):
        case("run", 0, dropout=1.5)
    with pytest.raises(InputError, match="noise_px"):
        case("run", 0, noise_px=-1.0)


def test_public_files_round_trip(cartwheel, tmp_path):
    c = cartwheel
    write_keypoints(tmp_path / "k.json", c.keypoints)
    write_camera(tmp_path / "c.json", c.camera)
    write_motion(tmp_path / "t.npz", c.truth)
    kp = read_keypoints(tmp_path / "k.json")
    cam = read_camera(tmp_path / "c.json")
    truth = read_motion(tmp_path / "t.npz")
    np.testing.assert_allclose(kp.keypoints, c.keypoints.keypoints, atol=1e-3, equal_nan=True)
    np.testing.assert_allclose(cam.world_to_camera, c.camera.world_to_camera, atol=1e-9)
    np.testing.assert_allclose(truth.keypoints3d, c.truth.keypoints3d)


def test_static_camera_like(cartwheel):
    static = static_camera_like(cartwheel.camera)
    assert static.num_frames == cartwheel.camera.num_frames
    np.testing.assert_array_equal(static.K, cartwheel.camera.K)
    np.testing.assert_array_equal(static.world_to_camera[-1], cartwheel.camera.world_to_camera[0])
    assert static.image_size == cartwheel.camera.image_size


def test_results_land_in_the_truth_world(cartwheel, tmp_path):
    """A lift with the case's camera file (or the static ablation's) keeps the truth's world."""
    from anylift.lifting.world import result_world

    write_camera(tmp_path / "c.json", cartwheel.camera)
    for camera in (read_camera(tmp_path / "c.json"), static_camera_like(cartwheel.camera)):
        world = result_world(camera, cartwheel.num_frames, cartwheel.keypoints.image_size)
        np.testing.assert_allclose(world.rotation, np.eye(3), atol=1e-12)
        assert world.scale == 1.0
        np.testing.assert_allclose(world.camera.world_to_camera, camera.world_to_camera, atol=1e-9)
