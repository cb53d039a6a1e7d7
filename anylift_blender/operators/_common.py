"""Pieces shared by the operators (not an operator module: the collector skips ``_`` names)."""

from __future__ import annotations

import os

import bpy

from ..results import USER_ERRORS


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
