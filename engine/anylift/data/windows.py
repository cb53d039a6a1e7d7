"""Single-view training windows: 3D mocap motion -> camera trajectory -> model-ready 2D (stage 1).

A window is T frames of one augmented training clip (:mod:`anylift.data.augment`) seen through a
camera and presented exactly as :mod:`anylift.representation` presents inference inputs. Two
kinds, mixed 2 : 1 (AnyLift's hybrid data source, ``local_fraction = 1/3``):

- **video-like (global)**: the camera follows a training trajectory (70% real-like, 30% one of
  the six predefined modes; :func:`anylift.data.trajectories.sample_params`), but from limited,
  mostly frontal viewpoints: the azimuth is within ``frontal_azimuth_deg`` of the subject's
  facing, as in Internet videos of one domain. Targets are root/local global 2D; conditions are
  the camera trajectory (:func:`~anylift.representation.camera_condition`) and epipolar lines
  through a sampled virtual camera's epipole (:func:`~anylift.representation.training_lines`),
  dropped (all zero) with probability ``line_drop`` so the model also works without lines.
- **projected-local**: a static camera from any direction (full circle, -10..45 degrees of
  elevation), the projection root-centred (:func:`~anylift.representation.centre_root`), no
  camera condition (zeros) and no lines; the loss ignores the hips (``local_only``).

Keypoints are dropped at random (``keypoint_drop``, NaN before normalisation) so the model sees
filled values with mask 0, as at inference. The observed input can also carry a detector's errors
(``keypoint_noise``, ``outlier_rate``, ``swap_rate``; :func:`detector_errors`) while the targets stay
exact, so the model learns to read through jitter, misplaced joints and left/right swaps instead of
lifting them into motion.

Batches are pure functions of ``(seed, rank, step)`` (:meth:`SingleViewWindows.batch`), so a
resumed or distributed run draws exactly the data an uninterrupted one would. Only
:data:`anylift.data.mocap.TRAIN_CLIPS` can be used: :class:`MotionBank` refuses held-out clips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.ndimage import gaussian_filter1d

from anylift import representation as rep
from anylift.data import trajectories
from anylift.data.augment import AugmentConfig, augment_motion, heading, hip_mid, recombine_arms
from anylift.data.mocap import HELDOUT_CLIPS, TRAIN_CLIPS, load_clip
from anylift.errors import InputError
from anylift.geometry.camera import project, relative_to_first

VALIDATION_STREAM = 7_777_777
"""Seed-sequence entry separating validation windows from training batches."""


def step_rng(seed: int, *stream: int) -> np.random.Generator:
    """A generator that depends only on ``seed`` and the ``stream`` integers (e.g. rank, step)."""
    return np.random.default_rng([int(seed), *(int(s) for s in stream)])


class MotionBank:
    """The 3D training motions: COCO-17 keypoints of the training mocap clips.

    Args:
        clips: clip names; each must be in :data:`~anylift.data.mocap.TRAIN_CLIPS`.
        fps: frame rate of the windows.

    Raises:
        InputError: a held-out or unknown clip is named (held-out clips never enter training).
    """

    def __init__(self, clips: tuple[str, ...] | list[str] = TRAIN_CLIPS, fps: float = 30.0) -> None:
        clips = tuple(clips)
        if not clips:
            raise InputError("no training clips", field="clips", expected="at least one training clip")
        for name in clips:
            if name in HELDOUT_CLIPS or name not in TRAIN_CLIPS:
                raise InputError(
                    f"clip '{name}' cannot be used for training"
                    + (" (it is held out for evaluation)" if name in HELDOUT_CLIPS else ""),
                    field="clips",
                    expected=f"names from {', '.join(TRAIN_CLIPS)}",
                )
        self.names = clips
        self.fps = float(fps)
        loaded = [load_clip(name, fps=self.fps, allow_heldout=False) for name in clips]
        self.keypoints = [c.keypoints3d for c in loaded]
        self.loops = [c.loop for c in loaded]

    def window(
        self, rng: np.random.Generator, num_frames: int, augment: AugmentConfig, *, with_name: bool = False
    ) -> np.ndarray | tuple[np.ndarray, str]:
        """(num_frames, 17, 3) an augmented window of a uniformly chosen clip (Z-up metres); with
        probability ``augment.recombine_prob`` it gets the arms of a second one (any clip).
        ``with_name``: also the clip's name (``"kick+walk arms"`` when recombined)."""
        i = int(rng.integers(len(self.names)))
        name = self.names[i]
        kp = augment_motion(self.keypoints[i], self.loops[i], num_frames, rng, augment)
        if augment.recombine_prob > 0 and rng.random() < augment.recombine_prob:
            k = int(rng.integers(len(self.names)))
            donor = augment_motion(self.keypoints[k], self.loops[k], num_frames, rng, augment)
            mixed = recombine_arms(kp, donor)
            if mixed[..., 2].min() >= kp[..., 2].min() - 0.02:  # no arm through the floor
                kp, name = mixed, f"{name}+{self.names[k]} arms"
        return (kp, name) if with_name else kp


@dataclass(frozen=True)
class WindowConfig:
    """How single-view windows are made (see the module doc).

    Attributes:
        window: T frames; fps: frame rate.
        clips: training clips to draw from.
        mode_prob: share of predefined-mode trajectories among the video-like ones (AnyLift: 30%).
        local_fraction: share of projected-local windows in a batch (hybrid 2 : 1 -> 1/3).
        frontal_azimuth_deg: video-like cameras sit within this angle of the subject's facing.
        keypoint_drop: probability of dropping each keypoint (detector misses).
        keypoint_noise: largest standard deviation of the observed keypoints' errors, as a fraction
            of the person's image size (each window draws its own in [0, this]); 0 = exact.
        outlier_rate: largest fraction of observed joint-frames given a gross error; 0 = none.
        swap_rate: largest fraction of observed frames whose left and right legs (or arms) are
            swapped; 0 = none.
        line_drop: probability of giving a video-like window no lines.
        local_elevation_deg: elevation range of the projected-local cameras.
        camera_range: ranges of the training camera trajectories
            (:data:`anylift.data.trajectories.CAMERA_RANGES`; multi-view windows).
        augment: 3D augmentation ranges.
    """

    window: int = 60
    fps: float = 30.0
    clips: tuple[str, ...] = TRAIN_CLIPS
    mode_prob: float = 0.3
    local_fraction: float = 1.0 / 3.0
    frontal_azimuth_deg: float = 45.0
    keypoint_drop: float = 0.05
    keypoint_noise: float = 0.0
    outlier_rate: float = 0.0
    swap_rate: float = 0.0
    line_drop: float = 0.1
    local_elevation_deg: tuple[float, float] = (-10.0, 45.0)
    camera_range: str = "standard"
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    @classmethod
    def from_dict(cls, data: dict) -> WindowConfig:
        """From plain config values (lists become tuples; ``augment`` a dict of AugmentConfig)."""
        data = dict(data)
        try:
            aug = AugmentConfig(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in data.pop("augment", {}).items()}
            )
            conv = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
            return cls(**conv, augment=aug)
        except TypeError as error:
            raise InputError(
                f"bad data settings: {error}", field="data", expected="WindowConfig fields"
            ) from error


def observe(
    keypoints3d: np.ndarray,
    K: np.ndarray,
    world_to_camera: np.ndarray,
    rng: np.random.Generator,
    drop: float,
    *,
    noise: float = 0.0,
    outliers: float = 0.0,
    swaps: float = 0.0,
) -> np.ndarray:
    """Pixels (T, 17, 2) of 3D keypoints seen by a camera; NaN where dropped or behind the camera.

    Args:
        keypoints3d: (T, 17, 3) world metres. K: (3, 3). world_to_camera: (T, 4, 4).
        drop: probability of dropping each keypoint.
        noise, outliers, swaps: detector errors (:func:`detector_errors`); all 0 = exact
            projections (and no random numbers drawn for them).
    """
    px, depth = project(keypoints3d, K, world_to_camera, return_depth=True)
    hidden = (depth < 0.05) | (rng.random(depth.shape) < drop)
    px = np.where(hidden[..., None], np.nan, px)
    return detector_errors(px, rng, noise, outliers, swaps) if noise > 0 or outliers > 0 or swaps > 0 else px


SWAPPED_LEGS = ((13, 14), (15, 16))
"""COCO-17 left/right pairs a detector swaps when the legs cross or the body is seen side-on (knees,
ankles; the hips with them half the time)."""
SWAPPED_ARMS = ((7, 8), (9, 10))
"""... and the arms (elbows, wrists): on MediaPipe's renders of the training clips (walk, kick x 7
camera families) 4 % of the frames had their legs swapped, 0.4 % their arms."""


def detector_errors(
    px: np.ndarray, rng: np.random.Generator, noise: float, outliers: float, swaps: float = 0.0
) -> np.ndarray:
    """Keypoints (T, J, 2) with a 2D detector's kinds of error, sized by the person's image size.

    - jitter: half white, half smooth over ~3 frames (a detector's errors persist a little), with
      a standard deviation drawn per window in ``[0, noise]`` x the person's size (the median over
      frames of the visible keypoints' bounding-box side);
    - gross errors: bursts of 1-6 frames in which a joint sits 5-30 % of the person's size away (a
      detector latching onto the wrong limb or a background shape), on a fraction drawn per window
      in ``[0, outliers]`` of the joint-frames;
    - left/right swaps: bursts of 1-10 frames in which the legs (4 in 5 bursts; the hips too half
      the time) or the arms carry each other's labels, on a fraction drawn per window in
      ``[0, swaps]`` of the frames (:data:`SWAPPED_LEGS`, :data:`SWAPPED_ARMS`).
    """
    seen = np.isfinite(px).all(-1)
    rows = seen.sum(1) >= 2
    if not rows.any():
        return px
    pts = np.where(seen[..., None], px, np.nan)[rows]
    size = float(np.median((np.nanmax(pts, 1) - np.nanmin(pts, 1)).max(-1)))
    t, j = px.shape[:2]
    sigma = rng.uniform(0.0, noise) * size
    smooth = gaussian_filter1d(rng.standard_normal(px.shape), 3.0, axis=0)
    smooth /= max(float(smooth.std()), 1e-9)
    out = px + sigma * np.sqrt(0.5) * (rng.standard_normal(px.shape) + smooth)
    rate = rng.uniform(0.0, outliers)
    lengths = rng.integers(1, 7, (t, j))
    starts = rng.random((t, j)) < rate / 3.5  # 3.5 frames per burst on average
    for f, k in zip(*np.nonzero(starts)):
        angle = rng.uniform(0.0, 2.0 * np.pi)
        jump = rng.uniform(0.05, 0.3) * size * np.array([np.cos(angle), np.sin(angle)])
        out[f : f + lengths[f, k], k] += jump
    if swaps > 0 and j >= 17:
        rate = rng.uniform(0.0, swaps)
        spans = rng.integers(1, 11, t)
        for f in np.flatnonzero(rng.random(t) < rate / 5.5):  # 5.5 frames per burst on average
            if rng.random() < 0.8:
                pairs = SWAPPED_LEGS + (((11, 12),) if rng.random() < 0.5 else ())
            else:
                pairs = SWAPPED_ARMS
            a, b = np.array(pairs).T
            span = slice(f, f + spans[f])
            out[span, a], out[span, b] = out[span, b].copy(), out[span, a].copy()
    return out


def video_like_camera(keypoints3d: np.ndarray, rng: np.random.Generator, config: WindowConfig):
    """A training trajectory (70/30 real-like/predefined) from a mostly frontal viewpoint."""
    params = trajectories.sample_params(rng, "train", config.mode_prob)
    facing = float(np.angle(np.mean(np.exp(1j * heading(keypoints3d)))))
    spread = math.radians(config.frontal_azimuth_deg)
    params = replace(params, azimuth=facing + float(rng.uniform(-spread, spread)))
    return trajectories.build_trajectory(params, len(keypoints3d), hip_mid(keypoints3d), config.fps)


def diverse_static_camera(keypoints3d: np.ndarray, rng: np.random.Generator, config: WindowConfig):
    """(K (3,3), world_to_camera (T,4,4)) of a static camera from a random direction around the subject."""
    size = trajectories.IMAGE_SIZES[int(rng.integers(len(trajectories.IMAGE_SIZES)))]
    fov = math.radians(rng.uniform(*trajectories.FOV_RANGE_DEG))
    focal = 0.5 * max(size) / math.tan(0.5 * fov)
    target = hip_mid(keypoints3d).mean(0)
    az = rng.uniform(-math.pi, math.pi)
    el = math.radians(rng.uniform(*config.local_elevation_deg))
    distance = rng.uniform(2.5, 6.0) + float(np.ptp(hip_mid(keypoints3d)[:, :2], axis=0).max())
    eye = target + distance * np.array(
        [math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)]
    )
    w2c = trajectories.look_at(eye, target)
    return trajectories.intrinsics(size, focal), np.tile(w2c, (len(keypoints3d), 1, 1))


def single_view_window(
    keypoints3d: np.ndarray, rng: np.random.Generator, config: WindowConfig, local_only: bool
) -> dict[str, np.ndarray]:
    """One training example of the single-view model from a 3D window.

    Args:
        keypoints3d: (T, 17, 3) world metres (an augmented window).
        local_only: a projected-local example (else video-like).

    Returns:
        ``x0`` (T, 17, 2) root/local model coordinates; ``camera`` (T, CAMERA_DIM); ``lines``
        (T, 17, 3); ``mask`` (T, 17) 1 = observed; ``local_only`` () bool. float32 arrays.
    """
    t = len(keypoints3d)
    if local_only:
        K, w2c = diverse_static_camera(keypoints3d, rng, config)
    else:
        cam = video_like_camera(keypoints3d, rng, config)
        K, w2c, size = cam.K, cam.world_to_camera, cam.image_size
    errors = dict(noise=config.keypoint_noise, outliers=config.outlier_rate, swaps=config.swap_rate)
    px = observe(keypoints3d, K, w2c, rng, config.keypoint_drop, **errors)
    nk = rep.normalise_keypoints(px, K)
    scale = nk.normalisation.scale
    if local_only:
        x0 = rep.to_root_local(rep.centre_root(nk.points))
        camera = np.zeros((t, rep.CAMERA_DIM), np.float32)
        lines = np.zeros((t, 17, 3), np.float32)
    else:
        x0 = rep.to_root_local(nk.points)
        camera = rep.camera_condition(w2c, K, size, scale)
        lines, _ = rep.training_lines(nk.points, rng, scale, relative_w2c=relative_to_first(w2c))
        if rng.random() < config.line_drop:
            lines = np.zeros_like(lines)
    return {
        "x0": x0.astype(np.float32),
        "camera": camera.astype(np.float32),
        "lines": lines.astype(np.float32),
        "mask": nk.mask.astype(np.float32),
        "local_only": np.array(local_only),
    }


def stack_examples(examples: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Batch a list of equally shaped examples: each key's arrays stacked on a new first axis."""
    return {k: np.stack([e[k] for e in examples]) for k in examples[0]}


class SingleViewWindows:
    """Deterministic batches of single-view windows.

    ``batch(step, rank, size)`` depends only on ``(seed, rank, step)``; ``validation(count)`` is a
    fixed list of windows from the same (training) clips drawn from a separate seed stream - a
    held-in split: same motions and trajectory distribution, other draws.
    """

    def __init__(self, config: WindowConfig, seed: int = 0, bank: MotionBank | None = None) -> None:
        self.config = config
        self.seed = int(seed)
        self.bank = bank or MotionBank(config.clips, config.fps)
        if tuple(self.bank.names) != tuple(config.clips):
            raise InputError("the motion bank's clips differ from the config's", field="clips")

    def example(self, rng: np.random.Generator, local_only: bool) -> dict[str, np.ndarray]:
        motion = self.bank.window(rng, self.config.window, self.config.augment)
        return single_view_window(motion, rng, self.config, local_only)

    def batch(self, step: int, rank: int, size: int) -> dict[str, np.ndarray]:
        """``size`` examples, the first ``round(size * local_fraction)`` projected-local."""
        rng = step_rng(self.seed, rank, step)
        n_local = round(size * self.config.local_fraction)
        return stack_examples([self.example(rng, i < n_local) for i in range(size)])

    def validation(self, count: int) -> dict[str, np.ndarray]:
        """A fixed batch of ``count`` held-in validation windows (same mix of kinds)."""
        rng = step_rng(self.seed, VALIDATION_STREAM)
        n_local = round(count * self.config.local_fraction)
        return stack_examples([self.example(rng, i < n_local) for i in range(count)])
