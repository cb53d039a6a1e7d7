"""Pinhole cameras: world -> camera -> pixels, frame-0 normalisation, the world's up direction.

Conventions (formats.md): camera frames are OpenCV (x right, y down, z forward); a camera is
``K`` (3, 3) pixels plus a per-frame ``world_to_camera`` (T, 4, 4) rigid transform; pixels have
their origin at the top-left corner. The engine's result world is right-handed, Z up, metres.

Every function takes numpy arrays (returns float64 numpy) or torch tensors (returns torch,
differentiable); if any argument is a tensor, the others are converted to its dtype/device.
Leading dimensions broadcast like numpy.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from anylift.errors import InputError

__all__ = [
    "invert_rigid",
    "pixel_rays",
    "project",
    "relative_to_first",
    "rotate_world",
    "rotation_between",
    "to_camera",
    "up_vector",
    "world_zup_from_camera",
]


def _namespace(*arrays):
    """(xp, converted arrays): torch if any argument is a tensor, else numpy float64.

    ``None`` passes through. Shared by the geometry modules so that numpy and torch inputs
    run the same code.
    """
    tensors = [a for a in arrays if isinstance(a, torch.Tensor)]
    if not tensors:
        return np, tuple(None if a is None else np.asarray(a, dtype=np.float64) for a in arrays)
    dtype = functools.reduce(torch.promote_types, [t.dtype for t in tensors])
    if not dtype.is_floating_point:
        dtype = torch.get_default_dtype()
    device = tensors[0].device
    return torch, tuple(None if a is None else torch.as_tensor(a, dtype=dtype, device=device) for a in arrays)


def _check_shape(x, trailing: tuple[int, ...], name: str) -> None:
    if x.ndim < len(trailing) or tuple(x.shape[x.ndim - len(trailing) :]) != trailing:
        dims = ", ".join(map(str, trailing))
        raise ValueError(f"{name}: expected shape (..., {dims}), got {tuple(x.shape)}")


def _homogeneous(points, xp):
    return xp.concatenate([points, xp.ones_like(points[..., :1])], axis=-1)


def invert_rigid(transform):
    """Inverse of rigid transforms (..., 4, 4) using R^T (exact for proper rotations).

    ``camera_to_world = invert_rigid(world_to_camera)``.
    """
    xp, (t,) = _namespace(transform)
    _check_shape(t, (4, 4), "transform")
    r = xp.swapaxes(t[..., :3, :3], -1, -2)
    trans = -(r @ t[..., :3, 3:4])
    bottom = xp.zeros_like(t[..., 3:4, :])
    bottom[..., 3] = 1.0
    return xp.concatenate([xp.concatenate([r, trans], axis=-1), bottom], axis=-2)


def to_camera(points, world_to_camera):
    """World points (..., N, 3) -> camera-frame points (..., N, 3), same units.

    ``world_to_camera`` is (..., 4, 4); its leading dims broadcast with the points' (...).
    """
    _xp, (p, w2c) = _namespace(points, world_to_camera)
    _check_shape(p, (3,), "points")
    _check_shape(w2c, (4, 4), "world_to_camera")
    r = w2c[..., None, :3, :3]
    t = w2c[..., None, :3, 3]
    return (r @ p[..., None])[..., 0] + t


def project(points, K, world_to_camera, *, return_depth: bool = False):
    """Project world points (..., N, 3) to pixels (..., N, 2).

    Args:
        points: (..., N, 3) world coordinates.
        K: (3, 3) or (..., 3, 3) intrinsics in pixels.
        world_to_camera: (..., 4, 4); its leading dims broadcast with the points' (...).
        return_depth: also return the camera-frame depth z (..., N) (world units).

    Points with depth <= 0 are behind the camera; their pixels are returned as computed
    (meaningless), so check the depth where that can happen.
    """
    _xp, (p, k, w2c) = _namespace(points, K, world_to_camera)
    _check_shape(k, (3, 3), "K")
    cam = to_camera(p, w2c)
    img = (k[..., None, :, :] @ cam[..., None])[..., 0]
    depth = img[..., 2]
    uv = img[..., :2] / depth[..., None]
    return (uv, depth) if return_depth else uv


def pixel_rays(points2d, K, world_to_camera):
    """Camera rays through pixels, in the world: (origins (..., 3), directions (..., N, 3)).

    ``points2d`` (..., N, 2) pixels; ``K`` (3, 3) or (..., 3, 3); ``world_to_camera`` (..., 4, 4).
    Origins are the camera centres; directions are unit vectors pointing forward (z > 0 in the
    camera). The closest point of a 3D point X on the ray is ``o + ((X - o) . d) d``.
    """
    xp, (uv, k, w2c) = _namespace(points2d, K, world_to_camera)
    _check_shape(uv, (2,), "points2d")
    _check_shape(k, (3, 3), "K")
    _check_shape(w2c, (4, 4), "world_to_camera")
    c2w = invert_rigid(w2c)
    k_inv = xp.linalg.inv(k)
    d_cam = (k_inv[..., None, :, :] @ _homogeneous(uv, xp)[..., None])[..., 0]
    d = (c2w[..., None, :3, :3] @ d_cam[..., None])[..., 0]
    return c2w[..., :3, 3], d / xp.sqrt((d * d).sum(-1))[..., None]


def relative_to_first(world_to_camera):
    """Cameras (..., T, 4, 4) re-expressed in the first frame's camera frame.

    Returns (..., T, 4, 4) with frame 0 the identity: ``out[t] = w2c[t] @ inv(w2c[0])``, i.e.
    the new world is camera 0's OpenCV frame (x right, y down, z forward), same units.
    """
    _xp, (w2c,) = _namespace(world_to_camera)
    _check_shape(w2c, (4, 4), "world_to_camera")
    if w2c.ndim < 3 or w2c.shape[-3] == 0:
        raise ValueError(
            f"world_to_camera: expected shape (..., T, 4, 4) with T >= 1, got {tuple(w2c.shape)}"
        )
    return w2c @ invert_rigid(w2c[..., :1, :, :])


def _camera_fields(camera, up):
    """(world_to_camera (T, 4, 4) or (4, 4), up or None, path) from a Camera or an array."""
    if hasattr(camera, "world_to_camera"):
        if up is None:
            up = getattr(camera, "up", None)
        return camera.world_to_camera, up, getattr(camera, "path", None)
    return camera, up, None


def up_vector(camera, up=None):
    """The world's up direction (3,) as a unit vector, per formats.md.

    Args:
        camera: an ``anylift.io.cameras.Camera`` (its ``world_to_camera`` and ``up`` are used)
            or a ``world_to_camera`` array (T, 4, 4) / (4, 4).
        up: explicit up (3,), overrides the camera's.

    Returns the normalised explicit ``up`` when there is one; otherwise frame 0's camera -y
    axis expressed in the world (the first frame's camera is taken as upright), which is
    ``-R0[1, :]`` for ``world_to_camera[0] = [R0 | t0]``.

    Raises InputError if the explicit ``up`` is zero or not finite.
    """
    w2c, up, path = _camera_fields(camera, up)
    if up is not None:
        _, (u,) = _namespace(up)
        if tuple(u.shape) != (3,):
            raise InputError(
                "the up vector must have 3 components",
                path=path,
                field="up",
                expected=f"[x, y, z], got shape {tuple(u.shape)}",
            )
        norm = float((u * u).sum()) ** 0.5
        if not math.isfinite(norm) or norm < 1e-9:
            raise InputError(
                "the up vector must be a finite, non-zero direction",
                path=path,
                field="up",
                expected="e.g. [0, 0, 1]",
            )
        return u / norm
    _xp, (w2c,) = _namespace(w2c)
    _check_shape(w2c, (4, 4), "world_to_camera")
    first = w2c.reshape((-1, 4, 4))[0]
    return -first[1, :3]


def rotation_between(a, b):
    """The smallest rotation (3, 3) taking direction ``a`` (3,) to direction ``b`` (3,).

    For opposite directions (a 180 degree turn, whose axis is not unique) the axis is the one
    perpendicular to ``a`` closest to the x axis (or y, if ``a`` is close to x).
    """
    xp, (a, b) = _namespace(a, b)
    a = a / ((a * a).sum() ** 0.5)
    b = b / ((b * b).sum() ** 0.5)
    c = float((a * b).sum())
    eye = xp.eye(3, dtype=a.dtype) if xp is np else torch.eye(3, dtype=a.dtype, device=a.device)
    if c < -1 + 1e-6:
        # Near-opposite directions make the formula below lose digits (it divides by 1 + c),
        # and the smallest rotation's axis is ill-defined: turn a half-turn about an axis
        # perpendicular to a first, then the small rest.
        helper = eye[0] if abs(float(a[0])) < 0.9 else eye[1]
        axis = helper - (helper * a).sum() * a
        axis = axis / ((axis * axis).sum() ** 0.5)
        return rotation_between(-a, b) @ (2 * axis[:, None] * axis[None, :] - eye)
    v = xp.stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])
    zero = v[0] * 0
    vx = xp.stack(
        [xp.stack([zero, -v[2], v[1]]), xp.stack([v[2], zero, -v[0]]), xp.stack([-v[1], v[0], zero])]
    )
    # Rodrigues with sin^2/(1 - cos) = 1 + cos, exact and smooth away from c = -1.
    return eye + vx + (vx @ vx) / (1 + c)


def world_zup_from_camera(camera, up=None):
    """Rotation (3, 3) from a camera file's world to a Z-up world: ``p_zup = R @ p_file``.

    ``camera`` is a Camera or a world_to_camera array, as for :func:`up_vector`; the up
    direction comes from :func:`up_vector`. The rotation is the smallest one taking that up to
    +Z, so it is the identity when the file's world is already Z-up (keeping results in the
    same world as the camera file, formats.md) and changes the heading as little as possible
    otherwise. For a camera-frame world (no file: ``relative_to_first``), up is -y and the
    result maps x -> x, -y -> z, z (forward) -> y.

    Apply it to the cameras with :func:`rotate_world`, and to points as ``points @ R.T``.
    """
    u = up_vector(camera, up)
    xp, (u,) = _namespace(u)
    z = xp.zeros_like(u)
    z[2] = 1.0
    return rotation_between(u, z)


def rotate_world(world_to_camera, rotation):
    """The same cameras (..., 4, 4) in a world rotated by ``rotation`` (3, 3).

    If world points move as ``p' = rotation @ p``, the cameras become
    ``world_to_camera @ [[rotation^T, 0], [0, 1]]`` so every projection is unchanged.
    """
    xp, (w2c, r) = _namespace(world_to_camera, rotation)
    _check_shape(w2c, (4, 4), "world_to_camera")
    _check_shape(r, (3, 3), "rotation")
    out = w2c.clone() if xp is torch else w2c.copy()
    out[..., :3, :3] = w2c[..., :3, :3] @ xp.swapaxes(r, -1, -2)
    return out
