"""The ``SMPL`` armature: 24 bones at the body model's rest joints, keyed from SMPL parameters.

Frames: the armature object sits at the world origin with identity transform, so armature space
is the result's world (Z-up, metres). The rest pose is the body model's zero pose for the
result's betas, standing upright (``upright`` maps the body model's zero-pose frame to it).

Pose maths. Let ``B_k`` (3, 3) be bone k's rest orientation (``Bone.matrix_local``), ``D`` the
rotation from the upright rest frame to the body model's zero-pose frame (zero-pose points
``X0 = D @ Xr``), ``R_go`` the world global orientation and ``R_k`` SMPL's local joint rotations.
Then every joint's world rotation relative to rest is ``W_k = W_parent @ D.T @ R_k @ D`` with
``W_0 = R_go @ D``, and Blender's pose basis (relative to the bone's rest frame) is
``B_k.T @ D.T @ R_k @ D @ B_k`` (root: ``B_0.T @ W_0 @ B_0``). The pelvis location key is
``B_0.T @ (joints[:, 0] - rest_pelvis)``, so bone heads follow the result's joints exactly
(SMPL's joints are rigid forward kinematics of the same rest joints).
"""

from __future__ import annotations

import bpy
import numpy as np

from anylift.geometry import transforms
from anylift.skeletons import SMPL24_JOINTS, SMPL24_PARENTS

from . import keys

ARMATURE_NAME = "SMPL"

# Bone k is named after SMPL joint k (the joint at its head); the engine owns the names and tree.
SMPL_BONES: tuple[str, ...] = SMPL24_JOINTS
SMPL_PARENTS: tuple[int, ...] = SMPL24_PARENTS
# The child a bone points at (its tail); leaves extend their parent's direction.
_TAIL_CHILD = {0: 3, 1: 4, 2: 5, 3: 6, 4: 7, 5: 8, 6: 9, 7: 10, 8: 11, 9: 12, 12: 15}
_TAIL_CHILD.update({13: 16, 14: 17, 16: 18, 17: 19, 18: 20, 19: 21, 20: 22, 21: 23})


def baked_armature(scene: bpy.types.Scene) -> bpy.types.Object | None:
    """The baked armature the add-on's tools act on (preview, retarget, uncertainty): the active
    object when it is one (one person of several, ``SMPL person <id>``), else ``SMPL``, else the
    scene's only baked armature; None when there is none to choose."""
    layer = bpy.context.view_layer
    active = layer.objects.active if layer is not None else None
    if active is not None and active.type == "ARMATURE" and active.get("anylift_role") == "armature":
        if scene.objects.get(active.name) is not None:
            return active
    plain = scene.objects.get(ARMATURE_NAME)
    if plain is not None and plain.type == "ARMATURE":
        return plain
    baked = [o for o in scene.objects if o.type == "ARMATURE" and o.get("anylift_role") == "armature"]
    return baked[0] if len(baked) == 1 else None


def skinned_body(armature: bpy.types.Object) -> bpy.types.Object | None:
    """The baked body mesh that ``armature`` deforms, or None."""
    for obj in bpy.data.objects:
        if obj.get("anylift_role") == "body" and any(
            m.type == "ARMATURE" and m.object is armature for m in obj.modifiers
        ):
            return obj
    return None


def bone_tails(rest_joints: np.ndarray, parents=SMPL_PARENTS) -> np.ndarray:
    """(24, 3) rest joints -> (24, 3) tails: the main child's joint; leaves extend the parent bone."""
    tails = np.empty_like(rest_joints)
    for k in range(len(rest_joints)):
        if k in _TAIL_CHILD:
            tails[k] = rest_joints[_TAIL_CHILD[k]]
        else:
            direction = rest_joints[k] - rest_joints[parents[k]]
            tails[k] = rest_joints[k] + 0.5 * direction
    # Bones shorter than 1 cm are awkward to pick in the viewport (pelvis/spine can be short).
    short = np.linalg.norm(tails - rest_joints, axis=1) < 0.01
    tails[short] = rest_joints[short] + np.array([0.0, 0.0, 0.05])
    return tails


def build_armature(
    collection: bpy.types.Collection, rest_joints: np.ndarray, name: str = ARMATURE_NAME
) -> bpy.types.Object:
    """Create an armature object with the 24 SMPL bones, heads at ``rest_joints`` (24, 3) metres.

    Bones are unconnected (a head never snaps to its parent's tail) so the heads sit exactly
    at the joints. Needs no context: edit bones are made through a temporary edit mode on a
    view layer where the object is active.
    """
    data = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, data)
    collection.objects.link(obj)
    tails = bone_tails(rest_joints)
    view_layer = bpy.context.view_layer
    previous_active = view_layer.objects.active
    previous_mode = bpy.context.mode
    if previous_mode != "OBJECT" and previous_active is not None:
        bpy.ops.object.mode_set(mode="OBJECT")
    view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        edit_bones = []
        for k, bone_name in enumerate(SMPL_BONES):
            bone = data.edit_bones.new(bone_name)
            bone.head = rest_joints[k]
            bone.tail = tails[k]
            bone.roll = 0.0
            edit_bones.append(bone)
        for k, parent in enumerate(SMPL_PARENTS):
            if parent >= 0:
                edit_bones[k].parent = edit_bones[parent]
                edit_bones[k].use_connect = False
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
        view_layer.objects.active = previous_active
    data.display_type = "STICK"
    obj.show_in_front = True
    for pose_bone in obj.pose.bones:
        pose_bone.rotation_mode = "QUATERNION"
    return obj


def bone_rest_rotations(obj: bpy.types.Object) -> np.ndarray:
    """(24, 3, 3) rest orientations ``B_k`` of the SMPL bones, armature space."""
    return np.array([np.array(obj.data.bones[name].matrix_local)[:3, :3] for name in SMPL_BONES])


def pose_channels(
    joints: np.ndarray,
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    rest_joints: np.ndarray,
    bone_rest: np.ndarray,
    upright_to_model: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pose keys from SMPL parameters (see the module docstring for the maths).

    Args:
        joints: (T, 24, 3) world joints (only the pelvis is used: the root location).
        global_orient: (T, 3) axis-angle, world. body_pose: (T, 69) axis-angle.
        rest_joints: (24, 3) upright rest joints (armature space). bone_rest: (24, 3, 3) ``B_k``.
        upright_to_model: (3, 3) ``D``.
    Returns:
        pelvis location (T, 3) in the pelvis bone's rest frame, quaternions (T, 24, 4) w,x,y,z,
        sign-continuous along time.
    """
    T = len(joints)
    D = np.asarray(upright_to_model, dtype=np.float64)
    R_go = transforms.rotvec_to_matrix(global_orient)
    R_loc = transforms.rotvec_to_matrix(np.asarray(body_pose, dtype=np.float64).reshape(T, 23, 3))
    B = np.asarray(bone_rest, dtype=np.float64)
    basis = np.empty((T, 24, 3, 3))
    basis[:, 0] = B[0].T @ R_go @ D @ B[0]
    basis[:, 1:] = np.swapaxes(B[1:], -1, -2) @ D.T @ R_loc @ D @ B[1:]
    quats = transforms.matrix_to_continuous_quaternions(basis)
    location = (np.asarray(joints, dtype=np.float64)[:, 0] - rest_joints[0]) @ B[0]
    return location, quats


def forward_kinematics(
    location: np.ndarray, quats: np.ndarray, rest_joints: np.ndarray, bone_rest: np.ndarray
) -> np.ndarray:
    """World joint positions (T, 24, 3) that pose keys produce in Blender (used for checks)."""
    B = np.asarray(bone_rest, dtype=np.float64)
    T = len(location)
    basis = transforms.quaternion_to_matrix(quats)
    world_rot = np.empty((T, 24, 3, 3))
    out = np.empty((T, 24, 3))
    for k, parent in enumerate(SMPL_PARENTS):
        if parent < 0:
            world_rot[:, k] = B[k] @ basis[:, k] @ B[k].T
            out[:, k] = rest_joints[k] + location @ B[k].T
        else:
            world_rot[:, k] = world_rot[:, parent] @ B[k] @ basis[:, k] @ B[k].T
            out[:, k] = out[:, parent] + world_rot[:, parent] @ (rest_joints[k] - rest_joints[parent])
    return out


def key_armature(obj: bpy.types.Object, frames: np.ndarray, location: np.ndarray, quats: np.ndarray) -> None:
    """Write pelvis location (T, 3) and every bone's quaternion (T, 24, 4) as one action, in bulk."""
    bag = keys.new_action(obj, f"{obj.name}Action")
    keys.write_channels(bag, 'pose.bones["pelvis"].location', frames, location, group="pelvis")
    for k, bone_name in enumerate(SMPL_BONES):
        path = f'pose.bones["{bone_name}"].rotation_quaternion'
        keys.write_channels(bag, path, frames, quats[:, k], group=bone_name)
