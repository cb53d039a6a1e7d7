"""Estimate Camera: the camera trajectory of the imported footage (background job).

Runs :func:`anylift.video.camera_estimation.estimate_camera` (in a worker thread, or as
``<Engine Python> -m anylift.video.cli camera ...``, through :mod:`anylift_blender.engine`) with the scene's
keypoints when there are some (they mask the person and give the metric scale; otherwise the
job detects them first) and the focal length given in the operator (0: estimate it). The
camera file is written beside the .blend as ``<video stem>_camera.json`` (else in a temporary
folder), baked onto ``AnyLift Camera`` (which becomes the scene camera, with the footage
behind it) and set as the scene's camera file for Lift.

A camera the artist solved with Blender's motion tracker goes through Use Scene Camera instead.
"""

from __future__ import annotations

import os

import bpy
from bpy.props import FloatProperty

from .. import engine
from ..baking import camera as camera_baking
from ..baking.transaction import scene_transaction
from ..preferences import engine_settings
from ._common import file_error
from .detect_keypoints import output_path, video_poll
from .import_video import show_clip_behind_camera


class ANYLIFT_OT_estimate_camera(bpy.types.Operator):
    """Estimate the camera trajectory of the imported video from the background (runs in the background)"""

    bl_idname = "anylift.estimate_camera"
    bl_label = "Estimate Camera"
    bl_options = {"REGISTER"}  # noqa: RUF012 - Blender reads a set

    focal: FloatProperty(
        name="Focal Length (px)",
        min=0.0,
        default=0.0,
        description="Focal length in pixels when known; 0 estimates it from the footage",
    )
    person: bpy.props.IntProperty(
        name="Person", default=-1, min=-1,
        description="Track id whose size gives the scale and, in an edited video, whose shot is "
        "estimated (-1: the file's default person)",
    )  # fmt: skip

    @classmethod
    def poll(cls, context):
        return video_poll(cls, context)

    def execute(self, context):
        scene_name = context.scene.name
        settings = context.scene.anylift
        video = bpy.path.abspath(settings.video_path)
        keypoints = bpy.path.abspath(settings.keypoints_path) if settings.keypoints_path else ""
        problem = file_error(video, "video") or (keypoints and file_error(keypoints, "keypoints"))
        if problem:
            self.report({"ERROR"}, problem)
            return {"CANCELLED"}
        out = output_path(video, "_camera.json")
        focal = float(self.focal) if self.focal > 0 else None
        person = self.person if self.person >= 0 else None

        def in_process(progress, cancel) -> str:
            from anylift.io.cameras import write_camera
            from anylift.io.people import read_people
            from anylift.video.camera_estimation import estimate_camera
            from anylift.video.people import detect_people

            if keypoints:
                people = read_people(keypoints)
            else:  # as `anylift camera` does
                people = detect_people(video, progress=progress, cancel=cancel)
            est = estimate_camera(video, people.keypoints2d(person), focal=focal, people=people,
                                  progress=progress, cancel=cancel)  # fmt: skip
            write_camera(out, est.camera)
            return out

        argv = ["-m", "anylift.video.cli", "camera", video, "--out", out, "--progress", "jsonl"]
        if keypoints:
            argv += ["--keypoints", keypoints]
        if focal:
            argv += ["--focal", repr(focal)]
        if person is not None:
            argv += ["--person", str(person)]
        try:
            job = engine.make_job(
                "Estimate Camera", engine.VIDEO, in_process, argv, out, engine_settings(context)
            )
        except ValueError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}

        def done(path: str) -> str:
            from anylift.io.cameras import read_camera

            scene = bpy.data.scenes.get(scene_name)
            if scene is None:
                raise ValueError(f"scene '{scene_name}' was removed while estimating the camera")
            camera = read_camera(path)
            size = camera.image_size or camera_baking.image_size_from_intrinsics(camera.K)
            with scene_transaction(scene):
                cam = camera_baking.bake_camera(scene, camera.K, camera.world_to_camera, size)
                if scene.active_clip is not None:
                    show_clip_behind_camera(cam, scene.active_clip)
            scene.anylift.camera_path = path
            scene.anylift.image_width, scene.anylift.image_height = size
            name = os.path.basename(path)
            return f"Camera of {camera.num_frames} frames, focal {camera.K[0, 0]:.0f} px: {name}"

        return engine.run_for_operator(self, job, done)


classes = (ANYLIFT_OT_estimate_camera,)
