"""Result objects (HOI): one Blender object per result object, keyed location/rotation/scale.

A canonical keypoint ``c`` (object frame, metres) lands in the world at ``R @ (s * c) + t``, so the
object gets rotation ``R``, location ``t`` and uniform scale ``s``; its mesh should be modelled in
the canonical frame. Without a chosen mesh a 20 cm placeholder cube is used.

A mesh whose keypoints were defined with "Define Object Keypoints" (``mesh.anylift_keypoints``,
:mod:`..operators.object_keypoints`) carries ``mesh_to_canonical``, a similarity ``A`` from the mesh's
coordinates to the canonical frame (the identity unless aligned to a category template); the
object's keys are then the composition ``pose @ A`` (:func:`compose_alignment`), so the mesh's
keypoint vertices land where the result put the canonical keypoints.
"""

from __future__ import annotations

import bmesh
import bpy
import numpy as np

from anylift.geometry import transforms

from . import keys

PLACEHOLDER_NAME = "AnyLift Object Placeholder"


def placeholder_mesh() -> bpy.types.Mesh:
    """A 0.2 m cube mesh centred on the origin (created once per file)."""
    mesh = bpy.data.meshes.get(PLACEHOLDER_NAME)
    if mesh is None:
        mesh = bpy.data.meshes.new(PLACEHOLDER_NAME)
        bm = bmesh.new()
        bmesh.ops.create_cube(bm, size=0.2)
        bm.to_mesh(mesh)
        bm.free()
    return mesh


def mesh_to_canonical(mesh: bpy.types.Mesh | None) -> np.ndarray | None:
    """(4, 4) the mesh's ``anylift_keypoints.mesh_to_canonical``, or None (no keypoints defined)."""
    group = getattr(mesh, "anylift_keypoints", None) if mesh is not None else None
    if group is None or len(group.keypoints) == 0:
        return None
    return np.array(group.mesh_to_canonical, dtype=np.float64).reshape(4, 4)


def compose_alignment(
    rotation: np.ndarray, translation: np.ndarray, scale: float, alignment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Keys that place mesh coordinates ``x`` at ``s R (A x) + t``.

    Args:
        rotation: (T, 3, 3); translation: (T, 3) metres; scale: s; alignment: (4, 4) similarity A
            (``a Ra`` in its 3x3 block, ``ta`` in its last column).
    Returns: rotation ``R Ra`` (T, 3, 3), location ``s R ta + t`` (T, 3), scale ``s a``.
    """
    block = alignment[:3, :3]
    a = float(np.cbrt(np.linalg.det(block)))
    return rotation @ (block / a), translation + scale * rotation @ alignment[:3, 3], scale * a


def bake_objects(
    collection: bpy.types.Collection,
    names: list[str],
    rotation: np.ndarray,
    translation: np.ndarray,
    scale: np.ndarray,
    mesh: bpy.types.Mesh | None = None,
    first_frame: int = 1,
) -> list[bpy.types.Object]:
    """Create and key one object per name.

    Args:
        names: N object names. rotation: (N, T, 3, 3) object -> world. translation: (N, T, 3) m.
        scale: (N,) uniform scale. mesh: shared mesh data (None: the placeholder cube).
    Returns: the N new objects (tagged ``obj["anylift_object"] = name``).
    """
    alignment = mesh_to_canonical(mesh)
    mesh = mesh or placeholder_mesh()
    T = rotation.shape[1]
    frames = first_frame + np.arange(T, dtype=np.float64)
    created = []
    for i, name in enumerate(names):
        obj = bpy.data.objects.new(name, mesh)
        collection.objects.link(obj)
        obj["anylift_object"] = name
        obj.rotation_mode = "QUATERNION"
        rot, loc, s = rotation[i], translation[i], float(scale[i])
        if alignment is not None:
            rot, loc, s = compose_alignment(rot, loc, s, alignment)
        quat = transforms.matrix_to_continuous_quaternions(rot)
        bag = keys.new_action(obj, f"{name}Action")
        keys.write_channels(bag, "location", frames, loc, group="Object Transforms")
        keys.write_channels(bag, "rotation_quaternion", frames, quat, group="Object Transforms")
        keys.write_channels(bag, "scale", frames, np.full((T, 3), s), group="Object Transforms")
        obj.location = loc[0]
        obj.rotation_quaternion = quat[0]
        obj.scale = (s,) * 3
        created.append(obj)
    return created
