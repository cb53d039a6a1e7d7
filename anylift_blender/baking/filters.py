"""Optional clean-up of the pose keys before they are written: smoothing and foot locking.

Both work on the keys (pelvis location and bone quaternions), numpy only; with both off the keys
reproduce the result exactly.
"""

from __future__ import annotations

import numpy as np

# SMPL joints that touch the floor: ankles and feet (toes).
FOOT_JOINTS = (7, 8, 10, 11)

# How scipy.ndimage extends a signal past its ends, as np.pad modes.
_PAD_MODES = {"nearest": "edge", "reflect": "symmetric", "mirror": "reflect", "wrap": "wrap"}


def gaussian_filter1d(
    values: np.ndarray, sigma: float, axis: int = -1, mode: str = "reflect", truncate: float = 4.0
) -> np.ndarray:
    """``scipy.ndimage.gaussian_filter1d`` for float data in numpy (Blender ships no scipy).

    Same kernel (radius ``int(truncate * sigma + 0.5)``, normalised) and the same ends: ``mode``
    is scipy's name (``"reflect"``: d c b a | a b c d | d c b a, scipy's default; ``"nearest"``:
    a a a | a b c d | d d d; also ``"mirror"`` and ``"wrap"``). ``values``: any shape, filtered
    along ``axis``; returns float64 of the same shape.
    """
    values = np.asarray(values, dtype=np.float64)
    radius = int(truncate * float(sigma) + 0.5)
    if radius == 0:
        return values.copy()
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (x / sigma) ** 2)
    weights /= weights.sum()
    moved = np.moveaxis(values, axis, 0)
    n = len(moved)
    # np.pad repeats its reflection when the padding is longer than the signal, as scipy does.
    padded = np.pad(moved, [(radius, radius)] + [(0, 0)] * (moved.ndim - 1), mode=_PAD_MODES[mode])
    out = np.zeros_like(moved)
    for i, w in enumerate(weights):
        out += w * padded[i : i + n]
    return np.moveaxis(out, 0, axis)


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
