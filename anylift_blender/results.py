"""Read a motion result and bake it: shared by the Bake / Import Result operators and batch.py.

Everything that can fail on the user's input (reading the file, reaching the body model) happens
before ``bpy.data`` is touched; :func:`~.baking.result.bake_motion` then builds the scene
all-or-nothing.
"""

from __future__ import annotations

import os

import bpy

from .baking.body import BodyModelError, load_body_rest
from .baking.result import Baked, BakeError, BakeOptions, bake_motion
from .preferences import EngineSettings, engine_settings

# The exceptions a user can cause while baking; their message is what the add-on reports.
USER_ERRORS: tuple[type[BaseException], ...] = (BodyModelError, BakeError, OSError)
try:
    from anylift.errors import InputError

    USER_ERRORS = (InputError, *USER_ERRORS)
except ImportError:  # engine not importable inside this Blender: reading results needs it
    InputError = None


def read_result(path: str | os.PathLike):
    """:class:`anylift.io.motion.Motion` from ``path`` (InputError naming file/field when malformed)."""
    try:
        from anylift.io.motion import read_motion
    except ImportError as exc:
        raise BodyModelError(
            "reading results needs the anylift engine (numpy only) on Blender's Python path; install it "
            "or run Blender from the repository's environment"
        ) from exc
    return read_motion(path)


def options_from_scene(scene: bpy.types.Scene) -> BakeOptions:
    """Bake options from ``scene.anylift`` (image size from the imported footage when known)."""
    s = scene.anylift
    size = (s.image_width, s.image_height) if s.image_width > 0 and s.image_height > 0 else None
    return BakeOptions(
        body_mesh=s.body_mesh,
        smoothing=s.smoothing,
        foot_lock=s.foot_lock,
        foot_speed=s.foot_speed,
        object_mesh=s.object_mesh,
        image_size=size,
    )


def bake_result_file(
    scene: bpy.types.Scene,
    path: str | os.PathLike,
    options: BakeOptions | None = None,
    settings: EngineSettings | None = None,
) -> Baked:
    """Read ``path`` and bake it into ``scene``; raises :data:`USER_ERRORS`, scene unchanged."""
    motion = read_result(path)
    body = load_body_rest(motion.betas, motion.body_model, settings or engine_settings())
    return bake_motion(scene, motion, body, options or BakeOptions())
