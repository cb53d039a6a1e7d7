"""Lift: run the engine on the imported keypoints (+ camera) as a background job, then bake.

The engine runs in-process in a worker thread when ``anylift.pipeline`` imports inside this
Blender, else as ``<engine python> -m anylift.cli lift ... --progress jsonl`` (preferences:
``engine_mode``, ``engine_python``), both through :mod:`anylift_blender.engine`. The result is
written to ``<blend folder>/<keypoints stem>_anylift.npz`` when the file is saved, else to a
new temporary folder, then baked (:func:`anylift_blender.results.bake_result_file`) and its
uncertainty, when the result has ``keypoints3d_std``, applied to the armature
(:func:`anylift_blender.baking.uncertainty.apply_uncertainty`). Nothing in the scene changes before the
job succeeds; an error is reported and leaves the scene as it was.

In background mode the job runs synchronously inside ``execute`` (see :mod:`anylift_blender.jobs`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bpy

from .. import engine, jobs
from ..baking.result import name_by_person
from ..preferences import EngineSettings, engine_settings
from ._common import file_error, scene_ready


@dataclass(frozen=True)
class LiftRequest:
    """Everything a lift job needs, copied from the scene on the main thread.

    keypoints, camera (None: static), out: absolute paths; steps 0: the model's default.
    """

    keypoints: str
    camera: str | None
    out: str
    samples: int = 4
    steps: int = 0
    seed: int = 0
    method: str = "anylift"
    ground: bool = False
    person: int = -1  # track id of a several-people keypoints file; -1: the file's default person
    up: str = ""  # gravity override (``--up``): "", "camera" or "X,Y,Z"


def result_path(keypoints: str, person: int = -1) -> str:
    """Where Lift writes its result: beside the saved .blend, else in a fresh temporary folder
    (``<stem>_anylift.npz``, ``<stem>_anylift_<person>.npz`` for one person of several)."""
    suffix = f"_{person}" if person >= 0 else ""
    name = f"{Path(keypoints).stem or 'keypoints'}_anylift{suffix}.npz"
    if bpy.data.filepath:
        return str(Path(bpy.data.filepath).parent / name)
    return str(Path(tempfile.mkdtemp(prefix="anylift_")) / name)


def lift_command(request: LiftRequest, engine: EngineSettings) -> list[str]:
    """``anylift lift`` command line (``formats.md``) for ``engine.engine_python``."""
    argv = [engine.engine_python, "-m", "anylift.cli", "lift", request.keypoints, "--out", request.out]
    if request.camera:
        argv += ["--camera", request.camera]
    argv += ["--samples", str(request.samples), "--seed", str(request.seed), "--method", request.method]
    if request.steps > 0:
        argv += ["--steps", str(request.steps)]
    if request.ground:
        argv.append("--ground")
    if engine.checkpoint_path:
        argv += ["--checkpoint", engine.checkpoint_path]
    if engine.smpl_model_path:
        argv += ["--body-model", engine.smpl_model_path]
    if request.person >= 0:
        argv += ["--person", str(request.person)]
    if request.up:
        argv += ["--up", request.up]
    argv += ["--device", engine.device, "--progress", "jsonl"]
    return argv


def _lift_in_process(request: LiftRequest, engine: EngineSettings, warnings: list[str]):
    def run(progress, cancel) -> str:
        from anylift.io.cameras import read_camera
        from anylift.io.motion import write_motion
        from anylift.io.people import select_person
        from anylift.lifting.checks import check_result
        from anylift.lifting.gravity import parse_up
        from anylift.pipeline import lift_with_report

        # Any keypoints file; of several people the one asked for (or the file's default).
        person = request.person if request.person >= 0 else None
        keypoints, _, people = select_person(request.keypoints, person)
        camera = read_camera(request.camera) if request.camera else None
        report = lift_with_report(
            keypoints,
            camera,
            checkpoint=engine.checkpoint_path or None,
            body_model=engine.smpl_model_path or None,
            samples=request.samples,
            steps=request.steps or None,
            seed=request.seed,
            method=request.method,
            ground=request.ground,
            up=parse_up(request.up or None),
            frame_times=people.frame_times,
            device=engine.device,
            progress=progress,
            cancel=cancel,
        )
        if cancel.is_set():
            raise jobs.JobCancelled("Lift")
        write_motion(request.out, report.motion)
        warnings.extend(" ".join(w.split()) for w in [*report.warnings, *check_result(report.motion)])
        return request.out

    return run


def make_lift_job(request: LiftRequest, settings: EngineSettings) -> Any:
    """The job that writes ``request.out`` and returns its path (:func:`anylift_blender.engine.make_job`).

    Raises:
        ValueError: no way to reach the engine (message says which preference to set).
    """
    argv = lift_command(request, settings)[1:]
    warnings: list[str] = []
    job = engine.make_job(
        "Lift", engine.LIFT, _lift_in_process(request, settings, warnings), argv, request.out, settings
    )
    if isinstance(job, jobs.FunctionJob):  # in-process: the lift's warnings land in the job's list
        job.warnings = warnings
    return job


def bake_lifted(scene: bpy.types.Scene, path: str) -> Any:
    """Bake the result at ``path`` into ``scene`` (main thread); its uncertainty shows too."""
    from ..results import bake_result_file, options_from_scene

    scene.anylift.result_path = path
    return bake_result_file(scene, path, options_from_scene(scene))


class ANYLIFT_OT_lift(bpy.types.Operator):
    """Lift the imported 2D keypoints to 3D SMPL motion (runs in the background), then bake it"""

    bl_idname = "anylift.lift"
    bl_label = "Lift"
    bl_options = {"REGISTER"}  # noqa: RUF012 - Blender reads a set

    person: bpy.props.IntProperty(
        name="Person", default=-1, min=-1, description="Track id to lift (-1: the file's default person)"
    )

    @classmethod
    def poll(cls, context):
        if not scene_ready(cls, context):
            return False
        settings = context.scene.anylift
        if not settings.keypoints_path:
            cls.poll_message_set("No keypoints yet: import 2D keypoints first")
            return False
        if jobs.is_running():
            cls.poll_message_set("A job is already running: wait for it or cancel it")
            return False
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode to lift")
            return False
        return True

    def execute(self, context):
        scene = context.scene
        settings = scene.anylift
        keypoints = bpy.path.abspath(settings.keypoints_path)
        camera = bpy.path.abspath(settings.camera_path) if settings.camera_path else None
        problem = file_error(keypoints, "keypoints") or (camera and file_error(camera, "camera"))
        if problem:
            self.report({"ERROR"}, problem)
            return {"CANCELLED"}
        request = LiftRequest(
            keypoints=keypoints,
            camera=camera,
            out=result_path(keypoints, self.person),
            samples=settings.samples,
            steps=settings.steps,
            seed=settings.seed,
            method=settings.method,
            ground=settings.ground,
            person=self.person,
            up=settings.up_override.strip(),
        )
        try:
            job = make_lift_job(request, engine_settings(context))
        except ValueError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}

        scene_name = scene.name

        def done(path: str) -> str:
            target = bpy.data.scenes.get(scene_name)
            if target is None:
                raise ValueError(f"scene '{scene_name}' was removed while lifting")
            baked = bake_lifted(target, path)
            if request.person >= 0:  # one armature per person, named by its track id
                name_by_person(baked)
            said = "".join(f" Warning: {w}" for w in job.warnings)  # the engine's one-line warnings
            return f"Lifted and baked onto '{baked.armature.name}' ({path}).{said}"

        return engine.run_for_operator(
            self, job, done, started="Lifting in the background (see the AnyLift panel)"
        )


class ANYLIFT_OT_cancel_job(bpy.types.Operator):
    """Stop the running AnyLift job; the scene stays as it was"""

    bl_idname = "anylift.cancel_job"
    bl_label = "Cancel"
    bl_options = {"REGISTER"}  # noqa: RUF012 - Blender reads a set

    @classmethod
    def poll(cls, context):
        if not jobs.is_running():
            cls.poll_message_set("No AnyLift job is running")
            return False
        return True

    def execute(self, context):
        jobs.cancel()
        self.report({"INFO"}, "Cancelling...")
        return {"FINISHED"}


class ANYLIFT_OT_job_message(bpy.types.Operator):
    """Show the outcome of a background job in the status bar and Info log"""

    bl_idname = "anylift.job_message"
    bl_label = "AnyLift Job Message"
    bl_options = {"INTERNAL"}  # noqa: RUF012 - Blender reads a set

    message: bpy.props.StringProperty()
    level: bpy.props.EnumProperty(items=[(k, k, "") for k in ("INFO", "WARNING", "ERROR")], default="INFO")

    def execute(self, context):
        self.report({self.level}, self.message)
        return {"FINISHED"}


def draw_job(layout: bpy.types.UILayout, context: bpy.types.Context) -> None:
    """Progress bar + Cancel while a job runs, else the last job's outcome (for a panel)."""
    props = getattr(context.window_manager, "anylift_job", None)
    if props is None:
        return
    if props.running:
        row = layout.row(align=True)
        row.progress(factor=props.progress, type="BAR", text=f"{props.name}: {props.stage}")
        row.operator(ANYLIFT_OT_cancel_job.bl_idname, text="", icon="CANCEL")
    elif props.message:
        layout.label(text=props.message, icon="ERROR" if props.message.startswith("Error") else "INFO")


classes = (jobs.ANYLIFT_PG_job, ANYLIFT_OT_lift, ANYLIFT_OT_cancel_job, ANYLIFT_OT_job_message)


@bpy.app.handlers.persistent
def _cancel_on_load(*_args) -> None:
    # Loading a file drops non-persistent timers: a job left behind would never be drained and
    # would block Lift; its result belongs to the old file anyway.
    jobs.shutdown()


def register() -> None:
    bpy.types.WindowManager.anylift_job = bpy.props.PointerProperty(type=jobs.ANYLIFT_PG_job)
    bpy.app.handlers.load_pre.append(_cancel_on_load)


def unregister() -> None:
    if _cancel_on_load in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.remove(_cancel_on_load)
    jobs.shutdown()
    if hasattr(bpy.types.WindowManager, "anylift_job"):
        del bpy.types.WindowManager.anylift_job
