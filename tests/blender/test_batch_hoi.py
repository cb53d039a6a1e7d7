"""Batch HOI scenes: ``batch.py --object-mesh FILE.blend[:MeshName]`` bakes the result's object onto
the user's mesh, placed by the keypoints defined on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bpy
import numpy as np
from scipy.spatial.transform import Rotation

from anylift.object_templates import get_template
from anylift_blender.operators.object_keypoints import define_keypoints

REPO = Path(__file__).resolve().parents[2]
BATCH = REPO / "anylift_blender" / "batch.py"
BOX = get_template("box")


def _run(args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=300)


def _mesh_file(path: Path) -> list[int]:
    """A .blend holding 'Scan' (a box modelled in centimetres, turned and moved, corners out of order,
    keypoints defined and aligned to the box template) and a decoy mesh; returns the corner vertices."""
    rot = Rotation.from_rotvec([0.4, -0.2, 1.1]).as_matrix()
    corners = (100.0 * BOX.canonical) @ rot.T + [12.0, -30.0, 5.0]
    extra = np.random.default_rng(0).normal(scale=10.0, size=(3, 3))
    verts = np.concatenate([extra[:2], corners[::-1], extra[2:]])
    for name, points in (("Scan", verts), ("Decoy", extra)):
        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata([tuple(v) for v in points], [], [])
        bpy.context.scene.collection.objects.link(bpy.data.objects.new(name, mesh))
    order = [2 + (7 - i) for i in range(8)]
    define_keypoints(bpy.data.meshes["Scan"], order, "box", align=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(path), check_existing=False, copy=True)
    return order


def test_batch_bakes_the_object_onto_the_given_mesh(addon, result_npz, tmp_path):
    path, motion = result_npz
    order = _mesh_file(tmp_path / "mesh.blend")
    out = tmp_path / "scene.blend"
    proc = _run([str(BATCH), "--", "--motion", str(path), "--out", str(out),
                 "--object-mesh", f"{tmp_path / 'mesh.blend'}:Scan"])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    bad = _run([str(BATCH), "--", "--motion", str(path), "--out", str(tmp_path / "bad.blend"),
                "--object-mesh", f"{tmp_path / 'mesh.blend'}:Vase"])  # fmt: skip
    assert bad.returncode == 2 and "no mesh named 'Vase'" in bad.stderr and "Scan" in bad.stderr

    bpy.ops.wm.open_mainfile(filepath=str(out))
    baked = bpy.data.objects["box"]
    assert baked.data.name == "Scan" and "Decoy" not in bpy.data.meshes
    scene = bpy.context.scene
    co = np.array([tuple(baked.data.vertices[i].co) for i in order])
    worst = 0.0
    for t in range(len(motion.joints)):
        scene.frame_set(t + 1)
        m = np.array(baked.matrix_world)
        world = co @ m[:3, :3].T + m[:3, 3]
        expected = motion.object_scale[0] * BOX.canonical @ motion.object_rotation[0, t].T
        expected += motion.object_translation[0, t]
        worst = max(worst, float(np.abs(world - expected).max()))
    assert worst < 1e-3, worst
