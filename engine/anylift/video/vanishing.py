"""The camera's tilt from the image: vanishing points of the scene's straight lines.

Man-made scenes (floors, walls, courtyards, gyms) are full of lines that are either vertical or
horizontal. Line segments (OpenCV's LSD) of one frame are grouped by the vanishing point they
pass through (RANSAC on pairs of segments, the consistency of a segment with a point being the
angle between the segment and the direction from its midpoint to the point). Each vanishing
point ``v`` is a 3D direction ``K^-1 v`` in the camera frame; the up direction is either one
such direction (vertical lines) or the normal of two (horizontal lines: the horizon). Of these
candidates the one within ``max_angle`` of a prior up (frame 0's camera taken as roughly level,
the people's standing axis...) with the most supporting segments wins.
"""

from __future__ import annotations

import numpy as np


def line_segments(gray: np.ndarray, min_length: float) -> np.ndarray:
    """(N, 4) ``x0, y0, x1, y1`` segments longer than ``min_length`` px (LSD)."""
    import cv2

    lsd = cv2.createLineSegmentDetector()
    lines = lsd.detect(gray)[0]
    if lines is None:
        return np.zeros((0, 4))
    seg = lines.reshape(-1, 4).astype(np.float64)
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    return seg[length >= min_length]


def _consistent(seg: np.ndarray, vp: np.ndarray, max_deg: float) -> np.ndarray:
    """(N,) bool: segments whose direction points at the homogeneous point ``vp`` (3,)."""
    mid = 0.5 * (seg[:, :2] + seg[:, 2:])
    d = seg[:, 2:] - seg[:, :2]
    to_vp = vp[:2][None] - mid * vp[2] if abs(vp[2]) > 1e-12 else np.broadcast_to(vp[:2], mid.shape)
    cos = np.abs((d * to_vp).sum(1)) / (np.linalg.norm(d, axis=1) * np.linalg.norm(to_vp, axis=1) + 1e-12)
    return cos >= np.cos(np.radians(max_deg))


def vanishing_points(seg: np.ndarray, *, count: int = 3, max_deg: float = 1.5, iterations: int = 400,
                     seed: int = 0, min_support: int = 8) -> list[tuple[np.ndarray, int]]:  # fmt: skip
    """Up to ``count`` (homogeneous point (3,), inlier count) found one after the other."""
    rng = np.random.default_rng(seed)
    lines = np.cross(np.c_[seg[:, :2], np.ones(len(seg))], np.c_[seg[:, 2:], np.ones(len(seg))])
    weight = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    left = np.ones(len(seg), bool)
    found = []
    for _ in range(count):
        idx = np.flatnonzero(left)
        if len(idx) < min_support:
            break
        best, best_score, best_in = None, 0.0, None
        for _ in range(iterations):
            i, j = rng.choice(idx, 2, replace=False)
            vp = np.cross(lines[i], lines[j])
            if np.linalg.norm(vp) < 1e-12:
                continue
            vp = vp / np.linalg.norm(vp)
            inl = _consistent(seg[idx], vp, max_deg)
            score = weight[idx][inl].sum()
            if score > best_score:
                best, best_score, best_in = vp, score, inl
        if best is None or best_in.sum() < min_support:
            break
        # Refine: the point nearest (least squares) to every inlier's line.
        a = lines[idx][best_in]
        a = a / np.linalg.norm(a[:, :2], axis=1, keepdims=True)
        vp = np.linalg.svd(a * weight[idx][best_in, None])[2][-1]
        found.append((vp / np.linalg.norm(vp), int(best_in.sum())))
        left[idx[best_in]] = False
    return found


def up_from_image(image: np.ndarray, K: np.ndarray, prior_up_cam=(0.0, -1.0, 0.0), *, max_angle: float = 40.0,
                  seed: int = 0) -> tuple[np.ndarray | None, int]:  # fmt: skip
    """The world's up in the camera's axes (OpenCV, (3,) unit) from one BGR frame, or None.

    Returns:
        (up or None, support: the number of segments behind it).
    """
    import cv2

    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    seg = line_segments(gray, min_length=0.03 * max(gray.shape))
    vps = vanishing_points(seg, seed=seed)
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
            best, support = d, n
    return best, support
