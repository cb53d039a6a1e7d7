"""Cuts: where a video jumps to another shot (an edited clip, a replay, a trimmed jump cut).

No person can be followed across a cut, and no camera motion measured: ``anylift detect`` ends
every track at one (:func:`anylift.video.people.detect_people`) and writes the cuts into the
keypoints file, and ``anylift camera`` estimates the camera of one shot only.

A cut is a frame whose colours differ from the frame before's (Bhattacharyya distance of their
hue-saturation-value histograms over :data:`CUT_DISTANCE`) **and** whose picture does not
continue the one before: under :data:`CUT_TRACKED` of the previous frame's corners are followed
into it and back (pyramidal Lucas-Kanade, forward-backward within 1 px, each frame's levels
stretched: a camera changing its exposure makes no cut), or either frame is blank (black).
Measured frame to frame on the footage renders and ten real clips: the colours alone jump
0.26-0.96 at the cuts of an edited film (OpenCV's ``test_c.avi``) and 0.33 at a phone clip's jump
cut, but also 0.25 where a dancer's red skirt sweeps past the camera, whose background is still
followed (71 % of the corners; at the cuts 0-16 %), and 0.2-0.56 a frame where a camera adapts
to a dark hall (PoseTrack 024158: its picture three times as bright in half a second).

A flash (a photographer's, a strobe: one frame brighter, or white) breaks with the frames on
both sides of it as a cut does, but the frame after it continues the frame before: a cut is
only taken where the frame after it breaks with the frame before it too, so it is known one
frame late (:class:`CutFinder`).

A **dissolve** (one shot fading into the next over a fraction of a second, as broadcasts and
replays do) has no such frame: each frame continues the one before. It is found over a second
(:class:`DissolveFinder`): two frames up to 1.5 s apart, the later breaking with the earlier (as
above), where the frames between are blends of the two that rise steadily from one to the other:
each frame, shrunk to 64 px wide, is the first one plus a share of the change to the last one,
within :data:`BLEND_RESIDUAL` of that change, the share within :data:`RAMP_TOLERANCE` of a steady
rise. The new shot starts in the middle. A pan or a person passing close to the camera changes the
picture as much, but its frames are no blends of the ends; a cut is a blend that rises in one frame.
A fade through black is cuts (at its black frames: :class:`CutFinder`); no window of a dissolve
reaches back over a cut, but the fade in after it can be found as one too (a cut more, a few
frames on).
"""

from __future__ import annotations

import collections

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


BLANK_RANGE = 8
"""A grey frame whose middle 98 % of pixels span fewer levels than this is blank (black, white,
one colour): no picture to continue."""


def stretched(grey: np.ndarray) -> np.ndarray | None:
    """A grey frame's levels stretched so that its middle 98 % span 0-255, or None where it is blank
    (:data:`BLANK_RANGE`). What an exposure change does to a frame (a camera adapting to a dark
    hall, brightening its picture threefold over half a second) is undone, and a dark frame's
    corners are not outweighed by one bright lamp."""
    lo, hi = np.percentile(grey, (1, 99))
    if hi - lo < BLANK_RANGE:
        return None
    return cv2.convertScaleAbs(grey, alpha=255.0 / (hi - lo), beta=-255.0 * lo / (hi - lo))


def tracked_share(prev: np.ndarray, cur: np.ndarray) -> float | None:
    """Share of ``prev``'s corners (grey frames, the same size; each :func:`stretched`) followed
    into ``cur`` and back within 1 px; None when either frame is blank or has fewer than 12."""
    prev, cur = stretched(prev), stretched(cur)
    if prev is None or cur is None:
        return None
    p0 = cv2.goodFeaturesToTrack(prev, 200, 0.01, 8)
    if p0 is None or len(p0) < 12 or (cv2.goodFeaturesToTrack(cur, 12, 0.01, 8) is None):
        return None
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(prev, cur, p0, None, winSize=(15, 15), maxLevel=3)
    p2, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, p1, None, winSize=(15, 15), maxLevel=3)
    back = np.linalg.norm((p2 - p0).reshape(-1, 2), axis=1)
    return float(((st1.ravel() == 1) & (st2.ravel() == 1) & (back < 1.0)).mean())


def breaks(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], blank: bool = True) -> bool:
    """Whether frame ``b`` does not continue frame ``a`` (each (:func:`frame_histogram`, grey));
    ``blank``: whether a blank (black) frame breaks with any (a fade through black is cuts)."""
    if histogram_distance(a[0], b[0]) <= CUT_DISTANCE:
        return False
    share = tracked_share(a[1], b[1])
    return blank if share is None else share < CUT_TRACKED


class CutFinder:
    """Fed every frame looked at in order (:meth:`__call__`): whether the frame before it started a
    new shot (one frame late: a flash is no cut, module doc). Each frame is compared with the last
    one before it that was no flash."""

    def __init__(self) -> None:
        self._anchor: tuple[np.ndarray, np.ndarray] | None = None  # the last frame that was no flash
        self._suspect: tuple[np.ndarray, np.ndarray] | None = None  # the frame before

    def __call__(self, frame: np.ndarray, grey: np.ndarray, hist: np.ndarray | None = None) -> bool:
        """``frame`` BGR, ``grey`` the same frame grey at about 320 px wide (any fixed size);
        ``hist``: its :func:`frame_histogram` where the caller has it already."""
        now = (frame_histogram(frame) if hist is None else hist, grey)
        anchor, suspect = self._anchor, self._suspect
        self._suspect, cut = now, False
        if suspect is None:
            return False
        if anchor is None or not breaks(anchor, suspect):
            self._anchor = suspect
        elif breaks(anchor, now):  # the frame after breaks with the one before too: a new shot
            self._anchor, cut = suspect, True
        # else the suspect was a flash: the anchor stays
        return cut


DISSOLVE_SECONDS = (0.2, 0.33, 0.5, 0.75, 1.0, 1.5)
"""The dissolves looked for last about this long (each frame ends one window of each length)."""
BLEND_RESIDUAL = 0.35
"""Largest distance of a frame from the blend of the window's ends (share of the change between
them). Footage renders dissolved into one another over 6-20 frames: 0.05-0.27 (the people and
the camera move on in both shots); of all the windows whose ends break (as at a cut) in the
fourteen footage renders, five real clips and the accuracy benchmark's 44 renders of moving
cameras (a turning tripod, a walking or lagging follower, an orbit), none is a blend within
0.50."""
RAMP_TOLERANCE = 0.2
"""Largest difference of a frame's share of the change from the steady rise over the window."""


def tiny(frame: np.ndarray) -> np.ndarray:
    """The frame shrunk to 64 px wide (averaged), float32: what a blend is judged on."""
    from anylift.video.reader import shrunk

    return shrunk(frame, 64 / frame.shape[1])[0].astype(np.float32)  # a 4K frame in 3 ms, not 12


def blend_shares(frames: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """(share of the change from the first frame to the last in each frame (N,), largest distance
    of a frame from the blend with that share, over the change's size) of :func:`tiny` frames."""
    first, change = frames[0], frames[-1] - frames[0]
    size = float(np.sqrt((change * change).sum()))
    if size < 1e-6:
        return np.zeros(len(frames)), np.inf
    shares = np.array([float(((f - first) * change).sum()) / size**2 for f in frames])
    residual = max(float(np.linalg.norm(f - first - a * change)) for f, a in zip(frames, shares, strict=True))
    return shares, residual / size


def ramp_error(frames: list[np.ndarray]) -> float:
    """How far :func:`tiny` ``frames`` are from a dissolve from the first to the last: the larger of
    the blend's residual over :data:`BLEND_RESIDUAL` and the shares' distance from a steady rise
    over :data:`RAMP_TOLERANCE` (at most 1 for a dissolve)."""
    shares, residual = blend_shares(frames)
    steady = np.linspace(0.0, 1.0, len(frames))
    return max(residual / BLEND_RESIDUAL, float(np.abs(shares - steady).max()) / RAMP_TOLERANCE)


class DissolveFinder:
    """Fed every frame looked at in order (:meth:`__call__`), as :class:`CutFinder`: the dissolves
    into another shot (module doc), each as the index of the frame in their middle, which starts the
    new shot, known up to :data:`DISSOLVE_SECONDS` after the dissolve ends. ``per_second``: frames
    fed a second."""

    def __init__(self, per_second: float) -> None:
        self._halves = sorted({max(2, round(s * per_second / 2)) for s in DISSOLVE_SECONDS})
        self._frames: collections.deque = collections.deque(maxlen=2 * self._halves[-1] + 3)
        self._t = -1
        self._best: tuple[tuple, int] | None = None  # ((half length, -ramp error), middle) going on

    def __call__(self, frame: np.ndarray, grey: np.ndarray, hist: np.ndarray | None = None) -> int | None:
        """``frame`` BGR, ``grey`` and ``hist`` as :class:`CutFinder`'s -> the frame index (0 = the
        first fed) in the middle of a dissolve found now, or None."""
        self._t += 1
        self._frames.append((frame_histogram(frame) if hist is None else hist, grey, tiny(frame)))
        frames = list(self._frames)
        for half in self._halves:
            if len(frames) < 2 * half + 3:
                break
            window = frames[-2 * half - 3 :]  # both ends and 2 half + 1 frames between
            key = (half, -ramp_error([f[2] for f in window]))  # the longest, then the steadiest
            if key[1] >= -1.0 and (self._best is None or key > self._best[0]):
                if breaks(window[0][:2], window[-1][:2], blank=False):
                    self._best = (key, self._t - half - 1)
        if self._best is not None and self._t - self._best[1] > self._halves[-1] + 2:
            return self.flush()
        return None

    def cut(self, t: int) -> None:
        """Frame ``t`` started another shot (:class:`CutFinder`): no window reaches back over it."""
        keep = max(0, self._t - t + 1)
        while len(self._frames) > keep:
            self._frames.popleft()
        if self._best is not None and self._best[1] < t:
            self._best = None

    def flush(self) -> int | None:
        """The dissolve found last and not yet given (at the end of the video), or None."""
        best, self._best = self._best, None
        return None if best is None else best[1]
