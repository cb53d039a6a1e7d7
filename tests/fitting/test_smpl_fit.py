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
