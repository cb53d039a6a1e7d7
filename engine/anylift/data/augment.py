"""3D motion augmentation and looping for training windows (COCO-17 keypoints, Z-up metres).

Every function takes and returns (T, 17, 3) keypoints in the engine's world (Z up, metres,
feet on z = 0 for mocap clips) and draws randomness only from the ``np.random.Generator`` it is
given.

- :func:`loop_sequence`: a clip played for any number of frames. Clips whose file says
  ``Loop = "wrap"`` repeat seamlessly: each repeat starts where the previous one ended, turned by
  the heading change of one cycle, so a walk keeps walking (and a spin keeps spinning) instead of
  jumping back to the start. Other clips play once, held still before and after (a person
  standing, then acting).
- :func:`change_speed`: resample in time by a speed factor (0.8-1.25x by default).
- :func:`mirror`: reflect left/right (world y -> -y) and swap the left/right joints.
- :func:`rotate_yaw`: turn the motion about the vertical axis through its mean pelvis.
- :func:`body_shape`: a global scale plus per-limb length jitter along COCO-17's kinematic chain.
- :func:`recombine_arms`: one window's arm motion on another window's body (motion diversity beyond
  the clips: a kick with a punch's arms); :class:`~anylift.data.windows.MotionBank` draws the donor.
- :func:`lean`: the upper body bent at the hips, forwards, backwards or sideways, by a smoothly
  varying angle (a kick leaning back, a bow, a side bend) on the clip's own legs.
- :func:`swing_limbs`: new poses from the clips' own: each arm and leg swung at the shoulder or hip
  and bent more or less at the elbow or knee by smoothly varying angles, the bones' lengths kept,
  a hand or foot on the floor left where it is (the kinematic pose augmentation of PoseAug).
- :func:`augment_motion`: all of them with the probabilities/ranges of :class:`AugmentConfig`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from anylift.geometry.rotations import axis_angle_to_matrix
from anylift.geometry.transforms import unit
from anylift.skeletons import COCO17

L_SHOULDER, R_SHOULDER, L_HIP, R_HIP = 5, 6, 11, 12
HEAD = (0, 1, 2, 3, 4)

# COCO-17 kinematic chain used by :func:`body_shape`, rooted at the hip midpoint (-1):
# (joint, parent, bone group). Left/right bones of the same group share one length factor plus
# a small asymmetric part. The head points ride rigidly on the shoulder midpoint (see body_shape).
_CHAIN: tuple[tuple[int, int, str], ...] = (
    (11, -1, "pelvis"),
    (12, -1, "pelvis"),
    (13, 11, "thigh"),
    (14, 12, "thigh"),
    (15, 13, "shin"),
    (16, 14, "shin"),
    (5, 11, "torso"),
    (6, 12, "torso"),
    (7, 5, "upper_arm"),
    (8, 6, "upper_arm"),
    (9, 7, "forearm"),
    (10, 8, "forearm"),
)
BONE_GROUPS: tuple[str, ...] = ("pelvis", "thigh", "shin", "torso", "upper_arm", "forearm", "head")


def hip_mid(keypoints3d: np.ndarray) -> np.ndarray:
    """(T, 3) midpoint of the two hips (the root of the 2D representation)."""
    return 0.5 * (keypoints3d[:, L_HIP] + keypoints3d[:, R_HIP])


def heading(keypoints3d: np.ndarray) -> np.ndarray:
    """(T,) facing direction (radians from +x towards +y): perpendicular to the hip line, horizontal."""
    left = keypoints3d[:, L_HIP] - keypoints3d[:, R_HIP]
    forward = np.cross(left, np.array([0.0, 0.0, 1.0]))
    return np.arctan2(forward[:, 1], forward[:, 0])


def _rot_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def loop_sequence(
    keypoints3d: np.ndarray, num_frames: int, loop: str, rng: np.random.Generator
) -> np.ndarray:
    """Play a clip for ``num_frames`` frames starting at a random point.

    Args:
        keypoints3d: (T, 17, 3) one cycle of the clip (for ``"wrap"`` clips the last frame is the
            pose of the first one, moved on by one cycle).
        num_frames: frames wanted.
        loop: ``"wrap"`` (repeat, carrying root displacement and heading forward) or anything else
            (play once at a random offset inside the window; the first/last pose is held).
        rng: draws the starting offset.

    Returns:
        (num_frames, 17, 3).
    """
    kp = np.asarray(keypoints3d, dtype=np.float64)
    t = kp.shape[0]
    if loop == "wrap" and t >= 3:
        cycle = t - 1  # the last frame is the next cycle's first frame
        # One cycle's rigid motion about the vertical axis: the first frame's root/heading to the last's.
        turn = float(np.angle(np.exp(1j * (heading(kp[-1:])[0] - heading(kp[:1])[0]))))
        rot = _rot_z(turn)
        start_xy = hip_mid(kp[:1])[0] * [1, 1, 0]
        end_xy = hip_mid(kp[-1:])[0] * [1, 1, 0]
        offset = int(rng.integers(cycle))
        repeats = (offset + num_frames) // cycle + 1
        parts, turn_k, place = [], np.eye(3), start_xy.copy()
        for _ in range(repeats):
            # Cycle k: the first cycle turned by k cycle-turns and moved to where cycle k-1 ended.
            parts.append((kp[:cycle] - start_xy) @ turn_k.T + place)
            place = place + turn_k @ (end_xy - start_xy)
            turn_k = rot @ turn_k
        seq = np.concatenate(parts, axis=0)
        return seq[offset : offset + num_frames].copy()
    if t >= num_frames:
        start = int(rng.integers(t - num_frames + 1))
        return kp[start : start + num_frames].copy()
    lead = int(rng.integers(num_frames - t + 1))
    index = np.clip(np.arange(num_frames) - lead, 0, t - 1)
    return kp[index].copy()


def change_speed(keypoints3d: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (``factor`` > 0): (T, 17, 3) -> (round((T-1)/factor)+1, 17, 3).

    Linear interpolation in time (the clips are smooth at 30 fps; speeds stay within 0.8-1.25x).
    """
    kp = np.asarray(keypoints3d, dtype=np.float64)
    t = kp.shape[0]
    count = max(round((t - 1) / factor) + 1, 2)
    times = np.minimum(np.arange(count) * factor, t - 1)
    lo = np.floor(times).astype(int)
    hi = np.minimum(lo + 1, t - 1)
    w = (times - lo)[:, None, None]
    return (1.0 - w) * kp[lo] + w * kp[hi]


def mirror(keypoints3d: np.ndarray) -> np.ndarray:
    """Left/right mirror: world y -> -y, then the left and right joints swap names (COCO17.flip)."""
    kp = np.array(keypoints3d, dtype=np.float64)
    kp[..., 1] *= -1.0
    return kp[:, list(COCO17.flip)]


def rotate_yaw(keypoints3d: np.ndarray, angle: float) -> np.ndarray:
    """Turn the motion by ``angle`` radians about the vertical axis through its mean pelvis."""
    kp = np.asarray(keypoints3d, dtype=np.float64)
    centre = hip_mid(kp).mean(0) * [1, 1, 0]
    return (kp - centre) @ _rot_z(angle).T + centre


def body_shape(keypoints3d: np.ndarray, scale: float, bone_factors: dict[str, np.ndarray]) -> np.ndarray:
    """Change the body's proportions: bone vectors rescaled along the chain, then a global scale.

    Args:
        keypoints3d: (T, 17, 3).
        scale: global size factor (applied about the mean pelvis on the floor, so the feet stay on
            the floor and the path scales with the body).
        bone_factors: per group of :data:`BONE_GROUPS`, a (2,) factor for the (left, right) bone;
            ``"head"`` uses its first value for the head points' offsets from the shoulder midpoint.

    Returns:
        (T, 17, 3); the lowest point over the clip stays at the same height.
    """
    old = np.asarray(keypoints3d, dtype=np.float64)
    new = old.copy()
    root_old = hip_mid(old)
    for joint, parent, group in _CHAIN:
        side = 0 if joint in (11, 13, 15, 5, 7, 9) else 1
        base_old = root_old if parent < 0 else old[:, parent]
        base_new = root_old if parent < 0 else new[:, parent]
        new[:, joint] = base_new + bone_factors[group][side] * (old[:, joint] - base_old)
    neck_old = 0.5 * (old[:, L_SHOULDER] + old[:, R_SHOULDER])
    neck_new = 0.5 * (new[:, L_SHOULDER] + new[:, R_SHOULDER])
    new[:, list(HEAD)] = neck_new[:, None] + bone_factors["head"][0] * (
        old[:, list(HEAD)] - neck_old[:, None]
    )
    floor_old = old[..., 2].min()
    anchor = root_old.mean(0) * [1, 1, 0] + [0, 0, floor_old]
    new = (new - anchor) * scale + anchor
    new[..., 2] += floor_old - new[..., 2].min()
    return new


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of :func:`augment_motion`.

    Attributes:
        mirror_prob: probability of a left/right mirror.
        speed: (low, high) speed factor, drawn log-uniformly.
        yaw: randomise the heading uniformly over the full circle.
        scale: (low, high) global body scale.
        bone_jitter: per-limb length factor within 1 +- bone_jitter (left/right share it, plus a
            quarter of it asymmetric).
        time_warp: strength of a smooth random change of speed within the window (0 = none;
            0.3 = the local speed varies by about +-30%).
        tumble_prob: probability of turning the whole motion about a random horizontal axis by
            up to 180 degrees (tumbling, inverted poses), feet-or-whatever-is-lowest on the floor.
        recombine_prob: probability of giving a window the arm motion of another augmented window
            (:func:`recombine_arms`; drawn by :meth:`anylift.data.windows.MotionBank.window`).
        lean_prob: probability of bending a window's upper body at the hips (:func:`lean`).
        lean_deg: (forwards/backwards, sideways) largest mean bend in degrees; the bend also varies
            smoothly within the window by a third of that.
        limb_prob: probability of swinging a window's limbs (:func:`swing_limbs`).
        limb_deg: (swing at the shoulder or hip, bend at the elbow or knee) largest mean angle in
            degrees, drawn per limb; each also varies smoothly within the window by half of that.
    """

    mirror_prob: float = 0.5
    speed: tuple[float, float] = (0.8, 1.25)
    yaw: bool = True
    scale: tuple[float, float] = (0.88, 1.12)
    bone_jitter: float = 0.08
    time_warp: float = 0.0
    tumble_prob: float = 0.0
    recombine_prob: float = 0.0
    lean_prob: float = 0.0
    lean_deg: tuple[float, float] = (35.0, 15.0)
    limb_prob: float = 0.0
    limb_deg: tuple[float, float] = (30.0, 25.0)


def _smooth_noise(t: int, rng: np.random.Generator) -> np.ndarray:
    """(t,) smooth zero-mean unit-variance noise (a few slow swings over the window)."""
    from scipy.ndimage import gaussian_filter1d

    noise = gaussian_filter1d(rng.standard_normal(t), sigma=max(t / 6.0, 1.0), mode="wrap")
    return noise / max(noise.std(), 1e-9)


def time_warp(keypoints3d: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    """Replay a clip with a smoothly varying speed (same frame count, linear interpolation).

    The local speed is ``exp(strength * n(t))`` with ``n`` smooth unit-variance noise, rescaled so the
    warped clip spans the same time range; (T, J, 3) -> (T, J, 3).
    """
    kp = np.asarray(keypoints3d, dtype=np.float64)
    t = kp.shape[0]
    if t < 3 or strength <= 0:
        return kp.copy()
    speed = np.exp(strength * _smooth_noise(t, rng))
    times = np.concatenate([[0.0], np.cumsum(speed[:-1])])
    times *= (t - 1) / times[-1]
    lo = np.floor(times).astype(int).clip(0, t - 1)
    hi = np.minimum(lo + 1, t - 1)
    w = (times - lo)[:, None, None]
    return (1.0 - w) * kp[lo] + w * kp[hi]


def tumble(keypoints3d: np.ndarray, angle: float, axis_azimuth: float) -> np.ndarray:
    """Turn the motion by ``angle`` about a horizontal axis (direction ``axis_azimuth``) through its
    mean pelvis, then put its lowest point over the clip back at the original floor height."""
    kp = np.asarray(keypoints3d, dtype=np.float64)
    rot = axis_angle_to_matrix(angle * np.array([np.cos(axis_azimuth), np.sin(axis_azimuth), 0.0]))
    centre = hip_mid(kp).mean(0)
    out = (kp - centre) @ rot.T + centre
    out[..., 2] += kp[..., 2].min() - out[..., 2].min()
    return out


ARMS: tuple[tuple[int, int, int], ...] = ((5, 7, 9), (6, 8, 10))
"""COCO-17 (shoulder, elbow, wrist) of the left and the right arm."""


def _torso_frames(kp: np.ndarray) -> np.ndarray:
    """(T, 3, 3) orthonormal torso axes per frame (columns: across the shoulders, up the spine, forward)."""
    across = kp[:, R_SHOULDER] - kp[:, L_SHOULDER]
    up = 0.5 * (kp[:, L_SHOULDER] + kp[:, R_SHOULDER]) - hip_mid(kp)
    x = unit(across)
    y = unit(up - (up * x).sum(-1, keepdims=True) * x)
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def recombine_arms(body: np.ndarray, donor: np.ndarray) -> np.ndarray:
    """``body`` with the arm motion of ``donor``: each arm's bone directions relative to the donor's
    torso, turned into ``body``'s torso and given ``body``'s bone lengths (the torso, head and legs,
    and so the contacts with the floor, stay ``body``'s). (T, 17, 3) x 2 -> (T, 17, 3)."""
    base = np.asarray(body, dtype=np.float64)
    out, src = base.copy(), np.asarray(donor, dtype=np.float64)
    to_body = _torso_frames(out) @ np.swapaxes(_torso_frames(src), 1, 2)  # donor torso -> body torso
    for chain in ARMS:
        for parent, joint in itertools.pairwise(chain):
            length = np.linalg.norm(base[:, joint] - base[:, parent], axis=-1, keepdims=True)
            direction = unit(np.einsum("tij,tj->ti", to_body, src[:, joint] - src[:, parent]))
            out[:, joint] = out[:, parent] + length * direction
    return out


UPPER_BODY: tuple[int, ...] = tuple(range(11))
"""COCO-17 head, shoulders, elbows and wrists: what :func:`lean` turns."""


def lean(keypoints3d: np.ndarray, forward: np.ndarray, sideways: np.ndarray) -> np.ndarray:
    """The upper body (:data:`UPPER_BODY`) turned about the hip midpoint, each frame by
    ``forward`` (T,) radians about the hip line (positive bends forwards) and then ``sideways``
    (T,) about the body's forward axis (positive towards its left); hips and legs stay, so the
    feet keep their contacts. The forward bend keeps the torso's sides; the sideways one changes
    them a little, as a real side bend does. (T, 17, 3) -> (T, 17, 3)."""
    kp = np.asarray(keypoints3d, dtype=np.float64)
    out = kp.copy()
    centre = hip_mid(kp)
    across = unit(kp[:, L_HIP] - kp[:, R_HIP])  # towards the body's left
    up = 0.5 * (kp[:, L_SHOULDER] + kp[:, R_SHOULDER]) - centre
    front = unit(np.cross(across, up))  # the chest's side: left x up
    # About left: +angle takes up towards front (bends forwards); about front: up towards left.
    rot = axis_angle_to_matrix(
        -np.asarray(sideways, dtype=np.float64)[:, None] * front
    ) @ axis_angle_to_matrix(np.asarray(forward, dtype=np.float64)[:, None] * across)
    upper = list(UPPER_BODY)
    out[:, upper] = np.einsum("tij,tkj->tki", rot, kp[:, upper] - centre[:, None]) + centre[:, None]
    return out


LIMBS: tuple[tuple[int, int, int], ...] = (*ARMS, (11, 13, 15), (12, 14, 16))
"""COCO-17 (shoulder or hip, elbow or knee, wrist or ankle) of the arms and the legs."""

MAX_BEND_DEG = 150.0
"""The most an elbow or a knee is bent by :func:`swing_limbs` (degrees between its two bones)."""


def swing_limbs(
    keypoints3d: np.ndarray,
    swing_axes: np.ndarray,
    swings: np.ndarray,
    bends: np.ndarray,
    contact: float = 0.05,
    free: float = 0.2,
) -> np.ndarray:
    """Each limb of :data:`LIMBS` swung rigidly about its root joint (shoulder or hip) and bent
    at its middle joint (elbow or knee); every bone keeps its length, the torso and head stay.

    Args:
        keypoints3d: (T, 17, 3), Z up, the floor at the window's lowest keypoint.
        swing_axes: (4, 3) per limb, the swing's axis in the torso's own axes (columns of
            ``_torso_frames``: across the shoulders, up the spine, forward), so it turns with the body.
        swings: (4, T) radians about that axis.
        bends: (4, T) radians added to the angle between the limb's two bones (positive bends it
            more), kept within 0 and :data:`MAX_BEND_DEG`; about the limb's own hinge (the normal of
            its two bones; across the torso where the limb is straight).
        contact, free: a limb whose end (hand or foot) is within ``contact`` metres of the floor is
            left as it is (a foot the body stands on), one ``free`` metres above it fully moved,
            in between in proportion (smoothed over a few frames).

    Returns:
        (T, 17, 3).
    """
    from scipy.ndimage import gaussian_filter1d

    kp = np.asarray(keypoints3d, dtype=np.float64)
    out = kp.copy()
    floor = kp[..., 2].min()
    torso = _torso_frames(kp)
    for limb, (root, mid, end) in enumerate(LIMBS):
        lift = np.clip((kp[:, end, 2] - floor - contact) / (free - contact), 0.0, 1.0)
        weight = np.clip(gaussian_filter1d(lift, 2.0, mode="nearest"), 0.0, 1.0)
        upper, lower = kp[:, mid] - kp[:, root], kp[:, end] - kp[:, mid]
        # The bend, about the hinge (across the torso where the limb is straight).
        hinge = np.cross(upper, lower)
        size = np.linalg.norm(upper, axis=-1) * np.linalg.norm(lower, axis=-1)
        straight = np.linalg.norm(hinge, axis=-1) < 1e-3 * size
        hinge[straight] = torso[straight, :, 0]
        angle = np.arccos(np.clip((unit(upper) * unit(lower)).sum(-1), -1.0, 1.0))
        bent = np.clip(angle + weight * bends[limb], 0.0, np.radians(MAX_BEND_DEG)) - angle
        lower = np.einsum("tij,tj->ti", axis_angle_to_matrix(bent[:, None] * unit(hinge)), lower)
        # The swing, about an axis fixed in the torso's frame.
        axis = np.einsum("tij,j->ti", torso, unit(np.asarray(swing_axes[limb], dtype=np.float64)))
        turn = axis_angle_to_matrix((weight * swings[limb])[:, None] * axis)
        upper, lower = np.einsum("tij,tj->ti", turn, upper), np.einsum("tij,tj->ti", turn, lower)
        out[:, mid] = kp[:, root] + upper
        out[:, end] = out[:, mid] + lower
    return out


def _above_floor(moved: np.ndarray, kp: np.ndarray, margin: float = 0.02) -> bool:
    """Whether a reposed window keeps every keypoint (a head, a hand, a foot) no more than ``margin``
    metres under the original window's lowest point: augmentations that would push one through
    the floor are not used."""
    return bool(moved[..., 2].min() >= kp[..., 2].min() - margin)


def _swing_limbs_randomly(
    kp: np.ndarray, rng: np.random.Generator, limb_deg: tuple[float, float]
) -> np.ndarray:
    t = len(kp)
    angles = [
        np.radians(np.stack([rng.uniform(-most, most) + most / 2.0 * _smooth_noise(t, rng) for _ in LIMBS]))
        for most in limb_deg
    ]
    axes = unit(rng.standard_normal((len(LIMBS), 3)))
    swung = swing_limbs(kp, axes, *angles)
    return swung if _above_floor(swung, kp) else kp


def augment_motion(
    keypoints3d: np.ndarray, loop: str, num_frames: int, rng: np.random.Generator, config: AugmentConfig
) -> np.ndarray:
    """One augmented window of a clip: speed, loop to length, time warp, tumble, lean, limb swings,
    mirror, yaw, body shape.

    Args:
        keypoints3d: (T, 17, 3) a clip (one cycle for wrap clips).
        loop: the clip's loop mode (see :func:`loop_sequence`).
        num_frames: window length.

    Returns:
        (num_frames, 17, 3).
    """
    lo, hi = config.speed
    factor = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    kp = change_speed(keypoints3d, factor)
    kp = loop_sequence(kp, num_frames, loop, rng)
    if config.time_warp > 0:
        kp = time_warp(kp, config.time_warp, rng)
    if config.tumble_prob > 0 and rng.random() < config.tumble_prob:
        kp = tumble(kp, float(rng.uniform(-np.pi, np.pi)), float(rng.uniform(0, 2 * np.pi)))
    if config.lean_prob > 0 and rng.random() < config.lean_prob:
        bends = [
            np.radians(rng.uniform(-most, most) + most / 3.0 * _smooth_noise(len(kp), rng))
            for most in config.lean_deg
        ]
        bent = lean(kp, *bends)
        if _above_floor(bent, kp):
            kp = bent
    if config.limb_prob > 0 and rng.random() < config.limb_prob:
        kp = _swing_limbs_randomly(kp, rng, config.limb_deg)
    if rng.random() < config.mirror_prob:
        kp = mirror(kp)
    if config.yaw:
        kp = rotate_yaw(kp, float(rng.uniform(-np.pi, np.pi)))
    j = config.bone_jitter
    factors = {}
    for group in BONE_GROUPS:
        common = rng.uniform(1.0 - j, 1.0 + j)
        factors[group] = common + rng.uniform(-0.25 * j, 0.25 * j, size=2)
    return body_shape(kp, float(rng.uniform(*config.scale)), factors)
