"""2D keypoints drawn over the footage: a Grease Pencil object parented to the camera.

Each frame gets one drawing with a two-point stroke per skeleton bone whose ends were detected,
placed on a plane ``depth`` metres in front of the camera so that, seen through the camera, each
point lands on its pixel: camera-local ``((u - cx) / fx * d, -(v - cy) / fy * d, -d)`` (Blender
cameras look down -z with y up). Grease Pencil shows in the viewport's camera view and in renders.

Blender 4.3+ has Grease Pencil v3 (drawings with stroke attributes, written in bulk); 4.2 has the
legacy Grease Pencil (frames -> strokes -> points, one stroke at a time); 4.3-4.5 keep v3 in
``bpy.data.grease_pencils_v3`` (:func:`grease_pencil_data`). :func:`frame_strokes` reads either back.
"""

from __future__ import annotations

import bpy
import numpy as np

OVERLAY_NAME = "AnyLift Keypoints"
STROKE_RADIUS = 0.002  # metres at depth 1: a few pixels on HD footage
LEGACY_LINE_WIDTH = 4  # pixels: legacy Grease Pencil strokes have a screen-space width

#: True when this Blender has Grease Pencil v3 (4.3+).
GREASE_PENCIL_V3 = hasattr(bpy.types, "GreasePencilDrawing")


def grease_pencil_data():
    """The ``bpy.data`` collection of the Grease Pencils drawn here: ``grease_pencils_v3`` on 4.3-4.5
    (where ``grease_pencils`` holds annotations), else ``grease_pencils`` (legacy on 4.2, v3 on 5.0)."""
    return bpy.data.grease_pencils_v3 if hasattr(bpy.data, "grease_pencils_v3") else bpy.data.grease_pencils


def image_plane_points(keypoints: np.ndarray, K: np.ndarray, depth: float) -> np.ndarray:
    """(T, J, 2+) pixel keypoints -> (T, J, 3) camera-local Blender positions on the plane at ``depth``."""
    u, v = keypoints[..., 0], keypoints[..., 1]
    x = (u - K[0, 2]) / K[0, 0] * depth
    y = -(v - K[1, 2]) / K[1, 1] * depth
    return np.stack([x, y, np.full_like(x, -depth)], axis=-1)


def build_overlay(
    collection: bpy.types.Collection,
    camera: bpy.types.Object,
    K: np.ndarray,
    keypoints: np.ndarray,
    bones: tuple[tuple[int, int], ...],
    first_frame: int = 1,
    depth: float = 1.0,
    name: str = OVERLAY_NAME,
    color: tuple[float, float, float, float] = (1.0, 0.35, 0.0, 1.0),
) -> bpy.types.Object:
    """Create the overlay object for ``keypoints`` (T, J, 3: x px, y px, score; NaN/0 = missing).

    ``K`` (3, 3) must be the camera's intrinsics as rendered (see ``camera.intrinsics_from_blender``);
    ``bones`` are joint index pairs. Frame ``first_frame + t`` shows row t.
    """
    gp = grease_pencil_data().new(name)
    material = bpy.data.materials.new(name)
    bpy.data.materials.create_gpencil_data(material)
    material.grease_pencil.color = color
    gp.materials.append(material)
    layer = gp.layers.new("keypoints")
    points = image_plane_points(keypoints, K, depth).astype(np.float32)
    valid = np.isfinite(keypoints[..., :2]).all(-1) & (keypoints[..., 2] > 0)
    bone_array = np.asarray(bones, dtype=np.int64).reshape(-1, 2)
    for t in range(len(keypoints)):
        frame = layer.frames.new(first_frame + t)
        shown = bone_array[valid[t, bone_array[:, 0]] & valid[t, bone_array[:, 1]]]
        if len(shown) == 0:
            continue
        if not GREASE_PENCIL_V3:
            for a, b in shown:
                stroke = frame.strokes.new()
                stroke.display_mode = "3DSPACE"
                stroke.line_width = LEGACY_LINE_WIDTH
                stroke.points.add(2)
                stroke.points.foreach_set("co", points[t, [a, b]].ravel())
            continue
        drawing = frame.drawing
        drawing.add_strokes([2] * len(shown))
        drawing.attributes["position"].data.foreach_set("vector", points[t, shown.ravel()].ravel())
        radius = drawing.attributes.get("radius") or drawing.attributes.new("radius", "FLOAT", "POINT")
        radius.data.foreach_set("value", np.full(shown.size, STROKE_RADIUS * depth, dtype=np.float32))
    obj = bpy.data.objects.new(name, gp)
    collection.objects.link(obj)
    obj.parent = camera
    obj.matrix_parent_inverse.identity()
    obj["anylift_role"] = "keypoints"
    return obj


def frame_strokes(obj: bpy.types.Object, index: int) -> list[np.ndarray]:
    """The strokes of the overlay's ``index``-th frame: one (P, 3) array of local positions each."""
    frame = obj.data.layers[0].frames[index]
    if GREASE_PENCIL_V3:
        return [np.array([tuple(p.position) for p in s.points]) for s in frame.drawing.strokes]
    return [np.array([tuple(p.co) for p in s.points]) for s in frame.strokes]
