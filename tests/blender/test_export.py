"""Export through Blender's exporters, then read the files back and check bones, frames and poses.

Besides Blender's own importers, independent readers check the real bake's files: the Khronos glTF
validator on the .glb (npm package, installed by ``scripts/install_gltf_validator.sh``; skipped
with the reason when npm is missing), ``bvhio`` (a third-party BVH parser) on the .bvh.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import bpy
import numpy as np
import pytest
from mathutils import Vector

from anylift_blender import exporting
from anylift_blender.baking import keys

BONES = {  # name: (head, tail, parent)
    "pelvis": ((0, 0, 1.0), (0, 0, 1.2), None),
    "spine": ((0, 0, 1.2), (0, 0, 1.5), "pelvis"),
    "left_hip": ((0.1, 0, 0.95), (0.1, 0, 0.5), "pelvis"),
    "left_knee": ((0.1, 0, 0.5), (0.1, 0, 0.08), "left_hip"),
    "right_hip": ((-0.1, 0, 0.95), (-0.1, 0, 0.5), "pelvis"),
    "right_knee": ((-0.1, 0, 0.5), (-0.1, 0, 0.08), "right_hip"),
}
FIRST, LAST = 1, 12
REPO = Path(__file__).resolve().parents[2]


def make_rig():
    """A 6-bone armature keyed on frames 1..12 and a mesh skinned to it."""
    arm = bpy.data.armatures.new("SMPL")
    rig = bpy.data.objects.new("SMPL", arm)
    bpy.context.scene.collection.objects.link(rig)
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    for name, (head, tail, parent) in BONES.items():
        eb = arm.edit_bones.new(name)
        eb.head, eb.tail = Vector(head), Vector(tail)
        if parent:
            eb.parent = arm.edit_bones[parent]
    bpy.ops.object.mode_set(mode="OBJECT")

    frames = np.arange(FIRST, LAST + 1, dtype=float)
    t = (frames - FIRST) / (LAST - FIRST)
    bag = keys.new_action(rig)
    for name, axis, amount in (("left_hip", 0, 50.0), ("left_knee", 0, -70.0), ("spine", 1, 20.0)):
        half = math.radians(amount) * t / 2
        q = np.zeros((len(frames), 4))
        q[:, 0] = np.cos(half)
        q[:, 1 + axis] = np.sin(half)
        keys.write_channels(bag, f'pose.bones["{name}"].rotation_quaternion', frames, q, group=name)
    loc = np.stack([0.3 * t, 0.8 * t, 0 * t], axis=1)
    keys.write_channels(bag, 'pose.bones["pelvis"].location', frames, loc, group="pelvis")

    mesh = bpy.data.meshes.new("Body")
    verts = [(x, y, z) for x in (-0.15, 0.15) for y in (-0.1, 0.1) for z in (0.1, 1.5)]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 2, 6, 4), (1, 5, 7, 3), (0, 4, 5, 1), (2, 3, 7, 6)]
    mesh.from_pydata(verts, [], faces)
    body = bpy.data.objects.new("Body", mesh)
    bpy.context.scene.collection.objects.link(body)
    body.parent = rig
    group = body.vertex_groups.new(name="pelvis")
    group.add(list(range(8)), 1.0, "REPLACE")
    body.modifiers.new("Armature", "ARMATURE").object = rig
    return rig, body


def heads_at(rig, frame):
    bpy.context.scene.frame_set(frame)
    return {pb.name: np.array(rig.matrix_world @ pb.head) for pb in rig.pose.bones}


def imported_armature(before):
    new = [o for o in bpy.context.scene.objects if o.type == "ARMATURE" and o.name not in before]
    assert len(new) == 1, [o.name for o in new]
    return new[0]


@pytest.fixture
def rig(clean_scene):
    return make_rig()


def test_bvh_round_trip(rig, tmp_path):
    rig_obj, _ = rig
    want = {f: heads_at(rig_obj, f) for f in (1, 7, 12)}
    out = exporting.export_scene(tmp_path / "walk.bvh", "bvh")
    assert out.stat().st_size > 0
    text = out.read_text()
    assert f"Frames: {LAST - FIRST + 1}" in text
    before = set(bpy.data.objects.keys())
    bpy.ops.import_anim.bvh(filepath=str(out), frame_start=FIRST, rotate_mode="NATIVE")
    back = imported_armature(before)
    assert set(back.data.bones.keys()) == set(BONES)
    start, end = back.animation_data.action.frame_range
    assert (round(start), round(end)) == (FIRST, LAST)
    for frame, heads in want.items():
        got = heads_at(back, frame)
        for name in BONES:
            assert np.allclose(got[name], heads[name], atol=2e-3), (frame, name, got[name], heads[name])


def test_fbx_round_trip(rig, tmp_path):
    rig_obj, _ = rig
    want = heads_at(rig_obj, 12)
    out = exporting.export_scene(tmp_path / "walk.fbx", "fbx")
    assert out.stat().st_size > 1000
    bpy.ops.wm.read_factory_settings(use_empty=True)
    # The exporter writes frame f at time f / fps; the importer adds anim_offset (default 1).
    bpy.ops.import_scene.fbx(filepath=str(out), anim_offset=0.0)
    back = imported_armature(set())
    assert set(back.data.bones.keys()) == set(BONES)  # no leaf bones added
    assert [o.name for o in bpy.context.scene.objects if o.type == "MESH"] == ["Body"]
    start, end = back.animation_data.action.frame_range
    assert (round(start), round(end)) == (FIRST, LAST)
    got = heads_at(back, 12)
    for name in BONES:
        assert np.allclose(got[name], want[name], atol=2e-3), name


def test_glb_round_trip(rig, tmp_path):
    rig_obj, _ = rig
    want = heads_at(rig_obj, 12)
    out = exporting.export_scene(tmp_path / "walk.glb", "glb")
    assert out.read_bytes()[:4] == b"glTF"
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=str(out))
    back = imported_armature(set())
    assert set(back.data.bones.keys()) == set(BONES)
    assert any(o.type == "MESH" for o in bpy.context.scene.objects)
    start, end = back.animation_data.action.frame_range
    assert round(end) - round(start) == LAST - FIRST
    got = heads_at(back, round(start) + LAST - FIRST)
    for name in BONES:
        assert np.allclose(got[name], want[name], atol=2e-3), name


def test_state_restored_and_errors(rig, tmp_path):
    rig_obj, body = rig
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end, scene.frame_current = 5, 50, 9
    body.select_set(True)
    bpy.context.view_layer.objects.active = body
    exporting.export_scene(tmp_path / "x.bvh", "bvh", rig_obj)
    assert (scene.frame_start, scene.frame_end, scene.frame_current) == (5, 50, 9)
    assert bpy.context.view_layer.objects.active == body and body.select_get() and not rig_obj.select_get()
    with pytest.raises(ValueError, match="unknown export format"):
        exporting.export_scene(tmp_path / "x.obj", "obj", rig_obj)
    with pytest.raises(ValueError, match="not an armature"):
        exporting.export_scene(tmp_path / "x.fbx", "fbx", body)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bvh"]  # no temporary files left


def test_find_armature(clean_scene):
    with pytest.raises(ValueError, match="no armature"):
        exporting.find_armature()
    rig, _ = make_rig()
    other = bpy.data.objects.new("Other", bpy.data.armatures.new("Other"))
    bpy.context.scene.collection.objects.link(other)
    bpy.context.view_layer.objects.active = other
    assert exporting.find_armature() == rig  # SMPL wins over the active one
    assert exporting.frame_range(rig) == (FIRST, LAST)


def test_export_operator(addon, tmp_path):
    _, body = make_rig()
    settings = bpy.context.scene.anylift
    settings.export_format = "bvh"
    settings.export_path = str(tmp_path / "from_settings")
    bpy.context.view_layer.objects.active = body  # not an armature: SMPL is exported
    assert bpy.ops.anylift.export() == {"FINISHED"}
    assert "Frames: 12" in (tmp_path / "from_settings.bvh").read_text()
    assert bpy.ops.anylift.export(filepath=str(tmp_path / "clip.glb"), format="glb") == {"FINISHED"}
    assert (tmp_path / "clip.glb").read_bytes()[:4] == b"glTF"
    settings.export_path = ""
    with pytest.raises(RuntimeError, match="No export path"):
        bpy.ops.anylift.export()


def test_export_real_bake(addon, result_npz, tmp_path):
    path, motion = result_npz
    assert bpy.ops.anylift.import_result(filepath=str(path)) == {"FINISHED"}
    frames = len(motion.joints)
    out = exporting.export_scene(tmp_path / "bake.bvh", "bvh")
    assert f"Frames: {frames}" in out.read_text()
    fbx = exporting.export_scene(tmp_path / "bake.fbx", "fbx")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.fbx(filepath=str(fbx), anim_offset=0.0)
    back = imported_armature(set())
    assert len(back.data.bones) == 24
    meshes = [o for o in bpy.context.scene.objects if o.type == "MESH"]
    assert [len(m.data.vertices) for m in meshes] == [6890]
    start, end = back.animation_data.action.frame_range
    assert round(end) - round(start) + 1 == frames


def gltf_validate(path: Path) -> dict:
    """The Khronos glTF validator's report on ``path`` (skips the test when npm is missing)."""
    install = subprocess.run(
        ["bash", str(REPO / "scripts" / "install_gltf_validator.sh")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if install.returncode == 3:
        pytest.skip(install.stderr.strip())
    assert install.returncode == 0, install.stderr
    env = dict(os.environ, NODE_PATH=str(Path(install.stdout.strip()) / "node_modules"))
    proc = subprocess.run(
        ["node", str(REPO / "scripts" / "gltf_validate.js"), str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_real_bake_exports_pass_independent_readers(addon, result_npz, tmp_path):
    import bvhio

    from anylift.body.model import YUP_TO_ZUP
    from anylift_blender.baking.armature import SMPL_BONES

    path, motion = result_npz
    assert bpy.ops.anylift.import_result(filepath=str(path)) == {"FINISHED"}
    T = len(motion.joints)
    checked = (0, T // 2, T - 1)

    # glTF: the Khronos validator finds no error; one skinned, animated body.
    report = gltf_validate(exporting.export_scene(tmp_path / "bake.glb", "glb"))
    errors = [m for m in report["issues"]["messages"] if m["severity"] == 0]
    assert report["issues"]["numErrors"] == 0, errors[:5]
    info = report["info"]
    assert info["hasSkins"] and info["animationCount"] == 1 and info["totalVertexCount"] >= 6890

    # BVH: bvhio reads 24 joints, T frames at the result's rate, and the joints where the result has
    # them (BVH is Y up: the engine's Z-up world is YUP_TO_ZUP @ p).
    bvh = exporting.export_scene(tmp_path / "bake.bvh", "bvh")
    container = bvhio.readAsBvh(str(bvh))
    assert container.FrameCount == T and abs(container.FrameTime - 1.0 / motion.fps) < 1e-6
    root = bvhio.readAsHierarchy(str(bvh))
    joints = {joint.Name: joint for joint, _index, _depth in root.layout()}
    assert set(joints) == set(SMPL_BONES)
    for t in checked:
        root.loadPose(t, recursive=True)
        yup = np.array([tuple(joints[name].PositionWorld) for name in SMPL_BONES])
        np.testing.assert_allclose(yup @ YUP_TO_ZUP.T, motion.joints[t], atol=2e-3, err_msg=f"frame {t}")

    # FBX through Blender's importer with its defaults: the animation comes back one frame later
    # (anim_offset=1), so result frame t sits on scene frame t + 2 instead of t + 1.
    fbx = exporting.export_scene(tmp_path / "bake.fbx", "fbx")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.fbx(filepath=str(fbx))
    back = imported_armature(set())
    start, end = back.animation_data.action.frame_range
    assert (round(start), round(end)) == (2, T + 1)
    for t in checked:
        got = heads_at(back, t + 2)
        heads = np.array([got[name] for name in SMPL_BONES])
        np.testing.assert_allclose(heads, motion.joints[t], atol=2e-3, err_msg=f"frame {t}")
