"""Shared camera rigs for the geometry tests (synthetic, seeded)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

# The test machine is shared; keep torch from spreading over every core.
torch.set_num_threads(1)

K_DEFAULT = np.array([[1000.0, 0.0, 960.0], [0.0, 1000.0, 540.0], [0.0, 0.0, 1.0]])


def look_at(centre, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """world_to_camera (4, 4), OpenCV axes, camera at `centre` looking at `target`, Z-up world."""
    centre = np.asarray(centre, float)
    z = np.asarray(target, float) - centre
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    r = np.stack([x, y, z])
    m = np.eye(4)
    m[:3, :3] = r
    m[:3, 3] = -r @ centre
    return m


def ring_cameras(num_views: int, radius: float = 4.0, height: float = 1.2, phase: float = 0.3) -> np.ndarray:
    """(V, 4, 4) cameras evenly spaced on a ring around the origin, looking at (0, 0, 1)."""
    angles = phase + np.linspace(0.0, 2 * np.pi, num_views, endpoint=False)
    return np.stack(
        [look_at([radius * np.cos(a), radius * np.sin(a), height], [0.0, 0.0, 1.0]) for a in angles]
    )


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def rig():
    """The camera helpers above, for tests (conftest modules cannot be imported by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(K=K_DEFAULT.copy(), look_at=look_at, ring_cameras=ring_cameras)
