"""Place the lifted body at the depth its known size implies (absolute placement).

The multi-view prior fixes the body's depth through its virtual views; under camera designs it has
not seen it gets the body's *size* wrong (bones 10-30 % short), and since every observed joint sits
on its camera ray, a body that is too small is simply placed too close to the camera - the root
error is almost all along the viewing ray. A person's size is the depth cue the SMPLify baseline
uses, so the lifted points are rescaled per frame about that frame's camera centre,

    X'_t = c_t + s_t (X_t - c_t),

which keeps every projection in the input view exactly and changes only depth and size. ``s_t`` is
the weighted median over rigid bones of ``reference length / lifted length``. The reference has the
proportions of the keypoints the prior lifts (:data:`~anylift.lifting.scale.KEYPOINT_BONE_LENGTHS`)
at the body model's size (:func:`reference_bone_lengths`): measured against the body model's own
joints, whose proportions differ by up to 21 % per bone, the scale followed whichever bones a
motion shows side-on (a clip-wide depth bias of 2-6 % that changed with the motion). A bone counts in
proportion to ``sin^2`` of its angle to the viewing ray (a bone seen side-on has its length fixed
by the image, one pointing at the camera by the prior's depth guess), and the log-scales are
smoothed over time (the prior's size error changes slowly: a median over 1 s, then a Gaussian
of 0.5 s, chosen on training-motion cases of the camera-family benchmark).

The body's size leaves a few percent of depth error that wanders from frame to frame (feet tens of
centimetres off the floor in footage from a raised camera). Once the world is level,
:func:`floor_scales` moves each frame along the same rays so that its lowest point (the lower
foot, else hands, knees or back) lies on one horizontal plane - unless the body is in the air for
less than a second (a jump, a flip): a camera that looks down sees a foot's depth from its height
to within centimetres.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter

from anylift.lifting.gravity import ANKLES
from anylift.lifting.scale import BONES, DETECTOR_BONE_FACTORS, KEYPOINT_BONE_LENGTHS, bone_lengths
from anylift.skeletons import COCO17

MEDIAN_SECONDS = 1.0
SMOOTH_SECONDS = 0.5


def depth_scales(
    points: np.ndarray,
    centres: np.ndarray,
    reference: np.ndarray,
    *,
    fps: float = 30.0,
) -> np.ndarray:
    """(T,) per-frame factors about the camera centres that give ``points`` the reference size.

    Args:
        points: (T, 17, 3) lifted COCO-17 keypoints, world metres (NaN where unknown).
        centres: (T, 3) camera centres in the same world.
        reference: (len(BONES),) the expected bone lengths, metres (:func:`reference_bone_lengths`).
        fps: frame rate (the smoothing windows are in seconds).
    """
    pts = np.asarray(points, dtype=np.float64)
    i, j = np.array(BONES).T
    ref = np.asarray(reference, dtype=np.float64)
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
    """``c_t + s_t (X - c_t)`` for (..., T, J, 3) points, (T, 3) centres and (T,) scales (or
    (..., T): one row per leading index of ``points``, e.g. per sample)."""
    c = np.asarray(centres, dtype=np.float64)[:, None]
    return c + np.asarray(scales, dtype=np.float64)[..., None, None] * (np.asarray(points) - c)


def reference_bone_lengths(body, detector: str | None = None) -> np.ndarray:
    """(len(BONES),) the bone lengths :func:`depth_scales` expects: the proportions of the keypoints
    the prior lifts (:data:`~anylift.lifting.scale.KEYPOINT_BONE_LENGTHS`), scaled to the summed
    bone length of ``body``'s mean shape (the body model still sets the person's size), then
    drawn as ``detector`` draws them (:data:`~anylift.lifting.scale.DETECTOR_BONE_FACTORS`; an
    unknown or None detector: as the keypoints are)."""
    rest = bone_lengths(rest_keypoints(body)[None])
    proportions = np.asarray(KEYPOINT_BONE_LENGTHS, dtype=np.float64)
    factors = np.asarray(DETECTOR_BONE_FACTORS.get(detector or "", np.ones(len(BONES))), dtype=np.float64)
    return proportions * (rest.sum() / proportions.sum()) * factors


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
FLOOR_SECONDS = 0.15
"""Time constant of the floor correction's smoothness (seconds): the lift's depth error can change
within a few frames (a track that slips, a window seam). Chosen on the 70 training-motion cases of
the camera-family benchmark (root error 177.7 / 175.0 / 173.5 / 177.1 mm at 0.05 / 0.1 / 0.15 /
0.3 s; on the footage benchmark's lifts the feet in contact were 2.9 / 3.9 cm off the floor at
0.05 / 0.15 s). Moving the ankles near the floor onto it along their rays as well was dropped:
the ankle's height error is the prior's, not depth, so MPJPE (86.9 vs 84.8 mm) and foot sliding
(37.0 vs 27.7 mm a frame) got worse."""
AIRBORNE_M = 0.08
"""A body whose lowest point is this far above the floor may be in the air (a jump, a flip)."""
MAX_FLIGHT_SECONDS = 1.0
"""Longer than this off the floor is not a flight (a human jump lasts well under a second) but a
depth error of the lift, and is put back on the floor."""
FLIGHT_FIT_M = 0.08
"""Metres (RMS): off the floor from the clip's first frame or to its last (neither the take-off nor
the landing seen), a flight's hips follow a free fall's parabola (``g`` = 9.81 m/s^2) within this;
where they do not (sinking at a steady pace from the first frame: a depth error the lift makes at
the clip's start) it is no flight (:func:`_ballistic`). Footage render steep25's puncher: feet 53 cm
up in the first frame and 16.4 cm off in contact on average, 3.7 cm so; 57 lifts of the 18 renders
(``benchmarks/people_video.py --lift-all`` detections): feet 5.14 -> 4.52 cm, 43 -> 45 within 5 cm.
The same test for flights inside the clip as well: 4.44 cm, 45 within 5 cm, but some jumps' and
punches' feet a little worse (portrait30's puncher 4.9 -> 5.7): where both ends are seen, a short
stretch off the floor stays a flight."""
FLIGHT_FREE_M = 0.02
"""Metres (RMS): nor is it a flight where the hips follow some other steady acceleration better than
a free fall by more than this. A third of a second is too short for :data:`FLIGHT_FIT_M` to tell a
fall from a lift sinking at a slowing pace (footage render drone30's roll: feet 86 cm up in the
first frame, a free fall's parabola within 5-8 cm, any parabola within 1 cm). Camera families, the
120 training-motion cases at noise level 1: root 176.4 -> 174.0 mm, T_root 110.8 -> 106.5, W-MPJPE
139.5 -> 136.3 (a roll seen from a surveillance camera 560 -> 279 mm; a dance from above 498 -> 522),
foot sliding 22.2 -> 22.3 mm a frame; footage lifts 52 -> 53 of 63 feet within 5 cm."""
FLIGHT_GAP_SECONDS = 0.1
"""Two stretches off the floor this close are one flight (the lift's height of a flying body wavers)."""
TOUCH_HEIGHTS = {
    9: 0.04, 10: 0.04, 7: 0.05, 8: 0.05, 13: 0.06, 14: 0.06, 5: 0.08, 6: 0.08, 11: 0.09, 12: 0.09,
}  # fmt: skip
"""Metres above the floor of the COCO-17 keypoints other than the ankles when they touch it (wrists
and elbows on the floor, kneeling, lying on the back or side): a hand stand, a crawl or a roll
rests on these."""


def _floor_fit(c: np.ndarray, below: np.ndarray, use: np.ndarray):
    """The floor level and each point's log-scale to it: (frame index, weight, log-scale,
    level) over the ``use`` points (:func:`floor_scales`)."""
    from scipy.optimize import minimize_scalar

    t_idx, k_idx = np.nonzero(use)
    cz, drop = c[t_idx, 2], below[t_idx, k_idx]
    precision = (drop / FLOOR_NOISE_M) ** 2  # 1 / var of log s from a height error of FLOOR_NOISE_M

    def log_s(level: float) -> np.ndarray:  # the scale that puts the ankle at z = level
        return np.log((cz - level) / drop)

    robust = np.ones_like(drop)
    level = float(np.median(cz - drop))
    for _ in range(3):  # Huber-like reweighting: a foot in the air or on a step counts less
        w = precision * robust
        res = minimize_scalar(
            lambda h, w=w: float(np.sum(w * log_s(h) ** 2)),
            bounds=(level - 2.0, min(float(cz.min()) - 0.05, level + 2.0)), method="bounded",
        )  # fmt: skip
        level = float(res.x)
        err = np.abs(log_s(level)) * np.sqrt(precision)  # in units of its own noise
        robust = np.minimum(1.0, 3.0 / np.maximum(err, 1e-9))
    return t_idx, precision * robust, log_s(level), level


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of True in a (T,) bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _flights(airborne: np.ndarray, max_frames: float, gap_frames: float = 0.0) -> np.ndarray:
    """(T,) bool: the runs of ``airborne`` frames no longer than ``max_frames``, after joining runs
    at most ``gap_frames`` apart (a flight whose lifted height dips under the threshold once)."""
    air = np.asarray(airborne, dtype=bool).copy()
    runs = _runs(air)
    for (_, b), (a, _) in itertools.pairwise(runs):  # the gap [b, a) between two runs
        if a - b <= gap_frames:
            air[b:a] = True
    out = np.zeros_like(air)
    for a, b in _runs(air):
        out[a:b] = b - a <= max_frames
    return out


def _ballistic(flight: np.ndarray, hips_z: np.ndarray, fps: float) -> np.ndarray:
    """``flight`` (T,) bool without its runs at the clip's ends whose hips' heights ``hips_z`` (T,)
    fit no free fall within :data:`FLIGHT_FIT_M` (a parabola of curvature -g, start and speed free)
    or fit a parabola of any curvature better by :data:`FLIGHT_FREE_M`."""
    out = flight.copy()
    n = len(flight)
    for a, b in _runs(flight):
        if 0 < a and b < n:
            continue  # take-off and landing seen
        t = np.arange(a, b) / fps
        z = hips_z[a:b]
        ok = np.isfinite(z)
        if ok.sum() < 4:
            continue
        design = np.c_[np.ones(ok.sum()), t[ok]]
        target = z[ok] + 0.5 * 9.81 * t[ok] ** 2
        coef = np.linalg.lstsq(design, target, rcond=None)[0]
        fall = np.sqrt(np.mean((target - design @ coef) ** 2))
        design = np.c_[design, t[ok] ** 2]  # any steady acceleration, up or down
        free = np.sqrt(np.mean((z[ok] - design @ np.linalg.lstsq(design, z[ok], rcond=None)[0]) ** 2))
        if fall > FLIGHT_FIT_M or fall - free > FLIGHT_FREE_M:
            out[a:b] = False
    return out


def floor_scales(points: np.ndarray, centres: np.ndarray, *, fps: float = 30.0, ankle: float = 0.07):
    """Per-frame factors about the camera centres that put the body on one level floor, and that floor.

    In a Z-up world, a point on a flat floor lies where its camera ray meets the floor: the depth
    that the body's size gives only roughly (a few percent), a camera that looks down gives within
    ``FLOOR_NOISE_M / |height difference|``. A person walking, dancing, fighting, crawling or
    rolling touches the floor in nearly every frame - with the lower foot, else the hands, knees,
    back (:data:`TOUCH_HEIGHTS`) - so each frame's lowest point (of those seen from above) is a floor
    observation, except in the air. The floor level (the camera's height above it is unknown) is
    where those points agree with the body-size depths on average (robustly); then the log-scale
    correction ``g`` minimises

        sum_t w_t p_t (g_t - f_t)^2 + g_t^2 / SIZE_LOG_NOISE^2 + lambda (g_t+1 - g_t)^2,

    ``f_t`` the log-scale that puts frame t's lowest point on the floor and ``p_t`` its precision.
    A frame whose lowest point stays over :data:`AIRBORNE_M` above the floor for at most
    :data:`MAX_FLIGHT_SECONDS` is a flight (``w_t = 0``: the body is not pulled out of the air),
    at the clip's ends only where its hips fall as a free fall would (:data:`FLIGHT_FIT_M`);
    anything else is put on the floor (iterated, as ``g`` changes which frames are off it).
    ``lambda`` gives the correction the time constant :data:`FLOOR_SECONDS`. (Detecting resting
    feet by their speed failed: a small person's lifted ankles slide 0.3-1.4 m/s where the true
    foot rests.)

    Args:
        points: (T, 17, 3) keypoints placed by :func:`depth_scales`, Z-up world, metres.
        centres: (T, 3) camera centres.
        fps: frame rate.
        ankle: metres from the sole to the ankle keypoint (the body model's).

    Returns:
        ((T,) scales, the ankles' level z after them), or None when fewer than 5 frames show a
        point from above.
    """
    from scipy.sparse import diags
    from scipy.sparse.linalg import spsolve

    pts = np.asarray(points, dtype=np.float64)
    c = np.asarray(centres, dtype=np.float64)
    n = len(pts)
    joints = list(ANKLES) + list(TOUCH_HEIGHTS)
    lift = np.array([0.0, 0.0] + [h - ankle for h in TOUCH_HEIGHTS.values()])  # above the ankles' plane
    cand = pts[:, joints]
    hips_z = pts[:, [11, 12], 2].mean(axis=1)
    below = c[:, None, 2] - cand[..., 2]  # > 0: seen from above
    dist = np.linalg.norm(cand - c[:, None], axis=-1)
    seen = np.isfinite(below) & (below > 0.05 * dist)
    has = seen.any(axis=1)
    if has.sum() < 5:
        return None
    low = np.argmin(np.where(seen, cand[..., 2] - lift, np.inf), axis=1)  # each frame's lowest point
    lowest = np.zeros_like(seen)
    lowest[np.flatnonzero(has), low[has]] = True
    # The ankles' plane through all lowest points (they stand ``lift`` higher than an ankle would):
    # each camera as high over the lowest point's own plane as over that.
    c_low = c.copy()
    c_low[:, 2] -= lift[low]
    height = c_low[:, 2]
    _, _, _, level = _floor_fit(c_low, below, lowest)  # robust: flights and glitches count less
    drop = np.where(has, below[np.arange(n), low], 1.0)
    precision = np.where(has, (drop / FLOOR_NOISE_M) ** 2, 0.0)
    smooth = float(np.median(precision[has])) * (FLOOR_SECONDS * fps) ** 2
    step = diags([np.ones(n - 1), -np.ones(n - 1)], [0, 1], shape=(n - 1, n))
    system = smooth * (step.T @ step) + diags(np.full(n, 1.0 / SIZE_LOG_NOISE**2))
    g = np.zeros(n)
    long_off = np.zeros(n, dtype=bool)  # once seen off the floor too long, a frame stays on it
    for _ in range(6):
        off = has & ((height - drop * np.exp(g)) - level > AIRBORNE_M)  # off the floor as corrected so far
        flight = _flights(off, MAX_FLIGHT_SECONDS * fps, FLIGHT_GAP_SECONDS * fps)
        flight = _ballistic(flight, c[:, 2] + np.exp(g) * (hips_z - c[:, 2]), fps)
        long_off |= off & ~flight
        w = (has & (~flight | long_off)).astype(float)
        if (w > 0).sum() >= 5:  # the level from the frames on the floor only (not the flights)
            _, _, _, level = _floor_fit(c_low, below, lowest & (w > 0)[:, None])
        f = np.where(has, np.log(np.maximum(height - level, 1e-6) / drop), 0.0)
        g = spsolve((system + diags(precision * w)).tocsc(), precision * w * f)
    return np.exp(g), level


LIMB_CHAINS: tuple[tuple[int, int, int], ...] = ((5, 7, 9), (6, 8, 10), (11, 13, 15), (12, 14, 16))
"""COCO-17 (shoulder or hip, elbow or knee, wrist or ankle) of each limb, left then right."""


def unseen_limb_lengths(
    points: np.ndarray, seen: np.ndarray, reference: np.ndarray, *, min_frames: int = 5, min_gap: int = 1
) -> np.ndarray:
    """Limb joints the 2D never showed, moved along the prior's direction to their bone's length.

    Where the input view misses a knee or an ankle (legs out of the frame, behind an object),
    the prior draws it from context alone, and such unseen limbs come out short: with the legs
    never in view, a walker's hip-to-ankle distance was 0.47 m instead of 0.79, and the feet
    hung 0.4 m above the floor. Each unseen elbow, wrist, knee or ankle is put at its bone's
    length from its (possibly moved) parent, in the direction the prior drew; seen joints stay
    where they are, so an unseen knee above a seen ankle moves alone.

    Lengths are relative to each frame's own size (a lift's size changes from frame to frame):
    the median ratio of the frame's seen bones (both ends seen) to ``reference``. A
    bone's length is that size times its own median ratio over the frames it is seen in (at
    least ``min_frames``), else its mirror bone's, else ``reference``'s; frames that see fewer
    than three bones take the clip's median size. Nothing changes when no frame sees a bone.

    Args:
        points: (..., T, K, 3) lifted keypoints, COCO-17 first (any further points pass unchanged).
        seen: (T, 17) bool, the joints the input view shows.
        reference: (len(:data:`BONES`),) expected bone lengths (only their proportions matter).
        min_frames: frames a bone must be seen in to be measured.
        min_gap: only a joint's runs of at least this many unseen frames are moved (the prior
            bridges short gaps from the frames around them).

    Returns:
        A new array of ``points``' shape.
    """
    pts = np.array(points, dtype=np.float64)
    flat = pts.reshape(-1, *pts.shape[-3:])
    seen = np.asarray(seen, dtype=bool)
    if seen.all():
        return pts
    ref = np.asarray(reference, dtype=np.float64)
    i, j = np.array(BONES).T
    both = seen[:, i] & seen[:, j]  # (T, B)
    gaps = np.zeros_like(seen)
    for k in range(seen.shape[1]):
        for a, b in _runs(~seen[:, k]):
            gaps[a:b, k] = b - a >= min_gap
    index = {bone: b for b, bone in enumerate(BONES)}
    flip = COCO17.flip
    for one in flat:  # each sample measures its own bones
        ratio = np.where(both, np.linalg.norm(one[:, i] - one[:, j], axis=-1) / ref, np.nan)
        counted = both.sum(1) >= 3
        if not counted.any():
            continue
        size = np.full(len(one), np.nanmedian(ratio[counted]))
        size[counted] = np.nanmedian(ratio[counted], axis=1)
        rel = np.full(len(BONES), np.nan)
        measured = both.sum(0) >= min_frames
        rel[measured] = np.nanmedian(ratio[:, measured] / size[:, None], axis=0)
        old = one.copy()
        for chain in LIMB_CHAINS:
            for k in (1, 2):
                parent, joint = chain[k - 1], chain[k]
                b, twin = index[(parent, joint)], index[(flip[parent], flip[joint])]
                factor = rel[b] if np.isfinite(rel[b]) else rel[twin] if np.isfinite(rel[twin]) else 1.0
                todo = gaps[:, joint]
                direction = old[todo, joint] - old[todo, parent]
                norm = np.linalg.norm(direction, axis=-1, keepdims=True)
                length = (factor * ref[b] * size[todo])[:, None]
                one[todo, joint] = one[todo, parent] + direction * (length / np.maximum(norm, 1e-9))
    return pts
