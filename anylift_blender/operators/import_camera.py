"""Import Camera: an animated Blender camera from a camera file (any format the engine reads)."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ImportHelper

from ..baking import camera as camera_baking
from ..baking.transaction import scene_transaction
from ._common import file_error, report_failure, scene_ready, user_errors


def image_size_for(camera, settings) -> tuple[int, int]:
    """The camera file's image size, else the footage's, else twice the principal point."""
    if camera.image_size is not None:
        return tuple(camera.image_size)
    if settings.image_width > 0 and settings.image_height > 0:
        return settings.image_width, settings.image_height
    return camera_baking.image_size_from_intrinsics(camera.K)


class ANYLIFT_OT_import_camera(bpy.types.Operator, ImportHelper):
    """Create the AnyLift Camera from a camera trajectory (anylift JSON, MegaSaM .npz, COLMAP)"""

    bl_idname = "anylift.import_camera"
    bl_label = "Import Camera"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    filter_glob: StringProperty(default="*.json;*.npz;*.txt", options={"HIDDEN"})

    @classmethod
    def poll(cls, context):
        return scene_ready(cls, context)

    def execute(self, context):
        scene = context.scene
        path = bpy.path.abspath(self.filepath)
        message = file_error(path, "camera")
        if message:
            self.report({"ERROR"}, message)
            return {"CANCELLED"}
        try:
            from anylift.io.cameras import read_camera

            camera = read_camera(path)
            size = image_size_for(camera, scene.anylift)
            with scene_transaction(scene):
                camera_baking.bake_camera(scene, camera.K, camera.world_to_camera, size)
                scene.frame_start = 1
                scene.frame_end = camera.num_frames
        except (*user_errors(), ImportError) as exc:
            return report_failure(self, exc)
        scene.anylift.camera_path = path
        scene.anylift.image_width, scene.anylift.image_height = size
        self.report({"INFO"}, f"Camera with {camera.num_frames} frames")
        return {"FINISHED"}


classes = (ANYLIFT_OT_import_camera,)
