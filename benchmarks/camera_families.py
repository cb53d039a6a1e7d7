"""Camera families for evaluation, designed independently of :mod:`anylift.data.trajectories`.

**Training must never import this module** (it lives outside the installed packages on
purpose): the benchmark measures how AnyLift does under camera designs it was not built
around, and that only holds while no training data is drawn from them.

Twelve families of real-life camera work, each a function of the person's pelvis track, the
frame rate and a seeded random generator:

- ``tripod_locked``: a locked-off tripod at 0.9-1.8 m, framed wide enough to hold the whole
  track (the person moves through the image);
- ``tripod_pan``: a tripod at 1.0-1.7 m whose operator pans and tilts to keep the person framed,
  a little late (the aim follows the pelvis through a 0.1-0.4 s first-order lag);
- ``orbit``: a camera circling the person at 15-45 deg/s, 1.2-2.5 m high;
- ``follow_lag``: a camera that follows the person at a fixed world offset through a 0.4-1.2 s
  lag (a gimbal or drone on "follow");
- ``handheld_walk``: an operator walking beside the person at 1.35-1.7 m: step bob at 1.6-2.2 Hz,
  sway, hand shake in pan, tilt and roll;
- ``elevated``: a drone or stands camera 3.5-8 m high looking down 25-65 deg, still or drifting,
  panning to follow;
- ``low_angle``: a camera 0.3-0.6 m above the floor looking up at the person, panning to follow;
- ``surveillance``: a static camera 3-10 m up on a wall or pole, looking over an area rather than
  at the person: a small person (10-25 % of the image height) who walks through one side of the
  view, 20-35 % of the image width off its centre (a courtyard, a sports hall seen from the
  stands);
- ``top_down``: a drone 6-15 m up looking down 70-85 deg, following the person through a 0.6 s lag
  (the person seen almost from above: feet under the head);
- ``telephoto``: a broadcast camera with a 150-600 mm lens, 1.5-10 m up, far across a stadium or
  hall, panning to follow (nearly orthographic: almost no perspective to tell depth by);
- ``dutch``: a panning tripod as ``tripod_pan`` with the camera rolled 10-35 deg either way (a
  phone held at a tilt, a dutch angle);
- ``close_wide``: an ultra-wide 14-20 mm action camera 0.8-1.6 m high, as close as 1.8 m to the
  pelvis (the person fills up to 60-90 % of the image height), following through a 0.25 s lag
  (strong perspective: the near limbs look much longer than the far ones).

The first eight designs (and ``dutch``) draw a 20-85 mm (35 mm-equivalent, on the image diagonal)
focal length and how much of the image the person fills, and from them the distance; ``telephoto``
and ``close_wide`` draw their own lenses. Seed parity sets the image: even seeds landscape
1920x1080, odd seeds portrait 1080x1920. Camera heights span 0.3-15 m over the families; the last
four were added in the twelfth session (their indices come last, so the first eight families'
cases and seeds are unchanged). The world is the mocap world: Z up, metres, floor z = 0.

:func:`family_case` builds one evaluation case (clip x family x seed x noise) with
:func:`anylift.data.evaluation.make_case`, so the truth and the 2D corruption are exactly those
of the other benchmarks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

FAMILIES: tuple[str, ...] = (
    "tripod_locked",
    "tripod_pan",
    "orbit",
    "follow_lag",
    "handheld_walk",
    "elevated",
    "low_angle",
    "surveillance",
    "top_down",
    "telephoto",
    "dutch",
    "close_wide",
)
LANDSCAPE: tuple[int, int] = (1920, 1080)
PORTRAIT: tuple[int, int] = (1080, 1920)
FOCAL_MM: tuple[float, float] = (20.0, 85.0)  # 35 mm-equivalent focal lengths
_DIAGONAL_MM = math.hypot(36.0, 24.0)  # the 35 mm frame's diagonal
_PERSON_M = 1.8  # the height the framing is planned for
_MIN_DISTANCE_M = 1.8  # no camera closer to the pelvis than this
MIN_IN_VIEW = 0.9  # fraction of joint-frames a design keeps in view (zooming out to 20 mm at most)


@dataclass(frozen=True)
class CameraDesign:
    """What one family draw chose (reported with the case).

    Attributes:
        family: one of :data:`FAMILIES`.
        seed: the draw's seed.
        image_size: (W, H) pixels.
        focal_mm: 35 mm-equivalent focal length.
        height_m: camera height above the floor at frame 0.
        distance_m: camera-to-pelvis distance at frame 0.
        details: family-specific settings (lags in s, speeds, amplitudes).
    """

    family: str
    seed: int
    image_size: tuple[int, int]
    focal_mm: float
    height_m: float
    distance_m: float
    details: dict = field(default_factory=dict)


def focal_pixels(focal_mm: float, image_size: tuple[int, int]) -> float:
    """fx = fy in pixels of a 35 mm-equivalent focal length on an image of (W, H) pixels."""
    return focal_mm * math.hypot(*image_size) / _DIAGONAL_MM


def look_at(eye: np.ndarray, target: np.ndarray, roll: np.ndarray | None = None) -> np.ndarray:
    """(T, 4, 4) OpenCV world-to-camera transforms looking from ``eye`` at ``target``, Z up.

    Args:
        eye, target: (T, 3) metres.
        roll: (T,) radians about the viewing direction (positive turns the image clockwise).
    """
    forward = target - eye
    forward = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
    right = np.cross(forward, np.array([0.0, 0.0, 1.0]))
    right = right / np.linalg.norm(right, axis=-1, keepdims=True)
    down = np.cross(forward, right)
    if roll is not None:
        c, s = np.cos(roll)[:, None], np.sin(roll)[:, None]
        right, down = c * right + s * down, c * down - s * right
    rotation = np.stack([right, down, forward], axis=1)  # rows: camera axes in the world
    w2c = np.tile(np.eye(4), (len(eye), 1, 1))
    w2c[:, :3, :3] = rotation
    w2c[:, :3, 3] = -np.einsum("tij,tj->ti", rotation, eye)
    return w2c


def lag(track: np.ndarray, fps: float, seconds: float) -> np.ndarray:
    """A causal first-order lag (time constant ``seconds``) of a (T, D) track, starting on it."""
    if seconds <= 0:
        return track.copy()
    alpha = 1.0 - math.exp(-1.0 / (fps * seconds))
    out = np.empty_like(track)
    out[0] = track[0]
    for t in range(1, len(track)):
        out[t] = out[t - 1] + alpha * (track[t] - out[t - 1])
    return out


def _smooth_noise(rng: np.random.Generator, n: int, fps: float, hz: float, std: float) -> np.ndarray:
    """(n,) zero-mean noise low-passed to about ``hz``, scaled to standard deviation ``std``."""
    raw = rng.standard_normal(n + int(fps) * 2)
    smooth = lag(lag(raw[:, None], fps, 1.0 / (2 * math.pi * hz)), fps, 1.0 / (2 * math.pi * hz))[:, 0]
    smooth = smooth[int(fps) * 2 :]
    spread = smooth.std()
    return (smooth - smooth.mean()) * (std / spread if spread > 0 else 0.0)


def _unit(angle: float) -> np.ndarray:
    return np.array([math.cos(angle), math.sin(angle), 0.0])


def _framing(rng, image_size, fill=(0.4, 0.75)):
    """(focal mm, fx px, distance m) for a focal drawn log-uniformly in 20-85 mm and a fill."""
    focal_mm = float(math.exp(rng.uniform(math.log(FOCAL_MM[0]), math.log(FOCAL_MM[1]))))
    fx = focal_pixels(focal_mm, image_size)
    distance = max(_MIN_DISTANCE_M, fx * _PERSON_M / (rng.uniform(*fill) * image_size[1]))
    return focal_mm, fx, distance


def _tripod_locked(rng, hips, fps, size):
    focal_mm, fx, distance = _framing(rng, size, (0.35, 0.6))
    centre = hips.mean(axis=0)
    azimuth = rng.uniform(0, 2 * math.pi)
    direction = _unit(azimuth)
    # Hold the whole track: its lateral spread (seen across the image) and depth spread.
    lateral = np.cross(direction, [0.0, 0.0, 1.0])
    offsets = hips - centre
    half_width = np.abs(offsets @ lateral).max() + 0.7
    depth_near = max(0.0, (offsets @ direction).max())  # the person walks this far towards us
    distance = max(distance, half_width * 2 * fx / size[0] + depth_near, 2.3 * fx / size[1] + depth_near)
    height = rng.uniform(0.9, 1.8)
    eye = centre + direction * distance
    eye[2] = height
    target = centre.copy()
    target[2] = 0.5 * (centre[2] + 0.9)
    t = len(hips)
    details = {"azimuth_deg": math.degrees(azimuth)}
    return np.tile(eye, (t, 1)), np.tile(target, (t, 1)), None, focal_mm, fx, details


def _tripod_pan(rng, hips, fps, size):
    focal_mm, fx, distance = _framing(rng, size, (0.45, 0.75))
    tau = rng.uniform(0.1, 0.4)
    azimuth = rng.uniform(0, 2 * math.pi)
    eye = hips[0] + _unit(azimuth) * distance
    eye[2] = rng.uniform(1.0, 1.7)
    target = lag(hips, fps, tau)
    details = {"pan_lag_s": tau, "azimuth_deg": math.degrees(azimuth)}
    return np.tile(eye, (len(hips), 1)), target, None, focal_mm, fx, details


def _orbit(rng, hips, fps, size):
    focal_mm, fx, distance = _framing(rng, size)
    speed = math.radians(rng.uniform(15, 45)) * rng.choice([-1.0, 1.0])
    start = rng.uniform(0, 2 * math.pi)
    height = rng.uniform(1.2, 2.5)
    centre = lag(hips, fps, 0.5)
    angle = start + speed * np.arange(len(hips)) / fps
    eye = centre + distance * np.stack([np.cos(angle), np.sin(angle), np.zeros_like(angle)], -1)
    eye[:, 2] = height
    details = {"speed_deg_s": math.degrees(speed)}
    return eye, lag(hips, fps, 0.2), None, focal_mm, fx, details


def _follow_lag(rng, hips, fps, size):
    focal_mm, fx, distance = _framing(rng, size)
    tau = rng.uniform(0.4, 1.2)
    azimuth = rng.uniform(0, 2 * math.pi)
    offset = _unit(azimuth) * distance
    eye = lag(hips, fps, tau) + offset
    eye[:, 2] = rng.uniform(1.2, 2.0)
    details = {"follow_lag_s": tau, "azimuth_deg": math.degrees(azimuth)}
    return eye, lag(hips, fps, 0.5 * tau), None, focal_mm, fx, details


def _handheld_walk(rng, hips, fps, size):
    focal_mm, fx, distance = _framing(rng, size, (0.45, 0.75))
    t_len = len(hips)
    # Walk beside the person: on the side of their main direction of travel.
    spread = hips[:, :2] - hips[:, :2].mean(axis=0)
    _, _, vt = np.linalg.svd(spread if np.abs(spread).max() > 1e-6 else np.eye(2), full_matrices=False)
    along = np.array([vt[0, 0], vt[0, 1], 0.0])
    side = np.cross([0.0, 0.0, 1.0], along) * rng.choice([-1.0, 1.0])
    side = side / np.linalg.norm(side)
    turn = rng.uniform(-0.5, 0.5)  # not exactly abeam
    side = side * math.cos(turn) + along * math.sin(turn)
    eye = lag(hips, fps, 0.3) + side * distance
    step_hz = rng.uniform(1.6, 2.2)
    bob = rng.uniform(0.01, 0.035)
    time = np.arange(t_len) / fps
    phase = rng.uniform(0, 2 * math.pi)
    eye[:, 2] = rng.uniform(1.35, 1.7) + bob * np.sin(2 * math.pi * step_hz * time + phase)
    eye += side[None] * 0.5 * bob * np.sin(math.pi * step_hz * time + phase)[:, None]  # sway
    shake = math.radians(rng.uniform(0.4, 1.5))
    pan = _smooth_noise(rng, t_len, fps, 2.0, shake)
    tilt = _smooth_noise(rng, t_len, fps, 2.0, shake)
    roll = _smooth_noise(rng, t_len, fps, 1.0, math.radians(rng.uniform(0.5, 3.0)))
    target = lag(hips, fps, 0.15)
    aim = target - eye
    reach = np.linalg.norm(aim, axis=-1, keepdims=True)
    across = np.cross(aim / reach, [0.0, 0.0, 1.0])
    target = target + across * (reach * pan[:, None]) + np.array([0.0, 0.0, 1.0]) * (reach * tilt[:, None])
    details = {"step_hz": step_hz, "bob_m": bob, "shake_deg": math.degrees(shake)}
    return eye, target, roll, focal_mm, fx, details


def _elevated(rng, hips, fps, size):
    height = rng.uniform(3.5, 8.0)
    pitch = math.radians(rng.uniform(25, 65))
    drop = height - float(hips[0, 2])
    distance = max(_MIN_DISTANCE_M, drop / math.sin(pitch))
    # A lens that frames the person at this distance, within 20-85 mm.
    fill = rng.uniform(0.3, 0.6)
    fx = fill * size[1] * distance / _PERSON_M
    focal_mm = float(np.clip(fx * _DIAGONAL_MM / math.hypot(*size), *FOCAL_MM))
    fx = focal_pixels(focal_mm, size)
    azimuth = rng.uniform(0, 2 * math.pi)
    eye0 = hips[0] + _unit(azimuth) * distance * math.cos(pitch)
    eye0[2] = height
    drift_speed = rng.choice([0.0, rng.uniform(0.1, 0.5)])  # stands, or a drifting drone
    drift = _unit(rng.uniform(0, 2 * math.pi)) * drift_speed
    eye = eye0 + drift[None] * (np.arange(len(hips)) / fps)[:, None]
    details = {"pitch_deg": math.degrees(pitch), "drift_m_s": float(drift_speed)}
    return eye, lag(hips, fps, 0.3), None, focal_mm, fx, details


def _low_angle(rng, hips, fps, size):
    focal_mm, fx, distance = _framing(rng, size, (0.4, 0.7))
    azimuth = rng.uniform(0, 2 * math.pi)
    eye = hips[0] + _unit(azimuth) * distance
    eye[2] = rng.uniform(0.3, 0.6)
    target = lag(hips, fps, 0.3)
    target[:, 2] += 0.15  # aim a little above the pelvis: the camera looks up
    details = {"azimuth_deg": math.degrees(azimuth)}
    return np.tile(eye, (len(hips), 1)), target, None, focal_mm, fx, details


def _surveillance(rng, hips, fps, size):
    height = rng.uniform(3.0, 10.0)
    focal_mm = float(math.exp(rng.uniform(math.log(FOCAL_MM[0]), math.log(FOCAL_MM[1]))))
    fx = focal_pixels(focal_mm, size)
    centre = hips.mean(axis=0)
    distance = fx * _PERSON_M / (rng.uniform(0.1, 0.25) * size[1])
    drop = height - float(centre[2])
    azimuth = rng.uniform(0, 2 * math.pi)
    eye = centre + _unit(azimuth) * math.sqrt(max(distance**2 - drop**2, 1.0))
    eye[2] = height
    # Aimed at the area beside the person: their centre 20-35 % of the width off the image's centre.
    ahead = (centre - eye) / np.linalg.norm(centre - eye)
    across = np.cross(ahead, [0.0, 0.0, 1.0])
    across /= np.linalg.norm(across)
    side = rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 0.35) * size[0] / fx
    lift = rng.uniform(-0.15, 0.15) * size[1] / fx
    target = eye + distance * (ahead + side * across + lift * np.cross(across, ahead))
    details = {"pitch_deg": math.degrees(math.asin(min(1.0, drop / distance))), "side": float(side)}
    return np.tile(eye, (len(hips), 1)), np.tile(target, (len(hips), 1)), None, focal_mm, fx, details


def _top_down(rng, hips, fps, size):
    height = rng.uniform(6.0, 15.0)
    pitch = math.radians(rng.uniform(70, 85))
    azimuth = rng.uniform(0, 2 * math.pi)
    eye = lag(hips, fps, 0.6) + _unit(azimuth) * (height - hips[0, 2]) / math.tan(pitch)
    eye[:, 2] = height
    distance = (height - hips[0, 2]) / math.sin(pitch)
    fx = rng.uniform(0.3, 0.5) * size[1] * distance / _PERSON_M
    focal_mm = float(np.clip(fx * _DIAGONAL_MM / math.hypot(*size), *FOCAL_MM))
    fx = focal_pixels(focal_mm, size)
    details = {"pitch_deg": math.degrees(pitch)}
    return eye, lag(hips, fps, 0.3), None, focal_mm, fx, details


def _telephoto(rng, hips, fps, size):
    focal_mm = float(math.exp(rng.uniform(math.log(150.0), math.log(600.0))))
    fx = focal_pixels(focal_mm, size)
    distance = fx * _PERSON_M / (rng.uniform(0.3, 0.6) * size[1])
    eye = hips[0] + _unit(rng.uniform(0, 2 * math.pi)) * distance
    eye[2] = rng.uniform(1.5, 10.0)
    details = {"distance_m": distance}
    return np.tile(eye, (len(hips), 1)), lag(hips, fps, 0.3), None, focal_mm, fx, details


def _dutch(rng, hips, fps, size):
    eye, target, _, focal_mm, fx, details = _tripod_pan(rng, hips, fps, size)
    roll = math.radians(rng.uniform(10, 35)) * rng.choice([-1.0, 1.0])
    details["roll_deg"] = math.degrees(roll)
    return eye, target, np.full(len(hips), roll), focal_mm, fx, details


def _close_wide(rng, hips, fps, size):
    focal_mm = rng.uniform(14.0, 20.0)
    fx = focal_pixels(focal_mm, size)
    distance = max(_MIN_DISTANCE_M, fx * _PERSON_M / (rng.uniform(0.6, 0.9) * size[1]))
    eye = lag(hips, fps, 0.25) + _unit(rng.uniform(0, 2 * math.pi)) * distance
    eye[:, 2] = rng.uniform(0.8, 1.6)
    # The operator steps back from a person who comes at them (kept about 1.8 m from the pelvis).
    away = eye[:, :2] - hips[:, :2]
    near = np.linalg.norm(away, axis=-1, keepdims=True)
    ground = math.sqrt(max(_MIN_DISTANCE_M**2 - 0.2**2, 1.0))
    eye[:, :2] = np.where(near < ground, hips[:, :2] + away / np.maximum(near, 1e-6) * ground, eye[:, :2])
    details = {"distance_m": distance}
    return eye, lag(hips, fps, 0.2), None, focal_mm, fx, details


_BUILDERS: dict[str, Callable] = {
    "tripod_locked": _tripod_locked,
    "tripod_pan": _tripod_pan,
    "orbit": _orbit,
    "follow_lag": _follow_lag,
    "handheld_walk": _handheld_walk,
    "elevated": _elevated,
    "low_angle": _low_angle,
    "surveillance": _surveillance,
    "top_down": _top_down,
    "telephoto": _telephoto,
    "dutch": _dutch,
    "close_wide": _close_wide,
}


def _in_view(keypoints3d: np.ndarray, fx: float, w2c: np.ndarray, size: tuple[int, int]) -> float:
    """Fraction of the (T, 17) joint-frames in front of the camera and inside the image."""
    from anylift.geometry.camera import project

    w, h = size
    K = np.array([[fx, 0.0, w / 2.0], [0.0, fx, h / 2.0], [0.0, 0.0, 1.0]])
    uv, z = project(keypoints3d, K, w2c, return_depth=True)
    inside = (z > 0) & (uv[..., 0] >= 0) & (uv[..., 0] < w) & (uv[..., 1] >= 0) & (uv[..., 1] < h)
    return float(inside.mean())


def family_seed(family: str, seed: int) -> int:
    """The generator seed of (family, seed): stable across runs and distinct per family."""
    return 7919 * (FAMILIES.index(family) + 1) + 104729 * int(seed)


def build_family_camera(family: str, seed: int, keypoints3d: np.ndarray, fps: float):
    """One camera of ``family`` for a motion.

    Args:
        family: one of :data:`FAMILIES`.
        seed: the draw (even: landscape, odd: portrait).
        keypoints3d: (T, 17, 3) COCO-17 keypoints, metres, Z up (the pelvis is joints 11-12's mean).
        fps: frames per second.

    Returns:
        (:class:`anylift.io.cameras.Camera`, :class:`CameraDesign`).
    """
    from anylift.errors import InputError
    from anylift.io.cameras import Camera

    if family not in _BUILDERS:
        raise InputError(f"unknown camera family '{family}'", field="family", expected=", ".join(FAMILIES))
    rng = np.random.default_rng(family_seed(family, seed))
    size = LANDSCAPE if int(seed) % 2 == 0 else PORTRAIT
    hips = keypoints3d[:, [11, 12]].mean(axis=1)
    eye, target, roll, focal_mm, fx, details = _BUILDERS[family](rng, hips, float(fps), size)
    w, h = size
    w2c = look_at(eye, target, roll)
    # The operator zooms out (down to 20 mm) until the person is in view 90% of the time.
    while _in_view(keypoints3d, fx, w2c, size) < MIN_IN_VIEW and focal_mm > FOCAL_MM[0]:
        focal_mm = max(FOCAL_MM[0], focal_mm * 0.9)
        fx = focal_pixels(focal_mm, size)
    K = np.array([[fx, 0.0, w / 2.0], [0.0, fx, h / 2.0], [0.0, 0.0, 1.0]])
    camera = Camera(K=K, world_to_camera=w2c, up=np.array([0.0, 0.0, 1.0]), image_size=size)
    design = CameraDesign(
        family=family,
        seed=int(seed),
        image_size=size,
        focal_mm=float(focal_mm),
        height_m=float(eye[0, 2]),
        distance_m=float(np.linalg.norm(eye[0] - hips[0])),
        details={k: float(v) for k, v in details.items()},
    )
    return camera, design


def family_case(clip: str, family: str, seed: int, **kwargs):
    """:func:`anylift.data.evaluation.make_case` for ``clip`` under a ``family`` camera (seed ``seed``).

    Held-out clips are allowed (evaluation only). ``kwargs`` go to ``make_case`` (noise_px,
    dropout, outlier_rate, fps, fit_config, body_model). The case's name is
    ``"<clip>/<family>/<seed>"`` and its ``trajectory`` is the :class:`CameraDesign`.
    """
    from anylift.data.evaluation import make_case

    def camera(keypoints3d: np.ndarray, fps: float):
        return build_family_camera(family, seed, keypoints3d, fps)

    kwargs.setdefault("allow_heldout", True)
    kwargs.setdefault("noise_seed", family_seed(family, seed))
    return make_case(clip, seed, camera=camera, name=f"{clip}/{family}/{seed}", **kwargs)
