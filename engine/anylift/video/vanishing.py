"""The camera's tilt from the image: vanishing points of the scene's straight lines.

Man-made scenes (floors, walls, courtyards, gyms) are full of lines that are either vertical or
horizontal. Line segments (OpenCV's LSD) of one frame are grouped by the vanishing point they
pass through (RANSAC on pairs of segments, the consistency of a segment with a point being the
angle between the segment and the direction from its midpoint to the point). Each vanishing
point ``v`` is a 3D direction ``K^-1 v`` in the camera frame; the up direction is either one
such direction (vertical lines) or the normal of two (horizontal lines: the horizon). Of these
candidates the one within ``max_angle`` of a prior up (frame 0's camera taken as roughly level,
the people's standing axis...) with the most supporting segments wins.

The focal length, when the video does not tell it (a static camera): the directions of the
verticals' vanishing point and of a horizontal family's (a wall's verticals and the floor's
lines) are perpendicular, ``(v1 - p) . (v2 - p) + f^2 = 0`` for the principal point
``p`` (:func:`focal_candidates`). Each such pair gives a candidate; the focal is
taken only where several candidates (pairs, over a few frames) agree: :func:`focal_from_images`
(two horizontal families need not be perpendicular, and a family of lines parallel to the image
leaves f undetermined; where people stand about, two families taken as perpendicular give a focal
for them to judge, :func:`people_accept`). Measured on footage from a courtyard camera 768x576 px (OpenCV's
``vtest.avi``): 1506 px against the ``max(W, H)`` = 768 px guess; with that guess the tilt read
from the verticals was 7.6 degrees instead of 14.6, and the lifted walker's lowest point wandered
by 0.88 m (inter-quartile range) instead of 0.15 m.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

LINE_SIDE = 1280
"""The scene's lines are looked for in the frame shrunk to at most this long side (px): LSD's
gradient threshold misses the soft edges of a larger frame (a 4K copy of a footage render: 168
segments where its 640x360 original has 416, and no up; shrunk to 1280 px, 409)."""


def line_segments(gray: np.ndarray, min_length: float) -> np.ndarray:
    """(N, 4) ``x0, y0, x1, y1`` segments longer than ``min_length`` px (LSD on the frame shrunk to
    at most :data:`LINE_SIDE`), in the frame's pixels."""
    import cv2

    from anylift.video.reader import shrunk

    small, scale = shrunk(gray, LINE_SIDE / max(gray.shape[:2]))
    lsd = cv2.createLineSegmentDetector()
    lines = lsd.detect(small)[0]
    if lines is None:
        return np.zeros((0, 4))
    seg = lines.reshape(-1, 4).astype(np.float64) / np.tile(scale, 2)
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    return seg[length >= min_length]


def _consistent(seg: np.ndarray, vps: np.ndarray, max_deg: float) -> np.ndarray:
    """(H, N) bool: segments whose direction points at each homogeneous point ``vps`` (H, 3)."""
    mid = 0.5 * (seg[:, :2] + seg[:, 2:])
    d = seg[:, 2:] - seg[:, :2]
    finite = np.abs(vps[:, 2:3, None]) > 1e-12  # (H, 1, 1); a point at infinity: a direction
    to_vp = vps[:, None, :2] - np.where(finite, mid[None] * vps[:, None, 2:3], 0.0)
    cos = np.abs((d[None] * to_vp).sum(-1)) / (
        np.linalg.norm(d, axis=1)[None] * np.linalg.norm(to_vp, axis=-1) + 1e-12
    )
    return cos >= np.cos(np.radians(max_deg))


HYPOTHESES_AT_ONCE = 100
"""RANSAC hypotheses scored in one array operation (memory: this x segments)."""


def vanishing_points(seg: np.ndarray, *, count: int = 3, max_deg: float = 1.5, iterations: int = 400,
                     seed: int = 0, min_support: int = 8) -> list[tuple[np.ndarray, int]]:  # fmt: skip
    """Up to ``count`` (homogeneous point (3,), inlier count) found one after the other.

    Each is the best of ``iterations`` hypotheses (the intersection of two random segments'
    lines, scored by the summed length of the segments consistent with it; the first best wins),
    refined by least squares on its inliers.
    """
    rng = np.random.default_rng(seed)
    lines = np.cross(np.c_[seg[:, :2], np.ones(len(seg))], np.c_[seg[:, 2:], np.ones(len(seg))])
    weight = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    left = np.ones(len(seg), bool)
    found = []
    for _ in range(count):
        idx = np.flatnonzero(left)
        if len(idx) < max(min_support, 2):
            break
        first = rng.integers(0, len(idx), iterations)
        second = (first + rng.integers(1, len(idx), iterations)) % len(idx)  # two different segments
        vps = np.cross(lines[idx[first]], lines[idx[second]])
        norm = np.linalg.norm(vps, axis=1)
        vps = vps[norm >= 1e-12] / norm[norm >= 1e-12, None]
        seg_left, weight_left = seg[idx], weight[idx]
        best, best_score, best_in = None, 0.0, None
        for chunk in range(0, len(vps), HYPOTHESES_AT_ONCE):
            inl = _consistent(seg_left, vps[chunk : chunk + HYPOTHESES_AT_ONCE], max_deg)
            score = inl.astype(np.float64) @ weight_left
            k = int(np.argmax(score))
            if score[k] > best_score:
                best, best_score, best_in = vps[chunk + k], score[k], inl[k]
        if best is None or best_in.sum() < min_support:
            break
        # Refine: the point nearest (least squares) to every inlier's line.
        a = lines[idx][best_in]
        a = a / np.linalg.norm(a[:, :2], axis=1, keepdims=True)
        vp = np.linalg.svd(a * weight_left[best_in, None])[2][-1]
        found.append((vp / np.linalg.norm(vp), int(best_in.sum())))
        left[idx[best_in]] = False
    return found


class Vertical(NamedTuple):
    """The verticals' vanishing point as people standing about give it (:func:`people_vertical`)."""

    point: np.ndarray
    """Homogeneous (3,), px."""
    support: int
    """Supporting axes."""
    error: float
    """Its direction's standard error, radians at the focal guess."""
    up: np.ndarray | None = None
    """The up direction in the camera's axes (:func:`people_up`), where known."""


FOCAL_AGREEMENT = 0.15
"""Two focal candidates agree when they differ by at most this fraction."""
MIN_COS = 0.2
"""A pair of vanishing points fixes the focal only when, seen from the principal point, they lie
clearly more than 90 degrees apart (``cos <= -MIN_COS``): ``f^2 = -|a| |b| cos``, so a pair near 90
degrees (a family of lines parallel to the image, whose vanishing point is far away) leaves f to
the lines' angular noise (a 2-degree error moves f by ``|tan| / 2 * 0.035``: 10 % at the limit)."""
FLOOR_MIN_COS = 0.05
""":func:`focal_candidates` ``floor``: a pair of floor families fixes the focal only as far from 90
degrees apart as this (half a degree off in either family's direction moves f by at most 9 %): the
tiles seen square-on from above (one family across the picture, its point far to a side) give
pairs at cos 0.00-0.03 whose focal is noise (footage renders elevated25 and single25: 28-373 px for
640), a tiled square turned 30 degrees seen from 51 degrees above 0.07 (steep25: 1093-1139 for 1100)."""
LINE_VP_ERROR = np.radians(0.5)
"""How well (radians, at the focal guess) a vanishing point of the scene's lines is taken to be
known: a point at ``d`` px from the principal point is then known within ``d`` times that over
the guess (relative), and its pair's focal within half that (:func:`focal_candidates` keeps pairs
within :data:`FOCAL_AGREEMENT`): verticals up to about 34 times the guess away (a camera pitched
1.7 degrees); the people's vertical carries its own error (:func:`people_vertical`: about 2
degrees from a dozen people: 8.6 times, a pitch of 6.6 degrees). A level camera's verticals meet
anywhere far away, and the focal from them is noise: a dance class filmed level (PoseTrack
006537, 640x360), the people's vertical 14500 px above from keypoints rounded to 0.001 px and
89000 px below from the same unrounded, gave 2104 px and none."""
SAME_FAMILY_DEG = 10.0
"""Vanishing points whose directions (at the focal guess ``max(W, H)``) are this close are one
family of lines split in two; only the better supported one counts."""


def focal_candidates(
    vps: list[tuple[np.ndarray, int]], principal, long_side: float, *, limits=(0.35, 4.0),
    vertical: Vertical | None = None, floor: bool = False,
) -> list[tuple[float, float]]:  # fmt: skip
    """(log focal px, weight) of every well-conditioned pair of vanishing points (module doc; a pair
    whose points lie too far for their directions' errors is none, :data:`LINE_VP_ERROR`).

    Args:
        vps: (homogeneous point (3,), support) as :func:`vanishing_points` returns them.
        principal: (2,) principal point, px.
        long_side: the image's longer side, px (the plausible range is ``limits`` times it).
        vertical: the verticals' vanishing point as the people's standing axes give it
            (:func:`people_vertical`), or None. Given, it is the only
            vertical: each of the scene's vanishing points pairs with it (a floor's lines seen
            from above converge above the image as a building's verticals would, and only the
            people tell them apart).
        floor: pair any two families, taken as perpendicular (a floor's tiles, a court's lines,
            a room's walls; seen steeply from above, one of a floor's families converges where
            verticals would), nearer 90 degrees apart than the verticals' pairs may be
            (:data:`FLOOR_MIN_COS`): a hypothesis only, for the people to judge
            (:func:`people_accept`), since two horizontal families need not be perpendicular.
    """
    p = np.asarray(principal, dtype=np.float64)
    if vertical is not None:
        # A scene family through the people's point (a wall's verticals) is dropped as the same family.
        people, errors = (vertical.point, vertical.support), (vertical.error, LINE_VP_ERROR)
        return [c for vp in vps for c in _pair_candidates([people, vp], p, long_side, limits, False, errors)]
    return _pair_candidates(vps, p, long_side, limits, floor, (LINE_VP_ERROR,) * len(vps))


def _pair_candidates(vps, p, long_side, limits, floor, errors) -> list[tuple[float, float]]:
    """:func:`focal_candidates` of ``vps``, each point's direction known within ``errors`` (radians
    at the focal guess ``long_side``)."""
    guess = np.array([[long_side, 0.0, p[0]], [0.0, long_side, p[1]], [0.0, 0.0, 1.0]])
    dirs = [np.linalg.solve(guess, v) for v, _ in vps]
    dirs = [d / np.linalg.norm(d) for d in dirs]
    keep: list[int] = []
    for i in np.argsort([-n for _, n in vps], kind="stable"):
        if all(np.degrees(np.arccos(min(1.0, abs(dirs[i] @ dirs[j])))) > SAME_FAMILY_DEG for j in keep):
            keep.append(int(i))
    cands = []
    for i, j in itertools.combinations(keep, 2):
        (va, na), (vb, nb) = vps[i], vps[j]
        if min(abs(va[2]), abs(vb[2])) < 1e-9:
            continue  # a point at infinity: the pair does not fix f
        a, b = va[:2] / va[2] - p, vb[:2] / vb[2] - p
        if not (floor or _vertical(a, long_side) or _vertical(b, long_side)):
            continue  # two horizontal families need not be perpendicular (a road across a courtyard)
        cos = float(a @ b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12)
        f = np.sqrt(max(-float(a @ b), 0.0))
        # f^2 = |a| |b| (-cos), and a far point's distance is known only to its direction's error
        # times its distance over the guess (relative): f to half the sum of the two.
        spread = 0.5 * (errors[i] * np.linalg.norm(a) + errors[j] * np.linalg.norm(b)) / long_side
        if spread > FOCAL_AGREEMENT:
            continue  # a point too far away for its direction's error (a level camera's verticals)
        if cos <= -(FLOOR_MIN_COS if floor else MIN_COS) and limits[0] <= f / long_side <= limits[1]:
            cands.append((float(np.log(f)), float(min(na, nb))))
    return cands


def _vertical(offset: np.ndarray, long_side: float, max_roll_deg: float = 30.0) -> bool:
    """Whether a vanishing point at ``offset`` (px from the principal point) can be the verticals':
    above or below the image centre (a camera rolled at most ``max_roll_deg``), well outside it."""
    n = float(np.linalg.norm(offset))
    return n > 0.5 * long_side and abs(offset[1]) / n >= np.cos(np.radians(max_roll_deg))


MIN_FOCAL_VOTES = 3
"""Candidates (pairs of vanishing points over the frames looked at) that must agree on a focal."""


def scene_vanishing_points(images, seed: int = 0) -> list[tuple[list, tuple[int, int]]]:
    """Each BGR (or grey) image's vanishing points as :func:`focal_from_images` looks for them (up
    to 4, the k-th image's RANSAC seeded ``seed + k``; :func:`vanishing_points`' list) with its
    (W, H): found once, they serve every pairing (:func:`focal_from_vanishing_points`)."""
    import cv2

    found = []
    for k, image in enumerate(images):
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        h, w = gray.shape[:2]
        seg = line_segments(gray, min_length=0.03 * max(h, w))
        found.append((vanishing_points(seg, count=4, seed=seed + k), (w, h)))
    return found


def focal_from_images(images, *, seed: int = 0, vertical: Vertical | None = None,
                      to_first=None, floor: bool = False) -> float | None:  # fmt: skip
    """Focal length (px) from the vanishing points of a static camera's frames (module doc), or None.

    Args:
        images: BGR frames of one view (a few, spread over the video: the people move, the lines
            they hide change; the line grouping is random, so several frames also steady it).

    Returns:
        The support-weighted geometric mean of the largest group of candidates
        (:func:`focal_candidates` of every frame) that agree within :data:`FOCAL_AGREEMENT`, when
        it holds at least :data:`MIN_FOCAL_VOTES`; else None (the scene does not tell).

    ``vertical``: the people's vertical vanishing point in the first image's pixels
    (:func:`people_vertical`; :func:`focal_candidates`), with ``to_first`` one (3, 3) homography per
    image taking its vanishing points into the first image (a camera that turns), or None.
    ``floor``: from pairs of horizontal families (:func:`focal_candidates`).
    """
    found = scene_vanishing_points(images, seed)
    return focal_from_vanishing_points(found, vertical=vertical, to_first=to_first, floor=floor)


def focal_from_vanishing_points(found, *, vertical: Vertical | None = None,
                                to_first=None, floor: bool = False) -> float | None:  # fmt: skip
    """:func:`focal_from_images` of the images' :func:`scene_vanishing_points`."""
    cands = []
    for k, (vps, (w, h)) in enumerate(found):
        if to_first is not None:
            vps = [(to_first[k] @ v / np.linalg.norm(to_first[k] @ v), n) for v, n in vps]
        cands += focal_candidates(vps, (w / 2.0, h / 2.0), float(max(h, w)), vertical=vertical, floor=floor)
    best, best_weight = None, 0.0
    for lf, _ in cands:
        group = [(x, wt) for x, wt in cands if abs(x - lf) <= np.log1p(FOCAL_AGREEMENT) / 2]
        weight = sum(wt for _, wt in group)
        if len(group) >= MIN_FOCAL_VOTES and weight > best_weight:
            best, best_weight = group, weight
    if best is None:
        return None
    x, wt = np.array(best).T
    return float(np.exp((x * wt).sum() / wt.sum()))


PEOPLE_MIN_TRACKS = 3
"""People (tracks) among a vertical's supporting axes: one person bending, lying or tumbling is
no vertical, and a few standing people in different places are."""
PEOPLE_LEAN_DEG = 2.0
"""The least a person's axis is taken to miss the verticals' point by (:func:`people_vertical`'s
error): people sway and lean, and the fitted point absorbs part of it (footage render elevated25:
the walkers' true 2D axes miss the true point by 3.7 degrees, median per person; MediaPipe draws a
torso nearer its crop's up than it is). At 1 degree elevated25's four people gave a point 2275 px
below the centre for 1376 (said to be known within 2.8 degrees: 12 off), its focal 832 px for 640
and an up 6.4 degrees off; now no point there: the guess, and the up within 0.8 degrees."""
PEOPLE_MAX_DEG = 4.0
"""An axis supports a vanishing point when it points at it within this angle (people lean)."""


def people_vertical(
    axes: np.ndarray,
    ids: np.ndarray,
    principal,
    long_side: float,
    *,
    max_error_deg: float = 3.0,
    seed: int = 0,
) -> Vertical | None:
    """The verticals' vanishing point from people standing in the scene, or None.

    Args:
        axes: (N, 4) ``x0, y0, x1, y1`` px, each a person's axis in one frame, from between the
            ankles to between the shoulders (people stand and walk upright: their axes meet
            where the scene's verticals do).
        ids: (N,) the track of each axis.
        principal, long_side: as :func:`focal_candidates` (the conditioning is judged at the
            focal guess ``long_side``).
        max_error_deg: the point's direction must be known within this angle (its standard
            error from the supporting axes' scatter, one independent sample per person).

    Returns:
        :class:`Vertical` (its ``up`` not set), or None: fewer than half the axes
        or than :data:`PEOPLE_MIN_TRACKS` people support one point, or their axes all lie
        along one line (one person walking along the camera's axis) and so fix no point.
    """
    axes = np.asarray(axes, dtype=np.float64).reshape(-1, 4)
    ids = np.asarray(ids).reshape(-1)
    found = vanishing_points(
        axes, count=1, max_deg=PEOPLE_MAX_DEG, seed=seed, min_support=max(8, len(axes) // 2)
    )
    if not found:
        return None
    vp, _ = found[0]
    inl = _consistent(axes, vp[None], PEOPLE_MAX_DEG)[0]
    people = np.unique(ids[inl])
    if len(people) < PEOPLE_MIN_TRACKS:
        return None
    # Conditioning: each axis is a plane through the camera holding the vertical; the planes must
    # turn about it enough for the point to be fixed within max_error_deg.
    p = np.asarray(principal, dtype=np.float64)
    rays = lambda xy: np.c_[(xy - p) / long_side, np.ones(len(xy))]  # noqa: E731
    n = np.cross(rays(axes[inl, :2]), rays(axes[inl, 2:]))
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    ev, vec = np.linalg.eigh(n.T @ n)
    d = vec[:, 0]
    resid = np.abs(n @ d)
    per_person = np.array([np.median(resid[ids[inl] == i]) for i in people])
    sigma = max(float(np.median(per_person)), np.radians(PEOPLE_LEAN_DEG))  # a person's lean, not only noise
    spread = np.sqrt(ev[1] / len(n))  # how far the planes turn about the point, radians (RMS)
    error = sigma / max(spread, 1e-9) / np.sqrt(len(people))
    if error > np.radians(max_error_deg):
        return None
    point = np.array([d[0] * long_side + p[0] * d[2], d[1] * long_side + p[1] * d[2], d[2]])
    return Vertical(point / np.linalg.norm(point), int(inl.sum()), float(error))


def people_up(point: np.ndarray, K: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """The up direction (camera axes, unit) of the people's vertical vanishing ``point``: the
    sign that points from the feet to the shoulders of the ``axes`` (:func:`people_vertical`)."""
    K = np.asarray(K, dtype=np.float64)
    axes = np.asarray(axes, dtype=np.float64).reshape(-1, 4)
    d = np.linalg.solve(K, np.asarray(point, dtype=np.float64))
    rays = lambda xy: np.linalg.solve(K, np.c_[xy, np.ones(len(xy))].T).T  # noqa: E731  (z = 1)
    return d / np.linalg.norm(d) * (1.0 if np.sum((rays(axes[:, 2:]) - rays(axes[:, :2])) @ d) >= 0 else -1.0)


def axes_off(axes: np.ndarray, ids: np.ndarray, point: np.ndarray) -> np.ndarray:
    """(P,) degrees: each person's (sorted ``ids``) median angle between its ``axes``
    (:func:`people_vertical`) and the lines from their middles to the homogeneous ``point``."""
    axes = np.asarray(axes, dtype=np.float64).reshape(-1, 4)
    mid = 0.5 * (axes[:, :2] + axes[:, 2:])
    d = axes[:, 2:] - axes[:, :2]
    to = np.asarray(point, dtype=np.float64)[:2] - mid * point[2]
    sin = np.abs(d[:, 0] * to[:, 1] - d[:, 1] * to[:, 0]) / (
        np.linalg.norm(d, axis=1) * np.linalg.norm(to, axis=1) + 1e-12
    )
    return np.array([np.degrees(np.arcsin(min(np.median(sin[ids == i]), 1.0))) for i in np.unique(ids)])


WORSE_DEG = 1.0
""":func:`people_accept`: how much worse (degrees, mean over people) the people's axes may point at
a floor's focal's verticals than at the current focal's."""
UPRIGHT_DEG = 15.0
"""A person's axes off by more than this count as this (someone crawling or tumbling is no
vertical at any focal; their part is then the same for all)."""


def people_accept(focal: float, current: float, vertical_at, axes: np.ndarray, ids: np.ndarray) -> bool:
    """Whether the people's axes accept ``focal`` in place of ``current``.

    ``vertical_at(f)`` gives the verticals' vanishing point (homogeneous px) that the scene's up
    read at focal ``f`` implies, or None: read from a horizon (two floor families), the point moves
    along the line through the principal point across the horizon as f changes (``f^2`` = its
    distance times the horizon's), and people standing about point at the true one. Their mismatch
    (:func:`axes_off`, each person's capped at :data:`UPRIGHT_DEG`, averaged over people) at
    ``focal`` may be at most :data:`WORSE_DEG` over that at ``current``, and someone must be upright
    at either (under :data:`UPRIGHT_DEG`): no one upright, no say. An up read from vertical lines
    does not move with f, nor its point: such a focal passes (the people cannot tell, the floor's
    right angle does). The people alone do not find the focal: ankles-to-shoulders axes favour too
    long a one (with the horizon fixed, the best is 840 px for a true 640 seen from 25 deg above,
    1250 for 1100 from 51 with the renders' true 2D, 1540 with MediaPipe's), but a wrong one far
    off is plain to them (elevated25: 11.6 deg at 354 px, 3.9 at 797).
    """

    def off(f: float) -> tuple[float, float]:
        point = vertical_at(f)
        if point is None:
            return np.inf, np.inf
        each = axes_off(axes, ids, point)
        return float(np.minimum(each, UPRIGHT_DEG).mean()), float(each.min())

    (at, upright_at), (now, upright_now) = off(focal), off(current)
    return bool(np.isfinite(at) and at <= now + WORSE_DEG and min(upright_at, upright_now) < UPRIGHT_DEG)


LEVEL_UP_DEG = 40.0
"""How far from the image's up :func:`up_from_image` looks for the scene's up by default."""


def up_from_image(
    image: np.ndarray, K: np.ndarray, prior_up_cam=(0.0, -1.0, 0.0), *, max_angle: float = LEVEL_UP_DEG,
    seed: int = 0, feet=None, max_roll: float | None = None, vps=None,
) -> tuple[np.ndarray | None, int]:  # fmt: skip
    """The world's up in the camera's axes (OpenCV, (3,) unit) from one BGR frame, or None.

    Args:
        feet: (N, 2, 3) unit rays (camera axes) to the people's ankles (NaN where unseen), or None.
            Given, a candidate that puts them above its horizon (:func:`under_the_floor`) is no up.
        max_roll: degrees a candidate may lean sideways in the picture (the angle of its
            image-plane part from the image's up), or None: no limit beyond ``max_angle``.
        vps: the frame's vanishing points (:func:`image_vanishing_points`), when already found.

    Returns:
        (up or None, support: the number of segments behind it).
    """
    vps = image_vanishing_points(image, seed=seed) if vps is None else vps
    k_inv = np.linalg.inv(np.asarray(K, dtype=np.float64))
    dirs = [(k_inv @ v / np.linalg.norm(k_inv @ v), n) for v, n in vps]
    prior = np.asarray(prior_up_cam, dtype=np.float64)
    prior = prior / np.linalg.norm(prior)
    cands = [(d, n) for d, n in dirs]
    for a in range(len(dirs)):
        for b in range(a + 1, len(dirs)):
            (da, na), (db, nb) = dirs[a], dirs[b]
            normal = np.cross(da, db)
            # Two horizontal directions are far apart; nearly parallel ones define no plane.
            if np.linalg.norm(normal) > np.sin(np.radians(30)):
                cands.append((normal / np.linalg.norm(normal), min(na, nb)))
    best, support = None, 0
    for d, n in cands:
        d = d if d @ prior >= 0 else -d
        if np.degrees(np.arccos(np.clip(d @ prior, -1, 1))) <= max_angle and n > support:
            if max_roll is not None and abs(np.degrees(np.arctan2(d[0], -d[1]))) > max_roll:
                continue
            if feet is None or not under_the_floor(d, feet):
                best, support = d, n
    return best, support


def image_vanishing_points(image: np.ndarray, seed: int = 0) -> list[tuple[np.ndarray, int]]:
    """:func:`vanishing_points` of one BGR (or grey) frame's line segments, as :func:`up_from_image`
    looks for them."""
    import cv2

    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return vanishing_points(line_segments(gray, min_length=0.03 * max(gray.shape)), seed=seed)


STEEP_UP_DEG = 70.0
"""How far from the image's up :func:`up_from_image` looks for the scene's up when the people's
feet are known (:func:`under_the_floor`): a camera looking down by up to about 70 degrees. Without
them, :data:`LEVEL_UP_DEG`: from a camera looking down by more than about 50 degrees, the lines of
a floor converge above the image within 40 degrees of the image's up, as a building's verticals
would. The wider window is for pitch only: a candidate still leans sideways in the picture by at
most :data:`LEVEL_UP_DEG` (``max_roll``), because the feet do not rule out a horizontal family
running across the picture (for people straight ahead it is level with them), and a phone rolled
25 degrees puts one 65 degrees from the image's up."""


def under_the_floor(up: np.ndarray, feet: np.ndarray) -> bool:
    """Whether ``up`` (camera axes) puts the people's ``feet`` (rays, :func:`up_from_image`) more
    than :data:`anylift.lifting.gravity.FEET_BELOW_HORIZON_DEG` above the camera's horizon (the
    lower ankle, median over the person-frames): the camera would be under the floor. This is
    what a floor's line family taken for verticals does: its direction lies ahead of the camera,
    as every foot in view does, so the feet come out above the horizon it implies. A camera
    looking down at a tiled floor from 51 degrees (``benchmarks/people_video.py --scenes
    steep50``) had its up read that way, 25 degrees up instead of 51 down."""
    from anylift.lifting.gravity import FEET_BELOW_HORIZON_DEG, feet_elevation

    above = feet_elevation(up, feet)
    return above is not None and above > FEET_BELOW_HORIZON_DEG
