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
