"""Human-object interaction (HOI) in :func:`anylift.pipeline.lift`: which object is lifted, how its
keypoints join the body's, and how its pose is fitted.

An HOI checkpoint (``DenoiserConfig.num_object_keypoints = M`` > 0, its category in the
checkpoint's ``extra["object_category"]``, e.g. ``"box"``) denoises ``17 + M`` points per frame:
the COCO-17 body joints, then the M object keypoints in the category template's order
(:mod:`anylift.object_templates`). **One object per model**: the first object track of the input whose
category is the checkpoint's (any track with M keypoints when the checkpoint records no
category) is lifted; other tracks are skipped with a warning.

The object's 2D keypoints are appended to the body's as further points (observed + mask:
below the checkpoint's score threshold a keypoint is masked and the model completes it), so the
whole sampling machinery - windows, virtual views, observed-keypoint guidance, multi-view
consistency, robust triangulation, observed points on their camera rays - treats them like
joints. Only the per-view model-coordinate ``scale`` and the ring's centre come from the body
alone (as in training, :func:`anylift.data.multiview.multiview_window`).

The triangulated object keypoints Q (T, M, 3), in the final result world (after ``--ground``),
go to :func:`anylift.fitting.object_fit.fit_object_pose` with per-keypoint weights
(:func:`object_weights`): the detector score where observed, :data:`COMPLETED_WEIGHT` where the
model completed a masked keypoint (it still carries the model's guess, which bridges occlusion
bursts, but observed keypoints dominate), times the samples' agreement when S > 1.

Mismatches (module-level policy):

- input objects, body-only checkpoint: the human is lifted as usual and a warning says objects
  need an HOI checkpoint (``--checkpoint``); the result has no objects;
- HOI checkpoint, no matching object in the input: :class:`~anylift.errors.InputError`.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass

import numpy as np

from anylift.errors import InputError
from anylift.fitting.object_fit import ObjectFit, ObjectFitConfig, fit_object_pose
from anylift.io.keypoints import Keypoints2D, ObjectTrack
from anylift.lifting.placement import rescale_about_centres
from anylift.object_templates import ObjectTemplate, template_for_track
from anylift.progress import ProgressFn

NUM_BODY = 17
"""Body points first (COCO-17), then the object's."""

COMPLETED_WEIGHT = 0.1
"""Fit weight of an object keypoint the model completed (masked in the input), vs score in [0.3, 1]."""

SAMPLE_SPREAD_M = 0.05
"""Sample spread (metres RMS) that halves a keypoint's fit weight (as for the body)."""


class ObjectsIgnoredWarning(UserWarning):
    """The input has objects that this lift leaves out (body-only checkpoint, smplify, extra tracks)."""


@dataclass(frozen=True)
class ObjectPlan:
    """The object lifted with the body.

    Attributes:
        index: position of the track in ``keypoints.objects``.
        track: the track (T, M, 3) ``[x px, y px, score]``.
        template: its keypoint template (canonical keypoints, symmetries).
    """

    index: int
    track: ObjectTrack
    template: ObjectTemplate

    @property
    def num_keypoints(self) -> int:
        """M."""
        return self.template.num_keypoints


def warn(message: str, messages: list[str]) -> None:
    """Record ``message`` in ``messages`` (the LiftReport's) and emit it as a warning."""
    messages.append(message)
    warnings.warn(message, ObjectsIgnoredWarning, stacklevel=3)


def plan_objects(
    keypoints: Keypoints2D,
    num_object_keypoints: int,
    category: str | None,
    *,
    method: str = "anylift",
    checkpoint: str | None = None,
    messages: list[str] | None = None,
) -> ObjectPlan | None:
    """Choose the object to lift (module doc) and check it fits the model.

    Args:
        keypoints: the input (``keypoints.objects``: the tracks).
        num_object_keypoints: the model's M (0: body-only model).
        category: the model's object category (``extra["object_category"]``), or None.
        method: ``"anylift"`` or ``"smplify"`` (the baseline lifts no objects).
        checkpoint: the checkpoint file, named in messages.
        messages: warnings are appended here (and emitted as :class:`ObjectsIgnoredWarning`).

    Returns:
        The :class:`ObjectPlan`, or None when no object is lifted.

    Raises:
        InputError: an HOI model but no usable object track (names the keypoints file, the
            field and what the model expects).
    """
    messages = [] if messages is None else messages
    tracks = list(keypoints.objects or [])
    m = int(num_object_keypoints)
    if method != "anylift":
        if tracks:
            warn(
                f"the input has {len(tracks)} object track(s) ({', '.join(t.name for t in tracks)}); "
                f"method {method!r} lifts the person only",
                messages,
            )
        return None
    if m == 0:
        if tracks:
            warn(
                f"the input has {len(tracks)} object track(s) ({', '.join(t.name for t in tracks)}) but "
                "the checkpoint is a body-only model: the person is lifted, the objects are not. "
                "Objects need an HOI checkpoint: pass one with --checkpoint (checkpoint=...)",
                messages,
            )
        return None
    what = f"{category!r} objects" if category else f"objects with {m} keypoints"
    named = f" {checkpoint}" if checkpoint else ""
    if not tracks:
        raise InputError(
            f"the checkpoint{named} is an HOI model for {what} but the input has no object track",
            path=keypoints.path,
            field="objects",
            expected=f"one object track with {m} keypoints per frame"
            + (f" (category {category!r})" if category else ""),
            fix="Add the object's 2D keypoints to the keypoints file, or pass a body-only checkpoint",
        )
    candidates = [
        i
        for i, t in enumerate(tracks)
        if t.keypoints.shape[1] == m and (not category or t.category == category)
    ]
    if not candidates:
        found = ", ".join(f"{t.name!r} ({t.category}, {t.keypoints.shape[1]} keypoints)" for t in tracks)
        raise InputError(
            f"no object track fits the HOI checkpoint{named} (model: {what}); found {found}",
            path=keypoints.path,
            field="objects[].category / objects[].keypoints",
            expected=f"a track of category {category!r} with {m} keypoints" if category else f"{m} keypoints",
            fix="Pass an HOI checkpoint trained for this object's category",
        )
    index = candidates[0]
    template = template_for_track(tracks[index], path=keypoints.path, index=index)
    skipped = [t.name for i, t in enumerate(tracks) if i != index]
    if skipped:
        warn(
            f"one object per HOI model: lifting {tracks[index].name!r}; "
            f"skipped {', '.join(map(repr, skipped))}",
            messages,
        )
    return ObjectPlan(index=index, track=tracks[index], template=template)


def appended_keypoints(keypoints: Keypoints2D, plan: ObjectPlan | None) -> np.ndarray:
    """(T, 17 + M, 3) ``[x px, y px, score]``: the body's keypoints then the object's (none without plan)."""
    if plan is None:
        return keypoints.keypoints
    return np.concatenate([keypoints.keypoints, plan.track.keypoints], axis=1)


def object_weights(
    track_keypoints: np.ndarray, score_threshold: float, spread: np.ndarray | None = None
) -> np.ndarray:
    """(T, M) fit weights of the triangulated object keypoints (module doc).

    Args:
        track_keypoints: (T, M, 3) the input track ``[x px, y px, score]`` (NaN where missing).
        score_threshold: the model's; below it a keypoint was masked (completed by the model).
        spread: (T, M) RMS distance of the samples to their median (metres), or None.
    """
    kp = np.asarray(track_keypoints, dtype=np.float64)
    score = np.nan_to_num(kp[..., 2], nan=0.0)
    observed = np.isfinite(kp[..., :2]).all(-1) & (score >= score_threshold)
    w = np.where(observed, score, COMPLETED_WEIGHT)
    if spread is not None:
        w = w / (1.0 + (np.asarray(spread) / SAMPLE_SPREAD_M) ** 2)
    return w


def above_floor(points: np.ndarray, centres: np.ndarray, floor: float, margin: float = 0.1) -> np.ndarray:
    """(T, M, 3) object keypoints, each frame whose lowest keypoint lies more than ``margin``
    below the ``floor`` (z, metres) brought towards the camera along the keypoints' rays (scaled
    about the frame's camera centre ``centres`` (T, 3): every keypoint keeps its image position)
    until it is ``margin`` below it.

    Nothing goes through the floor, and seen from a camera above it a ray that points down meets
    the floor at one distance: an object lifted farther than that is too far. Measured on a
    held-out run dragging a box past a close ultra-wide camera: as the box neared the image's
    edge its seen keypoints drifted along their rays to 8-22 m (truth 2.2-2.7 m), metres under
    the floor. The margin leaves the keypoints' own noise alone (a dragged box's bottom corners
    are on the floor). Frames whose camera is not above the floor are left as they are.
    """
    p = np.asarray(points, dtype=np.float64)
    c = np.asarray(centres, dtype=np.float64)
    z = p[..., 2]
    lowest = np.where(np.isfinite(z), z, np.inf).min(axis=1)  # inf: a frame without keypoints
    level = floor - margin
    height = c[:, 2] - level
    below = np.isfinite(lowest) & (lowest < level) & (height > 0)
    scales = np.ones(len(p))
    scales[below] = height[below] / (c[below, 2] - lowest[below])
    return rescale_about_centres(p, c, scales)


def fit_object(
    points: np.ndarray,
    plan: ObjectPlan,
    weights: np.ndarray,
    *,
    config: ObjectFitConfig | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> ObjectFit:
    """:func:`~anylift.fitting.object_fit.fit_object_pose` of (T, M, 3) world keypoints (metres)."""
    return fit_object_pose(
        points, plan.template, weights=weights, config=config, progress=progress, cancel=cancel
    )


def motion_fields(plan: ObjectPlan | None, fit: ObjectFit | None) -> dict:
    """The Motion's ``object_*`` fields (N = 1) from a fit, or all None."""
    if plan is None or fit is None:
        return dict.fromkeys(("object_names", "object_rotation", "object_translation", "object_scale"))
    return {
        "object_names": [plan.track.name],
        "object_rotation": fit.rotation[None].copy(),
        "object_translation": fit.translation[None].copy(),
        "object_scale": np.array([fit.scale], dtype=np.float64),
    }
