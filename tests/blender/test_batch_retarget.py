"""``batch.py --retarget PRESET --rig RIG``: the baked SMPL motion lands on the artist's rig."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import bpy

from .test_batch_and_extension import BATCH, _run

_spec = importlib.util.spec_from_file_location("retarget_rigs", Path(__file__).with_name("test_retarget.py"))
rigs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rigs)


def test_batch_retargets_onto_a_mixamo_rig(clean_scene, result_npz, tmp_path):
    path, motion = result_npz
    rigs._target("mixamo", a_pose=math.radians(35), sizes=1.1, unit=100.0, scale=0.01)
    rig = tmp_path / "rig.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(rig), check_existing=False, copy=True)
    out = tmp_path / "scene.blend"
    proc = _run(
        [
            str(BATCH),
            "--",
            "--motion",
            str(path),
            "--out",
            str(out),
            "--retarget",
            "mixamo",
            "--rig",
            str(rig),
        ]
    )
    assert proc.returncode == 0, proc.stderr
    last = len(motion.joints)
    # In the saved scene the rig's bones point like their SMPL bones on sampled frames, and they move.
    code = f"""
import bpy, sys, numpy as np
bpy.ops.wm.open_mainfile(filepath=sys.argv[1])
scene, objs = bpy.context.scene, bpy.data.objects
src, tgt = objs["SMPL"], objs["mixamo"]
assert tgt.animation_data and tgt.animation_data.action, "no action on the target rig"
def direction(obj, bone):
    pb = obj.pose.bones[bone]
    v = np.array((obj.matrix_world @ pb.tail) - (obj.matrix_world @ pb.head))
    return v / np.linalg.norm(v)
worst, moved = 0.0, 0.0
first = None
for frame in (1, {last // 2}, {last}):
    scene.frame_set(frame)
    for smpl, rig in (("left_elbow", "mixamorig:LeftForeArm"), ("right_knee", "mixamorig:RightLeg"),
                      ("left_shoulder", "mixamorig:LeftArm")):
        a, b = direction(src, smpl), direction(tgt, rig)
        worst = max(worst, np.degrees(np.arccos(np.clip(a @ b, -1, 1))))
    d = direction(tgt, "mixamorig:LeftForeArm")
    first = d if first is None else first
    moved = max(moved, np.degrees(np.arccos(np.clip(first @ d, -1, 1))))
print(worst, moved)
assert worst < 3.0, worst
assert moved > 1.0, moved
"""
    check = subprocess.run(
        [sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=300
    )
    assert check.returncode == 0, check.stderr + check.stdout


def test_batch_retargets_onto_a_mixamo_fbx_and_exports_it(clean_scene, result_npz, tmp_path):
    """A Mixamo-style rig delivered as FBX (bones in cm, the object scaled 0.01), exported back."""
    path, motion = result_npz
    target, _ = rigs._target("mixamo", a_pose=math.radians(35), sizes=1.1, unit=100.0, scale=0.01)
    rig = tmp_path / "rig.fbx"
    target.select_set(True)
    bpy.context.view_layer.objects.active = target
    assert "FINISHED" in bpy.ops.export_scene.fbx(filepath=str(rig), use_selection=True, add_leaf_bones=False)
    out = tmp_path / "scene.blend"
    args = ["--motion", str(path), "--out", str(out), "--retarget", "mixamo", "--rig", str(rig)]
    args += ["--export", "fbx"]
    proc = _run([str(BATCH), "--", *args])
    assert proc.returncode == 0, proc.stderr
    last = len(motion.joints)
    code = f"""
import bpy, sys, numpy as np
bpy.ops.wm.open_mainfile(filepath=sys.argv[1])
scene = bpy.context.scene
src = bpy.data.objects["SMPL"]
tgt = next(o for o in scene.objects if o.type == "ARMATURE" and o.name != "SMPL")
def direction(obj, a, b):
    head = lambda n: np.array(obj.matrix_world @ obj.pose.bones[n].head)
    v = head(b) - head(a)
    return v / np.linalg.norm(v)
PAIRS = ((("left_elbow", "left_wrist"), ("mixamorig:LeftForeArm", "mixamorig:LeftHand")),
         (("right_knee", "right_ankle"), ("mixamorig:RightLeg", "mixamorig:RightFoot")))
worst = 0.0
for frame in (1, {last // 2}, {last}):
    scene.frame_set(frame)
    for (s0, s1), (t0, t1) in PAIRS:
        a, b = direction(src, s0, s1), direction(tgt, t0, t1)
        worst = max(worst, np.degrees(np.arccos(np.clip(a @ b, -1, 1))))
print(worst)
assert worst < 10.0, worst
# The export holds the rig: import it back and find the Mixamo bones with an animation.
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.fbx(filepath=sys.argv[2])
arm = next(o for o in bpy.data.objects if o.type == "ARMATURE")
assert "mixamorig:LeftForeArm" in arm.data.bones and "left_elbow" not in arm.data.bones
assert arm.animation_data and arm.animation_data.action
"""
    check = subprocess.run(
        [sys.executable, "-c", code, str(out), str(out.with_suffix(".fbx"))], capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr[-3000:] + check.stdout[-2000:]
