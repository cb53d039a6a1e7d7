"""All-or-nothing scene edits: on an exception, remove every datablock created and restore settings.

Operators validate and read everything before touching ``bpy.data``; this is the second line of
defence for failures that can only happen while building (a body model that fails mid-way...).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import bpy

# Collections of bpy.data an AnyLift operation may add to, removal order (users before used).
COLLECTIONS = (
    "objects",
    "meshes",
    "armatures",
    "cameras",
    "grease_pencils",
    "grease_pencils_v3",  # Blender 4.3-4.5 only
    "materials",
    "actions",
    "movieclips",
    "images",
    "collections",
)
COLLECTIONS = tuple(name for name in COLLECTIONS if hasattr(bpy.data, name))


def datablock_names() -> dict[str, set[str]]:
    """{collection: set of datablock names} over :data:`COLLECTIONS`."""
    return {name: {block.name for block in getattr(bpy.data, name)} for name in COLLECTIONS}


def _scene_state(scene: bpy.types.Scene) -> dict:
    render = scene.render
    return {
        "fps": render.fps,
        "fps_base": render.fps_base,
        "frame_start": scene.frame_start,
        "frame_end": scene.frame_end,
        "resolution_x": render.resolution_x,
        "resolution_y": render.resolution_y,
        "resolution_percentage": render.resolution_percentage,
        "pixel_aspect_x": render.pixel_aspect_x,
        "pixel_aspect_y": render.pixel_aspect_y,
        "camera": scene.camera.name if scene.camera else None,
    }


def _restore_scene(scene: bpy.types.Scene, state: dict) -> None:
    render = scene.render
    for key in ("fps", "fps_base", "resolution_x", "resolution_y", "resolution_percentage"):
        setattr(render, key, state[key])
    render.pixel_aspect_x = state["pixel_aspect_x"]
    render.pixel_aspect_y = state["pixel_aspect_y"]
    scene.frame_start = state["frame_start"]
    scene.frame_end = state["frame_end"]
    scene.camera = bpy.data.objects.get(state["camera"]) if state["camera"] else None


@contextlib.contextmanager
def scene_transaction(scene: bpy.types.Scene) -> Iterator[None]:
    """Undo this block's additions to ``bpy.data`` and its scene settings if it raises."""
    before = datablock_names()
    state = _scene_state(scene)
    try:
        yield
    except BaseException:
        if bpy.context.mode != "OBJECT" and bpy.context.view_layer.objects.active is not None:
            with contextlib.suppress(RuntimeError):
                bpy.ops.object.mode_set(mode="OBJECT")
        for name in COLLECTIONS:
            data = getattr(bpy.data, name)
            for block in [b for b in data if b.name not in before[name]]:
                with contextlib.suppress(ReferenceError, RuntimeError):
                    data.remove(block)
        _restore_scene(scene, state)
        raise
