"""Bake: bake the scene's current result (``scene.anylift.result_path``, e.g. after Lift)."""

from __future__ import annotations

import os

import bpy

from ..results import bake_result_file, options_from_scene
from ._common import report_failure, scene_ready, user_errors


class ANYLIFT_OT_bake(bpy.types.Operator):
    """Bake the current result with the Bake options (smoothing, foot locking, body mesh, objects)"""

    bl_idname = "anylift.bake"
    bl_label = "Bake"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    @classmethod
    def poll(cls, context):
        if not scene_ready(cls, context):
            return False
        settings = context.scene.anylift
        if not settings.result_path:
            cls.poll_message_set("No result yet: run Lift or choose a result file")
            return False
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode to bake")
            return False
        return True

    def execute(self, context):
        path = bpy.path.abspath(context.scene.anylift.result_path)
        if not os.path.isfile(path):
            self.report({"ERROR"}, f"{path}: result file not found")
            return {"CANCELLED"}
        try:
            baked = bake_result_file(context.scene, path, options_from_scene(context.scene))
        except user_errors() as exc:
            return report_failure(self, exc)
        self.report({"INFO"}, f"Baked onto '{baked.armature.name}'")
        return {"FINISHED"}


classes = (ANYLIFT_OT_bake,)
