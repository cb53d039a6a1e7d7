"""Zero-pose body data from the engine's body model; runs wherever ``anylift`` imports, without bpy.

Run as a script (``ENGINE_PYTHON body_rest.py '{"betas": [...], "kind": ..., "model_path": ...,
"out": "rest.npz"}'``) when the engine lives in another interpreter than Blender's.
"""

from __future__ import annotations

import json
import sys

import numpy as np

# Rotation taking Y-up to Z-up (+90 degrees about x): SMPL's +Y (up) -> +Z, +Z (front) -> -Y.
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


class BodyModelError(Exception):
    """The body model could not be loaded or evaluated (message is user-facing)."""


def upright_rotation(zero_pose_joints: np.ndarray) -> np.ndarray:
    """``D`` (3, 3) with ``zero_pose = D @ upright`` for zero-pose joints (24, 3).

    Identity when the zero pose already stands along +Z; the Y-up -> Z-up turn's inverse when it
    stands along +Y (SMPL's own frame).
    """
    up = zero_pose_joints[15] - zero_pose_joints[0]  # pelvis -> head
    if abs(up[2]) >= abs(up[1]):
        return np.eye(3) if up[2] > 0 else np.diag([1.0, -1.0, -1.0])
    return Y_UP_TO_Z_UP.T if up[1] > 0 else Y_UP_TO_Z_UP


def find_lbs_weights(model) -> np.ndarray:
    """Skinning weights (V, 24) from the engine's BodyModel (an smplx model may sit inside it)."""
    import torch

    candidates = [model, *vars(model).values()]
    if isinstance(model, torch.nn.Module):
        candidates += list(model.modules())
    for obj in candidates:
        for name in ("lbs_weights", "weights", "skinning_weights"):
            value = getattr(obj, name, None)
            if isinstance(value, torch.Tensor | np.ndarray) and tuple(value.shape)[-1] == 24:
                return np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
    raise BodyModelError("the body model exposes no skinning weights (lbs_weights)")


def compute_body_rest(betas: np.ndarray, kind: str, model_path: str = "") -> dict[str, np.ndarray]:
    """Evaluate the engine's body model at the zero pose.

    Args:
        betas: (10,) shape. kind: the result's ``body_model`` (``"smpl-proxy"`` or ``"smpl"``).
        model_path: official SMPL file; "" uses the engine's resolution ($ANYLIFT_SMPL_MODEL).
    Returns: ``rest_joints`` (24, 3) and ``vertices`` (V, 3) upright (Z-up) metres, ``faces`` (F, 3),
    ``weights`` (V, 24), ``upright_to_model`` (3, 3), ``kind``.
    """
    import torch

    from anylift.body.model import load_body_model

    if kind == "smpl-proxy":
        # The result was lifted with the proxy body whatever is configured now: use its joints.
        from anylift.body.proxy import proxy_model_path

        model = load_body_model(proxy_model_path())
    else:
        model = load_body_model(model_path or None)
    if model.kind != kind:
        raise BodyModelError(
            f"the result was made with body model '{kind}' but '{model.kind}' is configured; set the "
            "official SMPL model file in the add-on preferences (or $ANYLIFT_SMPL_MODEL)"
        )
    betas_t = torch.as_tensor(np.asarray(betas, dtype=np.float32).reshape(1, -1))
    with torch.no_grad():
        out = model.forward(betas_t, torch.zeros(1, 3), torch.zeros(1, 69), torch.zeros(1, 3))
    joints = out.joints[0].detach().cpu().numpy().astype(np.float64)
    vertices = out.vertices[0].detach().cpu().numpy().astype(np.float64)
    D = upright_rotation(joints)
    return {
        "rest_joints": joints @ D,  # each row x -> D.T @ x
        "vertices": vertices @ D,
        "faces": np.asarray(model.faces, dtype=np.int64),
        "weights": find_lbs_weights(model).astype(np.float64),
        "upright_to_model": D,
        "kind": np.array(model.kind),
    }


def main(argv: list[str]) -> int:
    args = json.loads(argv[1])
    try:
        data = compute_body_rest(np.array(args["betas"]), args["kind"], args.get("model_path", ""))
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    np.savez(args["out"], **data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
