"""Numpy-only transforms: rigid/similarity alignment, rotation conversions, look-at, intrinsics.

- alignment: :func:`similarity_align` (Umeyama/Kabsch, weighted, batched) and :func:`spans_plane`
  (whether points determine a rotation);
- cameras: :func:`look_at`, :func:`intrinsics`;
- rotations: quaternion / matrix / rotvec / Blender axis-angle and Euler conversions, :func:`swing`
  (the smallest rotation between two directions), sign-continuous quaternion tracks.

The one home of the geometry both the engine and the Blender add-on need. It imports numpy (and
the stdlib-only :mod:`anylift.errors`) and nothing else, so Blender's bundled Python, which has
neither torch nor scipy, runs it; the torch counterparts live in :mod:`anylift.geometry.rotations`.

All functions are batched over leading dims and return float64. Quaternions are ``w, x, y, z``
(Blender's ``rotation_quaternion`` order); ``rotvec`` is SMPL's axis-angle (axis times angle,
radians); Blender's own axis-angle (``rotation_axis_angle``) is ``angle, x, y, z``. Matrices
rotate column vectors (``R @ v``). Cameras are OpenCV's (x right, y down, z forward), world to
camera as (..., 4, 4).
"""

from __future__ import annotations

import numpy as np

from anylift.errors import InputError

# ---------------------------------------------------------------------------------------------
# Alignment


def similarity_align(
    source: np.ndarray,
    target: np.ndarray,
    weights: np.ndarray | None = None,
    scale: bool = True,
    centre: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least-squares ``s, R, t`` with ``s R source_i + t ~ target_i`` (Umeyama 1991).

    Kabsch when ``scale`` is False. Batched: one transform per leading index.

    Args:
        source, target: (..., N, 3) points; entries with weight 0 may be NaN.
        weights: (..., N) non-negative weights (0 = ignore), default all 1.
        scale: fit the uniform scale (else s = 1: a rigid transform).
        centre: fit the translation (else t = 0: rotation about the origin, e.g. for rays).

    Returns:
        s (...,), R (..., 3, 3) proper rotations, t (..., 3). Sets whose weights are all 0 get an
        arbitrary rotation and t = 0; fewer than 3 non-collinear points leave R underdetermined.
    """
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    if weights is None:
        w = np.ones(np.broadcast_shapes(src.shape, dst.shape)[:-1])
    else:
        w = np.asarray(weights, dtype=np.float64)
    use = (w > 0)[..., None]
    src, dst = np.where(use, src, 0.0), np.where(use, dst, 0.0)
    w = w / np.maximum(w.sum(-1, keepdims=True), 1e-300)
    if centre:
        mu_s = np.einsum("...n,...ni->...i", w, src)
        mu_t = np.einsum("...n,...ni->...i", w, dst)
    else:
        mu_s = mu_t = np.zeros((*src.shape[:-2], 3))
    xs, xt = src - mu_s[..., None, :], dst - mu_t[..., None, :]
    cov = np.einsum("...n,...ni,...nj->...ij", w, xt, xs)
    u, d, vt = np.linalg.svd(cov)
    sign = np.sign(np.linalg.det(u @ vt))
    fix = np.ones(d.shape)
    fix[..., 2] = np.where(sign == 0, 1.0, sign)
    rot = (u * fix[..., None, :]) @ vt
    if scale:
        var = np.einsum("...n,...n->...", w, (xs**2).sum(-1))
        s = np.where(var > 0, (d * fix).sum(-1) / np.where(var > 0, var, 1.0), 1.0)
    else:
        s = np.ones(d.shape[:-1])
    t = mu_t - s[..., None] * np.einsum("...ij,...j->...i", rot, mu_s)
    return s, rot, t


def spans_plane(points: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Whether (..., N, 3) points (those with weight > 0) are not all on one line, so that a
    rotation aligning them is determined: (...) bool.

    The centred points' second singular value must exceed 1e-6 times the first.
    """
    p = np.asarray(points, dtype=np.float64)
    w = np.ones(p.shape[:-1]) if weights is None else np.asarray(weights, dtype=np.float64)
    use = (w > 0)[..., None]
    p = np.where(use, p, 0.0)
    mean = np.einsum("...n,...ni->...i", w, p) / np.maximum(w.sum(-1), 1e-300)[..., None]
    sv = np.linalg.svd(np.where(use, p - mean[..., None, :], 0.0), compute_uv=False)
    return sv[..., 1] > 1e-6 * np.maximum(sv[..., 0], 1e-12)


# ---------------------------------------------------------------------------------------------
# Cameras


def intrinsics(image_size: tuple[int, int], focal: float) -> np.ndarray:
    """(3, 3) K with fx = fy = ``focal`` pixels and the principal point at the image centre."""
    w, h = image_size
    return np.array([[focal, 0.0, w / 2.0], [0.0, focal, h / 2.0], [0.0, 0.0, 1.0]])


def look_at(
    eye: np.ndarray, target: np.ndarray, roll: np.ndarray | float = 0.0, up: np.ndarray = (0.0, 0.0, 1.0)
) -> np.ndarray:
    """World-to-camera (..., 4, 4) of OpenCV cameras at ``eye`` looking at ``target``.

    Args:
        eye: (..., 3) camera centres, world metres.
        target: (..., 3) points to look at (projected to the principal point).
        roll: (...) radians about the optical axis; positive turns the camera clockwise as
            seen by the operator behind it (its +x axis dips towards world down).
        up: (3,) world up (default +z); the camera's -y axis is as close to it as the view allows.

    Raises:
        InputError: a view along ``up``.
    """
    eye, target = np.broadcast_arrays(np.asarray(eye, float), np.asarray(target, float))
    forward = target - eye
    forward = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
    right = np.cross(forward, np.asarray(up, float))
    norm = np.linalg.norm(right, axis=-1, keepdims=True)
    if np.any(norm < 1e-6):
        raise InputError(
            "camera looks straight up or down", field="eye/target", expected="a non-vertical view"
        )
    right = right / norm
    down = np.cross(forward, right)
    c2w_rot = np.stack([right, down, forward], axis=-1)  # columns: camera axes in world
    roll = np.broadcast_to(np.asarray(roll, float), eye.shape[:-1])
    c, s = np.cos(roll), np.sin(roll)
    zero, one = np.zeros_like(roll), np.ones_like(roll)
    # Rotation about the camera's own z: x turns towards y (down) for positive roll.
    rz = np.stack(
        [np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1), np.stack([zero, zero, one], -1)], -2
    )
    c2w_rot = c2w_rot @ rz
    w2c = np.zeros((*eye.shape[:-1], 4, 4))
    w2c[..., :3, :3] = np.swapaxes(c2w_rot, -1, -2)
    w2c[..., :3, 3] = -np.einsum("...ij,...j->...i", w2c[..., :3, :3], eye)
    w2c[..., 3, 3] = 1.0
    return w2c


# ---------------------------------------------------------------------------------------------
# Rotations


def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """(..., 4) w,x,y,z (any non-zero norm) -> (..., 3, 3)."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ],
        axis=-1,
    ).reshape((*q.shape[:-1], 3, 3))  # fmt: skip


def matrix_to_quaternion(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation -> (..., 4) unit w,x,y,z with w >= 0 (Shepperd's method)."""
    m = np.asarray(m, dtype=np.float64)
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    # Four candidate forms; each is well conditioned where its squared component is largest.
    sq = np.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1)
    best = np.argmax(sq, axis=-1)
    s = np.sqrt(np.maximum(np.take_along_axis(sq, best[..., None], -1)[..., 0], 1e-12)) * 2
    a = m[..., 2, 1] - m[..., 1, 2]
    b = m[..., 0, 2] - m[..., 2, 0]
    c = m[..., 1, 0] - m[..., 0, 1]
    d = m[..., 0, 1] + m[..., 1, 0]
    e = m[..., 0, 2] + m[..., 2, 0]
    f = m[..., 1, 2] + m[..., 2, 1]
    cands = np.stack(
        [
            np.stack([s / 4, a / s, b / s, c / s], -1),
            np.stack([a / s, s / 4, d / s, e / s], -1),
            np.stack([b / s, d / s, s / 4, f / s], -1),
            np.stack([c / s, e / s, f / s, s / 4], -1),
        ],
        -2,
    )
    q = np.take_along_axis(cands, best[..., None, None], -2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def rotvec_to_quaternion(rotvec: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle (radians) -> (..., 4) unit w,x,y,z."""
    v = np.asarray(rotvec, dtype=np.float64)
    angle = np.linalg.norm(v, axis=-1, keepdims=True)
    small = angle < 1e-3
    # sin(a/2)/a, with its Taylor series near 0 where the ratio loses precision.
    safe = np.where(small, 1.0, angle)
    scale = np.where(small, 0.5 - angle**2 / 48 + angle**4 / 3840, np.sin(safe / 2) / safe)
    return np.concatenate([np.cos(angle / 2), scale * v], -1)


def rotvec_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle (radians; SMPL's ``global_orient``/``body_pose`` rows) -> (..., 3, 3)."""
    return quaternion_to_matrix(rotvec_to_quaternion(rotvec))


def matrix_to_rotvec(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation -> (..., 3) axis-angle with angle in [0, pi]."""
    q = matrix_to_quaternion(m)
    xyz_norm = np.linalg.norm(q[..., 1:], axis=-1, keepdims=True)
    angle = 2 * np.arctan2(xyz_norm, q[..., :1])
    small = angle < 1e-3
    safe = np.where(small, 1.0, angle)
    # angle/sin(angle/2), with its Taylor series near 0.
    scale = np.where(small, 2 + angle**2 / 12 + 7 * angle**4 / 2880, safe / np.sin(safe / 2))
    return scale * q[..., 1:]


def unit(v: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """``v`` scaled to length 1 along its last axis (a zero vector stays zero)."""
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), eps)


def blender_axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    """(..., 4) Blender axis-angle (angle, x, y, z; axis any norm) -> (..., 3, 3)."""
    aa = np.asarray(aa, dtype=np.float64)
    angle = aa[..., 0]
    axis = unit(aa[..., 1:])
    half = angle / 2
    return quaternion_to_matrix(np.concatenate([np.cos(half)[..., None], axis * np.sin(half)[..., None]], -1))


def euler_to_matrix(angles: np.ndarray, order: str) -> np.ndarray:
    """(..., 3) radians in Blender's ``rotation_mode`` order (e.g. ``"XYZ"``: X applied first)
    -> (..., 3, 3)."""
    angles = np.asarray(angles, dtype=np.float64)
    out = np.broadcast_to(np.eye(3), (*angles.shape[:-1], 3, 3)).copy()
    for axis in order:
        i = "XYZ".index(axis)
        c, s = np.cos(angles[..., i]), np.sin(angles[..., i])
        r = np.zeros((*angles.shape[:-1], 3, 3))
        j, k = (i + 1) % 3, (i + 2) % 3
        r[..., i, i] = 1
        r[..., j, j] = c
        r[..., k, k] = c
        r[..., k, j] = s
        r[..., j, k] = -s
        out = r @ out
    return out


def swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3, 3) smallest rotations turning unit vectors ``a`` (..., 3) onto unit vectors ``b``.

    Opposite vectors get half a turn about an axis perpendicular to ``a`` (a x [1, 0, 0], or the
    y axis when ``a`` is along x).
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    v = np.cross(a, b)
    c = (a * b).sum(-1)
    k = np.zeros((*v.shape, 3))
    k[..., 0, 1], k[..., 0, 2], k[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    k = k - np.swapaxes(k, -1, -2)
    out = np.eye(3) + k + (k @ k) / np.maximum(1.0 + c, 1e-9)[..., None, None]
    flip = c < -1.0 + 1e-6
    if flip.any():
        axis = np.cross(a[flip], [1.0, 0.0, 0.0])
        axis[np.linalg.norm(axis, axis=-1) < 1e-6] = [0.0, 1.0, 0.0]
        axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
        out[flip] = 2 * axis[:, :, None] * axis[:, None, :] - np.eye(3)
    return out


def rotation_part(m: np.ndarray) -> np.ndarray:
    """(..., 4, 4) or (..., 3, 3) -> (..., 3, 3) with unit columns (scale removed)."""
    r = np.asarray(m, dtype=np.float64)[..., :3, :3]
    return r / np.linalg.norm(r, axis=-2, keepdims=True)


def continuous_quaternions(q: np.ndarray) -> np.ndarray:
    """Flip quaternion signs along time so neighbours are on the same hemisphere.

    q and -q are the same rotation, but F-curves interpolate components: a sign flip between two
    frames would spin the bone through a full turn between them. Args/returns: (T, ..., 4) w,x,y,z.
    """
    q = np.array(q, dtype=np.float64, copy=True)
    if len(q) < 2:
        return q
    dots = np.sum(q[1:] * q[:-1], axis=-1)
    # Cumulative parity of flips: frame t is flipped iff an odd number of negative dots precede it.
    flips = np.cumsum(dots < 0, axis=0) % 2 == 1
    q[1:][flips] *= -1
    return q


def matrix_to_continuous_quaternions(m: np.ndarray) -> np.ndarray:
    """(T, ..., 3, 3) rotations over time -> (T, ..., 4) w,x,y,z keys, sign-continuous along time.

    Frame 0 has w >= 0; later frames follow their predecessor's hemisphere.
    """
    return continuous_quaternions(matrix_to_quaternion(m))
