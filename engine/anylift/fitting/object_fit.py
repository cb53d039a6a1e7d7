"""Object pose fitting: triangulated 3D object keypoints -> per-frame rotation, translation, one scale.

The model (AnyLift HOI): keypoint ``i`` of an object at frame ``t`` is ``s R_t p_i + t_t`` with
``p_i`` the template's canonical keypoints (:mod:`anylift.object_templates`), ``R_t`` the object frame ->
world rotation, ``t_t`` the object origin in the world (metres) and ``s`` one uniform scale per clip.

1. **Scale**: the distance ratio of the template's reference keypoint pair (observed / canonical),
   the median over the frames where both are seen; without such a frame, the median ratio of the
   visible keypoints' spreads.
2. **Per-frame initialisation**: weighted rigid alignment (Kabsch) of ``s p`` to the frame's
   visible keypoints, on frames with at least 3 visible keypoints not on one line. Frames with
   fewer get the rotation interpolated (slerp) between their neighbours and the translation that
   best fits the keypoints they have (or interpolated when they have none).
3. **Symmetries**: a symmetric object (a box) has several poses that put its keypoints on the
   same places; a detector that labels corners by appearance may swap labels between frames, and
   the per-frame alignment then jumps between equivalent poses. Frame by frame, the symmetry-
   equivalent rotation closest to the previous frame's is kept (the first frame keeps its own),
   and the observed keypoints are relabelled to match (:mod:`anylift.object_templates`, "Symmetry
   convention"), so nothing flips. The same choice is made again after the refinement.
4. **Refinement**: Adam over per-frame 6D rotations (Zhou et al.), translations and the log of
   the clip's scale. Loss: the weighted mean distance between model and observed keypoints
   (a pseudo-Huber distance, ``sqrt(d^2 + eps^2) - eps``: like the paper's mean distance, its pull
   does not fade near the optimum, so a small smoothness weight cannot drag noiseless fits off
   the data) plus ``w_smooth`` times the mean squared second difference of the rotation matrices
   (Frobenius). A second difference rather than the paper's first difference: a first difference
   pulls every steadily spinning object towards spinning slower; a second difference vanishes
   for constant angular velocity up to O(angle^2). The learning rate decays (cosine) so the result
   settles to well under a millimetre on clean data.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial.transform import Rotation, Slerp

from anylift.errors import InputError
from anylift.geometry.rotations import matrix_to_rot6d, rot6d_to_matrix
from anylift.geometry.transforms import similarity_align, spans_plane
from anylift.object_templates import ObjectTemplate
from anylift.progress import ProgressFn, check_cancel, report

MIN_VISIBLE = 3
_STAGE = "object pose"


@dataclass
class ObjectFitConfig:
    """Schedule and weights of :func:`fit_object_pose`.

    iterations: Adam steps (0: initialisation only). lr: initial learning rate, decayed by a
    cosine to ``lr * lr_final_fraction``. w_smooth: weight of the rotation second-difference term
    (per frame, squared Frobenius norm) relative to the mean distance in metres. eps: metres, the
    pseudo-Huber softening of the distance. fit_scale: refine the scale (else keep the initial).
    """

    iterations: int = 400
    lr: float = 0.01
    lr_final_fraction: float = 1e-3
    w_smooth: float = 0.1
    eps: float = 1e-4
    fit_scale: bool = True


@dataclass
class ObjectFit:
    """An object's fitted poses over a clip (numpy float64, world metres).

    Attributes:
        rotation: (T, 3, 3) object frame -> world (``Motion.object_rotation[n]``).
        translation: (T, 3) object origin in the world (``Motion.object_translation[n]``).
        scale: the clip's uniform scale of the canonical keypoints (``Motion.object_scale[n]``).
        keypoints3d: (T, M, 3) the fitted keypoints ``s R p + t``.
        assignment: (T, M) int64: the observed keypoint matched to each canonical keypoint
            (the identity unless a symmetric object's labels were swapped).
        observed: (T,) bool, frames whose pose the data determines (>= 3 keypoints not on a line).
        error: (T,) weighted mean distance of the fit to the visible keypoints (NaN: none visible).
        final_error: the weighted mean distance over the clip, metres.
    """

    rotation: np.ndarray
    translation: np.ndarray
    scale: float
    keypoints3d: np.ndarray
    assignment: np.ndarray
    observed: np.ndarray
    error: np.ndarray
    final_error: float


def _weights(points: np.ndarray, weights, template: ObjectTemplate) -> np.ndarray:
    if points.ndim != 3 or points.shape[2] != 3 or points.shape[1] != template.num_keypoints:
        raise InputError(
            f"object keypoints have shape {points.shape}",
            field="keypoints3d",
            expected=f"(T, {template.num_keypoints}, 3) for the {template.category!r} template",
        )
    shape = points.shape[:2]
    if weights is None:
        w = np.ones(shape)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != shape:
            raise InputError(f"has shape {w.shape}", field="weights", expected=f"{shape} (T, M)")
        if not np.all(np.isfinite(w)) or (w < 0).any():
            raise InputError(
                "has negative or non-finite values", field="weights", expected="confidences >= 0"
            )
    return np.where(np.isfinite(points).all(-1), w, 0.0)


def _nondegenerate(canonical: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(T,) frames whose visible canonical keypoints are >= 3 and span more than a line."""
    return ((w > 0).sum(1) >= MIN_VISIBLE) & spans_plane(canonical, w)


def _wmean(points: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(T, 3) weighted mean over keypoints of (T or 1, M, 3) points (0 where the weights are all 0)."""
    total = w.sum(1, keepdims=True)
    p = np.where(w[..., None] > 0, points, 0.0)
    return (w[..., None] * p).sum(1) / np.maximum(total, 1e-300)


def initial_scale(points: np.ndarray, w: np.ndarray, template: ObjectTemplate) -> float:
    """The clip's scale from the reference pair (module docstring, step 1).

    Args:
        points: (T, M, 3) observed keypoints, metres. w: (T, M) weights (0 = not seen).

    Raises:
        InputError: no frame shows two keypoints.
    """
    i, j = template.reference_pair
    can = template.canonical
    both = (w[:, i] > 0) & (w[:, j] > 0)
    if both.any():
        d = np.linalg.norm(points[both, i] - points[both, j], axis=-1)
        return float(np.median(d) / np.linalg.norm(can[i] - can[j]))
    ratios = []
    for t in np.flatnonzero((w > 0).sum(1) >= 2):
        vis = w[t] > 0
        q, p = points[t, vis], can[vis]
        spread_p = np.linalg.norm(p - p.mean(0))
        if spread_p > 0:
            ratios.append(np.linalg.norm(q - q.mean(0)) / spread_p)
    if not ratios:
        raise InputError(
            "no frame shows two object keypoints",
            field="object keypoints",
            expected="at least one frame with two or more visible keypoints (else the scale is unknown)",
        )
    return float(np.median(ratios))


def kabsch(canonical: np.ndarray, points: np.ndarray, w: np.ndarray, scale: float):
    """Weighted rigid alignment per frame: ``argmin_{R,t} sum_i w_i |s R p_i + t - q_i|^2``.

    Args:
        canonical: (M, 3) p. points: (T, M, 3) q (NaN where w is 0). w: (T, M). scale: s.

    Returns:
        rotation (T, 3, 3) and translation (T, 3); meaningful on non-degenerate frames only.
    """
    # The rotation does not depend on s: align the scaled template rigidly.
    _, rot, trans = similarity_align(scale * canonical, points, w, scale=False)
    return rot, trans


def choose_symmetric(
    rotation: np.ndarray,
    translation: np.ndarray,
    scale: float,
    template: ObjectTemplate,
    frames: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame, the symmetry-equivalent pose whose rotation is closest to the previous frame's.

    Args:
        rotation: (T, 3, 3); translation: (T, 3); scale: s.
        frames: indices of the frames to decide, in time order (default all); the others keep
            their pose and symmetry 0 (identity), and the previous frame is the last decided one.

    Returns:
        rotation (T, 3, 3), translation (T, 3) of the chosen poses, and the chosen symmetry
        index (T,) int64 (into ``template.symmetry_*``). The first decided frame keeps its pose.
    """
    rotation, translation = rotation.copy(), translation.copy()
    chosen = np.zeros(len(rotation), dtype=np.int64)
    if template.num_symmetries == 1:
        return rotation, translation, chosen
    frames = np.arange(len(rotation)) if frames is None else np.asarray(frames)
    g, d = template.symmetry_rotations, template.symmetry_offsets
    previous = None
    for t in frames:
        if previous is not None:
            candidates = rotation[t] @ g  # (G, 3, 3)
            # Closest rotation = largest trace of previous^T candidate (smallest geodesic angle).
            k = int(np.argmax(np.einsum("ij,gij->g", previous, candidates)))
            if k:
                translation[t] = translation[t] + scale * rotation[t] @ d[k]
                rotation[t] = candidates[k]
                chosen[t] = k
        previous = rotation[t]
    return rotation, translation, chosen


def _fill_unobserved(rotation, translation, observed, canonical, points, w, scale):
    """Slerp rotations and fit or interpolate translations of frames without a determined pose."""
    t_all = np.arange(len(rotation))
    idx = np.flatnonzero(observed)
    if len(idx) == len(rotation):
        return rotation, translation
    if len(idx) == 1:
        rotation[:] = rotation[idx[0]]
    else:
        slerp = Slerp(idx.astype(float), Rotation.from_matrix(rotation[idx]))
        rotation[:] = slerp(np.clip(t_all, idx[0], idx[-1]).astype(float)).as_matrix()
    for k in range(3):
        translation[:, k] = np.interp(t_all, idx, translation[idx, k])
    partial = ~observed & ((w > 0).sum(1) > 0)
    if partial.any():
        # The keypoints a frame has fix its translation given the interpolated rotation.
        p_bar = _wmean(canonical[None], w[partial])
        q_bar = _wmean(np.where(w[partial, :, None] > 0, points[partial], 0.0), w[partial])
        translation[partial] = q_bar - scale * np.einsum("tij,tj->ti", rotation[partial], p_bar)
    return rotation, translation


def _relabel(assignment: np.ndarray, template: ObjectTemplate, chosen: np.ndarray) -> np.ndarray:
    """(T, M) ``assignment`` with the symmetries ``chosen`` (T,) composed in (``pi`` after it)."""
    return np.take_along_axis(assignment, template.symmetry_permutations[chosen], axis=1)


def _refine(rotation, translation, scale, canonical, targets, w, cfg, progress, cancel):
    dtype = torch.float64
    r6 = torch.tensor(matrix_to_rot6d(rotation), dtype=dtype, requires_grad=True)
    trans = torch.tensor(translation, dtype=dtype, requires_grad=True)
    log_s = torch.tensor(math.log(scale), dtype=dtype, requires_grad=cfg.fit_scale)
    p = torch.tensor(canonical, dtype=dtype)
    q = torch.tensor(np.where(w[..., None] > 0, targets, 0.0), dtype=dtype)
    wt = torch.tensor(w, dtype=dtype)
    total = wt.sum().clamp_min(1e-12)
    params = [r6, trans] + ([log_s] if cfg.fit_scale else [])
    opt = torch.optim.Adam(params, lr=cfg.lr)
    n = cfg.iterations
    final = cfg.lr * cfg.lr_final_fraction
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: (final + 0.5 * (cfg.lr - final) * (1 + math.cos(math.pi * k / max(n, 1)))) / cfg.lr
    )
    for k in range(n):
        if k % 20 == 0:
            check_cancel(cancel)
            report(progress, _STAGE, k, n)
        opt.zero_grad()
        rot = rot6d_to_matrix(r6)
        model = torch.exp(log_s) * torch.einsum("tij,mj->tmi", rot, p) + trans[:, None]
        dist = torch.sqrt(((model - q) ** 2).sum(-1) + cfg.eps**2) - cfg.eps
        loss = (wt * dist).sum() / total
        if len(rot) > 2 and cfg.w_smooth > 0:
            acc = rot[2:] - 2 * rot[1:-1] + rot[:-2]
            loss = loss + cfg.w_smooth * (acc**2).sum((-1, -2)).mean()
        loss.backward()
        opt.step()
        sched.step()
    report(progress, _STAGE, n, n)
    with torch.no_grad():
        return rot6d_to_matrix(r6).numpy(), trans.detach().numpy().copy(), float(torch.exp(log_s))


def fit_object_pose(
    keypoints3d,
    template: ObjectTemplate,
    *,
    weights=None,
    scale: float | None = None,
    config: ObjectFitConfig | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> ObjectFit:
    """Fit one object's pose per frame and its scale per clip to 3D keypoints (module docstring).

    Args:
        keypoints3d: (T, M, 3) triangulated object keypoints, world metres; NaN where unknown.
        template: the object's template (:func:`anylift.object_templates.template_for_track`).
        weights: (T, M) confidences >= 0 or bool visibility (0 / False: masked), default all 1;
            non-finite keypoints are masked whatever their weight.
        scale: the object's known scale (then only refined if ``config.fit_scale``); default from
            the reference pair.
        config: :class:`ObjectFitConfig`.
        progress, cancel: the engine's progress protocol (stage ``"object pose"``).

    Returns:
        :class:`ObjectFit`.

    Raises:
        InputError: wrong shapes, no frame with two visible keypoints, or no frame with three
            visible keypoints not on one line (the rotation would be undetermined everywhere).
    """
    cfg = config or ObjectFitConfig()
    points = np.asarray(keypoints3d, dtype=np.float64)
    w = _weights(points, weights, template)
    can = template.canonical
    observed = _nondegenerate(can, w)
    if not observed.any():
        raise InputError(
            "no frame shows three object keypoints that are not on one line",
            field="object keypoints",
            expected="at least one frame with 3 or more visible, non-collinear keypoints",
        )
    s = initial_scale(points, w, template) if scale is None else float(scale)
    t_count = len(points)
    assignment = np.tile(np.arange(template.num_keypoints, dtype=np.int64), (t_count, 1))

    rot, trans = kabsch(can, points, w, s)
    rot, trans, chosen = choose_symmetric(rot, trans, s, template, np.flatnonzero(observed))
    assignment = _relabel(assignment, template, chosen)
    # Unobserved frames take the labelling of the nearest observed frame.
    obs_idx = np.flatnonzero(observed)
    nearest = obs_idx[np.abs(np.arange(t_count)[:, None] - obs_idx[None]).argmin(1)]
    assignment[~observed] = assignment[nearest[~observed]]
    targets = np.take_along_axis(points, assignment[..., None], axis=1)
    tw = np.take_along_axis(w, assignment, axis=1)
    rot, trans = _fill_unobserved(rot, trans, observed, can, targets, tw, s)

    if cfg.iterations > 0:
        for _ in range(2):
            rot, trans, s = _refine(rot, trans, s, can, targets, tw, cfg, progress, cancel)
            rot, trans, chosen = choose_symmetric(rot, trans, s, template)
            if not chosen.any():
                break
            assignment = _relabel(assignment, template, chosen)
            targets = np.take_along_axis(points, assignment[..., None], axis=1)
            tw = np.take_along_axis(w, assignment, axis=1)

    fitted = s * np.einsum("tij,mj->tmi", rot, can) + trans[:, None]
    dist = np.linalg.norm(fitted - np.where(tw[..., None] > 0, targets, 0.0), axis=-1)
    per_frame_w = tw.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        error = np.where(per_frame_w > 0, (tw * dist).sum(1) / per_frame_w, np.nan)
    return ObjectFit(
        rotation=rot,
        translation=trans,
        scale=float(s),
        keypoints3d=fitted,
        assignment=assignment,
        observed=observed,
        error=error,
        final_error=float((tw * dist).sum() / max(tw.sum(), 1e-300)),
    )
