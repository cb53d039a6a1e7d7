"""The SMPL body model as a torch module: the official SMPL file when given, the proxy otherwise.

Which model file is used (:func:`load_body_model`): the ``path`` argument, else the
environment variable ``ANYLIFT_SMPL_MODEL``, else the bundled proxy body
(:func:`anylift.body.proxy.proxy_model_path`). Official ``SMPL_NEUTRAL.pkl`` /
``basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl`` files hold ``chumpy`` objects; chumpy does not
run on numpy 1.26 / Python 3.11, so the pickle is read by a restricted unpickler that turns
chumpy objects into numpy arrays and refuses every other class besides numpy and
scipy.sparse (a model file cannot run code). The arrays go straight to ``smplx.SMPL``
(``data_struct=``), so nothing is rewritten on disk.

Frames. :meth:`BodyModel.forward` is plain SMPL (smplx): its output is in SMPL's frame
rotated by ``global_orient`` about the pelvis joint, then moved by ``transl``. SMPL's rest
body is Y-up facing +Z; the engine's world is Z-up. The conversion lives in the
parameters, not in this module: a result's ``global_orient`` already includes the Y-up ->
Z-up turn :data:`YUP_TO_ZUP` (a rest body standing upright in the world has
``global_orient`` = :data:`ZUP_REST_GLOBAL_ORIENT` = (pi/2, 0, 0), facing -Y), so
``forward`` gives world coordinates directly. To turn a Y-up orientation ``R`` into the
world, use ``YUP_TO_ZUP @ R``; because the rotation is about the pelvis joint ``J0``, the
matching translation is ``YUP_TO_ZUP @ (J0 + transl) - J0``.
"""

from __future__ import annotations

import codecs
import contextlib
import copyreg
import functools
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse
import smplx
import torch
from smplx.utils import Struct

from anylift.body.proxy import NUM_JOINTS, NUM_POSE_BASIS, NUM_VERTICES, proxy_model_path
from anylift.errors import InputError

YUP_TO_ZUP: np.ndarray = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
"""(3, 3) rotation taking SMPL's Y-up frame to the engine's Z-up world (+90 deg about x):
up (0, 1, 0) -> (0, 0, 1), SMPL's facing direction +Z -> -Y (Blender's front view)."""

ZUP_REST_GLOBAL_ORIENT: np.ndarray = np.array([np.pi / 2.0, 0.0, 0.0])
"""(3,) axis-angle of :data:`YUP_TO_ZUP`: the ``global_orient`` of a body standing upright."""

NUM_BETAS = 10

# COCO-17 from SMPL: the face points are mesh vertices (smplx's SMPL/SMPL-H vertex ids, the
# same ones the proxy body places on its face), the rest are SMPL joints.
COCO17_FACE_VERTEX_IDS = {
    "nose": smplx.vertex_ids.vertex_ids["smplh"]["nose"],
    "left_eye": smplx.vertex_ids.vertex_ids["smplh"]["leye"],
    "right_eye": smplx.vertex_ids.vertex_ids["smplh"]["reye"],
    "left_ear": smplx.vertex_ids.vertex_ids["smplh"]["lear"],
    "right_ear": smplx.vertex_ids.vertex_ids["smplh"]["rear"],
}
COCO17_FROM_SMPL_JOINTS = {
    "left_shoulder": 16, "right_shoulder": 17, "left_elbow": 18, "right_elbow": 19,
    "left_wrist": 20, "right_wrist": 21, "left_hip": 1, "right_hip": 2,
    "left_knee": 4, "right_knee": 5, "left_ankle": 7, "right_ankle": 8,
}  # fmt: skip
_COCO17_ORDER = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

_GET_SMPL = (
    "Download 'SMPL for Python' from https://smpl.is.tue.mpg.de and point --body-model "
    "(or ANYLIFT_SMPL_MODEL) at its neutral model (SMPL_NEUTRAL.pkl or "
    "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl), or leave both unset to use the bundled "
    "proxy body"
)


# ----------------------------------------------------------------------------------------
# Reading model files without chumpy.


class _ChumpyStandIn:
    """What a pickled ``chumpy`` object becomes: its state, converted to numpy afterwards."""

    chumpy_class = "chumpy.ch.Ch"

    def __init__(self, *args, **kwargs) -> None:
        self.args = args
        self.state = None

    def __setstate__(self, state) -> None:
        self.state = state


@functools.cache
def _stand_in(module: str, name: str) -> type:
    return type(name, (_ChumpyStandIn,), {"chumpy_class": f"{module}.{name}"})


_SAFE_BUILTINS = frozenset(
    {"object", "set", "frozenset", "list", "dict", "tuple", "int", "float", "complex", "str", "bytes",
     "bytearray", "bool", "slice", "range", "unicode", "long"}
)  # fmt: skip
_SAFE_NUMPY = frozenset({"_reconstruct", "ndarray", "dtype", "scalar", "_frombuffer", "frombuffer"})


class _ModelUnpickler(pickle.Unpickler):
    """Loads numpy arrays, scipy.sparse matrices and chumpy stand-ins, and nothing else."""

    def find_class(self, module: str, name: str):
        if module == "chumpy" or module.startswith("chumpy."):
            return _stand_in(module, name)
        if module in ("copy_reg", "copyreg") and name == "_reconstructor":
            return copyreg._reconstructor
        if module == "_codecs" and name == "encode":  # Python 3 protocol-2 pickles store bytes so
            return codecs.encode
        if module in ("__builtin__", "builtins") and name in _SAFE_BUILTINS:
            return super().find_class(module, name)
        if (module == "numpy" or module.startswith("numpy.")) and name in _SAFE_NUMPY:
            try:
                return super().find_class(module, name)
            except (ImportError, AttributeError):
                # numpy 2 writes numpy._core.*; numpy 1.26 keeps the same things in numpy.core.
                return super().find_class(module.replace("numpy._core", "numpy.core"), name)
        if module.startswith("scipy.sparse") and (name.endswith(("_matrix", "_array"))):
            return getattr(scipy.sparse, name)
        raise pickle.UnpicklingError(f"refusing to load '{module}.{name}' from a body model file")


def _to_numpy(obj, path: Path, field: str):
    """Replace chumpy stand-ins (recursively) by numpy arrays."""
    if isinstance(obj, _ChumpyStandIn):
        state = obj.state if isinstance(obj.state, dict) else {}
        if "x" not in state:
            raise InputError(
                f"holds a '{obj.chumpy_class}' object that cannot be read without chumpy",
                path=path,
                field=field,
                expected="plain arrays or chumpy.ch.Ch objects",
                fix=_GET_SMPL,
            )
        return np.asarray(_to_numpy(state["x"], path, field))
    if isinstance(obj, dict):
        return {k: _to_numpy(v, path, k if field == "" else field) for k, v in obj.items()}
    return obj


def _find_model_file(path: Path, origin: str) -> Path:
    if path.is_dir():
        patterns = ("SMPL_NEUTRAL.pkl", "smpl/SMPL_NEUTRAL.pkl", "basicmodel_neutral*.pkl",
                    "basicModel_neutral*.pkl", "smpl/basicmodel_neutral*.pkl", "SMPL_NEUTRAL.npz",
                    "smpl/SMPL_NEUTRAL.npz")  # fmt: skip
        for pattern in patterns:
            found = sorted(path.glob(pattern))
            if found:
                return found[0]
        raise InputError(
            f"no SMPL neutral model file in this folder{origin}",
            path=path,
            expected="SMPL_NEUTRAL.pkl, smpl/SMPL_NEUTRAL.pkl or basicmodel_neutral_*.pkl inside",
            fix=_GET_SMPL,
        )
    if not path.is_file():
        raise InputError(f"SMPL model file not found{origin}", path=path, fix=_GET_SMPL)
    return path


def _shape_of(a) -> tuple[int, ...]:
    return tuple(int(n) for n in np.shape(a)) if not scipy.sparse.issparse(a) else tuple(a.shape)


def _validate(data: dict, path: Path) -> dict:
    """Check an SMPL model's arrays; returns them as numpy (J_regressor may stay sparse)."""
    n, k = NUM_VERTICES, NUM_JOINTS
    if "posedirs" in data and "hands_componentsl" in data:
        raise InputError(
            "is an SMPL+H / MANO-hands model, not SMPL",
            path=path,
            expected="the 24-joint SMPL model",
            fix=_GET_SMPL,
        )
    expect = {
        "v_template": ((n, 3), "(6890, 3) rest vertices"),
        "shapedirs": ((n, 3, None), "(6890, 3, >=10) shape directions"),
        "posedirs": ((n, 3, NUM_POSE_BASIS), "(6890, 3, 207) pose-corrective directions"),
        "J_regressor": ((k, n), "(24, 6890) joint regressor"),
        "weights": ((n, k), "(6890, 24) skinning weights"),
        "kintree_table": ((2, k), "(2, 24) kinematic tree"),
        "f": ((None, 3), "(F, 3) triangle vertex indices"),
    }
    out = dict(data)
    for field, (shape, what) in expect.items():
        if field not in data:
            raise InputError(
                "is not an SMPL model: a field is missing",
                path=path,
                field=field,
                expected=what,
                fix=_GET_SMPL,
            )
        got = _shape_of(data[field])
        ok = len(got) == len(shape) and all(s is None or s == g for s, g in zip(shape, got))
        if field == "posedirs" and len(got) == 2 and got == (n * 3, NUM_POSE_BASIS):
            ok = True  # some exports flatten it; smplx reshapes anyway
        if field == "shapedirs" and ok and got[2] < NUM_BETAS:
            ok = False
        if not ok:
            hint = ""
            if field in ("posedirs", "J_regressor", "weights", "kintree_table", "v_template"):
                hint = " (SMPL+H, SMPL-X and MANO files do not fit; AnyLift needs SMPL)"
            raise InputError(
                f"is not a 24-joint SMPL model: shape {got}{hint}",
                path=path,
                field=field,
                expected=what,
                fix=_GET_SMPL,
            )
        if not scipy.sparse.issparse(data[field]):
            out[field] = np.asarray(data[field])
    faces = out["f"].astype(np.int64)
    if faces.min() < 0 or faces.max() >= n:
        raise InputError(
            "has triangle indices outside the mesh", path=path, field="f", expected="indices in [0, 6890)"
        )
    return out


@functools.lru_cache(maxsize=4)
def _read_cached(path: str, mtime_ns: int, size: int) -> dict:
    del mtime_ns, size  # part of the cache key only: a changed file is read again
    p = Path(path)
    if p.suffix == ".npz":
        try:
            with np.load(p, allow_pickle=False) as z:
                data = {key: z[key] for key in z.files}
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot be read as an SMPL .npz model ({exc})", path=p, fix=_GET_SMPL) from exc
    else:
        try:
            with open(p, "rb") as f:
                data = _ModelUnpickler(f, encoding="latin1").load()
        except InputError:
            raise
        except Exception as exc:  # any unpickling failure means "not a model file"
            raise InputError(
                f"cannot be read as an SMPL model pickle ({type(exc).__name__}: {exc})",
                path=p,
                expected="an SMPL .pkl (e.g. SMPL_NEUTRAL.pkl)",
                fix=_GET_SMPL,
            ) from exc
    if not isinstance(data, dict):
        raise InputError(
            f"is not an SMPL model: it holds a {type(data).__name__}, not a dict of arrays",
            path=p,
            fix=_GET_SMPL,
        )
    return _validate(_to_numpy(data, p, ""), p)


def read_smpl_model(path: str | os.PathLike) -> dict:
    """Read an SMPL model file (.pkl with or without chumpy, or .npz) into numpy arrays.

    Args:
        path: the model file, or a folder holding ``SMPL_NEUTRAL.pkl`` (also
            ``smpl/SMPL_NEUTRAL.pkl``, ``basicmodel_neutral_*.pkl``).
    Returns:
        dict of the SMPL fields (``v_template`` (6890, 3), ``shapedirs`` (6890, 3, >=10),
        ``posedirs``, ``J_regressor`` (24, 6890) dense or scipy.sparse, ``weights`` (6890, 24),
        ``kintree_table`` (2, 24), ``f`` (F, 3), plus any other fields of the file), metres,
        SMPL frame. Cached per file and modification time; do not modify the arrays.
    Raises:
        InputError: missing file, unreadable file, or not a 24-joint SMPL model.
    """
    p = _find_model_file(Path(path).expanduser(), "")
    st = p.stat()
    return _read_cached(str(p.resolve()), st.st_mtime_ns, st.st_size)


# ----------------------------------------------------------------------------------------
# The torch module.


@dataclass
class BodyOutput:
    """What :meth:`BodyModel.forward` returns (torch, metres, same frame as the input pose).

    vertices: (B, 6890, 3); joints: (B, 24, 3) SMPL joints; keypoints: (B, 17, 3) COCO-17
    (formats.md order): face points from mesh vertices, body points from SMPL joints.
    """

    vertices: torch.Tensor
    joints: torch.Tensor
    keypoints: torch.Tensor


class BodyModel(torch.nn.Module):
    """SMPL (official or proxy) via smplx: differentiable, any batch size.

    Attributes:
        kind: ``"smpl"`` (an official model file) or ``"smpl-proxy"`` (the bundled body).
        path: the model file used.
        faces: (F, 3) int64 triangle vertex indices.
        parents: (24,) int64 parent joint of each joint, -1 for the pelvis.
    """

    def __init__(self, data: dict, *, kind: str, path: Path, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.kind = kind
        self.path = Path(path)
        # smplx prints a warning for every 10-beta SMPL file (official ones included).
        with contextlib.redirect_stdout(io.StringIO()):
            self.smpl = smplx.SMPL(
                model_path=str(path),
                data_struct=Struct(**data),
                num_betas=NUM_BETAS,
                create_betas=False,
                create_global_orient=False,
                create_body_pose=False,
                create_transl=False,
                dtype=dtype,
            )
        self.faces = np.asarray(data["f"], dtype=np.int64)
        parents = np.asarray(data["kintree_table"][0]).astype(np.int64)
        parents[0] = -1  # official files store 4294967295 there
        self.parents = parents
        gather = [
            NUM_JOINTS + i if name in COCO17_FACE_VERTEX_IDS else COCO17_FROM_SMPL_JOINTS[name]
            for i, name in enumerate(_COCO17_ORDER)
        ]
        self.register_buffer("_coco_gather", torch.tensor(gather, dtype=torch.long), persistent=False)
        face_ids = [COCO17_FACE_VERTEX_IDS[name] for name in _COCO17_ORDER[:5]]
        self.register_buffer("_face_ids", torch.tensor(face_ids, dtype=torch.long), persistent=False)

    @property
    def device(self) -> torch.device:
        return self.smpl.v_template.device

    @property
    def dtype(self) -> torch.dtype:
        return self.smpl.v_template.dtype

    def _tensor(self, x, name: str, width: int) -> torch.Tensor:
        t = torch.as_tensor(x, device=self.device, dtype=self.dtype)
        if t.ndim == 1:
            t = t[None]
        if t.ndim != 2 or t.shape[1] > width or (t.shape[1] < width and name != "betas"):
            raise ValueError(f"{name} must have shape (B, {width}), got {tuple(t.shape)}")
        if t.shape[1] < width:  # fewer betas: the remaining ones are 0
            t = torch.nn.functional.pad(t, (0, width - t.shape[1]))
        return t

    def forward(
        self,
        betas: torch.Tensor | None = None,
        global_orient: torch.Tensor | None = None,
        body_pose: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
    ) -> BodyOutput:
        """Pose the body.

        Args:
            betas: (B, 10) shape (fewer columns are zero-padded; (10,) is shared by all).
            global_orient: (B, 3) axis-angle of the pelvis (includes Y-up -> Z-up for world
                results, see the module docstring). None: zeros (SMPL's frame).
            body_pose: (B, 69) axis-angle of joints 1..23. None: zeros (T-pose).
            transl: (B, 3) metres. None: zeros.
            A batch of 1 (or a 1-D tensor) broadcasts against the others' B. numpy arrays
            are accepted and converted.
        Returns:
            :class:`BodyOutput`, differentiable with respect to every input.
        """
        given = {"betas": (betas, NUM_BETAS), "global_orient": (global_orient, 3),
                 "body_pose": (body_pose, 3 * (NUM_JOINTS - 1)), "transl": (transl, 3)}  # fmt: skip
        tensors = {k: self._tensor(v, k, w) for k, (v, w) in given.items() if v is not None}
        batch = max((t.shape[0] for t in tensors.values()), default=1)
        args = {}
        for name, (_, width) in given.items():
            t = tensors.get(name)
            if t is None:
                t = torch.zeros(1, width, device=self.device, dtype=self.dtype)
            if t.shape[0] not in (1, batch):
                raise ValueError(f"{name} has batch {t.shape[0]}, others have {batch}")
            args[name] = t.expand(batch, -1)
        out = self.smpl(**args, return_verts=True)
        vertices = out.vertices
        joints = out.joints[:, :NUM_JOINTS]  # smplx appends face/feet/hand vertices after 24
        extra = vertices.index_select(1, self._face_ids)
        keypoints = torch.cat([joints, extra], dim=1).index_select(1, self._coco_gather)
        return BodyOutput(vertices=vertices, joints=joints, keypoints=keypoints)

    def rest_joints(self, betas=None):
        """Rest-pose joints for a shape (SMPL frame, metres, pelvis not moved to the origin).

        Args:
            betas: (10,) or (B, 10), numpy or torch; None means zeros.
        Returns:
            (24, 3) or (B, 24, 3): numpy for numpy/None input, torch (differentiable) for torch.
        """
        as_numpy = not torch.is_tensor(betas)
        b = self._tensor(np.zeros(NUM_BETAS) if betas is None else betas, "betas", NUM_BETAS)
        shaped = self.smpl.v_template + smplx.lbs.blend_shapes(b, self.smpl.shapedirs)
        joints = smplx.lbs.vertices2joints(self.smpl.J_regressor, shaped)
        if betas is None or np.ndim(betas) == 1:
            joints = joints[0]
        return joints.detach().cpu().numpy().astype(np.float64) if as_numpy else joints


def load_body_model(
    path: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> BodyModel:
    """The body model to use: ``path``, else ``$ANYLIFT_SMPL_MODEL``, else the proxy body.

    Args:
        path: an official SMPL model file (.pkl, chumpy or not; .npz) or a folder holding
            ``SMPL_NEUTRAL.pkl``. A file generated by :mod:`anylift.body.proxy` is
            recognised as the proxy.
        device: torch device of the returned module.
        dtype: torch dtype of its buffers (float32 as in smplx).
    Returns:
        :class:`BodyModel` (``kind`` "smpl" or "smpl-proxy"). Any batch size works, no
        ``batch_size`` is fixed at load time.
    Raises:
        InputError: the file does not exist, cannot be read, or is not a 24-joint SMPL model.
    """
    origin = ""
    if path is None:
        env = os.environ.get("ANYLIFT_SMPL_MODEL", "").strip()
        if env:
            path, origin = env, " (set by ANYLIFT_SMPL_MODEL)"
    if path is None:
        file = proxy_model_path()
    else:
        file = _find_model_file(Path(path).expanduser(), origin)
    data = read_smpl_model(file)
    kind = "smpl-proxy" if "anylift_proxy_version" in data else "smpl"
    return BodyModel(data, kind=kind, path=file, dtype=dtype).to(device)
