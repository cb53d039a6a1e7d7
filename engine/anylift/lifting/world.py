"""The world frame of a result (formats.md), shared by every lifting method.

With a camera file the result lives in **the camera file's world**, turned Z-up by the smallest
rotation taking the file's up direction to +Z (:func:`anylift.geometry.camera.world_zup_from_camera`;
the identity when the file's world is already Z-up) and measured in metres: a point ``X_file``
of the file's world is ``X = R_up X_file / scale`` in the result, where ``scale`` is the file's
units per metre (1 for metric cameras: anylift JSON, or any camera built in memory; estimated
for up-to-scale MegaSaM ``.npz`` / COLMAP, see :mod:`anylift.lifting.scale`). The result's
``world_to_camera`` is the input camera in that world, ``[R_t R_up^T | t_t / scale]``, so
projecting the result's 3D points with it and the input K reproduces the input pixels.

Without a camera file the camera is static (:func:`anylift.io.cameras.static_camera`) and the
world is the first frame's camera frame turned Z-up (x stays x, camera up -y becomes +Z).

Lifting itself works in the **lift frame**: the result-world camera's frame 0 (OpenCV axes,
metres), ``X_lift = world_to_camera[0] @ X`` (:attr:`ResultWorld.lift_from_world`).

``--ground`` (:func:`ground_offset`, :func:`translate_motion`) then translates the result along
Z only so that the floor (the feet's contact level) is z = 0.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from anylift.geometry.camera import invert_rigid, rotate_world, world_zup_from_camera
from anylift.io.cameras import Camera, static_camera

METRIC_SUFFIXES = (".json",)
"""Camera files whose translations are taken as metres (formats.md: anylift JSON)."""


def camera_is_metric(camera: Camera | None) -> bool:
    """Whether ``camera``'s translations are metres.

    True for no camera (static), anylift JSON files and cameras without a path (built in
    memory, e.g. by :mod:`anylift.data.trajectories`); False for MegaSaM ``.npz`` and COLMAP
    text, whose SLAM/SfM worlds are up to scale.
    """
    if camera is None or camera.path is None:
        return True
    return Path(camera.path).suffix.lower() in METRIC_SUFFIXES


@dataclass(frozen=True)
class ResultWorld:
    """How the input camera's world maps to the result's.

    Attributes:
        camera: the input camera in the result world (Z-up, metres): ``world_to_camera``
            (T, 4, 4) and ``K`` as the input's; ``up`` = +Z. This is what the SMPLify baseline
            and the Motion's ``world_to_camera`` / ``intrinsics`` use.
        rotation: (3, 3) ``R_up``, file world -> result world orientation.
        scale: file units per metre (> 0); 1 for metric cameras.
        metric: whether ``scale`` came from the file (True) or was estimated (False).
        from_file: True when the user gave a camera file, False for the static default.
    """

    camera: Camera
    rotation: np.ndarray
    scale: float
    metric: bool
    from_file: bool

    def world_from_file(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) points of the camera file's world (its units) -> result world (metres)."""
        return np.asarray(points, dtype=np.float64) @ self.rotation.T / self.scale

    @property
    def lift_from_world(self) -> np.ndarray:
        """(4, 4) result world (metres) -> lift frame (the input camera's frame 0, metres)."""
        return self.camera.world_to_camera[0].copy()

    @property
    def world_from_lift(self) -> np.ndarray:
        """(4, 4) lift frame -> result world."""
        return invert_rigid(self.camera.world_to_camera[0])

    @property
    def lift_from_file(self) -> np.ndarray:
        """(4, 4) similarity: camera file's world (its units) -> lift frame (metres)."""
        s = np.eye(4)
        s[:3, :3] = self.rotation / self.scale
        return self.lift_from_world @ s

    def rescaled(self, factor: float) -> ResultWorld:
        """The same world with every length multiplied by ``factor`` (scale becomes scale / factor)."""
        w2c = self.camera.world_to_camera.copy()
        w2c[:, :3, 3] *= factor
        return replace(
            self, camera=replace(self.camera, world_to_camera=w2c), scale=self.scale / float(factor)
        )


def result_world(
    camera: Camera | None,
    num_frames: int,
    image_size: tuple[int, int] | None,
    *,
    scale: float = 1.0,
    metric: bool | None = None,
) -> ResultWorld:
    """The result world of a clip (module doc).

    Args:
        camera: the input camera (its file's world), or None for the static default.
        num_frames: T, used for the static default.
        image_size: (W, H) pixels, used for the static default (and kept on the camera).
        scale: file units per metre (from :func:`anylift.lifting.scale.estimate_camera_scale`
            for up-to-scale cameras); ignored for metric cameras.
        metric: override :func:`camera_is_metric`.

    Returns:
        :class:`ResultWorld`; its ``camera`` has ``up`` = (0, 0, 1) and no ``path``.
    """
    from_file = camera is not None
    if camera is None:
        camera = static_camera(int(num_frames), image_size)
    is_metric = camera_is_metric(camera) if metric is None else bool(metric)
    s = 1.0 if is_metric else float(scale)
    if not np.isfinite(s) or s <= 0:
        raise ValueError(f"scale must be a positive number, got {scale}")
    rot = np.asarray(world_zup_from_camera(camera), dtype=np.float64)
    w2c = rotate_world(camera.world_to_camera, rot)
    w2c[:, :3, 3] /= s
    size = camera.image_size or image_size
    cam = Camera(K=camera.K.copy(), world_to_camera=w2c, up=np.array([0.0, 0.0, 1.0]), image_size=size)
    return ResultWorld(camera=cam, rotation=rot, scale=s, metric=is_metric, from_file=from_file)


def translate_cameras(world_to_camera: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """(T, 4, 4) cameras of a world whose points moved by ``offset`` (3,): projections unchanged."""
    w2c = np.array(world_to_camera, dtype=np.float64)
    w2c[:, :3, 3] -= np.einsum("tij,j->ti", w2c[:, :3, :3], np.asarray(offset, dtype=np.float64))
    return w2c


def ground_offset(vertex_heights: np.ndarray, percentile: float = 5.0) -> float:
    """The floor height (metres) of a body motion: a low percentile of each frame's lowest vertex.

    Args:
        vertex_heights: (T, N) z of the body's vertices (or any foot points) per frame, metres.
        percentile: frames in the air (jumps) lift the per-frame minimum; a low percentile over
            frames keeps the contact level and ignores a few outlier frames.
    """
    lowest = np.asarray(vertex_heights, dtype=np.float64).min(axis=1)
    return float(np.percentile(lowest, percentile))
