"""Progress reporting for long engine steps.

Engine functions take ``progress: Callable[[str, int, int], None] | None`` (stage name, done,
total) and ``cancel: threading.Event | None``. This module turns that callback into what a
front end shows: a bar per stage on a terminal, JSON lines for the Blender add-on's worker,
or nothing.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from anylift.errors import AnyLiftError

ProgressFn = Callable[[str, int, int], None]


class Cancelled(AnyLiftError):
    """Raised inside an engine step when its ``cancel`` event is set."""


def check_cancel(cancel: threading.Event | None) -> None:
    """Raise :class:`Cancelled` if ``cancel`` is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled by the user")


def report(progress: ProgressFn | None, stage: str, done: int, total: int) -> None:
    """Call ``progress`` if there is one."""
    if progress is not None:
        progress(stage, done, total)


class JsonLinesProgress:
    """Writes one ``{"stage", "done", "total"}`` JSON object per line (the add-on reads them)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.stream.write(json.dumps({"stage": stage, "done": int(done), "total": int(total)}) + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


class TerminalProgress:
    """One tqdm bar per stage, on stderr."""

    def __init__(self) -> None:
        self._bar = None
        self._stage: str | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if stage != self._stage:
            self.close()
            self._stage = stage
            self._bar = tqdm(total=total, desc=stage, leave=True, file=sys.stderr, dynamic_ncols=True)
        assert self._bar is not None
        self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._stage = None


def make_progress(mode: str = "auto") -> Callable[[str, int, int], None] | None:
    """Progress callback for a command line: ``auto`` (a bar on a terminal, quiet otherwise),
    ``bar``, ``jsonl`` or ``none``."""
    if mode == "jsonl":
        return JsonLinesProgress()
    if mode == "bar" or (mode == "auto" and sys.stderr.isatty()):
        return TerminalProgress()
    return None
