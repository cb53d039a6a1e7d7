"""The SMPLify baseline on synthetic scenes with known truth (tests/baselines/conftest.py)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from anylift import metrics
from anylift.baselines.body_2d import STAGE, SmplifyConfig, _Projector, _viterbi, gmof, smplify
from anylift.errors import InputError
from anylift.geometry.camera import project, to_camera
from anylift.io.cameras import Camera
from anylift.io.keypoints import Keypoints2D
from anylift.progress import Cancelled

# A shorter schedule for the tests that check plumbing rather than accuracy.
QUICK = SmplifyConfig(stage1_steps=1, stage2_steps=(1, 1), prior_anneal=(3.0, 1.0), smooth_anneal=(0.1, 1.0))


def _orientation_error_deg(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    return np.degrees((Rotation.from_rotvec(pred).inv() * Rotation.from_rotvec(true)).magnitude())


@pytest.fixture(scope="module")
def clean_case(body, scene):
    sc = scene(40, seed=1, camera_kind="real_like")
    return sc, smplify(sc.keypoints, sc.camera, body)


def test_noiseless_reprojects_and_recovers_3d(clean_case, body):
    sc, fit = clean_case
    t = sc.keypoints.num_frames
    assert fit.betas.shape == (10,) and fit.global_orient.shape == (t, 3) and fit.body_pose.shape == (t, 69)
    assert (
        fit.transl.shape == (t, 3) and fit.joints.shape == (t, 24, 3) and fit.keypoints3d.shape == (t, 17, 3)
    )
    px = np.linalg.norm(
        project(fit.keypoints3d, sc.camera.K, sc.camera.world_to_camera) - sc.clean2d, axis=-1
    )
    assert px.mean() < 2.0
    assert fit.losses["reprojection_px"] == pytest.approx(px.mean(), rel=1e-3)
    assert fit.final_error < 0.01  # metres from the camera rays
    # Single view: the pose is recovered, the depth only up to the body's size (betas).
    assert metrics.mpjpe(fit.keypoints3d, sc.keypoints3d) < 0.06
    assert metrics.pa_mpjpe(fit.keypoints3d, sc.keypoints3d) < 0.06
    assert metrics.t_root(fit.keypoints3d, sc.keypoints3d, align="none") < 0.2
    assert _orientation_error_deg(fit.global_orient, sc.global_orient).max() < 25.0
    # The returned parameters are the returned joints, in the camera's world (full mesh model).
    with torch.no_grad():
        out = body.forward(
            torch.tensor(fit.betas[None], dtype=torch.float32),
            torch.tensor(fit.global_orient, dtype=torch.float32),
            torch.tensor(fit.body_pose, dtype=torch.float32),
            torch.tensor(fit.transl, dtype=torch.float32),
        )
    np.testing.assert_allclose(out.joints.numpy(), fit.joints, atol=1e-4)
    np.testing.assert_allclose(out.keypoints.numpy(), fit.keypoints3d, atol=1e-4)
    # In front of the camera, at the true distance within the body-size ambiguity.
    z_fit = to_camera(fit.joints[:, :1], sc.camera.world_to_camera)[:, 0, 2]
    z_true = to_camera(sc.joints[:, :1], sc.camera.world_to_camera)[:, 0, 2]
    assert np.all(np.abs(z_fit / z_true - 1) < 0.08)


def test_orientation_found_from_any_heading(body, scene):
    """The heading search and the flip trick: no frame ends up facing the wrong way."""
    sc = scene(30, seed=5, noise_px=2.0, camera_kind="rotate_ccw")
    fit = smplify(sc.keypoints, sc.camera, body)
    err = _orientation_error_deg(fit.global_orient, sc.global_orient)
    assert err.max() < 30.0
    assert metrics.pa_mpjpe(fit.keypoints3d, sc.keypoints3d) < 0.06


def test_noise_stays_stable(body, scene):
    sc = scene(40, seed=3, noise_px=4.0, camera_kind="zoom_in")
    fit = smplify(sc.keypoints, sc.camera, body)
    px = np.linalg.norm(
        project(fit.keypoints3d, sc.camera.K, sc.camera.world_to_camera) - sc.clean2d, axis=-1
    )
    # Closer to the clean 2D than the noisy input is (the smoothness and priors filter noise).
    assert px.mean() < 4.0
    assert metrics.pa_mpjpe(fit.keypoints3d, sc.keypoints3d) < 0.05
    # Measured 0.008 m/frame^2 and 4.5x the true jitter: the noise shows, but nothing blows up.
    assert metrics.accel_error(fit.joints, sc.joints) < 0.012
    assert metrics.jitter(fit.joints) < 8 * metrics.jitter(sc.joints)


def test_missing_keypoints_are_ignored(body, clean_case):
    sc, full = clean_case
    rng = np.random.default_rng(0)
    kp = sc.keypoints.keypoints.copy()
    drop = rng.random(kp.shape[:2]) < 0.2
    kp[drop] = [5000.0, -5000.0, 0.0]  # far-off coordinates with score 0: must not matter
    kp[15:21, :, 2] = 0.0  # six frames without any detection
    missing = Keypoints2D(kp, fps=sc.keypoints.fps, image_size=sc.keypoints.image_size)
    fit = smplify(missing, sc.camera, body)
    assert fit.losses["observed_frames"] == 34
    px = np.linalg.norm(
        project(fit.keypoints3d, sc.camera.K, sc.camera.world_to_camera) - sc.clean2d, axis=-1
    )
    assert px[~drop].mean() < 3.0  # the joints that were seen (score-0 ones are 5000 px off)
    assert px[15:21].mean() < 15.0  # the gap is bridged smoothly, not lost
    assert metrics.pa_mpjpe(fit.keypoints3d, sc.keypoints3d) < 0.07
    assert metrics.mpjpe(fit.keypoints3d, full.keypoints3d) < 0.05


def test_deterministic(body, scene):
    sc = scene(20, seed=6, noise_px=2.0)
    a = smplify(sc.keypoints, sc.camera, body, config=QUICK)
    b = smplify(sc.keypoints, sc.camera, body, config=QUICK)
    np.testing.assert_array_equal(a.joints, b.joints)
    np.testing.assert_array_equal(a.betas, b.betas)


def test_progress_and_cancel(body, scene):
    sc = scene(20, seed=7)
    calls = []
    smplify(sc.keypoints, sc.camera, body, config=QUICK, progress=lambda *a: calls.append(a))
    assert {c[0] for c in calls} == {STAGE}
    assert [c[1] for c in calls] == list(range(1, len(calls) + 1))
    assert calls[-1][1] == calls[-1][2] == 1 + QUICK.stage1_steps + sum(QUICK.stage2_steps)

    cancel = threading.Event()

    def cancel_after_first(stage, done, total):
        cancel.set()

    with pytest.raises(Cancelled):
        smplify(sc.keypoints, sc.camera, body, config=QUICK, progress=cancel_after_first, cancel=cancel)
    cancel.set()
    with pytest.raises(Cancelled):
        smplify(sc.keypoints, sc.camera, body, config=QUICK, cancel=cancel)


def test_input_errors(body, scene):
    sc = scene(10, seed=8)
    kp = sc.keypoints.keypoints.copy()
    kp[..., 2] = 0.0
    with pytest.raises(InputError, match=r"keypoints.*no frame of 10"):
        smplify(Keypoints2D(kp, fps=30.0, image_size=(1920, 1080)), sc.camera, body)
    # Torso visible but too few joints in every frame (min_joints = 6).
    kp = sc.keypoints.keypoints.copy()
    kp[:, [0, 1, 2, 3, 4, 7, 8, 9, 10, 13, 14, 15, 16], 2] = 0.0
    with pytest.raises(InputError, match="visible joints"):
        smplify(Keypoints2D(kp, fps=30.0, image_size=(1920, 1080)), sc.camera, body)
    short = Camera(K=sc.camera.K, world_to_camera=sc.camera.world_to_camera[:5])
    with pytest.raises(InputError, match="frames"):
        smplify(sc.keypoints, short, body)
    with pytest.raises(InputError, match="Keypoints2D"):
        smplify(kp, sc.camera, body)


def test_viterbi_and_gmof():
    unary = np.array([[0.0, 5.0], [3.0, 0.0], [0.0, 5.0], [9.0, 0.0], [9.0, 0.0]])
    switch = np.array([[0.0, 4.0], [4.0, 0.0]])
    # Switching at frame 1 costs 8 to save 3; from frame 3 on, 18 is saved for 4.
    np.testing.assert_array_equal(_viterbi(unary, switch), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(_viterbi(unary, 0 * switch), [0, 1, 0, 1, 1])
    r2 = torch.tensor([0.0, 100.0**2, 1e12])
    np.testing.assert_allclose(gmof(r2, 100.0).numpy(), [0.0, 0.5e4, 1e4], rtol=1e-5)


def test_pelvis_parameterisation_round_trip():
    rng = np.random.default_rng(0)
    w2c = np.tile(np.eye(4), (4, 1, 1))
    w2c[:, :3, :3] = Rotation.random(4, random_state=1).as_matrix()
    w2c[:, :3, 3] = rng.normal(0, 1, (4, 3))
    proj = _Projector(np.array([[900.0, 0, 640], [0, 900, 360], [0, 0, 1]]), w2c, np.zeros((4, 17, 2)),
                      np.ones((4, 17)), np.full(4, 0.5))  # fmt: skip
    cam = np.array([[0.1, -0.2, 3.0], [0.5, 0.1, 6.0], [-1.0, 0.4, 2.5], [0.0, 0.0, 9.0]])
    world = np.einsum("tji,tj->ti", w2c[:, :3, :3], cam - w2c[:, :3, 3])
    params = proj.pelvis_params(torch.tensor(world, dtype=torch.float32))
    np.testing.assert_allclose(params[:, 2].numpy(), np.log(cam[:, 2]), rtol=1e-5)
    np.testing.assert_allclose(proj.pelvis_world(params).numpy(), world, atol=1e-5)
