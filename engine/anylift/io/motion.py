"""Motion results (``anylift.motion/1`` ``.npz``): the :class:`Motion` container, reader and writer.

The file holds exactly the keys of ``docs/formats.md``'s motion table: the required ones
always, the optional ones (``keypoints3d_std``, ``samples_keypoints3d``, ``root_std``,
``keypoints3d_pose_std``, the four ``object_*``, ``person``, ``up``, ``up_source`` and ``seen``)
only when present (every lift writes ``up``, ``up_source`` and ``seen``). Strings (``format``, ``body_model``,
``object_names``, ``up_source``) are numpy unicode arrays, so ``np.load(path, allow_pickle=False)``
opens every file we write.
Readers ignore keys they do not know (newer files may add some).
"""

from __future__ import annotations

import os
from dataclasses import InitVar, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from anylift.errors import InputError
from anylift.io.atomic import atomic_path
from anylift.io.cameras import check_intrinsics
from anylift.io.fields import (
    MAX_TRANSLATION,
    check_finite,
    check_fps,
    check_frame_count,
    check_rigid,
    decode_string,
    index_field,
    load_npz,
    npz_array,
    npz_string,
    shape_text,
)

FORMAT = "anylift.motion/1"
MAX_RESULT_VALUE = 10 * MAX_TRANSLATION
"""Largest |value| in a result's arrays: positions near a camera up to MAX_TRANSLATION away."""
BODY_MODELS = ("smpl-proxy", "smpl")
REQUIRED_KEYS = (
    "format",
    "fps",
    "joints",
    "keypoints3d",
    "global_orient",
    "body_pose",
    "transl",
    "betas",
    "body_model",
    "world_to_camera",
    "intrinsics",
)
OPTIONAL_KEYS = (
    "keypoints3d_std",
    "samples_keypoints3d",
    "root_std",
    "keypoints3d_pose_std",
    "object_names",
    "object_rotation",
    "object_translation",
    "object_scale",
    "person",
    "up",
    "up_source",
    "seen",
)
UP_SOURCES = ("file", "estimated", "given")
"""Where a result's ``up`` came from: the camera file, estimated from the body and footage, ``--up``."""
_OBJECT_KEYS = ("object_names", "object_rotation", "object_translation", "object_scale")


@dataclass(eq=False)
class Motion:
    """A lifted motion, world frame Z-up, metres; validated at construction.

    Attributes (T frames, S samples, N objects):
        fps: frames per second.
        joints: (T, 24, 3) SMPL joint positions, world.
        keypoints3d: (T, 17, 3) COCO-17 keypoints in 3D, world.
        global_orient: (T, 3) SMPL root orientation, axis-angle, in the world frame.
        body_pose: (T, 69) SMPL body pose, axis-angle.
        transl: (T, 3) SMPL translation, world.
        betas: (10,) SMPL shape.
        body_model: ``"smpl-proxy"`` or ``"smpl"``.
        world_to_camera: (T, 4, 4) the input camera in the result's world frame.
        intrinsics: (3, 3) the input camera's K.
        keypoints3d_std: optional (T, 17) spread of the samples, metres.
        samples_keypoints3d: optional (S, T, 17, 3) every sample drawn.
        root_std: optional (T,) spread of the body's placement (the samples' hip centres), metres.
        keypoints3d_pose_std: optional (T, 17) spread of the pose (keypoints relative to each
            sample's hip centre), metres (:mod:`anylift.lifting.spread`).
        object_names: optional N names (HOI); the three ``object_*`` arrays come with it.
        object_rotation: (N, T, 3, 3) object frame -> world rotations.
        object_translation: (N, T, 3) object origins in the world, metres.
        object_scale: (N,) uniform scale of each object's canonical keypoints.
        person: optional track id lifted (several-people keypoints).
        up: optional (3,) unit up direction used, in the camera file's world (the static
            camera's frame without one); +Z of this result's world.
        up_source: optional, with ``up``: one of :data:`UP_SOURCES`.
        seen: optional (T,) bool: the frames whose input shows the person (4 or more keypoints with
            score >= 0.3). Before the first and after the last such frame the result holds the
            nearest lifted frame (the person is not in the footage there); gaps between them are
            filled in by the lift.
        path: (init only, not stored) the file named in validation errors.
    """

    fps: float
    joints: np.ndarray
    keypoints3d: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    transl: np.ndarray
    betas: np.ndarray
    body_model: str
    world_to_camera: np.ndarray
    intrinsics: np.ndarray
    keypoints3d_std: np.ndarray | None = None
    samples_keypoints3d: np.ndarray | None = None
    root_std: np.ndarray | None = None
    keypoints3d_pose_std: np.ndarray | None = None
    object_names: list[str] | None = None
    object_rotation: np.ndarray | None = None
    object_translation: np.ndarray | None = None
    object_scale: np.ndarray | None = None
    person: int | None = None
    up: np.ndarray | None = None
    up_source: str | None = None
    seen: np.ndarray | None = None
    path: InitVar[str | os.PathLike | None] = None

    def __post_init__(self, path: str | os.PathLike | None) -> None:
        path = None if path is None else os.fspath(path)
        self.fps = check_fps(self.fps, path=path)
        joints = np.array(self.joints, dtype=np.float64)
        if joints.ndim != 3 or joints.shape[1:] != (24, 3) or joints.shape[0] == 0:
            raise InputError(
                f"has shape {joints.shape}",
                path=path,
                field="joints",
                expected="shape (T, 24, 3) with T >= 1",
            )
        t = joints.shape[0]

        def arr(name: str, value: Any, shape: tuple) -> np.ndarray:
            a = np.array(value, dtype=np.float64)
            if a.shape != shape:
                raise InputError(
                    f"has shape {a.shape}", path=path, field=name, expected=f"shape {shape_text(shape)}"
                )
            check_finite(a, path=path, field=name)
            far = np.abs(a) > MAX_RESULT_VALUE
            if far.any():
                idx = tuple(np.argwhere(far)[0])
                raise InputError(
                    f"is {a[idx]:.6g}",
                    path=path,
                    field=index_field(name, idx),
                    expected=f"a value within +-{MAX_RESULT_VALUE:g}",
                )
            return a

        self.joints = arr("joints", joints, (t, 24, 3))
        self.keypoints3d = arr("keypoints3d", self.keypoints3d, (t, 17, 3))
        self.global_orient = arr("global_orient", self.global_orient, (t, 3))
        self.body_pose = arr("body_pose", self.body_pose, (t, 69))
        self.transl = arr("transl", self.transl, (t, 3))
        self.betas = arr("betas", self.betas, (10,))
        if self.body_model not in BODY_MODELS:
            raise InputError(
                f"is {self.body_model!r}",
                path=path,
                field="body_model",
                expected=" or ".join(f'"{m}"' for m in BODY_MODELS),
            )
        self.body_model = str(self.body_model)
        self.world_to_camera = arr("world_to_camera", self.world_to_camera, (t, 4, 4))
        check_rigid(self.world_to_camera, path=path, field="world_to_camera")
        self.intrinsics = check_intrinsics(self.intrinsics, path=path, field="intrinsics")

        for name, shape in (
            ("keypoints3d_std", (t, 17)),
            ("root_std", (t,)),
            ("keypoints3d_pose_std", (t, 17)),
        ):
            if getattr(self, name) is None:
                continue
            std = arr(name, getattr(self, name), shape)
            if (std < 0).any():
                idx = tuple(np.argwhere(std < 0)[0])
                raise InputError(
                    f"is {std[idx]}",
                    path=path,
                    field=index_field(name, idx),
                    expected="a spread >= 0",
                )
            setattr(self, name, std)
        if self.samples_keypoints3d is not None:
            s = np.asarray(self.samples_keypoints3d)
            num_samples = s.shape[0] if s.ndim == 4 else -1
            if num_samples < 1:
                raise InputError(
                    f"has shape {s.shape}",
                    path=path,
                    field="samples_keypoints3d",
                    expected=f"shape (S, {t}, 17, 3) with S >= 1",
                )
            self.samples_keypoints3d = arr("samples_keypoints3d", s, (num_samples, t, 17, 3))

        if self.person is not None:
            if isinstance(self.person, bool) or not float(self.person).is_integer():
                raise InputError(
                    f"is {self.person!r}", path=path, field="person", expected="an integer track id"
                )
            self.person = int(self.person)
        if (self.up is None) != (self.up_source is None):
            raise InputError(
                "given alone", path=path, field="up" if self.up is not None else "up_source",
                expected="up and up_source together, or neither",
            )  # fmt: skip
        if self.up is not None:
            up = arr("up", self.up, (3,))
            norm = float(np.linalg.norm(up))
            if norm < 1e-9:
                raise InputError("is the zero vector", path=path, field="up", expected="a non-zero direction")
            self.up = up / norm
            if self.up_source not in UP_SOURCES:
                raise InputError(f"is {self.up_source!r}", path=path, field="up_source",
                                 expected=" or ".join(f'"{s}"' for s in UP_SOURCES))  # fmt: skip
            self.up_source = str(self.up_source)

        if self.seen is not None:
            seen = np.asarray(self.seen)
            if seen.shape != (t,) or (seen.dtype != bool and not np.isin(seen, (0, 1)).all()):
                raise InputError(
                    f"is a {seen.dtype} array of shape {seen.shape}", path=path, field="seen",
                    expected=f"a ({t},) array of booleans (0 or 1)",
                )  # fmt: skip
            self.seen = seen.astype(bool)

        given = [k for k in _OBJECT_KEYS if getattr(self, k) is not None]
        if given and len(given) != len(_OBJECT_KEYS):
            missing = [k for k in _OBJECT_KEYS if k not in given]
            raise InputError(
                f"{', '.join(given)} given without {', '.join(missing)}",
                path=path,
                field=missing[0],
                expected="all four object_* entries or none",
            )
        if given:
            names = self.object_names
            if isinstance(names, np.ndarray):
                names = names.tolist()
            if not isinstance(names, list | tuple) or not all(isinstance(n, str) and n for n in names):
                raise InputError(
                    f"is {names!r}", path=path, field="object_names", expected="a list of non-empty strings"
                )
            n = len(names)
            self.object_names = list(names)
            self.object_rotation = arr("object_rotation", self.object_rotation, (n, t, 3, 3))
            rigid = np.zeros((n * t, 4, 4))
            rigid[:, :3, :3] = self.object_rotation.reshape(-1, 3, 3)
            rigid[:, 3, 3] = 1.0
            if n:
                check_rigid(rigid, path=path, field="object_rotation (object, frame flattened)")
            self.object_translation = arr("object_translation", self.object_translation, (n, t, 3))
            self.object_scale = arr("object_scale", self.object_scale, (n,))
            if (self.object_scale <= 0).any():
                i = int(np.argmax(self.object_scale <= 0))
                raise InputError(
                    f"is {self.object_scale[i]}",
                    path=path,
                    field=f"object_scale[{i}]",
                    expected="a positive scale",
                )

    @property
    def num_frames(self) -> int:
        """T."""
        return self.joints.shape[0]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The ``.npz`` contents: formats.md's keys (optional ones only when present) -> arrays."""
        out: dict[str, np.ndarray] = {
            "format": np.array(FORMAT),
            "fps": np.array(self.fps, dtype=np.float64),
            "joints": self.joints,
            "keypoints3d": self.keypoints3d,
            "global_orient": self.global_orient,
            "body_pose": self.body_pose,
            "transl": self.transl,
            "betas": self.betas,
            "body_model": np.array(self.body_model),
            "world_to_camera": self.world_to_camera,
            "intrinsics": self.intrinsics,
        }
        if self.keypoints3d_std is not None:
            out["keypoints3d_std"] = self.keypoints3d_std
        if self.samples_keypoints3d is not None:
            out["samples_keypoints3d"] = self.samples_keypoints3d
        for name in ("root_std", "keypoints3d_pose_std"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.object_names is not None:
            # np.str_ dtype ("<U..."), never object: loadable with allow_pickle=False.
            out["object_names"] = np.array(self.object_names, dtype=np.str_).reshape(-1)
            out["object_rotation"] = self.object_rotation
            out["object_translation"] = self.object_translation
            out["object_scale"] = self.object_scale
        if self.person is not None:
            out["person"] = np.array(self.person, dtype=np.int64)
        if self.up is not None:
            out["up"] = self.up
            out["up_source"] = np.array(self.up_source)
        if self.seen is not None:
            out["seen"] = self.seen
        return out

    def seen_span(self) -> tuple[int, int]:
        """(first, last) frame indices between which the person is in the footage (both seen);
        the whole clip when ``seen`` is absent or no frame is seen."""
        return seen_span(np.ones(self.num_frames, bool) if self.seen is None else self.seen)


def seen_span(seen: np.ndarray) -> tuple[int, int]:
    """(first, last) indices of the true entries of a (T,) mask; ``(0, T - 1)`` when none is."""
    frames = np.flatnonzero(seen)
    return (int(frames[0]), int(frames[-1])) if len(frames) else (0, len(seen) - 1)


def read_motion(path: str | os.PathLike) -> Motion:
    """Read an ``anylift.motion/1`` ``.npz``.

    Raises:
        InputError: missing, corrupt, wrong format, or keys of the wrong shape.
    """
    path = Path(path)
    arrays = load_npz(path)
    fmt = npz_string(arrays, "format", path=path)
    if fmt != FORMAT:
        raise InputError(f"is {fmt!r}", path=path, field="format", expected=f'"{FORMAT}"')
    joints = npz_array(arrays, "joints", path=path, shape=(None, 24, 3))
    t = joints.shape[0]
    check_frame_count(t, path=path, field="joints")
    kw: dict[str, Any] = {
        "fps": npz_array(arrays, "fps", path=path, shape=()).item(),
        "joints": joints,
        "keypoints3d": npz_array(arrays, "keypoints3d", path=path, shape=(t, 17, 3)),
        "global_orient": npz_array(arrays, "global_orient", path=path, shape=(t, 3)),
        "body_pose": npz_array(arrays, "body_pose", path=path, shape=(t, 69)),
        "transl": npz_array(arrays, "transl", path=path, shape=(t, 3)),
        "betas": npz_array(arrays, "betas", path=path, shape=(10,)),
        "body_model": npz_string(arrays, "body_model", path=path),
        "world_to_camera": npz_array(arrays, "world_to_camera", path=path, shape=(t, 4, 4)),
        "intrinsics": npz_array(arrays, "intrinsics", path=path, shape=(3, 3)),
        "keypoints3d_std": npz_array(arrays, "keypoints3d_std", path=path, shape=(t, 17), required=False),
        "samples_keypoints3d": npz_array(
            arrays, "samples_keypoints3d", path=path, shape=(None, t, 17, 3), required=False
        ),
        "root_std": npz_array(arrays, "root_std", path=path, shape=(t,), required=False),
        "keypoints3d_pose_std": npz_array(
            arrays, "keypoints3d_pose_std", path=path, shape=(t, 17), required=False
        ),
    }
    if "person" in arrays:
        person = npz_array(arrays, "person", path=path, shape=())
        kw["person"] = person.item()
    if "up" in arrays or "up_source" in arrays:
        kw["up"] = npz_array(arrays, "up", path=path, shape=(3,), required=False)
        kw["up_source"] = npz_string(arrays, "up_source", path=path, required=False)
    if "seen" in arrays:
        kw["seen"] = npz_array(arrays, "seen", path=path, shape=(t,))
    if "object_names" in arrays:
        names = arrays["object_names"]
        if names.dtype.kind not in "US" or names.ndim != 1:
            raise InputError(
                f"is a {names.dtype} array of shape {names.shape}",
                path=path,
                field="object_names",
                expected="an (N,) array of strings",
            )
        n = names.shape[0]
        kw["object_names"] = [
            decode_string(v, path=path, field=f"object_names[{i}]") for i, v in enumerate(names.tolist())
        ]
        kw["object_rotation"] = npz_array(arrays, "object_rotation", path=path, shape=(n, t, 3, 3))
        kw["object_translation"] = npz_array(arrays, "object_translation", path=path, shape=(n, t, 3))
        kw["object_scale"] = npz_array(arrays, "object_scale", path=path, shape=(n,))
    else:
        for k in _OBJECT_KEYS[1:]:
            if k in arrays:
                raise InputError(
                    "missing", path=path, field="object_names", expected=f"object_names alongside {k}"
                )
    return Motion(**kw, path=path)


def write_motion(path: str | os.PathLike, motion: Motion) -> None:
    """Write ``motion`` as an ``anylift.motion/1`` ``.npz`` (compressed). Atomic.

    ``motion`` is re-validated first (its arrays may have been changed since construction).
    """
    values = {f.name: getattr(motion, f.name) for f in fields(motion)}
    arrays = Motion(**values, path=path).to_arrays()
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        # A file object, not a name: numpy would append ".npz" to a name lacking it.
        np.savez_compressed(f, **arrays)
