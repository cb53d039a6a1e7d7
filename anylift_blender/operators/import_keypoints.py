"""Import Keypoints: 2D keypoints (any format the engine reads) drawn over the footage."""

from __future__ import annotations

import bpy
from bpy.props import FloatProperty, StringProperty
from bpy_extras.io_utils import ImportHelper

from ..baking import camera as camera_baking
from ..baking import overlay
from ..baking.result import anylift_collection, set_scene_timing
from ..baking.transaction import scene_transaction
from ._common import file_error, report_failure, scene_ready, user_errors


def _static_view(scene: bpy.types.Scene, K, size) -> bpy.types.Object:
    """``AnyLift Camera`` for a clip without a camera file: at the origin looking along +y, upright."""
    import numpy as np

    w2c = np.eye(4)[None]
    w2c[0, :3, :3] = [[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]  # OpenCV axes in the Z-up world
    return camera_baking.bake_camera(scene, K, w2c, size)


def import_keypoints(
    scene: bpy.types.Scene, path: str, depth: float = 1.0
) -> tuple[object, bpy.types.Object]:
    """Read ``path`` and draw it over the scene camera (created static when missing).

    Returns (Keypoints2D, overlay object). A previous overlay is replaced. Raises InputError for a
    malformed file or an unknown image size.
    """
    from anylift.errors import InputError
    from anylift.io.cameras import static_camera
    from anylift.io.keypoints import read_keypoints
    from anylift.skeletons import COCO17

    settings = scene.anylift
    size = (settings.image_width, settings.image_height) if settings.image_width > 0 else None
    kp = read_keypoints(path, image_size=size) if size else read_keypoints(path)
    if kp.image_size is None:
        raise InputError(
            "has no image size",
            path=path,
            field="image_size",
            fix="Import the video first (it gives the size)",
        )
    old = [obj for obj in bpy.data.objects if obj.get("anylift_role") == "keypoints"]
    with scene_transaction(scene):
        cam = scene.camera if scene.camera is not None and scene.camera.type == "CAMERA" else None
        if cam is None:
            cam = _static_view(scene, static_camera(1, kp.image_size).K, kp.image_size)
        if settings.video_path == "":
            set_scene_timing(scene, kp.fps, kp.num_frames)
        K, _ = camera_baking.intrinsics_from_blender(cam, scene)
        obj = overlay.build_overlay(anylift_collection(scene), cam, K, kp.keypoints, COCO17.bones, 1, depth)
    for previous in old:
        data = previous.data
        bpy.data.objects.remove(previous)
        if data is not None and data.users == 0:
            overlay.grease_pencil_data().remove(data)
    obj.name = obj.data.name = overlay.OVERLAY_NAME
    settings.image_width, settings.image_height = kp.image_size
    return kp, obj


class ANYLIFT_OT_import_keypoints(bpy.types.Operator, ImportHelper):
    """Load 2D keypoints and draw them over the footage in the camera view"""

    bl_idname = "anylift.import_keypoints"
    bl_label = "Import Keypoints"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    filter_glob: StringProperty(default="*.json;*.npz", options={"HIDDEN"})
    depth: FloatProperty(
        name="Depth",
        min=0.01,
        default=1.0,
        unit="LENGTH",
        description="Distance of the drawing from the camera",
    )

    @classmethod
    def poll(cls, context):
        return scene_ready(cls, context, to="import keypoints")

    def execute(self, context):
        # An OpenPose folder is a valid input too: the browser's directory then stands for it.
        path = bpy.path.abspath(self.filepath)
        message = file_error(path, "keypoints")
        if message:
            self.report({"ERROR"}, message)
            return {"CANCELLED"}
        try:
            kp, _ = import_keypoints(context.scene, path, self.depth)
        except (*user_errors(), ImportError) as exc:
            return report_failure(self, exc)
        context.scene.anylift.keypoints_path = path
        self.report({"INFO"}, f"{kp.num_frames} frames of keypoints")
        return {"FINISHED"}


classes = (ANYLIFT_OT_import_keypoints,)
