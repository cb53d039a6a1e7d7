"""Show the lifting uncertainty (``keypoints3d_std``, the spread of the diffusion samples) on the
SMPL armature, frame by frame.

Each SMPL bone gets

- a custom property ``anylift_std`` (metres) keyed on every frame: visible in the sidebar's
  Bone > Custom Properties and plottable in the Graph Editor;
- an animated bone colour (``pose_bone.color``, palette ``CUSTOM``): green at or below ``low``,
  yellow half-way, red at or above ``high`` (seen in Pose Mode and with the armature's bone
  colours shown in Object Mode).

COCO-17 -> SMPL bone mapping (a bone is named after its head joint and spans to its child;
its value is the mean std of the COCO keypoints at or next to it; COCO has no spine, neck,
collar, toe or finger points, so those bones borrow the nearest ones):

==================  ==========================================  ======================
SMPL bone           COCO-17 keypoints averaged                  why
==================  ==========================================  ======================
pelvis              left_hip, right_hip                         the hip centre
left/right_hip      hip, knee (same side)                       the thigh
left/right_knee     knee, ankle                                 the shin
left/right_ankle    ankle                                       the foot
left/right_foot     ankle                                       the toes (no COCO toe)
spine1/2/3          both hips and both shoulders                the trunk
neck                both shoulders, nose                        shoulder line to head
head                nose, eyes, ears                            the face points
left/right_collar   shoulder                                    the clavicle
left/right_shoulder shoulder, elbow                             the upper arm
left/right_elbow    elbow, wrist                                the forearm
left/right_wrist    wrist                                       the hand
left/right_hand     wrist                                       the fingers (no COCO hand)
==================  ==========================================  ======================
"""

from __future__ import annotations

import bpy
import numpy as np

from .baking import keys

COCO17 = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

_TRUNK = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")


def _sided(side: str) -> dict[str, tuple[str, ...]]:
    s = side
    return {
        f"{s}_hip": (f"{s}_hip", f"{s}_knee"),
        f"{s}_knee": (f"{s}_knee", f"{s}_ankle"),
        f"{s}_ankle": (f"{s}_ankle",),
        f"{s}_foot": (f"{s}_ankle",),
        f"{s}_collar": (f"{s}_shoulder",),
        f"{s}_shoulder": (f"{s}_shoulder", f"{s}_elbow"),
        f"{s}_elbow": (f"{s}_elbow", f"{s}_wrist"),
        f"{s}_wrist": (f"{s}_wrist",),
        f"{s}_hand": (f"{s}_wrist",),
    }


#: SMPL bone -> the COCO-17 keypoint names whose std it shows (see the module docstring).
BONE_KEYPOINTS: dict[str, tuple[str, ...]] = {
    "pelvis": ("left_hip", "right_hip"),
    "spine1": _TRUNK,
    "spine2": _TRUNK,
    "spine3": _TRUNK,
    "neck": ("left_shoulder", "right_shoulder", "nose"),
    "head": ("nose", "left_eye", "right_eye", "left_ear", "right_ear"),
    **_sided("left"),
    **_sided("right"),
}

PROPERTY = "anylift_std"
_GREEN = np.array([0.10, 0.85, 0.15])
_YELLOW = np.array([0.95, 0.85, 0.10])
_RED = np.array([0.95, 0.10, 0.10])


def bone_std(keypoints3d_std: np.ndarray) -> dict[str, np.ndarray]:
    """``{SMPL bone: (T,) metres}`` from (T, 17) COCO-17 std, per :data:`BONE_KEYPOINTS`.

    NaN entries are left out of each mean; a bone whose keypoints are all NaN on a frame takes
    that frame's largest finite spread (an unseen joint counts as uncertain).

    Raises:
        ValueError: wrong shape, negative values, or a frame with no finite value at all.
    """
    std = np.asarray(keypoints3d_std, dtype=np.float64)
    if std.ndim != 2 or std.shape[1] != 17 or std.shape[0] == 0:
        raise ValueError(f"keypoints3d_std: expected an array of shape (T, 17), got {std.shape}")
    finite = np.isfinite(std)
    if np.any(std[finite] < 0):
        raise ValueError("keypoints3d_std: expected non-negative spreads (metres)")
    empty = ~finite.any(axis=1)
    if np.any(empty):
        raise ValueError(f"keypoints3d_std: frame {int(np.argmax(empty))} has no finite value")
    worst = np.where(finite, std, -np.inf).max(axis=1)
    out = {}
    for bone, names in BONE_KEYPOINTS.items():
        idx = [COCO17.index(n) for n in names]
        cols, ok = std[:, idx], finite[:, idx]
        count = ok.sum(axis=1)
        mean = np.where(ok, cols, 0.0).sum(axis=1) / np.maximum(count, 1)
        out[bone] = np.where(count > 0, mean, worst)
    return out


def std_colour(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """(T,) metres -> (T, 3) RGB: green at ``low`` and below, yellow midway, red at ``high`` and above."""
    t = np.clip((np.asarray(values, dtype=np.float64) - low) / max(high - low, 1e-12), 0.0, 1.0)[:, None]
    first = _GREEN + (_YELLOW - _GREEN) * np.minimum(t * 2, 1.0)
    return np.where(t <= 0.5, first, _YELLOW + (_RED - _YELLOW) * (t * 2 - 1))


def apply_uncertainty(
    armature: bpy.types.Object,
    keypoints3d_std: np.ndarray,
    *,
    frame_start: int = 1,
    low: float = 0.02,
    high: float = 0.10,
    colour: bool = True,
) -> dict[str, np.ndarray]:
    """Key the per-bone uncertainty on ``armature`` (the baked ``SMPL`` armature).

    Args:
        armature: armature whose bones are named as SMPL joints; bones it lacks are skipped.
        keypoints3d_std: (T, 17) per-frame, per-COCO-keypoint spread of the samples, metres.
        frame_start: scene frame of result frame 0 (``formats.md``: 1).
        low, high: metres mapped to green and to red.
        colour: also key the bone colours.

    Returns:
        ``{bone: (T,) metres}`` as keyed.

    Keys go into the armature's current action (a new one when it has none), next to the motion.
    """
    values = bone_std(keypoints3d_std)
    frames = frame_start + np.arange(len(next(iter(values.values()))), dtype=np.float64)
    bag = keys.channelbag_of(armature) or keys.new_action(armature)
    keyed = {}
    for bone, std in values.items():
        pb = armature.pose.bones.get(bone)
        if pb is None:
            continue
        pb[PROPERTY] = float(std[0])
        pb.id_properties_ui(PROPERTY).update(
            min=0.0,
            soft_max=high * 2,
            subtype="DISTANCE",
            description="AnyLift: spread of the lifted samples at this bone (metres)",
        )
        path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"]'
        keys.write_fcurve(bag, f'{path}["{PROPERTY}"]', 0, frames, std, group=bone)
        if colour:
            pb.color.palette = "CUSTOM"
            rgb = std_colour(std, low, high)
            pb.color.custom.normal = rgb[0]
            pb.color.custom.select = (0.35, 0.7, 1.0)
            pb.color.custom.active = (0.6, 0.9, 1.0)
            keys.write_channels(bag, f"{path}.color.custom.normal", frames, rgb, group=bone)
        keyed[bone] = std
    return keyed
