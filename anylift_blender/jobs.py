"""Long engine work without freezing Blender's UI: the add-on's side of :mod:`.runner`.

The jobs themselves (:class:`FunctionJob`, :class:`CommandJob`) and :class:`JobRunner` live in the
bpy-free :mod:`anylift_blender.runner` (re-exported here). This module holds the UI glue: the one
job of the session (:func:`start`, :func:`current`, :func:`cancel`, :func:`shutdown`), drained on
the main thread by a ``bpy.app.timers`` timer that updates the progress shown to the artist and
calls the finishing callbacks (which may touch ``bpy``, e.g. bake the result).

In background mode (``bpy.app.background``) timers never fire, so :func:`start` runs the job
synchronously in the calling thread, through the same callbacks.

Progress shown: ``window_manager.progress_begin/update/end`` (the cursor counter) and the
``WindowManager.anylift_job`` property group (:class:`ANYLIFT_PG_job`: ``running``,
``stage``, ``progress`` 0..1, ``message``) that a panel draws with ``layout.progress``; the
group is registered and attached by :mod:`anylift_blender.operators.lift`. Only one job runs
at a time (:func:`current`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bpy

from .runner import (  # noqa: F401 - the job types are used as jobs.FunctionJob etc.
    CommandJob,
    FunctionJob,
    JobCancelled,
    JobFailed,
    JobRunner,
    Progress,
    ProgressFn,
    error_message,
)

#: Seconds between two drains of the event queue by the timer.
POLL_INTERVAL = 0.1


# --- the one job of this Blender session, shown in the UI --------------------------------

_current: JobRunner | None = None


class ANYLIFT_PG_job(bpy.types.PropertyGroup):
    """Transient job state on the WindowManager, for the panel's progress bar."""

    running: bpy.props.BoolProperty(name="Running", default=False)
    name: bpy.props.StringProperty(name="Job", default="")
    stage: bpy.props.StringProperty(name="Stage", default="")
    progress: bpy.props.FloatProperty(name="Progress", min=0.0, max=1.0, subtype="FACTOR")
    message: bpy.props.StringProperty(name="Message", default="", description="Outcome of the last job")


def shutdown() -> None:
    """Cancel the running job and stop the timer (add-on unregister, file load)."""
    global _current
    runner = current()
    if runner is not None:
        runner.cancel()
        runner.wait(5.0)
    _current = None
    if bpy.app.timers.is_registered(_tick):
        bpy.app.timers.unregister(_tick)


def current() -> JobRunner | None:
    """The job running now, or None."""
    return _current if _current is not None and not _current.finished else None


def is_running() -> bool:
    return current() is not None


def cancel() -> bool:
    """Cancel the running job; False when there is none."""
    runner = current()
    if runner is None:
        return False
    runner.cancel()
    return True


def _job_props() -> Any:
    wm = bpy.context.window_manager
    return getattr(wm, "anylift_job", None) if wm is not None else None


def _redraw() -> None:
    wm = bpy.context.window_manager
    for window in getattr(wm, "windows", ()):
        for area in window.screen.areas:
            if area.type in {"VIEW_3D", "PROPERTIES"}:
                area.tag_redraw()


def _show_progress(runner: JobRunner, progress: Progress) -> None:
    props = _job_props()
    if props is not None:
        props.stage = f"{progress.stage} {progress.done}/{progress.total}"
        props.progress = progress.fraction
    wm = bpy.context.window_manager
    if wm is not None and not bpy.app.background:
        wm.progress_update(progress.fraction)
    if bpy.app.background:
        print(f"AnyLift: {progress.stage} {progress.done}/{progress.total}", flush=True)
    _redraw()


def _end_ui(runner: JobRunner, message: str) -> None:
    props = _job_props()
    if props is not None:
        props.running = False
        props.stage = ""
        props.progress = 0.0
        props.message = message
    wm = bpy.context.window_manager
    if wm is not None and not bpy.app.background:
        wm.progress_end()
    _redraw()


def start(
    job: Any,
    *,
    on_success: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    on_cancel: Callable[[], None] | None = None,
    synchronous: bool | None = None,
) -> JobRunner:
    """Start ``job`` as this session's job and return its runner.

    Interactive Blender: a worker thread plus a ``bpy.app.timers`` timer that drains its
    events every :data:`POLL_INTERVAL` seconds. Background mode (or ``synchronous=True``):
    runs to the end before returning. The callbacks run on the main thread either way, after
    the progress UI has been updated; ``on_error`` gets the one-line message.

    Raises:
        RuntimeError: when a job is already running.
    """
    global _current
    if is_running():
        raise RuntimeError(f"a job is already running: {_current.job.name}")  # type: ignore[union-attr]
    if synchronous is None:
        synchronous = bpy.app.background

    def succeeded(result: Any) -> None:
        if on_success is not None:
            on_success(result)
        _end_ui(runner, f"{job.name}: done")

    def failed(message: str) -> None:
        _end_ui(runner, f"Error: {message}")
        if on_error is not None:
            on_error(message)

    def cancelled() -> None:
        _end_ui(runner, f"{job.name}: cancelled")
        if on_cancel is not None:
            on_cancel()

    runner = JobRunner(
        job,
        on_success=succeeded,
        on_error=failed,
        on_cancel=cancelled,
        on_progress=lambda p: _show_progress(runner, p),
    )
    props = _job_props()
    if props is not None:
        props.running = True
        props.name = job.name
        props.stage = "starting"
        props.progress = 0.0
        props.message = ""
    _current = runner
    if synchronous:
        runner.run_blocking()
        return runner
    wm = bpy.context.window_manager
    if wm is not None:
        wm.progress_begin(0.0, 1.0)
    runner.start()
    if not bpy.app.timers.is_registered(_tick):
        bpy.app.timers.register(_tick, first_interval=POLL_INTERVAL)
    return runner


def _tick() -> float | None:
    """The timer: drain the current job's events on the main thread; stop when it ends."""
    runner = _current
    if runner is None:
        return None
    if runner.poll():
        return None
    return POLL_INTERVAL
