"""Import Result: load an existing result (.npz) and bake it, without lifting."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ImportHelper

from ..results import bake_result_file, options_from_scene
from ._common import file_error, report_failure, scene_ready, user_errors


class ANYLIFT_OT_import_result(bpy.types.Operator, ImportHelper):
    """Bake a motion result (.npz) onto an SMPL armature, body mesh, camera and objects"""

    bl_idname = "anylift.import_result"
    bl_label = "Import Result"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz", options={"HIDDEN"})

    @classmethod
    def poll(cls, context):
        return scene_ready(cls, context, to="import a result")

    def execute(self, context):
        path = bpy.path.abspath(self.filepath)
        message = file_error(path, "result")
        if message:
            self.report({"ERROR"}, message)
            return {"CANCELLED"}
        try:
            baked = bake_result_file(context.scene, path, options_from_scene(context.scene))
        except user_errors() as exc:
            return report_failure(self, exc)
        context.scene.anylift.result_path = path
        self.report({"INFO"}, f"Baked {context.scene.frame_end} frames onto '{baked.armature.name}'")
        return {"FINISHED"}


classes = (ANYLIFT_OT_import_result,)
