"""Retarget the baked ``SMPL`` motion onto the artist's rig (``scene.anylift.target_armature``).

The bone map is editable: a collection of (source, target) pairs stored on the target rig
(``Object.anylift_bone_map``), filled from the preset (``scene.anylift.retarget_preset``:
``mixamo``, ``rigify``, or empty/``auto`` for detection then name matching) by
``anylift.fill_bone_map``, or by Retarget itself when it is empty. Panels draw it with
:func:`draw_bone_map`. A rig that would not follow (core limbs unmapped, deform bones overridden)
is an error, reported, with the rig left as it was.
"""

from __future__ import annotations

import bpy

from .. import retarget
from ..baking.armature import baked_armature


class ANYLIFT_PG_bone_pair(bpy.types.PropertyGroup):
    """One row of a bone map: an SMPL bone and the rig's bone that follows it."""

    source: bpy.props.StringProperty(name="SMPL Bone")
    target: bpy.props.StringProperty(name="Rig Bone")


def source_armature(scene: bpy.types.Scene) -> bpy.types.Object | None:
    """The baked armature (:func:`~anylift_blender.baking.armature.baked_armature`)."""
    return baked_armature(scene)


def fill_bone_map(target: bpy.types.Object, preset: str | None) -> dict[str, str]:
    """Replace ``target.anylift_bone_map`` with the preset/automatic map; returns it."""
    mapping = retarget.bone_map_for(target, preset or None)
    rows = target.anylift_bone_map
    rows.clear()
    for source in retarget.SMPL_BONES:
        row = rows.add()
        row.source = source
        row.target = mapping.get(source, "")
    return mapping


def _preset(settings) -> str | None:
    name = settings.retarget_preset.strip().lower()
    return name or None


def _check(cls, context) -> bool:
    settings = getattr(context.scene, "anylift", None)
    if settings is None:
        cls.poll_message_set("Needs a scene with AnyLift settings")
        return False
    target = settings.target_armature
    if target is None or target.type != "ARMATURE":
        cls.poll_message_set("Choose the target rig (an armature) first")
        return False
    if context.mode != "OBJECT":
        cls.poll_message_set("Switch to Object Mode")
        return False
    return True


class ANYLIFT_OT_fill_bone_map(bpy.types.Operator):
    """Fill the target rig's bone map from the preset (or by matching bone names)"""

    bl_idname = "anylift.fill_bone_map"
    bl_label = "Fill Bone Map"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    @classmethod
    def poll(cls, context):
        return _check(cls, context)

    def execute(self, context):
        settings = context.scene.anylift
        try:
            mapping = fill_bone_map(settings.target_armature, _preset(settings))
        except KeyError as exc:
            self.report({"ERROR"}, str(exc.args[0]))
            return {"CANCELLED"}
        self.report({"INFO"}, f"{len(mapping)} of {len(retarget.SMPL_BONES)} SMPL bones mapped")
        return {"FINISHED"}


class ANYLIFT_OT_retarget(bpy.types.Operator):
    """Key the target rig so its mapped bones follow the SMPL motion (world-space, rest poses matched)"""

    bl_idname = "anylift.retarget"
    bl_label = "Retarget"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    @classmethod
    def poll(cls, context):
        if not _check(cls, context):
            return False
        source = source_armature(context.scene)
        if source is None or source.animation_data is None or source.animation_data.action is None:
            cls.poll_message_set("No baked SMPL motion in the scene: lift or bake a result first")
            return False
        return True

    def execute(self, context):
        settings = context.scene.anylift
        target = settings.target_armature
        source = source_armature(context.scene)
        if target == source:
            self.report({"ERROR"}, "The target rig is the SMPL armature itself")
            return {"CANCELLED"}
        try:
            if not any(row.target for row in target.anylift_bone_map):
                fill_bone_map(target, _preset(settings))
            pairs = [(row.source, row.target) for row in target.anylift_bone_map if row.target]
            used = retarget.retarget(source, target, pairs)
        except (KeyError, ValueError) as exc:
            self.report({"ERROR"}, str(exc.args[0]) if exc.args else type(exc).__name__)
            return {"CANCELLED"}
        missing = [row.target for row in target.anylift_bone_map if row.target and row.source not in used]
        if missing:
            self.report({"WARNING"}, f"Bones not found, skipped: {', '.join(missing)}")
        worst = max(used.errors.get(s, 0.0) for s in retarget.bone_maps.CORE_LIMBS)
        message = f"Retargeted {len(used)} bones onto '{target.name}' (limbs within {worst:.1f}°)"
        self.report({"INFO"}, message)
        return {"FINISHED"}


class ANYLIFT_UL_bone_map(bpy.types.UIList):
    """Rows of the bone map: SMPL bone -> a bone of the target rig."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index):
        row = layout.row(align=True)
        row.label(text=item.source, icon="BONE_DATA")
        if data.type == "ARMATURE":
            row.prop_search(item, "target", data.data, "bones", text="")
        else:
            row.prop(item, "target", text="")


def draw_bone_map(layout: bpy.types.UILayout, context: bpy.types.Context) -> None:
    """The Fill button and the editable bone map of the chosen target rig (for a panel)."""
    settings = getattr(context.scene, "anylift", None)
    target = settings.target_armature if settings is not None else None
    if target is None or not hasattr(target, "anylift_bone_map"):
        return
    layout.operator(ANYLIFT_OT_fill_bone_map.bl_idname, icon="PRESET")
    layout.template_list(
        "ANYLIFT_UL_bone_map", "", target, "anylift_bone_map", target, "anylift_bone_map_index", rows=6
    )


classes = (ANYLIFT_PG_bone_pair, ANYLIFT_UL_bone_map, ANYLIFT_OT_fill_bone_map, ANYLIFT_OT_retarget)


def register() -> None:
    bpy.types.Object.anylift_bone_map = bpy.props.CollectionProperty(type=ANYLIFT_PG_bone_pair)
    bpy.types.Object.anylift_bone_map_index = bpy.props.IntProperty(name="Active Bone Pair", min=0)


def unregister() -> None:
    for name in ("anylift_bone_map_index", "anylift_bone_map"):
        if hasattr(bpy.types.Object, name):
            delattr(bpy.types.Object, name)
