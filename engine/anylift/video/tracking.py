"""Following one person through a clip, and cleaning their keypoint tracks.

Per-frame detections (any number of people per frame, COCO-17 ``[x, y, score]``) become one
(T, 17, 3) track:

1. :func:`follow_person` links detections frame to frame into tracks (Hungarian matching on
   the mean joint distance relative to the person's size, gated at half a body; a track may
   skip up to ``max_age`` frames) and keeps the most consistent one: the track with the
   largest sum of per-frame mean scores, i.e. long and confidently seen. A detector that
   jumps to another person (MediaPipe re-detecting after losing its subject) thereby starts
   a new track instead of teleporting the chosen one.
2. :func:`drop_low_confidence`: joints scored below ``min_score`` become undetected (score 0).
3. :func:`fill_gaps`: runs of at most ``max_gap`` missing frames between two detections of a
   joint are interpolated linearly; a filled joint's score is half the lower of its two
   neighbours' (it is a guess, and the lifting weighs it less).
4. :func:`one_euro_smooth`: One-Euro filter (Casiez et al. 2012) whose update weight is
   scaled by the joint's score, run forwards and backwards and averaged so that smoothing
   adds no lag (the whole clip is known offline). Undetected joints are left undetected.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.optimize import linear_sum_assignment

# Below this many visible joints a detection says too little to compare positions.
_MIN_SHARED = 3


def _scale(kp: np.ndarray) -> float:
    """Person size in pixels: the diagonal of the visible joints' box (at least 1)."""
    seen = kp[kp[:, 2] > 0, :2]
    if len(seen) < 2:
        return 1.0
    return max(float(np.linalg.norm(seen.max(0) - seen.min(0))), 1.0)


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean pixel distance over joints seen in both (17, 3) detections, relative to their size."""
    both = (a[:, 2] > 0) & (b[:, 2] > 0)
    if both.sum() < _MIN_SHARED:
        return math.inf
    d = np.linalg.norm(a[both, :2] - b[both, :2], axis=-1).mean()
    return float(d / max(_scale(a), _scale(b)))


def follow_person(detections: list[list[np.ndarray]], *, gate: float = 0.5, max_age: int = 15) -> np.ndarray:
    """Link per-frame detections into tracks and return the most consistent one.

    Args:
        detections: T lists of (17, 3) ``[x px, y px, score]`` arrays (people in that frame).
        gate: largest linking distance, in units of the person's size (box diagonal).
        max_age: frames a track may go unseen and still be continued.

    Returns:
        (T, 17, 3) float64: the chosen person's keypoints; score 0 and x = y = NaN in frames
        where it was not seen.
    """
    tracks: list[dict] = []  # {"last": (17,3), "last_t": int, "frames": {t: (17,3)}, "score": float}
    for t, people in enumerate(detections):
        people = [np.asarray(p, dtype=np.float64) for p in people if np.any(np.asarray(p)[:, 2] > 0)]
        live = [i for i, tr in enumerate(tracks) if t - tr["last_t"] <= max_age]
        matched: set[int] = set()
        if live and people:
            cost = np.array([[_distance(tracks[i]["last"], p) for p in people] for i in live])
            cost_finite = np.where(np.isfinite(cost), cost, 1e6)
            rows, cols = linear_sum_assignment(cost_finite)
            for r, c in zip(rows, cols):
                if cost[r, c] <= gate:
                    tr = tracks[live[r]]
                    tr["last"], tr["last_t"] = people[c], t
                    tr["frames"][t] = people[c]
                    tr["score"] += float(people[c][:, 2].mean())
                    matched.add(c)
        for c, p in enumerate(people):
            if c not in matched:
                tracks.append({"last": p, "last_t": t, "frames": {t: p}, "score": float(p[:, 2].mean())})
    out = np.full((len(detections), 17, 3), np.nan)
    out[..., 2] = 0.0
    if tracks:
        best = max(tracks, key=lambda tr: tr["score"])
        for t, p in best["frames"].items():
            out[t] = p
    out[out[..., 2] <= 0, :2] = np.nan
    out[out[..., 2] <= 0, 2] = 0.0
    return out


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
