"""Overlapping windows over a clip of any length, and their seamless blend.

A clip of T frames is cut into windows of the model's length W. ``T <= W``: one window, padded
at the end by repeating the last frame (the padded frames are marked unobserved and dropped
afterwards). ``T > W``: ``n = ceil((T - W) / stride) + 1`` windows whose starts are spread evenly
from 0 to ``T - W`` (so every overlap is at least ``W - stride`` frames and, with
``stride > W / 2``, no frame lies in three windows).

Blending: each window gets per-frame weights that are 1 where it is alone and a raised-cosine
ramp across each overlap (``w_next = 0.5 - 0.5 cos(pi (j + 1) / (L + 1))``, ``w_prev = 1 - w_next``,
j = 0..L-1 over an overlap of L frames), so the weights of overlapping windows sum to one and
change smoothly: the blend has no step at a seam, only a gradual hand-over.
"""

from __future__ import annotations

import math

import numpy as np


def plan_windows(num_frames: int, window: int, stride: int | None = None) -> np.ndarray:
    """Start frames (n,) int64 of the windows covering ``num_frames`` frames.

    Args:
        num_frames: T >= 1.
        window: W >= 1, the model's window length.
        stride: nominal distance between starts (default ``ceil(3 W / 4)``); the actual one is
            at most this.
    """
    t, w = int(num_frames), int(window)
    if t < 1 or w < 1:
        raise ValueError(f"need num_frames >= 1 and window >= 1, got {t}, {w}")
    if t <= w:
        return np.zeros(1, dtype=np.int64)
    stride = max(1, min(w, int(stride) if stride else math.ceil(0.75 * w)))
    n = math.ceil((t - w) / stride) + 1
    return np.round(np.linspace(0, t - w, n)).astype(np.int64)


def window_frames(starts: np.ndarray, window: int, num_frames: int) -> np.ndarray:
    """(n, W) int64 clip frame index of each window frame; padded frames repeat the last frame."""
    idx = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(int(window))[None]
    return np.minimum(idx, int(num_frames) - 1)


def window_valid(starts: np.ndarray, window: int, num_frames: int) -> np.ndarray:
    """(n, W) bool: True for real frames, False for padding beyond the clip's end."""
    idx = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(int(window))[None]
    return idx < int(num_frames)


def blend_weights(starts: np.ndarray, window: int, num_frames: int) -> np.ndarray:
    """(n, W) float64 blend weights (module doc); padded frames get 0.

    For every clip frame the weights of the windows covering it sum to 1.
    """
    starts = np.asarray(starts, dtype=np.int64)
    w = int(window)
    weights = np.ones((len(starts), w))
    for k in range(len(starts) - 1):
        overlap = int(starts[k] + w - starts[k + 1])
        if overlap <= 0:
            continue
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(overlap) + 1) / (overlap + 1))
        weights[k, w - overlap :] *= 1.0 - ramp
        weights[k + 1, :overlap] *= ramp
    weights *= window_valid(starts, w, num_frames)
    # Normalise anyway: exact partition of unity even where rounding left a frame in 3 windows.
    total = np.zeros(int(num_frames))
    frames = window_frames(starts, w, num_frames)
    np.add.at(total, frames.reshape(-1), weights.reshape(-1))
    return weights / np.where(total > 0, total, 1.0)[frames]


def blend(values: np.ndarray, starts: np.ndarray, num_frames: int) -> np.ndarray:
    """Blend per-window values into one clip.

    Args:
        values: (n, W, ...) one value array per window frame (e.g. (n, W, 17, 3) keypoints).
        starts: (n,) from :func:`plan_windows`.
        num_frames: T.

    Returns:
        (T, ...) the weighted sum (:func:`blend_weights`) of the windows covering each frame.
    """
    values = np.asarray(values, dtype=np.float64)
    w = values.shape[1]
    weights = blend_weights(starts, w, num_frames)
    frames = window_frames(starts, w, num_frames)
    out = np.zeros((int(num_frames), *values.shape[2:]))
    expand = (slice(None),) * 2 + (None,) * (values.ndim - 2)
    np.add.at(out, frames.reshape(-1), (weights[expand] * values).reshape(-1, *values.shape[2:]))
    return out
