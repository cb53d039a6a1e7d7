"""The body's rest mesh for a shape: what the Blender add-on builds its armature and skinned mesh from.

:func:`compute_body_rest` evaluates the body model at the zero pose for ``betas`` and turns it
upright (Z up); :func:`write_body_rest` / :func:`read_body_rest` move it through an .npz file
(``anylift rest-mesh``, run by the add-on's Engine Python when the engine does not import
inside Blender).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from anylift.body.model import YUP_TO_ZUP, load_body_model
from anylift.errors import InputError
from anylift.io.atomic import atomic_path

#: Arrays of a rest-mesh file (all float64 but ``faces`` int64 and ``kind`` a 0-d string).
REST_FIELDS = ("rest_joints", "vertices", "faces", "weights", "upright_to_model", "kind")


def upright_rotation(zero_pose_joints: np.ndarray) -> np.ndarray:
    """``D`` (3, 3) with ``zero_pose = D @ upright`` for zero-pose joints (24, 3).

    Identity when the zero pose already stands along +Z; the Y-up -> Z-up turn's inverse when it
    stands along +Y (SMPL's own frame).
    """
    up = zero_pose_joints[15] - zero_pose_joints[0]  # pelvis -> head
    if abs(up[2]) >= abs(up[1]):
        return np.eye(3) if up[2] > 0 else np.diag([1.0, -1.0, -1.0])
    return YUP_TO_ZUP.T if up[1] > 0 else YUP_TO_ZUP


def _lbs_weights(model) -> np.ndarray:
    """Skinning weights (V, 24) of a :class:`anylift.body.model.BodyModel` (found on its modules)."""
    import torch

    candidates = [model, *vars(model).values()]
    if isinstance(model, torch.nn.Module):
        candidates += list(model.modules())
    for obj in candidates:
        for name in ("lbs_weights", "weights", "skinning_weights"):
            value = getattr(obj, name, None)
            if isinstance(value, torch.Tensor | np.ndarray) and tuple(value.shape)[-1] == 24:
                return np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
    raise InputError("the body model exposes no skinning weights (lbs_weights)")


def compute_body_rest(
    betas: np.ndarray,
    kind: str,
    model_path: str | os.PathLike | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Evaluate the body model at the zero pose.

    Args:
        betas: (10,) shape. kind: the result's ``body_model`` (``"smpl-proxy"`` or ``"smpl"``).
        model_path: official SMPL file; None/"" uses the engine's resolution ($ANYLIFT_SMPL_MODEL).
        progress: optional ``(stage, done, total)`` callback.
    Returns: ``rest_joints`` (24, 3) and ``vertices`` (V, 3) upright (Z-up) metres, ``faces`` (F, 3),
    ``weights`` (V, 24), ``upright_to_model`` (3, 3) ``D``, ``kind`` (0-d str array).

    Raises:
        InputError: ``kind`` is not the configured model's, or the model file is unusable.
    """
    import torch

    if progress is not None:
        progress("rest mesh", 0, 1)
    if kind == "smpl-proxy":
        # The result was lifted with the proxy body whatever is configured now: use its joints.
        from anylift.body.proxy import proxy_model_path

        model = load_body_model(proxy_model_path())
    else:
        model = load_body_model(model_path or None)
    if model.kind != kind:
        raise InputError(
            f"the result was made with body model '{kind}' but '{model.kind}' is configured",
            fix="Set the official SMPL model file in the add-on preferences (or $ANYLIFT_SMPL_MODEL)",
        )
    betas_t = torch.as_tensor(np.asarray(betas, dtype=np.float32).reshape(1, -1))
    with torch.no_grad():
        out = model.forward(betas_t, torch.zeros(1, 3), torch.zeros(1, 69), torch.zeros(1, 3))
    joints = out.joints[0].detach().cpu().numpy().astype(np.float64)
    vertices = out.vertices[0].detach().cpu().numpy().astype(np.float64)
    D = upright_rotation(joints)
    if progress is not None:
        progress("rest mesh", 1, 1)
    return {
        "rest_joints": joints @ D,  # each row x -> D.T @ x
        "vertices": vertices @ D,
        "faces": np.asarray(model.faces, dtype=np.int64),
        "weights": _lbs_weights(model).astype(np.float64),
        "upright_to_model": D,
        "kind": np.array(model.kind),
    }


def write_body_rest(path: str | os.PathLike, rest: dict[str, np.ndarray]) -> None:
    """Write :func:`compute_body_rest`'s arrays to ``path`` (.npz), atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **{key: rest[key] for key in REST_FIELDS})


def parse_betas(text: str) -> np.ndarray:
    """``"b0,b1,...,b9"`` -> (10,) float64; InputError naming ``--betas`` otherwise."""
    try:
        values = np.array([float(v) for v in text.split(",") if v.strip()], dtype=np.float64)
    except ValueError:
        values = np.zeros(0)
    if values.shape != (10,) or not np.all(np.isfinite(values)):
        raise InputError(
            f"--betas: got {text!r}", expected="10 finite comma-separated numbers, e.g. 0,0,0,0,0,0,0,0,0,0"
        )
    return values
