"""Pieces shared by the operators (not an operator module: the collector skips ``_`` names)."""

from __future__ import annotations

import os

import bpy

from ..results import USER_ERRORS


def scene_ready(cls, context, *, to: str | None = None) -> bool:
    """The shared start of ``poll()``: the scene has AnyLift settings and, when ``to`` names the
    action, is in Object Mode (``poll_message_set`` says why not)."""
    if context.scene is None or not hasattr(context.scene, "anylift"):
        cls.poll_message_set("Needs a scene with AnyLift settings")
        return False
    if to is not None and context.mode != "OBJECT":
        cls.poll_message_set(f"Switch to Object Mode to {to}")
        return False
    return True


def file_error(path: str, what: str) -> str | None:
    """A message when ``path`` (already absolute) is not an existing file or folder, else None."""
    if not path:
        return f"no {what} file chosen"
    if not os.path.exists(path):
        return f"{path}: {what} file not found"
    return None


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions reported to the user (InputError, body model and bake errors, OS errors)."""
    return (*USER_ERRORS, RuntimeError, ValueError)


def report_failure(operator: bpy.types.Operator, exc: BaseException) -> set[str]:
    operator.report({"ERROR"}, str(exc) or type(exc).__name__)
    return {"CANCELLED"}
