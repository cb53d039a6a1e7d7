"""Pure, batched geometry: rotations, pinhole cameras, epipolar geometry, triangulation.

Each function takes numpy arrays (returns numpy) or torch tensors (returns torch,
differentiable); shapes and units are in each docstring.
"""

from anylift.geometry.camera import (
    invert_rigid,
    pixel_rays,
    project,
    relative_to_first,
    rotate_world,
    rotation_between,
    to_camera,
    up_vector,
    world_zup_from_camera,
)
from anylift.geometry.epipolar import (
    epipolar_lines,
    epipole,
    epipole_from_cameras,
    fundamental_from_cameras,
    line_through_points,
    normalize_lines,
    point_line_distance,
)
from anylift.geometry.rotations import (
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    matrix_to_axis_angle,
    matrix_to_quaternion,
    matrix_to_rot6d,
    quaternion_to_axis_angle,
    quaternion_to_matrix,
    rot6d_to_matrix,
)
from anylift.geometry.triangulation import (
    projection_matrices,
    reprojection_error,
    triangulate,
    triangulate_robust,
)

__all__ = [
    "axis_angle_to_matrix",
    "axis_angle_to_quaternion",
    "epipolar_lines",
    "epipole",
    "epipole_from_cameras",
    "fundamental_from_cameras",
    "invert_rigid",
    "line_through_points",
    "matrix_to_axis_angle",
    "matrix_to_quaternion",
    "matrix_to_rot6d",
    "normalize_lines",
    "pixel_rays",
    "point_line_distance",
    "project",
    "projection_matrices",
    "quaternion_to_axis_angle",
    "quaternion_to_matrix",
    "relative_to_first",
    "reprojection_error",
    "rot6d_to_matrix",
    "rotate_world",
    "rotation_between",
    "to_camera",
    "triangulate",
    "triangulate_robust",
    "up_vector",
    "world_zup_from_camera",
]
