"""Show the lifting uncertainty (the spread of the diffusion samples) on the SMPL armature,
frame by frame.

The samples of a clip mostly disagree on *where* the body is (its depth), far less on its pose
(:mod:`anylift.lifting.spread`), so the two are shown apart (:func:`apply_motion_uncertainty`):

- the placement: the armature object's ``anylift_root_std`` (metres), keyed on every frame;
- the pose, per SMPL bone: a custom property ``anylift_std`` (metres) keyed on every frame
  (sidebar Bone > Custom Properties, plottable in the Graph Editor) and an animated bone colour
  (``pose_bone.color``, palette ``CUSTOM``): green at or below :data:`LOW`, yellow half-way, red
  at or above :data:`HIGH`, as fractions of the body's size (``anylift_body_size`` on the
  armature object: leg plus trunk length). The sidebar's Uncertainty panel holds the legend
  (:func:`anylift_blender.panels.draw_legend`).

Thresholds (``benchmarks/uncertainty_thresholds.py``, six training-split cases lifted with
``--samples 4``, 5 805 joint-frames, hips left out): LOW is the median relative pose spread,
HIGH its 90th percentile. Green joints had a mean root-relative error of 122 mm, yellow 150 mm,
red 208 mm (Spearman correlation of spread and error 0.25: the colours rank joints, they do not
promise an error).

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

from . import keys

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
ROOT_PROPERTY = "anylift_root_std"
SIZE_PROPERTY = "anylift_body_size"
#: Pose spread / body size at and below which a bone is green (confident), at and above which it
#: is red (unsure); see the module docstring for how they were chosen.
LOW, HIGH = 0.031, 0.057
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
    body_size: float | None = None,
) -> dict[str, np.ndarray]:
    """Key the per-bone uncertainty on ``armature`` (the baked ``SMPL`` armature).

    Args:
        armature: armature whose bones are named as SMPL joints; bones it lacks are skipped.
        keypoints3d_std: (T, 17) per-frame, per-COCO-keypoint spread of the samples, metres.
        frame_start: scene frame of result frame 0 (``formats.md``: 1).
        low, high: spreads mapped to green and to red: metres, or fractions of ``body_size``.
        colour: also key the bone colours.
        body_size: metres; when given the colours follow ``std / body_size``.

    Returns:
        ``{bone: (T,) metres}`` as keyed.

    Keys go into the armature's current action (a new one when it has none), next to the motion.
    """
    values = bone_std(keypoints3d_std)
    scale = 1.0 if body_size is None else float(body_size)
    if not scale > 0:
        raise ValueError(f"body_size: expected a size > 0 metres, got {body_size}")
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
            soft_max=high * scale * 2,
            subtype="DISTANCE",
            description="AnyLift: spread of the lifted samples' pose at this bone (metres)",
        )
        path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"]'
        keys.write_fcurve(bag, f'{path}["{PROPERTY}"]', 0, frames, std, group=bone)
        if colour:
            pb.color.palette = "CUSTOM"
            rgb = std_colour(std / scale, low, high)
            pb.color.custom.normal = rgb[0]
            pb.color.custom.select = (0.35, 0.7, 1.0)
            pb.color.custom.active = (0.6, 0.9, 1.0)
            keys.write_channels(bag, f"{path}.color.custom.normal", frames, rgb, group=bone)
        keyed[bone] = std
    return keyed


def pose_spread(motion) -> np.ndarray | None:
    """(T, 17) pose spread of a result, metres: ``keypoints3d_pose_std``, else computed from
    ``samples_keypoints3d``, else (older results) the total ``keypoints3d_std``; None without any."""
    pose = getattr(motion, "keypoints3d_pose_std", None)
    if pose is not None:
        return np.asarray(pose)
    samples = getattr(motion, "samples_keypoints3d", None)
    if samples is not None and len(samples) > 1:
        from anylift.lifting.spread import sample_spread

        return sample_spread(samples).pose_std
    std = getattr(motion, "keypoints3d_std", None)
    return None if std is None else np.asarray(std)


def apply_motion_uncertainty(armature: bpy.types.Object, motion, *, frame_start: int = 1) -> bool:
    """Key a result's uncertainty on its baked armature (module docstring): bone colours by pose
    spread relative to body size (:data:`LOW`, :data:`HIGH`), the placement spread on the object.
    Returns whether the result had any spread to show."""
    pose = pose_spread(motion)
    if pose is None:
        return False
    from anylift.lifting.spread import body_size, sample_spread

    size = body_size(motion.keypoints3d)
    apply_uncertainty(armature, pose, frame_start=frame_start, low=LOW, high=HIGH, body_size=size)
    armature[SIZE_PROPERTY] = size
    root = getattr(motion, "root_std", None)
    samples = getattr(motion, "samples_keypoints3d", None)
    if root is None and samples is not None and len(samples) > 1:
        root = sample_spread(samples).root_std
    if root is not None:
        root = np.asarray(root, dtype=np.float64)
        armature[ROOT_PROPERTY] = float(root[0])
        armature.id_properties_ui(ROOT_PROPERTY).update(
            min=0.0, subtype="DISTANCE", description="AnyLift: spread of the samples' body placement (metres)"
        )
        frames = frame_start + np.arange(len(root), dtype=np.float64)
        bag = keys.channelbag_of(armature) or keys.new_action(armature)
        keys.write_fcurve(bag, f'["{ROOT_PROPERTY}"]', 0, frames, root, group="AnyLift")
    return True
