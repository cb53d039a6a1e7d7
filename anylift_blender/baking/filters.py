"""Optional clean-up of the pose keys before they are written: smoothing and foot locking.

Both work on the keys (pelvis location and bone quaternions), numpy only; with both off the keys
reproduce the result exactly.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

# SMPL joints that touch the floor: ankles and feet (toes).
FOOT_JOINTS = (7, 8, 10, 11)


def smooth(location: np.ndarray, quats: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian smoothing along time, ``sigma`` in frames (0: unchanged).

    location: (T, 3); quats: (T, J, 4) sign-continuous (as :mod:`.keys` writes them); quaternions
    are renormalised after filtering, which is a good approximation of rotation averaging for the
    small angles between neighbouring frames.
    """
    if sigma <= 0 or len(location) < 3:
        return location, quats
    location = gaussian_filter1d(location, sigma, axis=0, mode="nearest")
    quats = gaussian_filter1d(quats, sigma, axis=0, mode="nearest")
    quats /= np.linalg.norm(quats, axis=-1, keepdims=True)
    return location, quats


def contact_weights(feet: np.ndarray, fps: float, speed: float, height: float = 0.08) -> np.ndarray:
    """Per-frame, per-foot-joint contact in [0, 1]: slow (< ``speed`` m/s) and low (floor + ``height``).

    feet: (T, F, 3) world positions (Z up). The floor is the 5th percentile of the feet's height,
    so results that were not grounded still work. Returns (T, F), softened over two frames so
    the locking fades in and out instead of jumping.
    """
    velocity = np.gradient(feet, axis=0) * fps
    horizontal_speed = np.linalg.norm(velocity[..., :2], axis=-1)
    floor = np.percentile(feet[..., 2], 5)
    contact = (horizontal_speed < speed) & (feet[..., 2] < floor + height)
    return np.clip(gaussian_filter1d(contact.astype(np.float64), 1.0, axis=0, mode="nearest"), 0.0, 1.0)


def lock_feet(root: np.ndarray, feet: np.ndarray, fps: float, speed: float) -> np.ndarray:
    """Move the root horizontally so planted feet stop sliding.

    Args:
        root: (T, 3) world pelvis positions. feet: (T, F, 3) world foot-joint positions (they move
            rigidly with the root, so a root offset moves them by the same amount).
        fps: frames per second. speed: contact speed threshold, m/s.
    Returns: (T, 3) corrected pelvis positions. On each frame the most planted foot joint's
    horizontal motion (weighted by its contact) is taken out of the root's motion; the height
    is unchanged, so nothing jumps when contacts switch.
    """
    T = len(root)
    if T < 2:
        return root
    weights = contact_weights(feet, fps, speed)
    foot_step = np.diff(feet[..., :2], axis=0)  # (T-1, F, 2)
    planted = np.argmax(weights[1:], axis=1)  # (T-1,)
    rows = np.arange(T - 1)
    w = weights[1:][rows, planted]
    root_step = np.diff(root[:, :2], axis=0) - w[:, None] * foot_step[rows, planted]
    out = root.copy()
    out[1:, :2] = root[0, :2] + np.cumsum(root_step, axis=0)
    return out
