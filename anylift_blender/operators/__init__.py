"""The add-on's operators, one per module (freemocap-style).

Every module in this package is imported automatically; a module takes part by defining

- ``classes``: a sequence of ``bpy.types`` subclasses to register (operators, property groups, ...);
  property groups are registered before everything else, whatever module they live in, so a
  ``PointerProperty`` in one module can name a group from another;
- optionally ``register()`` / ``unregister()``: called after all classes are registered /
  before any is unregistered, for what classes cannot do (attaching a ``PointerProperty`` to
  ``bpy.types.WindowManager``, removing a ``bpy.app.timers`` function, ...). ``unregister``
  must leave nothing behind.

A new operator module therefore needs no edit here. Modules are visited in name order.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import bpy


def modules() -> list[ModuleType]:
    """Every module of this package, imported, sorted by name."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def classes() -> list[type]:
    """The classes of every module, property groups first, otherwise in module then list order."""
    found = [cls for module in modules() for cls in getattr(module, "classes", ())]
    groups = [cls for cls in found if issubclass(cls, bpy.types.PropertyGroup)]
    return groups + [cls for cls in found if cls not in groups]


def register() -> None:
    for cls in classes():
        bpy.utils.register_class(cls)
    for module in modules():
        hook = getattr(module, "register", None)
        if callable(hook):
            hook()


def unregister() -> None:
    for module in reversed(modules()):
        hook = getattr(module, "unregister", None)
        if callable(hook):
            hook()
    for cls in reversed(classes()):
        if getattr(cls, "is_registered", False):
            bpy.utils.unregister_class(cls)
