"""Epipolar geometry between two pinhole cameras: fundamental matrix, lines, epipoles.

Notation: camera 1 sees pixel ``x1``, camera 2 sees pixel ``x2`` of the same 3D point; the
fundamental matrix ``F`` satisfies ``x2^T F x1 = 0`` (homogeneous pixels). ``F @ x1`` is the
epipolar line of ``x1`` in image 2; ``F^T @ x2`` (``swapaxes(F, -1, -2)``) is the line of
``x2`` in image 1. A line ``(a, b, c)`` is ``a x + b y + c = 0`` in pixels; normalised lines
have ``a^2 + b^2 = 1``, so ``a x + b y + c`` is a signed distance in pixels.

numpy in -> numpy float64 out; torch in -> torch out (differentiable, for losses). Leading
dimensions broadcast like numpy: for F (V, 3, 3) and points (V, T, K, 2) pass
``F[:, None, None]``.
"""

from __future__ import annotations

import numpy as np
import torch

from anylift.geometry.camera import _check_shape, _homogeneous, _namespace, invert_rigid

__all__ = [
    "epipolar_lines",
    "epipole",
    "epipole_from_cameras",
    "fundamental_from_cameras",
    "line_through_points",
    "normalize_lines",
    "point_line_distance",
]


def _skew(v, xp):
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    o = xp.zeros_like(x)
    rows = [xp.stack([o, -z, y], axis=-1), xp.stack([z, o, -x], axis=-1), xp.stack([-y, x, o], axis=-1)]
    return xp.stack(rows, axis=-2)


def _cross(a, b, xp):
    return (_skew(a, xp) @ b[..., None])[..., 0]


def fundamental_from_cameras(K1, world_to_camera1, K2, world_to_camera2):
    """Fundamental matrix (..., 3, 3) with ``x2^T F x1 = 0``.

    Args:
        K1, K2: (..., 3, 3) intrinsics in pixels.
        world_to_camera1, world_to_camera2: (..., 4, 4) extrinsics (OpenCV camera frames).

    ``F = K2^-T [t]_x R K1^-1`` with (R, t) camera 1 -> camera 2. Not normalised: its scale
    grows with the baseline, and it is all zeros when both centres coincide (no epipolar
    geometry). Lines from :func:`epipolar_lines` do not depend on the scale.
    """
    xp, (k1, a, k2, b) = _namespace(K1, world_to_camera1, K2, world_to_camera2)
    for x, n, s in (
        (k1, "K1", (3, 3)),
        (a, "world_to_camera1", (4, 4)),
        (k2, "K2", (3, 3)),
        (b, "world_to_camera2", (4, 4)),
    ):
        _check_shape(x, s, n)
    rel = b @ invert_rigid(a)
    r, t = rel[..., :3, :3], rel[..., :3, 3]
    e = _skew(t, xp) @ r
    return xp.swapaxes(xp.linalg.inv(k2), -1, -2) @ e @ xp.linalg.inv(k1)


def normalize_lines(lines, eps: float = 1e-12):
    """Scale lines (..., 3) so that a^2 + b^2 = 1 (sign kept).

    A degenerate line (a = b = 0, e.g. the line of a point at the epipole) is divided by
    ``eps`` instead of 0, so it stays finite (and its gradient too).
    """
    xp, (lines,) = _namespace(lines)
    _check_shape(lines, (3,), "lines")
    norm_sq = lines[..., 0] ** 2 + lines[..., 1] ** 2
    return lines / xp.sqrt(xp.clip(norm_sq, eps * eps, None))[..., None]


def epipolar_lines(F, points):
    """Normalised epipolar lines (..., 3) in the other image of pixels ``points`` (..., 2).

    ``F`` (..., 3, 3) maps image-1 points to image-2 lines; pass ``swapaxes(F, -1, -2)`` for
    the opposite direction.
    """
    xp, (f, p) = _namespace(F, points)
    _check_shape(f, (3, 3), "F")
    _check_shape(p, (2,), "points")
    return normalize_lines((f @ _homogeneous(p, xp)[..., None])[..., 0])


def point_line_distance(points, lines, *, signed: bool = False):
    """Distance (...) in pixels from points (..., 2) to lines (..., 3); lines need not be normalised.

    ``signed=True`` keeps the sign of ``a x + b y + c`` (which side of the line).
    """
    xp, (p, l) = _namespace(points, lines)
    _check_shape(p, (2,), "points")
    l = normalize_lines(l)
    d = l[..., 0] * p[..., 0] + l[..., 1] * p[..., 1] + l[..., 2]
    return d if signed else xp.abs(d)


def line_through_points(p, q):
    """Normalised line (..., 3) through two image points.

    ``p``, ``q``: (..., 2) pixels or (..., 3) homogeneous (so an epipole at infinity, with a zero
    last coordinate, works).
    """
    xp, (p, q) = _namespace(p, q)
    if p.shape[-1] == 2:
        p = _homogeneous(p, xp)
    if q.shape[-1] == 2:
        q = _homogeneous(q, xp)
    _check_shape(p, (3,), "p")
    _check_shape(q, (3,), "q")
    p, q = xp.broadcast_arrays(p, q) if xp is np else torch.broadcast_tensors(p, q)
    return normalize_lines(_cross(p, q, xp))


def epipole(F, image: int = 2):
    """Epipole (..., 3) of ``F`` (..., 3, 3) in image 1 or 2, homogeneous, unit norm, z >= 0.

    ``image=1``: ``F e1 = 0`` (camera 2's centre seen by camera 1); ``image=2``: ``F^T e2 = 0``.
    Pixels are ``e[..., :2] / e[..., 2:]``; z = 0 means the epipole is at infinity (parallel
    image planes), which is why the homogeneous form is returned. Computed by SVD; for a
    differentiable epipole from the cameras prefer :func:`epipole_from_cameras`.
    """
    if image not in (1, 2):
        raise ValueError(f"image: expected 1 or 2, got {image!r}")
    xp, (f,) = _namespace(F)
    _check_shape(f, (3, 3), "F")
    u, _, vh = xp.linalg.svd(f)
    e = vh[..., 2, :] if image == 1 else u[..., :, 2]
    return xp.where(e[..., 2:] < 0, -e, e)


def epipole_from_cameras(K, world_to_camera, other_world_to_camera):
    """Where the other camera's centre appears in this camera: homogeneous pixels (..., 3).

    ``K`` (..., 3, 3) and ``world_to_camera`` (..., 4, 4) are this camera; the other camera is
    given by its ``other_world_to_camera`` (..., 4, 4). Equals :func:`epipole` of the matching
    F up to scale (this camera is image 2 of ``fundamental_from_cameras(K_other, other, K,
    this)``). Not normalised: divide by the last coordinate for pixels when it is not 0.
    """
    _xp, (k, a, b) = _namespace(K, world_to_camera, other_world_to_camera)
    _check_shape(k, (3, 3), "K")
    _check_shape(a, (4, 4), "world_to_camera")
    _check_shape(b, (4, 4), "other_world_to_camera")
    centre = invert_rigid(b)[..., :3, 3]
    cam = (a[..., :3, :3] @ centre[..., None])[..., 0] + a[..., :3, 3]
    return (k @ cam[..., None])[..., 0]
