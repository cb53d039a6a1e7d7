"""Cleaning a person's keypoint tracks (:func:`anylift.video.people.detect_people` links them).

A tracked person's (T, 17, 3) ``[x, y, score]`` keypoints are cleaned in three steps:

1. :func:`drop_low_confidence`: joints scored below ``min_score`` become undetected (score 0).
2. :func:`fill_gaps`: runs of at most ``max_gap`` missing frames between two detections of a
   joint are interpolated linearly; a filled joint's score is half the lower of its two
   neighbours' (it is a guess, and the lifting weighs it less).
3. :func:`one_euro_smooth`: One-Euro filter (Casiez et al. 2012) whose update weight is
   scaled by the joint's score, run forwards and backwards and averaged so that smoothing
   adds no lag (the whole clip is known offline). Undetected joints are left undetected.
"""

from __future__ import annotations

import itertools

import numpy as np


def drop_low_confidence(keypoints: np.ndarray, min_score: float) -> np.ndarray:
    """(T, K, 3) -> copy where joints scored below ``min_score`` are undetected (score 0, NaN x, y)."""
    kp = np.array(keypoints, dtype=np.float64)
    low = ~(kp[..., 2] >= min_score)
    kp[low, 2] = 0.0
    kp[low, :2] = np.nan
    return kp


def fill_gaps(keypoints: np.ndarray, max_gap: int) -> np.ndarray:
    """Interpolate runs of <= ``max_gap`` undetected frames between two detections of a joint.

    Args:
        keypoints: (T, K, 3) ``[x, y, score]``, score 0 where undetected.
        max_gap: longest run of missing frames to fill (0: none).

    Returns:
        (T, K, 3) copy; filled joints get linear positions and half the lower neighbour score.
    """
    kp = np.array(keypoints, dtype=np.float64)
    if max_gap <= 0:
        return kp
    _t_len, k_len = kp.shape[:2]
    for k in range(k_len):
        seen = np.flatnonzero(kp[:, k, 2] > 0)
        for a, b in itertools.pairwise(seen):
            gap = b - a - 1
            if 0 < gap <= max_gap:
                w = (np.arange(a + 1, b) - a) / (b - a)
                kp[a + 1 : b, k, :2] = (1 - w)[:, None] * kp[a, k, :2] + w[:, None] * kp[b, k, :2]
                kp[a + 1 : b, k, 2] = 0.5 * min(kp[a, k, 2], kp[b, k, 2])
    return kp


def _alpha(cutoff: np.ndarray, fps: float) -> np.ndarray:
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau * fps)


def _one_euro_pass(xy: np.ndarray, score: np.ndarray, fps: float, min_cutoff: float, beta: float,
                   d_cutoff: float) -> np.ndarray:  # fmt: skip
    """Causal confidence-weighted One-Euro over axis 0 of (T, K, 2); NaN rows restart the filter."""
    out = np.full_like(xy, np.nan)
    prev = np.full(xy.shape[1:], np.nan)
    dprev = np.zeros(xy.shape[1:])
    a_d = _alpha(np.asarray(d_cutoff), fps)
    for t in range(xy.shape[0]):
        x = xy[t]
        ok = np.isfinite(x).all(-1)
        fresh = ok & ~np.isfinite(prev).all(-1)
        prev[fresh] = x[fresh]
        dprev[fresh] = 0.0
        cont = ok & ~fresh
        if cont.any():
            dx = (x[cont] - prev[cont]) * fps
            dprev[cont] = a_d * dx + (1 - a_d) * dprev[cont]
            speed = np.linalg.norm(dprev[cont], axis=-1, keepdims=True)
            # A low-confidence sample moves the estimate less than a sure one.
            a = _alpha(min_cutoff + beta * speed, fps) * np.clip(score[t][cont], 0.0, 1.0)[:, None]
            prev[cont] = a * x[cont] + (1 - a) * prev[cont]
        prev[~ok] = np.nan
        out[t] = prev
    return out


def one_euro_smooth(
    keypoints: np.ndarray,
    fps: float,
    *,
    min_cutoff: float = 2.0,
    beta: float = 0.02,
    d_cutoff: float = 1.0,
) -> np.ndarray:
    """Zero-lag, confidence-weighted One-Euro smoothing of (T, K, 3) ``[x px, y px, score]``.

    Args:
        fps: frames per second.
        min_cutoff: cutoff frequency (Hz) at rest; lower smooths more.
        beta: cutoff increase per pixel/second of speed (fast motion is smoothed less).
        d_cutoff: cutoff (Hz) of the speed estimate.

    Returns:
        (T, K, 3) copy: positions smoothed, scores and undetected joints unchanged.
    """
    kp = np.array(keypoints, dtype=np.float64)
    xy, score = kp[..., :2], kp[..., 2]
    fwd = _one_euro_pass(xy, score, fps, min_cutoff, beta, d_cutoff)
    bwd = _one_euro_pass(xy[::-1], score[::-1], fps, min_cutoff, beta, d_cutoff)[::-1]
    kp[..., :2] = np.where(score[..., None] > 0, 0.5 * (fwd + bwd), np.nan)
    return kp
