"""Import Video: the footage as a movie clip, the scene fitted to it, shown behind the camera."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ImportHelper

from ..baking import camera as camera_baking
from ..baking.result import set_scene_timing
from ..baking.transaction import scene_transaction
from ._common import file_error, report_failure, scene_ready, user_errors

MOVIE_GLOB = "*.mp4;*.mov;*.avi;*.mkv;*.webm;*.m4v;*.mpg;*.mpeg;*.ogv"


def show_clip_behind_camera(cam_obj: bpy.types.Object, clip: bpy.types.MovieClip) -> None:
    """Make ``clip`` the camera's (only AnyLift) background, frame-locked to the scene."""
    data = cam_obj.data
    data.show_background_images = True
    for bg in list(data.background_images):
        if bg.source == "MOVIE_CLIP":
            data.background_images.remove(bg)
    bg = data.background_images.new()
    bg.source = "MOVIE_CLIP"
    bg.clip = clip
    bg.alpha = 1.0
    bg.display_depth = "BACK"


def import_video(scene: bpy.types.Scene, path: str) -> bpy.types.MovieClip:
    """Load ``path``; scene fps, frame range (1..N) and resolution from it; background of the camera.

    The camera is the scene camera, else ``AnyLift Camera`` (created, static). Raises RuntimeError
    (Blender's own) or ValueError for a file Blender cannot read as a movie; all-or-nothing.
    """
    with scene_transaction(scene):
        clip = bpy.data.movieclips.load(path)
        width, height = clip.size
        if width <= 0 or height <= 0 or clip.frame_duration < 1:
            raise ValueError(f"{path}: not a video Blender can read (no frames or no size)")
        clip.frame_start = 1
        set_scene_timing(scene, float(clip.fps) or float(scene.render.fps), clip.frame_duration)
        scene.render.resolution_x, scene.render.resolution_y = width, height
        scene.render.resolution_percentage = 100
        cam = scene.camera if scene.camera is not None and scene.camera.type == "CAMERA" else None
        if cam is None:
            cam = camera_baking.ensure_camera(scene)
            cam.location = (0.0, -5.0, 1.0)
            cam.rotation_euler = (1.5707963, 0.0, 0.0)
            scene.camera = cam
        show_clip_behind_camera(cam, clip)
        scene.active_clip = clip
    return clip


class ANYLIFT_OT_import_video(bpy.types.Operator, ImportHelper):
    """Load footage: scene fps, frame range and resolution from it, shown behind the camera"""

    bl_idname = "anylift.import_video"
    bl_label = "Import Video"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    filter_glob: StringProperty(default=MOVIE_GLOB, options={"HIDDEN"})

    @classmethod
    def poll(cls, context):
        return scene_ready(cls, context)

    def execute(self, context):
        path = bpy.path.abspath(self.filepath)
        message = file_error(path, "video")
        if message:
            self.report({"ERROR"}, message)
            return {"CANCELLED"}
        try:
            clip = import_video(context.scene, path)
        except user_errors() as exc:
            return report_failure(self, exc)
        settings = context.scene.anylift
        settings.video_path = path
        settings.image_width, settings.image_height = clip.size
        self.report(
            {"INFO"}, f"{clip.frame_duration} frames at {clip.fps:g} fps, {clip.size[0]}x{clip.size[1]}"
        )
        return {"FINISHED"}


classes = (ANYLIFT_OT_import_video,)
