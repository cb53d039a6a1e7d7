"""Per-file settings: ``ANYLIFT_PG_settings`` on ``bpy.types.Scene.anylift``.

Machine paths (body model, checkpoint, engine interpreter) live in the add-on preferences
(:mod:`.preferences`), not here; transient job state belongs on the WindowManager (the Lift
job module attaches its own group there).
"""

from __future__ import annotations

import bpy
from bpy.props import (
    BoolProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from anylift.lifting.options import DEFAULT_SAMPLES  # light: no torch


def _is_armature(_self, obj) -> bool:
    return obj.type == "ARMATURE"


class ANYLIFT_PG_settings(bpy.types.PropertyGroup):
    """AnyLift inputs, lifting options and baking options of one .blend file."""

    # Inputs (filled by the import operators, editable by hand).
    video_path: StringProperty(name="Video", subtype="FILE_PATH", description="Footage of the clip")
    keypoints_path: StringProperty(
        name="Keypoints", subtype="FILE_PATH", description="2D keypoints file (any format the engine reads)"
    )
    camera_path: StringProperty(
        name="Camera", subtype="FILE_PATH", description="Camera trajectory file; empty: a static camera"
    )
    result_path: StringProperty(
        name="Result", subtype="FILE_PATH", description="Motion result (.npz) written by Lift or imported"
    )
    image_width: IntProperty(
        name="Image Width", min=0, description="Footage width in pixels (0: unknown, taken from the result)"
    )
    image_height: IntProperty(
        name="Image Height", min=0, description="Footage height in pixels (0: unknown, taken from the result)"
    )

    # Lifting options (read by the Lift operator).
    method: EnumProperty(
        name="Method",
        items=[
            ("anylift", "AnyLift", "Camera-conditioned multi-view diffusion"),
            ("smplify", "SMPLify", "Single-view optimisation baseline"),
        ],
        default="anylift",
    )
    samples: IntProperty(
        name="Samples",
        min=1,
        max=64,
        default=DEFAULT_SAMPLES,
        description="Samples drawn and fused; >1 also gives their spread",
    )
    steps: IntProperty(
        name="Steps", min=0, max=1000, default=0, description="Sampling steps (0: model default)"
    )
    seed: IntProperty(name="Seed", min=0, default=0)
    set_aside_still: BoolProperty(
        name="Set Aside Tracks of No One",
        default=False,
        description="Detect Keypoints sets aside the tracks of still things the pose model took for a "
        "person (poles, railings, signs: no person segmented there; anylift detect --set-aside-still). "
        "Off by default: a body lying still can look like no one too",
    )
    ground: BoolProperty(name="Ground", default=False, description="Level the result so the floor is z = 0")
    up_override: StringProperty(
        name="Up",
        default="",
        description="The world's up: empty = the camera file's, else estimated (vanishing lines, the body); "
        "'camera' = the first frame's camera is level; or X,Y,Z in the camera file's world",
    )

    # Baking options.
    body_mesh: BoolProperty(name="Body Mesh", default=True, description="Bake the skinned body mesh too")
    smoothing: FloatProperty(
        name="Smoothing",
        min=0.0,
        max=10.0,
        default=0.0,
        description="Gaussian smoothing of the baked motion, sigma in frames (0: off, keys match the result)",
    )
    foot_lock: BoolProperty(
        name="Foot Locking", default=False, description="Remove sliding of planted feet by moving the root"
    )
    foot_speed: FloatProperty(
        name="Contact Speed",
        min=0.0,
        default=0.2,
        unit="VELOCITY",
        description="Feet slower than this (m/s) and near the floor count as planted",
    )
    object_mesh: PointerProperty(
        name="Object Mesh",
        type=bpy.types.Mesh,
        description="Mesh given to every baked result object (empty: a placeholder cube)",
    )

    # Retarget and export (read by their operators).
    target_armature: PointerProperty(
        name="Target Rig", type=bpy.types.Object, poll=_is_armature, description="Armature to retarget onto"
    )
    retarget_preset: StringProperty(name="Preset", description="Bone-map preset for retargeting")
    export_format: EnumProperty(
        name="Format",
        items=[("fbx", "FBX", ""), ("bvh", "BVH", ""), ("glb", "glTF (.glb)", "")],
        default="fbx",
    )
    export_path: StringProperty(name="Export To", subtype="FILE_PATH")


classes = (ANYLIFT_PG_settings,)


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.types.Scene.anylift = PointerProperty(type=ANYLIFT_PG_settings)


def unregister() -> None:
    if hasattr(bpy.types.Scene, "anylift"):
        del bpy.types.Scene.anylift
    for cls in reversed(classes):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
