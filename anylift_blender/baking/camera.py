"""Cameras: OpenCV world_to_camera + intrinsics <-> animated Blender cameras.

OpenCV cameras look down +z with y down; Blender cameras look down -z with y up, so a Blender
camera's ``matrix_world`` is ``inv(world_to_camera) @ diag(1, -1, -1, 1)``.

Intrinsics map to a horizontally fitted sensor: ``lens = fx * sensor_width / W``, the principal
point to ``shift_x = (W/2 - cx) / W`` and ``shift_y = (cy - H/2) / W * fx / fy`` (Blender shifts are in units
of the fitted dimension; y flips because image rows grow downwards), and ``fy != fx`` to the
render's pixel aspect.
"""

from __future__ import annotations

import bpy
import numpy as np

from anylift.geometry import transforms

from . import keys

CAMERA_NAME = "AnyLift Camera"
SENSOR_WIDTH = 36.0  # mm, Blender's default full-frame sensor
_FLIP = np.diag([1.0, -1.0, -1.0, 1.0])


def blender_camera_matrices(world_to_camera: np.ndarray) -> np.ndarray:
    """(T, 4, 4) OpenCV world_to_camera -> (T, 4, 4) Blender camera matrix_world."""
    return np.linalg.inv(np.asarray(world_to_camera, dtype=np.float64)) @ _FLIP


def world_to_camera_from_blender(matrix_world: np.ndarray) -> np.ndarray:
    """(T, 4, 4) Blender camera matrix_world -> (T, 4, 4) OpenCV world_to_camera."""
    return np.linalg.inv(np.asarray(matrix_world, dtype=np.float64) @ _FLIP)


def location_quaternion(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 4, 4) rigid matrices -> locations (T, 3) and continuous quaternions (T, 4) w, x, y, z."""
    return matrices[:, :3, 3].copy(), transforms.matrix_to_continuous_quaternions(matrices[:, :3, :3])


def image_size_from_intrinsics(K: np.ndarray) -> tuple[int, int]:
    """The image size a principal point at the centre implies: (round(2 cx), round(2 cy))."""
    return round(2 * float(K[0, 2])), round(2 * float(K[1, 2]))


def _hard_range(struct: type, prop: str) -> tuple[float, float]:
    p = struct.bl_rna.properties[prop]
    return float(p.hard_min), float(p.hard_max)


def intrinsics_problem(K: np.ndarray, image_size) -> str | None:
    """Why Blender cannot hold ``K`` (3, 3) at ``image_size`` (W, H) exactly, or None.

    Blender clamps the lens (>= 1 mm on the 36 mm sensor), the resolution (4..65536 pixels) and
    the pixel aspect (1..200) silently; the bake refuses instead of showing another camera.
    """
    width, height = (float(v) for v in image_size)
    fx, fy = float(K[0, 0]), float(K[1, 1])
    lo, hi = _hard_range(bpy.types.RenderSettings, "resolution_x")
    if not (lo <= width <= hi and lo <= height <= hi):
        return (
            f"the image is {width:g} x {height:g} pixels; Blender's resolution is limited to {lo:g}..{hi:g}"
        )
    lens = fx * SENSOR_WIDTH / width
    lo_lens = _hard_range(bpy.types.Camera, "lens")[0]
    if not lens >= lo_lens:
        return (
            f"fx = {fx:.4g} px on a {width:g}-pixel-wide image is a {lens:.3g} mm lens on a "
            f"{SENSOR_WIDTH:g} mm sensor; Blender's shortest lens is {lo_lens:g} mm"
        )
    aspect_hi = _hard_range(bpy.types.RenderSettings, "pixel_aspect_x")[1]
    if not max(fx / fy, fy / fx) <= aspect_hi:
        return f"fx / fy = {fx / fy:.4g}; Blender's pixel aspect is limited to 1/{aspect_hi:g}..{aspect_hi:g}"
    return None


def set_intrinsics(cam_obj: bpy.types.Object, scene: bpy.types.Scene, K: np.ndarray, image_size) -> None:
    """Set lens, sensor, shift, resolution and pixel aspect so Blender projects like ``K`` (3, 3)."""
    width, height = (int(v) for v in image_size)
    fx, fy, cx, cy = float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2])
    data = cam_obj.data
    data.type = "PERSP"
    data.sensor_fit = "HORIZONTAL"
    data.sensor_width = SENSOR_WIDTH
    data.sensor_height = SENSOR_WIDTH * height / width
    data.lens = fx * SENSOR_WIDTH / width
    data.shift_x = (width / 2 - cx) / width
    # With non-square pixels a unit of vertical shift spans fy/fx times as many pixels.
    data.shift_y = (cy - height / 2) / width * (fx / fy)
    render = scene.render
    render.resolution_x = width
    render.resolution_y = height
    render.resolution_percentage = 100
    # A pixel fx/fy times as tall as wide makes vertical focal length in pixels fy.
    render.pixel_aspect_x = 1.0
    render.pixel_aspect_y = 1.0
    if abs(fx - fy) > 1e-6 * fx:
        if fy < fx:
            render.pixel_aspect_y = fx / fy
        else:
            render.pixel_aspect_x = fy / fx


def intrinsics_from_blender(cam_obj: bpy.types.Object, scene: bpy.types.Scene) -> tuple[np.ndarray, tuple]:
    """K (3, 3) and (W, H) of a Blender camera as rendered by ``scene`` (any sensor fit or shift).

    Read from ``Camera.view_frame`` (the frame corners Blender itself projects with), so every
    sensor-fit mode, shift and pixel aspect is covered without re-deriving Blender's rules.
    """
    render = scene.render
    width = round(render.resolution_x * render.resolution_percentage / 100)
    height = round(render.resolution_y * render.resolution_percentage / 100)
    if cam_obj.data.type != "PERSP":
        raise ValueError(f"camera '{cam_obj.name}' is not a perspective camera")
    corners = np.array([tuple(v) for v in cam_obj.data.view_frame(scene=scene)])
    depth = -corners[0, 2]
    left, right = corners[:, 0].min(), corners[:, 0].max()
    bottom, top = corners[:, 1].min(), corners[:, 1].max()
    fx = width * depth / (right - left)
    fy = height * depth / (top - bottom)
    cx = width * (0.0 - left) / (right - left)
    cy = height * (top - 0.0) / (top - bottom)
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]]), (width, height)


def ensure_camera(scene: bpy.types.Scene, name: str = CAMERA_NAME) -> bpy.types.Object:
    """The camera object ``name`` (created and linked to the scene when missing); keeps its data.

    Reusing the object keeps what an artist or Import Video put on it (background footage).
    """
    obj = bpy.data.objects.get(name)
    if obj is None or obj.type != "CAMERA":
        obj = bpy.data.objects.new(name, bpy.data.cameras.new(name))
    if scene.collection.objects.get(obj.name) is None and obj.name not in scene.objects:
        scene.collection.objects.link(obj)
    return obj


def bake_camera(
    scene: bpy.types.Scene,
    K: np.ndarray,
    world_to_camera: np.ndarray,
    image_size,
    first_frame: int = 1,
    name: str = CAMERA_NAME,
) -> bpy.types.Object:
    """Animate camera ``name`` along ``world_to_camera`` (T, 4, 4) with intrinsics ``K`` (3, 3).

    One key per frame for location and quaternion rotation, frame ``first_frame + t`` for row t.
    The camera becomes the scene camera.
    """
    obj = ensure_camera(scene, name)
    set_intrinsics(obj, scene, K, image_size)
    matrices = blender_camera_matrices(world_to_camera)
    loc, quat = location_quaternion(matrices)
    obj.parent = None
    obj.rotation_mode = "QUATERNION"
    obj.scale = (1.0, 1.0, 1.0)
    frames = first_frame + np.arange(len(loc), dtype=np.float64)
    bag = keys.new_action(obj, f"{name}Action")
    keys.write_channels(bag, "location", frames, loc, group="Object Transforms")
    keys.write_channels(bag, "rotation_quaternion", frames, quat, group="Object Transforms")
    obj.location = loc[0]
    obj.rotation_quaternion = quat[0]
    scene.camera = obj
    return obj


def sample_camera(
    scene: bpy.types.Scene, cam_obj: bpy.types.Object, frame_start: int, frame_end: int
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Sample a (possibly animated, e.g. tracked) camera over scene frames [start, end].

    Returns K (3, 3), world_to_camera (T, 4, 4) OpenCV, image size (W, H). Restores the current frame.
    """
    current = scene.frame_current, scene.frame_subframe
    mats = []
    try:
        for frame in range(frame_start, frame_end + 1):
            scene.frame_set(frame)
            mats.append(np.array(cam_obj.matrix_world, dtype=np.float64))
    finally:
        scene.frame_set(current[0], subframe=current[1])
    K, size = intrinsics_from_blender(cam_obj, scene)
    mats = np.stack(mats)
    # A scaled camera still projects like an unscaled one; the camera file needs proper rotations.
    u, _, vt = np.linalg.svd(mats[:, :3, :3])
    mats[:, :3, :3] = u @ vt
    return K, world_to_camera_from_blender(mats), size
