"""Hostile input through the real command line: exit 2, one short line, nothing written.

Every case is a kind of malformed input a probe found crashing, hanging or accepted silently
(issue 15). Each runs ``python -m anylift`` in a subprocess under a 2 GB address-space limit,
so a reader that allocates from a forged size fails the test instead of the machine.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from anylift.io.keypoints import Keypoints2D, write_keypoints

ROOT = Path(__file__).resolve().parents[2]
ADDRESS_SPACE = 2 << 30  # bytes
MAX_LINE = 1500  # characters of the one error line


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_cli(args: list[str], cache: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANYLIFT_CACHE=str(cache), OMP_NUM_THREADS="1", PYTHONWARNINGS="default")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "engine"), str(ROOT), env.get("PYTHONPATH", "")])
    env.pop("ANYLIFT_SMPL_MODEL", None)
    return subprocess.run(
        [sys.executable, "-m", "anylift", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        preexec_fn=_limit_memory,
        cwd=cache,
    )


T = 12


def _pose(t: int) -> list:
    # A 170-pixel person walking right.
    return [[300.0 + 3 * t + 6 * (j % 5), 150.0 + 10 * j, 0.9] for j in range(17)]


def keypoints_doc(**changes) -> dict:
    doc = {"format": "anylift.keypoints/1", "skeleton": "coco17", "fps": 30.0, "image_size": [640, 480],
           "keypoints": [_pose(t) for t in range(T)]}  # fmt: skip
    doc.update(changes)
    return doc


def camera_doc(**changes) -> dict:
    w2c = [[[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 4.0], [0, 0, 0, 1.0]] for _ in range(T)]
    doc = {"format": "anylift.camera/1", "intrinsics": {"fx": 500.0, "fy": 500.0, "cx": 320.0, "cy": 240.0},
           "world_to_camera": w2c}  # fmt: skip
    doc.update(changes)
    return doc


def _mmpose_instance(t: int) -> dict:
    return {"keypoints": [p[:2] for p in _pose(t)], "keypoint_scores": [0.9] * 17, "bbox_score": 0.9}


def _coco(image_id: int) -> dict:
    return {
        "image_id": image_id,
        "category_id": 1,
        "keypoints": [v for p in _pose(0) for v in p],
        "score": 0.9,
    }


def _npz(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, blob in members.items():
            z.writestr(name, blob)


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def _forged_npz(path: Path) -> None:
    """252 bytes whose keypoints header claims shape (1e10, 17, 3): 4 TB if believed."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**10, 17, 3)}
    )
    _npz(path, {"keypoints.npy": header.getvalue() + np.zeros(3).tobytes(), "fps.npy": _npy(np.array(30.0))})


def _valid_npz_bytes() -> bytes:
    buf = io.BytesIO()
    np.savez(
        buf,
        keypoints=np.array([_pose(t) for t in range(T)]),
        fps=np.array(30.0),
        image_size=np.array([640, 480]),
    )
    return buf.getvalue()


def _flag_npz(path: Path, flag: str) -> None:
    raw = bytearray(_valid_npz_bytes())
    for sig, (flag_at, method_at) in ((b"PK\x03\x04", (6, 8)), (b"PK\x01\x02", (8, 10))):
        i = raw.find(sig)
        if flag == "encrypted":
            raw[i + flag_at] |= 1
        else:
            raw[i + method_at] = 99
    path.write_bytes(bytes(raw))


def _json(doc) -> str:
    return json.dumps(doc)


def _big_number(doc: dict, key_text: str, value: str) -> str:
    """``doc``'s JSON with the number after ``key_text`` replaced by ``value`` (digits as text)."""
    text = json.dumps(doc)
    start = text.index(key_text) + len(key_text)
    end = start
    while text[end] in "0123456789.-e":
        end += 1
    return text[:start] + value + text[end:]


HUGE = "1" + "0" * 400
DIGITS_5001 = "1" * 5001


def _frames(make) -> list:
    return [make(t) for t in range(T)]


JUMPING_IDS = [{"frame_id": 0, "instances": [_mmpose_instance(0)]},
               {"frame_id": 10**9, "instances": [_mmpose_instance(1)]}]  # fmt: skip
NESTED = "[" * 100_000 + "]" * 100_000
FAR_CAMERA = [[[1.0, 0, 0, 1e300], [0, 1.0, 0, 0], [0, 0, 1.0, 4.0], [0, 0, 0, 1.0]]] * T
OFFSET_CAMERA = [[[1.0, 0, 0, 9e6], [0, 1.0, 0, 0], [0, 0, 1.0, 4.0], [0, 0, 0, 1.0]]] * T
TINY_FOCAL = {"fx": 1e-300, "fy": 1e-300, "cx": 1, "cy": 1}
ONE_PIXEL = [[[320.0, 240.0, 0.9]] * 17] * T
SCALED_1E9 = _frames(lambda t: [[x * 1e9, y * 1e9, s] for x, y, s in _pose(t)])
ONE_FRAME = [_pose(0)] + [[[0, 0, 0.0]] * 17] * (T - 1)


def _non_utf8_npz(path: Path) -> None:
    np.savez(path, keypoints=np.array(_frames(_pose)), fps=np.array(30.0), skeleton=np.array(b"\xff\xfe\x80"))


# name -> (files to write {name: text | bytes | callable(path) | None for a folder}, extra arguments).
# "kp*" / "cam*" files replace the valid inputs; the CLI runs `lift KP --camera CAM --out out/r.npz`.
CASES = {
    "frame ids jump to 1e9": ({"kp.json": _json(JUMPING_IDS)}, []),
    "COCO image ids": ({"kp.json": _json([_coco(397133), _coco(37777), _coco(252219)])}, []),
    "npz header claims 1e10 frames": ({"kp.npz": _forged_npz}, []),
    "fps 1 and 400 zeros": ({"kp.json": _big_number(keypoints_doc(), '"fps": ', HUGE)}, []),
    "fx 1 and 400 zeros": ({"cam.json": _big_number(camera_doc(), '"fx": ', HUGE)}, []),
    "translation 1 and 400 zeros": ({"cam.json": _big_number(camera_doc(), "0, 0, 1.0, ", HUGE)}, []),
    "keypoint x 1 and 400 zeros": ({"kp.json": _big_number(keypoints_doc(), '"keypoints": [[[', HUGE)}, []),
    "image width 1 and 400 zeros": ({"kp.json": _big_number(keypoints_doc(), '"image_size": [', HUGE)}, []),
    "5001-digit fps": ({"kp.json": _big_number(keypoints_doc(), '"fps": ', DIGITS_5001)}, []),
    "5001-digit cy": ({"cam.json": _big_number(camera_doc(), '"cy": ', DIGITS_5001)}, []),
    "image_size an object": ({"kp.json": _json(keypoints_doc(image_size={"w": 640, "h": 480}))}, []),
    "image_size huge member": ({"kp.json": _json(keypoints_doc(image_size=[1e300, 480]))}, []),
    "camera image_size an object": ({"cam.json": _json(camera_doc(image_size={"0": 1, "1": 2}))}, []),
    "100,000 nested brackets (keypoints)": ({"kp.json": NESTED}, []),
    "100,000 nested brackets (camera)": ({"cam.json": '{"format": ' + NESTED + "}"}, []),
    "instance_info empty": ({"kp.json": '{"instance_info": []}'}, []),
    "non-UTF-8 npz string": ({"kp.npz": _non_utf8_npz}, []),
    "encrypted zip member": ({"kp.npz": lambda p: _flag_npz(p, "encrypted")}, []),
    "unknown zip compression": ({"kp.npz": lambda p: _flag_npz(p, "method")}, []),
    "truncated npz": ({"kp.npz": _valid_npz_bytes()[:300]}, []),
    "seed 2**70": ({}, ["--seed", str(2**70)]),
    "seed -1": ({}, ["--seed", "-1"]),
    "samples 10**9": ({}, ["--samples", str(10**9)]),
    "out folder not writable": ({}, ["--out", "/sys/kernel/result.npz"]),
    "camera translation 1e300": ({"cam.json": _json(camera_doc(world_to_camera=FAR_CAMERA))}, []),
    "camera 9,000 km from the origin": ({"cam.json": _json(camera_doc(world_to_camera=OFFSET_CAMERA))}, []),
    "focal length 1e-300": ({"cam.json": _json(camera_doc(intrinsics=TINY_FOCAL))}, []),
    "5,000-character skeleton name": ({"kp.json": _json(keypoints_doc(skeleton="x" * 5000))}, []),
    "every keypoint on one pixel": ({"kp.json": _json(keypoints_doc(keypoints=ONE_PIXEL))}, []),
    "coordinates x 1e9": ({"kp.json": _json(keypoints_doc(keypoints=SCALED_1E9))}, []),
    "person seen in one frame": ({"kp.json": _json(keypoints_doc(keypoints=ONE_FRAME))}, []),
    "fps 1e-300": ({"kp.json": _json(keypoints_doc(fps=1e-300))}, []),
    "fps 1e9": ({"kp.json": _json(keypoints_doc(fps=1e9))}, []),
    "a pipe named kp.json": ({"kp.json": os.mkfifo}, []),
    "--out is the keypoints input": ({"kp.npz": _valid_npz_bytes()}, ["--out", "KP"]),
    "keypoints folder named a_keypoints.json": ({"a_keypoints.json": None}, ["KP", "a_keypoints.json"]),
    "camera folder named a_camera.json": ({"a_camera.json": None}, ["CAM", "a_camera.json"]),
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Valid inputs, a tiny checkpoint and a cache folder shared by the cases."""
    import torch

    from anylift.models import DenoiserConfig, build_model, save_checkpoint

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("hostile")
    write_keypoints(
        d / "kp.json", Keypoints2D(np.array([_pose(t) for t in range(T)]), fps=30.0, image_size=(640, 480))
    )
    (d / "cam.json").write_text(_json(camera_doc()))
    save_checkpoint(d / "tiny.pt", build_model(DenoiserConfig.tiny("multi_view")))
    (d / "cache").mkdir()
    return d


def _case_args(workspace: Path, case_dir: Path, name: str) -> tuple[list[str], Path]:
    files, extra = CASES[name]
    kp, cam = workspace / "kp.json", workspace / "cam.json"
    for fname, content in files.items():
        path = case_dir / fname
        if content is None:
            path.mkdir()
        elif callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        if fname.startswith("kp"):
            kp = path
        if fname.startswith("cam"):
            cam = path
    extra = [str(kp) if a == "KP" and i and extra[i - 1] == "--out" else a for i, a in enumerate(extra)]
    if extra[:1] == ["KP"]:
        kp, extra = case_dir / extra[1], extra[2:]
    if extra[:1] == ["CAM"]:
        cam, extra = case_dir / extra[1], extra[2:]
    out_dir = case_dir / "out"
    out_dir.mkdir()
    args = ["lift", str(kp), "--camera", str(cam), "--out", str(out_dir / "r.npz"), "--steps", "1",
            "--checkpoint", str(workspace / "tiny.pt"), "--progress", "none", *extra]  # fmt: skip
    return args, out_dir


def test_valid_inputs_lift(workspace, tmp_path):
    """The baseline the cases mutate lifts fine (so each case fails for its own reason)."""
    args, out_dir = _case_args(workspace, tmp_path, "seed -1")
    args = args[:-2]  # without the bad seed
    proc = run_cli(args, workspace / "cache")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out_dir / "r.npz").is_file()
    assert "Traceback" not in proc.stderr
    assert os.listdir(out_dir) == ["r.npz"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_exits_2_with_one_line(workspace, tmp_path, name):
    args, out_dir = _case_args(workspace, tmp_path, name)
    proc = run_cli(args, workspace / "cache")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert len(lines) == 1, proc.stderr[-3000:]
    assert lines[0].startswith("anylift: error: ") and len(lines[0]) <= MAX_LINE, lines[0][:500]
    assert os.listdir(out_dir) == [], "nothing may be written"


def test_eval_rejects_non_utf8_and_forged_results(workspace, tmp_path):
    """`anylift eval` on a result whose strings are not UTF-8, or whose header is forged."""
    bad = tmp_path / "bad.npz"
    np.savez(bad, format=np.array(b"anylift.motion/1\xff"), fps=np.array(30.0))
    forged = tmp_path / "forged.npz"
    _forged_npz(forged)
    for result in (bad, forged):
        proc = run_cli(["eval", str(result), "--truth", str(result)], workspace / "cache")
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
        assert str(result) in lines[0]


def test_doubtful_input_lifts_with_one_line_warnings(workspace, tmp_path):
    """A person seen in 4 of 12 frames (the first two and the last two): the lift runs, and says so
    in one line."""
    few = [_pose(t) if t < 2 or t >= T - 2 else [[0, 0, 0.0]] * 17 for t in range(T)]
    (tmp_path / "kp.json").write_text(_json(keypoints_doc(keypoints=few)))
    args, out_dir = _case_args(workspace, tmp_path, "seed -1")
    args = [str(tmp_path / "kp.json") if a.endswith("kp.json") else a for a in args[:-2]]
    proc = run_cli(args, workspace / "cache")
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert lines and all(line.startswith("anylift: warning: ") for line in lines), proc.stderr
    assert any("seen in only 4 of 12 frames" in line for line in lines)
    assert os.listdir(out_dir) == ["r.npz"]
