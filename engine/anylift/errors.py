"""Errors a user can cause, and the one exception type that reports them.

Every reader, the pipeline and the command line raise :class:`InputError` for problems the
user can fix (bad file, wrong shapes, missing model file...). Its message names the file,
the field and what was expected, so the command line can print it on one line and exit 2,
and the Blender add-on can show it with ``self.report({'ERROR'}, ...)``.
"""

from __future__ import annotations

import os

# Longest text kept from each part of a message (path, field, reason, expected, fix): a file
# holding a 5,000-character value must not make a 5,000-character error line.
MAX_PART_CHARS = 240


def clip_text(text: str, limit: int = MAX_PART_CHARS, *, keep_end: bool = False) -> str:
    """``text`` cut to at most ``limit`` characters with ``...`` where it was cut.

    ``keep_end`` keeps the end instead of the start (for paths: the file name matters most).
    """
    text = str(text)
    if len(text) <= limit:
        return text
    if keep_end:
        return "..." + text[-(limit - 3) :]
    return text[: limit - 3] + "..."


class AnyLiftError(Exception):
    """Base class of every error the engine raises on purpose."""


class InputError(AnyLiftError):
    """A problem with the user's input: a file, an argument, a model file.

    Args:
        message: what is wrong, in words.
        path: the file concerned (shown first), if any.
        field: the field inside the file (e.g. ``keypoints[3][5]`` or ``intrinsics.fx``).
        expected: what was expected instead (e.g. ``"an array of shape (T, 17, 3)"``).
        fix: how the user can fix it, when that is not obvious from ``expected``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike | None = None,
        field: str | None = None,
        expected: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.path = None if path is None else os.fspath(path)
        self.field = field
        self.expected = expected
        self.fix = fix
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        # Every part is clipped, so a message is at most about 5 x MAX_PART_CHARS long.
        where = ""
        if self.path is not None:
            where = f"{clip_text(self.path, keep_end=True)}: "
        if self.field is not None:
            where += f"field '{clip_text(self.field)}': "
        text = where + clip_text(self.reason)
        if self.expected is not None:
            text += f" (expected {clip_text(self.expected)})"
        if self.fix is not None:
            text += f". {clip_text(self.fix)}"
        return text


class CheckpointError(InputError):
    """A model checkpoint that is missing, corrupt, or does not fit (skeleton, version)."""
