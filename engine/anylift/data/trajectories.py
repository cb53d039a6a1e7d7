"""Seeded camera trajectories around a subject, for training and evaluation data.

Every generator returns an :class:`anylift.io.cameras.Camera` (OpenCV camera frames: x right,
y down, z forward; world Z-up, metres) that looks at a subject given as a (T, 3) pelvis track
or a fixed (3,) point. Randomness comes from a seed or ``np.random.Generator`` only.

Two steps, so that a trajectory can be stored, compared and rebuilt:
:func:`sample_params` draws a :class:`TrajectoryParams` (plain numbers), and
:func:`build_trajectory` turns it, the subject track and the frame count into a Camera
(deterministically: the smooth noise inside comes from ``params.noise_seed``).

Kinds of trajectory:

- **Predefined modes** (AnyLift): :data:`PREDEFINED_MODES`. A :class:`Camera` holds one K, so
  zooms are dollies: ``zoom_in`` moves the camera towards the aim point along its view
  direction (the subject grows), ``zoom_out`` away. ``move_left`` / ``move_right`` translate
  the camera along its own -x / +x axis (frame 0's right vector, horizontal). ``rotate_cw`` /
  ``rotate_ccw`` roll the camera about its optical axis, clockwise / counter-clockwise as seen
  by the operator looking through the camera (``rotate_cw``: the camera's +x axis dips
  towards world down; the picture turns counter-clockwise on screen). ``magnitude`` is the
  maximum displacement: a fraction of the camera distance for zoom, a fraction of the view's
  half-width at the aim distance for move (so the subject stays in the picture), radians for rotate.
  ``returning=False`` keeps moving at constant speed to the maximum at the last frame;
  ``returning=True`` eases out to the maximum at mid-clip and back, ending exactly where it
  started.
- **Pelvis tracking** (``track_pelvis``): the camera aims at the subject every frame and travels
  with its horizontal displacement, so the mode's motion is relative to the subject and the
  pelvis projects at the principal point (before shake). Without tracking the camera aims at
  the centre of the track's bounding box and moves only as the mode says.
- **Real-like** (stands in for trajectories estimated from real videos): smooth random
  combinations of orbit (azimuth drift), dolly (exponential distance change), follow (the camera
  base travels with the lagged subject), pan/tilt (aim follows the lagged subject), slow random
  wobble of azimuth, elevation, distance and roll, and handheld shake.
- **Handheld shake** (all kinds, optional): smooth small camera rotations (degrees) and
  translations (centimetres), Gaussian-filtered noise.
- :func:`internet_like_trajectory`: limited, mostly frontal views (azimuth within +-30 degrees of
  the subject's facing, 0-15 degrees elevation), nearly static.
- :func:`ring_cameras`: N static cameras evenly spaced on a ring (virtual views).

Framing: the distance is set so a 1.7 m body spans ``params.framing`` of the image height
(``d = f * 1.7 / (framing * H)``); then, if the subject (pelvis track with a body-sized box
around it) would leave the image on any frame, the camera's offset from its base point is
enlarged by 15% steps until it fits (up to 12 steps).

Train/test split (no trajectory can appear in both): the field of view along the image's
long side is drawn from interleaved, disjoint 4-degree bins over [40, 80) degrees - train:
[40, 44) U [48, 52) U ..., test: [44, 48) U [52, 56) U ... - and so is each predefined mode's
magnitude (10 bins over its range). Since a Camera keeps one K and K = f with the principal
point at the image centre, a train camera and a test camera always differ in K (same image
size -> same long side -> different focal length), while both splits cover the same range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation

from anylift.errors import InputError
from anylift.geometry.transforms import intrinsics, look_at
from anylift.io.cameras import Camera

PREDEFINED_MODES: tuple[str, ...] = (
    "zoom_in",
    "zoom_out",
    "move_left",
    "move_right",
    "rotate_cw",
    "rotate_ccw",
)
IMAGE_SIZES: tuple[tuple[int, int], ...] = ((1920, 1080), (1280, 720), (1080, 1920))
SPLITS: tuple[str, ...] = ("train", "test")
WORLD_UP = np.array([0.0, 0.0, 1.0])
BODY_HEIGHT = 1.7  # metres, used for framing only

FOV_RANGE_DEG = (40.0, 80.0)  # along the image's long side
CAMERA_RANGES: tuple[str, ...] = ("standard", "wide", "extreme")
"""``"standard"``: the ranges above. ``"wide"`` (training for unseen camera designs): field of view
:data:`WIDE_FOV_RANGE_DEG` (20-85 mm full-frame equivalents), elevation :data:`WIDE_ELEVATION_DEG`
(low angle near the floor to drones and stands looking down), framing down to small people,
every image size, and a share :data:`WIDE_STATIC_PROB` of locked-off tripods. ``"extreme"``: the
wide ranges, with each of field of view, elevation and framing drawn instead, with probability
:data:`EXTREME_PROB` each, from the extreme ranges: long lenses down to a 600 mm telephoto (a
broadcast camera across a stadium: nearly orthographic) and ultra-wide 12 mm lenses (log-uniform),
elevations up to a drone looking almost straight down, people filling nearly the whole frame
(these draws ignore the train/test split of the bins: only training uses this range)."""
WIDE_FOV_RANGE_DEG = (22.0, 86.0)
WIDE_ELEVATION_DEG = (-15.0, 65.0)
WIDE_FRAMING = (0.12, 0.75)
WIDE_STATIC_PROB = 0.15
EXTREME_FOV_RANGE_DEG = (3.5, 112.0)  # 600 mm to 12 mm full-frame equivalents, along the long side
EXTREME_ELEVATION_DEG = (-20.0, 85.0)
EXTREME_FRAMING = (0.08, 0.95)
EXTREME_PROB = 0.35
_SPLIT_BINS = 10
# Maximum displacement of each predefined mode (low, high): zoom in fractions of the distance,
# move in fractions of the view's half-width at the aim distance, rotate in radians.
MAGNITUDE_RANGE: dict[str, tuple[float, float]] = {
    "zoom_in": (0.15, 0.45),
    "zoom_out": (0.2, 0.8),
    "move_left": (0.15, 0.6),
    "move_right": (0.15, 0.6),
    "rotate_cw": (math.radians(10.0), math.radians(45.0)),
    "rotate_ccw": (math.radians(10.0), math.radians(45.0)),
}
# Body-sized box around the pelvis, metres: what must stay inside the image.
_BODY_BOX = np.array([[0, 0, -0.95], [0, 0, 0.85], [0.3, 0, 0], [-0.3, 0, 0], [0, 0.3, 0], [0, -0.3, 0]])


@dataclass(frozen=True)
class TrajectoryParams:
    """Everything that defines a trajectory, given the subject track and frame count.

    Angles in radians, distances as noted. ``azimuth`` is the direction from the aim point to
    the camera in the world xy-plane (from +x towards +y), ``elevation`` the angle of the
    camera above the aim point's horizontal plane.
    """

    kind: str  # "predefined" | "real_like"
    image_size: tuple[int, int]
    fov_long: float  # field of view along the image's long side
    framing: float  # fraction of the image height a 1.7 m body spans at frame 0
    azimuth: float
    elevation: float
    track_pelvis: bool = True
    mode: str | None = None  # predefined only
    magnitude: float = 0.0  # predefined only: maximum displacement
    returning: bool = False  # predefined only
    shake_rotation: float = 0.0  # radians, std of the handheld rotation noise
    shake_translation: float = 0.0  # metres, std of the handheld translation noise
    orbit_rate: float = 0.0  # real-like: radians / second
    dolly_rate: float = 0.0  # real-like: log-distance change / second
    follow: float = 0.0  # real-like: 0 = tripod, 1 = base travels with the subject
    lag: float = 0.3  # real-like: seconds of smoothing of the subject track (operator lag)
    wobble: float = 0.0  # real-like: amplitude of slow azimuth/elevation/roll wobble, radians
    noise_seed: int = 0
    split: str = "train"

    @property
    def focal(self) -> float:
        """fx = fy in pixels."""
        return 0.5 * max(self.image_size) / math.tan(0.5 * self.fov_long)


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise InputError(f"split = {split!r}", field="split", expected="'train' or 'test'")


def split_uniform(
    rng: np.random.Generator, low: float, high: float, split: str, bins: int = _SPLIT_BINS
) -> float:
    """Uniform draw from the split's half of ``bins`` interleaved bins over [low, high).

    Train gets the even bins (0, 2, ...), test the odd ones; the two sets are disjoint.
    """
    _check_split(split)
    width = (high - low) / bins
    own = np.arange(0 if split == "train" else 1, bins, 2)
    return float(low + width * (rng.choice(own) + rng.random()))


def split_of(value: float, low: float, high: float, bins: int = _SPLIT_BINS) -> str:
    """Which split's bins ``value`` falls in (inverse of :func:`split_uniform`)."""
    index = int(np.floor((value - low) / ((high - low) / bins)))
    return "train" if index % 2 == 0 else "test"


def _direction(azimuth, elevation) -> np.ndarray:
    azimuth, elevation = np.broadcast_arrays(np.asarray(azimuth, float), np.asarray(elevation, float))
    return np.stack(
        [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)], axis=-1
    )


def _track(subject_track, num_frames: int) -> np.ndarray:
    if isinstance(num_frames, bool) or not isinstance(num_frames, int | np.integer) or num_frames < 1:
        raise InputError(f"is {num_frames!r}", field="num_frames", expected="a whole number >= 1")
    track = np.asarray(subject_track, dtype=np.float64)
    if track.shape == (3,):
        track = np.tile(track, (num_frames, 1))
    if track.shape != (num_frames, 3) or not np.all(np.isfinite(track)):
        raise InputError(
            f"has shape {track.shape}",
            field="subject_track",
            expected=f"finite (3,) or ({num_frames}, 3) metres",
        )
    return track


def _smooth_noise(rng: np.random.Generator, num_frames: int, dims: int, sigma: float) -> np.ndarray:
    """(T, dims) smooth noise with unit standard deviation per dimension (sigma in frames)."""
    pad = int(4 * sigma) + 1
    noise = gaussian_filter1d(rng.standard_normal((num_frames + 2 * pad, dims)), sigma, axis=0)[pad:-pad]
    # Normalise by the filter's theoretical gain so short clips are not blown up.
    return noise * math.sqrt(2.0 * math.sqrt(math.pi) * sigma)


def _profile(num_frames: int, returning: bool) -> np.ndarray:
    """(T,) displacement fraction in [0, 1]: linear ramp, or out-and-back (1 at mid-clip)."""
    u = np.linspace(0.0, 1.0, num_frames) if num_frames > 1 else np.zeros(1)
    return 0.5 * (1.0 - np.cos(2.0 * np.pi * u)) if returning else u


def _fits(
    w2c: np.ndarray, K: np.ndarray, size: tuple[int, int], track: np.ndarray, margin: float = 0.02
) -> bool:
    points = track[:, None] + _BODY_BOX[None]
    cam = np.einsum("tij,tnj->tni", w2c[:, :3, :3], points) + w2c[:, None, :3, 3]
    if np.any(cam[..., 2] < 0.5):
        return False
    uv = np.einsum("ij,tnj->tni", K[:2, :2], cam[..., :2] / cam[..., 2:]) + K[:2, 2]
    w, h = size
    return bool(np.all((uv[..., 0] > margin * w) & (uv[..., 0] < (1 - margin) * w)
                       & (uv[..., 1] > margin * h) & (uv[..., 1] < (1 - margin) * h)))  # fmt: skip


def build_trajectory(params: TrajectoryParams, num_frames: int, subject_track, fps: float = 30.0) -> Camera:
    """The Camera of ``params`` around a subject.

    Args:
        params: from :func:`sample_params` or built by hand.
        num_frames: T.
        subject_track: (T, 3) pelvis positions or a fixed (3,) point, world metres.
        fps: frame rate, for the time-based parts (orbit/dolly rates, lag).

    Returns:
        Camera with T frames, ``up`` = world +z, ``image_size`` = ``params.image_size``.
    """
    track = _track(subject_track, num_frames)
    if params.kind not in ("predefined", "real_like"):
        raise InputError(f"kind = {params.kind!r}", field="kind", expected="'predefined' or 'real_like'")
    if params.kind == "predefined" and params.mode not in PREDEFINED_MODES:
        raise InputError(
            f"mode = {params.mode!r}", field="mode", expected=f"one of {', '.join(PREDEFINED_MODES)}"
        )
    K = intrinsics(params.image_size, params.focal)
    distance = params.focal * BODY_HEIGHT / (params.framing * params.image_size[1])
    noise = np.random.default_rng(params.noise_seed)
    t = np.arange(num_frames) / fps
    wobble = _smooth_noise(noise, num_frames, 4, sigma=fps * 0.8)
    shake_r = _smooth_noise(noise, num_frames, 3, sigma=fps * 0.08) * params.shake_rotation
    shake_t = _smooth_noise(noise, num_frames, 3, sigma=fps * 0.1) * params.shake_translation

    carried = np.zeros((num_frames, 3))
    if params.kind == "predefined":
        s = _profile(num_frames, params.returning)[:, None]
        view = -_direction(params.azimuth, params.elevation)  # from the camera towards the aim point
        right = np.cross(view, WORLD_UP)
        right /= np.linalg.norm(right)
        # Sideways moves are in half-widths of the view at the aim distance, so the subject stays
        # in the picture however far the fitting below pushes the camera back.
        half_width = 0.5 * params.image_size[0] / params.focal
        offsets = {
            "zoom_in": view * params.magnitude,
            "zoom_out": -view * params.magnitude,
            "move_left": -right * params.magnitude * half_width,
            "move_right": right * params.magnitude * half_width,
        }
        roll = np.zeros(num_frames)
        if params.mode == "rotate_cw":
            roll = s[:, 0] * params.magnitude
        elif params.mode == "rotate_ccw":
            roll = -s[:, 0] * params.magnitude
        # Camera minus aim point, per metre of distance.
        unit_offset = -view + s * offsets.get(params.mode, np.zeros(3))
        if params.track_pelvis:
            # Travel with the subject's horizontal displacement, at frame 0's height.
            anchor = np.concatenate([track[:, :2], np.full((num_frames, 1), track[0, 2])], axis=1)
            target = track
        else:
            anchor = target = np.tile(0.5 * (track.min(axis=0) + track.max(axis=0)), (num_frames, 1))
            # Untracked: the camera translates without turning, so the aim point moves with it.
            carried = unit_offset - unit_offset[:1]
    else:
        lagged = gaussian_filter1d(track, max(params.lag * fps, 1e-3), axis=0, mode="nearest")
        aim0 = lagged[0]
        anchor = aim0 + params.follow * (lagged - aim0) * [1, 1, 0]
        target = lagged
        azimuth = params.azimuth + params.orbit_rate * t + params.wobble * wobble[:, 0]
        low = min(math.radians(-10), params.elevation - 0.05)
        high = max(math.radians(40), params.elevation + 0.05)
        elevation = np.clip(params.elevation + 0.5 * params.wobble * wobble[:, 1], low, high)
        unit_offset = (
            _direction(azimuth, elevation)
            * np.exp(params.dolly_rate * t + 0.3 * params.wobble * wobble[:, 2])[:, None]
        )
        roll = 0.3 * params.wobble * wobble[:, 3]

    rotvec = Rotation.from_rotvec(shake_r)
    for _ in range(13):
        eye = anchor + distance * unit_offset + shake_t
        w2c = look_at(eye, target + distance * carried, roll)
        # Handheld rotation: a small turn of the camera body about its own axes.
        rot = np.einsum("tij,tjk->tik", rotvec.inv().as_matrix(), w2c[:, :3, :3])
        w2c[:, :3, :3] = rot
        w2c[:, :3, 3] = -np.einsum("tij,tj->ti", rot, eye)
        if _fits(w2c, K, params.image_size, track):
            break
        distance *= 1.15
    return Camera(K=K, world_to_camera=w2c, up=WORLD_UP.copy(), image_size=tuple(params.image_size))


def _check_range(camera_range: str) -> None:
    if camera_range not in CAMERA_RANGES:
        raise InputError(
            f"= {camera_range!r}", field="camera_range", expected=" or ".join(map(repr, CAMERA_RANGES))
        )


def _common(rng: np.random.Generator, split: str, *, image_size=None, camera_range: str = "standard") -> dict:
    _check_range(camera_range)
    size = tuple(IMAGE_SIZES[rng.integers(len(IMAGE_SIZES))]) if image_size is None else tuple(image_size)
    wide = camera_range in ("wide", "extreme")
    fov = split_uniform(rng, *(WIDE_FOV_RANGE_DEG if wide else FOV_RANGE_DEG), split)
    elevation = WIDE_ELEVATION_DEG if wide else (-5.0, 25.0)
    common = {
        "image_size": size,
        "fov_long": math.radians(fov),
        "framing": float(rng.uniform(*(WIDE_FRAMING if wide else (0.35, 0.7)))),
        "azimuth": float(rng.uniform(-math.pi, math.pi)),
        "elevation": float(rng.uniform(*np.radians(elevation))),
        "noise_seed": int(rng.integers(2**31)),
        "split": split,
    }
    if camera_range == "extreme":  # drawn after the wide draws, which stay as they were
        if rng.random() < EXTREME_PROB:
            common["fov_long"] = math.radians(math.exp(rng.uniform(*np.log(EXTREME_FOV_RANGE_DEG))))
        if rng.random() < EXTREME_PROB:
            common["elevation"] = float(rng.uniform(*np.radians(EXTREME_ELEVATION_DEG)))
        if rng.random() < EXTREME_PROB:
            common["framing"] = float(rng.uniform(*EXTREME_FRAMING))
    return common


def _shake(rng: np.random.Generator, probability: float) -> dict:
    if rng.random() >= probability:
        return {}
    return {
        "shake_rotation": math.radians(float(rng.uniform(0.2, 1.0))),
        "shake_translation": float(rng.uniform(0.003, 0.02)),
    }


def sample_predefined_params(
    seed: int | np.random.Generator | None, mode: str | None = None, split: str = "train",
    camera_range: str = "standard", **overrides,
) -> TrajectoryParams:  # fmt: skip
    """Random :class:`TrajectoryParams` of one predefined mode (random mode when None).

    ``overrides`` replace fields after drawing (e.g. ``returning=True, shake_rotation=0``);
    ``camera_range``: :data:`CAMERA_RANGES`.
    """
    rng = _rng(seed)
    _check_split(split)
    if mode is None:
        mode = PREDEFINED_MODES[rng.integers(len(PREDEFINED_MODES))]
    if mode not in PREDEFINED_MODES:
        raise InputError(f"mode = {mode!r}", field="mode", expected=f"one of {', '.join(PREDEFINED_MODES)}")
    common = _common(rng, split, image_size=overrides.pop("image_size", None), camera_range=camera_range)
    if mode == "zoom_in":  # keep the body inside the picture at the closest point
        common["framing"] = min(common["framing"], 0.5)
    params = TrajectoryParams(
        kind="predefined",
        mode=mode,
        magnitude=split_uniform(rng, *MAGNITUDE_RANGE[mode], split),
        returning=bool(rng.random() < 0.5),
        track_pelvis=bool(rng.random() < 0.5),
        **common,
        **_shake(rng, 0.5),
    )
    return replace(params, **overrides)


def sample_real_like_params(
    seed: int | np.random.Generator | None, split: str = "train", camera_range: str = "standard", **overrides
) -> TrajectoryParams:
    """Random real-like :class:`TrajectoryParams`: a smooth random mix of follow, orbit, dolly, pan/tilt."""
    rng = _rng(seed)
    _check_split(split)
    common = _common(rng, split, image_size=overrides.pop("image_size", None), camera_range=camera_range)
    style = rng.choice(["handheld_follow", "orbit", "dolly", "pan_tilt"])
    active = lambda main, p: style == main or rng.random() < p  # noqa: E731
    params = TrajectoryParams(
        kind="real_like",
        track_pelvis=True,
        orbit_rate=float(rng.choice([-1, 1]) * rng.uniform(0.1, 0.6)) if active("orbit", 0.3) else 0.0,
        dolly_rate=float(rng.uniform(-0.2, 0.15)) if active("dolly", 0.3) else 0.0,
        follow=float(rng.uniform(0.7, 1.0)) if active("handheld_follow", 0.4) else 0.0,
        lag=float(rng.uniform(0.1, 0.6)),
        wobble=float(rng.uniform(0.0, math.radians(6.0))),
        **common,
        **_shake(rng, 0.9 if style == "handheld_follow" else 0.5),
    )
    return replace(params, **overrides)


def sample_params(
    seed: int | np.random.Generator | None, split: str = "train", mode_prob: float = 0.3,
    camera_range: str = "standard",
) -> TrajectoryParams:  # fmt: skip
    """Real-like params with probability ``1 - mode_prob``, else a random predefined mode.

    ``camera_range="wide"`` or ``"extreme"`` (:data:`CAMERA_RANGES`) draws from those ranges and makes a share
    :data:`WIDE_STATIC_PROB` of the cameras locked-off tripods (no motion, no shake, aimed at the
    middle of the subject's path).
    """
    rng = _rng(seed)
    _check_range(camera_range)
    if camera_range != "standard" and rng.random() < WIDE_STATIC_PROB:
        return sample_predefined_params(
            rng, "zoom_in", split, camera_range, magnitude=0.0, track_pelvis=False,
            shake_rotation=0.0, shake_translation=0.0,
        )  # fmt: skip
    if rng.random() < mode_prob:
        return sample_predefined_params(rng, split=split, camera_range=camera_range)
    return sample_real_like_params(rng, split=split, camera_range=camera_range)


def sample_trajectory(
    rng: int | np.random.Generator | None,
    num_frames: int,
    subject_track,
    split: str = "train",
    mode_prob: float = 0.3,
    fps: float = 30.0,
    camera_range: str = "standard",
) -> Camera:
    """A random camera around ``subject_track``: 70% real-like / 30% predefined by default.

    Args:
        rng: seed or generator.
        num_frames: T.
        subject_track: (T, 3) pelvis track or (3,) point, world metres.
        split: ``"train"`` or ``"test"``; the two never give the same trajectory (module docs).
        mode_prob: probability of a predefined mode.
        fps: frame rate of the track.
    """
    params = sample_params(rng, split, mode_prob, camera_range)
    return build_trajectory(params, num_frames, subject_track, fps)


def predefined_trajectory(
    mode: str, num_frames: int, subject_track, seed: int | np.random.Generator | None = 0,
    split: str = "train", fps: float = 30.0, **overrides,
) -> Camera:  # fmt: skip
    """A Camera of one predefined mode; other parameters random (``overrides`` fix them)."""
    return build_trajectory(
        sample_predefined_params(seed, mode, split, **overrides), num_frames, subject_track, fps
    )


def real_like_trajectory(
    seed: int | np.random.Generator | None, num_frames: int, subject_track, split: str = "train",
    fps: float = 30.0, **overrides,
) -> Camera:  # fmt: skip
    """A real-like Camera (see :func:`sample_real_like_params`)."""
    return build_trajectory(sample_real_like_params(seed, split, **overrides), num_frames, subject_track, fps)


def internet_like_trajectory(
    seed: int | np.random.Generator | None,
    num_frames: int,
    subject_track,
    facing: float | np.ndarray,
    fps: float = 30.0,
    max_azimuth: float = math.radians(30.0),
) -> Camera:
    """Limited, mostly frontal view like Internet videos of one domain.

    Args:
        facing: the subject's facing direction in radians from +x towards +y (scalar, or (T,)
            of which the circular mean is used, e.g. :attr:`anylift.data.mocap.MocapClip.heading`).
        max_azimuth: the camera sits within this angle of straight in front of the subject.

    The camera is nearly static (small pan following the lagged subject, light shake),
    0-15 degrees above the pelvis.
    """
    rng = _rng(seed)
    facing = np.asarray(facing, float)
    centre = float(np.angle(np.mean(np.exp(1j * facing)))) if facing.ndim else float(facing)
    common = _common(rng, "train")
    common.update(
        azimuth=centre + float(rng.uniform(-max_azimuth, max_azimuth)),
        elevation=float(rng.uniform(0.0, math.radians(15.0))),
        split="internet",
    )
    params = TrajectoryParams(
        kind="real_like",
        follow=float(rng.uniform(0.0, 0.3)),
        lag=float(rng.uniform(0.3, 0.8)),
        wobble=float(rng.uniform(0.0, math.radians(1.5))),
        shake_rotation=math.radians(float(rng.uniform(0.0, 0.3))),
        shake_translation=float(rng.uniform(0.0, 0.005)),
        **common,
    )
    return build_trajectory(params, num_frames, subject_track, fps)


def ring_cameras(
    num_cameras: int,
    target,
    radius: float = 3.0,
    height: float | None = None,
    *,
    num_frames: int = 1,
    image_size: tuple[int, int] = (1920, 1080),
    focal: float = 1000.0,
    start_azimuth: float = 0.0,
) -> list[Camera]:
    """``num_cameras`` static cameras evenly spaced on a horizontal ring, all looking at ``target``.

    Args:
        target: (3,) world point, metres (e.g. the subject's mean pelvis).
        radius: ring radius, metres (MVLift: about 3 m).
        height: camera z, metres; default the target's z.
        start_azimuth: radians (from +x towards +y) of camera 0; camera i at
            ``start_azimuth + 2 pi i / num_cameras`` (counter-clockwise seen from above).
        focal: fx = fy, pixels (MVLift: 1000 on 1920x1080).
    """
    if isinstance(num_cameras, bool) or not isinstance(num_cameras, int | np.integer) or num_cameras < 1:
        raise InputError(f"is {num_cameras!r}", field="num_cameras", expected="a whole number >= 1")
    target = _track(target, 1)[0]
    z = target[2] if height is None else float(height)
    K = intrinsics(image_size, focal)
    cameras = []
    for i in range(num_cameras):
        azimuth = start_azimuth + 2.0 * math.pi * i / num_cameras
        eye = np.array([target[0] + radius * math.cos(azimuth), target[1] + radius * math.sin(azimuth), z])
        w2c = look_at(eye, target)
        cameras.append(
            Camera(
                K=K,
                world_to_camera=np.tile(w2c, (num_frames, 1, 1)),
                up=WORLD_UP.copy(),
                image_size=image_size,
            )
        )
    return cameras
