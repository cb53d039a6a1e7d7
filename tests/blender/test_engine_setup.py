"""Engine set-up from the preferences: a real Engine Python made by the set-up job, and the status line."""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
from pathlib import Path

import bpy
import pytest

from anylift_blender import engine, engine_env, jobs
from anylift_blender.operators import engine_setup

REPO = Path(__file__).resolve().parents[2]
CHECKPOINTS = sorted(p.name for p in (REPO / "engine" / "anylift" / "checkpoints").glob("*.pt"))


def test_requirements_are_pyprojects():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert list(engine_env.REQUIREMENTS) == project["dependencies"]


def test_setup_job_makes_an_engine_python(tmp_path):
    # numpy only (torch would take minutes): the job, the link to the engine and the report are real.
    env = tmp_path / "engine-python"
    job = engine_env.make_setup_job(env, REPO / "engine", requirements=("numpy>=1.26,<2",))
    seen = []
    runner = jobs.JobRunner(job, on_progress=seen.append)
    runner.run_blocking()
    assert runner.state == "done", runner.message
    python = Path(runner.result)
    assert python == engine_env.env_python(env) and python.is_file()
    assert [(p.stage, p.done, p.total) for p in seen] == [
        ("create environment", 0, 2),
        ("install numpy>=1.26,<2", 1, 2),
        ("done", 2, 2),
    ]
    # The engine is linked, not copied: the light readers import from this checkout.
    code = "import anylift, anylift.io.keypoints, numpy; print(anylift.__file__)"
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()) == REPO / "engine" / "anylift" / "__init__.py"
    assert not list(env.rglob("pipeline.py"))
    report = engine_env.engine_report(str(python))
    assert report["torch"] is None and report["smplx"] is None and report["checkpoints"] == CHECKPOINTS
    ready, line = engine_env.status_line(f"Engine Python {python}", report)
    assert not ready and "torch MISSING" in line and "smplx MISSING" in line
    assert f"{len(CHECKPOINTS)} checkpoints" in line and "body: proxy" in line


def test_setup_job_cancel_stops_it(tmp_path):
    job = engine_env.make_setup_job(tmp_path / "env", REPO / "engine", requirements=("numpy>=1.26,<2",))
    runner = jobs.JobRunner(job)
    runner.start()
    deadline = time.monotonic() + 30
    while runner.progress is None and time.monotonic() < deadline:
        runner.poll()
        time.sleep(0.01)
    runner.cancel()
    assert runner.wait(30)
    runner.poll()
    assert runner.state == "cancelled"


def test_setup_refuses_without_online_access(addon, tmp_path, monkeypatch):
    monkeypatch.setenv("ANYLIFT_CACHE", str(tmp_path / "cache"))
    assert not bpy.app.online_access  # the bpy module starts offline, like a fresh Blender
    with pytest.raises(RuntimeError, match="Online access is off"):
        bpy.ops.anylift.setup_engine()
    assert not (tmp_path / "cache").exists() and not jobs.is_running()


def test_check_engine_says_what_is_found(addon, monkeypatch, tmp_path):
    import torch

    monkeypatch.delenv("ANYLIFT_SMPL_MODEL", raising=False)
    assert bpy.ops.anylift.check_engine() == {"FINISHED"}
    ready, line = engine_setup.last_status()
    assert ready and line.startswith("Engine: in Blender: ")
    assert f"torch {torch.__version__}" in line and f"{len(CHECKPOINTS)} checkpoints" in line
    assert "body: proxy (bundled)" in line
    # Through the Engine Python (this venv's interpreter), with a missing official body model.
    monkeypatch.setattr(engine, "runs_in_process", lambda needs: False)
    monkeypatch.setenv("ANYLIFT_ENGINE_PYTHON", sys.executable)
    monkeypatch.setenv("ANYLIFT_SMPL_MODEL", str(tmp_path / "SMPL_NEUTRAL.pkl"))
    bpy.ops.anylift.check_engine()
    ready, line = engine_setup.last_status()
    assert not ready and line.startswith(f"Engine: Engine Python {sys.executable}: torch ")
    assert "body: SMPL file MISSING" in line
    monkeypatch.delenv("ANYLIFT_ENGINE_PYTHON")
    bpy.ops.anylift.check_engine()
    assert engine_setup.last_status() == (
        False,
        "Engine: torch is not in this Blender and no Engine Python is set: press Set Up Engine",
    )


def test_data_outside_an_extension_goes_to_the_engine_cache(monkeypatch, tmp_path):
    assert not engine.is_extension()  # the add-on runs from this checkout here (see the extension test)
    monkeypatch.setenv("ANYLIFT_CACHE", str(tmp_path / "cache"))
    assert engine.data_dir() == tmp_path / "cache" and (tmp_path / "cache").is_dir()
    assert engine.engine_env_dir() == tmp_path / "cache" / "engine-python"
    assert engine.export_cache_env() == str(tmp_path / "cache")  # left as the user set it
    monkeypatch.delenv("ANYLIFT_CACHE")
    assert engine.data_dir(create=False) == Path.home() / ".cache" / "anylift"
