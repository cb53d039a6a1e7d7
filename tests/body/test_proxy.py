"""The bundled proxy body: SMPL-format file, geometry, skinning, shape space, determinism."""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np
import pytest
import scipy.sparse
import smplx
import torch

from anylift.body import proxy
from anylift.body.proxy import JOINT_NAMES, REST_JOINTS, SOLE_Y

J = {name: i for i, name in enumerate(JOINT_NAMES)}
IDS = smplx.vertex_ids.vertex_ids["smplh"]


def _shaped(data, betas):
    return data["v_template"] + data["shapedirs"] @ np.asarray(betas, dtype=np.float64)


def _height(verts):
    return verts[:, 1].max() - verts[:, 1].min()


# --- the file and smplx ---------------------------------------------------------------


def test_smplx_loads_the_proxy_file_and_folder(body_cache):
    path = proxy.proxy_model_path()
    assert str(body_cache) in str(path)
    assert f"v{proxy.PROXY_VERSION}" in str(path)
    by_file = smplx.create(str(path), model_type="smpl", gender="neutral")
    by_folder = smplx.create(str(proxy.proxy_model_dir()), model_type="smpl", gender="neutral")
    for model in (by_file, by_folder):
        out = model()
        assert out.vertices.shape == (1, 6890, 3)
        assert model.J_regressor.shape == (24, 6890)
        np.testing.assert_allclose(out.joints[0, :24].detach().numpy(), REST_JOINTS, atol=1e-3)
        assert model.parents.tolist() == list(proxy.PARENTS)


def test_pickle_fields_match_the_official_layout(proxy_data):
    d = proxy_data
    assert d["v_template"].shape == (6890, 3) and d["v_template"].dtype == np.float64
    assert d["shapedirs"].shape == (6890, 3, 10)
    assert d["posedirs"].shape == (6890, 3, 207) and not d["posedirs"].any()
    assert scipy.sparse.isspmatrix_csc(d["J_regressor"]) and d["J_regressor"].shape == (24, 6890)
    assert d["weights"].shape == (6890, 24)
    assert d["kintree_table"].shape == (2, 24)
    assert d["f"].dtype == np.uint32 and d["f"].shape[1] == 3
    # No chumpy or other foreign classes: the pickle loads with numpy/scipy alone.
    text = pickle.dumps(d, protocol=4)
    assert b"chumpy" not in text


def test_generation_is_deterministic(tmp_path):
    a = proxy.proxy_model_bytes()
    b = proxy.proxy_model_bytes()
    assert a == b
    written = proxy.write_proxy_model(tmp_path / "SMPL_NEUTRAL.pkl")
    assert written.read_bytes() == a
    assert 10e6 < len(a) < 40e6


def test_cache_is_generated_once(body_cache):
    path = proxy.proxy_model_path()
    before = path.stat().st_mtime_ns
    assert proxy.proxy_model_path() == path
    assert path.stat().st_mtime_ns == before
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp files left


# --- rest layout ------------------------------------------------------------------------


def test_rest_joints_layout():
    j = REST_JOINTS
    assert np.linalg.norm(j[J["pelvis"]]) < 0.3  # pelvis near the origin, as in SMPL
    chain = ["left_ankle", "left_knee", "left_hip", "pelvis", "spine1", "spine2", "spine3", "neck", "head"]
    assert np.all(np.diff(j[[J[n] for n in chain], 1]) > 0)  # Y up
    for name in JOINT_NAMES:
        if name.startswith("left"):
            left, right = j[J[name]], j[J["right" + name[4:]]]
            assert left[0] > 0.05  # left side at +x, as in SMPL
            np.testing.assert_allclose(right, left * (-1, 1, 1))
    arm = ["left_shoulder", "left_elbow", "left_wrist", "left_hand"]
    assert np.all(np.diff(j[[J[n] for n in arm], 0]) > 0.05)  # T-pose: arms along +x
    assert abs(j[J["left_wrist"], 1] - j[J["left_shoulder"], 1]) < 0.03
    assert j[J["left_foot"], 2] > j[J["left_ankle"], 2] + 0.08  # feet point forward (+z)


def test_template_size_and_regressor(proxy_data):
    v = proxy_data["v_template"]
    assert 1.68 < _height(v) < 1.76
    assert v[:, 1].min() == pytest.approx(SOLE_Y, abs=2e-3)
    reg = proxy_data["J_regressor"]
    assert reg.min() >= 0
    np.testing.assert_allclose(np.asarray(reg.sum(axis=1)).ravel(), 1.0, atol=1e-9)
    np.testing.assert_allclose(reg @ v, REST_JOINTS, atol=1e-3)
    # Sparse like SMPL's: each joint from a few rings of vertices, not the whole body.
    assert (reg.getnnz(axis=1) <= 200).all()


# --- mesh -------------------------------------------------------------------------------


def test_mesh_is_closed_and_outward(proxy_data):
    v, f = proxy_data["v_template"], proxy_data["f"].astype(np.int64)
    directed = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    undirected = Counter(map(tuple, np.sort(directed, axis=1).tolist()))
    assert set(undirected.values()) == {2}  # closed: every edge in exactly two triangles
    # Consistent orientation: each edge is walked once in each direction.
    assert len(set(map(tuple, directed.tolist()))) == len(directed)
    assert np.unique(f).size == 6890  # no unused vertex
    tri = v[f]
    volume = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6
    assert 0.05 < volume < 0.11  # m^3: positive (outward normals), a person's volume
    # Outward also part by part: the normal at the torso's front faces +z.
    centroids = tri.mean(axis=1)
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    front = (np.abs(centroids[:, 0]) < 0.03) & (np.abs(centroids[:, 1]) < 0.05) & (centroids[:, 2] > 0.08)
    assert front.sum() > 3 and (normals[front, 2] > 0).all()


# --- special vertices -------------------------------------------------------------------


def test_face_vertices(proxy_data):
    v = proxy_data["v_template"]
    head, neck = REST_JOINTS[J["head"]], REST_JOINTS[J["neck"]]
    nose, leye, reye, lear, rear = (v[IDS[k]] for k in ("nose", "leye", "reye", "lear", "rear"))
    assert nose[2] > head[2] + 0.09  # in front of the head
    assert head[1] < nose[1] < head[1] + 0.1 and abs(nose[0]) < 1e-6
    assert leye[0] > 0.02 and reye[0] < -0.02 and leye[1] > nose[1] and leye[2] > head[2] + 0.06
    assert lear[0] > 0.08 and rear[0] < -0.08 and abs(lear[2] - head[2]) < 0.04
    assert min(p[1] for p in (nose, leye, reye, lear, rear)) > neck[1] + 0.05


def test_foot_and_hand_vertices(proxy_data):
    v = proxy_data["v_template"]
    for s, side in (("L", "left"), ("R", "right")):
        big, small, heel = v[IDS[s + "BigToe"]], v[IDS[s + "SmallToe"]], v[IDS[s + "Heel"]]
        ankle = REST_JOINTS[J[side + "_ankle"]]
        sign = 1 if s == "L" else -1
        assert sign * big[0] > 0 and sign * heel[0] > 0
        assert big[2] > heel[2] + 0.2 and small[2] > heel[2] + 0.15  # toes ahead of the heel
        assert heel[2] < ankle[2] - 0.05
        assert abs(big[0]) < abs(small[0])  # big toe on the inside
        assert max(big[1], small[1], heel[1]) < ankle[1] - 0.03
    for s, side in (("l", "left"), ("r", "right")):
        sign = 1 if s == "l" else -1
        hand = REST_JOINTS[J[side + "_hand"]]
        tips = {k: v[IDS[s + k]] for k in ("thumb", "index", "middle", "ring", "pinky")}
        for name, p in tips.items():
            assert sign * (p[0] - REST_JOINTS[J[side + "_wrist"]][0]) > 0.06, name
        for name in ("index", "middle", "ring", "pinky"):
            assert sign * (tips[name][0] - hand[0]) > 0.05, name
        # Palms down in the T-pose: thumb forward (+z), then index ... pinky backwards.
        zs = [tips[k][2] for k in ("thumb", "index", "middle", "ring", "pinky")]
        assert np.all(np.diff(zs) < 0)


# --- skinning ---------------------------------------------------------------------------


def test_skinning_weights(proxy_data):
    w = proxy_data["weights"]
    assert w.min() >= 0
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    assert ((w > 0).sum(axis=1) <= 3).all()
    v = proxy_data["v_template"]
    # Rigid in the middle of a bone, blended across the joint.
    knee, hip = J["left_knee"], J["left_hip"]
    mid_thigh = (v[:, 0] > 0.04) & (np.abs(v[:, 1] + 0.51) < 0.02)
    assert np.allclose(w[mid_thigh, hip], 1.0)
    at_knee = (v[:, 0] > 0.04) & (np.abs(v[:, 1] - REST_JOINTS[knee, 1]) < 0.005)
    assert np.allclose(w[at_knee, knee], 0.5, atol=0.2)
    # Every joint except the leaf hands and feet drives some vertex at full weight.
    assert (w.max(axis=0) > 0.99).sum() >= 22


# --- shape space ------------------------------------------------------------------------


def test_betas_change_height_monotonically(proxy_data):
    for k in (0, 2, 3):  # height, leg length, torso length
        heights = [_height(_shaped(proxy_data, np.eye(10)[k] * b)) for b in np.linspace(-3, 3, 7)]
        assert np.all(np.diff(heights) > 0.005), k
    per_unit = _height(_shaped(proxy_data, np.eye(10)[0])) - _height(proxy_data["v_template"])
    assert 0.04 < per_unit < 0.08  # unit scale like SMPL's first beta


def test_shape_directions_are_plausible(proxy_data):
    dirs = proxy_data["shapedirs"].reshape(-1, 10)
    norms = np.linalg.norm(dirs, axis=0)
    rms = norms / np.sqrt(6890)
    assert (rms > 0.001).all() and (rms < 0.05).all()  # metres per unit beta
    cos = (dirs.T @ dirs) / np.outer(norms, norms)
    assert np.abs(cos - np.eye(10)).max() < 0.7  # distinct directions
    # Left-right symmetric: mirrored vertices move mirrored.
    v = proxy_data["v_template"]
    lw, rw = IDS["lindex"], IDS["rindex"]
    np.testing.assert_allclose(v[rw], v[lw] * (-1, 1, 1), atol=1e-9)
    d = proxy_data["shapedirs"]
    np.testing.assert_allclose(d[rw], d[lw] * np.array([-1, 1, 1])[:, None], atol=1e-9)


def test_regressor_follows_shape(proxy_data):
    reg = proxy_data["J_regressor"]
    j0 = reg @ proxy_data["v_template"]
    # Arm length: the wrist moves out by 6 % of the shoulder-wrist distance per unit.
    arm = REST_JOINTS[J["left_wrist"], 0] - REST_JOINTS[J["left_shoulder"], 0]
    j = reg @ _shaped(proxy_data, 2 * np.eye(10)[4])
    assert j[J["left_wrist"], 0] - j0[J["left_wrist"], 0] == pytest.approx(2 * 0.06 * arm, abs=2e-3)
    assert j[J["right_wrist"], 0] - j0[J["right_wrist"], 0] == pytest.approx(-2 * 0.06 * arm, abs=2e-3)
    assert np.abs(j[J["pelvis"]] - j0[J["pelvis"]]).max() < 1e-3
    # Height: every joint scales about the pelvis by 3.5 % per unit.
    j = reg @ _shaped(proxy_data, -2 * np.eye(10)[0])
    expected = j0[J["pelvis"]] + (1 - 0.07) * (j0 - j0[J["pelvis"]])
    np.testing.assert_allclose(j, expected, atol=2e-3)
    # Girth (torso, limbs) makes the body thicker but leaves the joints (nearly) in place.
    v = proxy_data["v_template"]
    belly = (np.abs(v[:, 0]) < 0.03) & (np.abs(v[:, 1] + 0.05) < 0.02)  # front and back of the waist
    thigh = (v[:, 0] > 0.0) & (np.abs(v[:, 1] + 0.5) < 0.02)  # a ring round the left thigh
    for k, sel, axis in ((1, belly, 2), (9, thigh, 0)):
        shaped = _shaped(proxy_data, 3 * np.eye(10)[k])
        assert np.abs(reg @ shaped - j0).max() < 0.01, k
        assert np.ptp(shaped[sel, axis]) > np.ptp(v[sel, axis]) * 1.15, k


def test_proxy_through_smplx_bends_without_tearing(proxy_data):
    model = smplx.create(str(proxy.proxy_model_path()), model_type="smpl", gender="neutral")
    pose = torch.zeros(1, 69)
    pose[0, (J["left_knee"] - 1) * 3] = np.pi / 2
    pose[0, (J["left_elbow"] - 1) * 3 + 1] = -np.pi / 2
    posed = model(body_pose=pose).vertices[0].detach().numpy().astype(np.float64)
    rest = proxy_data["v_template"]
    f = proxy_data["f"].astype(np.int64)
    edges = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    length = lambda v: np.linalg.norm(v[edges[:, 0]] - v[edges[:, 1]], axis=1)  # noqa: E731
    ratio = length(posed) / length(rest)
    assert ratio.max() < 3.0 and ratio.min() > 0.1  # blended joints: no spikes, no tearing
