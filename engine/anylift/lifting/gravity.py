"""Gravity and floor: the world's up direction when the camera file does not fix it.

A camera file with ``up`` (or ``--up X,Y,Z``) fixes the world's up. Otherwise (an estimated or
static camera: the first frame's camera was only *assumed* level) the up direction is estimated
from the lifted body over the clip (:func:`estimate_up`):

- **foot contacts**: an ankle that stays still (slower than :data:`CONTACT_SPEED`) rests on the
  floor, so differences between contact positions lie in the floor plane: up is orthogonal to
  them. Two rounds: the second keeps only contacts near the lowest contact level along the
  first round's up (a foot resting on a step or mid-jump drops out).
- **standing axis**: the direction from the ankles' midpoint to the shoulders' midpoint in the
  frames where the body stands upright (within 60, then 35 deg of the last round's answer): walking and
  standing bodies are vertical on average; it fixes what the contacts leave open (a person who
  walks straight fixes only the walking direction's tilt; one standing still, none).
- **a floor walked across** (:func:`_floor_walked`): when the upright frames' lower ankle (a
  running median over 0.5 s) travels far (:data:`TRAVEL_STD`) at a human pace
  (:data:`TRAVEL_SPEED`), those points join the contacts. A
  lift's ankles jitter in depth faster than a resting foot moves, so a walker far from the camera
  has almost no contacts, and the standing axis leans with the camera that was assumed level:
  a walker going 5 m away from or towards a static camera pitched 3-30 deg down, 6-10 m away,
  was 1.2-17.3 deg off (mean 9.2) with the body's lowest point wandering 1.4-61 cm in height
  (inter-quartile range); with these points 0.3-4.4 deg (mean 2.0) and 1.0-1.7 cm
  (``benchmarks/gravity.py --walk-away``).
  The estimate with them is kept only while nearly as many frames stand upright under it as
  under the one without (:data:`WALKED_STANDING`): a walker stands upright on the floor they walk.

Both cues enter one least-squares problem: up = the unit vector minimising
``mean((u . d_ij)^2) + lambda * |u x a|^2`` over contact differences ``d_ij`` and the mean
standing axis ``a``: the smallest eigenvector of ``D + lambda (I - a a^T)``.
:func:`level` then turns the result world by the smallest rotation taking that up to +Z (the
heading is kept; not when an unsure estimate would turn it far, :data:`UNSURE_CONFIDENCE`) and
the pipeline puts the feet's contact level at z = 0 (``ground``). Neither cue tells a body leaning
towards the camera from one leaning away, but the camera is above the floor: an estimate that puts
the feet above the camera's horizon is tilted until they are below it (:func:`feet_below_horizon`).

The reported **camera tilt** is the first frame camera's pitch (degrees below the horizon) and
roll in the estimated world; **confidence** in [0, 1] grows with the number of contact and
standing frames and with how well the two cues agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from anylift.errors import InputError
from anylift.geometry.camera import rotate_world
from anylift.geometry.transforms import unit
from anylift.io.cameras import Camera, static_camera
from anylift.lifting.world import ResultWorld

CONTACT_SPEED = 0.25
"""m/s: an ankle slower than this is taken to rest on the floor."""
STANDING_WEIGHT = 0.02
"""lambda: the standing axis weighs as much as contacts spread over about 0.14 m."""
FIRST_CONE_DEG = 60.0
"""The first round's standing frames lie within this of the prior up (a camera looking 45 deg
down, assumed level, sees bodies 45 deg off); later rounds keep 35 deg of the last answer."""
ANKLES, SHOULDERS = (15, 16), (5, 6)
TRAVEL_STD = 1.0
"""m: the spread (standard deviation along its longest axis, about 3.5 m of travel) from which the
upright frames' lower ankles enter the estimate (:func:`_floor_walked`). Below it, how a fitted
body's depth errs with its pose tilts that floor more than the travel tells: with the points from
0.5 m on, the 2D fit of a punch (1.3 m of travel) and a spin (2.6 m) seen 6 m away from 30-45 deg
above was 19-74 deg off where it is 7-25 (``benchmarks/gravity.py``, training motions); a spin at
0-15 deg gained (7-8 -> 1 deg). From 1.0 m on those cases are as without the points, but the
spin seen from 45 deg (its fit's lower ankles spread 1.0 m) (:data:`WALKED_STANDING`)."""
TRAVEL_SPEED = 10.0
"""m/s: a floor walked across faster than this (path length of the running median over the time
from the first upright frame to the last; a sprinter's top speed) is the lift's depth noise, not
travel: a frisbee player filmed by a moving phone (PoseTrack 003747, focal from the camera's
motion) travelled 44 m in 3 s, his lowest point's height IQR 9 -> 19 cm with that floor."""
WALKED_STANDING = 0.9
"""The floor walked across is used only if at least this share of the frames that stand upright
without it still do with it. The 2D fit of the spin seen from 45 deg above: 53 upright frames of 67,
37 with the floor (7.0 -> 36.8 deg off); the six walkers of ``benchmarks/gravity.py --walk-away``
keep all 75."""
UNSURE_CONFIDENCE = 0.2
UNSURE_MAX_DEG = 30.0
"""An estimate less confident than this that would turn the world by more than this angle is not
applied (the first camera stays assumed level). A crawl filmed from 30 or 45 deg above, the camera
assumed level: the 2D fit was unsure (confidence 0.11 and 0.00), and the crawler lifted in that
tilted world had its ankles-to-shoulders axis within the standing cone in 89 frames, so the body's
own estimate took the crawling body's axis for the vertical, sure of itself (1.00), and turned the
world 69-72 deg: 79 deg off (``benchmarks/gravity.py``), where the level assumption is 30 and 45
deg off. Small unsure corrections (the same crawl from level or 15 deg above: 2 and 5 deg off) are
kept."""


FEET_BELOW_HORIZON_DEG = 2.0
"""An estimated up must put the feet at least this far below the camera's horizon (degrees): the
camera is above the floor the person stands on (:func:`feet_below_horizon`). The 2D fit and the
body cannot tell a body leaning towards the camera from one leaning away (the same foreshortening),
so their up can tilt the camera the wrong way: on the accuracy benchmark's noise-level-2 renders
(the real detector's 2D; the ten training motions x twelve camera families, the camera given
without its up) a surveillance camera 23 deg down was estimated looking up 18 deg, the feet 17 deg
above its horizon. Over those cases the truth puts the lower ankle 1.4 deg (a camera 0.3 m above
the floor looking up) to 87 deg below the horizon (median over the frames)."""


@dataclass(frozen=True)
class Gravity:
    """The up direction used for a result.

    Attributes:
        up: (3,) unit up in the world it was found in (result world before :func:`level`).
        source: ``"file"`` (camera file), ``"given"`` (``--up``) or ``"estimated"``.
        rotation: (3, 3) applied to the result world so ``up`` becomes +Z (identity unless estimated).
        confidence: [0, 1] (1 for file / given).
        pitch_deg, roll_deg: the first frame camera's tilt in the levelled world: degrees below
            the horizon (positive looks down) and clockwise roll; None when unknown.
        contact_frames, standing_frames: how many frames each cue used.
        floor_offset: z (metres) subtracted to put the feet's contact level at 0 (None: not done).
        turned_deg: degrees the estimate was turned so that the feet are below the camera's
            horizon (:func:`feet_below_horizon`; 0: it had them there).
    """

    up: np.ndarray
    source: str
    rotation: np.ndarray
    confidence: float = 1.0
    pitch_deg: float | None = None
    roll_deg: float | None = None
    contact_frames: int = 0
    standing_frames: int = 0
    floor_offset: float | None = None
    turned_deg: float = 0.0


def feet_elevation(up: np.ndarray, rays: np.ndarray) -> float | None:
    """Degrees above the camera's horizon (negative: below) of the lower of the two ankles, median
    over the frames: ``rays`` (T, 2, 3) unit directions from the camera to each ankle, NaN where
    unseen, in the world of ``up``. None with fewer than 3 frames that show an ankle."""
    elevation = np.degrees(np.arcsin(np.clip(np.asarray(rays) @ np.asarray(up), -1.0, 1.0)))  # (T, 2)
    seen = np.isfinite(elevation)
    lower = np.where(seen, elevation, np.inf).min(1)[seen.any(1)]
    return float(np.median(lower)) if len(lower) >= 3 else None


def feet_below_horizon(up: np.ndarray, rays: np.ndarray | None, axis: np.ndarray) -> tuple[np.ndarray, float]:
    """An estimated ``up`` turned about ``axis`` (the first camera's x axis: a change of pitch) by
    the least angle that puts the feet :data:`FEET_BELOW_HORIZON_DEG` below the camera's horizon
    (:func:`feet_elevation`), in steps of a quarter degree; unchanged when they are already, when
    no turn up to 90 deg does it, or without ``rays``. Returns (up, degrees turned)."""
    up = unit(np.asarray(up, dtype=np.float64))
    if rays is not None:  # a long clip: an even sample of its frames tells the median as well
        rays = np.asarray(rays)[np.unique(np.linspace(0, len(rays) - 1, min(len(rays), 2000)).astype(int))]
    now = None if rays is None or not len(rays) else feet_elevation(up, rays)
    if now is None or now <= -FEET_BELOW_HORIZON_DEG:
        return up, 0.0
    from anylift.geometry.rotations import axis_angle_to_matrix  # torch: only once there is a lift

    axis = unit(np.asarray(axis, dtype=np.float64))
    for degrees in np.arange(0.25, 90.01, 0.25):
        for signed in (degrees, -degrees):
            turned = axis_angle_to_matrix(axis * np.radians(signed)) @ up
            if feet_elevation(turned, rays) <= -FEET_BELOW_HORIZON_DEG:
                return turned, float(signed)
    return up, 0.0


def to_floor(grav: Gravity, points, world: ResultWorld, fps: float, ankle: float, extra=(), floor=None, *,
             origin_camera: bool):  # fmt: skip
    """When the world has no floor of its own (:func:`needs_floor`), move it so the feet's contact
    level is z = 0: (Gravity with ``floor_offset``, points, world, extra). ``floor``: the floor's z
    when already known (:func:`anylift.lifting.placement.floor_scales`), else :func:`floor_level`.
    ``origin_camera``: :func:`needs_floor`'s."""
    from anylift.lifting.world import translate_cameras

    if not needs_floor(grav.source, origin_camera):
        return grav, points, world, extra
    level = floor_level(points, fps, ankle) if floor is None else float(floor)
    if level is None:
        return grav, points, world, extra
    shift = np.array([0.0, 0.0, level])
    w2c = translate_cameras(world.camera.world_to_camera, -shift)
    world = replace(world, camera=replace(world.camera, world_to_camera=w2c))
    extra = tuple(None if e is None else e - shift for e in extra)
    return replace(grav, floor_offset=level), points - shift, world, extra


def move_fit(fit, rotation: np.ndarray, lowered_by: float | None = None):
    """An SMPL fit (:class:`~anylift.fitting.smpl_fit.SmplFit`) turned by ``rotation`` (3, 3) about
    the world origin, then moved down by ``lowered_by`` metres (None: not moved)."""
    from scipy.spatial.transform import Rotation

    rot = np.asarray(rotation, dtype=np.float64)
    shift = np.array([0.0, 0.0, lowered_by or 0.0])
    if np.allclose(rot, np.eye(3)) and not shift.any():
        return fit
    pelvis_rest = fit.joints[:, 0] - fit.transl  # the pelvis is at pelvis_rest + transl in any pose
    orient = Rotation.from_matrix(rot) * Rotation.from_rotvec(fit.global_orient)
    return replace(
        fit, global_orient=orient.as_rotvec(), transl=(fit.joints[:, 0] @ rot.T - shift) - pelvis_rest,
        joints=fit.joints @ rot.T - shift, keypoints3d=fit.keypoints3d @ rot.T - shift,
    )  # fmt: skip


def parse_up(text: str | None):
    """``--up`` text -> None, ``"camera"`` or a (3,) unit vector; InputError when malformed."""
    if text is None:
        return None
    if text.strip().lower() == "camera":
        return "camera"
    try:
        v = np.array([float(p) for p in text.split(",")], dtype=np.float64)
    except ValueError:
        v = np.zeros(0)
    if v.shape != (3,) or not np.isfinite(v).all() or np.linalg.norm(v) < 1e-9:
        raise InputError(
            f"is {text!r}", field="--up", expected="X,Y,Z (a non-zero direction) or 'camera'",
            fix="e.g. --up 0,0,1, or --up camera to take the first frame's camera as level",
        )  # fmt: skip
    return v / np.linalg.norm(v)


def prepare_camera(camera: Camera | None, up, num_frames: int, image_size) -> tuple[Camera | None, str]:
    """The camera the result world is built from, and where its up comes from.

    Args:
        camera: the input camera or None (static default).
        up: None (file's up, else estimate), ``"camera"`` (frame 0's camera is level) or a (3,)
            vector in the camera file's world (the static camera's frame when there is no file).

    Returns:
        (camera, source): ``source`` is ``"file"``, ``"given"`` or ``"estimated"`` (to be
        estimated after lifting, by :func:`level`).
    """
    if up is None:
        return camera, "file" if camera is not None and camera.up is not None else "estimated"
    if isinstance(up, str):
        if up != "camera":
            up = parse_up(up)
        else:
            return (None if camera is None else replace(camera, up=None)), "given"
    if camera is None:
        camera = static_camera(int(num_frames), image_size)
        return replace(camera, up=np.asarray(up, dtype=np.float64)), "given"
    return replace(camera, up=np.asarray(up, dtype=np.float64)), "given"


def contacts(points: np.ndarray, fps: float) -> np.ndarray:
    """(T, 2) bool: ankles slower than :data:`CONTACT_SPEED` (central differences)."""
    ank = points[:, list(ANKLES)]
    vel = np.gradient(ank, axis=0) * fps if len(ank) > 1 else np.zeros_like(ank)
    speed = np.linalg.norm(vel, axis=-1)
    return (speed < CONTACT_SPEED) & np.isfinite(speed)


def _solve(diffs: np.ndarray, axis: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    m = np.zeros((3, 3))
    if len(diffs):
        m += diffs.T @ diffs / len(diffs)
    if axis is not None:
        m += STANDING_WEIGHT * (np.eye(3) - np.outer(axis, axis))
    evals, evecs = np.linalg.eigh(m)
    return evecs[:, 0], evals


def estimate_up(
    points: np.ndarray, fps: float, prior_up=(0.0, 0.0, 1.0)
) -> tuple[np.ndarray, float, int, int]:
    """The world's up from a lifted body (module doc).

    Args:
        points: (T, 17, 3) COCO-17 keypoints, metres, any rotation of a Z-up world.
        fps: frames per second (contact speeds).
        prior_up: (3,) the assumed up, used to orient the answer and start the selection.

    Returns:
        (up (3,), confidence [0, 1], contact frames, standing frames).
    """
    p = np.asarray(points, dtype=np.float64)
    prior = unit(np.asarray(prior_up, dtype=np.float64))
    without = _estimate_up(p, fps, prior, walked=False)
    if without[4]:  # the body walked far: the estimate with the floor it walked on
        walked = _estimate_up(p, fps, prior, walked=True)
        if walked[3] >= WALKED_STANDING * without[3]:
            return walked[:4]
    return without[:4]


def _floor_walked(ankles: np.ndarray, up: np.ndarray, fps: float, frames: np.ndarray) -> np.ndarray | None:
    """(N, 3) the lower ankle (along ``up``) of each of the N upright ``frames``' (N, 2, 3)
    ``ankles``, a running median over 0.5 s (the lift's jitter in depth out), when they spread at
    least :data:`TRAVEL_STD` no faster than :data:`TRAVEL_SPEED`; else None."""
    if len(ankles) < 2:
        return None
    from scipy.ndimage import median_filter

    lower = ankles[np.arange(len(ankles)), np.argmin(ankles @ up, 1)]
    lower = median_filter(lower, size=(max(1, round(0.5 * fps)), 1), mode="nearest")
    if np.sqrt(np.linalg.eigvalsh(np.cov(lower.T))[-1]) < TRAVEL_STD:
        return None
    path = float(np.linalg.norm(np.diff(lower, axis=0), axis=-1).sum())
    return lower if path <= TRAVEL_SPEED * max(frames[-1] - frames[0], 1) / fps else None


def _estimate_up(p: np.ndarray, fps: float, prior: np.ndarray, walked: bool):
    """:func:`estimate_up`, the floor walked across (:func:`_floor_walked`) used or not: (up,
    confidence, contact frames, standing frames, whether the body walked far)."""
    contact = contacts(p, fps)
    ankles = p[:, list(ANKLES)]
    stand_axis = unit(p[:, list(SHOULDERS)].mean(1) - ankles.mean(1))  # (T, 3)
    up = prior
    n_stand = n_contact = 0
    axis = floor = None
    for cone in (FIRST_CONE_DEG, 35.0, 35.0):
        ok = np.isfinite(stand_axis).all(-1) & (stand_axis @ up > np.cos(np.radians(cone)))
        n_stand = int(ok.sum())
        axis = unit(stand_axis[ok].mean(0)) if n_stand else None
        pts = ankles[contact]
        floor = _floor_walked(ankles[ok], up, fps, np.flatnonzero(ok))
        if walked and floor is not None:
            pts = np.concatenate([pts, floor])
        # On the floor, not on a step or mid-jump: along the last round's up (in the first round
        # along the assumed one, but not for a floor walked across: 1 deg off over 10 m is 17 cm).
        if len(pts) and not (walked and floor is not None and cone == FIRST_CONE_DEG):
            h = pts @ up
            low = h <= np.percentile(h, 20) + 0.05
            pts = pts[low]
        n_contact = len(pts)
        if n_contact >= 2:
            sub = pts[np.linspace(0, n_contact - 1, min(n_contact, 300)).astype(int)]
            diffs = (sub[:, None] - sub[None]).reshape(-1, 3)
        else:
            diffs = np.zeros((0, 3))
        if axis is None and len(diffs) == 0:
            return prior, 0.0, 0, 0, False
        new, evals = _solve(diffs, axis)
        up = new if new @ (axis if axis is not None else up) > 0 else -new
    # Confidence: enough evidence, a clear minimum, and agreement of the two cues (not asked of a
    # floor walked across: the standing axis leans with the assumed camera, the floor does not).
    walked_far = floor is not None
    gap = 1.0 - evals[0] / max(evals[1], 1e-12)
    agree = (
        1.0
        if axis is None or (walked and walked_far)
        else float(np.clip((up @ axis - np.cos(np.radians(20))) / (1 - np.cos(np.radians(20))), 0, 1))
    )
    evidence = min(1.0, (n_contact + n_stand) / max(len(p), 1))
    confidence = float(np.clip(gap * (0.5 + 0.5 * agree) * evidence, 0.0, 1.0))
    return up, confidence, n_contact, n_stand, walked_far


def needs_floor(source: str, origin_camera: bool) -> bool:
    """Whether the result world has no floor of its own, so the feet's contact level becomes z = 0:
    an estimated up, or a world whose origin is the clip's first camera (static default, ``anylift
    camera``, SLAM files): a floor through the camera would mean nothing. ``origin_camera``: whether
    it is (:func:`camera_at_origin` of the whole clip's camera, not of the lifted span's: the lift
    of a person who enters later starts at another camera)."""
    return source == "estimated" or origin_camera


def camera_at_origin(world_to_camera: np.ndarray) -> bool:
    """Whether the first of (T, 4, 4) cameras sits at its world's origin."""
    w2c = np.asarray(world_to_camera, dtype=np.float64)[0]
    return float(np.linalg.norm(w2c[:3, :3].T @ w2c[:3, 3])) < 1e-6


def ankle_height(body) -> float:
    """Metres from the sole to the ankle keypoint of ``body`` (a BodyModel) standing at rest."""
    import torch

    from anylift.body.model import ZUP_REST_GLOBAL_ORIENT

    with torch.no_grad():
        out = body(global_orient=torch.as_tensor(ZUP_REST_GLOBAL_ORIENT[None], dtype=body.dtype))
    verts, kp = out.vertices[0].double().cpu().numpy(), out.keypoints[0].double().cpu().numpy()
    return float(kp[list(ANKLES), 2].mean() - verts[:, 2].min())


def floor_level(points: np.ndarray, fps: float, ankle: float) -> float | None:
    """The floor's z (metres) under a Z-up body: ankles at rest on it, ``ankle`` above the sole.

    Contacts are ankles slower than :data:`CONTACT_SPEED`; of those the lowest (within 5 cm of
    their 20th percentile: not a foot resting on a step or held still in the air). With fewer
    than 3 contact samples (a short clip, or a lift whose ankles jitter faster than a resting foot
    moves) the lowest ankles of the clip (their 10th percentile) stand on it. None when no ankle
    is known.
    """
    p = np.asarray(points)
    z = p[:, list(ANKLES), 2][contacts(p, fps)]
    if len(z) < 3:
        every = p[:, list(ANKLES), 2]
        every = every[np.isfinite(every)]
        return float(np.percentile(every, 10) - ankle) if len(every) else None
    return float(np.median(z[z <= np.percentile(z, 20) + 0.05]) - ankle)


def _rotation_to_z(up: np.ndarray) -> np.ndarray:
    """Smallest rotation (3, 3) taking unit ``up`` to +Z."""
    z = np.array([0.0, 0.0, 1.0])
    v = np.cross(up, z)
    s, c = np.linalg.norm(v), float(up @ z)
    if s < 1e-12:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]]) / s
    angle = np.arctan2(s, c)
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def camera_tilt(world_to_camera: np.ndarray) -> tuple[float, float]:
    """(pitch, roll) degrees of a (4, 4) camera in a Z-up world: pitch > 0 looks below the horizon;
    roll > 0 turns the image clockwise (the camera's +x dips)."""
    r = np.asarray(world_to_camera, dtype=np.float64)[:3, :3]
    up_cam = r @ np.array([0.0, 0.0, 1.0])  # world up in camera axes (OpenCV: -y is image up)
    pitch = np.degrees(np.arcsin(np.clip(-up_cam[2], -1, 1)))
    roll = np.degrees(np.arctan2(-up_cam[0], -up_cam[1]))
    return float(pitch), float(roll)


def level(
    points: np.ndarray,
    world: ResultWorld,
    fps: float,
    source: str,
    extra: tuple[np.ndarray | None, ...] = (),
    confidence_cap: float = 1.0,
    ankle_rays: np.ndarray | None = None,
) -> tuple[Gravity, np.ndarray, ResultWorld, tuple[np.ndarray | None, ...]]:
    """Estimate up (when ``source == "estimated"``) and turn the result world upright.

    Args:
        points: (T, 17, 3) fused keypoints in the result world, metres.
        world: the result world (:mod:`anylift.lifting.world`).
        fps: frames per second.
        source: from :func:`prepare_camera`.
        extra: more (..., 3) point arrays of the same world to turn with it (samples, objects).
        confidence_cap: the estimate's confidence is at most this (the pipeline's 2D fit, when
            unsure: a body lifted in a wrongly assumed world can agree with itself, see
            :data:`UNSURE_CONFIDENCE`).
        ankle_rays: (T, 2, 3) unit rays from the camera to the ankles in this world, NaN where
            unseen: the estimate is turned until the feet are below the camera's horizon
            (:func:`feet_below_horizon`); None: not checked.

    Returns:
        (Gravity, points, world, extra) in the levelled world.
    """
    z = np.array([0.0, 0.0, 1.0])
    if source != "estimated":
        pitch, roll = camera_tilt(world.camera.world_to_camera[0])
        return Gravity(z, source, np.eye(3), 1.0, pitch, roll), points, world, extra
    up, conf, n_contact, n_stand = estimate_up(points, fps)
    up, turned = feet_below_horizon(up, ankle_rays, world.camera.world_to_camera[0, 0, :3])
    conf = min(conf, float(confidence_cap))
    rot = _rotation_to_z(up)
    if conf < UNSURE_CONFIDENCE and np.degrees(np.arccos(np.clip(up[2], -1.0, 1.0))) > UNSURE_MAX_DEG:
        # An unsure estimate may correct a small tilt, not turn the world over.
        up, rot, turned = z, np.eye(3), 0.0
    w2c = rotate_world(world.camera.world_to_camera, rot)
    world = replace(world, camera=replace(world.camera, world_to_camera=w2c), rotation=rot @ world.rotation)
    moved = tuple(None if e is None else np.asarray(e) @ rot.T for e in extra)
    pitch, roll = camera_tilt(w2c[0])
    grav = Gravity(up, source, rot, conf, pitch, roll, n_contact, n_stand, turned_deg=turned)
    return grav, np.asarray(points) @ rot.T, world, moved
