"""Every person of a video, tracked, with top-down 2D keypoints from each person's own region.

Only what ships in the installed wheels (nothing is downloaded):

1. **Camera motion**: the frame-to-frame similarity of the background (corners outside the
   people, pyramidal Lucas-Kanade, RANSAC: :func:`camera_motion`) moves every track's box and
   velocity into the new frame first, so a panning or shaking camera does not look like people
   running (a static camera gives the identity).
2. **Each track follows itself** (top-down): MediaPipe Pose's landmark model runs on the track's
   predicted region of the frame, at least as large as the body was over the last
   ``size_memory_seconds`` (a body bending down to crawl or roll: :meth:`_Track.region`; every
   track's at once, a graph per core: :class:`RoiPoses`)
   (:class:`RoiPose`: the wheel's ``PoseLandmarkByRoiCpu`` graph,
   at the model's 256 px input however small the person; turned like the body's last torso, and
   on as it was turning: a cartwheel or a backflip, :meth:`_Track.rotation`), with
   no person detector in the loop: that detector looks for faces and misses small, far and
   turned-away people. Its 33 landmarks become COCO-17 pixels of the frame, and the box of every
   joint it placed is the track's new box. The track's look is the colour of the body under
   those joints (colour histograms of the torso and of the legs: :func:`body_colours`),
   learnt while the person stands clear of everyone else.
3. **Crossings**: when two tracks' regions give the same body (their boxes overlap), the track
   that the body fits better (position and look) keeps it; the other coasts on its
   camera-compensated prediction (also looking where it was last seen) until its person comes
   out again. A track never takes a body that looks like someone else; a young track that took
   the body of an older one lost a moment ago is merged into it.
4. **New people**: every ``find_seconds``, proposals from MediaPipe's selfie segmentation (blobs
   of its person mask) and OpenCV's background subtractor (MOG2; only while the camera is
   static, and started anew where the picture creeps and its blobs are no one:
   :class:`StillBackground`), or while it moves, what moved against the background (the frames
   ``moved_seconds`` and twice that before, brought into place by their background's homography:
   :func:`moving_foreground`; a drone's view of a dancer with her face turned away, whom the
   segmentation and the pose detector never saw: 58 % of the people found, now 91 %) go
   through the landmark model, and so does what of those blobs sticks out of the people
   tracked already (:func:`beside_taken`: someone passing in front of or behind a tracked person
   makes one blob with them; a drawing from there that holds the tracked body is refused, and so
   is any drawing whose box overlaps a tracked body's unless its joints lie elsewhere than that
   body's: :func:`another_body`, a boxer in front of the referee); every
   ``scan_seconds``, MediaPipe's pose detector on overlapping tiles of the frame (the people
   already tracked greyed out) start tracks where no track is. A new body that looks like a
   track lost up to ``reid_seconds`` ago, near where it could have walked, continues that id.
   **Looking back**: a person found (or found again) in a frame is looked for in the frames
   before, back to where its track last saw it (at most ``look_back_seconds``): the landmark
   model on the region of the frame after, frame by frame backwards, until it finds nobody there
   or someone another track holds (proposals come every ``find_seconds`` and a turned-away person
   is often found only once they turn: measured, a spinning person's first 24 frames at 60 fps);
   again with its newest box in the :data:`LOOK_BACK_AGAIN` frames after (found by part of the
   body, its first region can show the model no one the frame before).
5. **Stitching** (:func:`stitch_tracks`, after the last frame; first a track's last glimpse after
   a gap, far smaller than its person, is dropped, :func:`trim_stray_tails`, then its last frames
   drawn now and then on the body a newer track took up, :func:`trim_ghost_tails`): a
   track that ends and one that starts within ``stitch_seconds`` (then 1.5 times that) where the
   first one's person would be by then (or still is), the same size (or a moment before it ends,
   on the same body: a proposal that took part of a tumbling body; or whose body its ghost tail
   lay on from its birth, whatever its size: a part of it), become one when nothing else
   could be that person (on real footage the look of a small person changes too much from frame
   to frame for step 4's re-identification). Tracks seen for under :data:`STITCH_MIN_SECONDS`
   join in last. A track that lies within another's gaps and continues it at both ends of each
   fills them (:func:`fill_gaps`: one that takes turns with it on the body). Then someone hidden
   for longer, up to ``reid_seconds`` (:func:`rejoin_hidden`): a track that ends and one that
   starts later within a walker's reach become one where they look alike and every other track
   that ends or starts meanwhile looks clearly unlike them. Last, a track's lone frame on the
   body another track missed for that frame alone goes to that track, and so does the first or
   last frame of a run that lies nearer that body than the run's own next box (:func:`mend_blips`);
   a lone frame left, far from the rest of its track, is dropped (:func:`drop_lone_frames`).
6. **Frame rate** (optional, ``detect_rate``; off by default): footage faster than
   ``detect_rate`` is looked at in every k-th frame (k the nearest whole number to the ratio:
   60 fps at 30 -> every 2nd, :func:`frame_stride`), all the steps above at that rate; the frames
   in between get their keypoints and boxes interpolated (:func:`every_frame`), so the file keeps
   every frame and its time. A 60 fps clip costs half the detector time, with the same 2D error,
   but the tracks differ a little and the lift is sensitive to that: on the 60 fps footage render
   the spinner's feet were lifted 8-17 cm off the floor instead of 3-4 (ablation row 48).
7. **High resolution**: the proposals look at the frame shrunk to at most ``proposal_side``
   (the segmentation model's own input is 256 px); the frames kept for looking back fit
   ``look_back_bytes``: at full size, fewer than ``look_back_seconds`` of them, where it holds
   at least half (720p at 50 fps: 2.9 s; 1080p at 30 fps: 2.1 s), else all of them shrunk (1080p
   at 60 fps to 0.6 of the size, 4K at 30 fps to 0.42; a 4K clip kept 16 frames, and its people
   were found late); a scan tile over twice the detector's input is averaged down to it
   (:func:`_crop`). Each track's own region is still cut from the full frame.
8. **Cuts** (an edited video, :mod:`anylift.video.cuts`; known a frame late, so that a flash is
   none): at a frame that starts another shot every track seen before it ends there
   (:meth:`Tracker.cut`: none is followed, resumed, re-identified or stitched across it), no frame
   before it is looked back at, and the background subtractor starts anew; the cuts are written
   into the keypoints file. A dissolve is found up to 1.5 s after its middle frame, which starts
   the new shot: what each track saw from there on goes on as a new track (:meth:`Tracker.split`).
9. **Cleaning** per track (:mod:`anylift.video.tracking`): the legs' left/right swaps undone,
   low scores dropped, short gaps filled, zero-lag One-Euro smoothing; tracks seen in fewer than
   ``min_frames`` frames dropped.
10. **Tracks of no one** (:mod:`anylift.video.ghosts`): after stitching, a small track that keeps
    its place against a person walking through the scene rides on what they carry and is set aside
    (:func:`set_aside_riders`). With ``set_aside_still`` (off by default), tracks that stay in one
    place are looked at again in a few frames, and those where no person is segmented and the
    landmark model's drawing moves with its region are set aside too.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import copy
import functools
import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from anylift.errors import InputError
from anylift.io.people import People, PersonTrack
from anylift.progress import ProgressFn, check_cancel, report
from anylift.video import tracking
from anylift.video.cuts import CutFinder, DissolveFinder, frame_histogram
from anylift.video.detect import STAGE, DetectConfig, mediapipe_missing, mediapipe_to_coco17
from anylift.video.native_logs import quiet_native_logs
from anylift.video.reader import open_video, shrunk, shrunk_size


@dataclass(frozen=True)
class PeopleConfig:
    """Settings of :func:`detect_people` (see the module doc); ``detect`` cleans each track.

    Times are in seconds of video, so that 10 and 60 fps footage behave alike.
    """

    detect: DetectConfig = field(default_factory=DetectConfig)
    mask_threshold: float = 0.5
    min_box_height: int = 24
    motion_proposals: bool = True
    moving_camera_proposals: bool = True  # what moved against the background (moving_foreground)
    moved_seconds: float = 0.15  # ... compared with the frames this long and twice as long before
    max_foreground: float = 0.15
    find_seconds: float = 0.1
    scan_seconds: float = 1.0  # <= look_back_seconds: a person the scan finds late is looked for back
    # to where the last scans missed them. 0.5 gave the same tracks and rates on the four footage
    # renders (benchmarks/people_video.py) for 1.5-2x the scan's time (single25: 2.8 vs 1.4 s).
    max_lost_seconds: float = 1.5
    pose_threads: int = 0  # tracks followed at once (RoiPoses); 0: the cores, at most MAX_POSE_THREADS
    gate: float = 0.75
    colour_weight: float = 1.0
    crop_size: int = 256
    min_frames: int = 5
    reid_colour: float = 0.35
    max_colour: float = 0.5
    reid_seconds: float = 3.0
    resume_seconds: float = 0.3
    look_back_seconds: float = 3.0  # 1 until the 27th session: a person lying face down is missed by
    # every scan until they get up (measured: a getup's first 2 s), and the landmark model follows
    # them back from there (look_back_bytes caps the frames kept: 2 s of 1080p)
    look_back_bytes: int = 400_000_000  # the frames kept fit this: fewer, or shrunk (module doc, 7)
    proposal_side: int = 1280  # proposals look at the frame shrunk to at most this long side (px)
    size_memory_seconds: float = 0.2
    stitch_seconds: float = 1.0  # then 1.5 times as long (stitch_tracks)
    turn_carry: float = 0.8  # how much of a tumble's last turn its region turns on (_Track.rotation)
    tumble_degrees_per_second: float = 180.0  # the least turn carried on
    detect_rate: float = 0.0  # > 0: frames a second looked at, about (every k-th frame); 0: every frame
    set_aside_still: bool = False  # tracks of still things that look like no one (anylift.video.ghosts;
    # off by default: a body crawling seen from above failed both tests, footage render steep50)


def frame_stride(rate: float, detect_rate: float) -> int:
    """Every how many frames the detector looks at a video of ``rate`` fps: the nearest whole
    number to ``rate / detect_rate`` (60 or 59.94 fps -> 2, 45 or 50 -> 2, 120 -> 4, 30 or 40 -> 1);
    1 when ``detect_rate`` is 0."""
    if detect_rate <= 0:
        return 1
    return max(1, int(np.floor(rate / detect_rate + 0.5)))


def every_frame(kp: np.ndarray, boxes: np.ndarray, stride: int, num_frames: int):
    """(n, 17, 3) keypoints and (n, 4) boxes (NaN: unseen) of every ``stride``-th frame -> the
    same for all ``num_frames`` frames: each looked-at frame's own, linear in between, the last
    one held (:func:`anylift.lifting.framerate.resample_keypoints`: a joint unseen on either side
    is unseen in between, its score the lower of the two)."""
    from anylift.lifting.framerate import resample_keypoints

    looked, every = np.arange(len(kp)) * stride, np.arange(num_frames)
    seen = np.isfinite(boxes).all(1).astype(np.float64)
    corners = np.concatenate([boxes.reshape(-1, 2, 2), np.repeat(seen[:, None, None], 2, 1)], axis=-1)
    corners = resample_keypoints(corners, looked, every)
    return resample_keypoints(kp, looked, every), corners[..., :2].reshape(-1, 4)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4) x (M, 4) boxes ``x0, y0, x1, y1`` -> (N, M) intersection over union."""
    a, b = np.asarray(a, float)[:, None], np.asarray(b, float)[None]
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


TAKEN_MARGIN = 1.15
"""A tracked body's keypoint box scaled by this covers its silhouette (the head above the eyes, the
feet below the ankles, the hands): what is left of a blob outside it is someone else's."""


def mask_boxes(mask: np.ndarray, threshold: float, min_height: int) -> np.ndarray:
    """(H, W) person probability -> (N, 4) boxes of its connected blobs taller than ``min_height``."""
    binary = (mask > threshold).astype(np.uint8)
    # Close the gaps a thin mask leaves between torso and legs: one blob per person.
    k = max(3, min_height // 6) | 1
    binary = cv2.morphologyEx(
        binary, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, 2 * k + 1))
    )
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    boxes = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if h >= min_height and area >= 0.15 * w * h:
            boxes.append([x, y, x + w, y + h])
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def centre_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4) x (M, 4) boxes -> (N, M) distance of their centres over the mean of their heights."""
    ca = (a[:, None, :2] + a[:, None, 2:]) / 2
    cb = (b[None, :, :2] + b[None, :, 2:]) / 2
    h = 0.5 * ((a[:, None, 3] - a[:, None, 1]) + (b[None, :, 3] - b[None, :, 1]))
    return np.linalg.norm(ca - cb, axis=-1) / np.maximum(h, 1.0)


def beside_taken(
    mask: np.ndarray, threshold: float, min_height: int, taken: np.ndarray, whole: np.ndarray
) -> np.ndarray:
    """Boxes of what a (H, W) person mask shows beside the people tracked already (``taken``,
    (M, 4) boxes in the mask's pixels, blanked scaled by :data:`TAKEN_MARGIN`), other than its
    ``whole`` blobs (what :func:`mask_boxes` found in it with these settings). A person in front
    of or behind a tracked one makes one blob with them, mostly the tracked one's, and is proposed
    by what sticks out (footage render crowd25: a walker passing in front of another was lost,
    then missed for 40 frames)."""
    taken = np.asarray(taken, dtype=float).reshape(-1, 4)
    if len(taken) == 0:
        return np.zeros((0, 4))
    free = mask.copy()
    for b in taken:
        x0, y0, x1, y1 = np.maximum(np.round(_scaled(b, TAKEN_MARGIN)), 0).astype(int)
        free[y0:y1, x0:x1] = 0
    rest = mask_boxes(free, threshold, min_height)
    if len(whole) == 0 or len(rest) == 0:
        return rest
    return rest[iou(rest, whole).max(1) < 0.9]


def covered(box: np.ndarray, others: np.ndarray) -> float:
    """Largest share of ``box`` (4,) lying inside one of ``others`` (N, 4); 0 when N = 0."""
    if len(others) == 0:
        return 0.0
    w = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    h = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    return float((w * h).max() / max((box[2] - box[0]) * (box[3] - box[1]), 1e-9))


OTHER_BODY_JOINTS = 6
"""Joints seen in both drawings that :func:`another_body` needs to tell two bodies apart."""
SAME_JOINT = 0.1
"""Two drawings' joints this close (share of the larger drawing's extent) are the same joint."""
OTHER_BODY = 0.2
"""At most this share of the joints seen in both may coincide in drawings of two bodies."""
OTHER_BODY_SIZE = 0.5
"""A drawing under this share of a tracked body's size (its joints' extent) over it is part of it."""


def another_body(kp: np.ndarray, other: np.ndarray | None, min_score: float = 0.5) -> bool:
    """Whether a new drawing (17, 3) is of another body than ``other``'s, a tracked person's whose
    box it overlaps: at least :data:`OTHER_BODY_JOINTS` joints placed in both, at most
    :data:`OTHER_BODY` of them within :data:`SAME_JOINT` of each other (a share of the larger
    drawing's extent over those joints), and the drawing at least :data:`OTHER_BODY_SIZE` of the
    body's size.

    Sparring partners, a referee between them, a coach spotting a gymnast: one stands in front
    of the other and their boxes overlap, but their joints do not. A drawing of the tracked body
    (or of half of it and half of the other) shares its joints; a small one is of a part of it or
    of someone far behind, refused as before."""
    if other is None:
        return False
    shared = shared_joints(kp, other, min_score)
    if shared is None:
        return False
    sure, other_sure = kp[:, 2] > min_score, other[:, 2] > min_score
    if np.ptp(kp[sure, :2], axis=0).max() < OTHER_BODY_SIZE * np.ptp(other[other_sure, :2], axis=0).max():
        return False
    return shared <= OTHER_BODY


def shared_joints(kp: np.ndarray, other: np.ndarray, min_score: float = 0.5) -> float | None:
    """Share of the joints placed in both drawings (17, 3) that lie within :data:`SAME_JOINT` of
    each other, or None where fewer than :data:`OTHER_BODY_JOINTS` are placed in both."""
    both = (kp[:, 2] > min_score) & (other[:, 2] > min_score)
    if both.sum() < OTHER_BODY_JOINTS:
        return None
    height = max(np.ptp(kp[both, :2], axis=0).max(), np.ptp(other[both, :2], axis=0).max(), 1.0)
    return float((np.linalg.norm(kp[both, :2] - other[both, :2], axis=1) < SAME_JOINT * height).mean())


AROUND = 0.7
"""A new drawing holding this share of a tracked body's box is around that body."""


def drawn_again(box: np.ndarray, kp: np.ndarray, taken: list, taken_kp: list) -> bool:
    """Whether a new drawing (``box`` (4,), ``kp`` (17, 3)) is a tracked body's (``taken`` boxes,
    ``taken_kp`` their drawings, or None) drawn again: it lies over one (half of it inside that
    box, or IoU over 0.3) and is not of another body (:func:`another_body`), or it lies around one
    (:data:`AROUND` of that box inside it) and more than :data:`OTHER_BODY` of their joints are
    the same (:func:`shared_joints`; around a tracked body partly seen, someone new in front of it
    may hold too few joints in common with it to tell). Around: footage render steep25 on an AMD
    EPYC, a new drawing from a walker's head (its joints on his) down to the feet of the dancer in
    front of him, holding both their boxes, became a track and took the walker's frames
    (5 identity switches; on an Intel Xeon MediaPipe's numbers drew no such thing). Nor is a
    drawing with its nose on a tracked drawing's (:func:`same_head`), whatever its other joints."""
    for b, k in zip(taken, taken_kp, strict=True):
        if (covered(box, b[None]) > 0.5 or iou(box[None], b[None])[0, 0] > 0.3) and not another_body(kp, k):
            return True
        if k is not None and same_head(kp, k):
            return True
        if k is not None and covered(b, box[None]) > AROUND and (shared_joints(kp, k) or 0.0) > OTHER_BODY:
            return True
    return False


def same_head(kp: np.ndarray, other: np.ndarray, min_score: float = 0.5) -> bool:
    """Whether two drawings (17, 3) put the nose in one place (within :data:`SAME_JOINT` of the
    smaller drawing's extent: a drawing spread wide is no measure of a head's size): two people's
    heads are not where one is, and someone whose head is hidden behind another's is not drawn
    by it. Footage render handheld10 (10 fps, an AMD EPYC): a walker and a kicker crossing; a
    proposal's drawing had its head on the kicker's (noses 6.5 px apart, the smaller drawing
    102 px across) and its body and a foot off towards the walker, only 14 % of its joints on the
    kicker's, so not the kicker drawn again by them; as a track it took the kicker's frames, then
    the walker's: 2 identity switches, none when it is refused. That refusal also changed steep25,
    where a walker passes behind a dancer: 2 switches -> 0. OpenCV's courtyard, frame 57: a track's
    drawing 69 px wide and 19 tall lay across a walker's head, its nose 5.3 px from hers (she is
    49 px tall): one head by a tenth of the larger drawing, not by a tenth of hers (her own drawing
    was refused with the larger)."""
    if kp[0, 2] <= min_score or other[0, 2] <= min_score:
        return False
    extent = min(np.ptp(d[d[:, 2] > min_score, :2], axis=0).max() for d in (kp, other))
    return bool(np.linalg.norm(kp[0, :2] - other[0, :2]) < SAME_JOINT * max(extent, 1.0))


SPREAD_SIZE = 0.6
"""A body under this share of a drawing's size can be one of those a drawing spread over several
people side by side lies on (:func:`spread_over`)."""
SPREAD_ON = 0.4
"""Share of a drawing's joints lying on smaller bodies at which it is spread over them."""
BEHIND_SIZE = 0.65
"""The same for a drawing spread over one person behind another, seen from above: it spans about
1.8 of each (:func:`spread_over`)."""
UPRIGHT = 1.5
"""Height over width from which a box is a whole person standing or walking (:func:`_one_behind`)."""


def spread_over(box: np.ndarray, kp: np.ndarray, taken: list, min_score: float = 0.5) -> bool:
    """Whether a drawing (``box`` (4,), ``kp`` (17, 3)) is one body made of several people's
    parts: other bodies (``taken`` boxes), each under :data:`SPREAD_SIZE` of its size (the
    longer side of a box: a body turned on its side is wide, not tall) and holding two or more of
    its joints, hold :data:`SPREAD_ON` of its joints together, two of them side by side
    (:func:`_side_by_side`; tracks of a body's legs and of its torso lie above one another); or
    two whole people one behind the other (:func:`_one_behind`), each under :data:`BEHIND_SIZE`
    of its size, hold that share.
    Such a drawing starts no track, and a track's drawing in a frame is not taken where it is one.
    OpenCV's courtyard (its 480x360 re-encoding): from a camera high up, the landmark model drew
    one confident body (every joint at 0.93) twice the height of the walkers there, its head on
    two people walking away and its feet on one walking nearer (53 % of its joints on the three);
    as a track it drifted over two more groups for 7 s (and a second one, drawn from one walker's
    head to two others' feet, followed it). Someone near the camera in front of a crowd hides the
    people behind their body: in the first frame of the other 273 tracks of 13 real clips (12
    DAVIS clips with crowds and onlookers, the courtyard) none had a tenth of its joints so.
    Footage render courtyard10 (7.5 m up): the landmark model drew a walker's head and the feet of
    the boxer in front of him as one body, a track for six frames, and the walker's frames went to
    it and back five times (the boxer 0.6 of its size, the walker 0.54)."""
    sure = kp[:, 2] > min_score
    if not sure.any():
        return False
    pts, size = kp[sure, :2], max(box[2] - box[0], box[3] - box[1])
    bodies = []  # (box, which joints lie inside it, its longer side)
    for b in taken:
        inside = (pts[:, 0] >= b[0]) & (pts[:, 0] <= b[2]) & (pts[:, 1] >= b[1]) & (pts[:, 1] <= b[3])
        side = max(b[2] - b[0], b[3] - b[1])
        if side < BEHIND_SIZE * size and inside.sum() >= 2:
            bodies.append((b, inside, side))
    small = [(b, inside) for b, inside, side in bodies if side < SPREAD_SIZE * size]
    on = np.any([inside for _, inside in small], axis=0) if small else np.zeros(len(pts), bool)
    if on.mean() >= SPREAD_ON and any(
        _side_by_side(a, b) for (a, _), (b, _) in itertools.combinations(small, 2)
    ):
        return True
    return any(
        (i | j).mean() >= SPREAD_ON and _one_behind(a, b)
        for (a, i, _), (b, j, _) in itertools.combinations(bodies, 2)
    )


def _side_by_side(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether boxes ``a`` and ``b`` share under half the narrower one's width (two people beside
    one another, not parts of one body drawn above one another)."""
    shared = min(a[2], b[2]) - max(a[0], b[0])
    return shared < 0.5 * min(a[2] - a[0], b[2] - b[0])


def _one_behind(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether boxes ``a`` and ``b`` are two whole people one behind the other, seen from above:
    both upright (height :data:`UPRIGHT` times their width or more) and sharing under a quarter
    of the shorter one's height. Tracks of parts of a body turned on its side or curled up (a
    backflip's) are wide. Not told apart: two upright tracks of one standing body's upper half and
    its legs (none seen so far); a drawing of that whole body is then refused."""
    if not all(h[3] - h[1] >= UPRIGHT * (h[2] - h[0]) for h in (a, b)):
        return False
    return min(a[3], b[3]) - max(a[1], b[1]) < 0.25 * min(a[3] - a[1], b[3] - b[1])


def merge_boxes(boxes: np.ndarray, thresh: float = 0.5) -> np.ndarray:
    """Drop boxes overlapping an earlier (kept) one by more than ``thresh`` IoU."""
    keep: list[np.ndarray] = []
    for b in boxes:
        if not keep or iou(b[None], np.array(keep)).max() <= thresh:
            keep.append(b)
    return np.array(keep, dtype=np.float64).reshape(-1, 4)


def keypoint_box(kp: np.ndarray, min_score: float = 0.5, min_joints: int = 6) -> np.ndarray | None:
    """(17, 3) COCO-17 pixels -> (4,) box of the body, widened by a tenth of its size each side
    (head top, feet); None with fewer than ``min_joints`` joints above ``min_score``.

    The box spans every joint the model placed (score above 0.05), not only the confident ones:
    a leg the model is unsure of is still about where it says, and a box of the confident joints
    alone shrinks onto the upper body, frame after frame, when it is the next frame's region."""
    if (kp[:, 2] > min_score).sum() < min_joints:
        return None
    ok = (kp[:, 2] > 0.05) & np.isfinite(kp[:, :2]).all(-1)
    lo, hi = kp[ok, :2].min(0), kp[ok, :2].max(0)
    s = max(float((hi - lo).max()), 1.0)
    return np.array([lo[0] - 0.1 * s, lo[1] - 0.12 * s, hi[0] + 0.1 * s, hi[1] + 0.06 * s])


_TORSO = (5, 6, 12, 11)  # shoulders, hips: a quadrilateral in drawing order
_LEGS = ((11, 13), (13, 15), (12, 14), (14, 16))
_GREY = 64  # saturation below which a pixel's hue means nothing: black, grey and white clothes
_GREY_BINS = 3  # brightnesses of the grey pixels: black, grey, white
_BINS = 24 + _GREY_BINS  # 8 hues x 3 saturations of the coloured pixels, then the grey ones


def _hue_saturation(hsv: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Histogram of a part: coloured pixels by hue and saturation, grey ones by brightness (by hue
    alone a black and a white body look the same: footage render crowd25, two walkers crossing)."""
    if mask.sum() < 12:
        return np.full(_BINS, np.nan)
    coloured = (mask > 0) & (hsv[..., 1] >= _GREY)
    grey = ((mask > 0) & ~coloured).astype(np.uint8)
    hist = np.concatenate([
        cv2.calcHist([hsv], [0, 1], coloured.astype(np.uint8), [8, 3], [0, 180, _GREY, 256]).ravel(),
        cv2.calcHist([hsv], [2], grey, [_GREY_BINS], [0, 256]).ravel(),
    ])  # fmt: skip
    return hist / max(hist.sum(), 1e-9)


def body_colours(frame: np.ndarray, kp: np.ndarray, min_score: float = 0.5) -> np.ndarray | None:
    """The look of a person: colour histograms of the body under its joints.

    Args:
        frame: (H, W, 3) BGR image.
        kp: (17, 3) COCO-17 ``[x px, y px, score]``.

    Returns:
        (54,): the torso's (shoulders-hips quadrilateral) histogram (:func:`_hue_saturation`), then
        the legs' (hip-knee-ankle strokes), each summing to 1 (NaN where that part is not seen); None when
        the torso is not confidently seen. No background enters (unlike a box's histogram).
    """
    ok = kp[:, 2] > min_score
    if not ok[list(_TORSO)].all():
        return None
    h, w = frame.shape[:2]
    pts = kp[ok, :2]
    s = max(float((pts.max(0) - pts.min(0)).max()), 4.0)
    x0, y0 = (max(int(v), 0) for v in pts.min(0) - 0.1 * s)
    x1, y1 = int(min(pts[:, 0].max() + 0.1 * s, w)), int(min(pts[:, 1].max() + 0.1 * s, h))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    hsv = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2HSV)
    off = np.array([x0, y0])
    torso = np.zeros(hsv.shape[:2], np.uint8)
    cv2.fillConvexPoly(torso, np.round(kp[list(_TORSO), :2] - off).astype(np.int32), 1)
    legs = np.zeros_like(torso)
    width = max(2, round(0.06 * s))
    for a, b in _LEGS:
        if ok[a] and ok[b]:
            pa, pb = (tuple(int(v) for v in np.round(kp[j, :2] - off)) for j in (a, b))
            cv2.line(legs, pa, pb, 1, width)
    legs[torso > 0] = 0
    return np.concatenate([_hue_saturation(hsv, torso), _hue_saturation(hsv, legs)])


def colour_distance(p: np.ndarray | None, q: np.ndarray | None, unknown: float = 0.3) -> float:
    """Bhattacharyya distance (0 same .. 1 disjoint) of two :func:`body_colours`, averaged over
    the parts seen in both; ``unknown`` when none is."""
    if p is None or q is None:
        return unknown
    d = []
    for part in (slice(0, _BINS), slice(_BINS, 2 * _BINS)):
        a, b = p[part], q[part]
        if np.isfinite(a).all() and np.isfinite(b).all():
            d.append(np.sqrt(max(0.0, 1.0 - float(np.sqrt(a * b).sum()))))
    return float(np.mean(d)) if d else unknown


def camera_motion(
    prev: np.ndarray, cur: np.ndarray, people: np.ndarray, max_corners: int = 200
) -> np.ndarray:
    """The camera's own image motion between two grey frames, from the background.

    Args:
        prev, cur: (H, W) uint8 grey frames t-1 and t.
        people: (N, 4) boxes (pixels of ``prev``) left out: people move on their own.

    Returns:
        (2, 3) similarity taking pixels of ``prev`` to ``cur`` (rotation, scale, shift; RANSAC
        over Lucas-Kanade-tracked corners); the identity when fewer than 12 corners agree.
    """
    eye = np.eye(2, 3)
    mask = np.full(prev.shape, 255, np.uint8)
    for x0, y0, x1, y1 in np.asarray(people, dtype=float).reshape(-1, 4):
        if np.isfinite([x0, y0, x1, y1]).all():
            mask[max(int(y0), 0) : max(int(y1) + 1, 0), max(int(x0), 0) : max(int(x1) + 1, 0)] = 0
    pairs = followed_corners(prev, cur, max_corners, 8, 12, mask)
    if pairs is None:
        return eye
    a, inliers = cv2.estimateAffinePartial2D(*pairs, method=cv2.RANSAC, ransacReprojThreshold=1.5)
    if a is None or inliers is None or inliers.sum() < 12:
        return eye
    return a


def image_shift(motion: np.ndarray, shape: tuple[int, ...]) -> float:
    """How far (2, 3) ``motion`` moves the corners of an image of ``shape`` (H, W), at most (px)."""
    h, w = shape[:2]
    corners = np.array([[0.0, 0.0, 1.0], [w, 0.0, 1.0], [0.0, h, 1.0], [w, h, 1.0]])
    return float(np.abs(corners @ np.asarray(motion).T - corners[:, :2]).max())


CREEP_PX = 1.0
"""How far the picture may creep before a :class:`StillBackground` whose blobs are no one starts
anew (px of the frame the proposals look at)."""
NO_ONE_TRIED, NO_ONE_SHARE = 4, 0.2
"""At least this many proposals in a frame, someone drawn in under this share of them: no one
(:meth:`StillBackground.noted`)."""


class StillBackground:
    """What moves in front of a static camera: OpenCV's background subtractor (MOG2), learnt over the
    shot and started anew at a cut (:meth:`restart`), and where its blobs are mostly no one and the
    picture has crept :data:`CREEP_PX` since it began (checked when asked, against that first
    frame). A camera that creeps (a slow zoom, a tripod settling: 0.1 px a frame, too little to count
    as moving) turns every edge of a textured scene into foreground, and each blob went through the
    landmark model: a man doing taiji in a panelled room, 1280x720, 412 frames, took 334 s and gave
    21 tracks, 20 of them on the walls, cups and a sign (now 89 s and 7 tracks; 57 s and 5 when
    every creep started it anew). Started anew, it learns from scratch, and people walking slowly
    become background for a while: on a concourse whose camera creeps as much over a plain floor,
    where the blobs are people, every creep starting it anew lost a third of the long tracks
    (35 -> 22); hence the blobs' say.

    Args:
        scale: px of the subtracted images per px of the grey frames the creep is measured on.
    """

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self.restart(0)

    def restart(self, t: int) -> None:
        """Start anew at frame ``t``."""
        self._mog = cv2.createBackgroundSubtractorMOG2(history=300, varThreshold=25, detectShadows=True)
        self._first, self._t = None, t
        self.no_one = False  # the last proposals were mostly no one (noted)

    def noted(self, tried: int, drawn: int) -> None:
        """What came of the last frame's proposals: ``tried`` regions, someone ``drawn`` in how many."""
        self.no_one = tried >= NO_ONE_TRIED and drawn < NO_ONE_SHARE * tried

    def learnt(self, t: int) -> bool:
        """Whether frame ``t`` is at least the third since it began (its foreground means something)."""
        return t - self._t >= 2

    def foreground(self, t: int, image: np.ndarray, grey: np.ndarray, people: np.ndarray,
                   check: bool) -> np.ndarray:  # fmt: skip
        """(H, W) float32, 1 where ``image`` (BGR) differs from the background (shadows not);
        ``check``: first measure the creep (``grey``, its ``people`` boxes (N, 4) left out)."""
        if self._first is None:
            self._first = grey
        elif check and self.learnt(t) and self.no_one:
            crept = image_shift(camera_motion(self._first, grey, people), grey.shape)
            if crept * self.scale > CREEP_PX:
                self.restart(t)
                self._first = grey
        return (self._mog.apply(image) > 200).astype(np.float32)  # 127: shadows


def followed_corners(prev: np.ndarray, cur: np.ndarray, corners: int, spacing: float, least: int,
                     mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
    """(p_prev, p_cur) (N, 1, 2): up to ``corners`` Shi-Tomasi corners of grey ``prev`` (``spacing``
    px apart, where ``mask`` is not 0) followed into ``cur`` by pyramidal Lucas-Kanade; None when
    fewer than ``least`` are found or followed."""
    p0 = cv2.goodFeaturesToTrack(prev, corners, 0.01, spacing, mask=mask)
    if p0 is None or len(p0) < least:
        return None
    p1, status, _err = cv2.calcOpticalFlowPyrLK(prev, cur, p0, None, winSize=(15, 15), maxLevel=3)
    good = status.ravel() == 1
    return (p0[good], p1[good]) if good.sum() >= least else None


def moving_foreground(cur: np.ndarray, before: list[np.ndarray], threshold: int = 25) -> np.ndarray | None:
    """(H, W) float mask of what moved on its own in grey frame ``cur``: each frame of ``before``
    (grey, the same size; earlier frames of a moving camera) is brought into ``cur`` by the
    homography of their background corners (RANSAC: a floor, or a pure turn, is one), and a pixel
    is foreground where it is brighter or darker by over ``threshold`` than every pixel of its 3x3
    neighbourhood there (a misalignment of a pixel on an edge is not motion) in all of them (a
    body's old place shows in one difference only). None where a frame does not align."""
    fg = np.ones(cur.shape, bool)
    k3 = np.ones((3, 3), np.uint8)
    for prev in before:
        pairs = followed_corners(prev, cur, 300, 6, 20)
        if pairs is None:
            return None
        h, inliers = cv2.findHomography(*pairs, cv2.RANSAC, 1.5)
        if h is None or inliers is None or inliers.sum() < max(20, 0.5 * len(pairs[0])):
            return None
        size = (cur.shape[1], cur.shape[0])
        warped = cv2.warpPerspective(prev, h, size, flags=cv2.INTER_LINEAR)
        valid = cv2.warpPerspective(np.full(prev.shape, 255, np.uint8), h, size, flags=cv2.INTER_NEAREST)
        valid = cv2.erode(valid, k3, iterations=2) > 0
        lo, hi = cv2.erode(warped, k3).astype(np.int16), cv2.dilate(warped, k3).astype(np.int16)
        c = cur.astype(np.int16)
        fg &= valid & ((lo - c > threshold) | (c - hi > threshold))
    return fg.astype(np.float32)


def warp_box(box: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(4,) box moved by a (2, 3) similarity: its centre mapped, its size scaled."""
    c = a[:, :2] @ ((box[:2] + box[2:]) / 2) + a[:, 2]
    half = (box[2:] - box[:2]) / 2 * np.sqrt(abs(np.linalg.det(a[:, :2])))
    return np.concatenate([c - half, c + half])


def walker_reach(seconds: float) -> float:
    """Body heights from where someone was last seen that they may be ``seconds`` later: a walker
    covers about one a second (:meth:`Tracker.add`, :func:`rejoin_hidden`)."""
    return 0.75 + 1.5 * seconds


def _centres_apart(p: np.ndarray, q: np.ndarray, size: float) -> float:
    """Distance of boxes ``p`` and ``q``'s centres, in body heights of ``size`` px."""
    return float(np.linalg.norm((p[:2] + p[2:] - q[:2] - q[2:]) / 2)) / size


def _within_reach(box, t: int, later, t_later: int, size: float, motions: dict, fps: float) -> bool:
    """Whether a body seen in box ``later`` at frame ``t_later`` lies within a walker's reach
    (:func:`walker_reach`, body heights of ``size`` px) of ``box`` at frame ``t``, the camera's
    motion between taken out."""
    where = _carried(box, np.zeros(2), motions, t, t_later)
    return _centres_apart(where, later, size) <= walker_reach((t_later - t) / fps)


def _median_height(tr, frames=None) -> float:
    """A track's median box height (px) over the frames it was seen (or over ``frames`` of them)."""
    boxes = [tr.frames[f][0] for f in frames] if frames is not None else [b for b, _ in tr.frames.values()]
    return float(np.median([b[3] - b[1] for b in boxes]))


class _Track:
    """One person: box (pixels of the current frame), velocity (px/frame) of the torso's centre
    (of the box's where the torso is not seen: a kicking leg moves the box, not the person), look."""

    def __init__(self, tid: int, box: np.ndarray, t: int) -> None:
        self.id, self.box, self.last_t = tid, np.asarray(box, dtype=float), t
        self.velocity = np.zeros(2)
        self.torso = np.full(2, np.nan)
        self.look: np.ndarray | None = None
        self.kp: np.ndarray | None = None  # (17, 3) last keypoints: the ROI's rotation
        self.turns = (0.0, 0.0)  # radians the torso turned into the last two frames (0: unseen)
        self.seen = 0
        self.frames: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # t -> (box, (17, 3) keypoints)
        self.sides: dict[int, float] = {}  # t -> the box's longer side (px) where it was seen
        self.ghost_on: _Track | None = None  # the later track its dropped ghost tail lay on

    def pose(self, t: int, kp: np.ndarray) -> None:
        """Its keypoints of frame ``t``, the turn since frame ``t - 1`` (:meth:`rotation`)."""
        then = self.frames.get(t - 1, (None, None))[1]
        before, now = torso_angle(then), torso_angle(kp)
        turn = 0.0 if before is None or now is None else _wrap(now - before)
        self.turns = (self.turns[1] if t - 1 in self.frames else 0.0, turn)
        self.frames[t], self.kp = (self.box.copy(), kp), kp

    def rotation(self, t: int, carry: float, least: float) -> float:
        """The region's rotation for frame ``t`` (:class:`RoiPose`): the last torso's, turned on
        by ``carry`` (``turn_carry``, 0.8) of the last frame's turn when the body was seen in the
        two frames before and that turn is a steady tumble: the same way as the one before, at
        0.5-2 times its size, and at least ``least`` (radians a frame: ``tumble_degrees_per_second``,
        180).

        The landmark model draws the body upright in whatever region it is given, so a body that
        turns faster than a region turned like the last frame (a backflip: up to 45 degrees a frame
        at 30 fps) was drawn the wrong way up, head at the feet, until the turn ended. A turn the
        model made up (its keypoints shrunk onto a limb) is not steady, and carried on it would
        spin the region on and on. Six backflip renders (benchmark families dutch, elevated,
        follow_lag, orbit, handheld_walk, top_down; ``benchmarks/detected_2d.py --clip backflip``):
        2D error 14.5 % of the body's size without carrying the turn, 9.2 % with 0.8 of it (0.5:
        15.6, 0.7: 12.5, 0.9: 10.3, 1.0: 10.5), the person found in 90 % of the frames, not 82 %.
        Any steady turn carried on also turned the regions of the upright footage's swaying
        dancer (``benchmarks/people_video.py``: her feet 5.8 cm off the floor, not 4.3); from 180
        degrees a second (6 a frame at 30 fps) on, the footage is as without it and the backflips
        keep the gain (9.3 %; 360 degrees a second: 14.1 %) (ablation row 46)."""
        before, last = self.turns
        steady = before * last > 0 and 0.5 <= last / before <= 2.0 and abs(last) >= least
        spin = last if steady and t - self.last_t == 1 else 0.0
        return _wrap(roi_rotation(self.kp) + carry * spin)

    def recent_side(self, t: int, frames: int) -> float:
        """The longest side its box had over the ``frames`` frames up to ``t`` (0 if unseen)."""
        return max((self.sides.get(f, 0.0) for f in range(t - frames, t + 1)), default=0.0)

    def region(self, box: np.ndarray, t: int, frames: int) -> np.ndarray:
        """``box`` widened about its centre to the :meth:`recent_side`: the model's keypoints of
        a body bending down to crawl or roll can shrink onto part of it for a frame, and a region
        cut to that box loses the body in the next: a crawl's track was lost after 33 of 89
        frames, and the rest of the body then started new tracks. ``size_memory_seconds`` (0.2)
        keeps that track whole; 0.5 s also kept a roll's, but its wider regions made the footage
        benchmark's kick and dance lean 4 and 2 degrees more (the landmark model is trained on
        regions fitted to the body)."""
        side = max(box[2] - box[0], box[3] - box[1], 1.0)
        return _scaled(box, max(1.0, self.recent_side(t, frames) / side))

    def usual_height(self, fps: float, seconds: float = 0.5) -> float:
        """Median height (px) of its boxes over its last ``seconds`` seen: its last box alone can
        be a drawing over two people (footage render steep25: a dancer's last box 225 px tall, over
        her and a walker, where she is 130-180; her own body, found again two frames later, was
        then "too small" to be her and started a new id)."""
        recent = range(self.last_t - max(1, round(seconds * fps)) + 1, self.last_t + 1)
        heights = [self.frames[f][0][3] - self.frames[f][0][1] for f in recent if f in self.frames]
        return max(float(np.median(heights or [self.box[3] - self.box[1]])), 1.0)

    def predict(self, t: int) -> np.ndarray:
        shift = self.velocity * (t - self.last_t)
        return self.box + np.concatenate([shift, shift])

    def warp(self, a: np.ndarray) -> None:
        self.box = warp_box(self.box, a)
        self.velocity = a[:, :2] @ self.velocity
        self.torso = a[:, :2] @ self.torso + a[:, 2]

    def accept(self, box: np.ndarray, t: int, look: np.ndarray | None, clear: bool, kp=None) -> None:
        torso = np.full(2, np.nan)
        if kp is not None and (kp[[5, 6, 11, 12], 2] > 0.5).all():
            torso = kp[[5, 6, 11, 12], :2].mean(0)
        if self.seen:
            if np.isfinite(torso).all() and np.isfinite(self.torso).all():
                shift = torso - self.torso
            else:
                shift = ((box[:2] + box[2:]) - (self.box[:2] + self.box[2:])) / 2
            self.velocity = 0.6 * self.velocity + 0.4 * shift / max(t - self.last_t, 1)
        self.box, self.last_t, self.torso = np.asarray(box, dtype=float), t, torso
        self.sides[t] = float(max(self.box[2] - self.box[0], self.box[3] - self.box[1]))
        self.seen += 1
        if look is not None and (clear or self.look is None):
            if self.look is None:
                self.look = look.copy()
            else:
                blend = 0.85 * self.look + 0.15 * look
                self.look = np.where(
                    np.isfinite(self.look), np.where(np.isfinite(look), blend, self.look), look
                )


class Tracker:
    """Who is who, apart from the image models (the pose model, the proposals): testable alone.

    Per frame: :meth:`begin` (camera motion, lost tracks put aside), :meth:`claim` (what each
    track's own pose model saw this frame), :meth:`add` (a body found elsewhere: re-identified
    or new). Boxes ``x0, y0, x1, y1`` pixels; looks from :func:`body_colours`.
    """

    def __init__(self, fps: float, config: PeopleConfig | None = None) -> None:
        self.cfg = config or PeopleConfig()
        self.fps = float(fps)
        self.tracks: list[_Track] = []  # live: seen within max_lost_seconds
        self.lost: list[_Track] = []
        self.ended: list[_Track] = []  # before a cut: never continued
        self._next_id = 1

    def begin(self, t: int, motion: np.ndarray | None = None) -> list[_Track]:
        """Move every track by the camera's (2, 3) ``motion`` since t-1; returns the live ones."""
        max_lost = max(1, round(self.cfg.max_lost_seconds * self.fps))
        for tr in self.tracks + self.lost:
            if motion is not None:
                tr.warp(motion)
        for tr in [x for x in self.tracks if t - x.last_t > max_lost]:
            self.tracks.remove(tr)
            self.lost.append(tr)
        return list(self.tracks)

    @staticmethod
    def _distance(tr: _Track, t: int, box: np.ndarray) -> float:
        """Body heights from where the track should be: its prediction, or where it was last seen
        (a person who stopped while unseen)."""
        return float(centre_distance(np.array([tr.predict(t), tr.box]), np.asarray(box)[None]).min())

    def _contested(self, tr: _Track, t: int, box: np.ndarray, look: np.ndarray | None) -> bool:
        """Whether another live track that looks more like this body than ``tr`` does has its
        predicted box over it (IoU over 0.3): only then does a body that looks unlike ``tr`` belong
        to someone else. Alone, a look that changes is the light, a turn or a small person's few
        pixels: on real courtyard footage (people 60-140 px tall, dark clothes) 17 % of the tracks'
        own observations looked unlike them, and each refusal ended a track and started a new id.
        Near someone who looks even less like it (a person hidden behind), it is still ``tr``'s."""
        mine = colour_distance(tr.look, look)
        others = [o.predict(t) for o in self.tracks if o is not tr and colour_distance(o.look, look) < mine]
        return bool(others) and float(iou(np.asarray(box)[None], np.array(others)).max()) > 0.3

    def _behind(self, tr: _Track, t: int, box: np.ndarray) -> bool:
        """Whether this body lies mostly (over 0.8) inside the predicted box of another track seen
        lately whose bottom is lower in the image by over 0.15 of its height. On a floor seen from
        above, the nearer person's feet are lower: this is someone mostly hidden behind that
        person, and what the pose model found in ``tr``'s region is mostly the front person (on
        the elevated25 footage render, a walker fully hidden behind a dancer: the dancer's upper
        body, with legs made up, whose colours that frame matched the walker's track better than
        the dancer's own). Someone beside or in front of a taller person is not refused."""
        recent = max(1, round(self.cfg.size_memory_seconds * self.fps))
        for o in self.tracks:
            if o is tr or t - o.last_t > recent:
                continue
            p = o.predict(t)
            if covered(np.asarray(box), p[None]) > 0.8 and p[3] - box[3] > 0.15 * (p[3] - p[1]):
                return True
        return False

    def _cost(self, tr: _Track, t: int, box: np.ndarray, look: np.ndarray | None) -> float:
        return self._distance(tr, t, box) + self.cfg.colour_weight * colour_distance(tr.look, look)

    def claim(
        self, t: int, seen: dict[int, tuple[np.ndarray, np.ndarray | None, np.ndarray | None]]
    ) -> list[_Track]:
        """Each live track's own observation this frame -> the tracks that keep theirs.

        Args:
            seen: track id -> (box (4,), look (54,) or None, (17, 3) keypoints or None) its pose
                model found in its region.

        A track never takes a body that lies beyond ``gate`` body heights of its prediction, nor one
        that looks unlike it (colour distance over ``max_colour``) where another track is near
        (:meth:`_contested`); when several tracks saw the same body (boxes overlapping more than 0.5
        IoU), the one it fits best (distance + colour) keeps it and the others coast - except that a
        young track (seen in fewer than ``min_frames`` frames) that took the body of an older one that
        lost it a moment ago (and looks like it) was that person all along: it is merged into the
        older.
        """
        cands = []
        for tr in self.tracks:
            if tr.id not in seen:
                continue
            box, look, kp = seen[tr.id]
            if (
                tr.seen >= 3
                and colour_distance(tr.look, look, unknown=0.0) > self.cfg.max_colour
                and self._contested(tr, t, box, look)
            ):
                continue
            if self._distance(tr, t, box) > self.cfg.gate or self._behind(tr, t, box):
                continue
            cands.append((self._cost(tr, t, box, look), tr, np.asarray(box, dtype=float), look, kp))
        cands.sort(key=lambda c: (c[0], c[1].id))
        kept: list[list] = []
        for _c, tr, box, look, kp in cands:
            overlap = [k for k in kept if iou(box[None], k[1][None])[0, 0] > 0.5]
            if not overlap:
                kept.append([tr, box, look, kp])
                continue
            k = overlap[0]
            young, old = (k[0], tr) if k[0].id > tr.id else (tr, k[0])
            if young.seen < self.cfg.min_frames and colour_distance(old.look, look) < self.cfg.reid_colour:
                self._merge(young, old)
                k[0] = old
        boxes = [k[1] for k in kept] + [tr.predict(t) for tr in self.tracks if tr not in [k[0] for k in kept]]
        for i, (tr, box, look, kp) in enumerate(kept):
            others = np.array([b for j, b in enumerate(boxes) if j != i]).reshape(-1, 4)
            tr.accept(box, t, look, clear=covered(box, others) < 0.1, kp=kp)
        return [k[0] for k in kept]

    def _merge(self, young: _Track, old: _Track) -> None:
        """``young`` was ``old`` all along: its frames go to ``old`` and it ends."""
        for f, v in young.frames.items():
            old.frames.setdefault(f, v)
        self.tracks.remove(young)

    def add(self, t: int, box: np.ndarray, look: np.ndarray | None, kp: np.ndarray | None = None) -> _Track:
        """A body found this frame outside the tracks: a lost track's if it looks like one that
        could have walked here (within ``reid_seconds``), or if one was lost at most
        ``resume_seconds`` ago where this body is, the same size, and does not look unlike it
        (``max_colour``); else a new id."""
        box = np.asarray(box, dtype=float)
        best, best_cost = None, np.inf
        h = max(box[3] - box[1], 1.0)
        for tr in [x for x in self.tracks if x.last_t < t] + self.lost:
            gap = t - tr.last_t
            if gap > self.cfg.reid_seconds * self.fps:
                continue
            reach = walker_reach(gap / self.fps)
            size = h / tr.usual_height(self.fps)
            dist = centre_distance(tr.predict(t)[None], box[None])[0, 0]
            if dist > reach or not 0.6 < size < 1.7:
                continue
            # Lost a moment ago right where it should be, the same size: the same person unless
            # the look says otherwise (on real footage the look of a small person in dark clothes
            # changes from frame to frame: 0.38-0.47 between a track's last body and the same
            # body one frame later, against the 0.35 that re-identifies).
            near = gap <= self.cfg.resume_seconds * self.fps and dist <= 0.35 and 0.75 < size < 1.33
            if not near and (tr.look is None or look is None):
                continue
            cost = colour_distance(tr.look, look)
            if cost < (self.cfg.max_colour if near else self.cfg.reid_colour) and cost < best_cost:
                best, best_cost = tr, cost
        if best is None:
            best = _Track(self._next_id, box, t)
            self._next_id += 1
            self.tracks.append(best)
        elif best in self.lost:
            self.lost.remove(best)
            self.tracks.append(best)
        others = np.array([x.box for x in self.tracks if x is not best]).reshape(-1, 4)
        best.accept(box, t, look, clear=covered(box, others) < 0.1, kp=kp)
        return best

    def cut(self, t: int) -> None:
        """Frame ``t`` started another shot (:mod:`anylift.video.cuts`; known a frame late): every
        track seen before it ends there, without what it took in frame ``t`` (no one is followed,
        resumed or re-identified across a cut); those that began in frame ``t`` go on."""
        began = [tr for tr in self.tracks if min(tr.frames, default=t) >= t]
        for tr in self.lost + self.tracks:
            if tr not in began:
                tr.frames.pop(t, None)
                self.ended.append(tr)
        self.tracks, self.lost = began, []

    def split(self, t: int) -> None:
        """A dissolve started another shot at frame ``t``, found some frames later
        (:class:`anylift.video.cuts.DissolveFinder`): a track seen before ``t`` ends there, as at a
        cut (:meth:`cut`), and what it saw from ``t`` on goes on as a new track (a new id, the
        same state); those that began at ``t`` or later go on."""
        kept: dict[str, list[_Track]] = {"tracks": [], "lost": []}
        for name in kept:
            for tr in getattr(self, name):
                after = {f: v for f, v in tr.frames.items() if f >= t}
                if len(after) < len(tr.frames):
                    self.ended.append(tr)
                    if not after:
                        continue
                    tr, before = copy.copy(tr), tr
                    tr.id, self._next_id = self._next_id, self._next_id + 1
                    tr.frames, tr.sides = after, {f: v for f, v in before.sides.items() if f >= t}
                    tr.seen = len(after)
                    before.frames = {f: v for f, v in before.frames.items() if f < t}
                kept[name].append(tr)
        self.tracks, self.lost = kept["tracks"], kept["lost"]

    def all_tracks(self) -> list[_Track]:
        return self.ended + self.lost + self.tracks


def _crop(frame: np.ndarray, box: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    """Square crop 1.5x the box's larger side, scaled to ``size``; returns (crop, x0, y0, scale).
    A crop over twice ``size`` is cut out first and shrunk by averaging: sampled (bilinear), it
    would skip pixels and alias (a 1080p frame's scan tile is 2.8 times the crop, a 4K one's 5.6)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(box[2] - box[0], box[3] - box[1]) * 1.5 + 8
    x0, y0 = cx - side / 2, cy - side / 2
    cut = size if side <= 2 * size else int(np.ceil(side))
    s = cut / side
    m = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]])
    crop = cv2.warpAffine(frame, m, (cut, cut), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    if cut != size:
        crop, s = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA), size / side
    return crop, x0, y0, s


def _on_box(kp: np.ndarray, box: np.ndarray, tolerance: float = 0.5) -> bool:
    """Whether confident keypoints (17, 3) are centred within ``tolerance`` box heights of ``box``."""
    ok = kp[:, 2] > 0.5
    if ok.sum() < 4:
        return False
    centre = 0.5 * (kp[ok, :2].min(0) + kp[ok, :2].max(0))
    h = max(box[3] - box[1], 1.0)
    return bool(np.linalg.norm(centre - 0.5 * (box[:2] + box[2:])) <= tolerance * h)


_ROI_GRAPH = """
input_stream: "image"
input_stream: "roi"
output_stream: "landmarks"
node {
  calculator: "PoseLandmarkByRoiCpu"
  input_side_packet: "MODEL_COMPLEXITY:model_complexity"
  input_side_packet: "ENABLE_SEGMENTATION:enable_segmentation"
  input_stream: "IMAGE:image"
  input_stream: "ROI:roi"
  output_stream: "LANDMARKS:landmarks"
}
"""


def _wrap(angle: float) -> float:
    """An angle (radians) in [-pi, pi)."""
    return float((angle + np.pi) % (2 * np.pi) - np.pi)


def torso_angle(kp: np.ndarray | None) -> float | None:
    """The hips-to-shoulders axis' angle from image-up (radians, clockwise: MediaPipe's region
    rotation), or None when the torso is not seen."""
    if kp is None or not (kp[[5, 6, 11, 12], 2] > 0.5).all():
        return None
    hip, shoulder = kp[[11, 12], :2].mean(0), kp[[5, 6], :2].mean(0)
    return _wrap(np.pi / 2 - np.arctan2(-(shoulder[1] - hip[1]), shoulder[0] - hip[0]))


def roi_rotation(kp: np.ndarray | None) -> float:
    """Rotation (radians, MediaPipe's convention) that makes a body's hips-to-shoulders axis point
    up in its region: 0 for an upright person, pi upside down; 0 when the torso is not seen."""
    angle = torso_angle(kp)
    return 0.0 if angle is None else angle


class RoiPose:
    """MediaPipe Pose's landmark model on a given region of the frame (its ``PoseLandmarkByRoiCpu``
    graph, shipped in the wheel): no person detector (which looks for faces and misses small,
    turned-away people), no state between calls, one instance for every track."""

    def __init__(self) -> None:
        from google.protobuf import text_format
        from mediapipe.framework import calculator_pb2
        from mediapipe.framework.formats import rect_pb2
        from mediapipe.python.solution_base import SolutionBase

        self._rect = rect_pb2.NormalizedRect
        graph = text_format.Parse(_ROI_GRAPH, calculator_pb2.CalculatorGraphConfig())
        with quiet_native_logs():
            self._graph = SolutionBase(
                graph_config=graph,
                side_inputs={"model_complexity": 1, "enable_segmentation": False},
                outputs=["landmarks"],
            )

    def __call__(self, rgb: np.ndarray, box: np.ndarray, rotation: float = 0.0) -> np.ndarray | None:
        """(H, W, 3) RGB frame, region ``box`` (4,) pixels -> (17, 3) COCO-17 pixels, or None when
        the model finds no person there. The region is the square 1.25x the box's longer side."""
        h, w = rgb.shape[:2]
        side = 1.25 * max(box[2] - box[0], box[3] - box[1], 8.0)
        roi = self._rect(x_center=(box[0] + box[2]) / 2 / w, y_center=(box[1] + box[3]) / 2 / h,
                         width=side / w, height=side / h, rotation=rotation)  # fmt: skip
        # Always quiet: each of the graph's worker threads starts its own interpreter, which says so
        # on descriptor 2 at its first run, whenever that comes (quieted around them all in RoiPoses).
        with contextlib.nullcontext() if getattr(_POOLED, "on", False) else quiet_native_logs():
            res = self._graph.process({"image": rgb, "roi": roi})
        if res.landmarks is None:
            return None
        lm = np.array([(p.x, p.y, p.visibility) for p in res.landmarks.landmark])
        return mediapipe_to_coco17(lm, (w, h))

    def close(self) -> None:
        self._graph.close()


_POOLED = threading.local()  # .on: this thread runs a RoiPoses' model (the pool quiets descriptor 2)
MAX_POSE_THREADS = 4
""":class:`RoiPoses` threads by default (``PeopleConfig.pose_threads`` 0): at most this many, and no
more than the machine's cores."""


class RoiPoses:
    """``workers`` :class:`RoiPose` graphs, to draw every track's region of a frame (and the new
    people's proposals) at once: each graph's model runs on one core and lets go of Python's lock.
    The answers are one graph's (it keeps nothing between calls), in the order asked. A rowing
    crew (PoseTrack 007684, 60 frames, 16 tracks) on two cores: detection 58-60 -> 33-37 s (its
    pose step 41 -> 21 s), the same keypoints; one person alone (footage render single25) as fast
    as before. ``make``: another model with no state between calls (the scan's MediaPipe Pose)."""

    def __init__(self, workers: int, make: Callable[[], Any] | None = None) -> None:
        import queue
        from concurrent.futures import ThreadPoolExecutor

        self.models = [(make or RoiPose)() for _ in range(max(1, workers))]
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        for model in self.models:
            self._free.put(model)
        self._pool = ThreadPoolExecutor(len(self.models)) if len(self.models) > 1 else None

    def map(self, fn, items) -> list:
        """``[fn(model, item) for item in items]``, each with a free model, in threads."""
        items = list(items)
        if self._pool is None or len(items) < 2:
            return [fn(self.models[0], item) for item in items]

        def run(item):
            model = self._free.get()
            _POOLED.on = True
            try:
                return fn(model, item)
            finally:
                _POOLED.on = False
                self._free.put(model)

        with quiet_native_logs():  # descriptor 2 is the process's: quieted once, around all threads
            return list(self._pool.map(run, items))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        for model in self.models:
            model.close()


def _pose_on(pose, frame: np.ndarray, box: np.ndarray, size: int) -> np.ndarray | None:
    """MediaPipe Pose on the upscaled crop around ``box`` -> (17, 3) COCO-17 frame pixels or None."""
    crop, x0, y0, s = _crop(frame, box, size)
    res = pose.process(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
    if res.pose_landmarks is None:
        return None
    lm = np.array([(p.x, p.y, p.visibility) for p in res.pose_landmarks.landmark])
    kp = mediapipe_to_coco17(lm, (size, size))
    kp[:, 0] = kp[:, 0] / s + x0
    kp[:, 1] = kp[:, 1] / s + y0
    return kp


def _scan_tile(pose, tile, frame: np.ndarray, size: int) -> np.ndarray | None:
    """:func:`_pose_on` on the scan's ``tile`` (x0, y0, side) of ``frame``."""
    x0, y0, side = tile
    c, half = np.array([x0, y0, x0, y0]) + side / 2, (side - 8) / 3  # _crop: 1.5x + 8
    return _pose_on(pose, frame, c + np.array([-half, -half, half, half]), size)


def _pose_at(roi_pose, image: np.ndarray, scale: np.ndarray, box: np.ndarray, rotation: float):
    """``roi_pose`` on ``image``, a copy of the frame scaled by (x, y) ``scale``: ``box`` and
    the keypoints in the frame's pixels."""
    kp = roi_pose(image, np.asarray(box, dtype=float) * np.tile(scale, 2), rotation)
    if kp is None or (scale == 1.0).all():
        return kp
    kp = kp.copy()
    kp[:, :2] /= scale
    return kp


LOOK_BACK_AGAIN = 2
"""Frames after a track was found (or seen again) in which it looks back again from there, with its
newest box: the drawing it was found by can be part of the body (footage render steep25: a dancer
found as the upper 66 px of her 99, a region the landmark model saw nothing in the frame before)."""


def look_back(tracker: Tracker, t: int, recent, roi_pose, scale=(1.0, 1.0)) -> None:
    """Fill the frames before ``t`` of every track that is seen in ``t`` and was found, or seen
    again, at most :data:`LOOK_BACK_AGAIN` frames before, back from there (module doc, *looking
    back*); ``recent``: (t', RGB frame) of the frames kept, oldest first, each the frame scaled by
    (x, y) ``scale`` (:func:`shrunk`)."""
    scale = np.asarray(scale, dtype=float)
    for tr in tracker.tracks:
        if t not in tr.frames:
            continue
        start = t  # of the frames it was seen in without a break up to t (only as far as it matters)
        while start - 1 in tr.frames and t - start <= LOOK_BACK_AGAIN:
            start -= 1
        if t - start > LOOK_BACK_AGAIN:
            continue
        before = [f for f in tr.frames if f < start]
        last = max(before) if before else -1
        box, kp = tr.frames[t]
        for t_back, rgb in reversed(recent):
            if t_back >= start:
                continue
            if t_back <= last:
                break
            for region in (box, _scaled(box, 1.6)):
                found = _pose_at(roi_pose, rgb, scale, region, roi_rotation(kp))
                found_box = None if found is None else keypoint_box(found)
                if found_box is not None and _on_box(found, region):
                    break
            else:
                break
            others = [o.frames[t_back][0] for o in tracker.all_tracks() if o is not tr and t_back in o.frames]
            if others and iou(found_box[None], np.array(others)).max() > 0.3:
                break  # someone else's body
            box, kp = found_box, found
            tr.frames[t_back] = (box.copy(), kp)


def scan_tiles(image_size: tuple[int, int]) -> list[tuple[int, int, int]]:
    """Overlapping square tiles ``(x0, y0, side)`` covering a (W, H) frame: side two thirds of
    the shorter edge (a person 80 px tall at 360p fills a third of one), half-tile steps."""
    w, h = image_size
    side = max(int(2 * min(w, h) / 3), 32)
    xs = np.linspace(0, max(w - side, 0), int(np.ceil(max(w - side, 0) / (side / 2))) + 1)
    ys = np.linspace(0, max(h - side, 0), int(np.ceil(max(h - side, 0) / (side / 2))) + 1)
    return [(int(x), int(y), side) for y in ys for x in xs]


def _scaled(box: np.ndarray, factor: float) -> np.ndarray:
    """(4,) box scaled about its centre."""
    c, half = (box[:2] + box[2:]) / 2, (box[2:] - box[:2]) / 2 * factor
    return np.concatenate([c - half, c + half])


def _inside(box: np.ndarray, image_size: tuple[int, int]) -> float:
    """Share of ``box`` inside the (W, H) image."""
    return covered(box, np.array([[0.0, 0.0, image_size[0], image_size[1]]]))


def _carried(box: np.ndarray, velocity: np.ndarray, motions: dict, start: int, end: int) -> np.ndarray:
    """``box`` at frame ``start`` moved on at ``velocity`` (px/frame) and with the camera to ``end``."""
    box = box.copy()
    for f in range(start + 1, end + 1):
        a = motions.get(f)
        if a is not None:
            box, velocity = warp_box(box, a), a[:, :2] @ velocity
        box = box + np.concatenate([velocity, velocity])
    return box


STITCH_OVERLAP_SECONDS = 0.3
"""How long a track that ends may overlap the one that continues it (:func:`stitch_tracks`): 0.2 s
left footage render drone30's small roller, taken up by a new track 9 frames (0.3 s at 30 fps)
before its old one lost it, as two ids (5 identity switches in 4 s, 2 with 0.3 s and 0 with
:func:`fill_gaps` too; 0.4 and 0.5 s the same, and no other render changed)."""
STITCH_MIN_SECONDS = 0.5
"""Tracks seen for less take no part in :func:`stitch_tracks`'s first two passes (neither joined
nor in the way): the fragments a detector leaves around a dancer's spin or leap made every join
near them ambiguous (a 70-s solo dance on a static camera came out as four tracks, one of them
28 s)."""
STITCH_LOOK = 0.35
"""A join next to someone else (:func:`stitch_once`) is made where the new track looks like the one
that ended (colour distance under this) and unlike everyone near it by this much more: crowd25's
jumper, lost behind the kicker for a frame, looks 0.07 from her new track, the kicker 0.92."""
STITCH_STEADY_SECONDS = 0.5
"""A track's size where it ends or starts is its median over this long (its last box may hold
part of a body: a leg, a bent torso)."""


def _inside_share(a: np.ndarray, b: np.ndarray) -> float:
    """The share of the smaller of boxes ``a`` and ``b`` that lies inside the larger."""
    small, large = sorted((a, b), key=lambda x: (x[2] - x[0]) * (x[3] - x[1]))
    return covered(small, large[None])


def _same_body(a, b) -> bool:
    """Whether tracks ``a`` and ``b`` hold one body in the frames both saw: the smaller box lies
    mostly (over half, on average) inside the larger one."""
    shared = sorted(a.frames.keys() & b.frames.keys())
    if not shared:
        return False
    return float(np.mean([_inside_share(a.frames[f][0], b.frames[f][0]) for f in shared])) > 0.5


def stitch_tracks(tracks: list, motions: dict, fps: float, seconds: float, cuts=()) -> list:
    """:func:`stitch_once` among the tracks seen for :data:`STITCH_MIN_SECONDS` or more, up to
    ``seconds``, then up to 1.5 times that for what is left: the nearer in time first, so that a
    longer reach never makes a join it could make ambiguous (OpenCV's courtyard video: 9 breaks
    that look like one person resumed either way, 12 in one pass of 1.5 s; a dancer lost for
    1.07 s mid-leap is found again); then every track, up to ``seconds`` (a getup's last 8 frames,
    standing, continue the track that held the body lying down)."""
    lasting = STITCH_MIN_SECONDS
    tracks = stitch_once(
        stitch_once(tracks, motions, fps, seconds, lasting, cuts), motions, fps, 1.5 * seconds, lasting, cuts
    )
    return stitch_once(tracks, motions, fps, seconds, 0.0, cuts)  # then the brief ones (a getup's end)


def stitch_once(
    tracks: list, motions: dict, fps: float, seconds: float, min_seconds: float = 0.0, cuts=()
) -> list:
    """Join a track that ends to one that starts at most ``seconds`` later where the first one's
    person would be by then (its last velocity, or standing where it was, with the camera's
    motion: within 0.5 body heights plus 0.5 a second of gap), of the same size (within 25 %,
    :data:`STITCH_STEADY_SECONDS`), when that pairing is the only one for
    both and no other track is there at the time (a crossing: whose is the new body?). The new
    track may also start up to :data:`STITCH_OVERLAP_SECONDS` before the old one ends, on the same
    body (:func:`_same_body`): a proposal that found part of a tumbling or bending body while its
    track was losing it (on the accuracy benchmark's renders a roll's, a dance's and a getup's
    default person lost their first second so); the new track's frames win there, and next to
    someone else it need only look more like the old track than like them (by :data:`STITCH_LOOK`):
    judge30's backflip, her new track 0.39 from her old one, a roller beside her 0.96. The tracker's
    own re-identification needs the look to agree, and a small person's look changes from frame to
    frame on real footage; this offline pass needs only the geometry to be unambiguous. No join
    spans one of the ``cuts`` (frames, :mod:`anylift.video.cuts`). A track whose ghost tail lay
    on the new one (:func:`trim_ghost_tails`) held the same body: neither the place nor the size
    is asked of it. Returns the tracks, those joined into an earlier one removed."""
    span = {id(tr): (min(tr.frames), max(tr.frames)) for tr in tracks}
    overlap = max(1, round(STITCH_OVERLAP_SECONDS * fps))
    steady = STITCH_STEADY_SECONDS * fps

    def height(box):
        return max(box[3] - box[1], 1.0)

    def steady_box(tr, t, longer=1.0):
        """The box at frame ``t`` (the track's first or last), at the track's median height over
        the frames within :data:`STITCH_STEADY_SECONDS` of it, or over ``longer`` times that where
        that is taller (a track that ends seen only in part: crowd25's jumper, her upper body)."""
        box = tr.frames[t][0]
        h = max(float(np.median([height(tr.frames[f][0]) for f in tr.frames if abs(f - t) < w]))
                for w in (steady, longer * steady))  # fmt: skip
        c, half = (box[:2] + box[2:]) / 2, np.array([(box[2] - box[0]) * h / height(box), h]) / 2
        return np.concatenate([c - half, c + half])

    def velocity(tr, end):
        recent = [f for f in sorted(tr.frames) if f > end - fps * 0.5]
        if len(recent) < 2:
            return np.zeros(2)
        a = _carried(tr.frames[recent[0]][0], np.zeros(2), motions, recent[0], recent[-1])  # camera out
        b = tr.frames[recent[-1]][0]
        return ((b[:2] + b[2:]) - (a[:2] + a[2:])) / 2 / (recent[-1] - recent[0])

    lasting = [tr for tr in tracks if len(tr.frames) >= min_seconds * fps]
    candidates = []
    for a in lasting:
        a_end = span[id(a)][1]
        box_a, speed = steady_box(a, a_end, 4.0), velocity(a, a_end)
        for b in lasting:
            b_start = span[id(b)][0]
            gap = b_start - a_end
            later = span[id(b)][1] > a_end and b_start > span[id(a)][0]
            if b is a or not later or not -overlap < gap <= seconds * fps:
                continue
            if any(a_end < c <= b_start for c in cuts):
                continue
            box_b = steady_box(b, b_start)
            reach = 0.5 + 0.5 * max(gap, 0) / fps  # body heights
            if gap <= 0:
                if not _same_body(a, b):
                    continue
            elif a.ghost_on is not b:  # a ghost tail on b: one body (its size may be a part's)
                guesses = [_carried(box_a, v, motions, a_end, b_start) for v in (speed, np.zeros(2))]
                if min(centre_distance(g[None], box_b[None])[0, 0] for g in guesses) > reach:
                    continue
                if not 0.8 < height(box_b) / height(box_a) < 1.25:
                    continue
            near = [
                c for c in lasting if c is not a and c is not b and b_start in c.frames
                and centre_distance(c.frames[b_start][0][None], box_b[None])[0, 0] < reach
            ]  # fmt: skip
            mine = colour_distance(a.look, b.look)
            crowded = any(  # on the same body a tumbling person's look may change (not its margin)
                (mine >= STITCH_LOOK and gap > 0) or colour_distance(c.look, b.look) < mine + STITCH_LOOK
                for c in near
            )
            candidates.append((a, b, crowded))
    joined: dict[int, object] = {}  # id(b) -> a
    for a, b, crowded in candidates:
        alone = sum(x is a for x, _, _ in candidates) == 1 and sum(y is b for _, y, _ in candidates) == 1
        if alone and not crowded:
            joined[id(b)] = a
    return _join(tracks, joined)


def _join(tracks: list, joined: dict) -> list:
    """``tracks`` with each ``b`` whose ``id`` ``joined`` maps to a track ``a`` joined into ``a``."""
    kept = []
    for tr in tracks:  # in order of their first frame: a chain A -> B -> C ends up in A
        a = joined.get(id(tr))
        while a is not None and id(a) in joined:
            a = joined[id(a)]
        if a is None:
            kept.append(tr)
        else:
            a.frames.update(tr.frames)
    return kept


HIDDEN_LOOK = 0.3
"""Colour distance under which :func:`rejoin_hidden` takes two tracks for one person. judge30's
roll, hidden 2 s behind the backflip: its two tracks' looks 0.20 apart in the render, 0.26 in
the same frames re-encoded once more (the benchmark's edit ``follow30+judge30``: 0.25 left her in
two tracks, purity 55 %, 3 switches; 94 % and 2 at 0.3). On OpenCV's courtyard (its 480x360
re-encoding) 0.3 joins one more pair, rightly: a woman in red who steps out at the frame's left
edge and walks back in 2.4 s later (looked at). On 12 other real clips the pairs within reach and
of a size were 0.24-0.44 apart, each with a rival about as like them (within
:data:`STITCH_LOOK`): none joined at 0.25 or at 0.3; the 22 renders' tracks are as at 0.25."""


def rejoin_hidden(tracks: list, motions: dict, fps: float, seconds: float, cuts=()) -> list:
    """Join a track that ends to one that starts up to ``seconds`` later where their looks say they
    are one person: someone hidden behind another for longer than :func:`stitch_tracks` reaches
    (footage render judge30: a roll behind a backflip for 2 s, its two tracks' looks 0.20 apart).
    The looks (each blended over its track's life) must be under :data:`HIDDEN_LOOK` apart, and every
    other track that ends or starts in that time, anywhere, :data:`STITCH_LOOK` further from the
    one it could continue or be continued by; the new track starts within a walker's reach of where
    the old one was last seen (with the camera's motion: :func:`walker_reach`, as the tracker
    re-identifies), at half to twice its size. Both tracks seen for
    :data:`STITCH_MIN_SECONDS` (a look needs frames; one that has none can be anyone's rival);
    no join spans one of the ``cuts``."""
    span = {id(tr): (min(tr.frames), max(tr.frames)) for tr in tracks}
    lasting = [tr for tr in tracks if len(tr.frames) >= STITCH_MIN_SECONDS * fps]
    height = {id(tr): _median_height(tr) for tr in lasting}
    pairs, fits = [], []  # (a, b, look): every pairing in time; those that fit in place and size
    for a in lasting:
        a_end = span[id(a)][1]
        for b in lasting:
            b_start = span[id(b)][0]
            gap = b_start - a_end
            if b is a or not 0 < gap <= seconds * fps or any(a_end < c <= b_start for c in cuts):
                continue
            look = colour_distance(a.look, b.look)
            pairs.append((a, b, look))
            h = max(height[id(a)], height[id(b)], 1.0)
            near = _within_reach(a.frames[a_end][0], a_end, b.frames[b_start][0], b_start, h, motions, fps)
            sized = 0.5 < height[id(b)] / max(height[id(a)], 1.0) < 2.0
            if near and sized and a.look is not None and b.look is not None:
                fits.append((a, b, look))
    joined = {}
    for a, b, look in fits:
        rivals = [e for x, y, e in pairs if (x is a) != (y is b)]
        if look < HIDDEN_LOOK and all(e >= look + STITCH_LOOK for e in rivals):
            joined[id(b)] = a
    return _join(tracks, joined)


GHOST_ON = 0.5
"""Share of the smaller box inside the larger at which a track's drawing lies on another track's
body (:func:`trim_ghost_tails`)."""
GHOST_NESTED = 0.8
"""Median share, over a ghost tail's frames, of the smaller box inside the larger: the one drawing
lies in the other (:func:`trim_ghost_tails`)."""
GHOST_PART = 0.35
"""A ghost tail drawn in most frames draws a part of the body: at most this share of the new
track's height (median over the tail; :func:`trim_ghost_tails`)."""
GHOST_SHRUNK = 0.6
"""... and at most this share of the old track's own height before the tail (median)."""


def trim_ghost_tails(tracks: list) -> list:
    """Drop a track's ghost tail: its last frames, where a track that started later holds the
    same body, the old track's drawing lies on it in each (:data:`GHOST_ON`), inside it on the
    median (:data:`GHOST_NESTED`), and the old track drew it in at most half of those frames, or
    drew a part of it: at most :data:`GHOST_PART` of the new track's height and
    :data:`GHOST_SHRUNK` of its own before (medians).

    A track that loses a tumbling or lying body while a new track takes it up can still draw a
    part of that body now and then, from its region where it last saw it: a backflip's legs, an
    arm. Those frames keep it going alongside the new track, so that the two never become one
    (:func:`stitch_tracks` joins a track that ends to one that starts). Footage render low30: a
    backflip's old track drew it 11 times in the 38 frames after a new track took it up, and the
    two alternated on it (5 identity switches; none without the tail). A real judo throw
    (PoseTrack clip 023962): the thrower's track, 8 times in 36 frames on the mat; his two tracks
    stay apart there all the same (lying, his box is half as tall again, and he looks 0.52 from
    his standing self). A track that draws the body in most frames is left alone: two people
    in contact; unless what it draws there is a part of the body, a third of the new track's
    height or less, where it had drawn the whole body before. Footage render low30 on an AMD
    EPYC: the backflip's old track, after a new one took her up as she landed bent over, drew her
    legs in 12 of the 15 frames left (its box 0.24 of the new one's height, 0.54 of its own
    before); a child spotted by a coach keeps her own size.

    Where the tail is all the old track drew from the new one's birth on, the old track is
    marked as the new one's (``ghost_on``) for :func:`stitch_once`: a track born on part of a
    body (footage render elevated25: a puncher's legs, 45 px of his 76) while a new track took
    up the whole body five frames later, and went on drawing the legs inside it, is one person
    with it. Returns the tracks that still hold a frame."""
    for a in tracks:
        seen = sorted(a.frames)
        tail: list = []
        for b in tracks:
            if b is a or min(b.frames) <= seen[0]:
                continue
            on, share = [], []
            for f in reversed(seen):
                inside = _inside_share(a.frames[f][0], b.frames[f][0]) if f in b.frames else 0.0
                if inside < GHOST_ON:
                    break
                on.append(f)
                share.append(inside)
            ghost = on and len(on) < len(seen) and np.median(share) >= GHOST_NESTED
            if not ghost or len(on) <= len(tail):
                continue
            if len(on) > 0.5 * (seen[-1] - on[-1] + 1):  # drawn in most frames: a part of it?
                small = _median_height(a, on)
                before = _median_height(a, [f for f in seen if f < on[-1]])
                if small > GHOST_PART * _median_height(b, on) or small > GHOST_SHRUNK * before:
                    continue
            tail, owner = on, b
        for f in tail:
            del a.frames[f]
        if tail and max(a.frames) < min(owner.frames):  # from b's birth on, a drew only b
            a.ghost_on = owner
    return [tr for tr in tracks if tr.frames]


STRAY_GAP_SECONDS = 0.2
"""A track's stray tail (:func:`trim_stray_tails`) comes after it was unseen for at least this."""
STRAY_SECONDS = 0.5
"""... and spans at most this."""
STRAY_SIZE = 0.4
"""... and its boxes are under this share of the track's height before the gap (median each), or
it lies beyond a walker's reach of where the track was last seen before the gap."""


def trim_stray_tails(tracks: list, fps: float, motions: dict) -> list:
    """Drop a track's stray tail: its frames after its last gap of :data:`STRAY_GAP_SECONDS` or
    more, when they span at most :data:`STRAY_SECONDS` and their boxes are under
    :data:`STRAY_SIZE` of the track's height before the gap, or the tail starts beyond a walker's
    reach (:func:`_within_reach`, the camera's motion taken out) of where the track was last seen.

    A track whose person another track took up goes on looking where it was and can draw
    something there on no one: footage render judge30, the backflip's first track, lost at frame
    36 as a second track took her up, drew a 19-34 px "body" on the floor at the image's bottom
    edge from frame 47 (she is 110 px tall), which kept the two tracks from being joined (the
    backflip 71.8 % pure); on real clips (five of the dumped, 1-6 frames each) such tails were
    4-45 px boxes of tracks of people 18-226 px tall. A person seen again as small as that after
    a gap is rare, and a tail is at most half a second. Or it follows where its lost person would
    have gone and draws something there: steep50 (on the AMD EPYC VM of the fifty-fourth session),
    the dancer's first track, lost at frame 57 as a new track took her up, drew one 60 px box at
    the image's left edge 43 frames later, 4.7 of her heights from where she was (a walker's
    reach is 2.0), so the two tracks could not be joined (purity 55.4 %). Returns the tracks that
    still hold a frame."""
    for tr in tracks:
        seen = sorted(tr.frames)
        breaks = [i for i in range(1, len(seen)) if seen[i] - seen[i - 1] - 1 >= STRAY_GAP_SECONDS * fps]
        if not breaks:
            continue
        head, tail = seen[: breaks[-1]], seen[breaks[-1] :]
        if tail[-1] - tail[0] + 1 > STRAY_SECONDS * fps:
            continue
        height = {f: tr.frames[f][0][3] - tr.frames[f][0][1] for f in seen}
        size = float(np.median([height[f] for f in head]))
        small = np.median([height[f] for f in tail]) < STRAY_SIZE * size
        box, later = tr.frames[head[-1]][0], tr.frames[tail[0]][0]
        if small or not _within_reach(box, head[-1], later, tail[0], max(size, 1.0), motions, fps):
            for f in tail:
                del tr.frames[f]
    return [tr for tr in tracks if tr.frames]


def _in_gaps(seen: list, inner: list, overlap: int) -> list | None:
    """A track's frames (``inner``, sorted) as runs in the gaps of another's (``seen``, sorted):
    [(the frame a gap starts after, the frame it ends at, the run's frames)], the last run going
    on up to ``overlap`` frames past its gap's end; None where a frame lies elsewhere."""
    runs: list[tuple[int, int, list]] = []
    for t in inner:
        i = bisect.bisect_left(seen, t)
        if 0 < i < len(seen) and seen[i] != t and not (runs and runs[-1][2][-1] >= runs[-1][1]):
            if runs and runs[-1][0] == seen[i - 1]:
                runs[-1][2].append(t)
            else:
                runs.append((seen[i - 1], seen[i], [t]))
        elif runs and t < runs[-1][1] + overlap:
            runs[-1][2].append(t)
        else:
            return None
    return runs or None


def fill_gaps(tracks: list, motions: dict, fps: float, cuts=()) -> list:
    """A track that lies within another's gaps and continues it at both ends of each becomes part
    of it. In each gap it holds, it starts within a walker's reach (:func:`walker_reach`, the
    camera's motion taken out) of where the other was last seen before the gap, ends within reach
    of where the other is seen again (or, in its last gap, up to :data:`STITCH_OVERLAP_SECONDS`
    past that, on the same body), is half to twice the other's size (overall, or beside that gap),
    and nobody else is within that reach when it starts there; it is the only such track for
    each of those gaps, and the other the only track it fills. No gap filled spans one of the
    ``cuts``.

    Stitching joins a track that ends to one that starts; a person lost for a second and found
    by a new track, whose old track then finds them again, is two tracks taking turns. Footage
    render drone30: a small roller's track lost it for 27 frames, a 7-frame track held it in
    between: 2 identity switches -> 0 (the only gap filled over the 20 renders; on six real
    clips one, where both tracks were drawings of parts of two judoka on the mat). Two tracks can
    also take turns more than once, never both on the body in one frame (drone30 on an AMD EPYC:
    the curled roller drawn by a second track in frame 90, then in 99-102, 15-36 px tall where
    her own track drew her 19-39 px just before and after: 3 identity switches, the scene's
    only ones) - or, where the shorter one also drew the other's body in a frame the other has
    (the smaller box mostly inside the larger: one body drawn twice), those frames are the
    other's own (drone30 on another AMD EPYC VM: a 5-frame track on the roller, in one of her
    track's gaps and over her in four of its frames: 4 identity switches). Returns the tracks,
    those put into gaps removed."""
    overlap = max(1, round(STITCH_OVERLAP_SECONDS * fps))

    height = {id(tr): max(_median_height(tr), 1.0) for tr in tracks}

    def fills(a, f, g0: int, g1: int, run: list) -> bool:
        if any(g0 < c <= run[-1] for c in cuts):
            return False
        beside = _median_height(a, (g0, g1))  # its size just before and after the gap
        if not (0.5 < height[id(f)] / height[id(a)] < 2.0 or 0.5 < _median_height(f, run) / beside < 2.0):
            return False
        size = max(height[id(a)], height[id(f)])
        first, last = f.frames[run[0]][0], f.frames[run[-1]][0]
        if not _within_reach(a.frames[g0][0], g0, first, run[0], size, motions, fps):
            return False
        if run[-1] < g1 and not _within_reach(last, run[-1], a.frames[g1][0], g1, size, motions, fps):
            return False
        reach = walker_reach((run[0] - g0) / fps)
        return not any(
            c is not a and c is not f and run[0] in c.frames
            and _centres_apart(c.frames[run[0]][0], first, size) < reach
            for c in tracks
        )  # fmt: skip

    fits = []  # (track, the frames its gaps start after, the track in them)
    for a in tracks:
        seen = sorted(a.frames)
        for f in tracks:
            if f is a:
                continue
            both = a.frames.keys() & f.frames.keys()
            # Frames both drew one body in (the smaller box mostly inside the larger): the other's.
            shorter = len(f.frames) < len(a.frames)
            twice = {t for t in both if shorter and _inside_share(a.frames[t][0], f.frames[t][0]) > 0.5}
            runs = _in_gaps(seen, sorted(f.frames.keys() - twice), overlap)
            both -= twice  # else taking turns more than once: never both
            if runs is None or (both and (len(runs) > 1 or not _same_body(a, f))):
                continue
            if all(fills(a, f, *run) for run in runs):
                fits.append((a, [g0 for g0, _, _ in runs], f))
    for a, gaps, f in fits:
        alone = sum(x is f for _, _, x in fits) == 1 and all(
            sum(x is a and g in y for x, y, _ in fits) == 1 for g in gaps
        )
        if alone and a.frames:  # (a track emptied into another fills nothing)
            for t, v in f.frames.items():
                a.frames.setdefault(t, v)
            f.frames = {}
    return [tr for tr in tracks if tr.frames]


def mend_blips(tracks: list) -> list:
    """A track's lone frame (seen neither the frame before nor after), or the first or last frame of
    one of its runs, on the body another track lost for that frame alone (seen the frames before and
    after, its box between them over half the track's box, IoU, and nearer it than the track's own
    box in the next frame of its run is) goes to that track. A track lost long ago, whose region was
    still where its person had been, can draw for one frame the body beside it whose own track just
    missed it (footage render steep50: a crawler's body taken by a dancer's track unseen for 18
    frames, the two drawings' costs 0.38 and 0.39): an identity switch there and back. So can the
    track of someone going behind another, in its last frame before it is lost (close24 on an AMD
    EPYC: the jumper's track took the boxer in front of her, IoU 0.78 with the boxer's track around
    that frame and 0.6 with its own box the frame before). Returns the tracks that still hold a
    frame."""
    for tr in tracks:
        for t in sorted(tr.frames):
            own = [tr.frames[f][0] for f in (t - 1, t + 1) if f in tr.frames]
            if len(own) == 2:
                continue
            box = tr.frames[t][0]
            best, best_iou = None, max([0.5, *(float(iou(box[None], b[None])[0, 0]) for b in own)])
            for o in tracks:
                if o is tr or t in o.frames or t - 1 not in o.frames or t + 1 not in o.frames:
                    continue
                between = (o.frames[t - 1][0] + o.frames[t + 1][0]) / 2
                overlap = float(iou(box[None], between[None])[0, 0])
                if overlap > best_iou:
                    best, best_iou = o, overlap
            if best is not None:
                best.frames[t] = tr.frames.pop(t)
    return [tr for tr in tracks if tr.frames]


LONE_GAP = 2
"""A track's lone frame with none of its other frames this many frames or nearer is dropped."""


def drop_lone_frames(tracks: list) -> list:
    """Drop a track's lone frames (:data:`LONE_GAP`) that :func:`mend_blips` gave to no one.

    One drawing, its track unseen for frames before and after it, joins the track on that frame's
    word alone, and when its person is hidden it is most often of whoever hides them. Footage
    render tele25: the track of a jumper hidden behind a walker drew the walker once 6 frames after
    it lost her, and again 6 frames later (purity 98.7 %, 2 identity switches, none without those
    two frames); crowd25: a walker's track, 21 frames after it lost him behind a spinner, drew the
    spinner once, 2 frames before it found him again. On the 22 footage renders (an AMD EPYC VM,
    the fifty-sixth session) such frames were 13 of 6,470 drawings; in 4 of the 13 the track's
    person was under half in view. Returns the tracks that still hold a frame."""
    for tr in tracks:
        seen = sorted(tr.frames)
        for before, t, after in zip([-np.inf, *seen[:-1]], seen, [*seen[1:], np.inf], strict=True):
            if len(seen) > 1 and t - before > LONE_GAP and after - t > LONE_GAP:
                del tr.frames[t]
    return [tr for tr in tracks if tr.frames]


def set_aside_riders(found: list, motions: dict) -> tuple[list, list]:
    """``found`` without the tracks that ride on another track's body (:func:`ghosts.rider
    <anylift.video.ghosts.rider>`: a drawing on a board or a bag a person carries), and those."""
    from anylift.video import ghosts

    boxes = [{t: b for t, (b, _) in tr.frames.items()} for tr in found]
    tall = [_median_height(tr) for tr in found]  # a crowd's people, of a size, are not compared
    carriers = [[j for j in range(len(found)) if j != i and tall[i] <= 2 * ghosts.RIDER_HEIGHT * tall[j]]
                for i in range(len(found))]  # fmt: skip
    riding = [any(ghosts.rider(boxes[i], boxes[j], motions) for j in carriers[i]) for i in range(len(found))]
    return [tr for tr, r in zip(found, riding) if not r], [tr for tr, r in zip(found, riding) if r]


def _set_aside_still(found: list, motions: dict, video, fps, stride: int) -> tuple[list, list]:
    """``found`` without the tracks of still things that look like no one, and those
    (:mod:`anylift.video.ghosts`); all kept where all would go. Each still track's frames are
    read again (:data:`~anylift.video.ghosts.SAMPLES` of them)."""
    from mediapipe.python.solutions import selfie_segmentation

    from anylift.video import ghosts

    still = [tr for tr in found if ghosts.still({t: b for t, (b, _) in tr.frames.items()}, motions)]
    if not still:
        return found, []
    wanted: dict[int, list] = {}
    for tr in still:
        seen = sorted(tr.frames)
        for i in np.unique(np.linspace(0, len(seen) - 1, ghosts.SAMPLES).round().astype(int)):
            wanted.setdefault(seen[i] * stride, []).append((tr, seen[i]))
    samples: dict[int, list] = {id(tr): [] for tr in still}
    with quiet_native_logs():
        seg = selfie_segmentation.SelfieSegmentation(model_selection=0)  # the square model: a crop
    roi_pose = RoiPose()
    try:
        for index, frame in enumerate(open_video(video, fps=fps)):
            if index > max(wanted):
                break
            if index not in wanted:
                continue
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            for tr, t in wanted[index]:
                box, kp = tr.frames[t]
                crop, x0, y0, s = _crop(rgb, box, 256)
                kp_crop = kp.copy()
                kp_crop[:, :2] = (kp[:, :2] - (x0, y0)) * s
                with quiet_native_logs():  # its graph announces itself at its first run
                    mask = seg.process(crop).segmentation_mask
                samples[id(tr)].append((ghosts.support(mask, kp_crop), ghosts.shift(roi_pose, rgb, box)))
    finally:
        seg.close()
        roi_pose.close()
    gone = [tr for tr in still if ghosts.no_one(samples[id(tr)])]
    if len(gone) == len(found):
        return found, []
    return [tr for tr in found if tr not in gone], gone


def _follow(model: RoiPose, tr: _Track, *, t: int, rgb, frame, size, memory: int, carry: float,
            least_turn: float):  # fmt: skip
    """(box, look, keypoints) of track ``tr``'s body in frame ``t`` (``rgb``, and ``frame`` for the
    look; (W, H) ``size``), drawn by ``model`` in its regions, or None (:func:`detect_people`, 2)."""
    pred = tr.predict(t)
    if _inside(pred, size) < 0.3:
        return None
    # The predicted region (at least the size the body had lately); then a wider one (a turn, a
    # jump, a wrong guess of the motion); and for a track unseen for a while, where it was last
    # seen (it stopped).
    pred = tr.region(pred, t, memory)
    regions = [pred, _scaled(pred, 1.6)]
    last = tr.region(tr.box, t, memory) if t - tr.last_t > 1 else pred
    regions += [] if np.array_equal(last, pred) else [last]  # a still track's is the first
    rotation = tr.rotation(t, carry, least_turn)
    for region in regions:
        kp = model(rgb, region, rotation)
        box = None if kp is None else keypoint_box(kp)
        if box is not None and _on_box(kp, region):
            return box, body_colours(frame, kp), kp
    return None


def _draw(model: RoiPose, region: np.ndarray, *, rgb) -> np.ndarray | None:
    """``model``'s keypoints in a new person's proposal ``region``, else in one 1.8 times as large (a
    blob of part of a person: arms, legs), or None."""
    kp = model(rgb, region)
    return kp if kp is not None else model(rgb, _scaled(region, 1.8))


def detect_people(
    video: str | os.PathLike,
    *,
    fps: float | None = None,
    config: PeopleConfig | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    timings: dict[str, float] | None = None,
    set_aside: list | None = None,
) -> People:
    """Every person of a video (movie file or image folder), tracked, COCO-17 keypoints.

    Args:
        timings: filled (when given) with seconds spent per step: ``decode``, ``camera motion``,
            ``proposals``, ``pose`` (the tracks' own crops), ``find`` (new people: proposals'
            crops and the tile scan), ``ghosts`` (still tracks looked at again), ``clean``.
        set_aside: filled (when given) with (first frame, last frame, frames seen, height px, why) of
            each track set aside as no one (:mod:`anylift.video.ghosts`), why "rider" (on what a
            person carries) or "still" (``set_aside_still``).

    Returns:
        :class:`~anylift.io.people.People`: one :class:`~anylift.io.people.PersonTrack` per person
        (ids 1, 2, ... in order of appearance), all T frames; the default is the most prominent.

    Raises:
        InputError: unreadable or empty video, MediaPipe missing, or nobody found.
    """
    cfg = config or PeopleConfig()
    try:
        from mediapipe.python.solutions import pose as mp_pose
        from mediapipe.python.solutions import selfie_segmentation
    except ImportError as exc:
        raise mediapipe_missing(exc) from exc
    clock = timings if timings is not None else {}
    for k in ("decode", "camera motion", "proposals", "pose", "find", "ghosts", "clean"):
        clock[k] = 0.0
    reader = open_video(video, fps=fps)
    size = reader.image_size
    stride = frame_stride(reader.fps, cfg.detect_rate)
    total = -(-len(reader) // stride)
    rate = reader.fps / stride  # of the frames looked at; t counts them
    workers = cfg.pose_threads or min(os.cpu_count() or 1, MAX_POSE_THREADS)
    with quiet_native_logs():
        seg = selfie_segmentation.SelfieSegmentation(model_selection=1)
        # MediaPipe's own person detector and landmarks, for the scan's tiles: one per thread.
        make = functools.partial(mp_pose.Pose, static_image_mode=True, model_complexity=1,
                                 enable_segmentation=False,
                                 min_detection_confidence=cfg.detect.min_detection_confidence)  # fmt: skip
        finders = RoiPoses(workers, make)
    finder_found = False
    followers = RoiPoses(workers)
    roi_pose = followers.models[0]

    is_cut, cuts = CutFinder(), []  # cuts: t of the first frame of each new shot
    dissolve = DissolveFinder(rate)
    tracker = Tracker(rate, cfg)
    scan_every = max(1, round(cfg.scan_seconds * rate))
    memory = max(1, round(cfg.size_memory_seconds * rate))
    find_every = max(1, round(cfg.find_seconds * rate))
    least_turn = np.radians(cfg.tumble_degrees_per_second) / rate
    tiles = scan_tiles(size)
    proposal_scale = min(1.0, cfg.proposal_side / max(size))
    # Frames kept for looking back (module doc, 7): within look_back_bytes, fewer than
    # look_back_seconds of them at full size where it holds at least half, else all of them shrunk.
    keep = max(round(cfg.look_back_seconds * rate), 1)
    fit = cfg.look_back_bytes / (3 * size[0] * size[1])  # full-size frames it holds
    if fit >= keep / 2:
        keep, back_shrink = max(min(keep, int(fit)), 1), 1.0
    else:
        back_shrink = float(np.sqrt(fit / keep))
    back_scale = shrunk_size(size, back_shrink)[1]
    recent: collections.deque = collections.deque(maxlen=keep)  # (t, RGB frame) before t
    small = min(1.0, 320.0 / max(size[0], 1))  # camera motion at about 320 px wide
    background = StillBackground(proposal_scale / small)
    prev_grey = None
    apart = max(1, round(cfg.moved_seconds * rate))  # moving_foreground compares t - apart, t - 2 apart
    greys: collections.deque = collections.deque(maxlen=2 * apart)
    motions: dict[int, np.ndarray | None] = {}  # t -> the camera motion from frame t - 1
    t = -1
    decoded = [0]

    def looked_at():
        for i, frame in enumerate(reader):
            decoded[0] = i + 1
            if i % stride == 0:
                yield frame

    frames = looked_at()
    try:
        report(progress, STAGE, 0, total)
        while True:
            tick = time.perf_counter()
            frame = next(frames, None)
            clock["decode"] += time.perf_counter() - tick
            if frame is None:
                break
            t += 1
            check_cancel(cancel)
            tick = time.perf_counter()
            grey = cv2.cvtColor(cv2.resize(frame, None, fx=small, fy=small, interpolation=cv2.INTER_AREA),
                                cv2.COLOR_BGR2GRAY)  # fmt: skip
            motion = None
            hist = frame_histogram(frame)  # both finders compare frames by it
            shot = dissolve(frame, grey, hist)  # the middle of a dissolve into another shot, found later
            if is_cut(frame, grey, hist):  # frame t - 1 began another shot: the tracks before it end there
                shot = t - 1
                tracker.cut(shot)
                dissolve.cut(shot)
                while len(greys) > 1:  # frame t - 1's only
                    greys.popleft()
            elif shot is not None:  # the tracks go on from it as new ones
                tracker.split(shot)
            if shot is not None:
                cuts.append(shot)
                recent = collections.deque((f for f in recent if f[0] >= shot), maxlen=recent.maxlen)
                background.restart(t)
            if prev_grey is not None:
                boxes_then = np.array([tr.predict(t - 1) for tr in tracker.tracks]).reshape(-1, 4) * small
                motion = camera_motion(prev_grey, grey, boxes_then)
                motion[:, 2] /= small
            prev_grey = grey
            motions[t] = motion
            live = tracker.begin(t, motion)
            clock["camera motion"] += time.perf_counter() - tick

            # Each track follows itself with its own pose model.
            tick = time.perf_counter()
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            follow = functools.partial(_follow, t=t, rgb=rgb, frame=frame, size=size, memory=memory,
                                       carry=cfg.turn_carry, least_turn=least_turn)  # fmt: skip
            drawn_on = zip(live, followers.map(follow, live), strict=True)
            seen = {tr.id: got for tr, got in drawn_on if got is not None}  # (box, look, keypoints)
            spread = [i for i, (box, _, kp) in seen.items()  # a body made of the others' parts
                      if spread_over(box, kp, [got[0] for j, got in seen.items() if j != i])]  # fmt: skip
            seen = {i: got for i, got in seen.items() if i not in spread}
            for tr in tracker.claim(t, seen):
                tr.pose(t, seen[tr.id][2])
            kept = [tr for tr in live if tr.last_t == t]
            taken = [tr.box.copy() for tr in kept]
            taken_kp = [tr.kp for tr in kept]
            # Where those lost a frame or two ago are now: a drawing spread over one of them and someone
            # tracked is no one new (courtyard10: a walker's own drawing there reached the feet of
            # the boxer in front of him, was not taken, and a proposal drew it again).
            just_lost = [tr.predict(t) for tr in live if t - 2 <= tr.last_t < t]
            clock["pose"] += time.perf_counter() - tick

            # Proposals for people not tracked yet.
            tick = time.perf_counter()
            finding = t % find_every == 0
            boxes, beside = np.zeros((0, 4)), []  # beside: what sticks out of the tracked people
            taken_px = np.array(taken).reshape(-1, 4)
            small_bgr, shrink = shrunk(frame, proposal_scale)
            per = np.tile(shrink, 2)  # frame -> small_bgr pixels
            taken_small = taken_px * per
            tall = max(round(cfg.min_box_height * shrink[1]), 1)
            if finding:
                with quiet_native_logs() if t == 0 else contextlib.nullcontext():
                    mask = seg.process(cv2.cvtColor(small_bgr, cv2.COLOR_BGR2RGB)).segmentation_mask
                boxes = mask_boxes(mask, cfg.mask_threshold, tall)
                beside = [beside_taken(mask, cfg.mask_threshold, tall, taken_small, boxes) / per]
            boxes = boxes / per
            if cfg.motion_proposals:
                still = motion is None or np.abs(motion - np.eye(2, 3)).max() < 0.5
                moving = background.foreground(t, small_bgr, grey, taken_px * small, finding and still)
                if finding and background.learnt(t) and still and moving.mean() < cfg.max_foreground:
                    moved = mask_boxes(moving, 0.5, tall)
                    beside.append(beside_taken(moving, 0.5, tall, taken_small, moved) / per)
                    boxes = merge_boxes(np.concatenate([boxes, moved / per]), 0.3)
                if finding and not still and cfg.moving_camera_proposals and len(greys) == greys.maxlen:
                    moving = moving_foreground(grey, [greys[-apart], greys[-2 * apart]])
                    if moving is not None and moving.mean() < cfg.max_foreground:
                        least = max(round(cfg.min_box_height * small), 1)
                        moved = mask_boxes(moving, 0.5, least)
                        beside.append(beside_taken(moving, 0.5, least, taken_px * small, moved) / small)
                        boxes = merge_boxes(np.concatenate([boxes, moved / small]), 0.3)
            greys.append(grey)
            clock["proposals"] += time.perf_counter() - tick

            tick = time.perf_counter()
            regions = [("box", b) for b in boxes if covered(b, taken_px) < 0.4]
            beside = merge_boxes(np.concatenate([np.zeros((0, 4)), *beside]), 0.3)
            regions += [("beside", b) for b in beside if len(boxes) == 0 or iou(b[None], boxes).max() < 0.9]
            if t % scan_every == 0:
                regions += [("tile", tile) for tile in tiles]
            masked = None
            tried = drawn = 0
            drawings = iter(
                followers.map(functools.partial(_draw, rgb=rgb), [r for k, r in regions if k != "tile"])
            )
            for kind, _ in regions:
                if kind != "tile":
                    kp = next(drawings)
                    tried, drawn = tried + 1, drawn + (kp is not None)
                else:
                    if masked is None:  # the tiles come last: every tile of the frame at once
                        masked = frame.copy()
                        for b in taken:  # the people tracked already: grey, so others are found
                            x0, y0, x1, y1 = (max(int(v), 0) for v in b)
                            masked[y0:y1, x0:x1] = 127
                        scan = functools.partial(_scan_tile, frame=masked, size=cfg.crop_size)
                        # Quiet until its landmark model has run once: it runs only when someone is found.
                        with quiet_native_logs() if not finder_found else contextlib.nullcontext():
                            tile_kps = finders.map(scan, [r for k, r in regions if k == "tile"])
                        finder_found = finder_found or any(kp is not None for kp in tile_kps)
                        scanned = iter(tile_kps)
                    kp = next(scanned)
                box = None if kp is None else keypoint_box(kp)
                if box is None or (box[3] - box[1]) < cfg.min_box_height:
                    continue
                if drawn_again(box, kp, taken, taken_kp) or spread_over(box, kp, taken + just_lost):
                    continue
                # Found beside a tracked body, a drawing around that body is that body (or both),
                # whatever its joints.
                if kind == "beside" and max((covered(b, box[None]) for b in taken), default=0.0) > AROUND:
                    continue
                tr = tracker.add(t, box, body_colours(frame, kp), kp)
                tr.pose(t, kp)
                taken.append(tr.box.copy())
                taken_kp.append(kp)
            if finding:
                background.noted(tried, drawn)
            look_back(tracker, t, recent, roi_pose, back_scale)
            recent.append((t, shrunk(rgb, back_shrink)[0]))
            clock["find"] += time.perf_counter() - tick
            report(progress, STAGE, t + 1, max(total, t + 1))
    finally:
        seg.close()
        finders.close()
        followers.close()
    if (shot := dissolve.flush()) is not None:
        cuts.append(shot)
        tracker.split(shot)
    cuts = sorted(set(cuts))  # a dissolve found on a cut is that cut
    t_len = t + 1
    if t_len <= 0:
        raise InputError("holds no frames", path=video, expected="a video with at least one frame")
    tick = time.perf_counter()
    num_frames = decoded[0]
    found = sorted((tr for tr in tracker.all_tracks() if len(tr.frames) >= cfg.min_frames),
                   key=lambda tr: (min(tr.frames), tr.id))  # fmt: skip
    found = trim_ghost_tails(trim_stray_tails(found, rate, motions))
    found = stitch_tracks(found, motions, rate, cfg.stitch_seconds, cuts)
    found = fill_gaps(found, motions, rate, cuts)
    found = drop_lone_frames(mend_blips(rejoin_hidden(found, motions, rate, cfg.reid_seconds, cuts)))
    found = [tr for tr in found if len(tr.frames) >= cfg.min_frames]  # what the trims left of some
    found, riders = set_aside_riders(found, motions)
    gone = {"rider": riders}
    clock["clean"] += time.perf_counter() - tick
    if cfg.set_aside_still:
        tick = time.perf_counter()
        found, gone["still"] = _set_aside_still(found, motions, video, fps, stride)
        clock["ghosts"] += time.perf_counter() - tick
    for why, tracks in gone.items() if set_aside is not None else ():
        for tr in tracks:
            seen = sorted(tr.frames)
            set_aside.append((seen[0] * stride, seen[-1] * stride, len(seen), _median_height(tr), why))
    tick = time.perf_counter()
    people = []
    for tr in found:
        kp = np.full((t_len, 17, 3), np.nan)
        kp[..., 2] = 0.0
        bx = np.full((t_len, 4), np.nan)
        for f, (b, k) in tr.frames.items():
            kp[f], bx[f] = k, b
        d = cfg.detect
        if d.unswap_legs:
            kp = tracking.unswap_legs(kp, rate)
        kp = tracking.drop_low_confidence(kp, d.min_score)
        kp, bx = every_frame(kp, bx, stride, num_frames)
        # A joint missed in one looked-at frame is unseen from the frame after the one before it:
        # stride - 1 frames more than where every frame is looked at.
        kp = tracking.fill_gaps(kp, d.max_gap + stride - 1)
        if d.smoothing:
            kp = tracking.one_euro_smooth(kp, reader.fps, min_cutoff=d.min_cutoff, beta=d.beta)
        if (kp[..., 2] > 0).any():
            people.append(PersonTrack(len(people) + 1, kp, bx))
    clock["clean"] += time.perf_counter() - tick
    if not people:
        raise InputError(f"no person was found in any of its {num_frames} frames", path=video,
                         expected="a video showing a person")  # fmt: skip
    return People(people, reader.fps, size, frame_times=reader.frame_times, path=None, detector="mediapipe",
                  cuts=tuple(t * stride for t in cuts))  # fmt: skip
