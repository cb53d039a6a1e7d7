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
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter

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
