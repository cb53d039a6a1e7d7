"""Define Object Keypoints, their export, and HOI bakes that place a user's mesh by its keypoints."""

from __future__ import annotations

import json

import bmesh
import bpy
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from anylift.object_templates import get_template
from anylift_blender.baking.objects import compose_alignment
from anylift_blender.operators.object_keypoints import (
    canonical_keypoints,
    define_keypoints,
    similarity_transform,
)

BOX = get_template("box")
# A "scanned" box: the template's corners in centimetres, turned and moved in the mesh's coordinates,
# with extra vertices that are not keypoints.
SCAN_ROT = Rotation.from_rotvec([0.4, -0.2, 1.1]).as_matrix()
SCAN_OFFSET = np.array([12.0, -30.0, 5.0])
SCAN_UNITS = 100.0


def _scan_mesh(name: str = "Scan") -> tuple[bpy.types.Object, list[int]]:
    """The scanned box object (linked to the scene) and the vertex index of each template corner."""
    corners = (SCAN_UNITS * BOX.canonical) @ SCAN_ROT.T + SCAN_OFFSET
    extra = np.random.default_rng(0).normal(scale=10.0, size=(5, 3)) + SCAN_OFFSET
    verts = np.concatenate([extra[:2], corners[::-1], extra[2:]])  # corner order differs from index order
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([tuple(v) for v in verts], [], [])
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    order = [2 + (7 - i) for i in range(8)]
    return obj, order


def test_similarity_transform_recovers_a_similarity():
    rng = np.random.default_rng(1)
    src = rng.normal(size=(6, 3))
    rot = Rotation.from_rotvec([0.3, 2.0, -0.5]).as_matrix()
    dst = 0.01 * src @ rot.T + [1.0, 2.0, 3.0]
    m = similarity_transform(src, dst)
    assert np.abs(src @ m[:3, :3].T + m[:3, 3] - dst).max() < 1e-12
    with pytest.raises(ValueError, match="one line"):
        similarity_transform(np.outer(np.arange(4.0), [1, 2, 3]), rng.normal(size=(4, 3)))


def test_compose_alignment_matches_the_matrix_product():
    rng = np.random.default_rng(2)
    rot = Rotation.random(5, random_state=3).as_matrix()
    trans = rng.normal(size=(5, 3))
    align = similarity_transform(rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))
    r, t, s = compose_alignment(rot, trans, 1.7, align)
    x = rng.normal(size=3)
    expected = 1.7 * np.einsum("tij,j->ti", rot, align[:3, :3] @ x + align[:3, 3]) + trans
    assert np.abs(s * np.einsum("tij,j->ti", r, x) + t - expected).max() < 1e-12


def test_operator_takes_vertices_in_click_order(addon):
    obj, order = _scan_mesh()
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    bm = bmesh.from_edit_mesh(obj.data)
    bm.verts.ensure_lookup_table()
    for v in bm.verts:
        v.select = False
    bm.select_history.clear()
    for i in order:  # clicked one by one, in the template's order
        bm.verts[i].select = True
        bm.select_history.add(bm.verts[i])
    bmesh.update_edit_mesh(obj.data)
    assert bpy.ops.anylift.define_object_keypoints(category="box", align=True) == {"FINISHED"}
    bpy.ops.object.mode_set(mode="OBJECT")
    group = obj.data.anylift_keypoints
    assert [k.vertex for k in group.keypoints] == order
    assert [k.name for k in group.keypoints] == list(BOX.names)
    assert group.category == "box"
    # Aligned to the template: the mesh's keypoints map onto the template's canonical keypoints.
    assert np.abs(canonical_keypoints(obj.data) - BOX.canonical).max() < 1e-6  # float32 in Blender
    m = np.array(group.mesh_to_canonical).reshape(4, 4)
    assert np.isclose(np.cbrt(np.linalg.det(m[:3, :3])), 1 / SCAN_UNITS)


def test_operator_refuses_too_few_vertices(addon):
    obj, order = _scan_mesh()
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    bm = bmesh.from_edit_mesh(obj.data)
    bm.verts.ensure_lookup_table()
    for v in bm.verts:
        v.select = False
    bm.verts[order[0]].select = True
    bm.verts[order[1]].select = True
    bmesh.update_edit_mesh(obj.data)
    with pytest.raises(RuntimeError, match="at least 3 keypoints"):
        bpy.ops.anylift.define_object_keypoints(category="custom")
    bpy.ops.object.mode_set(mode="OBJECT")
    assert len(obj.data.anylift_keypoints.keypoints) == 0


def test_define_keypoints_checks(addon):
    obj, order = _scan_mesh()
    with pytest.raises(ValueError, match="a box has 8 keypoints"):
        define_keypoints(obj.data, order[:5], "box", align=True)
    with pytest.raises(ValueError, match="distinct"):
        define_keypoints(obj.data, [order[0], order[0], order[1]])
    m = define_keypoints(obj.data, order[:4], "custom", names=["a", "b", "c", "d"])
    assert np.array_equal(m, np.eye(4))
    assert [k.name for k in obj.data.anylift_keypoints.keypoints] == ["a", "b", "c", "d"]
    co = np.array([tuple(obj.data.vertices[i].co) for i in order[:4]])
    assert np.abs(canonical_keypoints(obj.data) - co).max() < 1e-5  # own frame: positions as modelled


def test_export_writes_canonical_into_the_keypoints_file(addon, tmp_path):
    from anylift.io.keypoints import Keypoints2D, ObjectTrack, read_keypoints, write_keypoints

    obj, order = _scan_mesh()
    define_keypoints(obj.data, order, "custom")
    rng = np.random.default_rng(0)
    body = np.concatenate([rng.uniform(0, 500, (3, 17, 2)), np.ones((3, 17, 1))], -1)
    track = ObjectTrack("crate", "", np.concatenate([rng.uniform(0, 500, (3, 8, 2)), np.ones((3, 8, 1))], -1))
    path = tmp_path / "kp.json"
    write_keypoints(path, Keypoints2D(body, 30.0, (640, 480), objects=[track]))
    bpy.context.view_layer.objects.active = obj
    assert bpy.ops.anylift.export_object_keypoints(filepath=str(path)) == {"FINISHED"}
    back = read_keypoints(path)
    assert back.objects[0].category == "custom"
    np.testing.assert_allclose(back.objects[0].canonical, canonical_keypoints(obj.data), atol=1e-9)
    assert json.loads(path.read_text())["objects"][0]["name"] == "crate"
    with pytest.raises(RuntimeError, match="no object named 'vase'"):
        bpy.ops.anylift.export_object_keypoints(filepath=str(path), object_name="vase")


def test_baked_hoi_scene_places_the_mesh_by_its_keypoints(addon, result_npz):
    """A complete HOI scene (armature, camera, object) from one operator; the scanned mesh's keypoint
    vertices follow the result's object within 1 mm on every frame."""
    path, motion = result_npz
    obj, order = _scan_mesh()
    define_keypoints(obj.data, order, "box", align=True)
    scene = bpy.context.scene
    scene.anylift.object_mesh = obj.data
    assert bpy.ops.anylift.import_result(filepath=str(path)) == {"FINISHED"}
    baked = bpy.data.objects["box"]
    assert baked.data == obj.data and baked.get("anylift_role") == "object"
    assert bpy.data.objects["SMPL"].type == "ARMATURE" and bpy.data.objects.get("AnyLift Camera") is not None
    co = np.array([tuple(obj.data.vertices[i].co) for i in order])
    worst = 0.0
    for t in range(len(motion.joints)):
        scene.frame_set(t + 1)
        m = np.array(baked.matrix_world)
        world = co @ m[:3, :3].T + m[:3, 3]
        expected = motion.object_scale[0] * BOX.canonical @ motion.object_rotation[0, t].T
        expected += motion.object_translation[0, t]
        worst = max(worst, float(np.abs(world - expected).max()))
    assert worst < 1e-3, worst
