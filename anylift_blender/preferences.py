"""Add-on preferences: the machine's paths and how the engine is reached.

How the engine reaches Blender (``engine_mode``):

- ``in-process``: ``import anylift`` inside Blender (works under the ``bpy`` module in this repo's
  virtual environment, or when the engine and torch are installed into Blender's Python);
- ``subprocess``: the engine runs in another interpreter, ``engine_python`` (e.g. this repo's
  ``.venv/bin/python``), where ``anylift`` is installed; used for lifting, detection and the body
  model; data comes back through files;
- ``auto`` (default): in-process when ``import anylift`` works, else the subprocess.

Light readers (keypoints, cameras, results) need only numpy and run in-process whenever the engine
package can be imported.

Engine set-up: the panel shows a status line of what is found (Check Engine) and a Set Up Engine
button that creates the Engine Python in the add-on's data folder, with progress
(:mod:`anylift_blender.operators.engine_setup`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import bpy
from bpy.props import EnumProperty, StringProperty


@dataclass(frozen=True)
class EngineSettings:
    """Plain copy of the preferences (defaults when the add-on was registered without addon_utils)."""

    smpl_model_path: str = ""
    checkpoint_path: str = ""
    engine_mode: str = "auto"
    engine_python: str = ""
    device: str = "cpu"


class ANYLIFT_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    smpl_model_path: StringProperty(
        name="SMPL Model",
        subtype="FILE_PATH",
        description="Official SMPL model file (.pkl/.npz); empty: the bundled proxy body",
    )
    checkpoint_path: StringProperty(
        name="Checkpoint", subtype="FILE_PATH", description="Lifting model checkpoint; empty: the default one"
    )
    engine_mode: EnumProperty(
        name="Engine",
        items=[
            ("auto", "Automatic", "In-process when the engine imports inside Blender, else a subprocess"),
            ("in-process", "In-Process", "Import the engine inside Blender's Python"),
            ("subprocess", "Subprocess", "Run the engine with the Engine Python interpreter"),
        ],
        default="auto",
    )
    engine_python: StringProperty(
        name="Engine Python",
        subtype="FILE_PATH",
        description="Python interpreter where the anylift engine is installed (e.g. .venv/bin/python)",
    )
    device: EnumProperty(
        name="Device",
        items=[("cpu", "CPU", ""), ("cuda", "CUDA", "NVIDIA GPU")],
        default="cpu",
    )

    def draw(self, context):
        from .operators.engine_setup import last_status
        from .operators.lift import draw_job

        layout = self.layout
        box = layout.box()
        found = last_status()
        if found is None:
            box.label(text="Engine: not checked yet (press Check Engine)", icon="QUESTION")
        else:
            box.label(text=found[1], icon="CHECKMARK" if found[0] else "ERROR")
        row = box.row(align=True)
        row.operator("anylift.check_engine", icon="VIEWZOOM")
        row.operator("anylift.setup_engine", icon="IMPORT")
        if not bpy.app.online_access:
            box.label(text="Set Up Engine downloads packages: allow online access (System > Network)")
        draw_job(box, context)
        layout.prop(self, "smpl_model_path")
        layout.prop(self, "checkpoint_path")
        layout.prop(self, "engine_mode")
        row = layout.row()
        row.enabled = self.engine_mode != "in-process"
        row.prop(self, "engine_python")
        layout.prop(self, "device")


def engine_settings(context: bpy.types.Context | None = None) -> EngineSettings:
    """The current preferences as :class:`EngineSettings`.

    Defaults apply when the add-on is not enabled through addon_utils (tests, batch). The
    environment variables ``ANYLIFT_SMPL_MODEL`` and ``ANYLIFT_ENGINE_PYTHON`` fill empty fields.
    """
    context = context or bpy.context
    addon = context.preferences.addons.get(__package__) if context.preferences else None
    prefs = addon.preferences if addon is not None else None
    if prefs is None:
        values = EngineSettings()
    else:
        values = EngineSettings(
            smpl_model_path=bpy.path.abspath(prefs.smpl_model_path),
            checkpoint_path=bpy.path.abspath(prefs.checkpoint_path),
            engine_mode=prefs.engine_mode,
            engine_python=bpy.path.abspath(prefs.engine_python),
            device=prefs.device,
        )
    return EngineSettings(
        smpl_model_path=values.smpl_model_path or os.environ.get("ANYLIFT_SMPL_MODEL", ""),
        checkpoint_path=values.checkpoint_path,
        engine_mode=values.engine_mode,
        engine_python=values.engine_python or os.environ.get("ANYLIFT_ENGINE_PYTHON", ""),
        device=values.device,
    )


classes = (ANYLIFT_AP_preferences,)


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(classes):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
