"""The body model's rest data for baking, and the skinned body mesh.

The rest data (zero-pose joints and vertices for the result's betas, faces, skinning weights,
upright in Blender's Z-up world, and the rotation ``D`` with ``zero_pose = D @ upright``; see
:mod:`.armature` for how ``D`` enters the pose keys) comes from the engine
(:func:`anylift.body.rest.compute_body_rest`) through :mod:`anylift_blender.engine`: in-process
when the engine imports, else ``<Engine Python> -m anylift.cli rest-mesh ...`` through an .npz file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import bpy
import numpy as np

from .. import engine, jobs
from .armature import SMPL_BONES

MESH_NAME = "SMPL Body"


class BodyModelError(Exception):
    """The body model could not be loaded or evaluated (message is user-facing)."""


@dataclass
class BodyRest:
    """Rest data in Blender's upright frame (metres).

    rest_joints: (24, 3); vertices: (V, 3); faces: (F, 3) int; weights: (V, 24) skinning weights;
    upright_to_model: (3, 3) ``D``; kind: ``"smpl-proxy"`` or ``"smpl"``.
    """

    rest_joints: np.ndarray
    vertices: np.ndarray
    faces: np.ndarray
    weights: np.ndarray
    upright_to_model: np.ndarray
    kind: str


REST_FIELDS = ("rest_joints", "vertices", "faces", "weights", "upright_to_model", "kind")


def load_body_rest(betas: np.ndarray, kind: str, settings) -> BodyRest:
    """Rest data for ``betas`` (10,) of body model ``kind``, reaching the engine as ``settings`` say.

    ``settings``: :class:`anylift_blender.preferences.EngineSettings`. Raises :class:`BodyModelError`
    with a user-facing message when the engine cannot be reached or the model is missing.
    """
    betas = np.asarray(betas, dtype=np.float64).reshape(-1)
    with tempfile.TemporaryDirectory(prefix="anylift-body-") as tmp:
        out = os.path.join(tmp, "rest.npz")

        def in_process(progress, cancel) -> dict[str, np.ndarray]:
            from anylift.body.rest import compute_body_rest

            return compute_body_rest(betas, kind, settings.smpl_model_path, progress=progress)

        def from_file() -> dict[str, np.ndarray]:
            with np.load(out) as data:
                return {key: data[key] for key in data.files}

        argv = [
            "-m",
            "anylift.cli",
            "rest-mesh",
            "--kind",
            kind,
            "--betas",
            ",".join(map(repr, betas.tolist())),
        ]
        argv += ["--out", out, "--progress", "jsonl"]
        if settings.smpl_model_path:
            argv += ["--body-model", settings.smpl_model_path]
        try:
            job = engine.make_job("Body rest mesh", engine.BODY, in_process, argv, from_file, settings)
            data = engine.run_now(job)
        except (engine.EngineUnavailable, jobs.JobFailed) as exc:
            raise BodyModelError(str(exc)) from exc
    missing = [key for key in REST_FIELDS if key not in data]
    if missing:
        raise BodyModelError(f"the engine's rest mesh lacks {', '.join(missing)}: update the engine")
    return BodyRest(
        rest_joints=np.asarray(data["rest_joints"], dtype=np.float64),
        vertices=np.asarray(data["vertices"], dtype=np.float64),
        faces=np.asarray(data["faces"], dtype=np.int64),
        weights=np.asarray(data["weights"], dtype=np.float64),
        upright_to_model=np.asarray(data["upright_to_model"], dtype=np.float64),
        kind=str(data["kind"]),
    )


def build_body_mesh(
    collection: bpy.types.Collection, rest: BodyRest, armature: bpy.types.Object, name: str = MESH_NAME
) -> bpy.types.Object:
    """The rest mesh skinned to ``armature``: one vertex group per bone, an Armature modifier.

    Vertices are written in bulk; weights below 1e-4 are left out of the groups.
    """
    mesh = bpy.data.meshes.new(name)
    verts = rest.vertices.astype(np.float32)
    faces = rest.faces.astype(np.int32)
    mesh.vertices.add(len(verts))
    mesh.vertices.foreach_set("co", verts.ravel())
    mesh.loops.add(faces.size)
    mesh.loops.foreach_set("vertex_index", faces.ravel())
    mesh.polygons.add(len(faces))
    mesh.polygons.foreach_set("loop_start", np.arange(0, faces.size, 3, dtype=np.int32))
    mesh.polygons.foreach_set("loop_total", np.full(len(faces), 3, dtype=np.int32))
    mesh.polygons.foreach_set("use_smooth", np.ones(len(faces), dtype=bool))
    mesh.update()
    mesh.validate()
    obj = bpy.data.objects.new(name, mesh)
    collection.objects.link(obj)
    for k, bone in enumerate(SMPL_BONES):
        group = obj.vertex_groups.new(name=bone)
        column = rest.weights[:, k]
        for weight in np.unique(np.round(column[column > 1e-4], 4)):
            # One add() per distinct weight keeps this to a few hundred calls per bone.
            indices = np.nonzero(np.abs(np.round(column, 4) - weight) < 1e-9)[0]
            group.add(indices.tolist(), float(weight), "REPLACE")
    obj.parent = armature
    modifier = obj.modifiers.new("Armature", "ARMATURE")
    modifier.object = armature
    modifier.use_vertex_groups = True
    return obj
