"""Fixtures for the lifting tests: a private body cache, one torch thread, an oracle denoiser and
synthetic clips seen through moving cameras."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from anylift import representation as rep
from anylift.geometry.camera import project, to_camera
from anylift.io.cameras import Camera
from anylift.io.keypoints import Keypoints2D


@pytest.fixture(autouse=True)
def _env(isolated_engine):
    """Every test here: private cache, proxy body, one torch thread (tests/conftest.py)."""


class Oracle:
    """A denoiser that knows the true 3D keypoints: it returns their exact projection in every view.

    Args:
        points: (T, 17, 3) the truth in the camera file's world (its units).
        window, num_views: the plan the pipeline should use.
    """

    def __init__(self, points: np.ndarray, window: int = 16, num_views: int = 3) -> None:
        self.points = np.asarray(points, dtype=np.float64)
        self.window = window
        self.num_views = num_views
        self.calls = 0

    def __call__(self, x_n, n, cond):
        self.calls += 1
        lift = cond.lift_from_file
        pts = self.points @ lift[:3, :3].T + lift[:3, 3]
        frames = cond.frames.cpu().numpy()
        cam = to_camera(pts[frames][:, None], cond.world_to_camera.cpu().numpy())  # (B, V, W, 17, 3)
        k = cond.model_K.cpu().numpy()[:, :, None, None, 0, 0]
        model = cam[..., :2] / cam[..., 2:3] * k[..., None]
        return torch.as_tensor(rep.to_root_local(model), dtype=x_n.dtype)


@dataclass
class Scene:
    truth: np.ndarray  # (T, 17, 3) world metres
    camera: Camera
    keypoints: Keypoints2D


def make_scene(points: np.ndarray, camera: Camera, fps: float = 30.0) -> Scene:
    uv = project(points, camera.K, camera.world_to_camera)
    kp = np.concatenate([uv, np.ones_like(uv[..., :1])], -1)
    return Scene(points, camera, Keypoints2D(kp, fps=fps, image_size=camera.image_size))


@pytest.fixture(scope="session")
def walk_scene():
    """The 'walk' clip (39 frames, train split) under a moving real-like camera (metric)."""
    from anylift.data.mocap import load_clip
    from anylift.data.trajectories import sample_trajectory

    clip = load_clip("walk")
    pts = clip.keypoints3d
    pelvis = pts[:, [11, 12]].mean(1)
    cam = sample_trajectory(np.random.default_rng(3), len(pts), pelvis, split="train", mode_prob=0.0)
    return make_scene(pts, cam)


@pytest.fixture(scope="session")
def body():
    from anylift.body import load_body_model

    return load_body_model()
