"""Result objects (HOI): one Blender object per result object, keyed location/rotation/scale.

A canonical keypoint ``c`` (object frame, metres) lands in the world at ``R @ (s * c) + t``, so the
object gets rotation ``R``, location ``t`` and uniform scale ``s``; its mesh should be modelled in
the canonical frame. Without a chosen mesh a 20 cm placeholder cube is used.
"""

from __future__ import annotations

import bmesh
import bpy
import numpy as np
from scipy.spatial.transform import Rotation

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
    mesh = mesh or placeholder_mesh()
    T = rotation.shape[1]
    frames = first_frame + np.arange(T, dtype=np.float64)
    created = []
    for i, name in enumerate(names):
        obj = bpy.data.objects.new(name, mesh)
        collection.objects.link(obj)
        obj["anylift_object"] = name
        obj.rotation_mode = "QUATERNION"
        xyzw = Rotation.from_matrix(rotation[i]).as_quat()
        quat = keys.continuous_quaternions(xyzw[:, [3, 0, 1, 2]])
        bag = keys.new_action(obj, f"{name}Action")
        keys.write_channels(bag, "location", frames, translation[i], group="Object Transforms")
        keys.write_channels(bag, "rotation_quaternion", frames, quat, group="Object Transforms")
        keys.write_channels(bag, "scale", frames, np.full((T, 3), float(scale[i])), group="Object Transforms")
        obj.location = translation[i, 0]
        obj.rotation_quaternion = quat[0]
        obj.scale = (float(scale[i]),) * 3
        created.append(obj)
    return created
