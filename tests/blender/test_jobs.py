"""The job runner with real short jobs: a Python function and a subprocess printing JSON progress."""

from __future__ import annotations

import json
import sys
import textwrap
import threading
import time

import bpy
import pytest

from anylift_blender import jobs
from anylift_blender import runner as runner_module

PROGRESS_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    steps, delay, code = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    print("engine starting", file=sys.stderr, flush=True)
    for i in range(1, steps + 1):
        time.sleep(delay)
        print(json.dumps({"stage": "sampling", "done": i, "total": steps}), file=sys.stderr, flush=True)
    if code == 2:
        message = "anylift: error: clip.json: field 'fps': must be positive (expected a number > 0)"
        print(message, file=sys.stderr)
    elif code:
        print("Traceback (most recent call last):\\nZeroDivisionError: division by zero", file=sys.stderr)
    sys.exit(code)
    """
)


def command(steps, delay=0.0, code=0):
    return [sys.executable, "-c", PROGRESS_SCRIPT, str(steps), str(delay), str(code)]


def counting_job(steps, delay=0.0, fail_at=None):
    def run(progress, cancel):
        for i in range(1, steps + 1):
            if cancel.is_set():
                return "stopped early"
            time.sleep(delay)
            if i == fail_at:
                raise ZeroDivisionError("bad step")
            progress("denoise", i, steps)
        return steps * 10

    return jobs.FunctionJob(run, name="Count")


def drive(runner, timeout=30.0, on_first_progress=None):
    """Poll like the timer would until the job ends; returns the progress reports seen."""
    seen = []
    runner.on_progress = seen.append
    deadline = time.monotonic() + timeout
    fired = False
    while not runner.poll():
        if seen and not fired and on_first_progress is not None:
            on_first_progress()
            fired = True
        assert time.monotonic() < deadline, "job did not finish"
        time.sleep(0.01)
    return seen


def test_function_job_progress_and_result():
    results = []
    runner = jobs.JobRunner(counting_job(5), on_success=results.append)
    runner.start()
    seen = drive(runner)
    assert runner.state == "done" and results == [50]
    assert [(p.stage, p.done, p.total) for p in seen] == [("denoise", i, 5) for i in range(1, 6)]
    assert seen[-1].fraction == 1.0


def test_function_job_cancel_midway():
    outcome = []
    runner = jobs.JobRunner(
        counting_job(500, delay=0.01),
        on_success=lambda r: outcome.append(("success", r)),
        on_cancel=lambda: outcome.append(("cancelled",)),
    )
    runner.start()
    started = time.monotonic()
    seen = drive(runner, on_first_progress=runner.cancel)
    assert runner.state == "cancelled" and outcome == [("cancelled",)]
    assert time.monotonic() - started < 2.0
    assert 1 <= seen[-1].done < 100


def test_progress_callback_stops_a_job_that_ignores_cancel():
    def stubborn(progress, cancel):
        for i in range(1000):
            time.sleep(0.005)
            progress("fit", i, 1000)
        return "finished"

    runner = jobs.JobRunner(jobs.FunctionJob(stubborn, name="Stubborn"))
    runner.start()
    seen = drive(runner, on_first_progress=runner.cancel)
    assert runner.state == "cancelled" and seen[-1].done < 500


def test_function_job_error_reaches_on_error():
    errors, successes = [], []
    runner = jobs.JobRunner(counting_job(5, fail_at=3), on_success=successes.append, on_error=errors.append)
    runner.start()
    seen = drive(runner)
    assert runner.state == "error" and successes == []
    assert errors == ["ZeroDivisionError: bad step"] and runner.message == errors[0]
    assert [p.done for p in seen] == [1, 2]


def test_error_in_on_success_is_an_error():
    errors = []

    def bake(result):
        raise ValueError(f"cannot bake {result}")

    runner = jobs.JobRunner(counting_job(2), on_success=bake, on_error=errors.append)
    runner.start()
    drive(runner)
    assert runner.state == "error" and errors == ["ValueError: cannot bake 20"]


def test_command_job_progress_and_result():
    runner = jobs.JobRunner(jobs.CommandJob(command(4), name="Engine", result=lambda: "out.npz"))
    runner.start()
    seen = drive(runner)
    assert runner.state == "done" and runner.result == "out.npz"
    assert [(p.stage, p.done, p.total) for p in seen] == [("sampling", i, 4) for i in range(1, 5)]


def test_command_job_cancel_terminates_the_process():
    job = jobs.CommandJob(command(1000, delay=0.02), name="Engine")
    runner = jobs.JobRunner(job)
    runner.start()
    started = time.monotonic()
    seen = drive(runner, on_first_progress=runner.cancel)
    assert runner.state == "cancelled"
    assert time.monotonic() - started < 3.0 and seen[-1].done < 200


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (2, "anylift: error: clip.json: field 'fps': must be positive (expected a number > 0)"),
        (1, "Engine failed (exit code 1): engine starting | Traceback (most recent call last): | "
            "ZeroDivisionError: division by zero"),
    ],
)  # fmt: skip
def test_command_job_errors(code, message):
    runner = jobs.JobRunner(jobs.CommandJob(command(2, code=code), name="Engine"))
    runner.start()
    drive(runner)
    assert runner.state == "error" and runner.message == message


def test_command_job_missing_program():
    runner = jobs.JobRunner(jobs.CommandJob(["/no/such/python", "-V"], name="Engine"))
    runner.run_blocking()
    assert runner.state == "error" and "cannot start '/no/such/python'" in runner.message


def test_progress_line_parsing():
    parse = runner_module._parse_progress_line
    assert parse(json.dumps({"stage": "s", "done": 3, "total": 9}) + "\n") == ("s", 3, 9)
    assert parse("{not json}") is None
    assert parse('{"stage": "s"}') is None
    assert parse("Warning: slow") is None


def test_runner_runs_without_blender():
    """runner.py, loaded by path in a Python where bpy cannot import, runs a command job to the end."""
    code = textwrap.dedent(
        """
        import importlib.abc, importlib.util, json, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("bpy", "mathutils", "anylift_blender"):
                    raise ImportError(name + " is blocked")
        sys.meta_path.insert(0, Block())
        spec = importlib.util.spec_from_file_location("runner", sys.argv[1])
        runner = sys.modules["runner"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(runner)
        seen = []
        job = runner.CommandJob(json.loads(sys.argv[2]), name="Engine", result="out.npz")
        r = runner.JobRunner(job, on_progress=seen.append)
        r.run_blocking()
        bad = runner.JobRunner(runner.CommandJob(json.loads(sys.argv[3]), name="Engine"))
        bad.run_blocking()
        print(json.dumps([r.state, r.result, [p.done for p in seen], bad.state, bad.message]))
        """
    )
    import subprocess

    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            runner_module.__file__,
            json.dumps(command(3)),
            json.dumps(command(1, code=2)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    state, result, done, bad_state, bad_message = json.loads(proc.stdout.splitlines()[-1])
    assert (state, result, done) == ("done", "out.npz", [1, 2, 3])
    assert bad_state == "error" and bad_message.startswith("anylift: error: clip.json: field 'fps'")


def test_start_in_background_mode_is_synchronous(addon):
    assert bpy.app.background
    done = []
    runner = jobs.start(counting_job(3), on_success=lambda r: done.append((r, threading.current_thread())))
    assert runner.state == "done" and done == [(30, threading.main_thread())]
    props = bpy.context.window_manager.anylift_job
    assert not props.running and props.message == "Count: done"
    assert not jobs.is_running()


def test_start_threaded_with_timer_updates_ui(addon):
    # Timers never fire in background mode, so call the timer function as Blender would.
    gate = threading.Event()

    def run(progress, cancel):
        progress("stage one", 1, 4)
        gate.wait(5)
        progress("stage two", 3, 4)
        return "ok"

    on_main = []

    def succeeded(result):
        on_main.append(threading.current_thread())
        bpy.data.objects.new("made by the job", None)  # bpy only from the main thread

    runner = jobs.start(jobs.FunctionJob(run, name="Lift"), on_success=succeeded, synchronous=False)
    assert bpy.app.timers.is_registered(jobs._tick)
    props = bpy.context.window_manager.anylift_job
    assert props.running and jobs.is_running()
    with pytest.raises(RuntimeError, match="already running"):
        jobs.start(counting_job(1), synchronous=False)
    deadline = time.monotonic() + 5
    while props.stage != "stage one 1/4":
        assert jobs._tick() == jobs.POLL_INTERVAL and time.monotonic() < deadline
        time.sleep(0.01)
    assert props.progress == pytest.approx(0.25)
    gate.set()
    while jobs._tick() is not None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert runner.state == "done" and on_main == [threading.main_thread()]
    assert "made by the job" in bpy.data.objects
    assert not props.running and props.progress == 0.0 and not jobs.is_running()


def test_cancel_operator_and_lift_poll(addon):
    scene = bpy.context.scene
    assert not bpy.ops.anylift.lift.poll()
    assert not bpy.ops.anylift.cancel_job.poll()
    scene.anylift.keypoints_path = "/tmp/clip.json"
    assert bpy.ops.anylift.lift.poll()
    runner = jobs.start(counting_job(100000, delay=0.001), synchronous=False)
    try:
        assert not bpy.ops.anylift.lift.poll()  # one job at a time
        assert bpy.ops.anylift.cancel_job() == {"FINISHED"}
        deadline = time.monotonic() + 5
        while jobs._tick() is not None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        runner.cancel()
    assert runner.state == "cancelled"
    assert bpy.context.window_manager.anylift_job.message == "Count: cancelled"
    assert bpy.ops.anylift.lift.poll()


def test_lift_error_is_reported_and_scene_unchanged(addon, tmp_path, monkeypatch):
    bad = tmp_path / "clip.json"
    bad.write_text('{"format": "anylift.keypoints/1", "fps": -1}')
    monkeypatch.setenv("ANYLIFT_ENGINE_PYTHON", sys.executable)
    scene = bpy.context.scene
    scene.anylift.keypoints_path = str(bad)
    before = (set(bpy.data.objects.keys()), set(bpy.data.actions.keys()), scene.frame_end)
    with pytest.raises(RuntimeError) as info:
        bpy.ops.anylift.lift()
    assert str(info.value).strip()
    assert (set(bpy.data.objects.keys()), set(bpy.data.actions.keys()), scene.frame_end) == before
    assert scene.anylift.result_path == ""
    assert not jobs.is_running()


def test_lift_without_engine_explains(addon, tmp_path, monkeypatch):
    from anylift_blender import engine

    kp = tmp_path / "clip.json"
    kp.write_text("{}")
    monkeypatch.delenv("ANYLIFT_ENGINE_PYTHON", raising=False)
    monkeypatch.setattr(engine, "runs_in_process", lambda needs: False)
    bpy.context.scene.anylift.keypoints_path = str(kp)
    with pytest.raises(RuntimeError, match="no Engine Python is set"):
        bpy.ops.anylift.lift()
    bpy.context.scene.anylift.keypoints_path = str(tmp_path / "missing.json")
    with pytest.raises(RuntimeError, match="keypoints file not found"):
        bpy.ops.anylift.lift()


def test_loading_a_file_cancels_the_job(addon):
    runner = jobs.start(counting_job(100000, delay=0.001), synchronous=False)
    bpy.ops.wm.read_homefile(use_empty=True)
    assert runner.wait(5) and runner.cancel_event.is_set()
    assert not jobs.is_running() and not bpy.app.timers.is_registered(jobs._tick)


def test_command_job_keeps_the_engines_warning_lines():
    """`anylift: warning: ...` lines on stderr are kept for the add-on to show, not taken as errors."""
    script = (
        "import sys; print('anylift: warning: the person is seen in 3 of 40 frames', file=sys.stderr); "
        "print('noise', file=sys.stderr); print('anylift: warning: far away', file=sys.stderr)"
    )
    job = runner_module.CommandJob([sys.executable, "-c", script], name="Engine", result="ok")
    r = runner_module.JobRunner(job)
    r.run_blocking()
    assert r.state == "done" and r.result == "ok"
    assert job.warnings == ["the person is seen in 3 of 40 frames", "far away"]
    assert runner_module.FunctionJob(lambda p, c: 1).warnings == []
