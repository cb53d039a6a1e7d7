"""Set Up Engine and Check Engine: the Engine Python made from the preferences, and what is found.

Set Up Engine creates the Engine Python (:func:`anylift_blender.engine_env.make_setup_job`) under
the add-on's data folder (:func:`anylift_blender.engine.engine_env_dir`) as a background job with
progress and Cancel, downloading packages only when Blender allows online access
(Preferences > System > Network); on success it becomes the ``engine_python`` preference.
Check Engine refreshes the status line (:func:`anylift_blender.engine.status`).
"""

from __future__ import annotations

import sys

import bpy

from .. import engine, engine_env, jobs
from ..preferences import engine_settings

#: The last ``(ready, line)`` (shown by the preferences; None: not checked yet this session).
_status: dict[str, tuple[bool, str] | None] = {"last": None}


def last_status() -> tuple[bool, str] | None:
    return _status["last"]


def refresh_status(context=None) -> tuple[bool, str]:
    _status["last"] = engine.status(engine_settings(context))
    return _status["last"]


def _preferences(context):
    addon = context.preferences.addons.get(engine.__package__)
    return addon.preferences if addon is not None else None


class ANYLIFT_OT_setup_engine(bpy.types.Operator):
    """Create the Engine Python (torch, smplx, ...) in the add-on's data folder, downloading packages"""

    bl_idname = "anylift.setup_engine"
    bl_label = "Set Up Engine"
    bl_options = {"REGISTER"}  # noqa: RUF012 - Blender reads a set

    @classmethod
    def poll(cls, context):
        if jobs.is_running():
            cls.poll_message_set("A job is already running: wait for it or cancel it")
            return False
        return True

    def execute(self, context):
        if not bpy.app.online_access:
            self.report(
                {"ERROR"},
                "Online access is off: allow it in Preferences > System > Network to download the "
                "engine's packages, or set Engine Python to an interpreter that has them",
            )
            return {"CANCELLED"}
        root = engine.engine_root()
        if root is None:
            self.report({"ERROR"}, "the anylift engine package is not found: reinstall the extension")
            return {"CANCELLED"}
        env_dir = engine.engine_env_dir()
        job = engine_env.make_setup_job(env_dir, root, python=sys.executable)

        def done(python: str) -> str:
            prefs = _preferences(bpy.context)
            if prefs is not None:
                prefs.engine_python = python
            engine.forget_probes()
            return refresh_status()[1]

        return engine.run_for_operator(self, job, done, started=f"Setting up the engine in {env_dir}")


class ANYLIFT_OT_check_engine(bpy.types.Operator):
    """Look for the engine and what it needs (torch, smplx, checkpoints, body model)"""

    bl_idname = "anylift.check_engine"
    bl_label = "Check Engine"
    bl_options = {"REGISTER"}  # noqa: RUF012 - Blender reads a set

    def execute(self, context):
        ready, line = refresh_status(context)
        self.report({"INFO"} if ready else {"WARNING"}, line)
        return {"FINISHED"}


classes = (ANYLIFT_OT_setup_engine, ANYLIFT_OT_check_engine)
