"""Sidebar panels: 3D viewport, "AnyLift" tab.

Buttons of operators that another module did not register (e.g. Lift, when its module failed to
import) are drawn as a greyed label instead of an error.
"""

from __future__ import annotations

import bpy

from .baking.armature import baked_armature
from .baking.uncertainty import HIGH, LOW, ROOT_PROPERTY, SIZE_PROPERTY
from .operators.lift import draw_job
from .operators.object_keypoints import draw_object_keypoints
from .operators.retarget import draw_bone_map
from .operators.tracks import ANYLIFT_PT_people  # several people: its own module


def _operator_exists(idname: str) -> bool:
    category, name = idname.split(".")
    try:
        getattr(getattr(bpy.ops, category), name).get_rna_type()
    except (AttributeError, KeyError):
        return False
    return True


def _operator(layout, idname: str, text: str, icon: str = "NONE"):
    if _operator_exists(idname):
        return layout.operator(idname, text=text, icon=icon)
    row = layout.row()
    row.enabled = False
    row.label(text=f"{text} (unavailable)", icon=icon)
    return None


class _AnyLiftPanel:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "AnyLift"

    @classmethod
    def poll(cls, context):
        return context.scene is not None and hasattr(context.scene, "anylift")


class ANYLIFT_PT_main(_AnyLiftPanel, bpy.types.Panel):
    bl_label = "AnyLift"

    def draw(self, context):
        settings = context.scene.anylift
        col = self.layout.column(align=True)
        _operator(col, "anylift.import_video", "Import Video", "FILE_MOVIE")
        _operator(col, "anylift.detect_keypoints", "Detect Keypoints", "OUTLINER_OB_ARMATURE")
        _operator(col, "anylift.estimate_camera", "Estimate Camera", "TRACKER")
        _operator(col, "anylift.import_keypoints", "Import Keypoints", "POINTCLOUD_DATA")
        _operator(col, "anylift.import_camera", "Import Camera", "CAMERA_DATA")
        _operator(col, "anylift.use_scene_camera", "Use Scene Camera", "OUTLINER_OB_CAMERA")
        col = self.layout.column()
        col.prop(settings, "set_aside_still")
        col.prop(settings, "video_path")
        col.prop(settings, "keypoints_path")
        col.prop(settings, "camera_path")


class ANYLIFT_PT_lift(_AnyLiftPanel, bpy.types.Panel):
    bl_label = "Lift"
    bl_parent_id = "ANYLIFT_PT_main"

    def draw(self, context):
        settings = context.scene.anylift
        col = self.layout.column()
        col.prop(settings, "method")
        col.prop(settings, "samples")
        col.prop(settings, "steps")
        col.prop(settings, "seed")
        col.prop(settings, "ground")
        col.prop(settings, "up_override")
        _operator(col, "anylift.lift", "Lift", "PLAY")
        draw_job(col, context)


class ANYLIFT_PT_bake(_AnyLiftPanel, bpy.types.Panel):
    bl_label = "Bake"
    bl_parent_id = "ANYLIFT_PT_main"

    def draw(self, context):
        settings = context.scene.anylift
        col = self.layout.column()
        col.prop(settings, "result_path")
        col.prop(settings, "body_mesh")
        col.prop(settings, "smoothing")
        row = col.row(heading="Foot Locking")
        row.prop(settings, "foot_lock", text="")
        sub = row.row()
        sub.active = settings.foot_lock
        sub.prop(settings, "foot_speed")
        col.prop(settings, "object_mesh")
        draw_object_keypoints(col, context)
        row = col.row(align=True)
        _operator(row, "anylift.bake", "Bake", "ARMATURE_DATA")
        _operator(row, "anylift.import_result", "Import Result", "IMPORT")
        _operator(col, "anylift.preview", "Depth Preview", "RENDER_STILL")


class ANYLIFT_PT_output(_AnyLiftPanel, bpy.types.Panel):
    bl_label = "Retarget & Export"
    bl_parent_id = "ANYLIFT_PT_main"
    bl_options = {"DEFAULT_CLOSED"}  # noqa: RUF012 - Blender reads a set

    def draw(self, context):
        settings = context.scene.anylift
        col = self.layout.column()
        col.prop(settings, "target_armature")
        col.prop(settings, "retarget_preset")
        draw_bone_map(col, context)
        _operator(col, "anylift.retarget", "Retarget", "CON_ARMATURE")
        col.separator()
        col.prop(settings, "export_format")
        col.prop(settings, "export_path")
        _operator(col, "anylift.export", "Export", "EXPORT")


def draw_legend(layout: bpy.types.UILayout, armature: bpy.types.Object) -> None:
    """The uncertainty bone colours' legend and this frame's placement spread (:mod:`.baking.uncertainty`)."""
    size = armature.get(SIZE_PROPERTY)
    if size is None:
        layout.label(text="No uncertainty: lift with Samples > 1", icon="INFO")
        return
    col = layout.column(align=True)
    col.label(text=f"Pose spread, of body size ({size:.2f} m):")
    col.label(text=f"≤ {100 * LOW:.1f} % ({100 * LOW * size:.1f} cm): confident", icon="COLLECTION_COLOR_04")
    col.label(text="between: less sure", icon="COLLECTION_COLOR_03")
    col.label(text=f"≥ {100 * HIGH:.1f} % ({100 * HIGH * size:.1f} cm): unsure", icon="COLLECTION_COLOR_01")
    root = armature.get(ROOT_PROPERTY)
    if root is not None:
        text = f"Placement (root) spread here: {100 * float(root):.1f} cm"
        layout.label(text=text, icon="ORIENTATION_GLOBAL")


class ANYLIFT_PT_uncertainty(_AnyLiftPanel, bpy.types.Panel):
    bl_label = "Uncertainty"
    bl_parent_id = "ANYLIFT_PT_main"
    bl_options = {"DEFAULT_CLOSED"}  # noqa: RUF012 - Blender reads a set

    def draw(self, context):
        armature = baked_armature(context.scene)
        if armature is None:
            self.layout.label(text="No baked SMPL armature", icon="INFO")
            return
        draw_legend(self.layout, armature)


classes = (
    ANYLIFT_PT_main,
    ANYLIFT_PT_lift,
    ANYLIFT_PT_bake,
    ANYLIFT_PT_output,
    ANYLIFT_PT_uncertainty,
    ANYLIFT_PT_people,
)


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(classes):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
