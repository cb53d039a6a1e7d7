"""The add-on works where real Blender runs it: numpy, but no scipy, torch, smplx or OpenCV.

Each test starts a fresh Python whose import system refuses those packages (a ``sys.meta_path``
finder installed before anything else is imported), imports ``bpy`` and every module of the
add-on, registers it and bakes a result the way a Blender without the engine's dependencies
does: the body model's rest data comes from the "engine Python" (this venv's interpreter, running
``anylift rest-mesh``) through an .npz file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from anylift.geometry.transforms import (
    blender_axis_angle_to_matrix,
    continuous_quaternions,
    euler_to_matrix,
    matrix_to_continuous_quaternions,
    matrix_to_quaternion,
    matrix_to_rotvec,
    quaternion_to_matrix,
    rotvec_to_matrix,
)
from anylift_blender.baking import filters

REPO = Path(__file__).resolve().parents[2]
BLOCKED = ("scipy", "torch", "smplx", "cv2")

# Runs first in the child: from here on, importing a blocked package raises ImportError, as it
# does in a Blender whose Python lacks it. Attempts are recorded (probing is allowed, e.g. the
# add-on asks whether torch imports to choose in-process or subprocess).
_BLOCKER = """
import importlib.abc, sys
BLOCKED = {blocked!r}
ATTEMPTS = []
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            ATTEMPTS.append(name)
            raise ImportError(f"{{name}} is blocked: real Blender's Python does not ship it")
        return None
assert not set(BLOCKED) & {{m.split(".")[0] for m in sys.modules}}, "imported before the blocker"
sys.meta_path.insert(0, _Block())
"""

_CHILD = """
import json, pkgutil, importlib, sys
import numpy as np
import bpy
import anylift_blender
from anylift_blender.baking.body import BodyRest
from anylift_blender.baking.result import BakeOptions, bake_motion
from anylift_blender.results import read_result

args = json.loads(sys.argv[1])
# Every add-on module imports (register() reaches only some of them; batch/export are lazy).
names = sorted(m.name for m in pkgutil.walk_packages(anylift_blender.__path__, "anylift_blender."))
for name in names:
    importlib.import_module(name)
import anylift.io.cameras, anylift.io.keypoints, anylift.io.motion, anylift.progress, anylift.skeletons
import anylift.geometry.transforms  # the numpy core the add-on's rotations come from

bpy.ops.wm.read_factory_settings(use_empty=True)
anylift_blender.register()
scene = bpy.context.scene
motion = read_result(args["result"])

def heads(t):
    scene.frame_set(t + 1)
    arm = bpy.data.objects["SMPL"]
    names = anylift_blender.baking.armature.SMPL_BONES
    return np.array([np.array(arm.matrix_world @ arm.pose.bones[n].head) for n in names])

def max_head_error():
    return max(float(np.abs(heads(t) - motion.joints[t]).max()) for t in range(len(motion.joints)))

errors = {}
# 1. The operator a user clicks: the engine is out of reach, so rest data comes via the subprocess.
assert bpy.ops.anylift.import_result(filepath=args["result"]) == {"FINISHED"}
errors["subprocess"] = max_head_error()
assert len(bpy.data.objects["SMPL Body"].data.vertices) == 6890

# 2. Rest data handed over in a file (what the subprocess writes), baked with smoothing and foot lock.
with np.load(args["rest"]) as d:
    fields = ("rest_joints", "vertices", "faces", "weights", "upright_to_model")
    rest = BodyRest(*(d[f] for f in fields), kind=str(d["kind"]))
baked = bake_motion(scene, motion, rest, BakeOptions(smoothing=1.5, foot_lock=True, foot_speed=0.3))
errors["file"] = baked.max_joint_error
errors["smoothed"] = max_head_error()

# 3. Retarget onto a copy of the SMPL rig (rotations path) and read a COLMAP camera (io path).
from anylift_blender.retarget import retarget
source = bpy.data.objects["SMPL"]
target = source.copy()
target.data = source.data.copy()
target.animation_data_clear()
scene.collection.objects.link(target)
bones = anylift_blender.baking.armature.SMPL_BONES
mapping = retarget(source, target, {n: n for n in bones})
retarget_error = 0.0
for t in (0, len(motion.joints) // 2, len(motion.joints) - 1):
    scene.frame_set(t + 1)
    for n in bones:
        a = np.array(source.matrix_world @ source.pose.bones[n].head)
        b = np.array(target.matrix_world @ target.pose.bones[n].head)
        retarget_error = max(retarget_error, float(np.abs(a - b).max()))
errors["retarget"] = retarget_error
from anylift.io.cameras import read_camera
cam = read_camera(args["colmap"])

# 4. Lift in "auto" mode goes to the Engine Python: the engine module exists but cannot import.
from anylift_blender.operators.lift import LiftRequest, make_lift_job
from anylift_blender.preferences import engine_settings
job = make_lift_job(LiftRequest(keypoints="k.json", camera=None, out="o.npz"), engine_settings())

print("RESULT " + json.dumps({
    "errors": errors,
    "mapped": len(mapping),
    "lift_job": type(job).__name__,
    "colmap_R": cam.world_to_camera[0, :3, :3].tolist(),
    "blocked_loaded": sorted({m.split(".")[0] for m in sys.modules} & set(BLOCKED)),
    "attempts": sorted(set(ATTEMPTS)),
}), flush=True)
# The bpy module of 4.2 crashes (4.5: may hang) at exit once a panel was registered.
import os
sys.stderr.flush()
os._exit(0)
"""


def _run_blocked(args: dict, env_extra: dict[str, str]) -> dict:
    code = _BLOCKER.format(blocked=BLOCKED) + textwrap.dedent(_CHILD)
    # This checkout's engine first (the Engine Python subprocess inherits it).
    paths = os.pathsep.join([str(REPO / "engine"), str(REPO)])
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=paths, **env_extra)
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def test_addon_bakes_without_scipy_torch_smplx_cv2(result_npz, tmp_path):
    from scipy.spatial.transform import Rotation

    from anylift.body.rest import compute_body_rest

    path, motion = result_npz
    rest_file = tmp_path / "rest.npz"
    np.savez(rest_file, **compute_body_rest(motion.betas, motion.body_model))
    # A one-image COLMAP model with a known rotation (COLMAP stores world-to-camera, w x y z).
    q_xyzw = Rotation.from_rotvec([0.3, -1.1, 0.4]).as_quat()
    colmap = tmp_path / "colmap"
    colmap.mkdir()
    (colmap / "cameras.txt").write_text("1 PINHOLE 640 480 500 500 320 240\n")
    qw, qx, qy, qz = q_xyzw[[3, 0, 1, 2]]
    (colmap / "images.txt").write_text(f"1 {qw} {qx} {qy} {qz} 0.1 0.2 0.3 1 frame0.png\n\n")
    out = _run_blocked(
        {"result": str(path), "rest": str(rest_file), "colmap": str(colmap)},
        # Subprocess mode: the engine Python is this venv's interpreter, which does have torch.
        {"ANYLIFT_ENGINE_PYTHON": sys.executable},
    )
    assert out["blocked_loaded"] == []
    # The add-on only probed torch (to pick in-process or subprocess), never needed it.
    assert set(out["attempts"]) <= {"torch"}, out["attempts"]
    assert out["errors"]["subprocess"] < 1e-3
    assert out["errors"]["file"] < 1e-3
    # Smoothing and foot locking move the keys, but only by centimetres on this gentle walk.
    assert 1e-4 < out["errors"]["smoothed"] < 0.1
    # A copy of the rig mapped bone to bone follows the source exactly.
    assert out["mapped"] == 24 and out["errors"]["retarget"] < 1e-4
    assert out["lift_job"] == "CommandJob"
    np.testing.assert_allclose(out["colmap_R"], Rotation.from_quat(q_xyzw).as_matrix(), atol=1e-12)


# --- the numpy replacements against scipy ---------------------------------------------------


@pytest.fixture
def rotations_sample():
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(7)
    rotvecs = rng.normal(size=(400, 3)) * rng.uniform(0, 1.2, size=(400, 1))
    # Edge cases: identity, tiny angles, angles at and near pi (the w ~ 0 branch).
    edge = np.array([[0, 0, 0], [1e-9, -2e-9, 0], [1e-4, 0, 3e-4], [np.pi, 0, 0], [0, 0, -np.pi + 1e-7]])
    axes = rng.normal(size=(20, 3))
    near_pi = axes / np.linalg.norm(axes, axis=1, keepdims=True) * (np.pi - 1e-6)
    rotvecs = np.concatenate([edge, rotvecs, near_pi])
    return rotvecs, Rotation.from_rotvec(rotvecs)


def test_rotvec_and_quaternion_conversions_match_scipy(rotations_sample):
    rotvecs, rot = rotations_sample
    matrices = rot.as_matrix()
    np.testing.assert_allclose(rotvec_to_matrix(rotvecs), matrices, atol=1e-14)
    np.testing.assert_allclose(
        rotvec_to_matrix(rotvecs.reshape(5, -1, 3)), matrices.reshape(5, -1, 3, 3), atol=1e-14
    )
    q = matrix_to_quaternion(matrices)
    ref = rot.as_quat()[:, [3, 0, 1, 2]]
    ref *= np.where(ref[:, :1] < 0, -1.0, 1.0)
    assert np.all(q[:, 0] >= 0)
    # Near pi w ~ 0 and both signs are valid: compare up to sign there.
    sign = np.sign(np.sum(q * ref, axis=1, keepdims=True))
    np.testing.assert_allclose(q, sign * ref, atol=1e-12)
    np.testing.assert_allclose(quaternion_to_matrix(-3.0 * q), matrices, atol=1e-14)
    back = matrix_to_rotvec(matrices)
    np.testing.assert_allclose(rotvec_to_matrix(back), matrices, atol=1e-12)
    ok = np.linalg.norm(rotvecs, axis=1) < np.pi - 1e-3  # unique rotvec away from pi
    np.testing.assert_allclose(back[ok], rotvecs[ok], atol=1e-12)


def test_blender_euler_and_axis_angle_match_scipy(rotations_sample):
    from scipy.spatial.transform import Rotation

    rotvecs, rot = rotations_sample
    angles = np.linalg.norm(rotvecs, axis=1)
    aa = np.concatenate([angles[:, None], 2.5 * rotvecs], axis=1)  # axis of any length
    aa[0, 1:] = [0, 0, 1]  # zero rotation needs an axis
    np.testing.assert_allclose(blender_axis_angle_to_matrix(aa), rot.as_matrix(), atol=1e-14)
    eul = np.random.default_rng(3).uniform(-3, 3, size=(50, 3))
    for order in ("XYZ", "ZXY", "YZX"):
        # Blender "XYZ" applies X first: extrinsic x, y, z, scipy's lower-case order.
        ref = Rotation.from_euler(order.lower(), eul[:, ["XYZ".index(a) for a in order]]).as_matrix()
        np.testing.assert_allclose(euler_to_matrix(eul, order), ref, atol=1e-14)


def test_continuous_quaternions_over_time():
    from scipy.spatial.transform import Rotation

    spin = Rotation.from_rotvec(np.linspace([0, 0, 0], [0, 0, 11.0], 60))  # almost two turns
    m = spin.as_matrix()[:, None].repeat(2, axis=1)  # (T, 2, 3, 3)
    q = matrix_to_continuous_quaternions(m)
    assert q.shape == (60, 2, 4) and np.all(q[0, :, 0] >= 0)
    assert np.all(np.sum(q[1:] * q[:-1], axis=-1) > 0.9)
    np.testing.assert_allclose(quaternion_to_matrix(q), m, atol=1e-14)
    # matrix_to_quaternion alone jumps hemispheres here (w >= 0 every frame).
    assert np.any(np.sum(matrix_to_quaternion(m)[1:] * matrix_to_quaternion(m)[:-1], axis=-1) < 0)
    np.testing.assert_array_equal(continuous_quaternions(q), q)


@pytest.mark.parametrize("mode", ["nearest", "reflect", "mirror", "wrap"])
def test_gaussian_filter_matches_scipy(mode):
    from scipy.ndimage import gaussian_filter1d

    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 7, 40):
        for sigma in (0.2, 0.7, 1.0, 1.5, 4.0, 12.0):  # radius 0 up to many times the signal length
            for axis, shape in ((0, (n, 24, 4)), (1, (3, n)), (-1, (2, 5, n))):
                values = rng.normal(size=shape)
                got = filters.gaussian_filter1d(values, sigma, axis=axis, mode=mode)
                ref = gaussian_filter1d(values, sigma, axis=axis, mode=mode)
                np.testing.assert_allclose(got, ref, atol=1e-13, err_msg=f"n={n} sigma={sigma} axis={axis}")
    # scipy's defaults: mode "reflect", truncate 4.
    values = rng.normal(size=(30, 3))
    np.testing.assert_allclose(
        filters.gaussian_filter1d(values, 2.0, axis=0), gaussian_filter1d(values, 2.0, axis=0)
    )
    got = filters.gaussian_filter1d(values, 2.0, axis=0, truncate=1.5)
    np.testing.assert_allclose(got, gaussian_filter1d(values, 2.0, axis=0, truncate=1.5), atol=1e-14)
