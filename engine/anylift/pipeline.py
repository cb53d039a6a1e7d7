"""``lift()``: 2D keypoints (+ camera trajectory) -> a world-grounded SMPL motion (formats.md).

The stages, in order (progress stage names in brackets); each lives in its own module:

1. **Validate** [prepare]: keypoints, camera (same frame count), :class:`LiftOptions`; the
   checkpoint (:mod:`anylift.lifting.denoiser`) and the body model load first, so a user error
   surfaces before any long computation. Only the frames from the person's first to last
   sighting are lifted; the result holds still outside them and says which frames showed the
   person (``seen``, :mod:`anylift.lifting.span`). The keypoints' jitter (the person's and the
   objects') is smoothed out on their own frame times (:mod:`anylift.lifting.smoothing`,
   ``LiftOptions.smooth_keypoints``), then any frame rate is resampled to the model's
   (:mod:`anylift.lifting.framerate`).
2. **World and scale** [prepare]: :mod:`anylift.lifting.world` (the camera file's world, Z-up,
   metres); up-to-scale cameras get a metric scale from the body's image size
   (:mod:`anylift.lifting.scale`). **Gravity** (:mod:`anylift.lifting.gravity`): when neither the
   camera file nor ``up`` fixes the world's up, the SMPLify baseline on the best-seen 10 s gives
   the world the prior lifts in (the prior lifts a body upright in whatever world it is given, so
   its result cannot correct a wrong up); when that fit is unsure, the lifted body's own contacts
   and standing axis do (after 4), and the result says the tilt could not be measured.
3. **Sampling** [diffusion]: windows, input + virtual ring views (the input camera turned towards
   the person and rolled level, :mod:`anylift.lifting.views`), DDIM with the consistency hooks,
   robust triangulation, window blend (:mod:`anylift.lifting.sampling`).
4. **Placement** [triangulate]: up-to-scale worlds rescaled to the body's proportions; each frame's
   depth from the body's known size; limbs the input does not show for a second or more given
   their bones' lengths (:func:`anylift.lifting.placement.unseen_limb_lengths`); then (once the world
   is level) each frame's lowest point put on one level floor (:mod:`anylift.lifting.placement`);
   samples fused by their median at one
   depth (:func:`anylift.lifting.spread.fuse`), ``keypoints3d_std`` their spread.
5. **SMPL fit** [fit SMPL]: :func:`anylift.fitting.smpl_fit.fit_smpl` in the result world, joints
   weighed by the samples' pose spread, each keypoint also drawn (robustly) towards the camera ray
   of its observation; the result's ``keypoints3d`` are the fitted body's
   (``LiftOptions.keypoints3d``).
6. **Ground** (``ground=True``): the feet's contact level to z = 0 (translation along Z).
7. **Objects** [object pose] (HOI checkpoints, :mod:`anylift.lifting.objects`): the object's 2D
   keypoints ride along as points 17.. through 3-4, then get a pose fit. The person of an HOI
   lift comes from the body-only model (``LiftOptions.hoi_body``, sampled in 3 as well): it was
   trained on more motion and cameras; the object is then moved along its camera rays by the
   ratio of the two persons' depths (placed in 4), keeping its image position and its depth
   relative to the person.

``method="smplify"`` replaces 3-5 by the single-view baseline (:func:`anylift.baselines.smplify`),
in the same result world.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from anylift.body.model import load_body_model
from anylift.errors import CheckpointError
from anylift.fitting.smpl_fit import SmplFit, fit_smpl
from anylift.geometry.camera import invert_rigid, pixel_rays, project, world_zup_from_camera
from anylift.io.cameras import Camera, static_camera
from anylift.io.keypoints import Keypoints2D
from anylift.io.motion import Motion
from anylift.lifting import collapse, framerate, gravity, span, spread
from anylift.lifting import objects as hoi
from anylift.lifting.checks import check_inputs, image_size_of, validate_inputs
from anylift.lifting.denoiser import (  # noqa: F401  (LiftCondition: the denoiser hook's type)
    LiftCondition,
    TimedDenoiser,
    checkpoint_denoiser,
    injected_denoiser,
)
from anylift.lifting.options import DEFAULT_STEPS, METHODS, LiftOptions  # noqa: F401  (public names)
from anylift.lifting.placement import (
    depth_scales,
    floor_scales,
    floor_shift,
    reference_bone_lengths,
    rescale_about_centres,
    unseen_limb_lengths,
)
from anylift.lifting.sampling import SAMPLE_SEED_STRIDE, sample_points  # noqa: F401
from anylift.lifting.scale import body_proportion_scale, estimate_camera_scale
from anylift.lifting.smoothing import smooth_keypoints
from anylift.lifting.world import ResultWorld, camera_is_metric, result_world, translate_cameras
from anylift.progress import ProgressFn, check_cancel, report
from anylift.representation import DEFAULT_SCORE_THRESHOLD, HIPS, visibility_mask

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "multiview.pt"
"""The shipped multi-view checkpoint (used when ``checkpoint`` is None)."""
DEFAULT_HOI_CHECKPOINTS = {"box": Path(__file__).resolve().parent / "checkpoints" / "hoi_box.pt"}
"""Shipped HOI multi-view checkpoints by object category: used when ``checkpoint`` is None and
the keypoints hold an object of that category."""


def default_checkpoint(keypoints: Keypoints2D) -> Path:
    """The shipped checkpoint for these keypoints: the HOI model of their object's category when
    one ships, else the body-only :data:`DEFAULT_CHECKPOINT`."""
    for track in keypoints.objects:
        path = DEFAULT_HOI_CHECKPOINTS.get(track.category)
        if path is not None and path.is_file():
            return path
    return DEFAULT_CHECKPOINT


@dataclass
class LiftReport:
    """:func:`lift_with_report`'s answer: the motion and how it was made.

    Attributes:
        motion: the result.
        world: the result world (``world.scale``: file units per metre).
        timings: seconds per stage (``prepare``, ``diffusion``, ``triangulate``, ``fit SMPL``,
            ``ground``, ``object pose``, ``total``).
        denoiser_seconds: time spent inside the denoiser's forward calls.
        denoiser_calls: number of those calls.
        num_windows, window, num_views, steps, samples: the sampling plan (0 for smplify).
        scale_determined: for up-to-scale cameras, whether the root-depth estimate was
            determined (None for metric cameras).
        proportion_scale: factor applied to the world from the body's proportions (1.0 when
            not applied).
        ground_offset: z (metres) subtracted by ``ground=True`` (None when not asked).
        warnings: messages about inputs left out (e.g. objects with a body-only checkpoint).
        object_fit: the lifted object's :class:`~anylift.fitting.object_fit.ObjectFit`, or None.
    """

    motion: Motion
    world: ResultWorld
    timings: dict[str, float] = field(default_factory=dict)
    denoiser_seconds: float = 0.0
    denoiser_calls: int = 0
    num_windows: int = 0
    window: int = 0
    num_views: int = 0
    steps: int = 0
    samples: int = 0
    scale_determined: bool | None = None
    proportion_scale: float = 1.0
    ground_offset: float | None = None
    gravity: gravity.Gravity | None = None
    warnings: list[str] = field(default_factory=list)
    object_fit: Any = None


def lift(
    keypoints: Keypoints2D,
    camera: Camera | None = None,
    options: LiftOptions | None = None,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    denoiser: Callable[..., torch.Tensor] | None = None,
    frame_times: np.ndarray | None = None,
    **changes: Any,
) -> Motion:
    """Lift 2D keypoints to a world-grounded SMPL motion (module doc).

    Args:
        keypoints: COCO-17 2D keypoints (T frames, pixels).
        camera: the input camera (T frames, its file's world); None: static camera, which needs
            ``keypoints.image_size``.
        options: :class:`LiftOptions` (None: the defaults); ``changes`` replace its fields
            (``lift(kp, cam, samples=4)``).
        progress, cancel: see :mod:`anylift.progress`.
        denoiser: replaces the checkpoint's model (tests; :mod:`anylift.lifting.denoiser`).
        frame_times: (T,) seconds of variable-rate input (:mod:`anylift.lifting.framerate`).

    Returns:
        :class:`anylift.io.motion.Motion` in the result world (formats.md).

    Raises:
        InputError: a user error (bad inputs, frame counts, missing/foreign checkpoint or body
            model file); CheckpointError is one.
    """
    return lift_with_report(
        keypoints, camera, options, progress=progress, cancel=cancel, denoiser=denoiser,
        frame_times=frame_times, **changes,
    ).motion  # fmt: skip


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t = self._start = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self._t
        self._t = now

    def total(self) -> None:
        self.timings["total"] = time.perf_counter() - self._start


def lift_with_report(
    keypoints: Keypoints2D,
    camera: Camera | None = None,
    options: LiftOptions | None = None,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    denoiser: Callable[..., torch.Tensor] | None = None,
    frame_times: np.ndarray | None = None,
    **changes: Any,
) -> LiftReport:
    """:func:`lift` that also returns how the result was made (:class:`LiftReport`)."""
    opts = (options or LiftOptions()).replace(**changes)
    clock = _Clock()
    # 1. Validate: inputs and options, then everything loaded before any long computation.
    validate_inputs(keypoints, camera)
    opts.check()
    up = opts.up
    if isinstance(up, str) and up == "camera" and camera is not None:  # the clip's frame 0, not the span's
        up = -camera.world_to_camera[0, 1, :3]
    messages: list[str] = check_inputs(keypoints, camera, seed=opts.seed)  # plausibility (one-line warnings)
    if opts.drop_collapsed and opts.method == "anylift":  # a detector's skeleton shrunk onto part of the body
        times = framerate.frame_times(keypoints.num_frames, keypoints.fps, frame_times, path=keypoints.path)
        kp, dropped = collapse.drop_collapsed(keypoints.keypoints, times)
        if dropped.any():
            keypoints = replace(keypoints, keypoints=kp)
            messages.append(
                f"{keypoints.path or 'the keypoints'}: {int(dropped.sum())} frame(s) treated as unseen, "
                f"from frame {int(np.flatnonzero(dropped)[0])}: the skeleton shrank to under half the size "
                "it had in the second before or after (a detector's skeleton collapsed onto part of the body)"
            )
    # The frames from the person's first to last sighting (the rest is held, module span).
    num_frames = keypoints.num_frames
    origin_camera = camera is None or gravity.camera_at_origin(camera.world_to_camera)  # before the crop
    keypoints, camera, frame_times, span_plan = span.crop(keypoints, camera, frame_times)
    if span_plan.cropped:
        messages.append(
            f"{keypoints.path or 'the keypoints'}: the person is seen from frame {span_plan.first} to "
            f"{span_plan.last} of {num_frames}; lifted there, held still outside (the result's 'seen')"
        )
    if opts.smooth_keypoints and opts.method == "anylift":  # the jitter out, on the input's own frame times
        times = framerate.frame_times(keypoints.num_frames, keypoints.fps, frame_times, path=keypoints.path)
        smooth = lambda kp: smooth_keypoints(kp, times, camera)[0]  # noqa: E731
        objects = [replace(o, keypoints=smooth(o.keypoints)) for o in keypoints.objects]
        keypoints = replace(keypoints, keypoints=smooth(keypoints.keypoints), objects=objects)
    # Frame rate: lift at the model's rate, back to the input's frame times at the end.
    keypoints, camera, rate_plan = framerate.to_model_rate(keypoints, camera, times=frame_times)
    camera_given = camera is not None
    # Gravity, part 1: an up from the camera file or the user, else estimated (part 2).
    camera, up_source = gravity.prepare_camera(
        camera, up, keypoints.num_frames, image_size_of(keypoints, camera)
    )
    image_size = image_size_of(keypoints, camera)
    den, schedule = _load_denoiser(keypoints, opts, denoiser) if opts.method == "anylift" else (None, None)
    plan = hoi.plan_objects(
        keypoints, den.num_object_keypoints if den else 0, den.object_category if den else None,
        method=opts.method, checkpoint=None if opts.checkpoint is None else str(opts.checkpoint),
        messages=messages,
    )  # fmt: skip
    body_den = _body_denoiser(plan, opts, denoiser, messages)
    body = load_body_model(opts.body_model, device="cpu")
    # Gravity from a 2D fit when nothing fixes it (the prior lifts upright in whatever world it is given).
    up_fit = None
    if up_source == "estimated" and opts.method == "anylift":
        up_fit = _up_from_2d_fit(keypoints, camera, image_size, body, opts.metric_camera)
        if up_fit.confidence >= UP_FIT_CONFIDENCE:
            # Gravity.rotation: from the world of the assumed-level first camera to the levelled one.
            assumed = world_zup_from_camera(camera or static_camera(keypoints.num_frames, image_size))
            camera, _ = gravity.prepare_camera(camera, up_fit.up, keypoints.num_frames, image_size)
            up_fit = replace(up_fit, rotation=world_zup_from_camera(camera) @ assumed.T)
    # 2. World and scale.
    world, determined = _world(keypoints, camera, image_size, opts.metric_camera)
    if not camera_given:  # a static camera made here (for an up) is no camera file
        world = replace(world, from_file=False)
    check_cancel(cancel)
    info: dict[str, Any] = {}
    proportion, samples_world, std = 1.0, None, None
    sample_fields: dict[str, np.ndarray] = {}  # the samples' root and pose spread (several samples)
    obj_world = obj_spread = None  # (T, M, 3) fused object keypoints, (T, M) sample spread
    if opts.method == "smplify":
        report(progress, "prepare", 1, 1)
        clock.lap("prepare")
        fit = _smplify(keypoints, world, body, progress, cancel)
        clock.lap("fit SMPL")
        # Gravity as for AnyLift (the optimizer assumed the first frame's camera level).
        rays = _ankle_rays(keypoints, world, DEFAULT_SCORE_THRESHOLD)
        grav, _, world, _ = gravity.level(fit.keypoints3d, world, keypoints.fps, up_source, ankle_rays=rays)
        fit = gravity.move_fit(fit, grav.rotation)
        ankle = gravity.ankle_height(body)
        grav, _, world, _ = gravity.to_floor(
            grav, fit.keypoints3d, world, keypoints.fps, ankle, origin_camera=origin_camera
        )
        fit = gravity.move_fit(fit, np.eye(3), grav.floor_offset)
        fused = fit.keypoints3d
    else:
        # 3-4. Windows, views, sampling; 5. triangulation into the result world.
        report(progress, "prepare", 1, 1)
        clock.lap("prepare")
        sampling = dict(
            samples=opts.samples, steps=opts.num_steps, seed=opts.seed, device=opts.device,
            bone_lengths=opts.bone_lengths, progress=progress, cancel=cancel,
        )  # fmt: skip
        appended = hoi.appended_keypoints(keypoints, plan)
        pts, info = sample_points(appended, world, image_size, den, schedule, **sampling)
        # An HOI lift's person from the body-only model (LiftOptions.hoi_body); the HOI model's body
        # then only carries the object to its depth.
        body_pts = None
        if body_den is not None:
            body_pts, _ = sample_points(keypoints.keypoints, world, image_size, *body_den, **sampling)
        clock.lap("diffusion")
        info.update(steps=opts.num_steps, samples=opts.samples)
        samples_world = _to_world(pts, world)
        lifts = [samples_world] if body_pts is None else [samples_world, _to_world(body_pts, world)]
        reference = reference_bone_lengths(body, keypoints.detector)
        if not world.metric:
            median_body = np.median(lifts[-1][..., : hoi.NUM_BODY, :], axis=0)
            proportion = body_proportion_scale(median_body, reference)
            world = world.rescaled(proportion)
            lifts = [lift_points * proportion for lift_points in lifts]
        # 6. Placement: the body's known size sets each frame's depth.
        centres = invert_rigid(world.camera.world_to_camera)[:, :3, 3]
        if opts.placement in ("body_size", "size_only"):
            for lift_points in lifts:
                for s in range(len(lift_points)):
                    body_points = lift_points[s, :, : hoi.NUM_BODY]
                    scales = depth_scales(body_points, centres, reference, fps=keypoints.fps)
                    lift_points[s] = rescale_about_centres(lift_points[s], centres, scales)
        samples_world = lifts[0]
        if len(lifts) == 2:  # the object moves in depth with the HOI model's person onto the body model's
            ratio = _hip_distances(lifts[1], centres) / _hip_distances(samples_world, centres)
            obj = rescale_about_centres(samples_world[..., hoi.NUM_BODY :, :], centres, ratio)
            samples_world = np.concatenate([lifts[1], obj], axis=-2)
        if plan is not None:
            obj_samples = samples_world[..., hoi.NUM_BODY :, :]
            obj_world, obj_spread = _fuse(obj_samples, centres, np.nanmean(obj_samples, axis=2))
            samples_world = samples_world[..., : hoi.NUM_BODY, :]
        # Limbs the input view does not show for a second or more keep their bones' lengths
        # (after placement, which sizes the body by its seen bones).
        seen = visibility_mask(keypoints.keypoints[:, : hoi.NUM_BODY], den.score_threshold)
        samples_world[..., : hoi.NUM_BODY, :] = unseen_limb_lengths(
            samples_world[..., : hoi.NUM_BODY, :], seen, reference, min_gap=round(keypoints.fps)
        )
        fused, std = _fuse(samples_world, centres)
        # Gravity, part 2: up from the lifted body when nothing fixed it; a floor-less world's floor at 0.
        # When the 2D fit was unsure, the lifted body's own estimate is no surer: the prior lifts a
        # body upright in the world it is given, so the body mostly echoes the assumed level camera.
        cap = 1.0 if up_fit is None or _used(up_fit) else up_fit.confidence
        source = "given" if _used(up_fit) else up_source
        grav, fused, world, (samples_world, obj_world) = gravity.level(
            fused, world, keypoints.fps, source, (samples_world, obj_world), confidence_cap=cap,
            ankle_rays=_ankle_rays(keypoints, world, den.score_threshold),
        )  # fmt: skip
        if _used(up_fit):
            # Gravity.up in the world it was found in: there the 2D fit's up already is +Z.
            grav = replace(up_fit, up=grav.up, pitch_deg=grav.pitch_deg, roll_deg=grav.roll_deg)
        if grav.source == "estimated" and grav.confidence < UP_FIT_CONFIDENCE:
            messages.append(
                f"the camera's tilt could not be measured (confidence {grav.confidence:.2f}), so the result "
                "may lean; give the world's up with --up X,Y,Z or a camera file with 'up'"
            )
        ankle, floor = gravity.ankle_height(body), None
        if opts.placement == "body_size":  # each sample on one level floor (as each got its size)
            centres = invert_rigid(world.camera.world_to_camera)[:, :3, 3]
            placed = [floor_scales(one, centres, fps=keypoints.fps, ankle=ankle) for one in samples_world]
            if any(p is not None for p in placed):
                scales = np.stack([np.ones(len(centres)) if p is None else p[0] for p in placed])
                samples_world = rescale_about_centres(samples_world, centres, scales)
                fused, std = _fuse(samples_world, centres)
                if obj_world is not None:
                    obj_world = rescale_about_centres(obj_world, centres, np.median(scales, axis=0))
                floor = float(np.median([p[1] for p in placed if p is not None])) - ankle
        grav, fused, world, (samples_world, obj_world) = gravity.to_floor(
            grav, fused, world, keypoints.fps, ankle, (samples_world, obj_world), floor=floor,
            origin_camera=origin_camera,
        )  # fmt: skip
        report(progress, "triangulate", 1, 1)
        clock.lap("triangulate")
        # 7. SMPL fit.
        sample_fields = spread.motion_fields(samples_world if std is not None else None)
        rays = _observed_rays(keypoints, world, den.score_threshold)
        fit = _fit(
            fused, sample_fields.get("keypoints3d_pose_std"), keypoints, rays, body, opts, progress, cancel
        )
        clock.lap("fit SMPL")
        if opts.keypoints3d == "body":  # the fitted body's keypoints (LiftOptions.keypoints3d)
            fused = fit.keypoints3d

    # 8. Ground: the floor at z = 0.
    w2c, joints, transl, offset = world.camera.world_to_camera, fit.joints, fit.transl, None
    if opts.ground:
        shift = floor_shift(body, fit)
        offset = float(shift[2])
        fused, joints, transl = fused - shift, joints - shift, transl - shift
        samples_world = None if samples_world is None else samples_world - shift
        obj_world = None if obj_world is None else obj_world - shift
        w2c = translate_cameras(w2c, -shift)
        clock.lap("ground")
    # 9. Objects.
    object_fit = None
    if plan is not None and obj_world is not None:
        floor = gravity.floor_level(fused, keypoints.fps, ankle)  # in the result's world (after --ground)
        if floor is not None:
            obj_world = hoi.above_floor(obj_world, invert_rigid(w2c)[:, :3, 3], floor)
        weights = hoi.object_weights(plan.track.keypoints, den.score_threshold, obj_spread)
        object_fit = hoi.fit_object(obj_world, plan, weights, progress=progress, cancel=cancel)
        clock.lap("object pose")
    # 10. The result.
    motion = Motion(
        fps=keypoints.fps, joints=joints, keypoints3d=fused, global_orient=fit.global_orient,
        body_pose=fit.body_pose, transl=transl, betas=fit.betas, body_model=body.kind,
        world_to_camera=w2c, intrinsics=world.camera.K, keypoints3d_std=std,
        samples_keypoints3d=samples_world if std is not None else None,
        **sample_fields,  # spreads: the ground shift (a translation) leaves them as they are
        **hoi.motion_fields(plan, object_fit),
        person=keypoints.person, up=world.rotation.T[:, 2], up_source=grav.source,
    )  # fmt: skip
    motion = framerate.back_to_input(motion, rate_plan, body)
    motion = span.restore(motion, span_plan, world.scale)
    clock.total()
    dens = [d for d in (den, body_den[0] if body_den else None) if d is not None]
    return LiftReport(
        motion=motion, world=world, timings=clock.timings, scale_determined=determined,
        denoiser_seconds=sum(d.seconds for d in dens), denoiser_calls=sum(d.calls for d in dens),
        proportion_scale=float(proportion), ground_offset=offset, warnings=messages, object_fit=object_fit,
        gravity=grav, **info,
    )  # fmt: skip


def _load_denoiser(keypoints: Keypoints2D, opts: LiftOptions, denoiser) -> tuple[TimedDenoiser, Any]:
    if denoiser is not None:
        return injected_denoiser(denoiser, opts.device)
    path = opts.checkpoint
    if path is None and keypoints.objects:
        path = default_checkpoint(keypoints)
    path = Path(path) if path is not None else DEFAULT_CHECKPOINT
    if opts.checkpoint is None and not path.is_file():
        raise CheckpointError(
            "the default multi-view checkpoint is not installed yet",
            path=path,
            fix="Pass a trained multi-view checkpoint with --checkpoint PATH (or checkpoint=...)",
        )
    return checkpoint_denoiser(path, opts.device)


def _body_denoiser(plan, opts: LiftOptions, denoiser, messages: list[str]):
    """(denoiser, schedule) of the body-only model for an HOI lift's person, or None (module doc)."""
    if plan is None or opts.hoi_body != "body" or denoiser is not None:
        return None
    if not DEFAULT_CHECKPOINT.is_file():
        messages.append(
            f"the body-only checkpoint {DEFAULT_CHECKPOINT} is not installed, so the person comes from "
            "the HOI model (less accurate); reinstall the engine to restore it"
        )
        return None
    return checkpoint_denoiser(DEFAULT_CHECKPOINT, opts.device)


def _hip_distances(samples: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(T,) distance from each camera centre to the samples' median hip midpoint."""
    hips = np.median(samples[:, :, list(HIPS)].mean(2), axis=0)
    return np.linalg.norm(hips - centres, axis=-1)


def _world(keypoints, camera, image_size, metric_camera) -> tuple[ResultWorld, bool | None]:
    metric = camera_is_metric(camera) if metric_camera is None else bool(metric_camera)
    if metric:
        return result_world(camera, keypoints.num_frames, image_size, metric=True), None
    scale, determined = estimate_camera_scale(keypoints.keypoints, camera.K, camera.world_to_camera)
    return result_world(camera, keypoints.num_frames, image_size, scale=scale, metric=False), determined


UP_FIT_FRAMES = 300
"""Frames (at the model's rate, the best-seen stretch) the 2D fit for gravity looks at, every 2nd."""
UP_FIT_CONFIDENCE = 0.5
"""Below this the 2D fit's up is not used (the body's own estimate from the lift is)."""


def _up_from_2d_fit(keypoints: Keypoints2D, camera, image_size, body, metric_camera) -> gravity.Gravity:
    """Gravity when nothing fixes it, from the SMPLify baseline on the best-seen stretch of the clip.

    The multi-view prior lifts a body upright in whatever world it is given (measured: a static
    camera looking 30 deg down, assumed level, gives a body 24 deg off vertical whose own
    estimate agrees with the assumption), so its result cannot correct a wrong up. A fit of the
    body model to the 2D can: fixed bone lengths must lean in depth to match the foreshortening.
    Returns the Gravity, ``up`` in the camera file's world (the static camera's frame without
    one); it is used when its confidence reaches :data:`UP_FIT_CONFIDENCE`.
    """
    t_len = keypoints.num_frames
    n = min(t_len, UP_FIT_FRAMES)
    seen = np.convolve(keypoints.keypoints[..., 2].sum(1), np.ones(n), mode="valid")
    start = int(np.argmax(seen))
    step = 2 if n >= 60 else 1
    frames = np.arange(start, start + n, step)
    kp = replace(keypoints, keypoints=keypoints.keypoints[frames], fps=keypoints.fps / step, objects=[])
    cam = camera if camera is not None else static_camera(t_len, image_size)
    cam = replace(cam, world_to_camera=cam.world_to_camera[frames])
    world, _ = _world(kp, cam, image_size, metric_camera)
    fit = _smplify(kp, world, body, None, None)
    rays = _ankle_rays(kp, world, DEFAULT_SCORE_THRESHOLD)
    grav, *_ = gravity.level(fit.keypoints3d, world, kp.fps, "estimated", ankle_rays=rays)
    return replace(grav, up=world.rotation.T @ grav.up)


def _used(up_fit: gravity.Gravity | None) -> bool:
    return up_fit is not None and up_fit.confidence >= UP_FIT_CONFIDENCE


def _fuse(
    samples_world: np.ndarray, centres: np.ndarray, anchor: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """(S, T, J, 3) -> median at one depth (T, J, 3) and spread (T, J) (None for one sample);
    :func:`anylift.lifting.spread.fuse`."""
    if len(samples_world) == 1:
        return samples_world[0], None
    return spread.fuse(samples_world, centres, anchor)


def _to_world(points_lift: np.ndarray, world: ResultWorld) -> np.ndarray:
    """(..., 3) lift frame -> result world (metres)."""
    c2w = world.world_from_lift
    return points_lift @ c2w[:3, :3].T + c2w[:3, 3]


def _observed_rays(keypoints: Keypoints2D, world: ResultWorld, threshold: float):
    """The input view's keypoints as camera rays in the result world (``fit_smpl(rays=...)``),
    weighed by their scores; keypoints under the model's score threshold weigh 0."""
    kp = np.asarray(keypoints.keypoints, dtype=np.float64)
    origins, directions = pixel_rays(np.nan_to_num(kp[..., :2]), world.camera.K, world.camera.world_to_camera)
    return origins, directions, np.where(visibility_mask(kp, threshold), kp[..., 2], 0.0)


def _ankle_rays(keypoints: Keypoints2D, world: ResultWorld, threshold: float) -> np.ndarray:
    """(T, 2, 3) rays from the camera to the ankles in the result world, NaN where unseen
    (:func:`anylift.lifting.gravity.feet_below_horizon`)."""
    _, directions, weight = _observed_rays(keypoints, world, threshold)
    ankles = list(gravity.ANKLES)
    return np.where(weight[:, ankles, None] > 0, directions[:, ankles], np.nan)


def _fit(fused, std, keypoints, rays, body, opts, progress, cancel) -> SmplFit:
    """SMPL fit to the fused keypoints: joints whose pose the samples disagree on (``std``, each
    sample relative to its own hips: their depths are the placement's business) weigh less (5 cm
    spread halves the weight); the observed keypoints' ``rays`` keep the body on what the camera
    saw."""
    weights = None if std is None else 1.0 / (1.0 + (std / 0.05) ** 2)
    return fit_smpl(
        fused,
        body,
        weights=weights,
        rays=rays,
        fps=keypoints.fps,
        config=opts.fit_config,
        progress=progress,
        cancel=cancel,
    )


def _smplify(keypoints, world, body, progress, cancel) -> SmplFit:
    from anylift.baselines import smplify

    return smplify(keypoints, world.camera, body, progress=progress, cancel=cancel)


def reprojection_pixels(motion: Motion) -> np.ndarray:
    """(T, 17, 2) pixels of ``motion.keypoints3d`` through its own camera (for J2D checks)."""
    return project(motion.keypoints3d, motion.intrinsics, motion.world_to_camera)
