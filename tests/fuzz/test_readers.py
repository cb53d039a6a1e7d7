"""Property tests: every reader, fed mutated files of every layout, returns or raises InputError.

Hypothesis profiles "ci" (default, 200 examples per test) and "long" (2,000) are registered in
tests/conftest.py.

Nothing else may escape (no KeyError, OverflowError, RecursionError, MemoryError...), no warning
may be emitted (warnings are errors here), and the error text stays short. Each test starts
from a valid file of one layout and mutates it: JSON values replaced by hostile ones (huge
integers, 1e308, NaN, deep nesting, wrong types), keys dropped, lists cut, bytes flipped or
cut, npz arrays swapped for other shapes and dtypes, npz headers forged.
"""

from __future__ import annotations

import copy
import io
import json
import struct
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from anylift.errors import MAX_PART_CHARS, InputError
from anylift.io.cameras import read_camera
from anylift.io.keypoints import read_keypoints
from anylift.io.motion import read_motion

T = 3  # frames in the seed files

# -- hostile values ---------------------------------------------------------------------------

EXTREME_NUMBERS = [0, -1, 1, 0.0, -0.0, 1e-300, 5e-324, 1e308, -1e308, 1e20, 2**63, 2**64 + 1,
                   10**19, 10**400, -(10**400), 1.5, 0.5, 1e6, 1e7 + 1, float("nan"),
                   float("inf"), float("-inf"), 397133, 10**9]  # fmt: skip
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(EXTREME_NUMBERS),
    st.text(max_size=12),
)
json_value = st.recursive(
    leaf,
    lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=6), c, max_size=4),
    max_leaves=25,
)


def _paths(node, prefix=()):
    """Every path (tuple of keys / indices) to a node inside ``node``, the root included."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:6]):  # enough positions, bounded work
            yield from _paths(v, (*prefix, i))


def _get(node, path):
    for k in path:
        node = node[k]
    return node


def mutate_json(data: st.DataObject, doc):
    """``doc`` with 1-4 random mutations (replace, delete, scale, cut, retype, big-number)."""
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        paths = list(_paths(doc))
        path = data.draw(st.sampled_from(paths), label="path")
        action = data.draw(st.sampled_from(["replace", "delete", "scale", "cut", "number", "wrap"]))
        if not path:
            if action == "replace":
                doc = data.draw(json_value)
            continue
        parent, key = _get(doc, path[:-1]), path[-1]
        node = parent[key]
        if action == "replace":
            parent[key] = data.draw(json_value, label="value")
        elif action == "delete":
            del parent[key]
        elif action == "scale" and isinstance(node, float):
            f = data.draw(st.sampled_from([1e9, -1e9, 1e-300, 0, 1e300, -1]))
            parent[key] = node * f
        elif action == "cut" and isinstance(node, list):
            parent[key] = node[: data.draw(st.integers(0, max(0, len(node) - 1)))]
        elif action == "number":
            parent[key] = data.draw(st.sampled_from(EXTREME_NUMBERS))
        elif action == "wrap":
            parent[key] = data.draw(st.sampled_from([[node], {"0": node}, str(node)[:20]]))
    return doc


def mutate_bytes(data: st.DataObject, raw: bytes) -> bytes:
    """``raw`` with bytes flipped, cut, inserted or a region duplicated."""
    b = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4), label="byte mutations")):
        if not b:
            break
        i = data.draw(st.integers(0, len(b) - 1), label="at")
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "truncate", "dup"]))
        if action == "flip":
            b[i] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del b[i : i + data.draw(st.integers(1, 16))]
        elif action == "insert":
            b[i:i] = data.draw(st.binary(min_size=1, max_size=16))
        elif action == "truncate":
            del b[i:]
        else:
            b[i:i] = b[i : i + data.draw(st.integers(1, 64))]
    return bytes(b)


def dumps(doc) -> str:
    """JSON text of ``doc`` (NaN/Infinity tokens allowed: files in the wild hold them)."""
    return json.dumps(doc, allow_nan=True)


def check_reader(call, *args, **kwargs) -> None:
    """Run a reader: fine if it returns or raises InputError with a short, non-empty message."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            call(*args, **kwargs)
        except InputError as e:
            text = str(e)
            assert text and len(text) <= 6 * MAX_PART_CHARS, text[:300]
            # --hypothesis-show-statistics lists how deep the examples got (which check stopped them).
            event("InputError at " + str(e.field).split("[")[0].split(".")[0])
        else:
            event("read")


# -- seed files: one valid file per layout ----------------------------------------------------


def _flat(points: list) -> list:
    return [v for p in points for v in p]


def _pose(t: int, k: int = 17) -> list:
    return [[100.0 + 7 * j + t, 80.0 + 11 * j, 0.9] for j in range(k)]


def anylift_keypoints() -> dict:
    return {
        "format": "anylift.keypoints/1",
        "skeleton": "coco17",
        "fps": 30.0,
        "image_size": [640, 480],
        "keypoints": [_pose(t) for t in range(T)],
        "objects": [
            {
                "name": "box",
                "category": "box",
                "keypoints": [[[300.0 + t, 200.0, 0.8]] * 2 for t in range(T)],
                "canonical": [[0.0, 0.0, 0.0], [0.1, 0.0, 0.0]],
            }
        ],
    }


def mmpose_frames() -> list:
    return [
        {
            "frame_id": t,
            "instances": [
                {
                    "keypoints": [p[:2] for p in _pose(t)],
                    "keypoint_scores": [p[2] for p in _pose(t)],
                    "bbox_score": 0.9,
                },
                {"keypoints": [[p[0] + 200, p[1]] for p in _pose(t)], "keypoint_scores": [0.5] * 17},
            ],
        }
        for t in range(T)
    ]


def coco_results() -> list:
    return [{"image_id": t, "category_id": 1, "keypoints": _flat(_pose(t)), "score": 0.9} for t in range(T)]


def openpose_page(t: int = 0) -> dict:
    return {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": _flat(_pose(t, 25))}]}


KEYPOINT_JSON_LAYOUTS = {
    "anylift": anylift_keypoints,
    "mmpose frames": mmpose_frames,
    "mmpose instance_info": lambda: {"meta_info": {}, "instance_info": mmpose_frames()},
    "mmpose one image": lambda: mmpose_frames()[0]["instances"],
    "coco results": coco_results,
    "openpose frame": openpose_page,
}


def anylift_camera() -> dict:
    w2c = [
        [[1.0, 0.0, 0.0, 0.1 * t], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 3.0], [0, 0, 0, 1]] for t in range(T)
    ]
    return {
        "format": "anylift.camera/1",
        "intrinsics": {"fx": 500.0, "fy": 500.0, "cx": 320.0, "cy": 240.0},
        "world_to_camera": w2c,
        "up": [0.0, -1.0, 0.0],
        "image_size": [640, 480],
    }


def _npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def keypoints_npz() -> dict:
    return {
        "keypoints": np.array([_pose(t) for t in range(T)]),
        "fps": np.array(30.0),
        "image_size": np.array([640, 480]),
        "skeleton": np.array("coco17"),
    }


def megasam_npz() -> dict:
    c2w = np.tile(np.eye(4), (T, 1, 1))
    c2w[:, 2, 3] = -3.0
    return {"cam_c2w": c2w, "K": np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])}


def motion_npz() -> dict:
    rng = np.random.default_rng(0)
    return {
        "format": np.array("anylift.motion/1"),
        "fps": np.array(30.0),
        "joints": rng.normal(size=(T, 24, 3)),
        "keypoints3d": rng.normal(size=(T, 17, 3)),
        "global_orient": rng.normal(size=(T, 3)) * 0.1,
        "body_pose": rng.normal(size=(T, 69)) * 0.1,
        "transl": rng.normal(size=(T, 3)),
        "betas": np.zeros(10),
        "body_model": np.array("smpl-proxy"),
        "world_to_camera": np.tile(np.eye(4), (T, 1, 1)),
        "intrinsics": np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]),
        "keypoints3d_std": np.abs(rng.normal(size=(T, 17))),
        "samples_keypoints3d": rng.normal(size=(2, T, 17, 3)),
        "object_names": np.array(["box"]),
        "object_rotation": np.tile(np.eye(3), (1, T, 1, 1)),
        "object_translation": np.zeros((1, T, 3)),
        "object_scale": np.ones(1),
    }


# -- npz mutations ----------------------------------------------------------------------------

dtypes = st.sampled_from(
    ["<f8", "<f4", "<f2", "<i8", "<u1", "|b1", "<c16", "<U6", "|S6", "<m8[s]", ">f8", "<f16"]
)


@st.composite
def hostile_array(draw):
    kind = draw(st.sampled_from(["shape", "scalar", "string", "bytes", "extreme"]))
    if kind == "shape":
        shape = tuple(draw(st.lists(st.integers(0, 5), max_size=4)))
        dtype = np.dtype(draw(dtypes))
        return np.zeros(shape, dtype=dtype)
    if kind == "scalar":
        return np.array(draw(st.sampled_from([v for v in EXTREME_NUMBERS if abs(v) < 2**63])))
    if kind == "string":
        return np.array(draw(st.text(max_size=10)))
    if kind == "bytes":
        return np.array(draw(st.binary(max_size=10)))
    shape = draw(st.sampled_from([(T, 17, 3), (T, 4, 4), (3, 3), (T, 24, 3), (2,), ()]))
    if draw(st.booleans()):  # float128 beyond float64's range
        return np.full(shape, np.longdouble("1e400"))
    return np.full(shape, draw(st.sampled_from([1e308, -1e308, np.nan, np.inf, 1e-300, 1e9])))


def mutate_npz(data: st.DataObject, arrays: dict) -> bytes:
    """An .npz of ``arrays`` with entries replaced, dropped or scaled, or a forged header."""
    arrays = dict(arrays)
    for _ in range(data.draw(st.integers(1, 3), label="npz mutations")):
        key = data.draw(st.sampled_from(sorted(arrays)), label="key") if arrays else None
        action = data.draw(st.sampled_from(["replace", "drop", "scale", "forge", "bytes"]))
        if key is None:
            break
        if action == "replace":
            arrays[key] = data.draw(hostile_array())
        elif action == "drop":
            del arrays[key]
        elif action == "scale" and arrays[key].dtype.kind == "f":
            with np.errstate(all="ignore"):
                arrays[key] = arrays[key] * data.draw(st.sampled_from([1e300, -1e9, 0.0, np.nan]))
        elif action == "forge":
            return _forged(data, arrays, key)
        elif action == "bytes":
            return mutate_bytes(data, _npz_bytes(arrays))
    return _npz_bytes(arrays)


def _forged(data: st.DataObject, arrays: dict, key: str) -> bytes:
    """An .npz whose ``key`` member's header claims another shape, or whose zip flags lie."""
    shape = data.draw(st.sampled_from([(10**10, 17, 3), (2**40,), (T, 10**9, 3), (-1, 17, 3), (0,)]))
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
    members = {k + ".npy": _npy(v) for k, v in arrays.items()}
    members[key + ".npy"] = header.getvalue() + np.zeros(T * 17 * 3).tobytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, blob in members.items():
            z.writestr(name, blob)
    raw = bytearray(buf.getvalue())
    flag = data.draw(st.sampled_from(["none", "encrypted", "method"]))
    if flag != "none":
        for sig, off in ((b"PK\x03\x04", (6, 8)), (b"PK\x01\x02", (8, 10))):
            i = raw.find(sig)
            if flag == "encrypted":
                raw[i + off[0]] |= 1
            else:
                struct.pack_into("<H", raw, i + off[1], 99)
    return bytes(raw)


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


# -- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", sorted(KEYPOINT_JSON_LAYOUTS))
@given(data=st.data())
def test_keypoint_json_layouts(tmp_path, layout, data):
    doc = mutate_json(data, KEYPOINT_JSON_LAYOUTS[layout]())
    path = tmp_path / "kp.json"
    path.write_text(dumps(doc))
    kwargs = {}
    if data.draw(st.integers(0, 4), label="override") == 0:  # 1 in 5: the fps= / image_size= arguments
        kwargs = {"fps": data.draw(leaf), "image_size": data.draw(json_value)}
    check_reader(read_keypoints, path, **kwargs)


@pytest.mark.parametrize("layout", sorted(KEYPOINT_JSON_LAYOUTS))
@given(data=st.data())
def test_keypoint_json_bytes(tmp_path, layout, data):
    path = tmp_path / "kp.json"
    path.write_bytes(mutate_bytes(data, dumps(KEYPOINT_JSON_LAYOUTS[layout]()).encode()))
    check_reader(read_keypoints, path)


@given(data=st.data())
def test_keypoint_openpose_folder(tmp_path, data):
    folder = tmp_path / "op"
    folder.mkdir(exist_ok=True)
    for f in folder.iterdir():
        f.unlink()
    bad = data.draw(st.integers(0, T - 1), label="mutated frame")
    for t in range(T):
        page = openpose_page(t)
        (folder / f"clip_{t:012d}_keypoints.json").write_text(
            dumps(mutate_json(data, page) if t == bad else page)
        )
    check_reader(read_keypoints, folder)


@given(data=st.data())
def test_keypoint_npz(tmp_path, data):
    path = tmp_path / "kp.npz"
    path.write_bytes(mutate_npz(data, keypoints_npz()))
    check_reader(read_keypoints, path)


@given(data=st.data())
def test_camera_json(tmp_path, data):
    path = tmp_path / "cam.json"
    if data.draw(st.booleans(), label="bytes"):
        path.write_bytes(mutate_bytes(data, dumps(anylift_camera()).encode()))
    else:
        path.write_text(dumps(mutate_json(data, anylift_camera())))
    check_reader(read_camera, path)


@given(data=st.data())
def test_camera_megasam_npz(tmp_path, data):
    path = tmp_path / "cam.npz"
    path.write_bytes(mutate_npz(data, megasam_npz()))
    check_reader(read_camera, path)


COLMAP_CAMERAS = "# Camera list\n1 PINHOLE 640 480 500 500 320 240\n"
COLMAP_IMAGES = "".join(f"{t + 1} 1 0 0 0 0.{t} 0 3 1 frame{t}.png\n\n" for t in range(T))
colmap_token = st.one_of(
    st.sampled_from(
        ["nan", "inf", "-inf", "1e400", "1" * 5000, "", "OPENCV", "PINHOLE", "0", "-1", "1e-300"]
    ),
    st.text(max_size=8),
)


def mutate_colmap(data: st.DataObject, text: str) -> str:
    lines = [line.split(" ") for line in text.split("\n")]
    for _ in range(data.draw(st.integers(1, 4), label="colmap mutations")):
        n = data.draw(st.integers(0, len(lines) - 1))
        if data.draw(st.booleans()) and lines[n]:
            lines[n][data.draw(st.integers(0, len(lines[n]) - 1))] = data.draw(colmap_token)
        else:
            lines[n] = data.draw(st.lists(colmap_token, max_size=12))
    return "\n".join(" ".join(tok for tok in line) for line in lines)


@given(data=st.data())
def test_camera_colmap(tmp_path, data):
    folder = tmp_path / "sparse"
    folder.mkdir(exist_ok=True)
    cams, imgs = COLMAP_CAMERAS, COLMAP_IMAGES
    if data.draw(st.booleans(), label="which"):
        cams = mutate_colmap(data, cams)
    else:
        imgs = mutate_colmap(data, imgs)
    (folder / "cameras.txt").write_text(cams)
    (folder / "images.txt").write_text(imgs)
    check_reader(read_camera, folder)


@given(data=st.data())
def test_motion_npz(tmp_path, data):
    path = tmp_path / "result.npz"
    path.write_bytes(mutate_npz(data, motion_npz()))
    check_reader(read_motion, path)


@pytest.mark.parametrize(
    "make, reader",
    [(lambda: dumps(anylift_keypoints()), read_keypoints), (lambda: dumps(anylift_camera()), read_camera)],
    ids=["keypoints", "camera"],
)
def test_seed_files_are_valid(tmp_path, make, reader):
    """The fuzz starts from valid files (else it would only test the first check)."""
    path = tmp_path / "f.json"
    path.write_text(make())
    assert reader(path).num_frames == T
    npz_seeds = [("k.npz", keypoints_npz(), read_keypoints), ("c.npz", megasam_npz(), read_camera),
                 ("m.npz", motion_npz(), read_motion)]  # fmt: skip
    for name, arrays, read in npz_seeds:
        (tmp_path / name).write_bytes(_npz_bytes(arrays))
        assert read(tmp_path / name).num_frames == T
    for layout, make_doc in KEYPOINT_JSON_LAYOUTS.items():
        (tmp_path / "l.json").write_text(dumps(make_doc()))
        expected = 1 if layout in ("mmpose one image", "openpose frame") else T
        assert read_keypoints(tmp_path / "l.json").num_frames == expected, layout
    folder = tmp_path / "sparse"
    folder.mkdir()
    (folder / "cameras.txt").write_text(COLMAP_CAMERAS)
    (folder / "images.txt").write_text(COLMAP_IMAGES)
    assert read_camera(folder).num_frames == T


def test_forged_header_is_refused_before_allocating(tmp_path):
    """A 1.5 KB .npz claiming (1e10, 17, 3) float64 (4 TB) is an InputError, at once."""
    arrays = keypoints_npz()

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**10, 17, 3)}
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("keypoints.npy", header.getvalue() + arrays["keypoints"].tobytes())
    path = tmp_path / "forged.npz"
    path.write_bytes(buf.getvalue())
    assert path.stat().st_size < 2000
    with pytest.raises(InputError, match=r"header says shape \(10000000000, 17, 3\)"):
        read_keypoints(path)
