"""Synthetic scenes for the SMPLify baseline: the proxy body with known parameters, walking
along a curve and turning, filmed by a known moving camera (anylift.data.trajectories)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from anylift.body import load_body_model
from anylift.body.model import BodyModel
from anylift.data.trajectories import predefined_trajectory, real_like_trajectory
from anylift.geometry.camera import project
from anylift.io.cameras import Camera
from anylift.io.keypoints import Keypoints2D

FPS = 30.0


@dataclass
class Scene:
    """2D input, camera, and the true 3D (world, metres) of one synthetic clip."""

    keypoints: Keypoints2D
    camera: Camera
    joints: np.ndarray  # (T, 24, 3)
    keypoints3d: np.ndarray  # (T, 17, 3)
    betas: np.ndarray  # (10,)
    clean2d: np.ndarray  # (T, 17, 2) noiseless projections, pixels
    global_orient: np.ndarray  # (T, 3) axis-angle, world
    body_pose: np.ndarray  # (T, 69)


def _pose(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(T, 69) a walk-like body pose: swinging hips and shoulders, bending knees and elbows."""
    phase = 2 * np.pi * 1.0 * t + rng.uniform(0, 2 * np.pi)
    bp = np.zeros((len(t), 23, 3))
    bp[:, 0, 0] = -0.45 * np.sin(phase)  # left hip flexion (negative x swings forward)
    bp[:, 1, 0] = 0.45 * np.sin(phase)
    bp[:, 3, 0] = 0.6 * np.clip(np.sin(phase + 1.2), 0, None) + 0.1  # knees bend backwards (+x)
    bp[:, 4, 0] = 0.6 * np.clip(-np.sin(phase + 1.2), 0, None) + 0.1
    bp[:, 15, 2] = -1.2 + 0.05 * np.sin(phase)  # arms lowered from the T-pose
    bp[:, 16, 2] = 1.2 + 0.05 * np.sin(phase)
    bp[:, 15, 1] = 0.35 * np.sin(phase)  # arm swing, opposite to the legs
    bp[:, 16, 1] = 0.35 * np.sin(phase)
    bp[:, 17, 1] = -0.5 - 0.2 * np.sin(phase)  # elbows (left bends to negative y)
    bp[:, 18, 1] = 0.5 - 0.2 * np.sin(phase)
    bp[:, 2, 0] = 0.05 * np.sin(2 * phase)  # a little spine motion
    return bp.reshape(len(t), 69)


def make_scene(
    body: BodyModel,
    num_frames: int = 90,
    seed: int = 0,
    noise_px: float = 0.0,
    camera_kind: str = "move_left",
) -> Scene:
    """A seeded synthetic clip: walking on a curve, turning by about 90 degrees."""
    rng = np.random.default_rng(seed)
    t = np.arange(num_frames) / FPS
    betas = rng.normal(0, 0.5, 10)
    heading = rng.uniform(-np.pi, np.pi) + np.linspace(0, np.pi / 2, num_frames)
    speed = 1.0
    step = speed / FPS * np.stack([-np.sin(heading), np.cos(heading)], -1)  # facing -y at yaw 0
    xy = np.cumsum(-step, 0) + rng.uniform(-2, 2, 2)
    orient = (
        Rotation.from_euler("z", heading[:, None]) * Rotation.from_rotvec([np.pi / 2, 0, 0])
    ).as_rotvec()
    bp = _pose(t, rng)
    with torch.no_grad():
        rest = body.forward(
            torch.tensor(betas[None], dtype=torch.float32),
            torch.tensor(orient[:1], dtype=torch.float32),
            torch.zeros(1, 69),
            torch.zeros(1, 3),
        )
    lift = -float(rest.joints[0, :, 2].min()) + 0.03
    transl = (
        np.concatenate([xy, np.full((num_frames, 1), lift)], 1)
        + [0, 0, 0.02] * np.sin(4 * np.pi * t)[:, None]
    )
    with torch.no_grad():
        out = body.forward(
            torch.tensor(betas[None], dtype=torch.float32),
            torch.tensor(orient, dtype=torch.float32),
            torch.tensor(bp, dtype=torch.float32),
            torch.tensor(transl, dtype=torch.float32),
        )
    joints = out.joints.double().numpy()
    kp3d = out.keypoints.double().numpy()
    pelvis = joints[:, 0]
    if camera_kind == "real_like":
        camera = real_like_trajectory(seed, num_frames, pelvis, split="test", fps=FPS)
    else:
        camera = predefined_trajectory(camera_kind, num_frames, pelvis, seed=seed, split="test", fps=FPS)
    clean = project(kp3d, camera.K, camera.world_to_camera)
    noisy = clean + rng.normal(0, noise_px, clean.shape) if noise_px > 0 else clean.copy()
    kp2d = np.concatenate([noisy, np.ones((num_frames, 17, 1))], -1)
    keypoints = Keypoints2D(keypoints=kp2d, fps=FPS, image_size=camera.image_size)
    return Scene(keypoints, camera, joints, kp3d, betas, clean, orient, bp)


@pytest.fixture(scope="session")
def body():
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ANYLIFT_SMPL_MODEL", raising=False)
        return load_body_model()


@pytest.fixture(autouse=True)
def _one_thread():
    # The machine is shared: keep torch on one intra-op thread.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def scene(body):
    """``scene(num_frames, seed=..., noise_px=..., camera_kind=...)`` -> :class:`Scene`."""
    return lambda *args, **kwargs: make_scene(body, *args, **kwargs)
