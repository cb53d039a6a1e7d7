"""Rotation conversions: axis-angle, rotation matrix, quaternion (w, x, y, z) and 6D.

Every function is batched over any leading dimensions and takes either a numpy array
(returns numpy, float64; float32 in gives float32 out) or a torch tensor (returns a torch
tensor of the same dtype and device, differentiable).

Conventions:

- axis-angle ``(..., 3)``: rotation axis times angle in radians (a rotation vector, as in
  SMPL's ``global_orient`` / ``body_pose``). ``matrix_to_axis_angle`` returns angles in
  [0, pi]; at exactly pi both ``+pi*n`` and ``-pi*n`` are the same rotation and either may come out.
- matrix ``(..., 3, 3)``: ``R @ p`` rotates column vectors ``p``.
- quaternion ``(..., 4)``: scalar first, ``(w, x, y, z)``. Inputs need not be unit (they are
  normalised); outputs are unit with ``w >= 0``.
- 6D ``(..., 6)`` (Zhou et al., "On the continuity of rotation representations", CVPR 2019):
  the first two COLUMNS of R, concatenated: ``(R[0,0], R[1,0], R[2,0], R[0,1], R[1,1], R[2,1])``.
  ``rot6d_to_matrix`` orthonormalises by Gram-Schmidt, so any 6-vector whose two halves are
  not parallel maps to a rotation.

The numpy path is ``scipy.spatial.transform.Rotation`` (axis-angle, quaternion) or plain
numpy (6D). The torch path is written here: ``smplx.lbs.batch_rodrigues`` only takes (N, 3)
and adds 1e-8 to the rotation vector before taking its norm, which biases every result by
about 1e-8 and makes float64 gradients at the identity inexact; the functions below use
Taylor expansions near angle 0 instead, so values and gradients are exact to rounding at 0
and near pi (tests check them against scipy and with ``torch.autograd.gradcheck``).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial.transform import Rotation

__all__ = [
    "axis_angle_to_matrix",
    "axis_angle_to_quaternion",
    "matrix_to_axis_angle",
    "matrix_to_quaternion",
    "matrix_to_rot6d",
    "quaternion_to_axis_angle",
    "quaternion_to_matrix",
    "rot6d_to_matrix",
]

# Below this squared angle the closed forms lose digits (0/0), so a Taylor series takes over;
# with the terms kept, the series error is under float64 rounding at this bound.
_SMALL_ANGLE_SQ = 1e-4


def _np_float(x) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype != np.float32:
        x = x.astype(np.float64, copy=False)
    return x


def _check_last(x, sizes: tuple[int, ...], name: str) -> None:
    if tuple(x.shape[len(x.shape) - len(sizes) :]) != sizes or len(x.shape) < len(sizes):
        raise ValueError(f"{name}: expected shape (..., {', '.join(map(str, sizes))}), got {tuple(x.shape)}")


def _scipy_batched(x: np.ndarray, trailing: int, convert):
    """Run a scipy Rotation conversion on (..., *trailing) input, keeping the leading dims."""
    lead = x.shape[: x.ndim - trailing]
    flat = x.reshape((-1, *x.shape[x.ndim - trailing :]))
    out = np.asarray(convert(flat.astype(np.float64)))
    return out.reshape(lead + out.shape[1:]).astype(x.dtype, copy=False)


# ----------------------------------------------------------------------------- torch kernels


def _skew(v: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 3, 3) cross-product matrix: skew(v) @ p == v x p."""
    x, y, z = v.unbind(-1)
    o = torch.zeros_like(x)
    return torch.stack([o, -z, y, z, o, -x, -y, x, o], dim=-1).reshape((*v.shape[:-1], 3, 3))


def _torch_axis_angle_to_matrix(v: torch.Tensor) -> torch.Tensor:
    theta_sq = (v * v).sum(-1)
    small = theta_sq < _SMALL_ANGLE_SQ
    # Keep sqrt away from 0 in the unused branch so its gradient stays finite (where() would
    # otherwise multiply an inf by 0).
    theta = torch.sqrt(torch.where(small, torch.ones_like(theta_sq), theta_sq))
    half = 0.5 * theta
    # sin(t)/t and (1 - cos t)/t^2 = 2 sin^2(t/2)/t^2; the latter form keeps float32 accurate.
    a = torch.where(small, 1 - theta_sq / 6 + theta_sq**2 / 120, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta_sq / 24 + theta_sq**2 / 720, 2 * (torch.sin(half) / theta) ** 2)
    k = _skew(v)
    eye = torch.eye(3, dtype=v.dtype, device=v.device)
    return eye + a[..., None, None] * k + b[..., None, None] * (k @ k)


def _torch_quaternion_to_matrix(q: torch.Tensor) -> torch.Tensor:
    w, x, y, z = q.unbind(-1)
    s = 2.0 / (q * q).sum(-1)
    m = [
        1 - s * (y * y + z * z),
        s * (x * y - z * w),
        s * (x * z + y * w),
        s * (x * y + z * w),
        1 - s * (x * x + z * z),
        s * (y * z - x * w),
        s * (x * z - y * w),
        s * (y * z + x * w),
        1 - s * (x * x + y * y),
    ]
    return torch.stack(m, dim=-1).reshape((*q.shape[:-1], 3, 3))


def _torch_matrix_to_quaternion(r: torch.Tensor) -> torch.Tensor:
    m00, m01, m02, m10, m11, m12, m20, m21, m22 = r.reshape((*r.shape[:-2], 9)).unbind(-1)
    # 4*q_i^2 for each component; computing q from the largest one is well conditioned
    # everywhere (Shepperd's method), including rotations by pi where w -> 0.
    four_sq = torch.stack(
        [1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], dim=-1
    )
    # Candidate i is (4 q_i q) / (4 |q_i|). The unselected candidates still enter the graph,
    # so their denominators are floored to keep their (zero-weighted) gradients finite.
    candidates = torch.stack(
        [
            torch.stack([four_sq[..., 0], m21 - m12, m02 - m20, m10 - m01], dim=-1),
            torch.stack([m21 - m12, four_sq[..., 1], m10 + m01, m02 + m20], dim=-1),
            torch.stack([m02 - m20, m10 + m01, four_sq[..., 2], m12 + m21], dim=-1),
            torch.stack([m10 - m01, m20 + m02, m21 + m12, four_sq[..., 3]], dim=-1),
        ],
        dim=-2,
    )
    denom = 2 * torch.sqrt(torch.clamp(four_sq, min=0.01))
    candidates = candidates / denom[..., None]
    best = four_sq.argmax(dim=-1)
    q = torch.gather(candidates, -2, best[..., None, None].expand((*best.shape, 1, 4))).squeeze(-2)
    q = q / torch.linalg.vector_norm(q, dim=-1, keepdim=True)
    return torch.where(q[..., :1] < 0, -q, q)


def _torch_quaternion_to_axis_angle(q: torch.Tensor) -> torch.Tensor:
    q = q / torch.linalg.vector_norm(q, dim=-1, keepdim=True)
    q = torch.where(q[..., :1] < 0, -q, q)
    w, v = q[..., 0], q[..., 1:]
    n_sq = (v * v).sum(-1)
    small = n_sq < _SMALL_ANGLE_SQ
    n = torch.sqrt(torch.where(small, torch.ones_like(n_sq), n_sq))
    # angle / |v| = 2 atan2(|v|, w) / |v|; near the identity w ~ 1 and the series of atan applies.
    w_safe = torch.where(small, w, torch.ones_like(w))
    t = n_sq / w_safe**2
    series = 2 / w_safe * (1 - t / 3 + t**2 / 5 - t**3 / 7)
    scale = torch.where(small, series, 2 * torch.atan2(n, w) / n)
    return v * scale[..., None]


def _torch_axis_angle_to_quaternion(v: torch.Tensor) -> torch.Tensor:
    theta_sq = (v * v).sum(-1)
    small = theta_sq < _SMALL_ANGLE_SQ
    theta = torch.sqrt(torch.where(small, torch.ones_like(theta_sq), theta_sq))
    # sin(t/2)/t and cos(t/2), with their series near 0.
    s = torch.where(small, 0.5 - theta_sq / 48 + theta_sq**2 / 3840, torch.sin(0.5 * theta) / theta)
    c = torch.where(small, 1 - theta_sq / 8 + theta_sq**2 / 384, torch.cos(0.5 * theta))
    q = torch.cat([c[..., None], v * s[..., None]], dim=-1)
    return torch.where(q[..., :1] < 0, -q, q)


def _gram_schmidt(a1, a2, xp):
    """Columns b1, b2, b3 of the rotation from two 3-vectors (numpy or torch)."""
    if xp is torch:
        b1 = a1 / torch.linalg.vector_norm(a1, dim=-1, keepdim=True)
        a2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
        b2 = a2 / torch.linalg.vector_norm(a2, dim=-1, keepdim=True)
        b3 = torch.linalg.cross(b1, b2, dim=-1)
        return torch.stack([b1, b2, b3], dim=-1)
    b1 = a1 / np.linalg.norm(a1, axis=-1, keepdims=True)
    a2 = a2 - (b1 * a2).sum(-1, keepdims=True) * b1
    b2 = a2 / np.linalg.norm(a2, axis=-1, keepdims=True)
    b3 = np.cross(b1, b2)
    return np.stack([b1, b2, b3], axis=-1)


# ----------------------------------------------------------------------------- public API


def axis_angle_to_matrix(axis_angle):
    """Axis-angle (..., 3) radians -> rotation matrix (..., 3, 3)."""
    _check_last(axis_angle, (3,), "axis_angle")
    if isinstance(axis_angle, torch.Tensor):
        return _torch_axis_angle_to_matrix(axis_angle)
    return _scipy_batched(_np_float(axis_angle), 1, lambda v: Rotation.from_rotvec(v).as_matrix())


def matrix_to_axis_angle(matrix):
    """Rotation matrix (..., 3, 3) -> axis-angle (..., 3), angle in [0, pi] radians."""
    _check_last(matrix, (3, 3), "matrix")
    if isinstance(matrix, torch.Tensor):
        return _torch_quaternion_to_axis_angle(_torch_matrix_to_quaternion(matrix))
    return _scipy_batched(_np_float(matrix), 2, lambda m: Rotation.from_matrix(m).as_rotvec())


def quaternion_to_matrix(quaternion):
    """Quaternion (..., 4) as (w, x, y, z), any non-zero norm -> rotation matrix (..., 3, 3)."""
    _check_last(quaternion, (4,), "quaternion")
    if isinstance(quaternion, torch.Tensor):
        return _torch_quaternion_to_matrix(quaternion)
    return _scipy_batched(
        _np_float(quaternion), 1, lambda q: Rotation.from_quat(q, scalar_first=True).as_matrix()
    )


def matrix_to_quaternion(matrix):
    """Rotation matrix (..., 3, 3) -> unit quaternion (..., 4) as (w, x, y, z) with w >= 0."""
    _check_last(matrix, (3, 3), "matrix")
    if isinstance(matrix, torch.Tensor):
        return _torch_matrix_to_quaternion(matrix)
    return _scipy_batched(
        _np_float(matrix),
        2,
        lambda m: Rotation.from_matrix(m).as_quat(canonical=True, scalar_first=True),
    )


def axis_angle_to_quaternion(axis_angle):
    """Axis-angle (..., 3) radians -> unit quaternion (..., 4) as (w, x, y, z) with w >= 0."""
    _check_last(axis_angle, (3,), "axis_angle")
    if isinstance(axis_angle, torch.Tensor):
        return _torch_axis_angle_to_quaternion(axis_angle)
    return _scipy_batched(
        _np_float(axis_angle),
        1,
        lambda v: Rotation.from_rotvec(v).as_quat(canonical=True, scalar_first=True),
    )


def quaternion_to_axis_angle(quaternion):
    """Quaternion (..., 4) as (w, x, y, z) -> axis-angle (..., 3), angle in [0, pi] radians."""
    _check_last(quaternion, (4,), "quaternion")
    if isinstance(quaternion, torch.Tensor):
        return _torch_quaternion_to_axis_angle(quaternion)
    return _scipy_batched(
        _np_float(quaternion), 1, lambda q: Rotation.from_quat(q, scalar_first=True).as_rotvec()
    )


def rot6d_to_matrix(rot6d):
    """6D (..., 6) (first two columns of R, Zhou et al.) -> rotation matrix (..., 3, 3).

    The two 3-vectors are orthonormalised by Gram-Schmidt; the third column is their cross
    product, so the result is always a proper rotation.
    """
    _check_last(rot6d, (6,), "rot6d")
    if isinstance(rot6d, torch.Tensor):
        return _gram_schmidt(rot6d[..., 0:3], rot6d[..., 3:6], torch)
    x = _np_float(rot6d)
    return _gram_schmidt(x[..., 0:3], x[..., 3:6], np).astype(x.dtype, copy=False)


def matrix_to_rot6d(matrix):
    """Rotation matrix (..., 3, 3) -> 6D (..., 6): column 0 then column 1 of R."""
    _check_last(matrix, (3, 3), "matrix")
    if isinstance(matrix, torch.Tensor):
        return torch.cat([matrix[..., :, 0], matrix[..., :, 1]], dim=-1)
    m = _np_float(matrix)
    return np.concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)
