"""fit_smpl recovers proxy-body motions generated from known SMPL parameters."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from anylift.body.model import ZUP_REST_GLOBAL_ORIENT
from anylift.fitting.smpl_fit import fit_smpl
from anylift.metrics import mpjpe


@pytest.fixture(scope="module")
def body(tmp_path_factory):
    from anylift.body import load_body_model

    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANYLIFT_CACHE", str(tmp_path_factory.mktemp("anylift_cache")))
        mp.delenv("ANYLIFT_SMPL_MODEL", raising=False)
        return load_body_model()


def _motion(body, t=24, seed=0):
    rng = np.random.default_rng(seed)
    phase = np.linspace(0, 2 * np.pi, t)[:, None]
    pose = np.zeros((t, 23, 3))
    # Limb swings the COCO-17 keypoints observe: hips, knees, shoulders, elbows.
    amp = rng.uniform(0.2, 0.5, 8)
    pose[:, 0, 0], pose[:, 1, 0] = amp[0] * np.sin(phase[:, 0]), -amp[1] * np.sin(phase[:, 0])
    pose[:, 3, 0], pose[:, 4, 0] = amp[2] * (1 + np.sin(phase[:, 0])), amp[3] * (1 - np.sin(phase[:, 0]))
    pose[:, 15, 2], pose[:, 16, 2] = -0.8 - amp[4] * np.sin(phase[:, 0]), 0.8 + amp[5] * np.sin(phase[:, 0])
    pose[:, 17, 1], pose[:, 18, 1] = -amp[6] * (1 + np.sin(phase[:, 0])), amp[7] * (1 + np.sin(phase[:, 0]))
    turn = np.linspace(0, 0.8, t)
    orient = Rotation.from_euler("z", turn[:, None]) * Rotation.from_rotvec(
        np.tile(ZUP_REST_GLOBAL_ORIENT, (t, 1))
    )
    transl = np.stack([np.linspace(0, 1.2, t), np.linspace(0, 0.3, t), np.full(t, 0.95)], -1)
    betas = np.zeros(10)
    betas[:2] = rng.normal(0, 1.0, 2)
    with torch.no_grad():
        out = body(
            betas=betas[None], global_orient=orient.as_rotvec(), body_pose=pose.reshape(t, 69), transl=transl
        )
    return out.joints.double().numpy(), out.keypoints.double().numpy(), betas


def test_fit_recovers_known_proxy_motion(body):
    joints, keypoints, _ = _motion(body)
    fit = fit_smpl(keypoints, body, fps=30.0)
    assert fit.final_error < 0.01
    err = mpjpe(fit.joints, joints, root="smpl24")
    assert err < 0.010, f"MPJPE {err * 1000:.1f} mm"
    assert np.linalg.norm(fit.joints - joints, axis=-1).mean() < 0.015  # world positions too


def test_fit_runs_on_one_thread_whatever_the_setting(body, monkeypatch):
    """Sums in one order: the fit cannot depend on the machine's thread count (issue 15)."""
    from anylift.fitting import smpl_fit

    seen = []
    inner = smpl_fit._fit_clip
    monkeypatch.setattr(smpl_fit, "_fit_clip", lambda *a: seen.append(torch.get_num_threads()) or inner(*a))
    _, keypoints, _ = _motion(body, t=12, seed=3)
    torch.set_num_threads(2)
    try:
        fit_smpl(keypoints, body, fps=30.0)
        assert seen == [1] and torch.get_num_threads() == 2  # pinned inside, restored after
    finally:
        torch.set_num_threads(1)


def test_long_clips_are_fitted_in_chunks_that_join_smoothly(body, monkeypatch):
    from anylift.fitting import smpl_fit

    joints, keypoints, _ = _motion(body, t=90, seed=1)
    monkeypatch.setattr(smpl_fit, "FIT_CHUNK", 40)
    monkeypatch.setattr(smpl_fit, "FIT_OVERLAP", 10)
    fit = fit_smpl(keypoints, body, fps=30.0)  # chunks 0-40, 30-70, 60-90
    assert fit.joints.shape == joints.shape and fit.body_pose.shape == (90, 69)
    assert mpjpe(fit.joints, joints, root="smpl24") < 0.012
    # No jump at the seams (frames 35 and 65): steps there are like steps elsewhere.
    step = np.linalg.norm(np.diff(fit.joints, axis=0), axis=-1).max(-1)
    true_step = np.linalg.norm(np.diff(joints, axis=0), axis=-1).max(-1)
    assert np.all(step < true_step + 0.01)


def _ray_distance(points, origins, directions):
    v = points - origins[:, None]
    return np.linalg.norm(v - (v * directions).sum(-1, keepdims=True) * directions, axis=-1)


def test_rays_keep_the_body_on_what_the_camera_saw_and_shrug_off_gross_errors(body):
    """3D targets off sideways (a lift unsure of its pose) and the camera's rays through the true
    keypoints: with the rays the fit lands on them; a ray 1 m off (a detector's gross error) does
    not drag its keypoint along (Geman-McClure)."""
    from anylift.geometry.camera import pixel_rays, project
    from anylift.geometry.transforms import intrinsics

    _, keypoints, _ = _motion(body, seed=5)
    t = len(keypoints)
    rng = np.random.default_rng(0)
    w2c = np.tile(np.eye(4), (t, 1, 1))
    w2c[:, :3, :3] = Rotation.from_euler("x", -90, degrees=True).as_matrix()  # looking along +y
    w2c[:, :3, 3] = -w2c[:, :3, :3] @ np.array([0.6, -4.0, 1.0])
    K = intrinsics((640, 480), 600.0)
    uv = project(keypoints, K, w2c)
    origins, directions = pixel_rays(uv, K, w2c)
    ray_w = np.ones((t, 17))
    targets = keypoints + rng.normal(0.0, 0.04, keypoints.shape)
    weights = np.full((t, 17), 0.3)
    plain = fit_smpl(targets, body, weights=weights, fps=30.0)
    with_rays = fit_smpl(targets, body, weights=weights, rays=(origins, directions, ray_w), fps=30.0)
    off_plain = _ray_distance(plain.keypoints3d, origins, directions).mean()
    off_rays = _ray_distance(with_rays.keypoints3d, origins, directions).mean()
    assert off_rays < 0.6 * off_plain, (off_rays, off_plain)
    err = lambda fit: np.linalg.norm(fit.keypoints3d - keypoints, axis=-1).mean()  # noqa: E731
    assert err(with_rays) < err(plain)
    # A gross error: the left wrist's ray 1 m off in every other frame.
    bad = uv.copy()
    bad[::2, 9] += np.array([0.0, 600.0 * 1.0 / 4.0])  # ~1 m at 4 m
    o_bad, d_bad = pixel_rays(bad, K, w2c)
    gross = fit_smpl(targets, body, weights=weights, rays=(o_bad, d_bad, ray_w), fps=30.0)
    assert np.linalg.norm(gross.keypoints3d[::2, 9] - keypoints[::2, 9], axis=-1).mean() < 0.15
    with pytest.raises(Exception, match="rays"):
        fit_smpl(targets, body, rays=(origins[:-1], directions, ray_w))
