"""Detect Keypoints: MediaPipe on the imported footage (background job), drawn over it.

The engine's :func:`anylift.video.people.detect_people` (every person, tracked: what ``anylift
detect`` runs) runs in a worker thread when
``anylift.video`` and MediaPipe import inside this Blender, else as ``<Engine Python> -m
anylift.video.cli detect VIDEO --out FILE --progress jsonl`` (preferences, as for Lift), both
through :mod:`anylift_blender.engine`. The
keypoints are written beside the saved .blend as ``<video stem>_keypoints.json`` (else in a
new temporary folder), then imported like Import Keypoints (drawn over the camera view).
Progress and Cancel show in the AnyLift panel; the scene is untouched until the job succeeds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import bpy

from .. import engine, jobs
from ..preferences import engine_settings
from ._common import file_error, scene_ready


def output_path(video: str, suffix: str) -> str:
    """``<video stem><suffix>`` beside the saved .blend, else in a new temporary folder."""
    name = f"{Path(video).stem or 'video'}{suffix}"
    if bpy.data.filepath:
        return str(Path(bpy.data.filepath).parent / name)
    return str(Path(tempfile.mkdtemp(prefix="anylift_")) / name)


def video_poll(cls, context) -> bool:
    if not scene_ready(cls, context):
        return False
    settings = context.scene.anylift
    if not settings.video_path:
        cls.poll_message_set("No footage yet: import a video first")
        return False
    if jobs.is_running():
        cls.poll_message_set("A job is already running: wait for it or cancel it")
        return False
    if context.mode != "OBJECT":
        cls.poll_message_set("Switch to Object Mode")
        return False
    return True


class ANYLIFT_OT_detect_keypoints(bpy.types.Operator):
    """Detect the person's 2D keypoints in the imported video (MediaPipe, runs in the background)"""

    bl_idname = "anylift.detect_keypoints"
    bl_label = "Detect Keypoints"
    bl_options = {"REGISTER"}  # noqa: RUF012 - Blender reads a set

    @classmethod
    def poll(cls, context):
        return video_poll(cls, context)

    def execute(self, context):
        scene_name = context.scene.name
        set_aside = bool(context.scene.anylift.set_aside_still)
        video = bpy.path.abspath(context.scene.anylift.video_path)
        problem = file_error(video, "video")
        if problem:
            self.report({"ERROR"}, problem)
            return {"CANCELLED"}
        out = output_path(video, "_keypoints.json")

        def in_process(progress, cancel) -> str:
            from anylift.io.people import write_people
            from anylift.video.people import PeopleConfig, detect_people

            # What `anylift detect` runs (the subprocess path): every person, tracked.
            config = PeopleConfig(set_aside_still=set_aside)
            people = detect_people(video, config=config, progress=progress, cancel=cancel)
            if cancel.is_set():
                raise jobs.JobCancelled("Detect Keypoints")
            write_people(out, people)
            return out

        argv = ["-m", "anylift.video.cli", "detect", video, "--out", out, "--progress", "jsonl"]
        argv += ["--set-aside-still"] if set_aside else []
        try:
            job = engine.make_job(
                "Detect Keypoints", engine.VIDEO, in_process, argv, out, engine_settings(context)
            )
        except ValueError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}

        def done(path: str) -> str:
            from .import_keypoints import import_keypoints

            scene = bpy.data.scenes.get(scene_name)
            if scene is None:
                raise ValueError(f"scene '{scene_name}' was removed while detecting")
            kp, _ = import_keypoints(scene, path)
            scene.anylift.keypoints_path = path
            seen = float((kp.scores > 0).mean())
            return f"Detected {kp.num_frames} frames of keypoints ({100 * seen:.0f}% of joints seen): {path}"

        return engine.run_for_operator(self, job, done)


classes = (ANYLIFT_OT_detect_keypoints,)
