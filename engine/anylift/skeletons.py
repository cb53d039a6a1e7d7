"""Joint sets the engine reads, and their conversion to the canonical COCO-17 order.

The engine works in COCO-17 (``docs/formats.md``): every reader converts to it with
:func:`to_coco17`. Each :class:`Skeleton` carries its joint names, its bones (pairs of joint
indices, parent first where there is a parent) and its left/right flip permutation, which
is an involution (applying it twice gives the identity).

Conversions match joints **by name**. A COCO-17 joint the source lacks gets score 0 (and
NaN coordinates). Notes per source:

- ``smpl24``: SMPL has no nose, eyes or ears, so those five COCO joints get score 0 in 2D.
  SMPL's hip and shoulder joints are joint *centres*, a little inside COCO's surface hip and
  shoulder keypoints; we take them as they are. Turning a 3D SMPL body into COCO-17 *with*
  face points (read from mesh vertices) is the body module's job
  (``anylift.body.model.BodyOutput.keypoints``), not this one's.
- ``openpose18``, ``body25`` and ``mediapipe33`` hold all 17 COCO joints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anylift.errors import InputError

COCO17_JOINTS: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

SMPL24_JOINTS: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hand",
    "right_hand",
)

# SMPL's kinematic tree (the ``kintree_table`` of the official model), -1 for the root.
SMPL24_PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21,
)  # fmt: skip

# OpenPose's COCO-18 model (``pose_keypoints_2d`` with 18 points).
OPENPOSE18_JOINTS: tuple[str, ...] = (
    "nose",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_eye",
    "left_eye",
    "right_ear",
    "left_ear",
)

# OpenPose's BODY_25 model (its default since 1.3).
BODY25_JOINTS: tuple[str, ...] = (
    "nose",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "mid_hip",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_eye",
    "left_eye",
    "right_ear",
    "left_ear",
    "left_big_toe",
    "left_small_toe",
    "left_heel",
    "right_big_toe",
    "right_small_toe",
    "right_heel",
)

# MediaPipe Pose landmarks, in MediaPipe's order.
MEDIAPIPE33_JOINTS: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

_COCO17_BONES = (
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
    ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"),
    ("left_shoulder", "right_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("nose", "left_eye"),
    ("nose", "right_eye"),
    ("left_eye", "right_eye"),
    ("left_eye", "left_ear"),
    ("right_eye", "right_ear"),
    ("left_ear", "left_shoulder"),
    ("right_ear", "right_shoulder"),
)

_OPENPOSE18_BONES = (
    ("neck", "right_shoulder"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("neck", "left_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("neck", "right_hip"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
    ("neck", "left_hip"),
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("neck", "nose"),
    ("nose", "right_eye"),
    ("right_eye", "right_ear"),
    ("nose", "left_eye"),
    ("left_eye", "left_ear"),
)

_BODY25_BONES = (
    ("neck", "right_shoulder"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("neck", "left_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("neck", "mid_hip"),
    ("mid_hip", "right_hip"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
    ("mid_hip", "left_hip"),
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("neck", "nose"),
    ("nose", "right_eye"),
    ("right_eye", "right_ear"),
    ("nose", "left_eye"),
    ("left_eye", "left_ear"),
    ("left_ankle", "left_big_toe"),
    ("left_big_toe", "left_small_toe"),
    ("left_ankle", "left_heel"),
    ("right_ankle", "right_big_toe"),
    ("right_big_toe", "right_small_toe"),
    ("right_ankle", "right_heel"),
)

# MediaPipe's POSE_CONNECTIONS.
_MEDIAPIPE33_BONES_IDX = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12),
    (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18),
    (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27),
    (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Skeleton:
    """A joint set.

    Attributes:
        name: the name files use (``"coco17"``...).
        joints: K joint names, in the set's order.
        bones: pairs of joint indices (i, j), parent first where there is a parent.
        flip: permutation of length K mapping each joint to its left/right mirror
            (``flip[i]`` is the mirror of joint i; joints on the midline map to themselves).
    """

    name: str
    joints: tuple[str, ...]
    bones: tuple[tuple[int, int], ...]
    flip: tuple[int, ...]

    def __post_init__(self) -> None:
        k = len(self.joints)
        if len(set(self.joints)) != k:
            raise ValueError(f"skeleton {self.name}: duplicate joint names")
        if sorted(self.flip) != list(range(k)):
            raise ValueError(f"skeleton {self.name}: flip is not a permutation of {k} joints")
        if any(self.flip[self.flip[i]] != i for i in range(k)):
            raise ValueError(f"skeleton {self.name}: flip is not an involution")
        for i, j in self.bones:
            if not (0 <= i < k and 0 <= j < k) or i == j:
                raise ValueError(f"skeleton {self.name}: bad bone ({i}, {j})")

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        """Index of the joint named ``joint``."""
        return self.joints.index(joint)


def _mirror_name(name: str) -> str:
    # Names carry the side as a "left"/"right" token ("left_hip", "mouth_left").
    parts = name.split("_")
    swap = {"left": "right", "right": "left"}
    return "_".join(swap.get(p, p) for p in parts)


def _flip_of(joints: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(joints.index(_mirror_name(n)) for n in joints)


def _bones_by_name(joints: tuple[str, ...], pairs) -> tuple[tuple[int, int], ...]:
    return tuple((joints.index(a), joints.index(b)) for a, b in pairs)


def _make(name: str, joints: tuple[str, ...], bones: tuple[tuple[int, int], ...]) -> Skeleton:
    return Skeleton(name=name, joints=joints, bones=bones, flip=_flip_of(joints))


COCO17 = _make("coco17", COCO17_JOINTS, _bones_by_name(COCO17_JOINTS, _COCO17_BONES))
SMPL24 = _make(
    "smpl24",
    SMPL24_JOINTS,
    tuple((p, c) for c, p in enumerate(SMPL24_PARENTS) if p >= 0),
)
OPENPOSE18 = _make("openpose18", OPENPOSE18_JOINTS, _bones_by_name(OPENPOSE18_JOINTS, _OPENPOSE18_BONES))
BODY25 = _make("body25", BODY25_JOINTS, _bones_by_name(BODY25_JOINTS, _BODY25_BONES))
MEDIAPIPE33 = _make("mediapipe33", MEDIAPIPE33_JOINTS, _MEDIAPIPE33_BONES_IDX)

SKELETONS: dict[str, Skeleton] = {s.name: s for s in (COCO17, SMPL24, OPENPOSE18, BODY25, MEDIAPIPE33)}


def get_skeleton(name: str) -> Skeleton:
    """The skeleton called ``name``; :class:`InputError` naming the known ones otherwise."""
    try:
        return SKELETONS[name]
    except (KeyError, TypeError):
        raise InputError(
            f"unknown skeleton {name!r}",
            field="skeleton",
            expected="one of " + ", ".join(sorted(SKELETONS)),
        ) from None


def coco17_source_indices(skeleton_name: str) -> tuple[int, ...]:
    """For each COCO-17 joint, its index in ``skeleton_name``'s order, or -1 when it has none."""
    joints = get_skeleton(skeleton_name).joints
    return tuple(joints.index(n) if n in joints else -1 for n in COCO17_JOINTS)


def to_coco17(array: np.ndarray, skeleton_name: str, *, has_score: bool = True) -> np.ndarray:
    """Reorder joints from ``skeleton_name`` to COCO-17.

    Args:
        array: (..., K, C) values per joint in the source order, K = the source's joint count.
        skeleton_name: a key of :data:`SKELETONS`.
        has_score: the last channel is a confidence score (2D keypoints ``(x, y, score)``).
            A COCO joint the source lacks then gets score 0 and NaN for the other channels;
            with ``has_score=False`` it gets NaN in every channel.

    Returns:
        (..., 17, C) float64 array.
    """
    skeleton = get_skeleton(skeleton_name)
    array = np.asarray(array, dtype=np.float64)
    if array.ndim < 2 or array.shape[-2] != skeleton.num_joints:
        raise InputError(
            f"array of shape {array.shape} does not hold {skeleton_name} joints",
            field="keypoints",
            expected=f"shape (..., {skeleton.num_joints}, C)",
        )
    idx = np.asarray(coco17_source_indices(skeleton_name))
    out = array[..., np.maximum(idx, 0), :].copy()
    missing = idx < 0
    if missing.any():
        out[..., missing, :] = np.nan
        if has_score:
            out[..., missing, -1] = 0.0
    return out
