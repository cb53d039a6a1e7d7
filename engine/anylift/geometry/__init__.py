"""Pure, batched geometry: rotations, pinhole cameras, epipolar geometry, triangulation.

Each function takes numpy arrays (returns numpy) or torch tensors (returns torch,
differentiable); shapes and units are in each docstring. :mod:`anylift.geometry.transforms` is
the numpy-only core (alignment, rotation conversions, look-at, intrinsics) that the Blender
add-on imports too; the other modules need torch.

The names below load their module on first use, so importing this package (and with it
``anylift.geometry.transforms`` inside Blender) loads no torch.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "axis_angle_to_matrix": "rotations",
    "axis_angle_to_quaternion": "rotations",
    "epipolar_lines": "epipolar",
    "epipole": "epipolar",
    "epipole_from_cameras": "epipolar",
    "fundamental_from_cameras": "epipolar",
    "invert_rigid": "camera",
    "line_through_points": "epipolar",
    "matrix_to_axis_angle": "rotations",
    "matrix_to_quaternion": "rotations",
    "matrix_to_rot6d": "rotations",
    "normalize_lines": "epipolar",
    "pixel_rays": "camera",
    "point_line_distance": "epipolar",
    "project": "camera",
    "projection_matrices": "triangulation",
    "quaternion_to_axis_angle": "rotations",
    "quaternion_to_matrix": "rotations",
    "relative_to_first": "camera",
    "reprojection_error": "triangulation",
    "rot6d_to_matrix": "rotations",
    "rotate_world": "camera",
    "rotation_between": "camera",
    "to_camera": "camera",
    "triangulate": "triangulation",
    "triangulate_robust": "triangulation",
    "up_vector": "camera",
    "world_zup_from_camera": "camera",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(f"anylift.geometry.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'anylift.geometry' has no attribute {name!r}")
