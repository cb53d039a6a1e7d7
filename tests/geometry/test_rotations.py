"""Rotation conversions against scipy.spatial.transform.Rotation, incl. angles near 0 and pi."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation
from smplx.lbs import batch_rodrigues

from anylift.geometry import rotations as rot


def _axes(rng, n):
    a = rng.normal(size=(n, 3))
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


@pytest.fixture
def rotvecs(rng) -> np.ndarray:
    """Random rotations plus angles 0, 1e-9 .. 1e-2 and pi - 1e-9 .. pi (as rotation vectors)."""
    random = Rotation.random(300, random_state=7).as_rotvec()
    special = np.array(
        [
            0.0,
            1e-12,
            1e-9,
            1e-6,
            1e-4,
            1e-3,
            1e-2,
            0.1,
            np.pi - 1e-2,
            np.pi - 1e-4,
            np.pi - 1e-6,
            np.pi - 1e-9,
            np.pi,
        ]
    )
    return np.concatenate([random, _axes(rng, len(special)) * special[:, None]])


def test_axis_angle_to_matrix_matches_scipy(rotvecs):
    expected = Rotation.from_rotvec(rotvecs).as_matrix()
    np.testing.assert_allclose(rot.axis_angle_to_matrix(rotvecs), expected, atol=1e-15, rtol=0)
    got = rot.axis_angle_to_matrix(torch.from_numpy(rotvecs))
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), expected, atol=2e-15, rtol=0)


def test_matrix_to_axis_angle_matches_scipy(rotvecs):
    matrices = Rotation.from_rotvec(rotvecs).as_matrix()
    angle = np.linalg.norm(rotvecs, axis=-1)
    for got in (
        rot.matrix_to_axis_angle(matrices),
        rot.matrix_to_axis_angle(torch.from_numpy(matrices)).numpy(),
    ):
        far_from_pi = angle < np.pi - 1e-3
        np.testing.assert_allclose(got[far_from_pi], rotvecs[far_from_pi], atol=1e-12, rtol=0)
        # Near pi, +pi n and -pi n are the same rotation: compare the angle and the matrix.
        np.testing.assert_allclose(np.linalg.norm(got, axis=-1), angle, atol=1e-12)
        np.testing.assert_allclose(Rotation.from_rotvec(got).as_matrix(), matrices, atol=1e-12)


def test_quaternions_match_scipy(rotvecs):
    r = Rotation.from_rotvec(rotvecs)
    q = r.as_quat(canonical=True, scalar_first=True)
    matrices = r.as_matrix()
    for to_q in (
        rot.matrix_to_quaternion(matrices),
        rot.matrix_to_quaternion(torch.from_numpy(matrices)).numpy(),
    ):
        assert np.all(to_q[:, 0] >= 0)
        # At w == 0 (angle pi exactly) the sign is free.
        sign = np.where(np.sum(to_q * q, axis=-1) < 0, -1.0, 1.0)
        np.testing.assert_allclose(to_q * sign[:, None], q, atol=1e-12)
    np.testing.assert_allclose(rot.quaternion_to_matrix(q), matrices, atol=1e-15)
    # Non-unit quaternions are normalised first.
    np.testing.assert_allclose(
        rot.quaternion_to_matrix(torch.from_numpy(3.5 * q)).numpy(), matrices, atol=2e-15
    )
    for aa_to_q in (
        rot.axis_angle_to_quaternion(rotvecs),
        rot.axis_angle_to_quaternion(torch.from_numpy(rotvecs)).numpy(),
    ):
        sign = np.where(np.sum(aa_to_q * q, axis=-1) < 0, -1.0, 1.0)
        np.testing.assert_allclose(aa_to_q * sign[:, None], q, atol=1e-15)
    angle = np.linalg.norm(rotvecs, axis=-1)
    for q_to_aa in (
        rot.quaternion_to_axis_angle(q),
        rot.quaternion_to_axis_angle(torch.from_numpy(q)).numpy(),
    ):
        np.testing.assert_allclose(np.linalg.norm(q_to_aa, axis=-1), angle, atol=1e-12)
        np.testing.assert_allclose(Rotation.from_rotvec(q_to_aa).as_matrix(), matrices, atol=1e-12)


def test_rot6d_is_first_two_columns_and_gram_schmidt(rng):
    matrices = Rotation.random(50, random_state=3).as_matrix()
    six = rot.matrix_to_rot6d(matrices)
    np.testing.assert_array_equal(six[:, :3], matrices[:, :, 0])
    np.testing.assert_array_equal(six[:, 3:], matrices[:, :, 1])
    np.testing.assert_allclose(rot.rot6d_to_matrix(six), matrices, atol=1e-15)
    np.testing.assert_allclose(rot.rot6d_to_matrix(torch.from_numpy(six)).numpy(), matrices, atol=1e-15)
    # Any non-degenerate 6-vector maps to a proper rotation whose first column is a1 / |a1|.
    raw = rng.normal(size=(50, 6))
    for m in (rot.rot6d_to_matrix(raw), rot.rot6d_to_matrix(torch.from_numpy(raw)).numpy()):
        np.testing.assert_allclose(
            m @ np.swapaxes(m, -1, -2), np.broadcast_to(np.eye(3), m.shape), atol=1e-14
        )
        np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=1e-14)
        np.testing.assert_allclose(
            m[:, :, 0], raw[:, :3] / np.linalg.norm(raw[:, :3], axis=-1, keepdims=True)
        )
        # The second column lies in the plane of a1 and a2, on a2's side.
        assert np.all(np.sum(m[:, :, 1] * raw[:, 3:], axis=-1) > 0)


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_leading_dims_are_kept(lib, rng):
    v = Rotation.random(24, random_state=5).as_rotvec().reshape(2, 3, 4, 3)
    x = torch.from_numpy(v) if lib == "torch" else v
    m = rot.axis_angle_to_matrix(x)
    assert tuple(m.shape) == (2, 3, 4, 3, 3)
    assert tuple(rot.matrix_to_axis_angle(m).shape) == (2, 3, 4, 3)
    assert tuple(rot.matrix_to_quaternion(m).shape) == (2, 3, 4, 4)
    assert tuple(rot.matrix_to_rot6d(m).shape) == (2, 3, 4, 6)
    flat = rot.axis_angle_to_matrix(v.reshape(-1, 3)).reshape(2, 3, 4, 3, 3)
    np.testing.assert_allclose(np.asarray(m), flat, atol=2e-15)
    assert rot.axis_angle_to_matrix(np.zeros((0, 3))).shape == (0, 3, 3)
    assert rot.axis_angle_to_matrix(np.zeros(3)).shape == (3, 3)


def test_float32_torch_close_to_scipy(rotvecs):
    expected = Rotation.from_rotvec(rotvecs).as_matrix()
    got = rot.axis_angle_to_matrix(torch.from_numpy(rotvecs).float())
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-6)
    back = rot.matrix_to_axis_angle(torch.from_numpy(expected).float()).double().numpy()
    np.testing.assert_allclose(Rotation.from_rotvec(back).as_matrix(), expected, atol=1e-5)


def test_numpy_float32_stays_float32():
    assert rot.axis_angle_to_matrix(np.zeros((2, 3), np.float32)).dtype == np.float32
    assert rot.matrix_to_rot6d(np.eye(3, dtype=np.float32)).dtype == np.float32


def test_agrees_with_smplx_batch_rodrigues(rotvecs):
    ours = rot.axis_angle_to_matrix(torch.from_numpy(rotvecs))
    np.testing.assert_allclose(ours.numpy(), batch_rodrigues(torch.from_numpy(rotvecs)).numpy(), atol=1e-7)


def test_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"axis_angle: expected shape \(\.\.\., 3\)"):
        rot.axis_angle_to_matrix(np.zeros((4, 4)))


_GRAD_POINTS = {
    "zero": np.zeros(3),
    "tiny": np.array([1e-9, -2e-9, 5e-10]),
    "small": np.array([3e-3, -1e-3, 2e-3]),
    "generic": np.array([0.4, -1.1, 0.7]),
    "near_pi": (np.pi - 1e-3) * np.array([0.6, 0.0, 0.8]),
}


@pytest.mark.parametrize("name", list(_GRAD_POINTS))
def test_gradients_are_finite_and_correct(name):
    v = torch.tensor(_GRAD_POINTS[name], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(rot.axis_angle_to_matrix, (v,))
    assert torch.autograd.gradcheck(rot.axis_angle_to_quaternion, (v,))
    m = rot.axis_angle_to_matrix(v.detach()).requires_grad_(True)
    q = rot.matrix_to_quaternion(m.detach()).requires_grad_(True)
    assert torch.autograd.gradcheck(rot.quaternion_to_matrix, (q,))
    assert torch.autograd.gradcheck(rot.matrix_to_rot6d, (m,))
    six = rot.matrix_to_rot6d(m.detach()).requires_grad_(True)
    assert torch.autograd.gradcheck(rot.rot6d_to_matrix, (six,))
    # Axis-angle itself jumps between +pi n and -pi n at pi exactly; pi - 1e-3 is smooth.
    assert torch.autograd.gradcheck(rot.matrix_to_quaternion, (m,))
    assert torch.autograd.gradcheck(rot.matrix_to_axis_angle, (m,))
    assert torch.autograd.gradcheck(rot.quaternion_to_axis_angle, (q,))
    loss = rot.matrix_to_axis_angle(rot.axis_angle_to_matrix(v)).sum()
    loss.backward()
    assert torch.isfinite(v.grad).all()
    # The round trip is the identity map, so its Jacobian summed over outputs is all ones.
    np.testing.assert_allclose(v.grad.numpy(), np.ones(3), atol=1e-6)
