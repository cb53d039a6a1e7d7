"""Retargeting onto a generated Rigify rig, the rig artists animate (issue 16).

The rig is generated once per module by Blender's bundled rigify add-on (human metarig ->
Generate) in a separate process, so enabling rigify does not leak into other tests. Its deform
(DEF-) bones follow constraints; the retarget keys its FK controls with the limbs switched to FK.
"""

from __future__ import annotations

import inspect
import math
import subprocess
import sys

import bpy
import numpy as np
import pytest

from anylift_blender import retarget
from anylift_blender.baking import keys

from .test_batch_and_extension import BATCH, _run

GENERATE = """
import sys, bpy
import addon_utils
bpy.ops.wm.read_factory_settings(use_empty=True)
addon_utils.enable("rigify", default_set=True)
bpy.ops.object.armature_human_metarig_add()
bpy.ops.pose.rigify_generate()
bpy.ops.object.mode_set(mode="OBJECT")
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[1], check_existing=False)
import os
os._exit(0)  # the bpy module of Blender 4.2/4.5 may crash at exit once rigify registered its panels
"""

# SMPL bone -> the generated rig's deform bone that shows it (limbs and their ends).
LIMBS = {
    "left_shoulder": "DEF-upper_arm.L", "right_shoulder": "DEF-upper_arm.R",
    "left_elbow": "DEF-forearm.L", "right_elbow": "DEF-forearm.R",
    "left_hip": "DEF-thigh.L", "right_hip": "DEF-thigh.R",
    "left_knee": "DEF-shin.L", "right_knee": "DEF-shin.R",
}  # fmt: skip
ROOTS = {  # the limb root of each end, in ENDS' order
    "left_shoulder": "DEF-upper_arm.L", "right_shoulder": "DEF-upper_arm.R", "left_hip": "DEF-thigh.L",
    "right_hip": "DEF-thigh.R",
}  # fmt: skip
ENDS = {
    "left_wrist": "DEF-hand.L", "right_wrist": "DEF-hand.R",
    "left_ankle": "DEF-foot.L", "right_ankle": "DEF-foot.R",
}  # fmt: skip


@pytest.fixture(scope="module")
def rigify_blend(tmp_path_factory):
    path = tmp_path_factory.mktemp("rigify") / "rigify_rig.blend"
    proc = _run(["-c", GENERATE, str(path)])
    assert proc.returncode == 0 and path.is_file(), proc.stderr[-2000:]
    return path


def _append_rig(path, name="rig"):
    with bpy.data.libraries.load(str(path), link=False) as (_src, dst):
        dst.objects = [name]
    rig = dst.objects[0]
    bpy.context.scene.collection.objects.link(rig)
    return rig


def _world(obj, bone, end="head"):
    return np.array(obj.matrix_world @ getattr(obj.pose.bones[bone], end))


def _leg(obj, hip, knee, ankle):
    h, k, a = (np.array(obj.matrix_world @ obj.data.bones[b].head_local) for b in (hip, knee, ankle))
    return np.linalg.norm(k - h) + np.linalg.norm(a - k)


def follow_errors(source, rig, frames):
    """Worst limb direction error (degrees), hand/foot distance (m), hip-centre path error (m),
    and the worst angle between the two bodies' shoulder lines and hip lines (degrees: the trunk's
    twist, which limb directions alone do not see).

    Scaled by ``k``, the ratio of leg lengths: hands and feet are compared from the root of their
    limb (shoulder, hip joint), ``rig(t) - rig_root(t)`` against ``k * (source(t) - source_root(t))``,
    and the hip centre's path from its rest place, ``k``-scaled. (From the hip centre instead, the
    hands also carry the two bodies' different trunk proportions.)
    """
    k = np.mean(
        [
            _leg(rig, f"DEF-thigh.{s}", f"DEF-shin.{s}", f"DEF-foot.{s}")
            / _leg(source, f"{side}_hip", f"{side}_knee", f"{side}_ankle")
            for s, side in (("L", "left"), ("R", "right"))
        ]
    )

    def hips(obj, left, right, rest=False):
        if rest:
            return np.mean(
                [np.array(obj.matrix_world @ obj.data.bones[b].head_local) for b in (left, right)], 0
            )
        return (_world(obj, left) + _world(obj, right)) / 2

    src_rest = hips(source, "left_hip", "right_hip", rest=True)
    rig_rest = hips(rig, "DEF-thigh.L", "DEF-thigh.R", rest=True)
    angle, distance, path, twist = 0.0, 0.0, 0.0, 0.0
    lines = (("left_shoulder", "right_shoulder", "DEF-upper_arm.L", "DEF-upper_arm.R"),
             ("left_hip", "right_hip", "DEF-thigh.L", "DEF-thigh.R"))  # fmt: skip
    for frame in frames:
        bpy.context.scene.frame_set(frame)
        for sl, sr, rl, rr in lines:
            a, b = _world(source, sl) - _world(source, sr), _world(rig, rl) - _world(rig, rr)
            cos = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
            twist = max(twist, math.degrees(math.acos(np.clip(cos, -1, 1))))
        for smpl, bone in LIMBS.items():
            a = _world(source, smpl, "tail") - _world(source, smpl)
            b = _world(rig, bone, "tail") - _world(rig, bone)
            cos = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
            angle = max(angle, math.degrees(math.acos(np.clip(cos, -1, 1))))
        for (smpl, bone), (smpl_root, bone_root) in zip(ENDS.items(), ROOTS.items()):
            want = k * (_world(source, smpl) - _world(source, smpl_root))
            distance = max(distance, float(np.linalg.norm(_world(rig, bone) - _world(rig, bone_root) - want)))
        want = k * (hips(source, "left_hip", "right_hip") - src_rest)
        path = max(path, float(np.linalg.norm(hips(rig, "DEF-thigh.L", "DEF-thigh.R") - rig_rest - want)))
    return angle, distance, path, twist


def test_generated_rigify_rig_follows_the_bake(addon, result_npz, rigify_blend):
    path, motion = result_npz
    assert bpy.ops.anylift.import_result(filepath=str(path)) == {"FINISHED"}
    source = bpy.data.objects["SMPL"]
    rig = _append_rig(rigify_blend)
    rig.location = (1.5, -0.5, 0.0)
    assert retarget.detect_preset(rig.data.bones.keys()) == "rigify"
    frames = (1, len(motion.joints) // 2, len(motion.joints))
    bpy.context.scene.frame_set(1)
    before = {b: _world(rig, b, "tail") - _world(rig, b) for b in LIMBS.values()}
    used = retarget.retarget(source, rig)
    assert used["left_elbow"] == "forearm_fk.L" and used["pelvis"] == "spine_fk"
    paths = {fc.data_path for fc in keys.channelbag_of(rig).fcurves}
    assert 'pose.bones["torso"].location' in paths  # the root motion rides on the torso control
    assert used.followers["left_elbow"] == "DEF-forearm.L"
    assert rig.pose.bones["upper_arm_parent.L"]["IK_FK"] == pytest.approx(1.0)  # FK
    angle, distance, path, twist = follow_errors(source, rig, frames)
    print(
        f"rigify: limbs within {angle:.2f} deg, hands/feet {100 * distance:.1f} cm, "
        f"hips {100 * path:.2f} cm, "
        f"shoulder/hip lines {twist:.1f} deg"
    )
    assert angle < 10.0
    assert twist < 10.0
    assert distance < 0.10
    assert path < 0.01  # root motion kept, scaled by leg length
    # It really moved: the rest-pose limbs turned by tens of degrees on the first frame.
    bpy.context.scene.frame_set(1)
    turned = [
        math.degrees(math.acos(np.clip(v @ (w := _world(rig, b, "tail") - _world(rig, b)) / np.linalg.norm(v)
                                       / np.linalg.norm(w), -1, 1)))
        for b, v in before.items()
    ]  # fmt: skip
    assert max(turned) > 20.0, turned


def test_batch_retargets_and_exports_the_rigify_rig(clean_scene, result_npz, rigify_blend, tmp_path):
    path, motion = result_npz
    out = tmp_path / "scene.blend"
    args = ["--motion", str(path), "--out", str(out), "--retarget", "rigify", "--rig", str(rigify_blend)]
    proc = _run([str(BATCH), "--", *args, "--export", "bvh"])
    assert proc.returncode == 0, proc.stderr
    assert "Saved copy as" not in proc.stdout  # the atomic save is silent
    last = len(motion.joints)
    helpers = "\n".join(inspect.getsource(f) for f in (_world, _leg, follow_errors))
    code = f"""
import bpy, math, sys
import numpy as np
LIMBS, ROOTS, ENDS = {LIMBS!r}, {ROOTS!r}, {ENDS!r}
{helpers}
bpy.ops.wm.open_mainfile(filepath=sys.argv[1])
objs = bpy.data.objects
scene_objects = set(bpy.context.scene.objects.keys())
assert not any(n.startswith("WGT-") for n in scene_objects), sorted(scene_objects)[:20]
assert "metarig" not in scene_objects
angle, distance, path, twist = follow_errors(objs["SMPL"], objs["rig"], (1, {last // 2}, {last}))
print(angle, distance, path, twist)
assert angle < 10.0 and distance < 0.10 and path < 0.01 and twist < 10.0, (angle, distance, path, twist)
"""
    check = subprocess.run(
        [sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=300
    )
    assert check.returncode == 0, check.stderr[-3000:] + check.stdout[-2000:]
    # The export holds the retargeted rig (its control and deform bones), not the 24-bone SMPL armature.
    bvh = out.with_suffix(".bvh").read_text()
    assert "JOINT DEF-forearm.L" in bvh and "forearm_fk.L" in bvh
    assert "left_elbow" not in bvh
    frames_line = next(line for line in bvh.splitlines() if line.startswith("Frames:"))
    assert int(frames_line.split()[1]) == last


def test_the_metarig_follows_too(addon, result_npz, rigify_blend):
    """The metarig in the same file: plain bones named like rigify's, mapped by the same preset."""
    path, motion = result_npz
    assert bpy.ops.anylift.import_result(filepath=str(path)) == {"FINISHED"}
    source = bpy.data.objects["SMPL"]
    meta = _append_rig(rigify_blend, "metarig")
    used = retarget.retarget(source, meta)
    assert used["left_elbow"] == "forearm.L" and used["pelvis"] == "spine" and used.followers == used
    bpy.context.scene.frame_set(len(motion.joints))
    for smpl in LIMBS:
        a = _world(source, smpl, "tail") - _world(source, smpl)
        b = _world(meta, used[smpl], "tail") - _world(meta, used[smpl])
        assert math.degrees(math.acos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))) < 1.0


def test_keying_deform_bones_of_a_generated_rig_fails(addon, result_npz, rigify_blend):
    """The issue's failure: DEF- bones of a generated rig follow constraints, keying them moves
    nothing. That is now an error naming the bones, and the rig is left as it was."""
    path, _motion = result_npz
    assert bpy.ops.anylift.import_result(filepath=str(path)) == {"FINISHED"}
    source = bpy.data.objects["SMPL"]
    rig = _append_rig(rigify_blend)
    deform = dict(LIMBS)  # SMPL limb -> DEF- bone
    before = {b.name: np.array(b.matrix_basis) for b in rig.pose.bones}
    with pytest.raises(retarget.RetargetError, match=r"do not follow.*DEF-upper_arm\.L"):
        retarget.retarget(source, rig, deform)
    assert all(np.allclose(np.array(b.matrix_basis), before[b.name]) for b in rig.pose.bones)
    assert rig.animation_data is None or rig.animation_data.action is None
