"""BodyModel: loading (proxy, official chumpy pickles, .npz), posing, keypoints, errors."""

from __future__ import annotations

import copyreg
import pickle
import sys
import types

import numpy as np
import pytest
import scipy.sparse
import smplx
import torch

from anylift.body import YUP_TO_ZUP, load_body_model
from anylift.body.model import ZUP_REST_GLOBAL_ORIENT, read_smpl_model
from anylift.body.proxy import JOINT_NAMES, REST_JOINTS
from anylift.errors import InputError

J = {name: i for i, name in enumerate(JOINT_NAMES)}
IDS = smplx.vertex_ids.vertex_ids["smplh"]


def _rotvec_matrix(rotvec) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(rotvec).as_matrix()


# --- loading ----------------------------------------------------------------------------


def test_default_is_the_proxy(body):
    assert body.kind == "smpl-proxy"
    assert body.faces.dtype == np.int64 and body.faces.shape[1] == 3
    assert body.parents.tolist()[:4] == [-1, 0, 0, 0] and body.parents.shape == (24,)
    np.testing.assert_allclose(body.rest_joints(), REST_JOINTS, atol=1e-3)


def test_path_resolution_argument_env_proxy(tmp_path, monkeypatch, proxy_data):
    official = tmp_path / "official.pkl"
    data = {k: v for k, v in proxy_data.items() if k != "anylift_proxy_version"}
    data["v_template"] = data["v_template"] + (0.0, 1.0, 0.0)  # tell the files apart
    official.write_bytes(pickle.dumps(data, protocol=2))
    monkeypatch.setenv("ANYLIFT_SMPL_MODEL", str(official))
    from_env = load_body_model()
    assert from_env.kind == "smpl" and from_env.path == official
    assert from_env.rest_joints()[0, 1] == pytest.approx(REST_JOINTS[0, 1] + 1.0, abs=1e-3)
    missing = tmp_path / "nope.pkl"
    with pytest.raises(InputError, match=r"nope\.pkl"):
        load_body_model(missing)  # the argument wins over the environment
    monkeypatch.setenv("ANYLIFT_SMPL_MODEL", str(missing))
    with pytest.raises(InputError, match="ANYLIFT_SMPL_MODEL"):
        load_body_model()
    monkeypatch.setenv("ANYLIFT_SMPL_MODEL", "")
    assert load_body_model().kind == "smpl-proxy"


@pytest.fixture
def chumpy_pickle(tmp_path, proxy_data):
    """An SMPL file written the way the official ones are: chumpy.ch.Ch objects, protocol 2."""

    class Ch:  # pickles as chumpy.ch.Ch with chumpy's __getstate__ layout
        def __init__(self, x):
            self.x = np.asarray(x, dtype=np.float64)
            self._dirty_vars = set()
            self._itr = None
            self._depends_on_deps = {}
            self._make_dense = False
            self._make_sparse = False

        def __reduce_ex__(self, protocol):
            return (copyreg._reconstructor, (type(self), object, None), dict(self.__dict__))

    Ch.__module__, Ch.__qualname__, Ch.__name__ = "chumpy.ch", "Ch", "Ch"
    package, module = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")
    module.Ch = Ch
    package.ch = module
    data = {
        "v_template": Ch(proxy_data["v_template"]),
        "shapedirs": Ch(proxy_data["shapedirs"]),
        "posedirs": Ch(proxy_data["posedirs"].astype(np.float64)),
        "weights": Ch(proxy_data["weights"]),
        "J": Ch(proxy_data["J"]),
        "J_regressor": scipy.sparse.csc_matrix(proxy_data["J_regressor"]),
        "f": proxy_data["f"],
        "bs_type": "lrotmin",
        "bs_style": "lbs",
    }
    kintree = proxy_data["kintree_table"].astype(np.int64)
    kintree[0, 0] = 4294967295
    data["kintree_table"] = kintree.astype(np.uint32)
    path = tmp_path / "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl"
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "chumpy", package)
        mp.setitem(sys.modules, "chumpy.ch", module)
        path.write_bytes(pickle.dumps(data, protocol=2))
    assert "chumpy" not in sys.modules
    return path


def test_official_chumpy_pickle_loads_without_chumpy(chumpy_pickle, body):
    raw = chumpy_pickle.read_bytes()
    assert b"chumpy.ch" in raw and b"copy_reg" in raw  # really the official layout
    with pytest.raises(ModuleNotFoundError):
        pickle.loads(raw)  # a plain unpickler needs chumpy
    official = load_body_model(chumpy_pickle)
    assert official.kind == "smpl"
    assert official.parents[0] == -1
    pose = torch.randn(3, 69, generator=torch.Generator().manual_seed(0)) * 0.3
    betas = torch.randn(3, 10, generator=torch.Generator().manual_seed(1))
    a, b = official(betas=betas, body_pose=pose), body(betas=betas, body_pose=pose)
    torch.testing.assert_close(a.vertices, b.vertices)
    # A folder holding it is found too.
    assert load_body_model(chumpy_pickle.parent).path == chumpy_pickle


def test_npz_model_loads(tmp_path, proxy_data, body):
    path = tmp_path / "SMPL_NEUTRAL.npz"
    arrays = {k: v for k, v in proxy_data.items() if isinstance(v, np.ndarray)}
    arrays["J_regressor"] = proxy_data["J_regressor"].toarray()
    np.savez(path, **arrays)
    model = load_body_model(path)
    assert model.kind == "smpl"
    np.testing.assert_allclose(model.rest_joints(), body.rest_joints(), atol=1e-6)


# --- errors -----------------------------------------------------------------------------


def test_missing_and_wrong_files(tmp_path, proxy_data):
    with pytest.raises(InputError, match=r"not found.*smpl\.is\.tue\.mpg\.de") as exc:
        load_body_model(tmp_path / "SMPL_NEUTRAL.pkl")
    assert exc.value.path.endswith("SMPL_NEUTRAL.pkl")
    with pytest.raises(InputError, match="no SMPL neutral model file in this folder"):
        load_body_model(tmp_path)
    text = tmp_path / "notes.pkl"
    text.write_text("hello")
    with pytest.raises(InputError, match="cannot be read as an SMPL model pickle"):
        load_body_model(text)
    listing = tmp_path / "list.pkl"
    listing.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(InputError, match="not an SMPL model"):
        load_body_model(listing)
    no_regressor = tmp_path / "partial.pkl"
    no_regressor.write_bytes(pickle.dumps({"v_template": proxy_data["v_template"]}))
    with pytest.raises(InputError, match="missing") as exc:
        load_body_model(no_regressor)
    assert exc.value.field == "shapedirs"


def test_smplh_like_file_is_rejected(tmp_path, proxy_data):
    data = dict(proxy_data)
    data["posedirs"] = np.zeros((6890, 3, 459), dtype=np.float32)  # SMPL+H: 51 joints x 9
    path = tmp_path / "SMPLH_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps(data))
    with pytest.raises(InputError, match="SMPL") as exc:
        load_body_model(path)
    assert exc.value.field == "posedirs" and "207" in str(exc.value)
    data = dict(proxy_data, v_template=np.zeros((10475, 3)))
    path.write_bytes(pickle.dumps(data))
    with pytest.raises(InputError, match="v_template"):
        load_body_model(path)


def test_pickle_cannot_run_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"v_template": Evil()}))
    with pytest.raises(InputError, match=r"refusing to load 'builtins\.print'"):
        read_smpl_model(path)


# --- posing -----------------------------------------------------------------------------


def test_forward_shapes_batches_and_gradients(body):
    b = 5
    betas = torch.zeros(10, requires_grad=True)  # shared by the batch
    pose = torch.zeros(b, 69, requires_grad=True)
    orient = torch.zeros(b, 3, requires_grad=True)
    transl = torch.zeros(1, 3, requires_grad=True)
    out = body(betas=betas, global_orient=orient, body_pose=pose, transl=transl)
    assert out.vertices.shape == (b, 6890, 3)
    assert out.joints.shape == (b, 24, 3)
    assert out.keypoints.shape == (b, 17, 3)
    (out.keypoints[:, 9].sum() + out.vertices[:, IDS["nose"], 2].sum()).backward()
    for t in (betas, pose, orient, transl):
        assert t.grad is not None and t.grad.abs().sum() > 0
    one = body(body_pose=torch.zeros(1, 69))
    assert one.vertices.shape == (1, 6890, 3)
    with pytest.raises(ValueError, match="batch"):
        body(body_pose=torch.zeros(2, 69), global_orient=torch.zeros(3, 3))


def test_elbow_flex_moves_the_wrist_by_the_right_amount(body):
    angle = np.deg2rad(70.0)
    axis = np.array([0.0, -1.0, 0.0])  # left forearm swings forward (+z) about -y
    pose = torch.zeros(1, 69)
    pose[0, (J["left_elbow"] - 1) * 3 : J["left_elbow"] * 3] = torch.tensor(axis * angle)
    rest = body(body_pose=torch.zeros(1, 69))
    bent = body(body_pose=pose)
    elbow, wrist = rest.joints[0, J["left_elbow"]].numpy(), rest.joints[0, J["left_wrist"]].numpy()
    expected = elbow + _rotvec_matrix(axis * angle) @ (wrist - elbow)
    np.testing.assert_allclose(bent.joints[0, J["left_wrist"]].numpy(), expected, atol=1e-5)
    forearm = np.linalg.norm((wrist - elbow)[[0, 2]])  # the part off the rotation axis
    moved = np.linalg.norm(bent.joints[0, J["left_wrist"]].numpy() - wrist)
    assert moved == pytest.approx(2 * forearm * np.sin(angle / 2), rel=1e-4)
    assert bent.joints[0, J["left_wrist"], 2] > wrist[2] + 0.2  # forward, towards +z
    # The hand moves rigidly with the wrist; the upper arm and the other side stay put.
    fingertip = IDS["lmiddle"]
    np.testing.assert_allclose(
        bent.vertices[0, fingertip].numpy(),
        elbow + _rotvec_matrix(axis * angle) @ (rest.vertices[0, fingertip].numpy() - elbow),
        atol=1e-5,
    )
    torch.testing.assert_close(bent.vertices[0, IDS["rmiddle"]], rest.vertices[0, IDS["rmiddle"]])
    torch.testing.assert_close(bent.joints[0, : J["left_elbow"]], rest.joints[0, : J["left_elbow"]])


def test_zup_world_orientation_and_translation(body):
    orient = torch.tensor(ZUP_REST_GLOBAL_ORIENT, dtype=torch.float32)[None]
    np.testing.assert_allclose(_rotvec_matrix(ZUP_REST_GLOBAL_ORIENT), YUP_TO_ZUP, atol=1e-12)
    transl = torch.tensor([[1.0, 2.0, 3.0]])
    out = body(global_orient=orient, transl=transl)
    rest = body()
    j = out.joints[0].numpy()
    assert j[J["head"], 2] > j[J["pelvis"], 2] + 0.5 > j[J["left_ankle"], 2] + 1.0  # Z up
    assert out.keypoints[0, 0, 1] < j[J["head"], 1] - 0.05  # nose towards -Y
    # Rotation about the pelvis joint, then the translation.
    pelvis = rest.joints[0, 0].numpy()
    expected = (rest.vertices[0].numpy() - pelvis) @ YUP_TO_ZUP.T + pelvis + (1.0, 2.0, 3.0)
    np.testing.assert_allclose(out.vertices[0].numpy(), expected, atol=1e-5)


def test_keypoints_are_coco17(body):
    pose = torch.randn(2, 69, generator=torch.Generator().manual_seed(3)) * 0.4
    out = body(body_pose=pose, transl=torch.tensor([[0.1, 0.2, 0.3]]))
    k, j, v = out.keypoints, out.joints, out.vertices
    for ci, vid in enumerate([IDS["nose"], IDS["leye"], IDS["reye"], IDS["lear"], IDS["rear"]]):
        torch.testing.assert_close(k[:, ci], v[:, vid])
    smpl = [16, 17, 18, 19, 20, 21, 1, 2, 4, 5, 7, 8]
    torch.testing.assert_close(k[:, 5:], j[:, smpl])
    rest = body().keypoints[0].numpy()
    left = [1, 3, 5, 7, 9, 11, 13, 15]
    assert (rest[left, 0] > 0).all() and (rest[[i + 1 for i in left], 0] < 0).all()


def test_rest_joints_follow_betas(body):
    betas = np.zeros((2, 10))
    betas[1, 0] = 2.0
    joints = body.rest_joints(betas)
    assert joints.shape == (2, 24, 3) and isinstance(joints, np.ndarray)
    out = body(betas=torch.tensor(betas, dtype=torch.float32))
    np.testing.assert_allclose(joints, out.joints.numpy(), atol=1e-5)
    assert np.ptp(joints[1, :, 1]) > np.ptp(joints[0, :, 1]) * 1.05
    t = body.rest_joints(torch.zeros(10, requires_grad=True))
    assert torch.is_tensor(t) and t.shape == (24, 3) and t.requires_grad
