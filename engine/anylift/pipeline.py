"""``lift()``: 2D keypoints (+ camera trajectory) -> a world-grounded SMPL motion (formats.md).

Stages (each reports progress under the name in brackets):

1. **Validate** [prepare]: keypoints, camera (same frame count), arguments; load the checkpoint
   and the body model first, so a user error surfaces before any long computation. Keypoints
   with a score below the checkpoint's ``score_threshold`` (default 0.3) are masked - never
   zeros - and the model fills them in.
2. **World and scale** [prepare]: :mod:`anylift.lifting.world` (result world = camera file's
   world, Z-up, metres); up-to-scale cameras get a first metric scale from the root depth implied
   by the body's image size (:func:`anylift.lifting.scale.estimate_camera_scale`).
3. **Windows and views** [prepare]: windows of the model's length, stride 3/4 window
   (:mod:`anylift.lifting.windows`); per window the input view and V-1 virtual ring views
   (:mod:`anylift.lifting.views`).
4. **Sampling** [diffusion]: DDIM (eta 0, ``steps`` steps, default :data:`DEFAULT_STEPS`) on all
   windows and samples at once, with the hooks of :mod:`anylift.lifting.consistency`: observed
   keypoints written into the input view, then triangulate all views / put observed joints on
   their rays / reproject.
5. **3D keypoints** [triangulate]: robust weighted triangulation per window (view weights:
   input view ``1 + score`` where observed, 1 elsewhere and for every virtual view), observed
   joints on their rays (the input view is reproduced exactly), raised-cosine blend of the
   windows, samples fused by their per-coordinate median; ``keypoints3d_std`` is the RMS
   distance of the samples to it. Up-to-scale cameras: the world is rescaled so the keypoints
   have the body model's mean bone lengths (:func:`anylift.lifting.scale.body_proportion_scale`).
6. **SMPL fit** [fit SMPL]: :func:`anylift.fitting.smpl_fit.fit_smpl` in the result world.
7. **Ground** (``ground=True``): translate along Z so the body's contact level is z = 0.
8. **Objects** [object pose] (HOI checkpoints, :mod:`anylift.lifting.objects`): the object's 2D
   keypoints ride along as points 17.. through stages 3-5; its triangulated keypoints, in the final
   world, get :func:`anylift.fitting.object_fit.fit_object_pose` (the Motion's ``object_*``). One
   object per HOI model. Input objects with a body-only checkpoint: a warning
   (:class:`~anylift.lifting.objects.ObjectsIgnoredWarning`, also in ``LiftReport.warnings``).

``method="smplify"`` replaces 3-5 by the single-view baseline (:func:`anylift.baselines.smplify`),
in the same result world.

Testing hook: ``denoiser`` replaces the checkpoint's model. It is called as
``denoiser(x_n (B, V, T, K, 2), n (B,) long, cond: LiftCondition) -> x0 (B, V, T, K, 2)`` (root/local
model coordinates) and may carry ``window`` / ``num_views`` attributes (defaults 60 / 4), and for HOI
``num_object_keypoints`` (M; K = 17 + M) / ``object_category``. The
:class:`LiftCondition` gives it the model's conditions and every view's exact camera, so an oracle
that knows the true 3D motion can return exact multi-view 2D.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from anylift import representation as rep
from anylift.body.model import ZUP_REST_GLOBAL_ORIENT, BodyModel, load_body_model
from anylift.diffusion import make_schedule, observed_guidance, sample
from anylift.errors import CheckpointError, InputError
from anylift.fitting.smpl_fit import SmplFit, SmplFitConfig, fit_smpl
from anylift.geometry.camera import project
from anylift.io.cameras import Camera, check_frames_match
from anylift.io.keypoints import Keypoints2D
from anylift.io.motion import Motion
from anylift.lifting import framerate, gravity
from anylift.lifting import objects as hoi
from anylift.lifting.consistency import ViewGeometry, consistency_hook, final_points
from anylift.lifting.scale import body_proportion_scale, estimate_camera_scale
from anylift.lifting.views import WindowViews, build_window_views, normalised_coordinates
from anylift.lifting.windows import blend, plan_windows
from anylift.lifting.world import (
    ResultWorld,
    camera_is_metric,
    ground_offset,
    result_world,
    translate_cameras,
)
from anylift.models import MultiViewCondition, load_checkpoint
from anylift.progress import ProgressFn, check_cancel, report

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


DEFAULT_STEPS = 10
"""DDIM steps when none are asked for. ``benchmarks/speed.py`` and the same curve on training-clip
cases (never the held-out ones for choosing) show no accuracy gain from more steps with the shipped
model (10, 25, 50, 100 steps: MPJPE 139, 142, 143, 144 mm on 8 training-clip cases with test
cameras), so the cheapest setting is the default: 10 steps lift 300 frames in a few seconds."""
METHODS = ("anylift", "smplify")
DEVICES = ("cpu", "cuda")
SAMPLE_SEED_STRIDE = 7919
"""Sample s starts from the noise of seed ``seed + s * SAMPLE_SEED_STRIDE``: sample s is the same
whatever the number of samples drawn."""


@dataclass
class LiftCondition:
    """What the denoiser gets at each step (B = windows x samples, V views, T window frames).

    Attributes:
        model: the trained model's conditions (cameras, observed input view).
        world_to_camera: (B, V, T, 4, 4) float64 every view in the lift frame (metres).
        model_K: (B, V, 3, 3) float64 camera frame -> model coordinates of each view.
        frames: (B, T) long clip frame of each window frame (padding repeats the last).
        valid: (B, T) bool, False on padding.
        lift_from_file: (4, 4) numpy similarity, the camera file's world (its units; the
            static camera's frame without a file) -> lift frame.
    """

    model: MultiViewCondition
    world_to_camera: torch.Tensor
    model_K: torch.Tensor
    frames: torch.Tensor
    valid: torch.Tensor
    lift_from_file: np.ndarray


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
    *,
    checkpoint: str | Path | None = None,
    body_model: str | Path | None = None,
    samples: int = 1,
    steps: int | None = None,
    seed: int = 0,
    method: str = "anylift",
    ground: bool = False,
    device: str = "cpu",
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    denoiser: Callable[..., torch.Tensor] | None = None,
    metric_camera: bool | None = None,
    fit_config: SmplFitConfig | None = None,
    up: Any = None,
    frame_times: np.ndarray | None = None,
) -> Motion:
    """Lift 2D keypoints to a world-grounded SMPL motion (module doc).

    Args:
        keypoints: COCO-17 2D keypoints (T frames, pixels).
        camera: the input camera (T frames, its file's world); None: static camera, which needs
            ``keypoints.image_size``.
        checkpoint: multi-view checkpoint file; None: :data:`DEFAULT_CHECKPOINT`.
        body_model: SMPL model file; None: ``$ANYLIFT_SMPL_MODEL`` or the bundled proxy.
        samples: S >= 1 samples; S > 1 adds ``keypoints3d_std`` and ``samples_keypoints3d``.
        steps: DDIM steps (default :data:`DEFAULT_STEPS`, 10).
        seed: the same seed gives the same result.
        method: ``"anylift"`` or ``"smplify"`` (the single-view baseline).
        ground: put the floor at z = 0 (translation along Z only).
        device: ``"cpu"`` or ``"cuda"`` for the denoiser (the fit runs on the CPU).
        progress, cancel: see :mod:`anylift.progress`.
        denoiser: replaces the checkpoint's model (tests; see the module doc).
        metric_camera: override whether the camera's translations are metres
            (:func:`anylift.lifting.world.camera_is_metric`).
        fit_config: SMPL fit weights and iterations (default :class:`SmplFitConfig`).
        up: gravity override (:mod:`anylift.lifting.gravity`): None (the camera file's up, else
            estimated), ``"camera"`` or (3,) in the camera file's world.
        frame_times: (T,) seconds of variable-rate input (:mod:`anylift.lifting.framerate`).

    Returns:
        :class:`anylift.io.motion.Motion` in the result world (formats.md).

    Raises:
        InputError: a user error (bad inputs, frame counts, missing/foreign checkpoint or body
            model file); CheckpointError is one.
    """
    return lift_with_report(
        keypoints, camera, checkpoint=checkpoint, body_model=body_model, samples=samples,
        steps=steps, seed=seed, method=method, ground=ground, device=device, progress=progress,
        cancel=cancel, denoiser=denoiser, metric_camera=metric_camera, fit_config=fit_config,
        up=up, frame_times=frame_times,
    ).motion  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Validation


def _check_arguments(keypoints, camera, samples, steps, method, device) -> None:
    if not isinstance(keypoints, Keypoints2D):
        raise InputError(f"is a {type(keypoints).__name__}", field="keypoints", expected="a Keypoints2D")
    if camera is not None:
        if not isinstance(camera, Camera):
            raise InputError(f"is a {type(camera).__name__}", field="camera", expected="a Camera or None")
        check_frames_match(keypoints, camera)
    elif keypoints.image_size is None:
        raise InputError(
            "the image size is unknown and there is no camera file",
            path=keypoints.path,
            field="image_size",
            expected="[width, height] in the keypoints file",
            fix="Pass a camera file (--camera) or keypoints that state the image size",
        )
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 1:
        raise InputError(f"is {samples!r}", field="samples", expected="a whole number >= 1")
    if steps is not None and (
        isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1
    ):
        raise InputError(f"is {steps!r}", field="steps", expected="a whole number >= 1")
    if method not in METHODS:
        raise InputError(f"is {method!r}", field="method", expected=" or ".join(METHODS))
    if str(device).split(":")[0] not in DEVICES:
        raise InputError(f"is {device!r}", field="device", expected="cpu or cuda")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise InputError(
            "CUDA is not available on this machine", field="device", expected="cpu", fix="Use --device cpu"
        )
    mask = rep.visibility_mask(keypoints.keypoints)
    if not (mask.sum(1) >= 4).any():
        raise InputError(
            "no frame has 4 or more keypoints with a score >= "
            f"{rep.DEFAULT_SCORE_THRESHOLD}: no person to lift",
            path=keypoints.path,
            field="keypoints",
            expected="a detected person in at least one frame",
        )


def _image_size(keypoints: Keypoints2D, camera: Camera | None) -> tuple[int, int]:
    if keypoints.image_size is not None:
        return tuple(keypoints.image_size)
    if camera is not None and camera.image_size is not None:
        return tuple(camera.image_size)
    k = camera.K  # principal point at the centre is the usual case
    return (max(1, round(2 * k[0, 2])), max(1, round(2 * k[1, 2])))


class _Denoiser:
    """The callable the sampler uses: the model (or an injected denoiser), timed."""

    def __init__(
        self, fn, window: int, num_views: int, score_threshold: float, wrap_model: bool,
        num_object_keypoints: int = 0, object_category: str | None = None,
    ) -> None:  # fmt: skip
        self.fn = fn
        self.num_object_keypoints = int(num_object_keypoints)
        self.object_category = object_category
        self.window = window
        self.num_views = num_views
        self.score_threshold = score_threshold
        self.wrap_model = wrap_model
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, x_n: torch.Tensor, n: torch.Tensor, cond: LiftCondition) -> torch.Tensor:
        start = time.perf_counter()
        out = self.fn(x_n, n, cond.model) if self.wrap_model else self.fn(x_n, n, cond)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        return out


def _load_denoiser(checkpoint, denoiser, device) -> tuple[_Denoiser, Any]:
    """(timed denoiser, noise schedule)."""
    if denoiser is not None:
        config = getattr(denoiser, "config", None)
        window = int(getattr(denoiser, "window", getattr(config, "window", 60)))
        views = int(getattr(denoiser, "num_views", getattr(config, "num_views", 4)))
        if isinstance(denoiser, torch.nn.Module) and config is not None:
            denoiser = denoiser.to(device).eval()
            wrap = True
        else:
            wrap = False
        schedule = make_schedule(
            getattr(config, "schedule", "cosine"), getattr(config, "diffusion_steps", 1000)
        )
        m = int(getattr(denoiser, "num_object_keypoints", getattr(config, "num_object_keypoints", 0)))
        category = getattr(denoiser, "object_category", None)
        den = _Denoiser(denoiser, window, views, rep.DEFAULT_SCORE_THRESHOLD, wrap, m, category)
        return den, schedule
    path = Path(checkpoint) if checkpoint is not None else DEFAULT_CHECKPOINT
    if checkpoint is None and not path.is_file():
        raise CheckpointError(
            "the default multi-view checkpoint is not installed yet",
            path=path,
            fix="Pass a trained multi-view checkpoint with --checkpoint PATH (or checkpoint=...)",
        )
    ckpt = load_checkpoint(path, kind="multi_view", skeleton="coco17", device=device)
    category = ckpt.extra.get("object_category") if ckpt.config.num_object_keypoints else None
    threshold = float(ckpt.normalisation.get("score_threshold", rep.DEFAULT_SCORE_THRESHOLD))
    model = ckpt.inference_model
    schedule = make_schedule(ckpt.config.schedule, ckpt.config.diffusion_steps)
    den = _Denoiser(
        model, ckpt.config.window, ckpt.config.num_views, threshold, True,
        ckpt.config.num_object_keypoints, None if category is None else str(category),
    )  # fmt: skip
    return den, schedule


# ---------------------------------------------------------------------------------------------
# The pipeline


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()
        self._start = self._t

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self._t
        self._t = now

    def total(self) -> None:
        self.timings["total"] = time.perf_counter() - self._start


def _world(keypoints, camera, image_size, metric_camera) -> tuple[ResultWorld, bool | None]:
    metric = camera_is_metric(camera) if metric_camera is None else bool(metric_camera)
    if metric:
        return result_world(camera, keypoints.num_frames, image_size, metric=True), None
    scale, determined = estimate_camera_scale(keypoints.keypoints, camera.K, camera.world_to_camera)
    return result_world(camera, keypoints.num_frames, image_size, scale=scale, metric=False), determined


def _rest_keypoints(body: BodyModel) -> np.ndarray:
    with torch.no_grad():
        out = body(global_orient=torch.as_tensor(ZUP_REST_GLOBAL_ORIENT[None], dtype=body.dtype))
    return out.keypoints[0].double().cpu().numpy()


def _batch(views: list[WindowViews], samples: int, device) -> tuple[LiftCondition, ViewGeometry]:
    """Stack windows (repeated per sample: b = s * n_windows + k) into the sampler's batch."""
    order = [v for _ in range(samples) for v in views]

    def stack(name, dtype=torch.float32):
        return torch.as_tensor(np.stack([getattr(v, name) for v in order])).to(device=device, dtype=dtype)

    cond = MultiViewCondition.from_input(stack("camera"), stack("observed"), stack("observed_mask"))
    guidance_mask = stack("guidance_mask")
    w2c = stack("world_to_camera", torch.float64)
    model_k = torch.as_tensor(
        np.stack([np.broadcast_to(v.model_K, (v.camera.shape[0], 3, 3)) for v in order])
    )
    lift_cond = LiftCondition(
        model=cond,
        world_to_camera=w2c,
        model_K=model_k.to(device=device, dtype=torch.float64),
        frames=stack("frames", torch.long),
        valid=stack("valid", torch.bool),
        lift_from_file=np.eye(4),
    )
    weights = []
    for v in order:
        w = np.ones((*v.camera.shape[:2], v.points.shape[1]))
        w[0] = np.where(v.points_mask, 1.0 + v.scores, 1.0)
        weights.append(w)
    geometry = ViewGeometry(
        projections=np.stack([v.projections for v in order]),
        weights=np.stack(weights),
        ray_origin=np.stack([v.ray_origin for v in order]),
        ray_direction=np.stack([v.ray_direction for v in order]),
        ray_mask=np.stack([v.points_mask.astype(np.float64) for v in order]),
    ).to(device)
    return lift_cond, geometry, guidance_mask


def _initial_noise(shape, samples: int, seed: int, device) -> torch.Tensor:
    per_sample = shape[0] // samples
    parts = []
    for s in range(samples):
        g = torch.Generator().manual_seed(int(seed) + s * SAMPLE_SEED_STRIDE)
        parts.append(torch.randn((per_sample, *shape[1:]), generator=g))
    return torch.cat(parts).to(device)


def _sample_keypoints(
    kp: np.ndarray,
    world: ResultWorld,
    image_size,
    den: _Denoiser,
    schedule,
    *,
    samples: int,
    steps: int,
    seed: int,
    device,
    progress,
    cancel,
    clock: _Clock,
    info: dict,
) -> np.ndarray:
    """(S, T, J, 3) points of every sample in the lift frame (metres); ``kp`` (T, J, 3) pixels + score,
    J = 17 body joints (+ M object keypoints)."""
    cam = world.camera
    lift_w2c = cam.world_to_camera @ np.linalg.inv(cam.world_to_camera[0])
    t_len = len(kp)
    body = kp[:, : hoi.NUM_BODY]
    mask = rep.visibility_mask(body, den.score_threshold)
    clip_scale = rep.body_scale(normalised_coordinates(body, cam.K), mask)
    starts = plan_windows(t_len, den.window)
    down = cam.world_to_camera[0, :3, :3] @ np.array([0.0, 0.0, -1.0])  # result world is Z-up
    views = [
        build_window_views(
            kp, cam.K, image_size, lift_w2c, int(s), den.window, den.num_views,
            fallback_scale=clip_scale, down=down, score_threshold=den.score_threshold,
        )
        for s in starts
    ]  # fmt: skip
    info.update(num_windows=len(starts), window=den.window, num_views=den.num_views)
    cond, geometry, obs_mask = _batch(views, samples, device)
    cond.lift_from_file = world.lift_from_file
    observed = cond.model.observed[:, 0]
    hooks = (observed_guidance(observed, obs_mask, view=0), consistency_hook(geometry))
    shape = (len(views) * samples, den.num_views, den.window, kp.shape[1], 2)
    x_init = _initial_noise(shape, samples, seed, device)
    report(progress, "prepare", 1, 1)
    clock.lap("prepare")
    with torch.no_grad():
        x = sample(
            den, shape, cond, schedule, steps=steps, hooks=hooks, x_init=x_init, device=device,
            progress=progress, cancel=cancel, stage="diffusion",
        )  # fmt: skip
    clock.lap("diffusion")
    check_cancel(cancel)
    points = final_points(x.detach().cpu().double().numpy(), geometry)  # (S * n, W, J, 3)
    points = points.reshape(samples, len(views), den.window, *points.shape[2:])
    out = np.stack([blend(p, starts, t_len) for p in points])
    report(progress, "triangulate", 1, 1)
    clock.lap("triangulate")
    return out


def _to_world(points_lift: np.ndarray, world: ResultWorld) -> np.ndarray:
    """(..., 3) lift frame -> result world (metres)."""
    c2w = world.world_from_lift
    return points_lift @ c2w[:3, :3].T + c2w[:3, 3]


def _fuse(samples_world: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    if len(samples_world) == 1:
        return samples_world[0], None
    fused = np.median(samples_world, axis=0)
    std = np.sqrt((np.linalg.norm(samples_world - fused, axis=-1) ** 2).mean(0))
    return fused, std


def _smplify(keypoints, world, body, progress, cancel) -> SmplFit:
    try:
        from anylift.baselines import smplify
    except ImportError as exc:  # the baseline is a separate module; say so rather than crash
        raise InputError(
            "the smplify baseline is not available in this installation",
            field="method",
            expected="anylift",
            fix=f"Use --method anylift ({exc})",
        ) from exc
    return smplify(keypoints, world.camera, body, progress=progress, cancel=cancel)


def lift_with_report(
    keypoints: Keypoints2D,
    camera: Camera | None = None,
    *,
    checkpoint: str | Path | None = None,
    body_model: str | Path | None = None,
    samples: int = 1,
    steps: int | None = None,
    seed: int = 0,
    method: str = "anylift",
    ground: bool = False,
    device: str = "cpu",
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    denoiser: Callable[..., torch.Tensor] | None = None,
    metric_camera: bool | None = None,
    fit_config: SmplFitConfig | None = None,
    up: Any = None,
    frame_times: np.ndarray | None = None,
) -> LiftReport:
    """:func:`lift` that also returns how the result was made (:class:`LiftReport`).

    ``up``: None (camera file's up, else estimated), ``"camera"`` or (3,) in the camera file's
    world (:mod:`anylift.lifting.gravity`); ``frame_times``: (T,) seconds for variable-rate input.
    """
    clock = _Clock()
    _check_arguments(keypoints, camera, samples, steps, method, device)
    # --- frame rate (anylift.lifting.framerate): lift at the model's rate; back_to_input() at the end.
    keypoints, camera, rate_plan = framerate.to_model_rate(keypoints, camera, times=frame_times)
    # --- gravity, part 1 (anylift.lifting.gravity): an up from the file or the user, else estimated.
    camera, up_source = gravity.prepare_camera(
        camera, up, keypoints.num_frames, _image_size(keypoints, camera)
    )
    image_size = _image_size(keypoints, camera)
    den = schedule = None
    if method == "anylift":
        if checkpoint is None and denoiser is None and keypoints.objects:
            shipped = default_checkpoint(keypoints)
            checkpoint = shipped if shipped != DEFAULT_CHECKPOINT else None
        den, schedule = _load_denoiser(checkpoint, denoiser, device)
    messages: list[str] = []
    plan = hoi.plan_objects(
        keypoints, den.num_object_keypoints if den else 0, den.object_category if den else None,
        method=method, checkpoint=None if checkpoint is None else str(checkpoint), messages=messages,
    )  # fmt: skip
    body = load_body_model(body_model, device="cpu")
    world, determined = _world(keypoints, camera, image_size, metric_camera)
    info: dict[str, Any] = {}
    proportion = 1.0
    samples_world = None
    obj_world = obj_spread = None  # (T, M, 3) fused object keypoints, (T, M) sample spread
    grav = None  # gravity.Gravity (anylift method)
    check_cancel(cancel)

    if method == "smplify":
        report(progress, "prepare", 1, 1)
        clock.lap("prepare")
        fit = _smplify(keypoints, world, body, progress, cancel)
        clock.lap("fit SMPL")
        fused, std = fit.keypoints3d, None
    else:
        n_steps = int(steps or DEFAULT_STEPS)
        pts = _sample_keypoints(
            hoi.appended_keypoints(keypoints, plan), world, image_size, den, schedule,
            samples=int(samples), steps=n_steps,
            seed=seed, device=device, progress=progress, cancel=cancel, clock=clock, info=info,
        )  # fmt: skip
        info.update(steps=n_steps, samples=int(samples))
        samples_world = _to_world(pts, world)
        if not world.metric:
            body_median = np.median(samples_world[..., : hoi.NUM_BODY, :], axis=0)
            proportion = body_proportion_scale(body_median, _rest_keypoints(body))
            world = world.rescaled(proportion)
            samples_world = samples_world * proportion
        if plan is not None:
            obj_world, obj_spread = _fuse(samples_world[..., hoi.NUM_BODY :, :])
            samples_world = samples_world[..., : hoi.NUM_BODY, :]
        fused, std = _fuse(samples_world)
        # --- gravity, part 2: estimate up from the lifted body when nothing fixed it; level the world.
        grav, fused, world, (samples_world, obj_world) = gravity.level(
            fused, world, keypoints.fps, up_source, (samples_world, obj_world)
        )
        grav, fused, world, (samples_world, obj_world) = gravity.to_floor(  # a world without a floor
            grav, fused, world, keypoints.fps, gravity.ankle_height(body), (samples_world, obj_world)
        )
        # Joints the samples disagree on weigh less in the fit (5 cm spread halves the weight).
        weights = None if std is None else 1.0 / (1.0 + (std / 0.05) ** 2)
        fit = fit_smpl(
            fused,
            body,
            weights=weights,
            fps=keypoints.fps,
            config=fit_config,
            progress=progress,
            cancel=cancel,
        )
        clock.lap("fit SMPL")

    w2c = world.camera.world_to_camera
    offset = None
    transl, joints = fit.transl, fit.joints
    if ground:
        with torch.no_grad():
            verts = body(
                betas=torch.as_tensor(fit.betas[None], dtype=body.dtype),
                global_orient=torch.as_tensor(fit.global_orient, dtype=body.dtype),
                body_pose=torch.as_tensor(fit.body_pose, dtype=body.dtype),
                transl=torch.as_tensor(fit.transl, dtype=body.dtype),
            ).vertices
        offset = ground_offset(verts[..., 2].double().numpy())
        shift = np.array([0.0, 0.0, offset])
        fused, joints, transl = fused - shift, joints - shift, transl - shift
        if samples_world is not None:
            samples_world = samples_world - shift
        if obj_world is not None:
            obj_world = obj_world - shift
        w2c = translate_cameras(w2c, -shift)
        clock.lap("ground")

    object_fit = None
    if plan is not None and obj_world is not None:
        weights = hoi.object_weights(plan.track.keypoints, den.score_threshold, obj_spread)
        object_fit = hoi.fit_object(obj_world, plan, weights, progress=progress, cancel=cancel)
        clock.lap("object pose")

    motion = Motion(
        fps=keypoints.fps,
        joints=joints,
        keypoints3d=fused,
        global_orient=fit.global_orient,
        body_pose=fit.body_pose,
        transl=transl,
        betas=fit.betas,
        body_model=body.kind,
        world_to_camera=w2c,
        intrinsics=world.camera.K,
        keypoints3d_std=std,
        samples_keypoints3d=samples_world if std is not None else None,
        **hoi.motion_fields(plan, object_fit),
    )
    motion = framerate.back_to_input(motion, rate_plan)  # --- frame rate: the input's frame times
    clock.total()
    return LiftReport(
        motion=motion,
        world=world,
        timings=clock.timings,
        denoiser_seconds=den.seconds if den else 0.0,
        denoiser_calls=den.calls if den else 0,
        scale_determined=determined,
        proportion_scale=float(proportion),
        ground_offset=offset,
        warnings=messages,
        object_fit=object_fit,
        gravity=grav,
        **info,
    )


def reprojection_pixels(motion: Motion) -> np.ndarray:
    """(T, 17, 2) pixels of ``motion.keypoints3d`` through its own camera (for J2D checks)."""
    return project(motion.keypoints3d, motion.intrinsics, motion.world_to_camera)
