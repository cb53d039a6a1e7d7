"""Bake a motion result into the scene: ``SMPL`` armature, body mesh, ``AnyLift Camera``, objects.

Scene frame 1 is result frame 0; scene fps is the result's fps (``fps_base`` for non-integer
rates); the frame range covers the result. A previous bake of the same person (objects tagged
``anylift_role`` and ``anylift_person``, the result's track id) is replaced only once the new one
is complete, and a failure removes everything made so far; other people's bakes stay, under names
ending in `` person <id>``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import bpy
import numpy as np

from . import armature as armature_baking
from . import camera as camera_baking
from . import filters, keys
from .body import BodyRest, build_body_mesh
from .objects import bake_objects
from .transaction import scene_transaction
from .uncertainty import apply_motion_uncertainty

COLLECTION_NAME = "AnyLift"
FIRST_FRAME = 1
# Bone heads must reproduce the result's joints; more than this means the wrong body model/betas.
_FK_TOLERANCE = 0.01  # metres


class BakeError(Exception):
    """The result cannot be baked as asked (message is user-facing)."""


@dataclass
class BakeOptions:
    """What to bake and how.

    image_size: (W, H) of the footage; None: (round(2 cx), round(2 cy)) from the intrinsics.
    smoothing: Gaussian sigma in frames (0: keys reproduce the result). foot_speed: m/s.
    object_mesh: mesh for result objects (None: placeholder cube).
    """

    body_mesh: bool = True
    camera: bool = True
    smoothing: float = 0.0
    foot_lock: bool = False
    foot_speed: float = 0.2
    object_mesh: bpy.types.Mesh | None = None
    image_size: tuple[int, int] | None = None


@dataclass
class Baked:
    """What a bake made."""

    armature: bpy.types.Object
    body: bpy.types.Object | None
    camera: bpy.types.Object | None
    objects: list[bpy.types.Object] = field(default_factory=list)
    max_joint_error: float = 0.0  # metres, keys vs the result's joints before smoothing/locking


def timing_problem(fps: float) -> str | None:
    """Why Blender cannot play ``fps`` exactly (it would clamp ``fps`` or ``fps_base``), or None."""
    props = bpy.types.RenderSettings.bl_rna.properties
    fps_hi = float(props["fps"].hard_max)
    base_hi = float(props["fps_base"].hard_max)
    if not (math.isfinite(fps) and 1.0 / base_hi <= fps <= fps_hi):
        return f"the result's frame rate is {fps:.4g} fps; Blender plays {1.0 / base_hi:g} to {fps_hi:g} fps"
    return None


def set_scene_timing(scene: bpy.types.Scene, fps: float, num_frames: int) -> None:
    """Scene fps (``fps / fps_base``) and frame range 1..num_frames."""
    if abs(fps - round(fps)) < 1e-6:
        scene.render.fps, scene.render.fps_base = round(fps), 1.0
    else:
        scene.render.fps = math.ceil(fps)
        scene.render.fps_base = math.ceil(fps) / fps
    scene.frame_start = FIRST_FRAME
    scene.frame_end = FIRST_FRAME + num_frames - 1


def anylift_collection(scene: bpy.types.Scene) -> bpy.types.Collection:
    """The ``AnyLift`` collection of the scene (created and linked when missing)."""
    coll = bpy.data.collections.get(COLLECTION_NAME)
    if coll is None:
        coll = bpy.data.collections.new(COLLECTION_NAME)
    if scene.collection.children.get(coll.name) is None:
        scene.collection.children.link(coll)
    return coll


def _baked(same: bool, person: int | None) -> list[bpy.types.Object]:
    """The objects of earlier bakes of ``person`` (``same``) or of everyone else (``anylift_person``,
    the result's track id; -1: none)."""
    tag = -1 if person is None else int(person)
    roles = {"armature", "body", "object"}
    return [
        o
        for o in bpy.data.objects
        if o.get("anylift_role") in roles and (o.get("anylift_person", -1) == tag) == same
    ]


def _step_aside(objs: list[bpy.types.Object]) -> None:
    """Another person's bake keeps its objects under its own names (``"SMPL person 2"``,
    ``"SMPL Body person 2"``, ``"box person 2"``): the plain names go to the newest bake."""
    for obj in objs:
        pid = obj.get("anylift_person", -1)
        if pid >= 0 and not obj.name.endswith(f" person {pid}"):
            _rename(obj, f"{obj.name.split('.')[0]} person {pid}")
            if obj.get("anylift_role") == "body":
                obj.data.name = obj.name


def name_by_person(baked: Baked) -> None:
    """Give a person's bake its track id in every name now (``"SMPL person 2"``...), not only once
    the next person's bake takes the plain names: one armature per person, named by id."""
    _step_aside([o for o in (baked.armature, baked.body, *baked.objects) if o is not None])


def _remove_objects(objs: list[bpy.types.Object]) -> None:
    for obj in objs:
        data = obj.data
        anim = obj.animation_data
        action = anim.action if anim else None
        bpy.data.objects.remove(obj)
        if action is not None and action.users == 0:
            bpy.data.actions.remove(action)
        if data is not None and data.users == 0:
            if isinstance(data, bpy.types.Mesh):
                bpy.data.meshes.remove(data)
            elif isinstance(data, bpy.types.Armature):
                bpy.data.armatures.remove(data)


def _rename(obj: bpy.types.Object, name: str) -> None:
    """Name the object (and its armature/action) now that a previous bake freed the name."""
    obj.name = name
    if isinstance(obj.data, bpy.types.Armature):
        obj.data.name = name
    if obj.animation_data and obj.animation_data.action:
        obj.animation_data.action.name = f"{name}Action"


def _hide_where_unseen(objs: list[bpy.types.Object], motion, frames: np.ndarray) -> None:
    """Hide ``objs`` (viewport and render) before the first and after the last frame whose footage
    shows the person (the result's ``seen``; the result holds still there). Gaps in between stay
    visible: the lift filled them in."""
    first, last = motion.seen_span()
    if (first, last) == (0, len(frames) - 1):
        return
    index = np.arange(len(frames))
    hidden = ((index < first) | (index > last)).astype(np.float64)
    for obj in objs:
        bag = keys.channelbag_of(obj) or keys.new_action(obj)
        for path in ("hide_viewport", "hide_render"):
            keys.write_fcurve(bag, path, 0, frames, hidden, interpolation="CONSTANT")


def bake_motion(scene: bpy.types.Scene, motion, body: BodyRest, options: BakeOptions | None = None) -> Baked:
    """Bake ``motion`` (:class:`anylift.io.motion.Motion`) into ``scene``.

    ``body`` is the rest data for ``motion.betas`` (:func:`.body.load_body_rest`). Raises
    :class:`BakeError` (scene unchanged) when the result does not fit the body model.
    """
    options = options or BakeOptions()
    T = len(motion.joints)
    frames = FIRST_FRAME + np.arange(T, dtype=np.float64)
    # Refuse what Blender would silently clamp (the scene would not show the result's timing/camera).
    size = options.image_size or camera_baking.image_size_from_intrinsics(motion.intrinsics)
    problem = timing_problem(float(motion.fps)) or (
        camera_baking.intrinsics_problem(motion.intrinsics, size) if options.camera else None
    )
    if problem is not None:
        raise BakeError(f"cannot bake: {problem}")
    person = getattr(motion, "person", None)
    old = _baked(True, person)  # a bake replaces the same person's; other people's stay
    with scene_transaction(scene):
        coll = anylift_collection(scene)
        arm = armature_baking.build_armature(coll, body.rest_joints)
        arm["anylift_role"] = "armature"
        bone_rest = armature_baking.bone_rest_rotations(arm)
        location, quats = armature_baking.pose_channels(
            motion.joints,
            motion.global_orient,
            motion.body_pose,
            body.rest_joints,
            bone_rest,
            body.upright_to_model,
        )
        fk = armature_baking.forward_kinematics(location, quats, body.rest_joints, bone_rest)
        error = float(np.max(np.linalg.norm(fk - motion.joints, axis=-1)))
        if error > _FK_TOLERANCE:
            raise BakeError(
                f"the result's joints are {error * 100:.1f} cm away from the body model's forward kinematics "
                f"('{body.kind}', the result's betas): the result was made with another body model"
            )
        if options.foot_lock:
            root = motion.joints[:, 0]
            feet = fk[:, list(filters.FOOT_JOINTS)]
            locked = filters.lock_feet(root, feet, float(motion.fps), options.foot_speed)
            location = location + (locked - root) @ bone_rest[0]
        location, quats = filters.smooth(location, quats, options.smoothing)
        armature_baking.key_armature(arm, frames, location, quats)
        apply_motion_uncertainty(arm, motion, frame_start=FIRST_FRAME)

        body_obj = None
        if options.body_mesh:
            body_obj = build_body_mesh(coll, body, arm)
            body_obj["anylift_role"] = "body"

        cam = None
        if options.camera:
            cam = camera_baking.bake_camera(
                scene, motion.intrinsics, motion.world_to_camera, size, FIRST_FRAME
            )
            if coll.objects.get(cam.name) is None:
                coll.objects.link(cam)
                if scene.collection.objects.get(cam.name) is not None:
                    scene.collection.objects.unlink(cam)

        made_objects = []
        if motion.object_names:
            made_objects = bake_objects(
                coll,
                list(motion.object_names),
                np.asarray(motion.object_rotation),
                np.asarray(motion.object_translation),
                np.asarray(motion.object_scale),
                options.object_mesh,
                FIRST_FRAME,
            )
            for obj in made_objects:
                obj["anylift_role"] = "object"
        for obj in (arm, body_obj, *made_objects):
            if obj is not None:
                obj["anylift_person"] = -1 if person is None else int(person)
        _hide_where_unseen([o for o in (arm, body_obj) if o is not None], motion, frames)
        set_scene_timing(scene, float(motion.fps), T)

    # Only now that the new bake is complete does the old one go, and the names become free.
    _remove_objects(old)
    _step_aside(_baked(False, person))
    _rename(arm, armature_baking.ARMATURE_NAME)
    if body_obj is not None:
        _rename(body_obj, "SMPL Body")
        body_obj.data.name = "SMPL Body"
    for obj, name in zip(made_objects, motion.object_names or []):
        _rename(obj, name)
    scene.frame_set(FIRST_FRAME)
    return Baked(armature=arm, body=body_obj, camera=cam, objects=made_objects, max_joint_error=error)
