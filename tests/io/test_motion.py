"""Motion .npz: exact keys and shapes, round trip, bad inputs, atomic writes."""

import dataclasses
import os

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from anylift.errors import InputError
from anylift.io.motion import OPTIONAL_KEYS, REQUIRED_KEYS, Motion, read_motion, write_motion

# formats.md's table: key -> shape with T = 6, S = 3, N = 2.
T, S, N = 6, 3, 2
TABLE = {
    "format": (),
    "fps": (),
    "joints": (T, 24, 3),
    "keypoints3d": (T, 17, 3),
    "global_orient": (T, 3),
    "body_pose": (T, 69),
    "transl": (T, 3),
    "betas": (10,),
    "body_model": (),
    "world_to_camera": (T, 4, 4),
    "intrinsics": (3, 3),
    "keypoints3d_std": (T, 17),
    "samples_keypoints3d": (S, T, 17, 3),
    "root_std": (T,),
    "keypoints3d_pose_std": (T, 17),
    "object_names": (N,),
    "object_rotation": (N, T, 3, 3),
    "object_translation": (N, T, 3),
    "object_scale": (N,),
    "person": (),
    "up": (3,),
    "up_source": (),
    "seen": (T,),
}
STRING_KEYS = {"format", "body_model", "object_names", "up_source"}


def make_motion(optional=True, seed=0, **changes):
    rng = np.random.default_rng(seed)
    w2c = np.tile(np.eye(4), (T, 1, 1))
    w2c[:, :3, :3] = Rotation.random(T, random_state=seed).as_matrix()
    w2c[:, :3, 3] = rng.normal(size=(T, 3))
    kw = dict(
        fps=30.0,
        joints=rng.normal(size=(T, 24, 3)),
        keypoints3d=rng.normal(size=(T, 17, 3)),
        global_orient=rng.normal(size=(T, 3)),
        body_pose=rng.normal(size=(T, 69)) * 0.1,
        transl=rng.normal(size=(T, 3)),
        betas=rng.normal(size=10),
        body_model="smpl-proxy",
        world_to_camera=w2c,
        intrinsics=np.array([[1000.0, 0, 960], [0, 1000, 540], [0, 0, 1]]),
    )
    if optional:
        kw.update(
            keypoints3d_std=rng.uniform(0, 0.05, (T, 17)),
            samples_keypoints3d=rng.normal(size=(S, T, 17, 3)),
            root_std=rng.uniform(0, 0.3, T),
            keypoints3d_pose_std=rng.uniform(0, 0.05, (T, 17)),
            object_names=["box", "chair"],
            object_rotation=Rotation.random(N * T, random_state=seed + 1).as_matrix().reshape(N, T, 3, 3),
            object_translation=rng.normal(size=(N, T, 3)),
            object_scale=np.array([1.0, 0.5]),
            person=7,
            up=np.array([0.0, -1.0, 0.0]),
            up_source="estimated",
            seen=np.array([False, True, True, False, True, False]),
        )
    kw.update(changes)
    return Motion(**kw)


def test_fields_are_exactly_the_table():
    assert [f.name for f in dataclasses.fields(Motion)] == [k for k in TABLE if k != "format"]
    assert set(REQUIRED_KEYS) | set(OPTIONAL_KEYS) == set(TABLE)


@pytest.mark.parametrize("optional", [True, False])
def test_file_holds_exactly_the_table_keys_and_shapes(tmp_path, optional):
    p = tmp_path / "result.npz"
    write_motion(p, make_motion(optional=optional))
    with np.load(p, allow_pickle=False) as f:
        keys = set(f.files)
        expected = set(TABLE) if optional else set(REQUIRED_KEYS)
        assert keys == expected
        for k in keys:
            assert f[k].shape == TABLE[k], k
            assert (f[k].dtype.kind == "U") == (k in STRING_KEYS), k
        assert str(f["format"]) == "anylift.motion/1" and str(f["body_model"]) == "smpl-proxy"
        assert float(f["fps"]) == 30.0
        if optional:
            assert f["object_names"].tolist() == ["box", "chair"]


@pytest.mark.parametrize("optional", [True, False])
def test_round_trip(tmp_path, optional):
    m = make_motion(optional=optional)
    p = tmp_path / "deep" / "result"  # no .npz suffix: the file is still written exactly there
    write_motion(p, m)
    assert p.exists() and not (tmp_path / "deep" / "result.npz").exists()
    back = read_motion(p)
    for f in dataclasses.fields(Motion):
        a, b = getattr(m, f.name), getattr(back, f.name)
        if isinstance(a, np.ndarray):
            assert b.dtype == (bool if f.name == "seen" else np.float64)
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b, f.name
    assert back.num_frames == T


def test_up_is_stored_as_a_unit_vector():
    m = make_motion(up=np.array([0.0, 0.0, 2.0]), up_source="file")
    np.testing.assert_allclose(m.up, [0.0, 0.0, 1.0])


def test_construction_converts_to_float64_and_copies():
    joints = np.zeros((T, 24, 3), dtype=np.float32)
    m = make_motion(optional=False, joints=joints)
    assert m.joints.dtype == np.float64 and m.joints is not joints


@pytest.mark.parametrize(
    ("changes", "field", "word"),
    [
        ({"fps": 0}, "fps", "positive"),
        ({"joints": np.zeros((0, 24, 3))}, "joints", "T >= 1"),
        ({"joints": np.zeros((T, 17, 3))}, "joints", "(T, 24, 3)"),
        ({"keypoints3d": np.zeros((T - 1, 17, 3))}, "keypoints3d", "(6, 17, 3)"),
        ({"body_pose": np.zeros((T, 72))}, "body_pose", "(6, 69)"),
        ({"betas": np.zeros(300)}, "betas", "(10,)"),
        ({"transl": np.full((T, 3), np.inf)}, "transl[0][0]", "finite"),
        ({"body_model": "smplx"}, "body_model", "smpl-proxy"),
        (
            {"world_to_camera": np.tile(np.diag([1.0, 1, -1, 1]), (T, 1, 1))},
            "world_to_camera[0]",
            "determinant",
        ),
        ({"intrinsics": np.eye(4)}, "intrinsics", "(3, 3)"),
        ({"keypoints3d_std": -np.ones((T, 17))}, "keypoints3d_std[0][0]", ">= 0"),
        ({"samples_keypoints3d": np.zeros((T, 17, 3))}, "samples_keypoints3d", "S >= 1"),
        ({"object_scale": None}, "object_scale", "all four"),
        ({"object_names": ["box", 3]}, "object_names", "strings"),
        (
            {"object_rotation": np.ones((N, T, 3, 3))},
            "object_rotation (object, frame flattened)[0]",
            "orthonormal",
        ),
        ({"object_translation": np.zeros((N, T + 1, 3))}, "object_translation", "(2, 6, 3)"),
        ({"object_scale": np.array([1.0, 0.0])}, "object_scale[1]", "positive"),
        ({"person": 2.5}, "person", "integer"),
        ({"person": True}, "person", "integer"),
        ({"up": np.zeros(3)}, "up", "non-zero"),
        ({"up": np.ones(2)}, "up", "(3,)"),
        ({"up_source": None}, "up", "together"),
        ({"up_source": "guessed"}, "up_source", "estimated"),
        ({"seen": np.ones(T + 1, bool)}, "seen", "(6,) array of booleans"),
        ({"seen": np.full(T, 0.5)}, "seen", "booleans (0 or 1)"),
    ],
)
def test_construction_rejects(changes, field, word):
    with pytest.raises(InputError) as e:
        make_motion(**changes)
    assert e.value.field == field and word in str(e.value), str(e.value)


def _save(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize(
    ("edit", "field", "word"),
    [
        (lambda a: a.pop("transl"), "transl", "missing"),
        (lambda a: a.pop("format"), "format", "missing"),
        (lambda a: a.update(format=np.array("anylift.motion/2")), "format", "motion/1"),
        (lambda a: a.update(format=np.array(1.0)), "format", "string"),
        (lambda a: a.update(body_pose=np.zeros((T, 72))), "body_pose", "(6, 69)"),
        (lambda a: a.update(joints=np.zeros((T, 24))), "joints", "shape"),
        (lambda a: a.update(fps=np.array([30.0])), "fps", "shape"),
        (lambda a: a.update(body_model=np.array("smplx")), "body_model", "smpl"),
        (lambda a: a.update(object_names=np.array([1, 2])), "object_names", "strings"),
        (lambda a: a.pop("object_names"), "object_names", "alongside"),
        (lambda a: a.update(object_scale=np.ones(3)), "object_scale", "(2,)"),
        (lambda a: a.update(keypoints3d=np.full((T, 17, 3), np.nan)), "keypoints3d[0][0][0]", "finite"),
        (lambda a: a.update(person=np.array("three")), "person", "numeric"),
        (lambda a: a.update(person=np.array(1.5)), "person", "integer"),
        (lambda a: a.pop("up_source"), "up", "together"),
        (lambda a: a.update(up_source=np.array("sky")), "up_source", "given"),
        (lambda a: a.update(up=np.zeros(3)), "up", "non-zero"),
        (lambda a: a.update(seen=np.ones((T, 2), bool)), "seen", "shape"),
        (lambda a: a.update(seen=np.full(T, 2)), "seen", "booleans"),
    ],
)
def test_bad_files(tmp_path, edit, field, word):
    arrays = make_motion().to_arrays()
    edit(arrays)
    p = tmp_path / "bad.npz"
    _save(p, **arrays)
    with pytest.raises(InputError) as e:
        read_motion(p)
    assert str(p) in str(e.value) and e.value.field == field and word in str(e.value), str(e.value)


def test_missing_truncated_garbage_pickled(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_motion(tmp_path / "nope.npz")
    good = tmp_path / "good.npz"
    write_motion(good, make_motion())
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputError, match="corrupt or truncated"):
        read_motion(cut)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"junk" + os.urandom(100))
    with pytest.raises(InputError, match="not a zip file"):
        read_motion(junk)
    arrays = make_motion().to_arrays()
    arrays["object_names"] = np.array(["box", "chair"], dtype=object)
    pickled = tmp_path / "pickled.npz"
    _save(pickled, **arrays)
    with pytest.raises(InputError, match="Python objects"):
        read_motion(pickled)


def test_unknown_keys_are_ignored(tmp_path):
    p = tmp_path / "extra.npz"
    _save(p, **make_motion(optional=False).to_arrays(), future_key=np.zeros(3))
    assert read_motion(p).keypoints3d_std is None


def test_failed_write_leaves_destination_untouched(tmp_path, monkeypatch):
    dest = tmp_path / "result.npz"
    write_motion(dest, make_motion(optional=False))
    before = dest.read_bytes()

    m = make_motion(seed=4)
    m.keypoints3d[2, 3, 1] = np.nan  # mutated after construction: the writer revalidates
    with pytest.raises(InputError, match=r"keypoints3d\[2\]\[3\]\[1\]"):
        write_motion(dest, m)
    assert dest.read_bytes() == before

    def half_then_fail(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_motion(dest, make_motion(seed=5))
    monkeypatch.undo()
    assert dest.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["result.npz"]
    np.testing.assert_array_equal(read_motion(dest).joints, make_motion(optional=False).joints)


def test_seen_span_is_first_to_last_seen_frame_or_the_whole_clip():
    assert make_motion().seen_span() == (1, 4)
    assert make_motion(optional=False).seen_span() == (0, T - 1)
    assert make_motion(seen=np.zeros(T, bool)).seen_span() == (0, T - 1)
