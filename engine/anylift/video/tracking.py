"""Cleaning a person's keypoint tracks (:func:`anylift.video.people.detect_people` links them).

A tracked person's (T, 17, 3) ``[x, y, score]`` keypoints are cleaned in four steps:

1. :func:`unswap_legs`: the frames where the detector gave the left leg the right one's labels
   (and the other way round) are found from how the legs move, and relabelled.
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


LEGS = ((13, 14), (15, 16))
"""COCO-17 left/right pairs of the legs (knees, ankles), relabelled together."""


def _body_scale(xy: np.ndarray, fps: float) -> np.ndarray:
    """(T,) the person's size in pixels per frame of a run where every joint was seen: the torso
    (shoulder middle to hip middle), its running median over about a second (a torso turned
    towards the camera looks short)."""
    torso = np.linalg.norm(xy[:, [5, 6]].mean(1) - xy[:, [11, 12]].mean(1), axis=-1)
    half = max(round(0.5 * fps), 1)
    running = [np.median(torso[max(t - half, 0) : t + half + 1]) for t in range(len(torso))]
    return np.maximum(np.array(running), 1.0)


def unswap_legs(
    keypoints: np.ndarray,
    fps: float,
    *,
    flip_cost: float = 5.0,
    max_jerk: float = 0.5,
    switch_cost: float = 1.0,
) -> np.ndarray:
    """Undo a detector's left/right swaps of the legs from how the joints move.

    A pose detector that sees a body side-on, or legs crossing, often gives the left knee and
    ankle the right ones' labels for a few frames, or for a whole run of frames (MediaPipe did on
    a quarter of a walker's frames filmed from above and the side); the lift follows the labels,
    so the legs jump from one side to the other. Every frame's labelling (as detected or
    swapped) is chosen by a second-order Viterbi over the track: a labelling pays the joints'
    acceleration (the change of their frame-to-frame motion, in torsos, each joint's capped at
    ``max_jerk`` so that one misplaced joint cannot force a swap), ``switch_cost`` each time it
    changes from one frame to the next, and ``flip_cost`` per second of frames relabelled: the
    detector's labels are right most of the time, and between two crossings of the legs the
    motion alone cannot tell which labelling is right. The settings were chosen on MediaPipe's
    tracks of the footage renders and of the walk and kick under the 12 camera families
    (``benchmarks/people_video.py``, ``benchmarks/detected_2d.py``; README, ablation row 49):
    frames with the legs the wrong way round 173 -> 130; without ``switch_cost`` a kick's hard
    acceleration was "explained" by a swap. Clean tracks of the training clips with a jitter of
    up to 6 % of the body's height are not relabelled, except that the last two or three frames
    of a track (held by one acceleration term only) flipped in one of about 400 such tracks at 5 %;
    charging a change at the track's ends too would stop that, but it also kept a walker's
    swap from the first frame on (23 wrong frames -> 11 instead of 0).

    Args:
        keypoints: (T, 17, 3) COCO-17 ``[x, y, score]``, NaN where the person was not seen;
            runs of seen frames are solved apart.
        fps: frames per second.

    Returns:
        (T, 17, 3) copy with the chosen labels (scores travel with their joints).
    """
    kp = np.array(keypoints, dtype=np.float64)
    seen = np.isfinite(kp[..., :2]).all(-1).all(-1)
    starts = np.flatnonzero(np.diff(np.r_[0, seen.astype(int)]) == 1)
    ends = np.flatnonzero(np.diff(np.r_[seen.astype(int), 0]) == -1) + 1
    left, right = np.array(LEGS).T
    for a, b in zip(starts, ends):
        if b - a < 3:
            continue
        seg = kp[a:b]
        swapped = _swapped_frames(seg[..., :2], _body_scale(seg[..., :2], fps), flip_cost / fps, max_jerk,
                                  switch_cost)  # fmt: skip
        rows = np.flatnonzero(swapped)[:, None]
        seg[rows, left], seg[rows, right] = seg[rows, right], seg[rows, left]
    return kp


def _swapped_frames(xy, scale, flip_cost, max_jerk, switch_cost) -> np.ndarray:
    """(T,) bool: frames whose legs are best swapped (second-order Viterbi, see above)."""
    left, right = np.array(LEGS).T
    # Labelling s of frame t: y[s, t] = the legs' joints, the left ones first, in torsos.
    y = np.stack([xy[:, np.r_[left, right]], xy[:, np.r_[right, left]]]) / scale[None, :, None, None]
    flip = np.array([0.0, flip_cost])
    switch = switch_cost * (1.0 - np.eye(2))[None]  # (1, q, r): a change of labelling from t-1 to t
    t_len = xy.shape[0]
    # cost[p, q]: best total with labelling p at t-1 and q at t.
    cost = flip[:, None] + flip[None, :] + switch[0]
    back = np.zeros((t_len, 2, 2), dtype=np.int8)
    for t in range(2, t_len):
        # Labellings p, q, r of frames t-2, t-1, t: (p, q, r, joint, xy).
        jerk = y[None, None, :, t] - 2.0 * y[None, :, None, t - 1] + y[:, None, None, t - 2]
        step = np.minimum(np.linalg.norm(jerk, axis=-1), max_jerk).sum(-1)
        total = cost[:, :, None] + step + switch  # (p, q, r)
        back[t] = np.argmin(total, axis=0)  # best p per (q, r)
        cost = np.min(total, axis=0) + flip[None, :]
    q, r = np.unravel_index(np.argmin(cost), cost.shape)
    labels = np.zeros(t_len, dtype=int)
    labels[-1], labels[-2] = r, q
    for t in range(t_len - 1, 1, -1):
        labels[t - 2] = back[t, labels[t - 1], labels[t]]
    return labels.astype(bool)
