"""Preview: render the baked result from the input camera, the side and above (depth at a glance)."""

from __future__ import annotations

import os
import tempfile

import bpy
from bpy.props import IntProperty, StringProperty

from ..baking.armature import baked_armature
from ..preview import render_preview, write_png
from ._common import report_failure, scene_ready, user_errors

IMAGE_NAME = "AnyLift Preview"


def default_path() -> str:
    """``<blend name>_preview.png`` beside the saved .blend, else in the temporary folder."""
    if bpy.data.filepath:
        stem = os.path.splitext(bpy.data.filepath)[0]
        return f"{stem}_preview.png"
    return os.path.join(tempfile.gettempdir(), "anylift_preview.png")


class ANYLIFT_OT_preview(bpy.types.Operator):
    """Render the baked result through the input camera, from the side and from above, so that an
    error in depth (the person too near or too far) shows at a glance; the image opens as 'AnyLift Preview'"""

    bl_idname = "anylift.preview"
    bl_label = "Depth Preview"
    bl_options = {"REGISTER"}  # noqa: RUF012 - Blender reads a set

    frames: IntProperty(name="Frames", default=4, min=1, max=12, description="Columns, spread over the clip")
    width: IntProperty(name="Width", default=360, min=64, max=1920, description="Pixels per column")
    filepath: StringProperty(
        name="File", subtype="FILE_PATH", description="PNG to write (default: beside the .blend)"
    )

    @classmethod
    def poll(cls, context):
        if not scene_ready(cls, context, to="render a preview"):
            return False
        if baked_armature(context.scene) is None:
            cls.poll_message_set(
                "Nothing baked yet (or several people: select one): Bake or Import Result first"
            )
            return False
        return True

    def execute(self, context):
        path = bpy.path.abspath(self.filepath) if self.filepath else default_path()
        try:
            image = render_preview(context.scene, frames=self.frames, width=self.width, caption="lifted")
            folder = os.path.dirname(path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            write_png(image, path)
        except (*user_errors(), OSError) as exc:
            return report_failure(self, exc)
        old = bpy.data.images.get(IMAGE_NAME)
        if old is not None:
            bpy.data.images.remove(old)
        loaded = bpy.data.images.load(path)
        loaded.name = IMAGE_NAME
        self.report({"INFO"}, f"Preview (input, side and top views) written to {path}")
        return {"FINISHED"}


classes = (ANYLIFT_OT_preview,)
