"""Running a long engine job off the calling thread, without Blender: the bpy-free half of the jobs.

A *job* is either a Python callable ``fn(progress, cancel) -> result`` (:class:`FunctionJob`,
run in a worker thread) or a command line whose stderr carries one JSON object per line,
``{"stage": str, "done": int, "total": int}`` (:class:`CommandJob`, run as a subprocess; this
is what ``anylift lift ... --progress jsonl`` prints; exit code 0 success, 2 user error whose
last stderr line is the message, anything else a failure with the last lines). The worker puts
events on a :class:`queue.Queue`; :meth:`JobRunner.poll`, called by whoever owns the UI (the
add-on's timer, :mod:`anylift_blender.jobs`), drains them and calls the callbacks there.

Cancel: a :class:`threading.Event` that a function job checks (the ``progress`` callback
also raises :class:`JobCancelled` once it is set, so a job that only reports progress stops
at its next report); a command job's process is terminated (then killed after a grace
period).

This module imports nothing from Blender (a test loads it by path in a plain Python).
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

ProgressFn = Callable[[str, int, int], None]


class JobCancelled(Exception):
    """The user cancelled the job (raised inside the worker, never shown as an error)."""


class JobFailed(Exception):
    """A job ended with an error; ``str(exc)`` is the one-line message for the artist."""


@dataclass(frozen=True)
class Progress:
    """One progress report: ``done`` of ``total`` units of ``stage``."""

    stage: str
    done: int
    total: int

    @property
    def fraction(self) -> float:
        """``done / total`` clipped to [0, 1]; 0 when ``total`` is not positive."""
        if self.total <= 0:
            return 0.0
        return min(max(self.done / self.total, 0.0), 1.0)


class FunctionJob:
    """``fn(progress, cancel) -> result`` run in the calling (worker) thread.

    ``progress(stage, done, total)`` is the engine's progress protocol; ``cancel`` is a
    :class:`threading.Event` the function should check between steps.
    """

    def __init__(self, fn: Callable[[ProgressFn, threading.Event], Any], *, name: str = "AnyLift job"):
        self.warnings: list[str] = []  # ``fn`` may append one-line warnings for the add-on to show
        self.fn = fn
        self.name = name

    def run(self, progress: ProgressFn, cancel: threading.Event) -> Any:
        return self.fn(progress, cancel)

    def __repr__(self) -> str:
        return f"FunctionJob({self.name!r})"


WARNING_PREFIX = "anylift: warning: "
"""How the engine's command line prints a warning (one line each, ``docs/formats.md``)."""


class CommandJob:
    """A command line run as a subprocess; progress is read from its stderr JSON lines.

    Args:
        argv: the command (no shell).
        name: shown to the artist.
        result: what :meth:`run` returns on exit code 0: a value, or a callable called then
            (e.g. one that reads the file the command wrote).
        env, cwd: passed to :class:`subprocess.Popen`.
        terminate_timeout: seconds between ``terminate()`` and ``kill()`` on cancel.

    Exit code 2 is the engine's "user error": its last stderr line (``anylift: error: ...``)
    becomes the message. Any other non-zero code is reported with the last stderr lines.
    stdout is discarded. ``anylift: warning: ...`` lines are kept in :attr:`warnings` (the text
    after the prefix), for the add-on to show.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str = "AnyLift command",
        result: Any = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        terminate_timeout: float = 3.0,
    ):
        self.argv = [str(a) for a in argv]
        self.name = name
        self.result = result
        self.env = env
        self.cwd = cwd
        self.terminate_timeout = terminate_timeout
        self.warnings: list[str] = []

    def run(self, progress: ProgressFn, cancel: threading.Event) -> Any:
        self.warnings = []
        try:
            proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
                env=self.env,
                cwd=self.cwd,
            )
        except OSError as exc:
            raise JobFailed(f"{self.name}: cannot start '{self.argv[0]}': {exc}") from exc

        finished = threading.Event()

        def watch_cancel() -> None:
            # Reading stderr blocks this job's thread, so the cancel has to come from aside.
            while not finished.wait(0.05):
                if cancel.is_set():
                    proc.terminate()
                    try:
                        proc.wait(self.terminate_timeout)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                    return

        watcher = threading.Thread(target=watch_cancel, name=f"{self.name} cancel", daemon=True)
        watcher.start()
        tail: deque[str] = deque(maxlen=12)
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                report = _parse_progress_line(line)
                if line.startswith(WARNING_PREFIX):
                    self.warnings.append(line[len(WARNING_PREFIX) :].strip())
                    continue
                if report is None:
                    if line.strip():
                        tail.append(line.rstrip())
                    continue
                if not cancel.is_set():
                    progress(*report)
            code = proc.wait()
        finally:
            finished.set()
            watcher.join()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if cancel.is_set():
            raise JobCancelled(self.name)
        if code == 2:
            raise JobFailed(tail[-1] if tail else f"{self.name}: user error (exit code 2)")
        if code != 0:
            detail = " | ".join(list(tail)[-3:]) or "no message"
            raise JobFailed(f"{self.name} failed (exit code {code}): {detail}")
        return self.result() if callable(self.result) else self.result

    def __repr__(self) -> str:
        return f"CommandJob({self.name!r}, {self.argv!r})"


def _parse_progress_line(line: str) -> tuple[str, int, int] | None:
    """``(stage, done, total)`` from a JSON progress line, ``None`` for any other line."""
    text = line.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        obj = json.loads(text)
        return str(obj["stage"]), int(obj["done"]), int(obj["total"])
    except (ValueError, KeyError, TypeError):
        return None


def error_message(exc: BaseException) -> str:
    """One line for the artist: the engine's own message for its errors, else type + text."""
    if isinstance(exc, JobFailed) or _is_anylift_error(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _is_anylift_error(exc: BaseException) -> bool:
    # The engine may be absent in this Blender; compare by class path, not by import.
    return any(cls.__module__.startswith("anylift.") for cls in type(exc).__mro__)


class JobRunner:
    """Runs one job and turns its events into callbacks on the thread that calls :meth:`poll`.

    Args:
        job: a :class:`FunctionJob` or :class:`CommandJob` (anything with ``run(progress,
            cancel)`` and ``name``).
        on_success: ``f(result)``, called on the main thread when the job returns.
        on_error: ``f(message)``, called when it raises (also when ``on_success`` raises).
        on_cancel: ``f()``, called when it stopped because of :meth:`cancel`.
        on_progress: ``f(Progress)``, called for each report drained.

    ``state`` goes ``"pending"`` -> ``"running"`` -> ``"done" | "error" | "cancelled"``;
    ``result``, ``message`` (error text) and ``progress`` (last :class:`Progress`) are kept.
    """

    def __init__(
        self,
        job: Any,
        *,
        on_success: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_cancel: Callable[[], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ):
        self.job = job
        self.on_success = on_success
        self.on_error = on_error
        self.on_cancel = on_cancel
        self.on_progress = on_progress
        self.cancel_event = threading.Event()
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.state = "pending"
        self.result: Any = None
        self.message = ""
        self.progress: Progress | None = None
        self._thread: threading.Thread | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "error", "cancelled")

    def _report(self, stage: str, done: int, total: int) -> None:
        if self.cancel_event.is_set():
            raise JobCancelled(self.job.name)
        self.events.put(("progress", Progress(str(stage), int(done), int(total))))

    def _work(self) -> None:
        try:
            result = self.job.run(self._report, self.cancel_event)
        except BaseException as exc:
            if self.cancel_event.is_set() or isinstance(exc, JobCancelled):
                self.events.put(("cancelled", None))
            else:
                if not isinstance(exc, JobFailed) and not _is_anylift_error(exc):
                    traceback.print_exception(exc, file=sys.stderr)
                self.events.put(("error", error_message(exc)))
        else:
            if self.cancel_event.is_set():
                self.events.put(("cancelled", None))
            else:
                self.events.put(("done", result))

    def start(self) -> None:
        """Run the job in a daemon worker thread; call :meth:`poll` to collect its events."""
        if self.state != "pending":
            raise RuntimeError(f"job {self.job.name!r} was already started")
        self.state = "running"
        self._thread = threading.Thread(target=self._work, name=self.job.name, daemon=True)
        self._thread.start()

    def run_blocking(self) -> None:
        """Run the job in the calling thread and deliver every callback before returning."""
        if self.state != "pending":
            raise RuntimeError(f"job {self.job.name!r} was already started")
        self.state = "running"
        # Progress still goes through the queue so both modes share one delivery path;
        # drain it as it comes so a long synchronous job prints as it goes.
        outer = self._report

        def report(stage: str, done: int, total: int) -> None:
            outer(stage, done, total)
            self.poll()

        self._report = report  # type: ignore[method-assign]
        try:
            self._work()
        finally:
            self._report = outer  # type: ignore[method-assign]
        self.poll()

    def cancel(self) -> None:
        """Ask the job to stop; the ``cancelled`` state arrives through :meth:`poll`."""
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker thread ends (tests, shutdown); True if it ended."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def poll(self) -> bool:
        """Drain the queued events, calling the callbacks; True once the job has finished."""
        while True:
            try:
                kind, payload = self.events.get_nowait()
            except queue.Empty:
                return self.finished
            if kind == "progress":
                self.progress = payload
                if self.on_progress is not None:
                    self.on_progress(payload)
            elif kind == "done":
                self.result = payload
                try:
                    if self.on_success is not None:
                        self.on_success(payload)
                except Exception as exc:
                    traceback.print_exception(exc, file=sys.stderr)
                    self._fail(error_message(exc))
                else:
                    self.state = "done"
            elif kind == "error":
                self._fail(payload)
            elif kind == "cancelled":
                self.state = "cancelled"
                if self.on_cancel is not None:
                    self.on_cancel()

    def _fail(self, message: str) -> None:
        self.state = "error"
        self.message = message
        if self.on_error is not None:
            self.on_error(message)
