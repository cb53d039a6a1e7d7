"""Fixtures for the HOI lifting tests: a private body cache, one torch thread, an oracle denoiser
that also knows the object, and a synthetic HOI clip from a training clip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from anylift import representation as rep
from anylift.geometry.camera import to_camera


@pytest.fixture(autouse=True)
def _env(isolated_engine):
    """Every test here: private cache, proxy body, one torch thread (tests/conftest.py)."""


class HoiOracle:
    """A denoiser that returns the exact projection of the true (T, 17 + M, 3) points in every view.

    Args:
        points: (T, 17 + M, 3) body joints then object keypoints, in the camera file's world.
        num_object_keypoints: M it declares (0: it behaves as a body-only model and gets 17 points).
        object_category: the category it declares.
    """

    def __init__(self, points, num_object_keypoints: int, object_category: str | None = "box",
                 window: int = 16, num_views: int = 3) -> None:  # fmt: skip
        self.points = np.asarray(points, dtype=np.float64)[:, : 17 + num_object_keypoints]
        self.num_object_keypoints = num_object_keypoints
        self.object_category = object_category
        self.window = window
        self.num_views = num_views
        self.shapes = []

    def __call__(self, x_n, n, cond):
        self.shapes.append(tuple(x_n.shape))
        lift = cond.lift_from_file
        pts = self.points @ lift[:3, :3].T + lift[:3, 3]
        frames = cond.frames.cpu().numpy()
        cam = to_camera(pts[frames][:, None], cond.world_to_camera.cpu().numpy())
        k = cond.model_K.cpu().numpy()[:, :, None, None, 0, 0]
        model = cam[..., :2] / cam[..., 2:3] * k[..., None]
        return torch.as_tensor(rep.to_root_local(model), dtype=x_n.dtype)


@pytest.fixture(scope="session")
def hoi_walk():
    """A box carried or dragged through the 'walk' training clip (39 frames), moving camera."""
    from anylift.data.hoi import make_hoi_sequence

    return make_hoi_sequence("walk", seed=4, category="box", scenario="carry")
