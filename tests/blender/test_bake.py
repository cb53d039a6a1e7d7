"""Baking results into real Blender: armature, camera, objects, saving, failures."""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from bpy_extras.object_utils import world_to_camera_view
from mathutils import Vector
from scipy.spatial.transform import Rotation

from anylift_blender.baking import armature as armature_baking
from anylift_blender.baking import filters, keys
from anylift_blender.baking.transaction import datablock_names


def _heads(arm) -> np.ndarray:
    return np.array([np.array(arm.matrix_world @ arm.pose.bones[n].head) for n in armature_baking.SMPL_BONES])


@pytest.fixture
def baked(addon, result_npz):
    path, motion = result_npz
    assert bpy.ops.anylift.import_result(filepath=str(path)) == {"FINISHED"}
    return motion


def test_armature_heads_follow_joints(baked):
    motion = baked
    T = len(motion.joints)
    arm = bpy.data.objects["SMPL"]
    assert arm.type == "ARMATURE"
    assert [b.name for b in arm.data.bones] and len(arm.data.bones) == 24
    assert {b.name for b in arm.data.bones} == set(armature_baking.SMPL_BONES)
    bag = keys.channelbag_of(arm)
    # pelvis location (3) + 24 quaternions (4 each), one key per frame on every channel
    assert len(bag.fcurves) == 3 + 24 * 4
    assert all(len(fc.keyframe_points) == T for fc in bag.fcurves)
    scene = bpy.context.scene
    assert (scene.frame_start, scene.frame_end, scene.render.fps) == (1, T, 30)
    for t in (0, T // 2, T - 1):
        scene.frame_set(t + 1)  # scene frame 1 is result frame 0
        assert np.abs(_heads(arm) - motion.joints[t]).max() < 1e-3
    # The body mesh is skinned to the armature.
    body = bpy.data.objects["SMPL Body"]
    assert len(body.data.vertices) == 6890
    assert {g.name for g in body.vertex_groups} == set(armature_baking.SMPL_BONES)
    assert body.modifiers["Armature"].object == arm


def test_skinned_mesh_follows_the_body_model(baked):
    """The deformed mesh matches the engine's vertices (proxy: no pose blend shapes)."""
    import torch

    from anylift.body.model import load_body_model
    from anylift.body.proxy import proxy_model_path

    motion = baked
    t = 5
    with torch.no_grad():
        out = load_body_model(proxy_model_path()).forward(
            torch.tensor(motion.betas[None], dtype=torch.float32),
            torch.tensor(motion.global_orient[t : t + 1], dtype=torch.float32),
            torch.tensor(motion.body_pose[t : t + 1], dtype=torch.float32),
            torch.tensor(motion.transl[t : t + 1], dtype=torch.float32),
        )
    scene = bpy.context.scene
    scene.frame_set(t + 1)
    body = bpy.data.objects["SMPL Body"].evaluated_get(bpy.context.evaluated_depsgraph_get())
    co = np.empty(len(body.data.vertices) * 3, dtype=np.float32)
    body.data.vertices.foreach_get("co", co)
    error = np.linalg.norm(co.reshape(-1, 3) - out.vertices[0].numpy(), axis=1)
    assert np.percentile(error, 99) < 2e-3


def test_camera_reproduces_projection(baked):
    from anylift.geometry.camera import project

    motion = baked
    scene = bpy.context.scene
    cam = bpy.data.objects["AnyLift Camera"]
    assert scene.camera == cam
    W, H = scene.render.resolution_x, scene.render.resolution_y
    assert (W, H) == (1960, 1040)  # twice the off-centre principal point
    expected = project(motion.keypoints3d, motion.intrinsics, motion.world_to_camera)
    for t in (0, 11, len(motion.joints) - 1):
        scene.frame_set(t + 1)
        ndc = np.array([tuple(world_to_camera_view(scene, cam, Vector(p))) for p in motion.keypoints3d[t]])
        pixels = np.stack([ndc[:, 0] * W, (1.0 - ndc[:, 1]) * H], -1)
        assert np.abs(pixels - expected[t]).max() < 0.5


def test_objects_follow_rotation_translation_scale(baked):
    motion = baked
    box = bpy.data.objects["box"]
    scene = bpy.context.scene
    for t in (0, 9, 23):
        scene.frame_set(t + 1)
        m = np.array(box.matrix_world)
        assert np.allclose(m[:3, 3], motion.object_translation[0, t], atol=1e-5)
        scale = np.linalg.norm(m[:3, :3], axis=0)
        assert np.allclose(scale, motion.object_scale[0], atol=1e-5)
        assert np.allclose(m[:3, :3] / scale, motion.object_rotation[0, t], atol=1e-5)


def test_saved_blend_keeps_the_bake(baked, tmp_path):
    path = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    assert "SMPL" not in bpy.data.objects
    bpy.ops.wm.open_mainfile(filepath=str(path))
    arm = bpy.data.objects["SMPL"]
    assert bpy.data.objects["SMPL Body"].parent == arm
    assert arm.animation_data.action.name == "SMPLAction"
    assert bpy.data.objects["AnyLift Camera"].animation_data.action is not None
    assert bpy.data.objects["box"].animation_data.action is not None
    bpy.context.scene.frame_set(8)
    assert np.abs(_heads(arm) - baked.joints[7]).max() < 1e-3


def test_rebake_replaces_the_previous_one(baked, result_npz):
    path, _ = result_npz
    assert bpy.ops.anylift.import_result(filepath=str(path)) == {"FINISHED"}
    names = {o.name for o in bpy.data.objects}
    assert names == {"SMPL", "SMPL Body", "AnyLift Camera", "box"}
    assert sorted(a.name for a in bpy.data.actions) == ["AnyLift CameraAction", "SMPLAction", "boxAction"]
    assert all(a.users == 1 for a in bpy.data.actions)


def test_corrupt_result_leaves_scene_unchanged(baked, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 this is not an npz")
    before = datablock_names()
    frame_end = bpy.context.scene.frame_end
    with pytest.raises(RuntimeError, match=r"bad\.npz"):
        bpy.ops.anylift.import_result(filepath=str(bad))
    assert datablock_names() == before
    assert bpy.context.scene.frame_end == frame_end


def test_result_from_another_body_fails_cleanly(baked, tmp_path):
    """Joints that the body model cannot produce: the bake stops mid-way and removes what it made."""
    from anylift.io.motion import write_motion

    motion = baked
    other = tmp_path / "other.npz"
    motion_copy = type(motion)(**{**vars(motion), "joints": motion.joints * 1.1})
    write_motion(other, motion_copy)
    before = datablock_names()
    with pytest.raises(RuntimeError, match="another body model"):
        bpy.ops.anylift.import_result(filepath=str(other))
    assert datablock_names() == before
    assert (
        np.abs(_heads(bpy.data.objects["SMPL"]) - motion.joints[bpy.context.scene.frame_current - 1]).max()
        < 1e-3
    )


def test_bake_poll_explains(addon):
    assert not bpy.ops.anylift.bake.poll()
    with pytest.raises(RuntimeError, match="No result yet"):
        bpy.ops.anylift.bake()


def test_continuous_quaternions_remove_sign_flips():
    q = Rotation.from_rotvec(np.linspace([0, 0, 0], [0, 0, 6.0], 40)).as_quat()[:, [3, 0, 1, 2]]
    flipped = q * np.where(np.arange(40) % 3 == 0, -1.0, 1.0)[:, None]
    out = keys.continuous_quaternions(flipped)
    assert np.all(np.sum(out[1:] * out[:-1], axis=1) > 0)
    assert np.allclose(np.abs(np.sum(out * q, axis=1)), 1.0)


def test_foot_lock_stops_a_sliding_planted_foot():
    fps = 30.0
    T = 60
    root = np.stack([np.linspace(0, 0.6, T), np.zeros(T), np.full(T, 0.9)], -1)
    # Foot 0 is planted (low) but slides with the root; foot 1 swings high.
    feet = np.stack([root + np.array([0.1, 0.0, -0.9]), root + np.array([-0.1, 0.0, -0.5])], axis=1)
    locked = filters.lock_feet(root, feet, fps, speed=1.0)
    new_feet = feet + (locked - root)[:, None]
    slide_before = np.abs(np.diff(feet[10:50, 0, :2], axis=0)).sum()
    slide_after = np.abs(np.diff(new_feet[10:50, 0, :2], axis=0)).sum()
    assert slide_before > 0.3
    assert slide_after < 0.05 * slide_before
    assert np.allclose(locked[:, 2], root[:, 2])


def test_the_body_is_hidden_where_the_footage_does_not_show_the_person(addon, tmp_path):
    """A result whose person enters at frame 5 and leaves after frame 17 (``seen``): armature and
    mesh are hidden before and after (viewport and render), shown in between, gaps included."""
    import dataclasses

    from anylift.io.motion import write_motion

    from .conftest import build_motion

    seen = np.zeros(24, bool)
    seen[5:18] = True
    seen[10] = False  # an occlusion: the lift filled it in, the body stays
    path = tmp_path / "partial.npz"
    write_motion(path, dataclasses.replace(build_motion(), seen=seen))
    assert bpy.ops.anylift.import_result(filepath=str(path)) == {"FINISHED"}
    scene = bpy.context.scene
    for name in ("SMPL", "SMPL Body"):
        obj = bpy.data.objects[name]
        for t, hidden in ((0, True), (4, True), (5, False), (10, False), (17, False), (18, True), (23, True)):
            scene.frame_set(t + 1)
            assert (obj.hide_viewport, obj.hide_render) == (hidden, hidden), (name, t)
    # A result seen throughout gets no visibility keys at all.
    full = tmp_path / "full.npz"
    write_motion(full, dataclasses.replace(build_motion(), seen=np.ones(24, bool)))
    assert bpy.ops.anylift.import_result(filepath=str(full)) == {"FINISHED"}
    bag = keys.channelbag_of(bpy.data.objects["SMPL"])
    assert bag.fcurves.find("hide_viewport") is None
    assert bpy.data.objects["SMPL Body"].animation_data is None


def test_bakes_of_different_people_stay_side_by_side(addon, tmp_path):
    """Lift Selected bakes one person after another: each keeps its armature, body and objects under
    names with its track id, and baking a person again replaces only that person's."""
    import dataclasses

    from anylift.io.motion import write_motion
    from anylift_blender.baking.result import name_by_person
    from anylift_blender.results import bake_result_file

    from .conftest import build_motion

    scene = bpy.context.scene
    for pid in (2, 5, 2):
        path = tmp_path / f"r_{pid}.npz"
        write_motion(path, dataclasses.replace(build_motion(seed=pid), person=pid))
        name_by_person(bake_result_file(scene, path))
    names = sorted(o.name for o in bpy.data.objects)
    assert names == sorted(["AnyLift Camera", "SMPL person 2", "SMPL Body person 2", "box person 2",
                            "SMPL person 5", "SMPL Body person 5", "box person 5"])  # fmt: skip
    assert bpy.data.objects["SMPL Body person 5"].modifiers["Armature"].object.name == "SMPL person 5"
    # The tools (preview, retarget, uncertainty) act on the selected person's armature; with two and
    # none selected there is nothing to choose.
    from anylift_blender.baking.armature import baked_armature, skinned_body

    layer = bpy.context.view_layer
    layer.objects.active = None
    assert baked_armature(scene) is None
    layer.objects.active = bpy.data.objects["SMPL person 5"]
    assert baked_armature(scene).name == "SMPL person 5"
    assert skinned_body(baked_armature(scene)).name == "SMPL Body person 5"
    # A result without a track id takes the plain names; the people's bakes stay.
    path = tmp_path / "single.npz"
    write_motion(path, build_motion())
    bake_result_file(scene, path)
    assert {"SMPL", "SMPL Body", "box", "SMPL person 2", "SMPL person 5"} <= set(bpy.data.objects.keys())
