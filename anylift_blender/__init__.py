"""AnyLift for Blender: world-grounded 3D SMPL motion from monocular dynamic-camera video.

The add-on is thin over the engine (``anylift``): operators import footage, keypoints and cameras,
run the Lift job, and bake results (armature ``SMPL``, body mesh, ``AnyLift Camera``, objects).
Everything that reaches the engine goes through :mod:`.engine`, which first makes the engine
bundled with the extension importable (before the modules below import ``anylift``).
Registration order: preferences, scene properties, operators (property groups first), panels;
unregistration is the reverse and leaves no classes, properties or timers behind.
"""

from __future__ import annotations

from . import engine

engine.add_bundled_engine()

from . import operators, panels, preferences, properties  # noqa: E402 - needs the engine on sys.path

_MODULES = (preferences, properties, operators, panels)


def register() -> None:
    engine.export_cache_env()
    for module in _MODULES:
        module.register()


def unregister() -> None:
    for module in reversed(_MODULES):
        module.unregister()
