"""The Engine Python: a virtual environment with the engine's dependencies, made from the preferences.

:func:`make_setup_job` creates ``<data dir>/engine-python`` with Blender's own Python (``python -m
venv``), links the engine this Blender sees into it (a ``.pth`` file naming the folder that holds
``anylift``: the extension's bundled copy, so there is still one copy of the engine) and installs
:data:`REQUIREMENTS` one by one with pip, reporting ``(stage, done, total)`` progress and stopping
on Cancel. :func:`engine_report` says what an interpreter has (torch, smplx, the checkpoints);
:func:`status_line` turns that into the line the preferences show.

Nothing here imports Blender; the operators and the preferences panel call it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .runner import FunctionJob, JobCancelled, JobFailed

#: The engine's dependencies (pyproject.toml's ``[project] dependencies``; a test keeps them equal).
REQUIREMENTS = (
    "torch==2.13.0",
    "numpy>=1.26,<2",
    "scipy>=1.13,<1.18",
    "smplx==0.1.28",
    "opencv-python-headless>=4.9,<4.12",
    "tqdm>=4.66",
)

#: Name of the link file that puts the engine on the environment's path.
PTH_NAME = "anylift_engine.pth"

# Run by the interpreter being checked: versions from package metadata (nothing heavy imported).
_REPORT_CODE = r"""
import importlib.metadata as md, importlib.util as iu, json, os, sys
def version(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None
spec = iu.find_spec("anylift")
root = list(spec.submodule_search_locations)[0] if spec and spec.submodule_search_locations else None
ckpt = os.path.join(root, "checkpoints") if root else None
found = sorted(f for f in os.listdir(ckpt) if f.endswith(".pt")) if ckpt and os.path.isdir(ckpt) else []
print(json.dumps({
    "python": sys.version.split()[0],
    "anylift": root,
    "torch": version("torch"),
    "smplx": version("smplx"),
    "mediapipe": version("mediapipe"),
    "checkpoints": found,
}))
"""


def env_python(env_dir: str | os.PathLike) -> Path:
    """The interpreter of the virtual environment at ``env_dir``."""
    env_dir = Path(env_dir)
    return env_dir / "Scripts" / "python.exe" if os.name == "nt" else env_dir / "bin" / "python"


def _call(argv: Sequence[str], cancel: threading.Event, what: str) -> None:
    """Run ``argv`` to the end (terminated on ``cancel``); JobFailed with its last lines on failure."""
    try:
        proc = subprocess.Popen(
            [str(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    except OSError as exc:
        raise JobFailed(f"{what}: cannot start '{argv[0]}': {exc}") from exc
    tail: deque[str] = deque(maxlen=6)

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip():
                tail.append(line.strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while proc.poll() is None:
        if cancel.wait(0.1):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
            reader.join(5)
            raise JobCancelled(what)
    reader.join(5)
    if proc.returncode != 0:
        detail = " | ".join(list(tail)[-3:]) or "no output"
        raise JobFailed(f"{what} failed (exit code {proc.returncode}): {detail}")


def make_setup_job(
    env_dir: str | os.PathLike,
    engine_root: str | os.PathLike,
    requirements: Sequence[str] = REQUIREMENTS,
    python: str = sys.executable,
    pip_args: Sequence[str] = (),
) -> FunctionJob:
    """The job that creates the Engine Python at ``env_dir`` and returns its interpreter's path.

    Args:
        engine_root: the folder holding the ``anylift`` package (linked, not copied).
        requirements: pip requirement strings, installed one per step (the progress total).
        python: the interpreter that creates the environment (Blender's own).
        pip_args: extra pip arguments (e.g. an index URL).
    An existing environment is reused (a re-run installs what is missing); nothing else is touched.
    """
    env_dir = Path(env_dir)
    engine_root = Path(engine_root)

    def run(progress: Callable[[str, int, int], None], cancel: threading.Event) -> str:
        total = len(requirements) + 1
        target = env_python(env_dir)
        progress("create environment", 0, total)
        if not target.exists():
            _call([python, "-m", "venv", env_dir], cancel, "creating the Engine Python")
        site = subprocess.run(
            [target, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        (Path(site) / PTH_NAME).write_text(f"{engine_root}\n")
        for i, requirement in enumerate(requirements, start=1):
            progress(f"install {requirement}", i, total)
            argv = [
                target,
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                *pip_args,
                requirement,
            ]
            _call(argv, cancel, f"installing {requirement}")
        progress("done", total, total)
        return str(target)

    return FunctionJob(run, name="Set Up Engine")


def engine_report(python: str | None = None, timeout: float = 60.0) -> dict[str, Any]:
    """What an interpreter has: ``python``, ``anylift`` (folder), ``torch``/``smplx``/``mediapipe``
    versions (None: missing) and ``checkpoints`` (file names). ``python`` None: this one, in-process.

    Raises:
        OSError: the interpreter does not run or prints no report.
    """
    if python is None:
        import contextlib
        import io

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(_REPORT_CODE, "<engine report>", "exec"), {})
        return json.loads(buffer.getvalue())
    try:
        proc = subprocess.run([python, "-c", _REPORT_CODE], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise OSError(f"{python}: no answer in {timeout:.0f} s") from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise OSError(f"{python}: {last}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def status_line(
    where: str, report: dict[str, Any] | None, body_model: str = "", error: str = ""
) -> tuple[bool, str]:
    """``(ready, line)`` for the preferences: where the engine runs and what it has.

    ``where``: "in Blender" or "Engine Python <path>"; ``report``: :func:`engine_report`'s dict;
    ``body_model``: the configured official SMPL file ("" = the bundled proxy body).
    """
    if report is None:
        return False, f"Engine: {where}: {error or 'not found'}"
    parts = [
        f"torch {report['torch']}" if report.get("torch") else "torch MISSING",
        f"smplx {report['smplx']}" if report.get("smplx") else "smplx MISSING",
    ]
    if not report.get("anylift"):
        parts.append("anylift engine MISSING")
    else:
        count = len(report.get("checkpoints") or [])
        parts.append(f"{count} checkpoint{'s' if count != 1 else ''}" if count else "checkpoints MISSING")
    if not body_model:
        parts.append("body: proxy (bundled)")
    elif os.path.exists(body_model):
        parts.append("body: SMPL file")
    else:
        parts.append(f"body: SMPL file MISSING ({body_model})")
    return not any("MISSING" in p for p in parts), f"Engine: {where}: " + ", ".join(parts)
