"""Evaluation cases: public-format inputs (2D keypoints + camera) and the truth for one mocap clip.

One builder for the bundled example (``examples/make_example.py``), the benchmarks
(``benchmarks/accuracy.py``, ``benchmarks/speed.py``) and the tests, so that all of them score
the same thing. :func:`make_case` does, for a clip and a trajectory seed:

1. **Motion** - :func:`anylift.data.mocap.load_clip` at ``fps`` (held-out clips only with
   ``allow_heldout=True``: evaluation code says so explicitly).
2. **Camera** - ``camera(keypoints3d, fps) -> (Camera, design)`` when given (the benchmarks'
   camera families, ``benchmarks/camera_families.py``), else a dynamic camera from
   :mod:`anylift.data.trajectories` with ``split="test"`` (its field of view and mode
   magnitudes lie in bins training never draws from), following the clip's hip-midpoint
   track: a real-like trajectory with probability 0.7, else one of the six predefined modes,
   as :func:`anylift.data.trajectories.sample_params` mixes them, on an image of
   ``image_size``. The camera's world is the mocap world: Z up (``up`` = +Z), metres, feet on
   z = 0, so a result lifted with this camera file is in the truth's world (formats.md) and
   every metric is computed without any alignment beyond the metric's own.
3. **Truth** - an ``anylift.motion/1`` :class:`~anylift.io.motion.Motion` whose
   ``keypoints3d`` are the mocap COCO-17 keypoints themselves (the real truth every keypoint
   metric uses). The SMPL fields (``joints``, ``global_orient``, ``body_pose``, ``transl``,
   ``betas``) come from :func:`anylift.fitting.smpl_fit.fit_smpl` on those keypoints with the
   body model given (proxy by default) and are only as exact as that fit (about 1 cm mean
   keypoint distance): use them to look at the truth in Blender, not to score keypoints.
   ``world_to_camera`` / ``intrinsics`` are the camera's.
4. **2D input** - the truth keypoints projected with the camera (``clean_keypoints``), then
   detector-like corruption, all drawn from ``noise_seed`` (default: ``trajectory_seed``):

   - Gaussian pixel noise, per joint ``noise_px * s_j / mean(s)`` with ``s`` the COCO OKS
     sigmas (:data:`COCO17_OKS_SIGMAS`: face points are found more precisely than hips);
   - gross errors on a fraction ``outlier_rate`` of the visible joint-frames: a displacement in
     a uniform random direction of 5-20% of the person's 2D bounding-box size (a detector
     latching onto the wrong limb);
   - scores: normal joints ``clip(N(0.85, 0.07), 0.3, 1)``; gross errors mostly low,
     ``U(0.1, 0.5)``, but 30% of them keep a normal score (detectors are confidently wrong
     sometimes);
   - dropped joints (score 0, x = y = NaN): occlusion bursts - a random joint for 1-15
     consecutive frames - added until a fraction ``dropout`` of all joint-frames is dropped;
     on top of that every joint whose clean projection is behind the camera or outside the
     image is dropped.

Scoring: ``anylift eval`` (:func:`anylift.metrics.evaluate_motions`) is the one definition of the
metrics; the benchmarks and the main job use it on ``(result, case.truth)``.

Randomness comes from the seeds only: the same arguments give the same case. The truth fit is
cached per (clip, fps, body model file, fit config) for the process, because the benchmarks
put one clip under several trajectories.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from anylift.data import mocap, trajectories
from anylift.errors import InputError
from anylift.fitting.smpl_fit import SmplFitConfig, fit_smpl
from anylift.geometry.camera import project
from anylift.io.cameras import Camera
from anylift.io.keypoints import Keypoints2D
from anylift.io.motion import Motion

# COCO keypoint OKS sigmas (cocoapi): how precisely human annotators place each joint.
COCO17_OKS_SIGMAS = np.array(
    [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
     0.107, 0.107, 0.087, 0.087, 0.089, 0.089]
)  # fmt: skip

# The settings the example and the benchmarks use (a 1080p video, a ViTPose-like detector).
DEFAULT_IMAGE_SIZE: tuple[int, int] = (1920, 1080)
DEFAULT_NOISE_PX = 3.0
DEFAULT_DROPOUT = 0.05
DEFAULT_OUTLIER_RATE = 0.02
# Probability of a predefined camera mode (else real-like), as in training's mix.
DEFAULT_MODE_PROB = 0.3

_BURST_MAX = 15  # frames of one occlusion burst at most
_OUTLIER_SIZE = (0.05, 0.20)  # fraction of the 2D bounding box's longer side
_SCORE_MEAN, _SCORE_STD, _SCORE_MIN = 0.85, 0.07, 0.3
_OUTLIER_SCORE = (0.1, 0.5)
_OUTLIER_KEEPS_SCORE = 0.3


@dataclass(eq=False)
class EvalCase:
    """One evaluation input and its truth.

    Attributes (T frames):
        name: ``"<clip>/traj<seed>"`` (or the name given to :func:`make_case`).
        clip: mocap clip name.
        trajectory_seed: seed of the camera trajectory (and, by default, of the 2D corruption).
        keypoints: the corrupted 2D input (T, 17, 3) ``[x px, y px, score]``, fps, image size.
        camera: the true camera (test split), world = the truth's world (Z up, metres).
        truth: ``anylift.motion/1`` truth (module docs: keypoints3d are the mocap keypoints,
            the SMPL fields come from a fit).
        clean_keypoints: (T, 17, 2) pixels, the truth keypoints projected with the camera.
        dropped: (T, 17) bool, joints with score 0 in ``keypoints``.
        outliers: (T, 17) bool, joints given a gross error (and not dropped).
        trajectory: the :class:`~anylift.data.trajectories.TrajectoryParams` of the camera, or the
            design a ``camera`` builder returned.
        noise_px, dropout, outlier_rate: the corruption settings used.
        fit_error: mean distance (m) between the fitted SMPL body's COCO-17 keypoints and the truth.
    """

    name: str
    clip: str
    trajectory_seed: int
    keypoints: Keypoints2D
    camera: Camera
    truth: Motion
    clean_keypoints: np.ndarray
    dropped: np.ndarray
    outliers: np.ndarray
    trajectory: Any
    noise_px: float
    dropout: float
    outlier_rate: float
    fit_error: float

    @property
    def num_frames(self) -> int:
        return self.keypoints.num_frames


def sample_test_params(
    seed: int, image_size: tuple[int, int], mode_prob: float = DEFAULT_MODE_PROB
) -> trajectories.TrajectoryParams:
    """Test-split trajectory parameters for ``seed`` on an image of ``image_size`` (W, H).

    The same mix as :func:`anylift.data.trajectories.sample_params` (predefined with probability
    ``mode_prob``, else real-like), with the image size fixed instead of drawn.
    """
    rng = np.random.default_rng(seed)
    size = tuple(int(v) for v in image_size)
    if rng.random() < mode_prob:
        return trajectories.sample_predefined_params(rng, split="test", image_size=size)
    return trajectories.sample_real_like_params(rng, split="test", image_size=size)


def static_camera_like(camera: Camera) -> Camera:
    """The static-camera ablation's camera: frame 0's pose held for every frame, same K and world.

    The lift then sees exactly the same 2D, intrinsics and world frame as with the true camera
    and only the camera's motion is withheld (MVLift-style static-camera assumption), so its
    result is scored in the same world with the same metrics.
    """
    w2c = np.repeat(camera.world_to_camera[:1], camera.num_frames, axis=0)
    return Camera(K=camera.K.copy(), world_to_camera=w2c, up=camera.up, image_size=camera.image_size)


@functools.lru_cache(maxsize=16)
def _fit_truth(clip: str, fps: float, body_path: str | None, config_key: tuple) -> tuple:
    """(clip keypoints3d, SmplFit, body kind), cached; ``config_key`` is SmplFitConfig's fields."""
    from anylift.body.model import load_body_model

    motion = mocap.load_clip(clip, fps=fps, allow_heldout=True)
    body = load_body_model(body_path)
    config = SmplFitConfig(*config_key)
    fit = fit_smpl(motion.keypoints3d, body, fps=fps, floor_z=0.0, config=config)
    return motion.keypoints3d, fit, body.kind


def _bursts(rng: np.random.Generator, num_frames: int, rate: float) -> np.ndarray:
    """(T, 17) bool occlusion mask covering round(rate * T * 17) joint-frames exactly."""
    mask = np.zeros((num_frames, 17), dtype=bool)
    target = round(rate * num_frames * 17)
    while mask.sum() < target:
        joint = rng.integers(17)
        length = int(rng.integers(1, min(_BURST_MAX, num_frames) + 1))
        start = int(rng.integers(0, num_frames - length + 1))
        new = np.flatnonzero(~mask[start : start + length, joint])
        room = target - int(mask.sum())
        mask[start + new[:room], joint] = True
    return mask


def corrupt_keypoints(
    clean: np.ndarray,
    depth: np.ndarray,
    image_size: tuple[int, int],
    rng: np.random.Generator,
    *,
    noise_px: float,
    dropout: float,
    outlier_rate: float = DEFAULT_OUTLIER_RATE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Detector-like 2D keypoints from clean projections (module docs, step 4).

    Args:
        clean: (T, 17, 2) pixels.
        depth: (T, 17) camera-frame depth, metres (<= 0: behind the camera).
        image_size: (W, H) pixels.
        rng: the randomness.
        noise_px: mean Gaussian standard deviation over the joints, pixels.
        dropout: fraction of joint-frames dropped by occlusion bursts, in [0, 1).
        outlier_rate: fraction of the visible joint-frames given a gross error, in [0, 1].

    Returns:
        keypoints (T, 17, 3) ``[x, y, score]`` (NaN x, y where score 0), dropped (T, 17),
        outliers (T, 17).
    """
    for name, value, high in (("dropout", dropout, 1.0), ("outlier_rate", outlier_rate, 1.0 + 1e-12)):
        if not (math.isfinite(value) and 0.0 <= value < high):
            raise InputError(f"is {value!r}", field=name, expected="a fraction in [0, 1)")
    if not (math.isfinite(noise_px) and noise_px >= 0):
        raise InputError(f"is {noise_px!r}", field="noise_px", expected="a standard deviation >= 0 pixels")
    t_len = clean.shape[0]
    w, h = image_size
    sigma = noise_px * COCO17_OKS_SIGMAS / COCO17_OKS_SIGMAS.mean()
    noisy = clean + rng.standard_normal(clean.shape) * sigma[None, :, None]

    lo, hi = np.nanmin(clean, axis=1), np.nanmax(clean, axis=1)
    box = (hi - lo).max(axis=1)  # (T,) the person's size in pixels
    outliers = rng.random((t_len, 17)) < outlier_rate
    angle = rng.uniform(0, 2 * np.pi, (t_len, 17))
    size = rng.uniform(*_OUTLIER_SIZE, (t_len, 17)) * box[:, None]
    jump = np.stack([np.cos(angle), np.sin(angle)], -1) * size[..., None]
    noisy = np.where(outliers[..., None], noisy + jump, noisy)

    score = np.clip(rng.normal(_SCORE_MEAN, _SCORE_STD, (t_len, 17)), _SCORE_MIN, 1.0)
    low = rng.uniform(*_OUTLIER_SCORE, (t_len, 17))
    keeps = rng.random((t_len, 17)) < _OUTLIER_KEEPS_SCORE
    score = np.where(outliers & ~keeps, low, score)

    unseen = (depth <= 0) | (clean[..., 0] < 0) | (clean[..., 0] >= w) | (clean[..., 1] < 0)
    unseen |= clean[..., 1] >= h
    dropped = _bursts(rng, t_len, dropout) | unseen
    score = np.where(dropped, 0.0, score)
    keypoints = np.concatenate([noisy, score[..., None]], axis=-1)
    keypoints[dropped, :2] = np.nan
    return keypoints, dropped, outliers & ~dropped


def make_case(
    clip: str,
    trajectory_seed: int,
    *,
    noise_px: float = DEFAULT_NOISE_PX,
    dropout: float = DEFAULT_DROPOUT,
    fps: float = 30.0,
    image_size: tuple[int, int] = DEFAULT_IMAGE_SIZE,
    outlier_rate: float = DEFAULT_OUTLIER_RATE,
    noise_seed: int | None = None,
    mode_prob: float = DEFAULT_MODE_PROB,
    allow_heldout: bool = False,
    body_model: str | Path | None = None,
    fit_config: SmplFitConfig | None = None,
    camera: Callable[[np.ndarray, float], tuple[Camera, Any]] | None = None,
    name: str | None = None,
) -> EvalCase:
    """Build one evaluation case (module docs).

    Args:
        clip: a mocap clip name (:data:`anylift.data.mocap.ALL_CLIPS`).
        trajectory_seed: seed of the test-split camera trajectory (:func:`sample_test_params`).
        noise_px: mean Gaussian 2D noise, pixels (0 = none).
        dropout: fraction of joint-frames dropped by occlusion, in [0, 1).
        fps: frame rate of the case (the clip is resampled to it).
        image_size: (W, H) pixels of the virtual video.
        outlier_rate: fraction of visible joint-frames with a gross error.
        noise_seed: seed of the 2D corruption; default ``trajectory_seed``.
        mode_prob: probability of a predefined camera mode instead of a real-like trajectory.
        allow_heldout: must be True for a clip of :data:`anylift.data.mocap.HELDOUT_CLIPS`
            (evaluation code only; training code never passes it).
        body_model: SMPL model file for the truth's SMPL fields; default: ``load_body_model``'s
            choice (``$ANYLIFT_SMPL_MODEL`` or the proxy body).
        fit_config: SMPL fit schedule/weights (tests use a short one); default SmplFitConfig().
        camera: ``camera(keypoints3d (T, 17, 3) m, fps) -> (Camera, design)`` builds the camera
            instead of the test-split trajectory (then ``image_size`` and ``mode_prob`` are unused).
        name: the case's name; default ``"<clip>/traj<seed>"``.

    Returns:
        :class:`EvalCase`.

    Raises:
        InputError: held-out clip without ``allow_heldout``, unknown clip, bad settings.
    """
    if clip in mocap.HELDOUT_CLIPS and not allow_heldout:
        raise InputError(
            f"clip '{clip}' is held out for evaluation",
            field="clip",
            expected=f"a training clip ({', '.join(mocap.TRAIN_CLIPS)}) or allow_heldout=True",
            fix="evaluation code (benchmarks, the example) passes allow_heldout=True explicitly",
        )
    if clip not in mocap.ALL_CLIPS:
        raise InputError(
            f"unknown clip '{clip}'", field="clip", expected=f"one of {', '.join(mocap.ALL_CLIPS)}"
        )
    config = fit_config or SmplFitConfig()
    body_path = None if body_model is None else str(Path(body_model).expanduser())
    key = tuple(getattr(config, f) for f in config.__dataclass_fields__)
    keypoints3d, fit, body_kind = _fit_truth(clip, float(fps), body_path, key)
    keypoints3d = keypoints3d.copy()
    t_len = keypoints3d.shape[0]

    if camera is None:
        params = sample_test_params(int(trajectory_seed), image_size, mode_prob)
        hips = keypoints3d[:, [11, 12]].mean(axis=1)
        cam = trajectories.build_trajectory(params, t_len, hips, fps=float(fps))
    else:
        cam, params = camera(keypoints3d.copy(), float(fps))

    clean, depth = project(keypoints3d, cam.K, cam.world_to_camera, return_depth=True)
    rng = np.random.default_rng(int(trajectory_seed if noise_seed is None else noise_seed))
    values, dropped, outliers = corrupt_keypoints(
        clean, depth, cam.image_size, rng, noise_px=noise_px, dropout=dropout, outlier_rate=outlier_rate
    )
    keypoints = Keypoints2D(keypoints=values, fps=float(fps), image_size=cam.image_size)
    truth = Motion(
        fps=float(fps),
        joints=fit.joints.copy(),
        keypoints3d=keypoints3d,
        global_orient=fit.global_orient.copy(),
        body_pose=fit.body_pose.copy(),
        transl=fit.transl.copy(),
        betas=fit.betas.copy(),
        body_model=body_kind,
        world_to_camera=cam.world_to_camera.copy(),
        intrinsics=cam.K.copy(),
    )
    return EvalCase(
        name=name or f"{clip}/traj{int(trajectory_seed)}",
        clip=clip,
        trajectory_seed=int(trajectory_seed),
        keypoints=keypoints,
        camera=cam,
        truth=truth,
        clean_keypoints=clean,
        dropped=dropped,
        outliers=outliers,
        trajectory=params,
        noise_px=float(noise_px),
        dropout=float(dropout),
        outlier_rate=float(outlier_rate),
        fit_error=float(np.linalg.norm(fit.keypoints3d - keypoints3d, axis=-1).mean()),
    )
