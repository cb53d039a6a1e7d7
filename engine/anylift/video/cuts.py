"""Cuts: where a video jumps to another shot (an edited clip, a replay, a trimmed jump cut).

No person can be followed across a cut, and no camera motion measured: ``anylift detect`` ends
every track at one (:func:`anylift.video.people.detect_people`) and writes the cuts into the
keypoints file, and ``anylift camera`` estimates the camera of one shot only.

A cut is a frame whose colours differ from the frame before's (Bhattacharyya distance of their
hue-saturation-value histograms over :data:`CUT_DISTANCE`) **and** whose picture does not
continue the one before: under :data:`CUT_TRACKED` of the previous frame's corners are followed
into it and back (pyramidal Lucas-Kanade, forward-backward within 1 px), or either frame has
none (a black frame). Measured frame to frame on the footage renders and ten real clips: the
colours alone jump 0.26-0.96 at the cuts of an edited film (OpenCV's ``test_c.avi``) and 0.33 at a
phone clip's jump cut, but also 0.25 where a dancer's red skirt sweeps past the camera, whose
background is still followed (71 % of the corners; at the cuts 0-16 %).

A flash (a photographer's, a strobe: one frame brighter, or white) breaks with the frames on
both sides of it as a cut does, but the frame after it continues the frame before: a cut is
only taken where the frame after it breaks with the frame before it too, so it is known one
frame late (:class:`CutFinder`).
"""

from __future__ import annotations

import cv2
import numpy as np

CUT_DISTANCE = 0.2
"""Colour change (0 same .. 1 disjoint) a cut at least makes; elsewhere at most 0.15 on the
renders and real clips, but for a dancer's skirt sweeping past the camera (0.25)."""
CUT_TRACKED = 0.3
"""Share of corners followed into a cut's frame and back: at most 0.16 at cuts, 0.46 and more
where the colours changed as much without one."""


def frame_histogram(frame: np.ndarray) -> np.ndarray:
    """(128,) hue-saturation-value histogram (8 x 4 x 4 bins, summing to 1) of a BGR frame, at
    160 px wide."""
    from anylift.video.reader import shrunk

    small = shrunk(frame, 160 / frame.shape[1])[0]  # a 4K frame in 2 ms, not 8
    hist = cv2.calcHist([cv2.cvtColor(small, cv2.COLOR_BGR2HSV)], [0, 1, 2], None, [8, 4, 4],
                        [0, 180, 0, 256, 0, 256]).ravel()  # fmt: skip
    return hist / max(float(hist.sum()), 1e-9)


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance of two :func:`frame_histogram` s (0 same .. 1 disjoint)."""
    return float(np.sqrt(max(0.0, 1.0 - float(np.sqrt(a * b).sum()))))


def tracked_share(prev: np.ndarray, cur: np.ndarray) -> float | None:
    """Share of ``prev``'s corners (grey frames, the same size) followed into ``cur`` and back
    within 1 px; None when either frame has fewer than 12 (a black or blank frame)."""
    p0 = cv2.goodFeaturesToTrack(prev, 200, 0.01, 8)
    if p0 is None or len(p0) < 12 or (cv2.goodFeaturesToTrack(cur, 12, 0.01, 8) is None):
        return None
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(prev, cur, p0, None, winSize=(15, 15), maxLevel=3)
    p2, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, p1, None, winSize=(15, 15), maxLevel=3)
    back = np.linalg.norm((p2 - p0).reshape(-1, 2), axis=1)
    return float(((st1.ravel() == 1) & (st2.ravel() == 1) & (back < 1.0)).mean())


def breaks(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> bool:
    """Whether frame ``b`` does not continue frame ``a`` (each (:func:`frame_histogram`, grey))."""
    if histogram_distance(a[0], b[0]) <= CUT_DISTANCE:
        return False
    share = tracked_share(a[1], b[1])
    return share is None or share < CUT_TRACKED


class CutFinder:
    """Fed every frame looked at in order (:meth:`__call__`): whether the frame before it started a
    new shot (one frame late: a flash is no cut, module doc). Each frame is compared with the last
    one before it that was no flash."""

    def __init__(self) -> None:
        self._anchor: tuple[np.ndarray, np.ndarray] | None = None  # the last frame that was no flash
        self._suspect: tuple[np.ndarray, np.ndarray] | None = None  # the frame before

    def __call__(self, frame: np.ndarray, grey: np.ndarray) -> bool:
        """``frame`` BGR, ``grey`` the same frame grey at about 320 px wide (any fixed size)."""
        now, anchor, suspect = (frame_histogram(frame), grey), self._anchor, self._suspect
        self._suspect, cut = now, False
        if suspect is None:
            return False
        if anchor is None or not breaks(anchor, suspect):
            self._anchor = suspect
        elif breaks(anchor, now):  # the frame after breaks with the one before too: a new shot
            self._anchor, cut = suspect, True
        # else the suspect was a flash: the anchor stays
        return cut
