"""Fixtures for the add-on's tests, which run inside real Blender (the ``bpy`` module).

- ``clean_scene``: Blender reset to factory settings with an empty scene; yields the scene.
- ``addon``: the add-on registered (after ``clean_scene``); unregistered after the test.

Every test in this folder is marked ``blender``; the folder is skipped when ``bpy`` is missing.

The ``bpy`` module of Blender 4.2 crashes (4.5: sometimes hangs) at interpreter exit once a panel
was registered; on those versions the run ends with ``os._exit`` and pytest's own exit status
after everything is reported (:func:`pytest_unconfigure`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

bpy = pytest.importorskip("bpy")

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# Keep torch (used by the body model when baking) from taking every core of the shared machine.
os.environ.setdefault("OMP_NUM_THREADS", "2")


_EXIT_STATUS: dict[str, int] = {}


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS["status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if bpy.app.version < (5, 0, 0) and "status" in _EXIT_STATUS:
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS["status"])


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.blender)


@pytest.fixture
def clean_scene():
    """Factory settings, no objects; yields ``bpy.context.scene``."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield bpy.context.scene


@pytest.fixture
def addon(clean_scene):
    """The add-on registered for the test; yields the ``anylift_blender`` module."""
    import anylift_blender

    anylift_blender.register()
    try:
        yield anylift_blender
    finally:
        anylift_blender.unregister()


def build_motion(num_frames: int = 24, seed: int = 0, objects: bool = True, fps: float = 30.0):
    """A real, valid result: seeded SMPL parameters through the engine's body model (proxy).

    The body walks along +x in the Z-up world with moderate random joint rotations; a camera
    orbits it with an off-centre principal point; one object ("box") spins and drifts.
    Returns :class:`anylift.io.motion.Motion`.
    """
    import numpy as np
    import torch
    from scipy.spatial.transform import Rotation

    from anylift.body.model import YUP_TO_ZUP, load_body_model
    from anylift.body.proxy import proxy_model_path
    from anylift.io.motion import Motion

    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    t = np.arange(num_frames)
    model = load_body_model(proxy_model_path())
    betas = rng.normal(0.0, 0.8, size=10)
    yaw = 0.3 + 0.05 * t  # turning slowly, about the world's up
    world_rot = Rotation.from_rotvec(np.stack([np.zeros_like(yaw), np.zeros_like(yaw), yaw], -1))
    global_orient = (world_rot * Rotation.from_matrix(YUP_TO_ZUP)).as_rotvec()
    phase = rng.uniform(0, 2 * np.pi, size=69)
    body_pose = 0.35 * np.sin(0.3 * t[:, None] + phase) * rng.uniform(0.3, 1.0, size=69)
    transl = np.stack([0.04 * t, 0.01 * t, np.full(num_frames, 0.2)], -1)
    with torch.no_grad():
        out = model.forward(
            torch.tensor(betas[None], dtype=torch.float32),
            torch.tensor(global_orient, dtype=torch.float32),
            torch.tensor(body_pose, dtype=torch.float32),
            torch.tensor(transl, dtype=torch.float32),
        )
    joints = out.joints.numpy().astype(np.float64)
    keypoints3d = out.keypoints.numpy().astype(np.float64)
    # An orbiting camera 4 m away, looking at the body's pelvis height, OpenCV axes.
    angle = -np.pi / 2 + 0.02 * t
    centre = np.stack([np.cos(angle) * 4.0 + 0.5, np.sin(angle) * 4.0, np.full(num_frames, 1.2)], -1)
    target = np.array([0.5, 0.0, 0.2])
    world_to_camera = np.tile(np.eye(4), (num_frames, 1, 1))
    for i in range(num_frames):
        z = target - centre[i]
        z /= np.linalg.norm(z)
        x = np.cross(z, [0.0, 0.0, 1.0])
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        R = np.stack([x, y, z])  # rows: camera axes in world
        world_to_camera[i, :3, :3] = R
        world_to_camera[i, :3, 3] = -R @ centre[i]
    intrinsics = np.array([[1100.0, 0.0, 980.0], [0.0, 1100.0, 520.0], [0.0, 0.0, 1.0]])
    kw = {}
    if objects:
        rot = Rotation.from_rotvec(np.stack([0.1 * t, 0.05 * t, 0.2 * t], -1)).as_matrix()
        kw = {
            "object_names": ["box"],
            "object_rotation": rot[None],
            "object_translation": np.stack([0.3 + 0.02 * t, -0.4 + 0 * t, 0.8 + 0.01 * t], -1)[None],
            "object_scale": np.array([1.5]),
        }
    return Motion(
        fps=fps,
        joints=joints,
        keypoints3d=keypoints3d,
        global_orient=global_orient,
        body_pose=body_pose,
        transl=transl,
        betas=betas,
        body_model="smpl-proxy",
        world_to_camera=world_to_camera,
        intrinsics=intrinsics,
        **kw,
    )


@pytest.fixture(scope="session")
def result_npz(tmp_path_factory):
    """(path, Motion): a valid ``anylift.motion/1`` result written to disk (see :func:`build_motion`)."""
    from anylift.io.motion import write_motion

    motion = build_motion()
    path = tmp_path_factory.mktemp("result") / "result.npz"
    write_motion(path, motion)
    return path, motion
