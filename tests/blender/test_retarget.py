"""Retargeting inside real Blender: presets, automatic mapping, and the world-space transfer."""

from __future__ import annotations

import math

import bpy
import numpy as np
import pytest
from mathutils import Matrix, Vector

from anylift_blender import retarget
from anylift_blender.baking import keys

# SMPL-like T-pose, Z-up, facing -Y (the character's left is +X): joint -> (head, parent, tail joint).
SMPL_T_POSE = {
    "pelvis": ((0.0, 0.0, 0.95), None, "spine1"),
    "left_hip": ((0.09, 0.0, 0.88), "pelvis", "left_knee"),
    "right_hip": ((-0.09, 0.0, 0.88), "pelvis", "right_knee"),
    "spine1": ((0.0, 0.0, 1.05), "pelvis", "spine2"),
    "left_knee": ((0.10, 0.0, 0.49), "left_hip", "left_ankle"),
    "right_knee": ((-0.10, 0.0, 0.49), "right_hip", "right_ankle"),
    "spine2": ((0.0, 0.0, 1.18), "spine1", "spine3"),
    "left_ankle": ((0.10, 0.0, 0.09), "left_knee", "left_foot"),
    "right_ankle": ((-0.10, 0.0, 0.09), "right_knee", "right_foot"),
    "spine3": ((0.0, 0.0, 1.30), "spine2", "neck"),
    "left_foot": ((0.10, -0.12, 0.03), "left_ankle", (0.10, -0.18, 0.03)),
    "right_foot": ((-0.10, -0.12, 0.03), "right_ankle", (-0.10, -0.18, 0.03)),
    "neck": ((0.0, 0.0, 1.50), "spine3", "head"),
    "left_collar": ((0.07, 0.0, 1.43), "spine3", "left_shoulder"),
    "right_collar": ((-0.07, 0.0, 1.43), "spine3", "right_shoulder"),
    "head": ((0.0, 0.0, 1.62), "neck", (0.0, 0.0, 1.80)),
    "left_shoulder": ((0.18, 0.0, 1.43), "left_collar", "left_elbow"),
    "right_shoulder": ((-0.18, 0.0, 1.43), "right_collar", "right_elbow"),
    "left_elbow": ((0.45, 0.0, 1.43), "left_shoulder", "left_wrist"),
    "right_elbow": ((-0.45, 0.0, 1.43), "right_shoulder", "right_wrist"),
    "left_wrist": ((0.70, 0.0, 1.43), "left_elbow", "left_hand"),
    "right_wrist": ((-0.70, 0.0, 1.43), "right_elbow", "right_hand"),
    "left_hand": ((0.78, 0.0, 1.43), "left_wrist", (0.86, 0.0, 1.43)),
    "right_hand": ((-0.78, 0.0, 1.43), "right_wrist", (-0.86, 0.0, 1.43)),
}

SMPL_TO_STEM = {
    "pelvis": "hips", "spine1": "spine_a", "spine2": "spine_b", "spine3": "spine_c", "neck": "neck",
    "head": "head", "collar": "collar", "shoulder": "upperarm", "elbow": "forearm", "wrist": "hand",
    "hip": "thigh", "knee": "shin", "ankle": "foot", "foot": "toe",
}  # fmt: skip


def build_armature(name, joints, *, rolls=None, scale=1.0, location=(0, 0, 0), unit=1.0):
    """Armature object from ``{bone: (head, parent, tail joint or point)}``; ``unit`` scales the
    bone coordinates (an FBX-style rig: bones in cm, object scaled 0.01)."""
    arm = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, arm)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    edit = {}
    for bone, (head, _parent, tail) in joints.items():
        eb = arm.edit_bones.new(bone)
        eb.head = Vector(head) * unit
        end = joints[tail][0] if isinstance(tail, str) else tail
        eb.tail = Vector(end) * unit
        eb.roll = (rolls or {}).get(bone, 0.0)
        edit[bone] = eb
    for bone, (_head, parent, _tail) in joints.items():
        if parent is not None:
            edit[bone].parent = edit[parent]
    bpy.ops.object.mode_set(mode="OBJECT")
    obj.scale = (scale, scale, scale)
    obj.location = location
    return obj


def renamed(joints, rename, *, a_pose=0.0, sizes=1.0, extra=None):
    """A copy of ``joints`` under other names, arms lowered by ``a_pose`` radians, lengths scaled."""
    out = {}

    def point(p):
        p = Vector(p)
        if abs(p.x) > 0.15 and p.z > 1.3:  # arm points: rotate about the shoulder
            side = 1 if p.x > 0 else -1
            pivot = Vector((0.18 * side, 0.0, 1.43))
            p = pivot + Matrix.Rotation(-a_pose * side, 3, "Y") @ (p - pivot)
        return tuple(np.array(p) * sizes)

    for joint, (head, parent, tail) in joints.items():
        tail = rename[tail] if isinstance(tail, str) else point(tail)
        out[rename[joint]] = (point(head), rename.get(parent), tail)
    for bone, value in (extra or {}).items():
        out[bone] = value
    return out


def names_for(style):
    """SMPL joint -> bone name in ``style`` ("mixamo", "rigify", "unreal")."""
    out = {}
    for joint in SMPL_T_POSE:
        side, _, stem = joint.partition("_") if joint.startswith(("left_", "right_")) else ("", "", joint)
        if style == "mixamo":
            table = {
                "pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck",
                "head": "Head", "collar": "Shoulder", "shoulder": "Arm", "elbow": "ForeArm", "wrist": "Hand",
                "hip": "UpLeg", "knee": "Leg", "ankle": "Foot", "foot": "ToeBase", "hand": "HandMiddle1",
            }  # fmt: skip
            out[joint] = "mixamorig:" + side.capitalize() + table[stem]
        elif style == "rigify":
            table = {
                "pelvis": "spine", "spine1": "spine.001", "spine2": "spine.002", "spine3": "spine.003",
                "neck": "spine.004", "head": "spine.006", "collar": "shoulder", "shoulder": "upper_arm",
                "elbow": "forearm", "wrist": "hand", "hip": "thigh", "knee": "shin", "ankle": "foot",
                "foot": "toe", "hand": "f_middle.01",
            }  # fmt: skip
            out[joint] = "DEF-" + table[stem] + (f".{side[0].upper()}" if side else "")
        else:
            table = {
                "pelvis": "pelvis", "spine1": "spine_01", "spine2": "spine_02", "spine3": "spine_03",
                "neck": "neck_01", "head": "head", "collar": "clavicle", "shoulder": "upperarm",
                "elbow": "lowerarm", "wrist": "hand", "hip": "thigh", "knee": "calf", "ankle": "foot",
                "foot": "ball", "hand": "middle_01",
            }  # fmt: skip
            out[joint] = table[stem] + (f"_{side[0]}" if side else "")
    return out


def animate_source(source, frames):
    """Bend the left elbow up to 90 degrees, swing the right hip, turn the spine, walk forward."""
    t = (frames - frames[0]) / (frames[-1] - frames[0])
    bag = keys.new_action(source)
    rotations = {
        "left_elbow": ("Z", math.radians(90.0) * t),
        "right_hip": ("X", math.radians(-40.0) * t),
        "spine2": ("Y", math.radians(25.0) * t),
        "left_shoulder": ("X", math.radians(30.0) * t),
    }
    for bone, (axis, angle) in rotations.items():
        source.pose.bones[bone].rotation_mode = "QUATERNION"
        q = np.zeros((len(frames), 4))
        q[:, 0] = np.cos(angle / 2)
        q[:, 1 + "XYZ".index(axis)] = np.sin(angle / 2)
        keys.write_channels(bag, f'pose.bones["{bone}"].rotation_quaternion', frames, q, group=bone)
    loc = np.zeros((len(frames), 3))
    loc[:, 1] = 0.6 * t
    loc[:, 0] = 0.5 * t
    keys.write_channels(bag, 'pose.bones["pelvis"].location', frames, loc, group="pelvis")


def world_direction(obj, bone):
    m = obj.matrix_world @ obj.pose.bones[bone].matrix
    return np.array(m.to_3x3().col[1].normalized())


def world_head(obj, bone):
    return np.array(obj.matrix_world @ obj.pose.bones[bone].head)


def angle_deg(a, b):
    return math.degrees(math.acos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1, 1)))


@pytest.fixture
def source(clean_scene):
    obj = build_armature("SMPL", SMPL_T_POSE, location=(0.3, -0.2, 0.0))
    animate_source(obj, np.arange(1, 6, dtype=float))
    return obj


def _target(style, *, a_pose, sizes, unit=1.0, scale=1.0, rolls_seed=0, extra=None):
    rename = names_for(style)
    joints = renamed(SMPL_T_POSE, rename, a_pose=a_pose, sizes=sizes, extra=extra)
    rng = np.random.default_rng(rolls_seed)
    rolls = {name: float(rng.uniform(-math.pi, math.pi)) for name in joints}
    return build_armature(
        style, joints, rolls=rolls, scale=scale, unit=unit, location=(-1.5, 0.4, 0.0)
    ), rename


def check_follow(source, target, mapping, bones, frames=(1, 3, 5), tol=2.0):
    scene = bpy.context.scene
    for frame in frames:
        scene.frame_set(frame)
        for joint in bones:
            got = world_direction(target, mapping[joint])
            want = world_direction(source, joint)
            assert angle_deg(got, want) < tol, (frame, joint, angle_deg(got, want))


def test_mixamo_preset_follows_source(source):
    extra = {"mixamorig:HeadTop_End": ((0.0, 0.0, 1.8), "mixamorig:Head", (0.0, 0.0, 1.9))}
    target, _ = _target("mixamo", a_pose=math.radians(40), sizes=1.15, unit=100.0, scale=0.01, extra=extra)
    mapping = retarget.retarget(source, target)  # preset detected from the names
    assert mapping["left_elbow"] == "mixamorig:LeftForeArm"
    assert mapping["left_hip"] == "mixamorig:LeftUpLeg"
    assert mapping["pelvis"] == "mixamorig:Hips"
    assert "left_hand" not in mapping  # Mixamo's hand has fingers, no SMPL hand bone
    check_follow(source, target, mapping, ["left_elbow", "left_shoulder", "right_hip", "spine2", "neck"])
    # The bend really happened: the forearm turned as far as the source's (elbow 90 + shoulder 30).
    scene = bpy.context.scene
    scene.frame_set(1)
    before = world_direction(target, "mixamorig:LeftForeArm"), world_direction(source, "left_elbow")
    scene.frame_set(5)
    after = world_direction(target, "mixamorig:LeftForeArm"), world_direction(source, "left_elbow")
    assert angle_deg(before[1], after[1]) > 90.0
    assert angle_deg(before[0], after[0]) == pytest.approx(angle_deg(before[1], after[1]), abs=1.0)

    # Unmapped bones got no keys and stay at rest.
    bag = keys.channelbag_of(target)
    keyed = {fc.data_path.split('"')[1] for fc in bag.fcurves}
    assert "mixamorig:HeadTop_End" not in keyed
    assert "mixamorig:LeftHandMiddle1" not in keyed
    assert keyed == set(mapping.values())
    for frame in (1, 5):
        scene.frame_set(frame)
        assert np.allclose(np.array(target.pose.bones["mixamorig:HeadTop_End"].matrix_basis), np.eye(4))


def test_hips_follow_scaled_by_leg_length(source):
    target, _ = _target("mixamo", a_pose=0.0, sizes=1.25, unit=100.0, scale=0.01)
    retarget.retarget(source, target, "mixamo")
    scene = bpy.context.scene
    scene.frame_set(1)
    s0, t0 = world_head(source, "pelvis"), world_head(target, "mixamorig:Hips")
    scene.frame_set(5)
    s1, t1 = world_head(source, "pelvis"), world_head(target, "mixamorig:Hips")
    assert np.linalg.norm(s1 - s0) > 0.5
    # Legs 1.25x longer: 1.25x the displacement, in the same world direction.
    assert np.allclose(t1 - t0, 1.25 * (s1 - s0), atol=1e-3)


def test_rigify_preset_follows_source(source):
    rename = names_for("rigify")
    # A Rigify deform rig: twist bones between upper arm and forearm, an extra neck bone.
    joints = renamed(SMPL_T_POSE, rename, a_pose=math.radians(30), sizes=0.9)
    fore_head = joints["DEF-forearm.L"][0]
    up_head = joints["DEF-upper_arm.L"][0]
    mid = tuple((np.array(up_head) + np.array(fore_head)) / 2)
    joints["DEF-upper_arm.L"] = (up_head, "DEF-shoulder.L", mid)
    joints["DEF-upper_arm.L.001"] = (mid, "DEF-upper_arm.L", "DEF-forearm.L")
    joints["DEF-forearm.L"] = (fore_head, "DEF-upper_arm.L.001", "DEF-hand.L")
    neck_head, head_head = np.array(joints["DEF-spine.004"][0]), np.array(joints["DEF-spine.006"][0])
    joints["DEF-spine.004"] = (tuple(neck_head), "DEF-spine.003", tuple((neck_head + head_head) / 2))
    joints["DEF-spine.005"] = (tuple((neck_head + head_head) / 2), "DEF-spine.004", "DEF-spine.006")
    joints["DEF-spine.006"] = (tuple(head_head), "DEF-spine.005", joints["DEF-spine.006"][2])
    rng = np.random.default_rng(3)
    rolls = {name: float(rng.uniform(-math.pi, math.pi)) for name in joints}
    target = build_armature("rig", joints, rolls=rolls, location=(1.0, 1.0, 0.0))
    assert retarget.detect_preset(target.data.bones.keys()) == "rigify"
    mapping = retarget.retarget(source, target, "rigify")
    assert mapping["left_elbow"] == "DEF-forearm.L"
    assert mapping["neck"] == "DEF-spine.004" and mapping["head"] == "DEF-spine.006"
    assert "DEF-upper_arm.L.001" not in mapping.values()
    check_follow(source, target, mapping, ["left_elbow", "left_shoulder", "right_hip", "spine2"])
    bpy.context.scene.frame_set(5)
    assert np.allclose(np.array(target.pose.bones["DEF-upper_arm.L.001"].matrix_basis), np.eye(4))


def test_auto_map_custom_rig(source):
    target, rename = _target("unreal", a_pose=math.radians(45), sizes=1.05, extra={
        "root": ((0.0, 0.0, 0.0), None, (0.0, 0.3, 0.0)),
        "upperarm_twist_01_l": ((0.3, 0.0, 1.43), "upperarm_l", (0.35, 0.0, 1.43)),
    })  # fmt: skip
    bpy.context.view_layer.objects.active = target
    bpy.ops.object.mode_set(mode="EDIT")
    target.data.edit_bones["pelvis"].parent = target.data.edit_bones["root"]
    bpy.ops.object.mode_set(mode="OBJECT")
    assert retarget.detect_preset(target.data.bones.keys()) is None
    mapping = retarget.auto_map(target)
    expected = {joint: rename[joint] for joint in SMPL_T_POSE if not joint.endswith("_hand")}
    assert mapping == expected
    used = retarget.retarget(source, target)
    assert used == expected
    check_follow(source, target, mapping, ["left_elbow", "left_shoulder", "right_hip", "spine2"])


def test_explicit_pairs_and_errors(source):
    target, rename = _target("unreal", a_pose=0.0, sizes=1.0)
    pairs = [(joint, rename[joint]) for joint in SMPL_T_POSE if not joint.endswith("_hand")]
    used = retarget.retarget(source, target, [*pairs, ("left_hand", "no_such_bone")])
    assert used == dict(pairs)
    bag = keys.channelbag_of(target)
    assert {fc.data_path.split('"')[1] for fc in bag.fcurves} == set(dict(pairs).values())
    with pytest.raises(ValueError, match="no bone"):
        retarget.retarget(source, target, {"left_elbow": "missing"})
    with pytest.raises(KeyError, match="unknown retarget preset"):
        retarget.retarget(source, target, "maya")


def test_too_few_limbs_fail_and_leave_the_rig(source):
    """A map that would move fewer than the core limbs is an error, not a success."""
    target, _ = _target("unreal", a_pose=0.0, sizes=1.0)
    with pytest.raises(retarget.RetargetError, match=r"left_shoulder.*map to no bone"):
        retarget.retarget(source, target, [("left_elbow", "lowerarm_l"), ("left_knee", "calf_l")])
    assert target.animation_data is None or target.animation_data.action is None


def test_rig_that_does_not_follow_fails_and_is_restored(source):
    """Constraints overriding the keyed bones: the deform bones stay put, so the retarget fails."""
    target, rename = _target("mixamo", a_pose=0.0, sizes=1.0)
    old = bpy.data.actions.new("ArtistWalk")
    target.animation_data_create().action = old
    pb = target.pose.bones[rename["left_elbow"]]
    pb.constraints.new("LIMIT_ROTATION").use_limit_x = True  # the elbow bend (about local X) is blocked
    for c in pb.constraints:
        c.use_limit_y = c.use_limit_z = True
        c.owner_space = "LOCAL"
    before = {b.name: np.array(b.matrix_basis) for b in target.pose.bones}
    with pytest.raises(retarget.RetargetError, match="do not follow"):
        retarget.retarget(source, target)
    assert target.animation_data.action == old
    for b in target.pose.bones:
        assert np.allclose(np.array(b.matrix_basis), before[b.name])


def test_existing_target_action_is_kept(source):
    target, _ = _target("mixamo", a_pose=0.0, sizes=1.0)
    old = bpy.data.actions.new("ArtistWalk")
    target.animation_data_create().action = old
    retarget.retarget(source, target)
    assert "ArtistWalk" in bpy.data.actions
    assert target.animation_data.action.name == "mixamo_AnyLift"


def test_euler_source_channels(clean_scene):
    # sample_basis reads Euler channels and frames between keys too: a bone keyed in ZXY Euler.
    src = build_armature("SMPL", SMPL_T_POSE)
    src.pose.bones["left_elbow"].rotation_mode = "ZXY"
    bag = keys.new_action(src)
    frames = np.array([1.0, 11.0])
    keys.write_channels(
        bag, 'pose.bones["left_elbow"].rotation_euler', frames, [[0.2, -0.4, 0.5], [0.2, -0.4, 0.5]]
    )
    basis = retarget.sample_basis(src, np.array([1.0, 6.5]))
    bpy.context.scene.frame_set(6)
    want = np.array(src.pose.bones["left_elbow"].matrix_basis)
    assert np.allclose(basis["left_elbow"][1], want, atol=1e-6)
    fk = retarget.pose_matrices(src, basis)
    assert np.allclose(fk["left_wrist"][1], np.array(src.pose.bones["left_wrist"].matrix), atol=1e-5)


def test_retarget_operator_with_edited_map(addon, source):
    scene = bpy.context.scene
    target, _ = _target("mixamo", a_pose=math.radians(30), sizes=1.0)
    scene.anylift.target_armature = target
    assert bpy.ops.anylift.fill_bone_map() == {"FINISHED"}
    rows = {row.source: row for row in target.anylift_bone_map}
    assert [row.source for row in target.anylift_bone_map] == list(retarget.SMPL_BONES)
    assert rows["left_elbow"].target == "mixamorig:LeftForeArm" and rows["left_hand"].target == ""
    rows["neck"].target = ""  # the artist unmaps the neck
    assert bpy.ops.anylift.retarget() == {"FINISHED"}
    keyed = {fc.data_path.split('"')[1] for fc in keys.channelbag_of(target).fcurves}
    assert "mixamorig:LeftArm" in keyed and "mixamorig:Neck" not in keyed
    rows["left_elbow"].target = ""  # without a forearm the rig would not follow: an error
    with pytest.raises(RuntimeError, match="left_elbow"):
        bpy.ops.anylift.retarget()
    scene.anylift.retarget_preset = "maya"
    with pytest.raises(RuntimeError, match="unknown retarget preset"):
        bpy.ops.anylift.fill_bone_map()


def test_retarget_operator_poll(addon):
    assert not bpy.ops.anylift.retarget.poll()
    target, _ = _target("mixamo", a_pose=0.0, sizes=1.0)
    bpy.context.scene.anylift.target_armature = target
    assert not bpy.ops.anylift.retarget.poll()  # no baked SMPL motion yet


def test_retarget_real_bake_onto_mixamo(addon, result_npz):
    """The SMPL armature the add-on bakes (real body model rest, baked keys) drives a Mixamo rig."""
    path, motion = result_npz
    assert bpy.ops.anylift.import_result(filepath=str(path)) == {"FINISHED"}
    source = bpy.data.objects["SMPL"]
    target, _ = _target("mixamo", a_pose=math.radians(35), sizes=1.1, unit=100.0, scale=0.01)
    bpy.context.scene.anylift.target_armature = target
    assert bpy.ops.anylift.retarget() == {"FINISHED"}
    mapping = retarget.bone_map_for(target)
    last = len(motion.joints)
    bones = ["left_elbow", "right_elbow", "left_shoulder", "left_hip", "right_knee", "spine3", "head"]
    check_follow(source, target, mapping, bones, frames=(1, last // 2, last))
    scene = bpy.context.scene
    scene.frame_set(1)
    s0, t0 = world_head(source, "pelvis"), world_head(target, "mixamorig:Hips")
    scene.frame_set(last)
    s1, t1 = world_head(source, "pelvis"), world_head(target, "mixamorig:Hips")
    ratio = np.linalg.norm(t1 - t0) / max(np.linalg.norm(s1 - s0), 1e-9)
    assert np.dot(t1 - t0, s1 - s0) > 0 and 0.5 < ratio < 2.0
