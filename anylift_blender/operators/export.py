"""Export: FBX / BVH / glTF (.glb) of an armature and its body mesh (:mod:`anylift_blender.exporting`).

Which armature: the active object when it is an armature (e.g. a retargeted rig), else the
scene's ``SMPL``. Path and format default to ``scene.anylift.export_path`` / ``export_format``;
with no path, Export opens the file browser.
"""

from __future__ import annotations

import os

import bpy

from .. import exporting
from ._common import scene_ready


def _armature(context) -> bpy.types.Object:
    active = context.view_layer.objects.active if context.view_layer else None
    if active is not None and active.type == "ARMATURE":
        return active
    return exporting.find_armature(context.scene)


class ANYLIFT_OT_export(bpy.types.Operator):
    """Export the armature (active one, else SMPL) and its mesh with the animation"""

    bl_idname = "anylift.export"
    bl_label = "Export"
    bl_options = {"REGISTER"}  # noqa: RUF012 - Blender reads a set

    filepath: bpy.props.StringProperty(subtype="FILE_PATH", options={"SKIP_SAVE"})
    format: bpy.props.EnumProperty(
        name="Format",
        items=[
            ("DEFAULT", "From Settings", ""),
            ("fbx", "FBX", ""),
            ("bvh", "BVH", ""),
            ("glb", "glTF (.glb)", ""),
        ],
        default="DEFAULT",
        options={"SKIP_SAVE"},
    )
    with_mesh: bpy.props.BoolProperty(name="Include Mesh", default=True, description="FBX and glTF only")

    @classmethod
    def poll(cls, context):
        if not scene_ready(cls, context):
            return False
        if not any(o.type == "ARMATURE" for o in context.scene.objects):
            cls.poll_message_set("No armature to export: lift, bake or import a result first")
            return False
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode to export")
            return False
        return True

    def _format(self, context) -> str:
        return context.scene.anylift.export_format if self.format == "DEFAULT" else self.format

    def invoke(self, context, event):
        if not self.filepath:
            self.filepath = context.scene.anylift.export_path
        if self.filepath:
            return self.execute(context)
        stem = os.path.splitext(os.path.basename(bpy.data.filepath))[0] or "anylift"
        self.filepath = f"{stem}.{self._format(context)}"
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        fmt = self._format(context)
        path = self.filepath or context.scene.anylift.export_path
        if not path:
            self.report({"ERROR"}, "No export path: set 'Export To' or choose a file")
            return {"CANCELLED"}
        path = bpy.path.abspath(path)
        if not os.path.splitext(path)[1]:
            path += f".{fmt}"
        try:
            written = exporting.export_scene(path, fmt, _armature(context), with_mesh=self.with_mesh)
        except (ValueError, OSError, RuntimeError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Exported {fmt.upper()} to {written}")
        return {"FINISHED"}


classes = (ANYLIFT_OT_export,)
