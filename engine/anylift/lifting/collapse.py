"""Frames where the 2D detector's skeleton collapsed onto a fraction of the body: dropped.

A pose detector that loses a tumbling or folded body often keeps drawing a skeleton, shrunk onto
part of it: MediaPipe on a roll seen by a following camera drew the person at 444 px, then 126,
then 30-50 px for a second and a half, every joint still scored as seen. The lift takes a body's
image size for its depth (:mod:`anylift.lifting.placement`), so it put that person 35-50 m away
where they were 10 m away, and the one floor the whole clip stands on followed those frames
(root error 21 m over the clip).

A body's longest 2D bone (of :data:`~anylift.lifting.scale.BONES`) is a size that a pose barely
changes - some bone is nearly always side-on - while its depth changes it only as fast as the
person moves. :func:`collapsed_frames` flags a frame whose longest bone is under
:data:`COLLAPSE_RATIO` of the median longest bone of the frames in the :data:`WINDOW_SECONDS`
before it, or in those after it (two passes, each in its own order; a flagged frame is no
reference, and inside a collapse the references are the last frames before it, up to
:data:`MAX_COLLAPSE_SECONDS` back, so a collapse longer than the window is found whole). On
MediaPipe's detections of the accuracy benchmark's 112 usable training-motion renders (7157 frames
with the person, 212 of them over 30 % of the body's size off), it flagged 110 frames: 67 of them
over 30 % off, 2 within 10 %; no frame of the 120 noise-level-1 cases. The lift treats a flagged
frame's joints as unseen (``LiftOptions.drop_collapsed``).

The price: a person who really halves in size within a second - a sprint away from a camera 2 m
off, a cut to a wide shot in edited footage - loses up to :data:`MAX_COLLAPSE_SECONDS` of frames,
which the lift then bridges as an occlusion.
"""

from __future__ import annotations

import numpy as np

from anylift.lifting.scale import BONES

COLLAPSE_RATIO = 0.5
WINDOW_SECONDS = 1.0
MIN_BONES = 3
"""A frame's size needs this many bones with both ends seen (a head and shoulders alone say
little about the body's size)."""
MIN_REFERENCES = 5
MAX_COLLAPSE_SECONDS = 1.5
REFERENCES_INSIDE = 15


def longest_bone(keypoints: np.ndarray) -> np.ndarray:
    """(T,) the longest 2D bone of each frame's skeleton (pixels; NaN with too few bones seen)."""
    kp = np.asarray(keypoints, dtype=np.float64)
    i, j = np.array(BONES).T
    seen = (kp[..., 2] > 0) & np.isfinite(kp[..., :2]).all(-1)
    length = np.linalg.norm(kp[:, i, :2] - kp[:, j, :2], axis=-1)
    ok = seen[:, i] & seen[:, j]
    length[~ok] = np.nan
    out = np.full(len(kp), np.nan)
    enough = ok.sum(1) >= MIN_BONES
    out[enough] = np.nanmax(length[enough], axis=1)
    return out


def _one_side(size: np.ndarray, times: np.ndarray, forwards: bool) -> np.ndarray:
    """(T,) bool: each frame against the frames of the :data:`WINDOW_SECONDS` before it
    (``forwards``) or after it that were not found collapsed themselves, in that order; inside a
    collapse, against those of the last :data:`MAX_COLLAPSE_SECONDS`."""
    T = len(size)
    step = 1 if forwards else -1
    usable = np.isfinite(size)
    collapsed = np.zeros(T, dtype=bool)
    inside = False
    for t in range(T)[::step]:
        if not np.isfinite(size[t]):
            continue
        reach = MAX_COLLAPSE_SECONDS if inside else WINDOW_SECONDS
        if forwards:
            lo, hi = int(np.searchsorted(times, times[t] - reach, side="left")), t
        else:
            lo, hi = t + 1, int(np.searchsorted(times, times[t] + reach, side="right"))
        ref = size[lo:hi][usable[lo:hi]]
        if inside and len(ref) > REFERENCES_INSIDE:  # the frames just before the collapse
            ref = ref[-REFERENCES_INSIDE:] if forwards else ref[:REFERENCES_INSIDE]
        if len(ref) >= MIN_REFERENCES:
            collapsed[t] = inside = bool(size[t] < COLLAPSE_RATIO * np.median(ref))
            usable[t] = not collapsed[t]
    return collapsed


def collapsed_frames(keypoints: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(T,) bool: frames whose skeleton collapsed (module docs).

    Args:
        keypoints: (T, 17, 3) ``[x, y, score]`` (score 0 = unseen).
        times: (T,) each frame's time, seconds (increasing).
    """
    size = longest_bone(keypoints)
    times = np.asarray(times, dtype=np.float64)
    return _one_side(size, times, forwards=True) | _one_side(size, times, forwards=False)


def drop_collapsed(keypoints: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keypoints with the collapsed frames' joints unseen (score 0), (T,) the frames dropped)."""
    flagged = collapsed_frames(keypoints, times)
    out = np.array(keypoints, dtype=np.float64, copy=True)
    out[flagged, :, 2] = 0.0
    return out, flagged
