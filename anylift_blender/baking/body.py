"""The body model's rest data for baking, and the skinned body mesh.

The rest data (zero-pose joints and vertices for the result's betas, faces, skinning weights)
comes from the engine's body model (``anylift.body.model.load_body_model``), in-process when the
engine imports, else from the "engine Python" interpreter in a subprocess (through an .npz file).

The body model's zero pose may be SMPL's own Y-up frame: :func:`upright_rotation` finds the
rotation ``D`` with ``zero_pose = D @ upright`` so the armature and mesh rest upright in Blender's
Z-up world (see :mod:`.armature` for how ``D`` enters the pose keys).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np

from . import body_rest
from .armature import SMPL_BONES
from .body_rest import BodyModelError

MESH_NAME = "SMPL Body"


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


def _engine_imports() -> bool:
    try:
        import torch  # noqa: F401

        import anylift.body.model  # noqa: F401
    except ImportError:
        return False
    return True


def load_body_rest(betas: np.ndarray, kind: str, settings) -> BodyRest:
    """Rest data for ``betas`` (10,) of body model ``kind``, reaching the engine as ``settings`` say.

    ``settings``: :class:`anylift_blender.preferences.EngineSettings`. Raises :class:`BodyModelError`
    with a user-facing message when the engine cannot be reached or the model is missing.
    """
    mode = settings.engine_mode
    in_process = mode == "in-process" or (mode == "auto" and _engine_imports())
    if in_process:
        try:
            data = body_rest.compute_body_rest(betas, kind, settings.smpl_model_path)
        except ImportError as exc:
            raise BodyModelError(f"the anylift engine does not import inside Blender ({exc})") from exc
        except BodyModelError:
            raise
        except Exception as exc:
            raise BodyModelError(str(exc)) from exc
    else:
        data = _body_rest_subprocess(betas, kind, settings)
    return BodyRest(
        rest_joints=np.asarray(data["rest_joints"], dtype=np.float64),
        vertices=np.asarray(data["vertices"], dtype=np.float64),
        faces=np.asarray(data["faces"], dtype=np.int64),
        weights=np.asarray(data["weights"], dtype=np.float64),
        upright_to_model=np.asarray(data["upright_to_model"], dtype=np.float64),
        kind=str(data["kind"]),
    )


def _body_rest_subprocess(betas, kind, settings) -> dict[str, np.ndarray]:
    python = settings.engine_python
    if not python or not Path(python).exists():
        raise BodyModelError(
            "the anylift engine is not importable inside Blender and no Engine Python is set: set it in "
            "the add-on preferences to an interpreter where anylift is installed (e.g. the repo's "
            ".venv/bin/python)"
        )
    with tempfile.TemporaryDirectory(prefix="anylift-body-") as tmp:
        out = os.path.join(tmp, "rest.npz")
        args = json.dumps(
            {
                "betas": np.asarray(betas).tolist(),
                "kind": kind,
                "model_path": settings.smpl_model_path,
                "out": out,
            }
        )
        # The script is run by path: importing the add-on package would need bpy.
        proc = subprocess.run([python, body_rest.__file__, args], capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise BodyModelError(f"the engine ({python}) failed to evaluate the body model: {last}")
        with np.load(out) as data:
            return {key: data[key] for key in data.files}


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
