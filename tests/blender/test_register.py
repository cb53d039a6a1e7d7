"""Registering and unregistering the add-on, twice in a row, leaves nothing behind."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import bpy

from anylift.lifting.options import DEFAULT_SAMPLES


def _addon_modules():
    import anylift_blender

    names = [info.name for info in pkgutil.walk_packages(anylift_blender.__path__, "anylift_blender.")]
    # batch.py is a script entry (parses sys.argv at import under Blender), not part of the add-on.
    return [importlib.import_module(name) for name in names if not name.endswith(".batch")]


def _timers_registered() -> list[str]:
    found = []
    for module in _addon_modules():
        for name, value in vars(module).items():
            if inspect.isfunction(value) and bpy.app.timers.is_registered(value):
                found.append(f"{module.__name__}.{name}")
    return found


def test_register_twice_leaves_nothing(clean_scene):
    import anylift_blender
    from anylift_blender import operators, panels, preferences, properties

    every_class = [*preferences.classes, *properties.classes, *operators.classes(), *panels.classes]
    assert len(every_class) >= 8
    assert not any(cls.is_registered for cls in every_class)
    for _ in range(2):
        anylift_blender.register()
        assert all(cls.is_registered for cls in every_class)
        assert {"anylift.import_video", "anylift.bake", "anylift.import_result"} <= {
            cls.bl_idname for cls in operators.classes() if hasattr(cls, "bl_idname")
        }
        assert clean_scene.anylift.smoothing == 0.0
        # A lift from the panel uses the engine's defaults unless the user changes them.
        assert (clean_scene.anylift.samples, clean_scene.anylift.steps) == (DEFAULT_SAMPLES, 0)
        anylift_blender.unregister()
        assert not any(cls.is_registered for cls in every_class)
        assert not hasattr(bpy.types.Scene, "anylift")
        assert not hasattr(bpy.types.WindowManager, "anylift")
        assert not hasattr(bpy.types.WindowManager, "anylift_job")
        assert _timers_registered() == []


def test_property_groups_register_first():
    from anylift_blender import operators

    classes = operators.classes()
    kinds = [issubclass(cls, bpy.types.PropertyGroup) for cls in classes]
    # Once a non-group class appears no group may follow.
    assert kinds == sorted(kinds, reverse=True)


def test_operators_follow_conventions():
    """Every scene-changing operator can be undone and says why it is unavailable."""
    from anylift_blender import operators

    ops = [cls for cls in operators.classes() if issubclass(cls, bpy.types.Operator)]
    assert ops
    for cls in ops:
        assert cls.bl_idname.startswith("anylift."), cls
        assert cls.__name__.startswith("ANYLIFT_OT_"), cls
        if cls.bl_idname in {"anylift.import_video", "anylift.bake", "anylift.import_result"}:
            assert {"REGISTER", "UNDO"} <= set(cls.bl_options)
