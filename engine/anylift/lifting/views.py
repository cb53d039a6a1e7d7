"""The views of one window as the multi-view model sees them: the input view and V-1 virtual views.

Every window is presented exactly like a training window (:mod:`anylift.representation`,
:mod:`anylift.lifting.view_geometry`):
the input keypoints in model coordinates with this window's own ``scale``, root/local split,
camera conditions relative to the input camera at the window's first frame (``reference``),
and virtual cameras on the ring of the training data (horizontal in the world when its up is
known) around the subject's centre, at the input
camera's distance to it. The subject's distance comes from its image size: a body of
:data:`~anylift.representation.BODY_SIZE_M` metres spanning ``scale`` normalised units stands
``BODY_SIZE_M / scale`` metres away (consistent with the focal length, since normalised units
already divide by it). Virtual views share the input view's K, image size and ``scale`` (they
stand as far from the subject, so it looks as big).

The input camera of each window is first turned about its centre towards the window's subject
until it is at most :data:`TURN_LEAVES_BODY_SIZES` off the optical axis (:func:`subject_turn`; the
keypoints are re-projected into the turned camera, which is exact for a pinhole: the same rays).
Training windows come from cameras aimed at the person (99 % within 0.5 body sizes of the centre);
a small person far from the image centre - a walker 50 px tall in a corner of a long-lens courtyard
view - sat six body sizes off centre in model coordinates, and the model lifted them lying along
the camera ray (57 deg off upright on a synthetic walker, 52 deg on a real one in OpenCV's
``vtest.avi``; 4 and 6 deg turned). Where the world's up is known, the turned camera is then
rolled level about its optical axis (:func:`level_roll`): the training cameras are level but for
small wobbles and the roll modes, and a dutch angle is taken out exactly.

Geometry for triangulation is kept in the **lift frame** (the input camera at clip frame 0,
metres; :mod:`anylift.lifting.world`), shared by all windows, so windows blend in 3D directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anylift import representation as rep
from anylift.geometry.camera import invert_rigid, rotation_between
from anylift.lifting.view_geometry import multiview_cameras, multiview_condition
from anylift.lifting.windows import window_frames, window_valid

NUM_BODY = 17
"""Body joints come first (COCO-17); HOI models append M object keypoints after them."""
TURN_LEAVES_BODY_SIZES = 1.0
"""How far off the optical axis (body sizes) :func:`subject_turn` leaves a window's subject: the model
lifts a walker 1.5 body sizes off centre as well as a centred one and fails at 2.5 (57 deg at 6);
turning every window fully to the centre made the footage benchmark's lifts lean 3.5 deg on average
instead of 3.3 (its dancer 6.0 instead of 3.4), so only the excess is turned."""


@dataclass(frozen=True)
class WindowViews:
    """One window's model inputs and geometry (W frames, V views, K = 17 joints [+ M object keypoints]).

    Attributes:
        start: first clip frame of the window.
        frames: (W,) clip frame index of each window frame (padding repeats the last frame).
        valid: (W,) False on padded frames.
        scale: model-coordinate scale of every view (:class:`~anylift.representation.ImageNormalisation`).
        observed: (W, K, 2) float32 input view, root/local model coordinates, zero where masked
            (:func:`anylift.data.multiview.multiview_condition`, as in training).
        observed_mask: (W, K) float32 1 where the keypoint is visible (the model's condition).
        guidance_mask: (W, K) float32 1 where the root/local value is observed (a non-hip joint
            needs itself and both hips): where the sampler may overwrite the input view.
        points: (W, K, 2) float64 input view, global model coordinates (filled).
        points_mask: (W, K) bool visible input keypoints.
        scores: (W, K) float64 detector scores (0 where not visible).
        camera: (V, W, CAMERA_DIM) float32 camera conditions.
        lines: (V, W, K, 3) float32 epipolar lines of the input keypoints in every view
            (:func:`anylift.lifting.view_geometry.observed_lines`).
        world_to_camera: (V, W, 4, 4) float64 every view in the lift frame (metres).
        model_K: (3, 3) ``diag(1/scale, 1/scale, 1)``: camera frame -> model coordinates.
        ray_origin: (W, 3) input camera centre per frame, lift frame.
        ray_direction: (W, K, 3) unit rays through the input keypoints, lift frame.
    """

    start: int
    frames: np.ndarray
    valid: np.ndarray
    scale: float
    observed: np.ndarray
    observed_mask: np.ndarray
    guidance_mask: np.ndarray
    points: np.ndarray
    points_mask: np.ndarray
    scores: np.ndarray
    camera: np.ndarray
    lines: np.ndarray
    world_to_camera: np.ndarray
    model_K: np.ndarray
    ray_origin: np.ndarray
    ray_direction: np.ndarray

    @property
    def projections(self) -> np.ndarray:
        """(V, W, 3, 4) lift frame -> model coordinates."""
        return self.model_K @ self.world_to_camera[..., :3, :]


def normalised_coordinates(keypoints: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(..., 2) ``((x - cx) / fx, (y - cy) / fy)`` of (..., >=2) pixels."""
    k = np.asarray(K, dtype=np.float64)
    p = np.asarray(keypoints, dtype=np.float64)
    return np.stack([(p[..., 0] - k[0, 2]) / k[0, 0], (p[..., 1] - k[1, 2]) / k[1, 1]], -1)


def subject_turn(
    unit: np.ndarray, mask: np.ndarray, down: np.ndarray | None = None, leave: float = 0.0
) -> np.ndarray:
    """(3, 3) camera frame -> the frame of the camera turned, as on a pan-tilt head, towards the
    subject until it is at most ``leave`` (normalised units) off the optical axis.

    The subject's direction is the mean of the rays through the visible hip midpoints (else through
    every visible keypoint) of ``unit`` (W, K, 2) normalised coordinates with ``mask`` (W, K). The
    camera pans about the world's vertical (``down``, camera coordinates; None: the camera's +y) and
    then tilts in the vertical plane, so a level camera stays level, as the training cameras are.
    The identity when nothing is visible or the subject is already within ``leave``.
    """
    hips = mask[:, list(rep.HIPS)].all(axis=1)
    if hips.any():
        xy = unit[hips][:, list(rep.HIPS)].mean(axis=1)
    elif mask.any():
        xy = unit[mask]
    else:
        return np.eye(3)
    rays = np.concatenate([xy, np.ones_like(xy[:, :1])], axis=1)
    d = (rays / np.linalg.norm(rays, axis=1, keepdims=True)).mean(axis=0)
    offset = d[:2] / d[2]
    off = float(np.linalg.norm(offset))
    if off <= leave:
        return np.eye(3)
    d = np.array([*(offset * (1.0 - leave / off)), 1.0])  # look this far (small angles add up)
    d /= np.linalg.norm(d)
    g = np.array([0.0, 1.0, 0.0]) if down is None else np.asarray(down, dtype=np.float64)
    g = g / np.linalg.norm(g)
    z = np.array([0.0, 0.0, 1.0])
    z_level, d_level = z - (z @ g) * g, d - (d @ g) * g
    level = min(np.linalg.norm(z_level), np.linalg.norm(d_level)) > 1e-12  # else nothing to pan
    pan = rotation_between(z_level, d_level) if level else np.eye(3)  # about the vertical
    tilt = rotation_between(pan @ z, d)  # in the vertical plane through the subject
    return (tilt @ pan).T


def level_roll(turn: np.ndarray, down: np.ndarray | None, min_horizontal: float = 0.1) -> np.ndarray:
    """``turn`` (3, 3) followed by the roll about the turned camera's optical axis that levels it:
    the world's down (``down``, camera coordinates) then points along the image's +y, as it does
    for the training cameras (a dutch angle, a phone held at a tilt, is taken out exactly: a
    rotation about the camera's centre). ``turn`` unchanged when ``down`` is None or the camera
    looks within ``asin(min_horizontal)`` of straight down or up (no horizon to level)."""
    if down is None:
        return turn
    g = np.asarray(turn) @ np.asarray(down, dtype=np.float64)
    g = g / np.linalg.norm(g)
    h = float(np.hypot(g[0], g[1]))
    if h < min_horizontal:
        return turn
    c, s = g[1] / h, g[0] / h
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ turn


def turned_coordinates(unit: np.ndarray, turn: np.ndarray) -> np.ndarray:
    """(..., 2) normalised coordinates seen by the camera turned by ``turn`` (3, 3) about its centre."""
    rays = np.concatenate([unit, np.ones_like(unit[..., :1])], axis=-1) @ np.asarray(turn).T
    return rays[..., :2] / rays[..., 2:3]


def root_local_mask(mask: np.ndarray) -> np.ndarray:
    """(..., K) mask of root/local values: hips as given, others need themselves and both hips."""
    m = np.asarray(mask, dtype=bool)
    hips = m[..., list(rep.HIPS)].all(-1, keepdims=True)
    out = m & hips
    out[..., list(rep.HIPS)] = m[..., list(rep.HIPS)]
    return out


def build_window_views(
    keypoints: np.ndarray,
    K: np.ndarray,
    image_size: tuple[int, int],
    lift_w2c: np.ndarray,
    start: int,
    window: int,
    num_views: int,
    *,
    fallback_scale: float,
    down: np.ndarray | None = None,
    score_threshold: float = rep.DEFAULT_SCORE_THRESHOLD,
    body_size: float = rep.BODY_SIZE_M,
    ring: str = "bbox",
) -> WindowViews:
    """Model inputs and geometry of the window starting at ``start``.

    Args:
        keypoints: (T, K, 3) the clip's ``[x px, y px, score]`` (NaN where missing).
        K: (3, 3) input intrinsics, pixels; image_size: (W, H) pixels.
        lift_w2c: (T, 4, 4) the input camera in the lift frame (metres; frame 0 = identity).
        start, window: first frame and length W of the window (frames past T are padding).
        num_views: V (input + V-1 virtual).
        fallback_scale: the clip's scale, used when the window sees no body.
        down: (3,) the world's down direction in the lift frame: the virtual ring stays
            horizontal in the world, as in training (None: the input camera's +y).
        ring: how the ring of virtual views is placed, as the model was trained
            (:data:`anylift.lifting.view_geometry.RINGS`).
    """
    t_len = len(keypoints)
    frames = window_frames(np.array([start]), window, t_len)[0]
    valid = window_valid(np.array([start]), window, t_len)[0]
    kp = np.asarray(keypoints, dtype=np.float64)[frames]
    mask = rep.visibility_mask(kp, score_threshold) & valid[:, None]
    unit = normalised_coordinates(kp, K)
    seen = mask[:, :NUM_BODY].sum(1) >= 4
    turn = np.eye(3)
    down_start = None if down is None else lift_w2c[start, :3, :3] @ np.asarray(down, dtype=np.float64)
    if seen.any():  # the input camera turned about its centre towards the subject (module doc)
        leave = TURN_LEAVES_BODY_SIZES * rep.body_scale(unit[:, :NUM_BODY], mask[:, :NUM_BODY])
        turn = subject_turn(unit, mask, down_start, leave)
    turn = level_roll(turn, down_start)
    unit = turned_coordinates(unit, turn)
    # The scale is the body's alone (HOI: points 17.. are an object's), as in training.
    scale = rep.body_scale(unit[:, :NUM_BODY], mask[:, :NUM_BODY]) if seen.any() else float(fallback_scale)
    points = rep.fill_masked(unit / scale, mask)
    guidance_mask = root_local_mask(mask).astype(np.float32)

    turn4 = np.eye(4)
    turn4[:3, :3] = turn
    w2c_in = turn4 @ lift_w2c[frames]
    reference = turn4 @ lift_w2c[start]
    # The virtual views and conditions come from the functions that build the training windows.
    rel = w2c_in @ invert_rigid(reference)
    down_ref = None if down is None else reference[:3, :3] @ np.asarray(down, dtype=np.float64)
    cams_ref = multiview_cameras(
        rel, points, scale, num_views, down=down_ref, body_size=body_size, mask=mask, ring=ring
    )
    w2c = cams_ref @ reference
    cond = multiview_condition(cams_ref, K, image_size, scale, points, mask, body_size=body_size)
    cameras = cond["camera"]

    c2w = invert_rigid(w2c_in)
    d_cam = np.concatenate([points * scale, np.ones_like(points[..., :1])], -1)
    d = np.einsum("tij,tkj->tki", c2w[:, :3, :3], d_cam)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    return WindowViews(
        start=int(start),
        frames=frames,
        valid=valid,
        scale=float(scale),
        observed=cond["observed"],
        observed_mask=cond["observed_mask"],
        guidance_mask=guidance_mask,
        points=points,
        points_mask=mask,
        scores=np.where(mask, np.nan_to_num(kp[..., 2]), 0.0),
        camera=cameras,
        lines=cond["lines"],
        world_to_camera=w2c,
        model_K=np.diag([1.0 / scale, 1.0 / scale, 1.0]),
        ray_origin=c2w[:, :3, 3].copy(),
        ray_direction=d,
    )
