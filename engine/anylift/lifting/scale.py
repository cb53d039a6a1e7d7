"""Metric scale of up-to-scale camera trajectories (MegaSaM ``.npz``, COLMAP).

Two estimates, used in this order by :func:`anylift.pipeline.lift`:

1. **Before lifting** - :func:`estimate_camera_scale`, a linear least squares on the root depth
   from body size. In frame t the subject's hip midpoint lies on its camera ray at a depth of
   about ``BODY_SIZE_M / s_t`` metres (``s_t``: the body's extent in normalised image
   coordinates), i.e. at ``c_t + lambda a_t`` in the file's world, where ``c_t`` is the camera
   centre (file units), ``a_t`` the camera-to-root vector in metres rotated into the file's
   world and ``lambda`` the file's units per metre. Modelling the root as ``X0 + v t`` with a
   ridge penalty on the velocity ``v`` (people mostly stay put relative to how far a camera
   moves; ``velocity_weight``), ``lambda``, ``X0`` and ``v`` solve one linear least squares. The
   camera's own translation is what makes ``lambda`` observable: a static (or purely rotating)
   camera leaves it undetermined and the estimate falls back to 1.
2. **After lifting** - :func:`body_proportion_scale`: the ratio between the reference bone lengths
   (:func:`anylift.lifting.placement.reference_bone_lengths`) and those of the lifted keypoints.
   Multiplying the lifted world by it gives the body adult proportions; it corrects what the
   body-size prior of step 1 and of the virtual cameras got wrong. Only used when the camera is
   not metric (a metric camera is trusted).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from anylift.geometry.camera import invert_rigid
from anylift.representation import BODY_SIZE_M, HIPS, visibility_mask

BONES: tuple[tuple[int, int], ...] = (
    (5, 7), (7, 9), (6, 8), (8, 10),  # arms
    (11, 13), (13, 15), (12, 14), (14, 16),  # legs
    (5, 11), (6, 12),  # torso sides
    (5, 6), (11, 12),  # shoulder and hip widths
)  # fmt: skip
"""COCO-17 keypoint pairs whose distance is a rigid bone length of the body."""

KEYPOINT_BONE_LENGTHS: tuple[float, ...] = (
    0.2748, 0.2589, 0.2748, 0.2589,  # arms
    0.4215, 0.4099, 0.4215, 0.4099,  # legs
    0.4847, 0.4878,  # torso sides
    0.3662, 0.1698,  # shoulder and hip widths
)  # fmt: skip
"""Metres, in :data:`BONES` order: the COCO-17 bones of the skeleton the priors were trained on
(the DeepMimic humanoid's keypoints, mean over the training clips). Keypoints mark the body's
landmarks; a body model's joints sit elsewhere (SMPL's hip joints lie high inside the pelvis: the
proxy's mean shape has torso sides of 0.556 m and thighs of 0.382 m), so a lift and a body model
disagree bone by bone, by -13 % to +21 %."""

DETECTOR_BONE_FACTORS: dict[str, tuple[float, ...]] = {
    "mediapipe": (
        0.924, 0.944, 0.924, 0.944,  # arms
        0.946, 0.949, 0.946, 0.949,  # legs
        0.944, 0.944,  # torso sides
        0.818, 1.036,  # shoulder and hip widths
    ),
}  # fmt: skip
"""How long a 2D detector draws each bone (:data:`BONES` order) relative to the keypoints of
:data:`KEYPOINT_BONE_LENGTHS`: for MediaPipe 0.10.14 (``anylift detect``) the median, over the
frames where the bone shows at least 70 % of its longest 2D length, of detected / true 2D length
on Blender renders of the training clips walk and kick under the seven camera families (14 cases,
250-450 frames per bone; ``benchmarks/detected_2d.py``), left and right averaged. MediaPipe marks
shoulders 18 % closer together and every limb 5-8 % shorter; left uncorrected, footage was placed
about 6 % too far from the camera."""


def estimate_camera_scale(
    keypoints: np.ndarray,
    K: np.ndarray,
    world_to_camera: np.ndarray,
    *,
    score_threshold: float = 0.3,
    body_size: float = BODY_SIZE_M,
    velocity_weight: float = 1.0,
    min_motion: float = 0.02,
    min_explained: float = 0.5,
) -> tuple[float, bool]:
    """File units per metre of a camera trajectory, from the subject's apparent size (module doc).

    Args:
        keypoints: (T, 17, 3) ``[x px, y px, score]`` (NaN where missing).
        K: (3, 3) intrinsics, pixels.
        world_to_camera: (T, 4, 4) in the file's world and units.
        body_size: assumed keypoint extent of the body, metres.
        velocity_weight: ridge weight on the root's velocity (per normalised time unit).
        min_motion: the scale is undetermined when the camera centre's RMS spread is below this
            fraction of its distance to the subject.
        min_explained: ... or when the fitted root track explains less than this fraction of the
            camera centre's squared spread.

    Returns:
        (scale, determined): the scale (> 0; 1.0 when undetermined) and whether the data
        determined it.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    w2c = np.asarray(world_to_camera, dtype=np.float64)
    mask = visibility_mask(kp, score_threshold)
    kinv = np.linalg.inv(np.asarray(K, dtype=np.float64))
    pix = np.concatenate([np.nan_to_num(kp[..., :2]), np.ones_like(kp[..., :1])], -1)
    rays = np.einsum("ij,tkj->tki", kinv, pix)
    extent = np.full(len(kp), np.nan)
    for t in range(len(kp)):
        m = mask[t]
        if m.sum() >= 4:
            extent[t] = (rays[t, m, :2].max(0) - rays[t, m, :2].min(0)).max()
    hips = mask[:, list(HIPS)].all(1) & np.isfinite(extent)
    if hips.sum() < 3:
        return 1.0, False
    # Pose changes (arms up, crouching) move the box size frame to frame; a median over ~1 s
    # keeps the trend that the camera's motion causes.
    ext = extent.copy()
    ext[hips] = median_filter(extent[hips], size=min(31, int(hips.sum()) | 1), mode="nearest")
    root_ray = rays[:, list(HIPS)].mean(1)
    c2w = invert_rigid(w2c)
    a = np.einsum("tij,tj->ti", c2w[:, :3, :3], root_ray * (body_size / ext)[:, None])[hips]
    c = c2w[hips, :3, 3]
    t = np.flatnonzero(hips).astype(np.float64)
    t = (t - t.mean()) / max(t.std(), 1.0)
    # Unknowns (lambda, X0 (3), v (3)): lambda a_t - X0 - v t = -c_t, three rows per frame, plus
    # ridge rows sqrt(n * velocity_weight) v = 0: a camera and a subject moving at constant
    # velocity look alike, and the subject is taken as the slower of the two.
    n = len(t)
    design = np.zeros((n + 1, 3, 7))
    design[:n, :, 0] = a
    design[:n, :, 1:4] = -np.eye(3)
    design[:n, :, 4:7] = -np.eye(3)[None] * t[:, None, None]
    design[n, :, 4:7] = np.sqrt(n * velocity_weight) * np.eye(3)
    rhs = np.concatenate([-c, np.zeros((1, 3))])
    sol = np.linalg.lstsq(design.reshape(-1, 7), rhs.reshape(-1), rcond=None)[0]
    scale = float(sol[0])
    if not np.isfinite(scale) or scale <= 0:
        return 1.0, False
    # A camera that hardly moves (relative to its distance to the subject) says nothing, and a
    # fit that explains little of the camera's motion (the subject's own motion dominates) is
    # not trusted.
    distance = scale * float(np.median(np.linalg.norm(a, axis=-1)))
    spread = float(((c - c.mean(0)) ** 2).sum())
    if np.sqrt(spread / n) < min_motion * distance:
        return 1.0, False
    resid = float(((design[:n].reshape(-1, 7) @ sol - rhs[:n].reshape(-1)) ** 2).sum())
    if resid > (1.0 - min_explained) * spread:
        return 1.0, False
    return scale, True


def bone_lengths(keypoints3d: np.ndarray) -> np.ndarray:
    """(len(BONES),) median over frames of each bone's length; (T, 17, 3) in, same units out."""
    kp = np.asarray(keypoints3d, dtype=np.float64)
    i, j = np.array(BONES).T
    lengths = np.linalg.norm(kp[:, i] - kp[:, j], axis=-1)
    return np.nanmedian(lengths, axis=0)


def body_proportion_scale(keypoints3d: np.ndarray, reference: np.ndarray) -> float:
    """Factor that gives ``keypoints3d`` the bone lengths ``reference``.

    Args:
        keypoints3d: (T, 17, 3) lifted keypoints in some length unit.
        reference: (len(BONES),) bone lengths of a body of known size, metres
            (:func:`anylift.lifting.placement.reference_bone_lengths`).

    Returns:
        The median over bones of ``reference length / lifted length`` (metres per unit).
    """
    ratio = np.asarray(reference, dtype=np.float64) / bone_lengths(keypoints3d)
    ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
    return float(np.median(ratio)) if ratio.size else 1.0
