"""The one bridge from the add-on to the engine (``anylift``): where it is, whether it runs here, jobs.

- **Where.** Installed as an extension, the engine package ships once, as ``lib/anylift`` inside
  the extension's folder; :func:`add_bundled_engine` appends ``lib`` to ``sys.path`` when
  ``anylift`` does not already import (a development checkout or the ``bpy`` module in this repo's
  venv have it installed). The light readers (numpy only) then import inside any Blender.
- **Data.** :func:`data_dir` is where the add-on and the engine write (proxy body, Engine Python):
  ``bpy.utils.extension_path_user(__package__)`` for an extension (removed with it), else
  ``$ANYLIFT_CACHE`` or ``~/.cache/anylift``. :func:`export_cache_env` sets ``$ANYLIFT_CACHE`` to it
  so the engine, which never imports bpy, writes there too, in-process or in the Engine Python.
- **In-process or not.** :func:`runs_in_process` is the one probe: it imports the modules a kind of
  work needs (:data:`LIFT`, :data:`VIDEO`, :data:`BODY`), once per session.
- **Jobs.** :func:`make_job` picks a :class:`~anylift_blender.runner.FunctionJob` (in-process, a
  worker thread) or a :class:`~anylift_blender.runner.CommandJob` (``<Engine Python> -m anylift...
  --progress jsonl``, exit code 0 ok / 2 user error / else a bug) from the preferences
  (``engine_mode``, ``engine_python``); :func:`run_for_operator` runs it for an operator (progress
  and Cancel in the panel, the outcome in the status bar); :func:`run_now` runs one to the end.
- **Status.** :func:`status` is the preferences' line of what is found (torch, smplx, checkpoints,
  body model), in Blender or in the Engine Python; the Engine Python itself is made by
  :mod:`anylift_blender.engine_env` (Set Up Engine).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import bpy

from . import engine_env, jobs
from .preferences import EngineSettings

#: Modules each kind of engine work imports; the first that fails decides "not in-process".
LIFT = ("torch", "anylift.pipeline")
VIDEO = ("anylift.video.detect", "mediapipe")
BODY = ("torch", "anylift.body.rest")

#: Folder of the bundled engine inside an installed extension (holds the ``anylift`` package).
BUNDLED_ENGINE = Path(__file__).resolve().parent / "lib"

_probes: dict[tuple[str, ...], bool] = {}


class EngineUnavailable(ValueError):
    """The engine is reachable neither in-process nor through the Engine Python (message says why)."""


def is_extension() -> bool:
    """True when the add-on runs as an extension (``bl_ext.<repo>.anylift``)."""
    return (__package__ or "").startswith("bl_ext.")


def add_bundled_engine() -> bool:
    """Append the extension's bundled engine folder to ``sys.path`` when ``anylift`` is not found.

    Returns True when it was added. Appended, not prepended: an installed engine wins.
    """
    if importlib.util.find_spec("anylift") is not None or not (BUNDLED_ENGINE / "anylift").is_dir():
        return False
    sys.path.append(str(BUNDLED_ENGINE))
    return True


def engine_root() -> Path | None:
    """The folder holding the ``anylift`` package this Blender sees (a ``sys.path`` entry), or None."""
    spec = importlib.util.find_spec("anylift")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve().parent


def data_dir(create: bool = True) -> Path:
    """Where the add-on and engine keep data: the extension's user folder, else the engine's cache."""
    if is_extension():
        return Path(bpy.utils.extension_path_user(__package__, create=create))
    env = os.environ.get("ANYLIFT_CACHE", "").strip()
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "anylift"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def export_cache_env() -> str:
    """Point ``$ANYLIFT_CACHE`` at :func:`data_dir` when running as an extension; return its value.

    Outside an extension the engine's own default (``$ANYLIFT_CACHE`` or ``~/.cache/anylift``) stays.
    """
    if is_extension():
        os.environ["ANYLIFT_CACHE"] = str(data_dir(create=True) / "cache")
    return os.environ.get("ANYLIFT_CACHE", "")


def runs_in_process(needs: Sequence[str]) -> bool:
    """True when every module in ``needs`` imports inside this Blender (probed once per session).

    Modules are imported, not just looked up: the extension ships ``anylift`` without its
    dependencies, so e.g. ``anylift.pipeline`` exists but fails on ``import torch``.
    """
    key = tuple(needs)
    if key not in _probes:
        try:
            for name in key:
                importlib.import_module(name)
        except ImportError:
            _probes[key] = False
        else:
            _probes[key] = True
    return _probes[key]


def forget_probes() -> None:
    """Probe again next time (after the engine was set up)."""
    _probes.clear()


def _describe(needs: Sequence[str]) -> str:
    return f"the anylift engine ({', '.join(needs)})"


def make_job(
    name: str,
    needs: Sequence[str],
    in_process: Callable[[Any, Any], Any],
    argv: Sequence[str],
    result: Any,
    settings: EngineSettings,
) -> Any:
    """The job for one piece of engine work, in-process or in the Engine Python.

    Args:
        name: shown to the artist ("Lift").
        needs: modules the in-process route imports (:data:`LIFT`, :data:`VIDEO`, :data:`BODY`).
        in_process: ``fn(progress, cancel) -> result`` run in a worker thread.
        argv: the engine command after the interpreter (``["-m", "anylift.cli", "lift", ...]``),
            which must print ``--progress jsonl`` lines and follow the 0/2/1 exit contract.
        result: what the command job returns on success (a value or a callable).
        settings: the preferences (:func:`anylift_blender.preferences.engine_settings`).

    Raises:
        EngineUnavailable: no way to reach the engine (the message names the preference to set).
    """
    mode = settings.engine_mode
    if mode == "in-process" or (mode == "auto" and runs_in_process(needs)):
        if not runs_in_process(needs):
            raise EngineUnavailable(f"{_describe(needs)} cannot be imported inside this Blender")
        return jobs.FunctionJob(in_process, name=name)
    python = settings.engine_python
    if not python:
        raise EngineUnavailable(
            f"{_describe(needs)} cannot be imported inside this Blender and no Engine Python is set "
            "(Preferences > Add-ons > AnyLift > Set Up Engine, or Engine Python)"
        )
    if not os.path.exists(python):
        raise EngineUnavailable(f"{python}: Engine Python not found (Preferences > Add-ons > AnyLift)")
    return jobs.CommandJob([python, *argv], name=name, result=result)


def run_now(job: Any) -> Any:
    """Run ``job`` to the end in the calling thread; its result, or :class:`jobs.JobFailed`."""
    runner = jobs.JobRunner(job)
    runner.run_blocking()
    if runner.state == "error":
        raise jobs.JobFailed(runner.message)
    if runner.state == "cancelled":
        raise jobs.JobCancelled(job.name)
    return runner.result


def notify(message: str, level: str) -> None:
    """Tell the artist after the operator has returned (the job ended in a timer)."""
    print(f"AnyLift: {message}", flush=True)
    try:
        bpy.ops.anylift.job_message(message=message, level=level)
    except (RuntimeError, AttributeError):
        pass  # an ERROR report raises here; it has reached the status bar and Info log already


def run_for_operator(
    operator: bpy.types.Operator,
    job: Any,
    on_done: Callable[[Any], str],
    started: str | None = None,
) -> set[str]:
    """Start ``job`` as the session's job; ``on_done(result) -> info message`` runs on the main thread.

    Background mode (``blender -b``) runs it synchronously and reports the outcome from the
    operator; otherwise it runs in a worker thread and the outcome reaches the status bar through
    ``anylift.job_message`` when it ends (``started`` is reported now). The scene is untouched
    unless ``on_done`` runs.
    """
    synchronous = bpy.app.background
    outcome: dict[str, str] = {}

    def tell(message: str, level: str) -> None:
        if not synchronous:
            notify(message, level)

    def succeeded(result: Any) -> None:
        outcome["info"] = on_done(result)
        tell(outcome["info"], "INFO")

    def failed(message: str) -> None:
        outcome["error"] = message
        tell(message, "ERROR")

    def cancelled() -> None:
        outcome["cancelled"] = f"{job.name} cancelled"
        tell(outcome["cancelled"], "WARNING")

    jobs.start(job, on_success=succeeded, on_error=failed, on_cancel=cancelled, synchronous=synchronous)
    if not synchronous:
        operator.report({"INFO"}, started or f"{job.name} running in the background (see the AnyLift panel)")
        return {"FINISHED"}
    if "error" in outcome:
        operator.report({"ERROR"}, outcome["error"])
        return {"CANCELLED"}
    if "cancelled" in outcome:
        operator.report({"WARNING"}, outcome["cancelled"])
        return {"CANCELLED"}
    operator.report({"INFO"}, outcome.get("info", job.name))
    return {"FINISHED"}


def engine_env_dir() -> Path:
    """Where Set Up Engine creates the Engine Python: ``<data dir>/engine-python``."""
    return data_dir() / "engine-python"


def status(settings: EngineSettings) -> tuple[bool, str]:
    """``(ready, line)``: one line of what is found where the engine would run now.

    Probes in-process, or asks the Engine Python (up to a few seconds: call it from a button, not
    from ``draw``). ``ready``: torch, smplx, the engine, its checkpoints and the body model found.
    """
    body = settings.smpl_model_path
    if settings.engine_mode != "subprocess" and runs_in_process(LIFT):
        return engine_env.status_line("in Blender", engine_env.engine_report(None), body)
    python = settings.engine_python
    if not python:
        return False, "Engine: torch is not in this Blender and no Engine Python is set: press Set Up Engine"
    where = f"Engine Python {python}"
    try:
        report = engine_env.engine_report(python)
    except OSError as exc:
        return engine_env.status_line(where, None, body, str(exc))
    return engine_env.status_line(where, report, body)
