"""Detect Keypoints: MediaPipe on the imported footage (background job), drawn over it.

The engine's :func:`anylift.video.detect.detect_keypoints` runs in a worker thread when
``anylift.video`` and MediaPipe import inside this Blender, else as ``<Engine Python> -m
anylift.video.cli detect VIDEO --out FILE --progress jsonl`` (preferences, as for Lift). The
keypoints are written beside the saved .blend as ``<video stem>_keypoints.json`` (else in a
new temporary folder), then imported like Import Keypoints (drawn over the camera view).
Progress and Cancel show in the AnyLift panel; the scene is untouched until the job succeeds.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bpy

from .. import jobs
from ..preferences import EngineSettings, engine_settings
from ._common import file_error, scene_ready


def engine_video_in_process() -> bool:
    """True when ``anylift.video`` and ``mediapipe`` can be imported inside this Blender."""
    try:
        return importlib.util.find_spec("anylift.video") is not None and (
            importlib.util.find_spec("mediapipe") is not None
        )
    except (ImportError, ValueError):
        return False


def output_path(video: str, suffix: str) -> str:
    """``<video stem><suffix>`` beside the saved .blend, else in a new temporary folder."""
    name = f"{Path(video).stem or 'video'}{suffix}"
    if bpy.data.filepath:
        return str(Path(bpy.data.filepath).parent / name)
    return str(Path(tempfile.mkdtemp(prefix="anylift_")) / name)


def make_video_job(
    name: str, in_process: Callable[[Any, Any], str], argv: list[str], out: str, engine: EngineSettings
) -> Any:
    """A FunctionJob running ``in_process(progress, cancel)`` here, or a CommandJob for ``argv``.

    ``argv`` is the command after the Python executable (``-m anylift.video.cli ...``).

    Raises:
        ValueError: the engine is reachable neither way (message names the preference to set).
    """
    mode = engine.engine_mode
    if mode == "in-process" or (mode == "auto" and engine_video_in_process()):
        if not engine_video_in_process():
            raise ValueError(
                "the anylift video front end (anylift.video + mediapipe) cannot be imported here"
            )
        return jobs.FunctionJob(in_process, name=name)
    if not engine.engine_python:
        raise ValueError(
            "MediaPipe / the anylift engine cannot be imported inside this Blender and no Engine Python is "
            "set (Preferences > Add-ons > AnyLift > Engine Python)"
        )
    if not os.path.exists(engine.engine_python):
        raise ValueError(f"{engine.engine_python}: Engine Python not found (Preferences > Add-ons > AnyLift)")
    return jobs.CommandJob([engine.engine_python, *argv], name=name, result=out)


def run_job(operator: bpy.types.Operator, job: Any, on_done: Callable[[str], str]) -> set[str]:
    """Start ``job``; ``on_done(path) -> info message`` runs on the main thread when it succeeds.

    Background mode runs synchronously and reports the outcome from the operator; otherwise the
    outcome reaches the status bar through ``anylift.job_message`` when the job ends.
    """
    synchronous = bpy.app.background
    outcome: dict[str, str] = {}

    def notify(message: str, level: str) -> None:
        if synchronous:
            return
        print(f"AnyLift: {message}", flush=True)
        try:
            bpy.ops.anylift.job_message(message=message, level=level)
        except (RuntimeError, AttributeError):
            pass  # an ERROR report raises here after reaching the status bar

    def succeeded(path: str) -> None:
        outcome["info"] = on_done(path)
        notify(outcome["info"], "INFO")

    def failed(message: str) -> None:
        outcome["error"] = message
        notify(message, "ERROR")

    def cancelled() -> None:
        outcome["cancelled"] = f"{job.name} cancelled"
        notify(outcome["cancelled"], "WARNING")

    jobs.start(job, on_success=succeeded, on_error=failed, on_cancel=cancelled, synchronous=synchronous)
    if not synchronous:
        operator.report({"INFO"}, f"{job.name} running in the background (see the AnyLift panel)")
        return {"FINISHED"}
    if "error" in outcome:
        operator.report({"ERROR"}, outcome["error"])
        return {"CANCELLED"}
    if "cancelled" in outcome:
        operator.report({"WARNING"}, outcome["cancelled"])
        return {"CANCELLED"}
    operator.report({"INFO"}, outcome.get("info", job.name))
    return {"FINISHED"}


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
        video = bpy.path.abspath(context.scene.anylift.video_path)
        problem = file_error(video, "video")
        if problem:
            self.report({"ERROR"}, problem)
            return {"CANCELLED"}
        out = output_path(video, "_keypoints.json")

        def in_process(progress, cancel) -> str:
            from anylift.io.keypoints import write_keypoints
            from anylift.video.detect import detect_keypoints

            kp = detect_keypoints(video, progress=progress, cancel=cancel)
            if cancel.is_set():
                raise jobs.JobCancelled("Detect Keypoints")
            write_keypoints(out, kp)
            return out

        argv = ["-m", "anylift.video.cli", "detect", video, "--out", out, "--progress", "jsonl"]
        try:
            job = make_video_job("Detect Keypoints", in_process, argv, out, engine_settings(context))
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

        return run_job(self, job, done)


classes = (ANYLIFT_OT_detect_keypoints,)
