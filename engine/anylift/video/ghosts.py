"""Tracks of no one: still things the pose models took for a person (a pole, a railing, a sign).

MediaPipe's pose detector fires on tall still structures now and then, and its landmark model then
draws a skeleton on them frame after frame with scores as high as a person's. On real footage such
tracks are many (a tennis broadcast: most of its 44 tracks on seats, railings, bags and poles; a
gym: a wall's edge seen for 9 s) and they are lifted by ``--all``. A track is set aside when three things
hold (:func:`no_one`):

1. **It stays in one place** in the world: its box's centre, carried back into its first frame
   through the camera's motion, is mostly (the median frame) within :data:`STILL` of its height of
   where it mostly is.
2. **No person is segmented there**: MediaPipe's selfie segmentation on the track's region, along
   its skeleton's limbs, under :data:`SUPPORT` (median over the sampled frames; a person measured
   0.8-1.0 on real footage, a pole 0.0). Far and cluttered people score low too (seated
   spectators 0.0), and so do the renders' mannequins.
3. **Its drawing does not stay on the image**: the landmark model run again on the region moved a
   fifth of its size each way draws the body where it was for a person (0.4-8 % of the body's size
   apart on footage of at least 60 px), but on a structure a skeleton that moves with the region or
   vanishes: over :data:`SHIFT`.

People too small for the third test (under about 50 px) pass the second; a person standing still
where neither works is set aside with the structures (on the tennis clip, partial views of people:
a player's legs at the frame's edge, a spectator's head). Never every
track: where all would go the evidence says nothing, and all are kept.

**Off by default** (``anylift detect --set-aside-still``, ``PeopleConfig.set_aside_still``): a body
crawling on a floor seen from 51 degrees above (the footage render steep50) failed both tests
(segmented 0.03, its drawing moving 0.52) and stayed mostly in place (0.34 of its height), and was
set aside with the structures: 69.9 % of the people found instead of 93.9 %. Lying and tumbling
bodies are this product's footage, so the test is the user's choice for cluttered scenes (a
stadium, a gym) where the tracks of no one crowd the list: a tennis broadcast's 44 tracks came down
to 14 (two of them still no one), a school gym's 14 to 7 (six set aside were no one, the seventh a
boy drawn badly for 7 frames; one hoop's track, jumping about, stayed).
"""

from __future__ import annotations

import numpy as np

STILL = 0.5
"""A track whose box's centre is mostly within this many of its heights of its median place is
still."""
SUPPORT = 0.2
"""Below this the selfie segmentation finds no person along the skeleton (median of the samples)."""
SHIFT = 0.35
"""Over this (share of the region's side, median of the samples) the drawing moves with the region."""
SAMPLES = 8
"""Frames of each still track looked at again."""
_LIMBS = ((5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16))
_LIMBS += ((5, 11), (6, 12), (5, 6), (11, 12))  # the torso
_MOVES = ((0.2, 0.0), (-0.2, 0.0), (0.0, 0.15), (0.0, -0.15))


def still(boxes: dict, motions: dict) -> bool:
    """Whether a track's ``boxes`` ({t: (4,) box}) mostly stay in one place: their centres, each
    carried back into the first one's frame through ``motions`` ({t: 2x3 similarity from frame
    t - 1 to t, or None}), lie within :data:`STILL` of their median height of where they are in the
    median (a person walking through the picture is not still; a structure is, and so is a
    skeleton drifting along a railing or jumping about a hoop for a few frames)."""
    times = sorted(boxes)
    if not times:
        return False
    height = float(np.median([boxes[t][3] - boxes[t][1] for t in times]))
    a = np.eye(3)  # first frame's pixels -> frame t's
    centres = []
    for t in range(times[0], times[-1] + 1):
        m = motions.get(t) if t > times[0] else None
        if m is not None:
            a = np.vstack([m, [0.0, 0.0, 1.0]]) @ a
        if t in boxes:
            c = (boxes[t][:2] + boxes[t][2:]) / 2
            centres.append((np.linalg.inv(a) @ np.array([c[0], c[1], 1.0]))[:2])
    centres = np.array(centres)
    spread = np.linalg.norm(centres - np.median(centres, axis=0), axis=1)
    return bool(np.median(spread) <= STILL * max(height, 1.0))


def support(mask: np.ndarray, kp: np.ndarray) -> float | None:
    """Mean of a person ``mask`` (H, W) along the limbs of ``kp`` (17, 3, mask pixels) whose joints
    are confident, or None where none is."""
    values = []
    for a, b in _LIMBS:
        if kp[a, 2] > 0.5 and kp[b, 2] > 0.5:
            for s in np.linspace(0.0, 1.0, 8):
                x, y = np.round(kp[a, :2] * (1 - s) + kp[b, :2] * s).astype(int)
                if 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1]:
                    values.append(mask[y, x])
    return float(np.mean(values)) if values else None


def shift(roi_pose, rgb: np.ndarray, box: np.ndarray) -> float:
    """How far the landmark model's drawing moves (median joint, share of the region's side) when
    its region moves a fifth of its size each way (mean of four moves; 1 where it draws nothing)."""
    from anylift.video.people import keypoint_box

    side = max(box[2] - box[0], box[3] - box[1], 1.0)
    base = roi_pose(rgb, box)
    if base is None or keypoint_box(base) is None:
        return 1.0
    moved = []
    for dx, dy in _MOVES:
        kp = roi_pose(rgb, box + side * np.array([dx, dy, dx, dy]))
        both = (base[:, 2] > 0.5) & (kp[:, 2] > 0.5) if kp is not None else np.zeros(17, bool)
        if both.sum() < 4:
            moved.append(1.0)
            continue
        moved.append(min(float(np.median(np.linalg.norm(base[both, :2] - kp[both, :2], axis=1))) / side, 1.0))
    return float(np.mean(moved))


def no_one(samples: list[tuple[float | None, float]]) -> bool:
    """Whether a still track's (support, shift) samples say no person: both tests failed (module
    doc, 2 and 3)."""
    if not samples:
        return False
    sup = [s for s, _ in samples if s is not None]
    return (not sup or float(np.median(sup)) < SUPPORT) and float(np.median([m for _, m in samples])) > SHIFT
