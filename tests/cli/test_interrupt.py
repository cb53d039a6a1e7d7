"""Interruption: kill -9, SIGTERM and SIGINT while a result is written (15 kill points), and mid-lift.

At every kill point the destination holds either the old result, intact, or the new one,
complete; SIGTERM / SIGINT exit 143 / 130 with one line and no traceback and leave no
temporary file; after kill -9 the next write to the same place removes the one it left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from anylift.io.motion import read_motion, write_motion

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("write_driver.py")
NEW_FRAMES = 6000
OLD_FPS, NEW_FPS = 25.0, 30.0


def _env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "engine"), str(ROOT), env.get("PYTHONPATH", "")])
    return env


def _old_motion():
    sys.path.insert(0, str(DRIVER.parent))
    try:
        from write_driver import big_motion
    finally:
        sys.path.pop(0)
    return big_motion(50, fps=OLD_FPS)


def _temporaries(folder: Path, name: str) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.startswith(f".{name}."))


def _wait_for_temporary(folder: Path, name: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not _temporaries(folder, name):
        assert proc.poll() is None, "the writer ended before its temporary file was seen"
        assert time.monotonic() < end, "no temporary file appeared"
        time.sleep(0.002)


@pytest.fixture(scope="module")
def write_seconds(tmp_path_factory) -> float:
    """How long the driver's write takes here (kill points are fractions of it)."""
    out = tmp_path_factory.mktemp("timing") / "r.npz"
    proc = subprocess.run([sys.executable, str(DRIVER), str(out), str(NEW_FRAMES), "0"], capture_output=True,
                          text=True, env=_env(), timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert read_motion(out).num_frames == NEW_FRAMES
    return float(proc.stdout.split()[-1])


# Fractions of the write time after its temporary file appears; 1.5: after the write, before exit.
KILL_POINTS = [(sig, frac) for sig in ("SIGKILL", "SIGTERM", "SIGINT") for frac in (0.0, 0.3, 0.6, 0.9, 1.5)]


@pytest.mark.parametrize("sig, fraction", KILL_POINTS, ids=[f"{s}-{f:.0%}" for s, f in KILL_POINTS])
def test_signal_during_the_result_write(tmp_path, write_seconds, sig, fraction):
    out = tmp_path / "r.npz"
    write_motion(out, _old_motion())
    os.chmod(out, 0o640)
    argv = [sys.executable, str(DRIVER), str(out), str(NEW_FRAMES), "10"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    _wait_for_temporary(tmp_path, out.name, proc)
    time.sleep(fraction * write_seconds)
    proc.send_signal(getattr(signal, sig))
    _, stderr = proc.communicate(timeout=120)

    result = read_motion(out)  # never half-written
    assert (result.fps, result.num_frames) in ((OLD_FPS, 50), (NEW_FPS, NEW_FRAMES))
    if result.fps == NEW_FPS:
        np.testing.assert_array_equal(result.samples_keypoints3d.shape, (4, NEW_FRAMES, 17, 3))
    assert os.stat(out).st_mode & 0o777 == 0o640, "an existing result keeps its permissions"
    if sig == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL
        write_motion(out, _old_motion())  # the next run that writes there
    else:
        code = 128 + getattr(signal, sig)
        assert proc.returncode == code, stderr
        assert stderr.strip().splitlines() == [f"anylift: interrupted ({sig})"], stderr
        assert result.fps == NEW_FPS, "a write under way is finished before stopping"
    assert _temporaries(tmp_path, out.name) == []


@pytest.fixture(scope="module")
def lift_inputs(tmp_path_factory) -> Path:
    """Keypoints and camera of a 20-frame walk, a tiny checkpoint, a cache folder."""
    import torch

    from anylift.geometry.camera import project
    from anylift.io.cameras import static_camera, write_camera
    from anylift.io.keypoints import Keypoints2D, write_keypoints
    from anylift.models import DenoiserConfig, build_model, save_checkpoint

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("lift")
    cam = static_camera(20, (640, 480))
    t = np.arange(20)[:, None, None]
    pts = np.stack(np.meshgrid(np.linspace(-0.2, 0.2, 17), [0.0], indexing="ij"), -1).reshape(17, 2)
    pts = np.concatenate([pts, np.linspace(-0.8, 0.8, 17)[:, None], np.full((17, 1), 4.0)], 1)[:, [0, 2, 3]]
    world = pts[None] + np.array([0.02, 0.0, 0.0]) * t
    uv = project(world, cam.K, cam.world_to_camera)
    kp = Keypoints2D(np.concatenate([uv, np.ones_like(uv[..., :1])], -1), fps=30.0, image_size=(640, 480))
    write_keypoints(d / "kp.json", kp)
    write_camera(d / "cam.json", cam)
    save_checkpoint(d / "tiny.pt", build_model(DenoiserConfig.tiny("multi_view")))
    (d / "cache").mkdir()
    return d


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_signal_during_a_lift_exits_cleanly(lift_inputs, tmp_path, sig):
    """The add-on's Cancel (SIGTERM) or Ctrl-C mid-lift: one line, its exit code, nothing written."""
    d = lift_inputs
    args = ["lift", str(d / "kp.json"), "--camera", str(d / "cam.json"), "--out", str(tmp_path / "r.npz"),
            "--checkpoint", str(d / "tiny.pt"), "--steps", "400", "--samples", "8",
            "--progress", "jsonl"]  # fmt: skip
    env = dict(_env(), ANYLIFT_CACHE=str(d / "cache"))
    proc = subprocess.Popen([sys.executable, "-m", "anylift", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    first = proc.stderr.readline()  # the first progress line: the lift is under way
    assert first.startswith("{"), first + proc.stderr.read()
    proc.send_signal(getattr(signal, sig))
    _, rest = proc.communicate(timeout=120)
    lines = [line for line in rest.splitlines() if not line.startswith("{")]
    assert proc.returncode == 128 + getattr(signal, sig), rest
    assert lines == [f"anylift: interrupted ({sig})"], rest
    assert os.listdir(tmp_path) == []
