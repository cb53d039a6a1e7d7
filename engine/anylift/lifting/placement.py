"""Place the lifted body at the depth its known size implies (absolute placement).

The multi-view prior fixes the body's depth through its virtual views; under camera designs it has
not seen it gets the body's *size* wrong (bones 10-30 % short), and since every observed joint sits
on its camera ray, a body that is too small is simply placed too close to the camera - the root
error is almost all along the viewing ray. A person's size is the depth cue the SMPLify baseline
uses, so the lifted points are rescaled per frame about that frame's camera centre,

    X'_t = c_t + s_t (X_t - c_t),

which keeps every projection in the input view exactly and changes only depth and size. ``s_t`` is
the weighted median over rigid bones of ``reference length / lifted length``; a bone counts in
proportion to ``sin^2`` of its angle to the viewing ray (a bone seen side-on has its length fixed
by the image, one pointing at the camera by the prior's depth guess), and the log-scales are
smoothed over time (the prior's size error changes slowly: a median over 1 s, then a Gaussian
of 0.5 s, chosen on training-motion cases of the camera-family benchmark).

The body's size leaves a few percent of depth error that wanders from frame to frame (feet tens of
centimetres off the floor in footage from a raised camera). Once the world is level,
:func:`floor_scales` moves each frame along the same rays so that the resting ankles lie on one
horizontal plane: a camera that looks down sees an ankle's depth from its height to within
centimetres. The resting feet are those the lift shows still, then - once the floor is known -
those whose rays meet the floor at a still point (the lift's depth jitter hides a small person's
resting feet from the first test).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter

from anylift.lifting.gravity import ANKLES, CONTACT_SPEED
from anylift.lifting.scale import BONES, bone_lengths

MEDIAN_SECONDS = 1.0
SMOOTH_SECONDS = 0.5


def depth_scales(
    points: np.ndarray,
    centres: np.ndarray,
    reference_keypoints: np.ndarray,
    *,
    fps: float = 30.0,
) -> np.ndarray:
    """(T,) per-frame factors about the camera centres that give ``points`` the reference size.

    Args:
        points: (T, 17, 3) lifted COCO-17 keypoints, world metres (NaN where unknown).
        centres: (T, 3) camera centres in the same world.
        reference_keypoints: (17, 3) a body of the expected size (the body model's mean shape).
        fps: frame rate (the smoothing windows are in seconds).
    """
    pts = np.asarray(points, dtype=np.float64)
    i, j = np.array(BONES).T
    ref = bone_lengths(np.asarray(reference_keypoints, dtype=np.float64)[None])
    bone = pts[:, i] - pts[:, j]  # (T, B, 3)
    length = np.linalg.norm(bone, axis=-1)
    mid = 0.5 * (pts[:, i] + pts[:, j])
    ray = mid - np.asarray(centres, dtype=np.float64)[:, None]
    cos = np.abs((bone * ray).sum(-1)) / np.maximum(length * np.linalg.norm(ray, axis=-1), 1e-12)
    weight = np.clip(1.0 - cos**2, 0.0, 1.0)
    ratio = ref[None] / np.maximum(length, 1e-9)
    ok = np.isfinite(ratio) & np.isfinite(weight) & (length > 1e-6) & (weight > 1e-3)
    log_s = np.full(len(pts), np.nan)
    for t in range(len(pts)):
        r, w = np.log(ratio[t, ok[t]]), weight[t, ok[t]]
        if w.sum() > 0.5:
            order = np.argsort(r)
            cum = np.cumsum(w[order])
            log_s[t] = r[order][np.searchsorted(cum, 0.5 * cum[-1])]
    good = np.isfinite(log_s)
    if not good.any():
        return np.ones(len(pts))
    log_s = np.interp(np.arange(len(pts)), np.flatnonzero(good), log_s[good])
    size = max(round(MEDIAN_SECONDS * fps) | 1, 1)
    if len(pts) > size:
        log_s = median_filter(log_s, size=size, mode="nearest")
    log_s = gaussian_filter1d(log_s, max(SMOOTH_SECONDS * fps, 1e-3), mode="nearest")
    return np.exp(log_s)


def rescale_about_centres(points: np.ndarray, centres: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """``c_t + s_t (X - c_t)`` for (..., T, J, 3) points, (T, 3) centres and (T,) scales."""
    c = np.asarray(centres, dtype=np.float64)[:, None]
    return c + np.asarray(scales, dtype=np.float64)[:, None, None] * (np.asarray(points) - c)


def rest_keypoints(body) -> np.ndarray:
    """(17, 3) COCO-17 keypoints of ``body``'s mean shape standing upright (metres): the known size."""
    import torch

    from anylift.body.model import ZUP_REST_GLOBAL_ORIENT

    with torch.no_grad():
        out = body(global_orient=torch.as_tensor(ZUP_REST_GLOBAL_ORIENT[None], dtype=body.dtype))
    return out.keypoints[0].double().cpu().numpy()


def floor_shift(body, fit) -> np.ndarray:
    """(3,) the translation ``(0, 0, -floor)`` that puts the fitted body's floor (its feet's
    contact level, :func:`anylift.lifting.world.ground_offset`) at z = 0."""
    import torch

    from anylift.lifting.world import ground_offset

    lowest = []
    with torch.no_grad():
        for t0 in range(0, len(fit.transl), 256):  # chunks: 6890 vertices a frame add up
            part = slice(t0, t0 + 256)
            verts = body(
                betas=torch.as_tensor(fit.betas[None], dtype=body.dtype),
                global_orient=torch.as_tensor(fit.global_orient[part], dtype=body.dtype),
                body_pose=torch.as_tensor(fit.body_pose[part], dtype=body.dtype),
                transl=torch.as_tensor(fit.transl[part], dtype=body.dtype),
            ).vertices
            lowest.append(verts[..., 2].min(dim=1, keepdim=True).values.double().numpy())
    return np.array([0.0, 0.0, ground_offset(np.concatenate(lowest))])


FLOOR_NOISE_M = 0.03
"""Metres: how far a resting ankle's height strays from its floor level (the floor cue's noise)."""
SIZE_LOG_NOISE = 0.05
"""The body-size cue's per-frame error in log-scale (measured 2-5 % biases per clip)."""
FLOOR_SECONDS = 0.5
"""Each frame's floor correction pools the resting ankles within about this (Gaussian sigma)."""


FOOT_LIFT_M = 0.3
"""An ankle this far above the floor is not resting on it, however still."""


def _floor_fit(c: np.ndarray, below: np.ndarray, use: np.ndarray):
    """The floor level and each resting ankle's log-scale to it: (frame index, weight, log-scale,
    level) over the ``use`` ankles (:func:`floor_scales`)."""
    from scipy.optimize import minimize_scalar

    t_idx, k_idx = np.nonzero(use)
    cz, drop = c[t_idx, 2], below[t_idx, k_idx]
    precision = (drop / FLOOR_NOISE_M) ** 2  # 1 / var of log s from a height error of FLOOR_NOISE_M

    def log_s(level: float) -> np.ndarray:  # the scale that puts the ankle at z = level
        return np.log((cz - level) / drop)

    robust = np.ones_like(drop)
    level = float(np.median(cz - drop))
    for _ in range(3):  # Huber-like reweighting: a foot on a step or a false contact counts less
        w = precision * robust
        res = minimize_scalar(
            lambda h, w=w: float(np.sum(w * log_s(h) ** 2)),
            bounds=(level - 2.0, min(float(cz.min()) - 0.05, level + 2.0)), method="bounded",
        )  # fmt: skip
        level = float(res.x)
        err = np.abs(log_s(level)) * np.sqrt(precision)  # in units of its own noise
        robust = np.minimum(1.0, 3.0 / np.maximum(err, 1e-9))
    return t_idx, precision * robust, log_s(level), level


def floor_scales(points: np.ndarray, centres: np.ndarray, contacts: np.ndarray, *, fps: float = 30.0):
    """(T,) per-frame factors about the camera centres that put the resting ankles on one level floor.

    In a Z-up world, an ankle resting on a flat floor lies where its camera ray meets the plane
    ``z = H``: the depth that the body's size gives only roughly (a few percent), a camera that
    looks down gives within ``FLOOR_NOISE_M / |height difference|``. ``H`` (the camera's height
    above the floor is unknown) is the level at which the floor agrees with the body-size depths
    on average; each frame then takes the precision-weighted mean of its resting ankles' floor
    depths (pooled over :data:`FLOOR_SECONDS`) and the body-size depth (log-scale 0, noise
    :data:`SIZE_LOG_NOISE`). Frames far from any contact keep the body-size depth.

    Args:
        points: (T, 17, 3) keypoints placed by :func:`depth_scales`, Z-up world, metres.
        centres: (T, 3) camera centres.
        contacts: (T, 2) bool, ankles at rest (:func:`anylift.lifting.gravity.contacts`).
        fps: frame rate.

    Returns:
        (T,) scales, or None when fewer than 5 resting ankles are seen from above.
    """
    pts = np.asarray(points, dtype=np.float64)
    c = np.asarray(centres, dtype=np.float64)
    ank = pts[:, list(ANKLES)]
    below = c[:, None, 2] - ank[..., 2]  # > 0: the ankle is seen from above
    dist = np.linalg.norm(ank - c[:, None], axis=-1)
    seen = np.isfinite(below) & (below > 0.05 * dist)
    use = np.asarray(contacts, bool) & seen
    if use.sum() < 5:
        return None
    t_idx, w, f, level = _floor_fit(c, below, use)
    # Resting feet again, now from the ankles' rays meeting that floor: the lift's depth jitter
    # (which hides resting feet of small people) is gone from those points.
    reach = (c[:, None, 2] - level) / np.maximum(below, 1e-9)
    on_floor = c[:, None] + reach[..., None] * (ank - c[:, None])
    speed = np.full(below.shape, np.inf)
    if len(pts) > 1:
        speed = np.linalg.norm(np.gradient(on_floor, axis=0), axis=-1) * fps
    rest = seen & (speed < CONTACT_SPEED) & (ank[..., 2] - level < FOOT_LIFT_M)
    if rest.sum() >= 5:
        t_idx, w, f, level = _floor_fit(c, below, rest)
    num, den = np.zeros(len(pts)), np.zeros(len(pts))
    np.add.at(num, t_idx, w * f)
    np.add.at(den, t_idx, w)
    sigma = max(FLOOR_SECONDS * fps, 1e-3)
    num = gaussian_filter1d(num, sigma, mode="constant")
    den = gaussian_filter1d(den, sigma, mode="constant")
    return np.exp(num / (den + 1.0 / SIZE_LOG_NOISE**2))
