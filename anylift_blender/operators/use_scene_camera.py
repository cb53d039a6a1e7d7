"""Use Scene Camera: turn an existing (e.g. tracked) camera into a camera file the engine reads."""

from __future__ import annotations

import bpy
import numpy as np
from bpy.props import StringProperty
from bpy_extras.io_utils import ExportHelper

from ..baking import camera as camera_baking
from ._common import report_failure, scene_ready, user_errors


def write_scene_camera(scene: bpy.types.Scene, cam_obj: bpy.types.Object, path: str) -> int:
    """Sample ``cam_obj`` over the scene's frame range and write an ``anylift.camera/1`` file.

    The world is Blender's (Z up), so ``up`` is written as (0, 0, 1). Returns the frame count.
    """
    from anylift.io.cameras import Camera, write_camera

    K, w2c, size = camera_baking.sample_camera(scene, cam_obj, scene.frame_start, scene.frame_end)
    write_camera(path, Camera(K=K, world_to_camera=w2c, up=np.array([0.0, 0.0, 1.0]), image_size=size))
    return len(w2c)


class ANYLIFT_OT_use_scene_camera(bpy.types.Operator, ExportHelper):
    """Write the scene camera's trajectory (e.g. a camera solve) as the camera file for Lift"""

    bl_idname = "anylift.use_scene_camera"
    bl_label = "Use Scene Camera"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})

    @classmethod
    def poll(cls, context):
        if not scene_ready(cls, context):
            return False
        scene = context.scene
        if scene.camera is None or scene.camera.type != "CAMERA":
            cls.poll_message_set("The scene has no camera: add or track one first")
            return False
        if scene.camera.data.type != "PERSP":
            cls.poll_message_set("The scene camera must be a perspective camera")
            return False
        return True

    def execute(self, context):
        scene = context.scene
        path = bpy.path.abspath(self.filepath)
        try:
            frames = write_scene_camera(scene, scene.camera, path)
        except (*user_errors(), ImportError) as exc:
            return report_failure(self, exc)
        scene.anylift.camera_path = path
        self.report({"INFO"}, f"Wrote {frames} camera frames to {path}")
        return {"FINISHED"}


classes = (ANYLIFT_OT_use_scene_camera,)
