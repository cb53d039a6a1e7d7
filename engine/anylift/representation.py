"""How 2D motion, cameras and epipolar lines are presented to the diffusion models.

Coordinates (all model inputs use these "model coordinates"):

1. pixels ``(x, y)`` -> normalised image coordinates ``((x - cx) / fx, (y - cy) / fy)``
   (the camera-frame ray ``(X/Z, Y/Z)``, OpenCV axes: x right, y down);
2. divided by one per-sequence ``scale``: the median over frames of the body's extent (the
   larger side of the bounding box of the visible keypoints) in normalised image coordinates,
   so a typical body is about 1 unit tall whatever the focal length and distance. Model
   coordinates are therefore the projection through ``K_model = diag(1/scale, 1/scale, 1)``
   (:meth:`ImageNormalisation.model_intrinsics`), which keeps epipolar geometry exact.
   ``scale`` is stored in :class:`ImageNormalisation` so pixels can be recovered.

Root / local decomposition (AnyLift, Mocap-2-to-3): the two hips (COCO-17 indices 11, 12) stay
global; every other point (joints and appended object keypoints) is expressed relative to the
hip midpoint. The global motion is the local pose plus the mean hip position
(:func:`from_root_local`). Arrays keep the joint order: (..., K, 2) in, (..., K, 2) out.

Visibility: a keypoint is visible when finite and its score >= ``score_threshold``. Masked
values are filled with a harmless guess (temporal interpolation of the same joint, else the
centroid of the frame's other joints) so the network never sees NaN; they are never targets.

Camera condition (:func:`camera_condition`), (T, CAMERA_DIM = 15) per frame:
``[R_t | t_t]`` of the world-to-camera transform relative to the reference (input) camera at
frame 0, the 3x4 matrix flattened row-major (12 numbers), with ``t`` divided by ``body_size``
(the subject's keypoint extent in world units, :data:`BODY_SIZE_M` for metric cameras): a camera
moving by ``t`` shifts a subject at depth ``d`` by about ``t / d`` normalised units, i.e.
``t / (d * scale) = t / body_size`` model units, so translation and keypoints share units.
Then 3 intrinsics numbers: the half image extents in model coordinates
``W / (2 fx scale)``, ``H / (2 fy scale)`` (where the frame borders are) and ``log(scale)``
(how far the subject is: a camera rotation by angle a shifts the image by about ``a / scale``).

Epipolar lines (a, b, c) with a^2 + b^2 = 1, one per keypoint per frame, in model coordinates;
an all-zero line means "no line". Training lines pass through each keypoint and the epipole of a
sampled virtual camera (:func:`sample_virtual_camera`, :func:`training_lines`); inference lines
come from the relative pose of two views (:func:`lines_between_views`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from anylift.geometry.camera import relative_to_first
from anylift.geometry.epipolar import (
    epipolar_lines,
    epipole_from_cameras,
    fundamental_from_cameras,
    line_through_points,
)
from anylift.geometry.transforms import look_at

HIPS: tuple[int, int] = (11, 12)
"""COCO-17 indices of the left and right hip: the root of the decomposition."""

BODY_SIZE_M = 1.5
"""Typical extent of the COCO-17 keypoints of a standing adult (nose to ankles), metres."""

LIMB_LENGTHS_M = (
    ((5, 11), 0.50), ((6, 12), 0.50), ((11, 13), 0.41), ((12, 14), 0.41), ((13, 15), 0.41),
    ((14, 16), 0.41), ((5, 7), 0.29), ((6, 8), 0.29), ((7, 9), 0.25), ((8, 10), 0.25), ((5, 6), 0.35),
)  # fmt: skip
"""COCO-17 limbs (torso sides, thighs, shins, upper arms, forearms, shoulder width) of an adult
whose keypoints span :data:`BODY_SIZE_M`, metres. The shoulders are the one horizontal limb of an
upright body: seen from above, they keep their length when every other limb is foreshortened."""

CAMERA_DIM = 15
"""Features per frame of :func:`camera_condition`."""

DEFAULT_SCORE_THRESHOLD = 0.3


@dataclass(frozen=True)
class ImageNormalisation:
    """Pixels <-> model coordinates for one sequence (see the module doc).

    Attributes:
        fx, fy, cx, cy: intrinsics, pixels.
        scale: body extent in normalised image coordinates; model = normalised / scale.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    scale: float

    def to_model(self, points_px: np.ndarray) -> np.ndarray:
        """(..., 2) pixels -> (..., 2) model coordinates."""
        p = np.asarray(points_px, dtype=np.float64)
        return np.stack([(p[..., 0] - self.cx) / self.fx, (p[..., 1] - self.cy) / self.fy], -1) / self.scale

    def to_pixels(self, points_model: np.ndarray) -> np.ndarray:
        """(..., 2) model coordinates -> (..., 2) pixels (inverse of :meth:`to_model`)."""
        p = np.asarray(points_model, dtype=np.float64) * self.scale
        return np.stack([p[..., 0] * self.fx + self.cx, p[..., 1] * self.fy + self.cy], -1)

    def model_intrinsics(self) -> np.ndarray:
        """(3, 3) ``diag(1/scale, 1/scale, 1)``: projects camera-frame points to model coordinates."""
        return np.diag([1.0 / self.scale, 1.0 / self.scale, 1.0])

    def as_dict(self) -> dict[str, float]:
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy, "scale": self.scale}


@dataclass(frozen=True)
class NormalisedKeypoints:
    """Output of :func:`normalise_keypoints`.

    Attributes:
        points: (T, K, 2) float32 global model coordinates; masked entries filled (finite).
        mask: (T, K) bool, True where the keypoint was observed.
        normalisation: how to get back to pixels.
    """

    points: np.ndarray
    mask: np.ndarray
    normalisation: ImageNormalisation


def visibility_mask(keypoints: np.ndarray, score_threshold: float = DEFAULT_SCORE_THRESHOLD) -> np.ndarray:
    """(T, K) bool: finite x, y and (for (T, K, 3) input) score >= ``score_threshold``.

    Args:
        keypoints: (T, K, 2) or (T, K, 3) ``[x, y(, score)]``; NaN marks a missing joint.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    mask = np.isfinite(kp[..., 0]) & np.isfinite(kp[..., 1])
    if kp.shape[-1] >= 3:
        mask &= np.nan_to_num(kp[..., 2], nan=0.0) >= score_threshold
    return mask


def body_scale(points: np.ndarray, mask: np.ndarray, min_visible: int = 4) -> float:
    """Median over frames of the larger bounding-box side of the visible points.

    Args:
        points: (T, K, 2) normalised image coordinates (unitless).
        mask: (T, K) bool.
        min_visible: frames with fewer visible points are ignored (their box is not the body's).

    Returns:
        The scale (> 0); 1.0 when no frame has enough visible points.
    """
    sizes = []
    for p, m in zip(np.asarray(points), np.asarray(mask)):
        if m.sum() >= min_visible:
            extent = p[m].max(axis=0) - p[m].min(axis=0)
            sizes.append(float(extent.max()))
    scale = float(np.median(sizes)) if sizes else 1.0
    return scale if np.isfinite(scale) and scale > 1e-9 else 1.0


def fill_masked(points: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Replace masked points by a harmless finite guess.

    Each joint is linearly interpolated in time between its visible frames (held constant
    beyond them); a joint never visible takes the frame's centroid of the other joints; a
    sequence with nothing visible becomes zeros.

    Args:
        points: (T, K, 2); values under ``~mask`` are ignored (may be NaN).
        mask: (T, K) bool.

    Returns:
        (T, K, 2) float64, equal to ``points`` where ``mask``.
    """
    p = np.array(points, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    t = np.arange(p.shape[0])
    seen = m.any(axis=0)
    for k in np.flatnonzero(seen):
        for c in range(2):
            p[~m[:, k], k, c] = np.interp(t[~m[:, k]], t[m[:, k]], p[m[:, k], k, c])
    if not seen.all():
        centroid = p[:, seen].mean(axis=1) if seen.any() else np.zeros((p.shape[0], 2))
        p[:, ~seen] = centroid[:, None, :]
    return p


def normalise_keypoints(
    keypoints: np.ndarray,
    K: np.ndarray,
    *,
    score_threshold: float = DEFAULT_SCORE_THRESHOLD,
    scale: float | None = None,
) -> NormalisedKeypoints:
    """Pixels -> model coordinates (global, not yet root/local), with a visibility mask.

    Args:
        keypoints: (T, K, 3) ``[x px, y px, score]`` or (T, K, 2) pixels; NaN = missing.
        K: (3, 3) intrinsics (pixels).
        score_threshold: below it a keypoint is masked.
        scale: force the per-sequence scale (e.g. to share the input view's scale across views);
            default :func:`body_scale` of this sequence.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    mask = visibility_mask(kp, score_threshold)
    norm = ImageNormalisation(float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2]), 1.0)
    unit = norm.to_model(kp[..., :2])
    if scale is None:
        scale = body_scale(unit, mask)
    norm = ImageNormalisation(norm.fx, norm.fy, norm.cx, norm.cy, float(scale))
    filled = fill_masked(unit / norm.scale, mask)
    return NormalisedKeypoints(filled.astype(np.float32), mask, norm)


def denormalise_keypoints(points: np.ndarray, normalisation: ImageNormalisation) -> np.ndarray:
    """(..., 2) global model coordinates -> (..., 2) pixels."""
    return normalisation.to_pixels(points)


def _hip_mid(points):
    return 0.5 * (points[..., HIPS[0] : HIPS[0] + 1, :] + points[..., HIPS[1] : HIPS[1] + 1, :])


def _non_hip(num_points: int) -> np.ndarray:
    keep = np.ones(num_points, dtype=bool)
    keep[list(HIPS)] = False
    return keep


def to_root_local(points):
    """Global points -> root/local: hips unchanged, the rest minus the hip midpoint.

    Args:
        points: (..., K, 2) numpy or torch, K >= 13 (COCO-17 first, then any object keypoints).

    Returns:
        (..., K, 2), same type.
    """
    keep = _non_hip(points.shape[-2])
    if isinstance(points, torch.Tensor):
        keep = torch.from_numpy(keep).to(points.device)[:, None]
        return torch.where(keep, points - _hip_mid(points), points)
    return np.where(keep[:, None], points - _hip_mid(points), points)


def from_root_local(root_local):
    """Inverse of :func:`to_root_local`: local pose plus the mean hip position.

    Args:
        root_local: (..., K, 2) numpy or torch.

    Returns:
        (..., K, 2) global points, same type.
    """
    keep = _non_hip(root_local.shape[-2])
    if isinstance(root_local, torch.Tensor):
        keep = torch.from_numpy(keep).to(root_local.device)[:, None]
        return torch.where(keep, root_local + _hip_mid(root_local), root_local)
    return np.where(keep[:, None], root_local + _hip_mid(root_local), root_local)


def centre_root(points):
    """Local-only view of global points: every frame translated so the hip midpoint is at 0.

    This is how projected 3D motions enter AnyLift's hybrid training data (root aligned to the
    image centre, no global translation); their hips are then masked out of the loss
    (:func:`anylift.models.losses.target_mask`).

    Args:
        points: (..., K, 2) numpy or torch global model coordinates.

    Returns:
        (..., K, 2) same type; ``to_root_local`` of it equals ``to_root_local(points)`` except
        the hips.
    """
    return points - _hip_mid(points)


def split_root_local(root_local):
    """(..., K, 2) root/local -> (root (..., 2, 2) the hips, local (..., K-2, 2) the rest)."""
    keep = _non_hip(root_local.shape[-2])
    return root_local[..., list(HIPS), :], root_local[..., np.flatnonzero(keep), :]


def camera_condition(
    world_to_camera: np.ndarray,
    K: np.ndarray,
    image_size: tuple[int, int],
    scale: float,
    *,
    reference: np.ndarray | None = None,
    body_size: float = BODY_SIZE_M,
) -> np.ndarray:
    """Per-frame camera features (see the module doc), relative to ``reference``.

    Args:
        world_to_camera: (T, 4, 4) world-to-camera transforms (world units).
        K: (3, 3) intrinsics, pixels.
        image_size: (W, H) pixels.
        scale: the per-sequence scale of this view's keypoints (:class:`ImageNormalisation`).
        reference: (4, 4) world-to-camera of the input camera at frame 0, the frame every
            condition is expressed in; default ``world_to_camera[0]`` (so frame 0 is identity).
            Virtual views of a multi-view sample pass the input camera's frame 0.
        body_size: the subject's keypoint extent in world units (:data:`BODY_SIZE_M` when the
            world is metric; pass the estimate for an up-to-scale SLAM world).

    Returns:
        (T, CAMERA_DIM) float32.
    """
    w2c = np.asarray(world_to_camera, dtype=np.float64)
    ref = w2c[0] if reference is None else np.asarray(reference, dtype=np.float64)
    rel = relative_to_first(np.concatenate([ref[None], w2c], axis=0))[1:]
    rt = rel[:, :3, :4].copy()
    rt[:, :, 3] /= body_size
    K = np.asarray(K, dtype=np.float64)
    w, h = image_size
    intr = np.array([w / (2.0 * K[0, 0] * scale), h / (2.0 * K[1, 1] * scale), np.log(scale)])
    feats = np.concatenate([rt.reshape(len(rt), 12), np.broadcast_to(intr, (len(rt), 3))], axis=1)
    return feats.astype(np.float32)


def lines_through_epipole(points, epipole):
    """Lines through each point and a (homogeneous) epipole, normalised to a^2 + b^2 = 1.

    Args:
        points: (..., K, 2) model coordinates, numpy or torch.
        epipole: (..., 3) homogeneous epipole per frame (broadcast over K); may lie at infinity.

    Returns:
        (..., K, 3) lines ``a x + b y + c = 0``, same type as ``points``.
    """
    if isinstance(points, torch.Tensor):
        e = torch.as_tensor(epipole, dtype=points.dtype, device=points.device)
    else:
        e = np.asarray(epipole, dtype=np.float64)
    return line_through_points(points, e[..., None, :])


def limb_depth(unit: np.ndarray, mask: np.ndarray | None = None, min_length: float = 1e-6) -> np.ndarray:
    """(T,) per frame the tightest depth bound the limbs' image lengths give; NaN where none is seen.

    A limb ``L`` metres long (:data:`LIMB_LENGTHS_M`) that spans ``l`` normalised image units is at
    most ``L / l`` metres away: foreshortening only shortens it. A limb is not seen where an end is
    masked or it is shorter than ``min_length``.

    Args:
        unit: (T, K, 2) normalised image coordinates (pixels / focal length), K >= 17.
        mask: (T, K) bool, the keypoints seen; default all.
    """
    pts = np.asarray(unit, dtype=np.float64)
    seen = np.ones(pts.shape[:2], dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    bounds = []
    for (a, b), length in LIMB_LENGTHS_M:
        span = np.linalg.norm(pts[:, a] - pts[:, b], axis=-1)
        ok = seen[:, a] & seen[:, b] & (span > min_length)
        bounds.append(np.where(ok, length / np.maximum(span, 1e-12), np.nan))
    # fmin ignores NaN like nanmin, without its "All-NaN slice" warning for frames without limbs.
    return np.fmin.reduce(np.stack(bounds, axis=1), axis=1)


def subject_centre(root_px_model: np.ndarray, scale: float, body_size: float = BODY_SIZE_M) -> np.ndarray:
    """(3,) guessed subject centre in the camera frame (world units) from its model coordinates.

    The subject is assumed ``body_size`` tall, hence at depth ``body_size / scale`` along the ray
    of ``root_px_model`` (2,), the hip midpoint in model coordinates.
    """
    depth = body_size / scale
    u = np.asarray(root_px_model, dtype=np.float64) * scale
    return depth * np.array([u[0], u[1], 1.0])


def orbit_camera(
    centre: np.ndarray, azimuth: float, elevation: float = 0.0, *, down: np.ndarray | None = None
) -> np.ndarray:
    """World-to-camera (4, 4) of a camera on the orbit of the input camera around ``centre``.

    The world is the input camera's frame (at frame 0); the orbit turns the input camera's
    position about the vertical axis through ``centre`` (the camera's ``down`` = +y by
    default) by ``azimuth`` radians, raises it by ``elevation`` radians, and looks at ``centre``
    with the same down direction. ``azimuth = elevation = 0`` returns the input camera looking
    at ``centre``.
    """
    down = np.array([0.0, 1.0, 0.0]) if down is None else np.asarray(down, dtype=np.float64)
    c = np.asarray(centre, dtype=np.float64)
    arm = -c - (-c @ down) * down  # horizontal part of centre -> input camera
    radius = np.linalg.norm(arm)
    fwd = arm / radius
    side = np.cross(down, fwd)
    direction = (
        np.cos(elevation) * (np.cos(azimuth) * fwd + np.sin(azimuth) * side) - np.sin(elevation) * down
    )
    position = c + radius * direction + (-c @ down) * down
    return look_at(position, c, up=-down)


def ring_cameras(centre: np.ndarray, num_views: int) -> np.ndarray:
    """(V, 4, 4) world-to-camera of V cameras evenly spaced on the input camera's orbit.

    View 0 looks from the input camera's position at ``centre`` (3,); world = input camera frame.
    """
    return np.stack([orbit_camera(centre, 2.0 * np.pi * v / num_views) for v in range(num_views)])


def sample_virtual_camera(
    rng: np.random.Generator,
    centre: np.ndarray,
    *,
    azimuth_deg: tuple[float, float] = (30.0, 330.0),
    elevation_deg: tuple[float, float] = (-10.0, 30.0),
) -> np.ndarray:
    """A random virtual camera on the input camera's orbit around ``centre`` (3,), for training lines.

    Azimuth and elevation are uniform in the given ranges (degrees); azimuths near 0 are left
    out because a camera beside the input one gives near-parallel, uninformative lines.

    Returns:
        (4, 4) world-to-camera in the input camera's frame-0 coordinates (world units).
    """
    az = np.deg2rad(rng.uniform(*azimuth_deg))
    el = np.deg2rad(rng.uniform(*elevation_deg))
    return orbit_camera(centre, az, el)


def epipoles_of(virtual_w2c: np.ndarray, relative_w2c: np.ndarray, scale: float) -> np.ndarray:
    """(T, 3) homogeneous epipoles of a (static) virtual camera in the input view, model coordinates.

    Args:
        virtual_w2c: (4, 4) virtual camera, in the input camera's frame-0 coordinates.
        relative_w2c: (T, 4, 4) input camera per frame relative to its frame 0.
        scale: the input view's per-sequence scale.
    """
    k_model = np.diag([1.0 / scale, 1.0 / scale, 1.0])
    return epipole_from_cameras(k_model, np.asarray(relative_w2c, dtype=np.float64), virtual_w2c)


def training_lines(
    points: np.ndarray,
    rng: np.random.Generator,
    scale: float,
    *,
    relative_w2c: np.ndarray | None = None,
    body_size: float = BODY_SIZE_M,
) -> tuple[np.ndarray, np.ndarray]:
    """Epipolar lines for training: each keypoint joined to a sampled virtual camera's epipole.

    Args:
        points: (T, K, 2) global model coordinates.
        rng: source of the virtual camera.
        scale: the sequence's scale (places the subject at depth ``body_size / scale``).
        relative_w2c: (T, 4, 4) input camera relative to frame 0 (moving camera); default static.

    Returns:
        lines (T, K, 3) float32 through the points, and the virtual camera (4, 4).
    """
    pts = np.asarray(points, dtype=np.float64)
    rel = np.broadcast_to(np.eye(4), (len(pts), 4, 4)) if relative_w2c is None else relative_w2c
    root = 0.5 * (pts[:, HIPS[0]] + pts[:, HIPS[1]]).mean(axis=0)
    virtual = sample_virtual_camera(rng, subject_centre(root, scale, body_size))
    lines = lines_through_epipole(pts, epipoles_of(virtual, np.asarray(rel, dtype=np.float64), scale))
    return lines.astype(np.float32), virtual


def fundamental_matrices(
    w2c_from: np.ndarray, scale_from: float, w2c_to: np.ndarray, scale_to: float
) -> np.ndarray:
    """(T, 3, 3) fundamental matrices mapping model coordinates of one view to lines in another.

    Args:
        w2c_from, w2c_to: (T, 4, 4) world-to-camera of the two views (same world).
        scale_from, scale_to: per-sequence scales of the two views' model coordinates.

    Returns:
        F with ``x_to^T F x_from = 0`` per frame, x in homogeneous model coordinates.
    """
    k_from = np.diag([1.0 / scale_from, 1.0 / scale_from, 1.0])
    k_to = np.diag([1.0 / scale_to, 1.0 / scale_to, 1.0])
    return fundamental_from_cameras(k_from, np.asarray(w2c_from), k_to, np.asarray(w2c_to))


def lines_between_views(points_from, fundamental):
    """Epipolar lines in the other view of each keypoint of one view (inference lines).

    Args:
        points_from: (..., T, K, 2) model coordinates in the source view, numpy or torch.
        fundamental: (T, 3, 3) from :func:`fundamental_matrices`.

    Returns:
        (..., T, K, 3) normalised lines in the target view, same type as ``points_from``.
    """
    if isinstance(points_from, torch.Tensor):
        f = torch.as_tensor(fundamental, dtype=points_from.dtype, device=points_from.device)
    else:
        f = np.asarray(fundamental, dtype=np.float64)
    return epipolar_lines(f[..., :, None, :, :], points_from)
