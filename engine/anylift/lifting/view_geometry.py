"""The virtual views of the multi-view model, shared by inference and training data.

Inference (:mod:`anylift.lifting.views`) and the training windows (:mod:`anylift.data.multiview`)
both build their views here, so a window is presented to the model exactly as in training:

- :func:`ring_centre`: the subject centre the ring of virtual cameras turns about, guessed from
  the input view alone (depth along each frame's hip ray, through the moving input camera,
  averaged over the window); the depth comes from the body's image size (``"bbox"``) or from its
  limbs' lengths (``"limbs"``, ``"tilted"``), as the model was trained (:data:`RINGS`).
- :func:`multiview_cameras`: (V, T, 4, 4) cameras in the input camera's frame-0 coordinates:
  view 0 is the input camera's (moving) trajectory, views 1..V-1 static cameras from
  :func:`anylift.representation.orbit_camera` at azimuths ``2 pi v / V`` around the centre, so
  together with the input camera at frame 0 they are evenly spaced on a ring. With
  ``down=None`` they equal ``representation.ring_cameras(centre, V)[1:]`` (ring about the input
  camera's own vertical); passing the world's down direction (known from a camera file's ``up``,
  or :func:`anylift.geometry.camera.up_vector`) keeps the ring horizontal (``"tilted"``: tilted
  for a camera looking almost straight down, :func:`ring_down`).
- :func:`model_points`: model coordinates of 3D points in every view.
- :func:`multiview_condition`: per-view camera features relative to the input camera's frame 0,
  the input view's observation (root/local) and, in every virtual view, the epipolar line of each
  observed keypoint (:func:`observed_lines`), the way :class:`anylift.models.MultiViewCondition`
  wants them (``MultiViewCondition.from_input(camera, observed, observed_mask, lines)``).

All views share the input view's intrinsics, image size and per-sequence ``scale``: model
coordinates of view v are ``(X/Z) / scale`` of the camera-frame point, i.e. the projection through
``diag(1/scale, 1/scale, 1) @ cameras[v]``, which is what triangulation at inference uses.
"""

from __future__ import annotations

import numpy as np

from anylift import representation as rep
from anylift.geometry.camera import invert_rigid, to_camera

NUM_BODY = 17
"""Body joints first (COCO-17); HOI windows append the object's keypoints."""


def world_down(world_to_camera0: np.ndarray, up: np.ndarray | None = None) -> np.ndarray:
    """(3,) the world's down direction in the frame-0 camera's coordinates.

    Args:
        world_to_camera0: (4, 4) the input camera at frame 0.
        up: (3,) world up; default +Z (the engine's worlds).
    """
    up = np.array([0.0, 0.0, 1.0]) if up is None else np.asarray(up, dtype=np.float64)
    d = -np.asarray(world_to_camera0, dtype=np.float64)[:3, :3] @ up
    return d / np.linalg.norm(d)


RINGS = ("bbox", "limbs", "tilted")
"""How the ring of virtual views is placed (a checkpoint records the one it was trained with,
``normalisation["ring"]``; absent = ``"bbox"``):

- ``"bbox"``: the subject's depth from its image size (the body spans ``body_size``, its image
  ``scale``): a body seen from above or foreshortened looks small and is placed too far (1.4x the
  true depth from 45 deg up, 1.6x from a drone);
- ``"limbs"``: the depth from the limbs, the median over frames of each frame's tightest limb
  bound (:func:`anylift.representation.limb_depth`; the median, so that frames with a misplaced
  joint do not pull the ring in): 0.92-0.97x the true depth in every camera family of the
  benchmark, 0.83-0.91x under the training windows' detector errors;
- ``"tilted"``: the limbs' depth, and the ring's axis tilted off the world's vertical so that the
  input camera is at least :data:`RING_MIN_ANGLE_DEG` off it (:func:`ring_down`). About the
  vertical, a camera looking almost straight down has its ring views within a few degrees of it:
  triangulation has no baseline. (The image-size guess hid this: it put the centre far beyond
  the subject, which widens the views' angle at the subject.)
"""

RING_MIN_ANGLE_DEG = 30.0
"""``"tilted"`` rings: the least angle between the ring's axis and the input camera, seen from
the ring's centre (a camera looking down more than 60 deg tilts the axis)."""


def ring_down(centre: np.ndarray, down: np.ndarray, min_angle_deg: float = RING_MIN_ANGLE_DEG) -> np.ndarray:
    """(3,) the down direction of a ``"tilted"`` ring: ``down`` turned away from the input camera
    until the camera (at the origin) is ``min_angle_deg`` off the axis through ``centre``; ``down``
    itself when it already is (also for cameras looking up)."""
    d = np.asarray(down, dtype=np.float64)
    d = d / np.linalg.norm(d)
    cam = -np.asarray(centre, dtype=np.float64)
    cam = cam / np.linalg.norm(cam)
    cos_up = float(np.clip(cam @ -d, -1.0, 1.0))
    near = -d if cos_up >= 0.0 else d  # the end of the axis nearer the camera
    turn = np.radians(min_angle_deg) - np.arccos(abs(cos_up))
    if turn <= 0.0:
        return d
    side = cam - (cam @ d) * d  # the camera's direction off the axis
    if np.linalg.norm(side) < 1e-9:  # straight overhead: any side will do
        e = np.array([1.0, 0.0, 0.0]) if abs(d[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        side = e - (e @ d) * d
    side /= np.linalg.norm(side)
    near = np.cos(turn) * near - np.sin(turn) * side
    return -near if cos_up >= 0.0 else near


def _limb_scale(points: np.ndarray, scale: float, mask: np.ndarray | None) -> float | None:
    """The scale ``s`` that puts the subject at the limbs' depth ``BODY_SIZE_M / s``, or None."""
    per_frame = rep.limb_depth(np.asarray(points, dtype=np.float64) * scale, mask)
    per_frame = per_frame[np.isfinite(per_frame)]
    return float(rep.BODY_SIZE_M / np.median(per_frame)) if len(per_frame) else None


def ring_centre(
    relative_w2c: np.ndarray,
    points: np.ndarray,
    scale: float,
    *,
    body_size: float = rep.BODY_SIZE_M,
    mask: np.ndarray | None = None,
    depth: str = "bbox",
) -> np.ndarray:
    """(3,) guessed subject centre in the input camera's frame-0 coordinates (world units).

    Each frame's hip midpoint (model coordinates) is placed at the guessed depth along its ray
    (:func:`anylift.representation.subject_centre`), moved into frame-0 coordinates through that
    frame's camera, and the frames are averaged. For a static camera and ``depth="bbox"`` this is
    ``subject_centre(mean hip midpoint, scale, body_size)``.

    Args:
        relative_w2c: (T, 4, 4) input camera relative to its frame 0.
        points: (T, J, 2) global model coordinates of the input view (hips at 11, 12).
        scale: the input view's per-sequence scale.
        body_size: the subject's keypoint extent in world units (limb lengths scale with it).
        mask: (T, J) the keypoints seen (``"limbs"`` ignores limbs with a filled-in end).
        depth: ``"bbox"`` or ``"limbs"`` (:data:`RINGS`); ``"limbs"`` falls back to ``"bbox"``
            without a limb.
    """
    if depth not in ("bbox", "limbs"):
        raise ValueError(f"ring depth {depth!r} is not 'bbox' or 'limbs'")
    pts = np.asarray(points, dtype=np.float64)
    root = 0.5 * (pts[:, rep.HIPS[0]] + pts[:, rep.HIPS[1]])
    limb_scale = _limb_scale(pts[:, :NUM_BODY], scale, mask) if depth == "limbs" else None
    # subject_centre places the root at depth body_size / s along the ray of root * scale.
    size = body_size if limb_scale is None else body_size * scale / limb_scale
    cam_points = np.stack([rep.subject_centre(r, scale, size) for r in root])
    c2w = invert_rigid(np.asarray(relative_w2c, dtype=np.float64))
    world = np.einsum("tij,tj->ti", c2w[:, :3, :3], cam_points) + c2w[:, :3, 3]
    return world.mean(axis=0)


def multiview_cameras(
    relative_w2c: np.ndarray,
    points: np.ndarray,
    scale: float,
    num_views: int,
    *,
    down: np.ndarray | None = None,
    body_size: float = rep.BODY_SIZE_M,
    mask: np.ndarray | None = None,
    ring: str = "bbox",
) -> np.ndarray:
    """(V, T, 4, 4) world-to-camera of the V views, in the input camera's frame-0 coordinates.

    Args:
        relative_w2c: (T, 4, 4) the input camera relative to its frame 0 (``relative_to_first``).
        points: (T, J, 2) the input view's global model coordinates.
        scale: the input view's scale.
        num_views: V >= 1; view 0 is the input camera.
        down: (3,) the world's down direction in frame-0 camera coordinates; ``None`` = the
            camera's +y (``representation.ring_cameras``).
        body_size: the subject's keypoint extent in world units.
        mask: (T, J) the keypoints seen (:func:`ring_centre`).
        ring: how the ring is placed, one of :data:`RINGS`.
    """
    if ring not in RINGS:
        raise ValueError(f"ring {ring!r} is not one of {RINGS}")
    rel = np.asarray(relative_w2c, dtype=np.float64)
    depth = "bbox" if ring == "bbox" else "limbs"
    centre = ring_centre(rel, points, scale, body_size=body_size, mask=mask, depth=depth)
    if ring == "tilted" and down is not None:
        down = ring_down(centre, down)
    views = [rel]
    for v in range(1, int(num_views)):
        w2c = rep.orbit_camera(centre, 2.0 * np.pi * v / num_views, down=down)
        views.append(np.broadcast_to(w2c, rel.shape))
    return np.stack(views)


def model_points(points3d: np.ndarray, cameras: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Model coordinates of 3D points in several views.

    Args:
        points3d: (T, J, 3) in the cameras' world. cameras: (V, T, 4, 4). scale: shared scale.

    Returns:
        (V, T, J, 2) global model coordinates and (V, T, J) bool "in front of the camera".
    """
    cam = to_camera(np.asarray(points3d, dtype=np.float64)[None], cameras)
    depth = cam[..., 2]
    front = depth > 1e-3
    safe = np.where(front, depth, 1.0)
    return cam[..., :2] / safe[..., None] / scale, front


def multiview_condition(
    cameras: np.ndarray,
    K: np.ndarray,
    image_size: tuple[int, int],
    scale: float,
    observed_points: np.ndarray,
    observed_mask: np.ndarray,
    *,
    body_size: float = rep.BODY_SIZE_M,
) -> dict[str, np.ndarray]:
    """The multi-view model's conditions for one window (numpy, no batch axis).

    Args:
        cameras: (V, T, 4, 4) from :func:`multiview_cameras` (input camera frame 0 = identity).
        K: (3, 3) input intrinsics, pixels; image_size: (W, H) pixels (shared by all views).
        scale: the input view's scale (shared by all views).
        observed_points: (T, J, 2) the input view's global model coordinates (filled where masked).
        observed_mask: (T, J) 1 = observed.

    Returns:
        ``camera`` (V, T, CAMERA_DIM) float32 (:func:`~anylift.representation.camera_condition`
        with ``reference`` = the input camera's frame 0), ``observed`` (T, J, 2) float32
        root/local, zero where unobserved, ``observed_mask`` (T, J) float32 and ``lines``
        (V, T, J, 3) float32 (:func:`observed_lines`). Batch them and call
        ``MultiViewCondition.from_input(camera, observed, observed_mask, lines)``.
    """
    cams = np.asarray(cameras, dtype=np.float64)
    reference = cams[0, 0]
    camera = np.stack(
        [
            rep.camera_condition(c, K, image_size, scale, reference=reference, body_size=body_size)
            for c in cams
        ]
    )
    mask = np.asarray(observed_mask, dtype=np.float32)
    observed = rep.to_root_local(np.asarray(observed_points, dtype=np.float64)) * mask[..., None]
    return {
        "camera": camera.astype(np.float32),
        "observed": observed.astype(np.float32),
        "observed_mask": mask,
        "lines": observed_lines(cams, scale, observed_points, mask),
    }


def observed_lines(
    cameras: np.ndarray, scale: float, observed_points: np.ndarray, observed_mask: np.ndarray
) -> np.ndarray:
    """(V, T, J, 3) float32 AnyLift's epipolar condition: in each virtual view, the epipolar line of
    every observed input keypoint (the joint lies on it), normalised (``a^2 + b^2 = 1``) in the
    view's model coordinates; zeros in view 0 and where the keypoint is unobserved.

    Args:
        cameras: (V, T, 4, 4) from :func:`multiview_cameras`; scale: the views' shared scale.
        observed_points: (T, J, 2) the input view's global model coordinates; observed_mask: (T, J).
    """
    cams = np.asarray(cameras, dtype=np.float64)
    pts = np.asarray(observed_points, dtype=np.float64)
    out = np.zeros((len(cams), *pts.shape[:-1], 3))
    for v in range(1, len(cams)):
        f = rep.fundamental_matrices(cams[0], scale, cams[v], scale)
        out[v] = rep.lines_between_views(pts, f)
    out *= np.asarray(observed_mask, dtype=np.float64)[None, ..., None]
    return np.nan_to_num(out).astype(np.float32)
