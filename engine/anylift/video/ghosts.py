"""Tracks of no one: still things the pose models took for a person (a pole, a railing, a sign),
and drawings riding along on what a person carries.

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

**Riders** (:func:`rider`; on by default: they need no image, only the tracks' boxes and the
camera's motion). The landmark model also draws small bodies on what a person carries, and
follows them as the person goes: a kite board's end held at a kiter's side (a 25 px body beside
his 200, for 121 of 159 frames: lifted by ``--all``), a backpack's strap, a bike's crank, a
worker's tool. Such a track is a tenth to a sixth of its carrier's height and keeps its place
against the carrier's body while the carrier walks through the scene; no person does that beside
someone they are not attached to (a child carried on the shoulders is too large to be taken for
one). A rider is set aside, and listed, while its carrier walks at least half its height through
the scene; one whose carrier stands in place stays (nothing tells it from someone small behind).
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
RIDER_SHARE = 0.8
"""A rider's carrier is seen in at least this share of the rider's frames."""
RIDER_HEIGHT = 0.2
"""A rider is at most this share of its carrier's height (drawings on a kite board, a backpack, a
bike's crank: 10-16 % of the person carrying it; a child carried on the shoulders about 35 %)."""
RIDER_SPREAD = 0.06
"""A rider's centre keeps within this many of its carrier's heights of its place against the
carrier's (median; 0.012-0.034 measured on real footage's riders)."""
RIDER_REACH = 1.0
"""... that place within this many carrier heights of the carrier's centre."""
RIDER_TRAVEL = 0.5
"""... while the carrier moves this many of its heights through the scene (5th to 95th percentile
of where it is, the camera's motion taken out): someone far behind shifts against it by about
this much (a median deviation of about a quarter of it: twice :data:`RIDER_SPREAD`)."""
_LIMBS = ((5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16))
_LIMBS += ((5, 11), (6, 12), (5, 6), (11, 12))  # the torso
_MOVES = ((0.2, 0.0), (-0.2, 0.0), (0.0, 0.15), (0.0, -0.15))


def _in_first_frame(boxes: dict, motions: dict) -> np.ndarray:
    """(N, 2) centres of ``boxes`` ({t: (4,) box}, in time order), each carried back into the first
    one's frame through ``motions`` ({t: 2x3 similarity from frame t - 1 to t, or None}): where they
    are in the scene, the camera's own motion taken out."""
    times = sorted(boxes)
    a = np.eye(3)  # first frame's pixels -> frame t's
    centres = []
    for t in range(times[0], times[-1] + 1):
        m = motions.get(t) if t > times[0] else None
        if m is not None:
            a = np.vstack([m, [0.0, 0.0, 1.0]]) @ a
        if t in boxes:
            c = (boxes[t][:2] + boxes[t][2:]) / 2
            centres.append((np.linalg.inv(a) @ np.array([c[0], c[1], 1.0]))[:2])
    return np.array(centres)


def still(boxes: dict, motions: dict) -> bool:
    """Whether a track's ``boxes`` ({t: (4,) box}) mostly stay in one place: their centres, each
    carried back into the first one's frame through ``motions`` ({t: 2x3 similarity from frame
    t - 1 to t, or None}), lie within :data:`STILL` of their median height of where they are in the
    median (a person walking through the picture is not still; a structure is, and so is a
    skeleton drifting along a railing or jumping about a hoop for a few frames)."""
    if not boxes:
        return False
    height = float(np.median([b[3] - b[1] for b in boxes.values()]))
    centres = _in_first_frame(boxes, motions)
    spread = np.linalg.norm(centres - np.median(centres, axis=0), axis=1)
    return bool(np.median(spread) <= STILL * max(height, 1.0))


def rider(boxes: dict, carrier: dict, motions: dict) -> bool:
    """Whether a track's ``boxes`` ride along on another track's body (``carrier``, {t: (4,) box};
    ``motions`` as :func:`still`): a drawing on what a person carries (module doc, riders).

    All of: the carrier is seen in :data:`RIDER_SHARE` of the track's frames; the track is at most
    :data:`RIDER_HEIGHT` of the carrier's height; its centre keeps its place against the
    carrier's (median deviation under :data:`RIDER_SPREAD` carrier heights, within
    :data:`RIDER_REACH` of it) while the carrier goes :data:`RIDER_TRAVEL` of its heights or
    more through the scene. Someone small far behind a person who moves that far shifts against
    them by about as much (a median deviation of about a quarter of it): no one keeps step with a
    person they are not attached to."""
    both = sorted(t for t in boxes if t in carrier)
    if len(both) < 2 or len(both) < RIDER_SHARE * len(boxes):
        return False
    tall = np.array([carrier[t][3] - carrier[t][1] for t in both])
    height = float(np.median(tall))
    if np.median([boxes[t][3] - boxes[t][1] for t in both]) > RIDER_HEIGHT * height:
        return False
    offset = np.array([((boxes[t][:2] + boxes[t][2:]) - (carrier[t][:2] + carrier[t][2:])) / 2 for t in both])
    offset /= np.maximum(tall, 1.0)[:, None]
    place = np.median(offset, axis=0)
    spread = np.median(np.linalg.norm(offset - place, axis=1))
    if np.linalg.norm(place) > RIDER_REACH or spread > RIDER_SPREAD:
        return False
    where = _in_first_frame({t: carrier[t] for t in both}, motions)
    travel = np.linalg.norm(np.percentile(where, 95, axis=0) - np.percentile(where, 5, axis=0))
    return bool(travel >= RIDER_TRAVEL * max(height, 1.0))


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
