"""Keypoints2D: construction, every reader, the writer, and every bad input we know of."""

import json
import math
import os
import pathlib

import numpy as np
import pytest

from anylift.errors import InputError
from anylift.io.detector_keypoints import track_person
from anylift.io.keypoints import Keypoints2D, ObjectTrack, read_keypoints, write_keypoints
from anylift.skeletons import COCO17_JOINTS, SKELETONS


def random_keypoints(t=5, k=17, seed=0, zero_frac=0.2):
    rng = np.random.default_rng(seed)
    kp = np.empty((t, k, 3))
    kp[..., 0] = rng.uniform(0, 1920, (t, k))
    kp[..., 1] = rng.uniform(0, 1080, (t, k))
    kp[..., 2] = rng.uniform(0.05, 1.0, (t, k))
    kp[rng.random((t, k)) < zero_frac, 2] = 0.0
    return kp


def make_kp(t=5, objects=(), path=None):
    return Keypoints2D(
        random_keypoints(t), fps=25.0, image_size=(1920, 1080), objects=list(objects), path=path
    )


def make_object(t=5, m=4, seed=1, name="box", canonical=True):
    can = np.random.default_rng(seed).normal(size=(m, 3)) if canonical else None
    return ObjectTrack(name=name, category="box", keypoints=random_keypoints(t, m, seed), canonical=can)


def anylift_doc(kp_list, **extra):
    doc = {"format": "anylift.keypoints/1", "skeleton": "coco17", "fps": 30.0, "image_size": [640, 480]}
    doc["keypoints"] = kp_list
    doc.update(extra)
    return doc


def good_frames(t=3, k=17):
    return [[[10.0 + j, 20.0 + t_, 0.9] for j in range(k)] for t_ in range(t)]


def dump(tmp_path, data, name="kp.json"):
    p = tmp_path / name
    p.write_text(json.dumps(data))
    return p


def expect_error(path, field=None, match=None, **kw):
    with pytest.raises(InputError) as e:
        read_keypoints(path, **kw)
    err = e.value
    assert str(path) in str(err), str(err)
    if field is not None:
        assert err.field == field, str(err)
    if match is not None:
        assert match in str(err), str(err)
    return err


# --- the container -------------------------------------------------------------------------


def test_construction_sets_nan_for_undetected_and_stays_float64():
    raw = random_keypoints(4)
    raw[1, 3] = [50.0, 60.0, 0.0]
    kp = Keypoints2D(raw.astype(np.float32), fps=30, image_size=[640.0, 480])
    assert kp.keypoints.dtype == np.float64 and kp.num_frames == 4
    assert np.isnan(kp.keypoints[1, 3, :2]).all() and kp.keypoints[1, 3, 2] == 0.0
    assert kp.image_size == (640, 480) and isinstance(kp.image_size[0], int) and kp.fps == 30.0
    np.testing.assert_array_equal(kp.mask(), raw[..., 2] > 0)
    np.testing.assert_array_equal(kp.mask(0.5), raw[..., 2] > 0.5)
    assert kp.mask(0.5).sum() < kp.mask().sum()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"keypoints": np.zeros((3, 18, 3))}, "keypoints"),
        ({"keypoints": np.zeros((0, 17, 3))}, "keypoints"),
        ({"fps": 0.0}, "fps"),
        ({"fps": float("nan")}, "fps"),
        ({"image_size": (640, -1)}, "image_size[1]"),
        ({"image_size": (640.5, 480)}, "image_size[0]"),
        ({"source_skeleton": "coco19"}, "skeleton"),
        ({"detector": ""}, "detector"),
        ({"detector": 3}, "detector"),
        ({"objects": [make_object(t=4)]}, "objects[0].keypoints"),
    ],
)
def test_construction_rejects(kwargs, field):
    args = {"keypoints": random_keypoints(5), "fps": 30.0, "image_size": (640, 480), "path": "clip.json"}
    args.update(kwargs)
    with pytest.raises(InputError) as e:
        Keypoints2D(**args)
    assert e.value.field == field and "clip.json" in str(e.value)


def test_construction_rejects_bad_values_with_index():
    raw = random_keypoints(5, zero_frac=0)
    raw[3, 7, 2] = 1.2
    with pytest.raises(InputError, match=r"keypoints\[3\]\[7\].*\[0, 1\]"):
        Keypoints2D(raw, fps=30, image_size=None)
    raw[3, 7, 2] = 0.5
    raw[2, 4, 0] = np.inf
    with pytest.raises(InputError, match=r"keypoints\[2\]\[4\]"):
        Keypoints2D(raw, fps=30, image_size=None)


def test_object_track_validation():
    with pytest.raises(InputError, match="canonical"):
        ObjectTrack("box", "box", random_keypoints(3, 4), canonical=np.zeros((5, 3)))
    with pytest.raises(InputError, match="name"):
        ObjectTrack("", "box", random_keypoints(3, 4))
    with pytest.raises(InputError, match="objects"):
        Keypoints2D(random_keypoints(3), 30, None, objects=[make_object(3), make_object(3)])  # same name


# --- anylift JSON ---------------------------------------------------------------------------


def test_anylift_json_round_trip_with_objects(tmp_path):
    kp = make_kp(objects=[make_object(), make_object(name="cup", canonical=False, seed=3)])
    p = tmp_path / "out" / "kp.json"
    write_keypoints(p, kp)
    data = json.loads(p.read_text())
    assert data["format"] == "anylift.keypoints/1" and data["skeleton"] == "coco17"
    t, j = np.argwhere(kp.keypoints[..., 2] == 0)[0]
    assert data["keypoints"][t][j][:2] == [None, None]
    back = read_keypoints(p)
    np.testing.assert_array_equal(back.keypoints, kp.keypoints)  # NaN == NaN here
    assert back.fps == 25.0 and back.image_size == (1920, 1080) and back.path == str(p)
    assert [o.name for o in back.objects] == ["box", "cup"]
    np.testing.assert_array_equal(back.objects[0].keypoints, kp.objects[0].keypoints)
    np.testing.assert_array_equal(back.objects[0].canonical, kp.objects[0].canonical)
    assert back.objects[1].canonical is None and "canonical" not in data["objects"][1]


def test_anylift_json_without_image_size_round_trips(tmp_path):
    kp = Keypoints2D(random_keypoints(2), fps=24.0, image_size=None)
    write_keypoints(tmp_path / "a.json", kp)
    back = read_keypoints(tmp_path / "a.json")
    assert back.image_size is None and back.fps == 24.0
    assert back.detector is None and "detector" not in json.loads((tmp_path / "a.json").read_text())


def test_anylift_json_keeps_the_detector(tmp_path):
    kp = Keypoints2D(random_keypoints(2), fps=24.0, image_size=(640, 480), detector="mediapipe")
    write_keypoints(tmp_path / "a.json", kp)
    assert json.loads((tmp_path / "a.json").read_text())["detector"] == "mediapipe"
    assert read_keypoints(tmp_path / "a.json").detector == "mediapipe"


def test_anylift_json_other_skeletons_are_converted(tmp_path):
    k = 18
    frames = [[[float(j), 100.0 + j, 0.8] for j in range(k)] for _ in range(2)]
    back = read_keypoints(dump(tmp_path, anylift_doc(frames, skeleton="openpose18")))
    assert back.source_skeleton == "openpose18"
    # openpose18 order: left_shoulder is index 5, right_shoulder 2, left_ear 17.
    assert back.keypoints[0, COCO17_JOINTS.index("left_shoulder"), 0] == 5
    assert back.keypoints[0, COCO17_JOINTS.index("right_shoulder"), 0] == 2
    assert back.keypoints[0, COCO17_JOINTS.index("left_ear"), 1] == 117

    smpl = [[[float(j), 0.0, 0.7] for j in range(24)]]
    back = read_keypoints(dump(tmp_path, anylift_doc(smpl, skeleton="smpl24"), "s.json"))
    np.testing.assert_array_equal(back.keypoints[0, :5, 2], 0.0)
    assert back.keypoints[0, COCO17_JOINTS.index("right_knee"), 0] == 5


def test_overrides_win(tmp_path):
    back = read_keypoints(dump(tmp_path, anylift_doc(good_frames())), fps=60, image_size=(100, 50))
    assert back.fps == 60.0 and back.image_size == (100, 50)


def test_score_zero_with_null_xy_is_fine(tmp_path):
    frames = good_frames()
    frames[1][4] = [None, None, 0]
    back = read_keypoints(dump(tmp_path, anylift_doc(frames)))
    assert back.keypoints[1, 4, 2] == 0 and np.isnan(back.keypoints[1, 4, :2]).all()


# Each bad document, the field the error must name, and a word of the message.
def _bad_docs():
    def frames(edit):
        f = good_frames(14)
        edit(f)
        return anylift_doc(f)

    def set_(t, j, value):
        def edit(f):
            f[t][j] = value

        return edit

    obj = {"name": "box", "category": "box", "keypoints": good_frames(14, 4), "canonical": [[0, 0, 0]] * 4}
    return [
        ("null xy, positive score", frames(set_(12, 5, [None, None, 0.8])), "keypoints[12][5]", "score 0.8"),
        ("null score", frames(set_(2, 1, [1.0, 2.0, None])), "keypoints[2][1][2]", "null"),
        ("score above 1", frames(set_(3, 5, [1.0, 2.0, 1.5])), "keypoints[3][5]", "[0, 1]"),
        ("negative score", frames(set_(3, 6, [1.0, 2.0, -0.1])), "keypoints[3][6]", "[0, 1]"),
        ("string number", frames(set_(0, 0, ["12", 2.0, 0.5])), "keypoints[0][0][0]", "a number"),
        ("bool", frames(set_(0, 0, [True, 2.0, 0.5])), "keypoints[0][0][0]", "a number"),
        ("2 values", frames(set_(4, 3, [1.0, 2.0])), "keypoints[4][3]", "3"),
        ("16 joints", frames(lambda f: f[1].pop()), "keypoints[1]", "17"),
        ("not a list", anylift_doc({"a": 1}), "keypoints", "list"),
        ("empty", anylift_doc([]), "keypoints", "at least 1 frame"),
        ("unknown skeleton", anylift_doc(good_frames(), skeleton="coco19"), "skeleton", "coco17"),
        (
            "wrong format",
            {**anylift_doc(good_frames()), "format": "anylift.camera/1"},
            "format",
            "keypoints/1",
        ),
        ("old version", {**anylift_doc(good_frames()), "format": "anylift.keypoints/2"}, "format", None),
        ("no format", {k: v for k, v in anylift_doc(good_frames()).items() if k != "format"}, "format", None),
        ("no fps", {k: v for k, v in anylift_doc(good_frames()).items() if k != "fps"}, "fps", None),
        ("negative fps", anylift_doc(good_frames(), fps=-30), "fps", "positive"),
        ("bad image size", anylift_doc(good_frames(), image_size=[640]), "image_size", "width"),
        (
            "no skeleton",
            {k: v for k, v in anylift_doc(good_frames()).items() if k != "skeleton"},
            "skeleton",
            None,
        ),
        ("objects not list", anylift_doc(good_frames(14), objects={"a": 1}), "objects", None),
        (
            "object frames differ",
            anylift_doc(good_frames(14), objects=[{**obj, "keypoints": good_frames(13, 4)}]),
            "objects[0].keypoints",
            "13 frames",
        ),
        (
            "canonical shape",
            anylift_doc(good_frames(14), objects=[{**obj, "canonical": [[0, 0, 0]] * 3}]),
            "objects[0].canonical",
            "3 entries",
        ),
        (
            "canonical width",
            anylift_doc(good_frames(14), objects=[{**obj, "canonical": [[0, 0]] * 4}]),
            "objects[0].canonical[0]",
            None,
        ),
        (
            "object no name",
            anylift_doc(good_frames(14), objects=[{"keypoints": obj["keypoints"]}]),
            "objects[0].name",
            None,
        ),
        (
            "object bad score",
            anylift_doc(
                good_frames(14),
                objects=[{**obj, "keypoints": [[[1, 2, 0.5]] * 4] * 13 + [[[1, 2, 2.0]] * 4]}],
            ),
            "objects[0].keypoints[13][0]",
            "[0, 1]",
        ),
    ]


@pytest.mark.parametrize(("label", "doc", "field", "word"), _bad_docs(), ids=[d[0] for d in _bad_docs()])
def test_bad_anylift_json(tmp_path, label, doc, field, word):
    expect_error(dump(tmp_path, doc), field=field, match=word)


def test_nan_and_infinity_literals_are_rejected(tmp_path):
    p = tmp_path / "kp.json"
    text = json.dumps(anylift_doc(good_frames()))
    p.write_text(text.replace("[10.0, 20.0, 0.9]", "[NaN, 20.0, 0.9]", 1))
    expect_error(p, field="keypoints[0][0]")
    p.write_text(text.replace("[11.0, 21.0, 0.9]", "[11.0, 21.0, Infinity]", 1))
    expect_error(p, field="keypoints[1][1]", match="score")


def test_truncated_and_garbage_files(tmp_path):
    p = tmp_path / "kp.json"
    text = json.dumps(anylift_doc(good_frames()))
    p.write_text(text[: len(text) // 2])
    expect_error(p, match="not valid JSON")
    p.write_bytes(b"\xff\xfe\x00garbage")
    expect_error(p, match="UTF-8")
    expect_error(tmp_path / "missing.json", match="not found")
    q = tmp_path / "kp.csv"
    q.write_text("1,2,3")
    expect_error(q, match=".csv")
    expect_error(dump(tmp_path, [1, 2, 3], "list.json"), field="[0]")
    expect_error(dump(tmp_path, [], "empty.json"), match="empty")


def test_bad_override_arguments(tmp_path):
    p = dump(tmp_path, anylift_doc(good_frames()))
    expect_error(p, field="fps argument", fps=0)
    expect_error(p, field="image_size argument[0]", image_size=(0, 10))


# --- .npz -----------------------------------------------------------------------------------


def test_npz_reader(tmp_path):
    raw = random_keypoints(6, 33, seed=4, zero_frac=0)
    p = tmp_path / "kp.npz"
    np.savez(p, keypoints=raw.astype(np.float32), fps=np.float32(29.97), image_size=np.array([1280, 720]))
    kp = read_keypoints(p)  # 33 joints: mediapipe33 inferred
    assert kp.source_skeleton == "mediapipe33" and kp.image_size == (1280, 720)
    assert kp.fps == pytest.approx(29.97, rel=1e-6)
    la = SKELETONS["mediapipe33"].index("left_ankle")
    np.testing.assert_allclose(kp.keypoints[:, 15, 0], raw[:, la, 0].astype(np.float32), rtol=0)

    np.savez(p, keypoints=random_keypoints(2, 24), fps=30.0, image_size=[10, 10], skeleton="smpl24")
    assert read_keypoints(p).source_skeleton == "smpl24"


@pytest.mark.parametrize(
    ("arrays", "field", "word"),
    [
        ({"keypoints": np.zeros((2, 17, 2)), "fps": 30.0, "image_size": [1, 1]}, "keypoints", "(N, N, 3)"),
        ({"keypoints": np.zeros((0, 17, 3)), "fps": 30.0, "image_size": [1, 1]}, "keypoints", "at least 1"),
        ({"keypoints": np.zeros((2, 19, 3)), "fps": 30.0, "image_size": [1, 1]}, "keypoints", "19 joints"),
        ({"keypoints": np.zeros((2, 17, 3))}, "fps", "missing"),
        ({"keypoints": np.zeros((2, 17, 3)), "fps": 30.0}, "image_size", "missing"),
        ({"keypoints": np.zeros((2, 17, 3)), "fps": [30.0, 1], "image_size": [1, 1]}, "fps", "shape"),
        (
            {"keypoints": np.zeros((2, 17, 3)), "fps": 30.0, "image_size": [1, 1], "skeleton": "x"},
            "skeleton",
            None,
        ),
        (
            {"keypoints": np.zeros((2, 17, 3)), "fps": 30.0, "image_size": [1, 1], "skeleton": "openpose18"},
            "keypoints",
            "openpose18",
        ),
        (
            {"keypoints": np.full((2, 17, 3), np.nan), "fps": 30.0, "image_size": [1, 1]},
            "keypoints[0][0]",
            "score",
        ),
        (
            {"keypoints": np.array([["a"] * 3] * 17)[None], "fps": 30.0, "image_size": [1, 1]},
            "keypoints",
            "numeric",
        ),
    ],
)
def test_bad_npz(tmp_path, arrays, field, word):
    p = tmp_path / "kp.npz"
    np.savez(p, **arrays)
    expect_error(p, field=field, match=word)


def test_corrupt_npz(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, keypoints=random_keypoints(50), fps=30.0, image_size=[1, 1])
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    expect_error(cut, match="corrupt or truncated")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"garbage" + os.urandom(300))
    expect_error(garbage, match="not a zip file")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, keypoints=np.array([{"a": 1}], dtype=object), fps=30.0, image_size=[1, 1])
    expect_error(pickled, match="pickle")


# --- MMPose / RTMPose / ViTPose -------------------------------------------------------------


def person(x0, y0, conf, k=17, score=0.9):
    return {
        "keypoints": [[x0 + 2.0 * j, y0 + j] for j in range(k)],
        "keypoint_scores": [score] * k,
        "bbox": [[x0, y0, x0 + 50, y0 + 100]],
        "bbox_score": conf,
    }


def test_mmpose_frames_follow_one_person(tmp_path):
    frames = [
        {
            "frame_id": 0,
            "instances": [person(1000, 500, 0.5), person(100, 100, 0.9)],
        },  # A (x=100) most confident
        {"frame_id": 1, "instances": [person(110, 105, 0.6), person(990, 500, 0.99)]},  # B more confident now
        {"frame_id": 2, "instances": []},
        {"frame_id": 3, "instances": [person(1005, 500, 0.99), person(125, 110, 0.3)]},
    ]
    kp = read_keypoints(dump(tmp_path, frames))
    assert kp.num_frames == 4 and kp.fps == 30.0 and kp.image_size is None
    np.testing.assert_array_equal(kp.keypoints[[0, 1, 3], 0, 0], [100, 110, 125])
    np.testing.assert_array_equal(kp.keypoints[:, 5, 1], [105, 110, np.nan, 115])
    np.testing.assert_array_equal(kp.keypoints[2, :, 2], 0)


def test_mmpose_instance_info_layout_with_gaps_and_scores_above_one(tmp_path):
    doc = {
        "meta_info": {"dataset_name": "coco"},
        "instance_info": [
            {"frame_id": 1, "instances": [person(10, 10, 0.9, score=1.3)]},
            {"frame_id": 3, "instances": [person(12, 10, 0.9, score=0.4)]},
        ],
    }
    kp = read_keypoints(dump(tmp_path, doc), fps=50)
    assert kp.num_frames == 3 and kp.fps == 50.0
    np.testing.assert_array_equal(kp.keypoints[:, 0, 2], [1.0, 0.0, 0.4])  # 1.3 clipped, gap empty


def test_mmpose_wholebody_and_single_image_layouts(tmp_path):
    frames = [{"frame_id": 0, "instances": [person(5, 5, 0.9, k=133)]}]
    kp = read_keypoints(dump(tmp_path, frames))
    np.testing.assert_array_equal(kp.keypoints[0, :, 0], 5 + 2.0 * np.arange(17))
    single = [{"keypoints": [[1.0 * j, 2.0, 0.5] for j in range(17)]}]  # K x 3, no keypoint_scores
    kp = read_keypoints(dump(tmp_path, single, "one.json"))
    assert kp.num_frames == 1 and kp.keypoints[0, 16, 0] == 16 and kp.keypoints[0, 16, 2] == 0.5


@pytest.mark.parametrize(
    ("doc", "field", "word"),
    [
        (
            [{"frame_id": 0, "instances": [{**person(0, 0, 1), "keypoint_scores": [0.5] * 16}]}],
            "[0].instances[0].keypoint_scores",
            "16 entries",
        ),
        (
            [{"frame_id": 0, "instances": [{"keypoints": [[0, 0]] * 17}]}],
            "[0].instances[0].keypoint_scores",
            "missing",
        ),
        ([{"frame_id": 0, "instances": [person(0, 0, 1, k=18)]}], "", "18 keypoints"),
        (
            [
                {"frame_id": 0, "instances": [person(0, 0, 1)]},
                {"frame_id": 1, "instances": [person(0, 0, 1, k=26)]},
            ],
            "[1].instances[0].keypoints",
            "17",
        ),
        (
            [{"frame_id": 0, "instances": [{**person(0, 0, 1), "keypoint_scores": [-0.5] * 17}]}],
            "[0].instances[0].keypoints[0][0]",
            "[0, 1]",
        ),
        ([{"frame_id": 0, "instances": []}], "", "no person"),
        ([{"frame_id": 0, "instances": {"a": 1}}], "[0].instances", None),
        ({"instance_info": {"a": 1}}, "instance_info", None),
    ],
)
def test_bad_mmpose(tmp_path, doc, field, word):
    expect_error(dump(tmp_path, doc), field=field, match=word)


def test_coco_results_layout(tmp_path):
    def det(image_id, x0, score):
        return {
            "image_id": image_id,
            "category_id": 1,
            "score": score,
            "keypoints": [v for j in range(17) for v in (x0 + j, 7.0, 0.8)],
        }

    dets = [det(5, 100, 0.9), det(5, 900, 0.95), det(6, 890, 0.5), det(6, 104, 0.4), det(8, 108, 0.9)]
    kp = read_keypoints(dump(tmp_path, dets))
    # Starts with the more confident person (x=900) and keeps following it.
    assert kp.num_frames == 4
    np.testing.assert_array_equal(kp.keypoints[:, 0, 0], [900, 890, np.nan, 108])
    bad = [det(1, 0, 0.5), {**det(2, 0, 0.5), "keypoints": [1.0] * 50}]
    expect_error(dump(tmp_path, bad, "bad.json"), field="[1].keypoints", match="3 numbers")
    bad = [det(1, 0, 0.5), {**det(2, 0, 0.5), "image_id": None}]
    expect_error(dump(tmp_path, bad, "bad2.json"), field="[1].image_id")


def test_track_person_direct():
    a = np.array([[0.0, 0.0, 1.0], [10.0, 0.0, 1.0]])
    b = a + np.array([500.0, 0.0, 0.0])
    out = track_person([[(b, 0.2), (a, 0.8)], [(b + 1, 0.9), (a + 1, 0.1)], [], [(a + 3, 0.5)]], 2)
    np.testing.assert_array_equal(out[:, 0, 0], [0, 1, np.nan, 3])
    assert out.shape == (4, 2, 3) and (out[2, :, 2] == 0).all()


# --- OpenPose -------------------------------------------------------------------------------


def openpose_person(x0, k=25, score=0.7):
    return {"person_id": [-1], "pose_keypoints_2d": [v for j in range(k) for v in (x0 + j, 3.0 * j, score)]}


def write_openpose(folder, pages):
    folder.mkdir(exist_ok=True)
    for i, people in enumerate(pages):
        (folder / f"clip_{i:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))


def test_openpose_body25_folder(tmp_path):
    folder = tmp_path / "op"
    p_undetected = openpose_person(100)
    p_undetected["pose_keypoints_2d"][3 * 12 : 3 * 12 + 3] = [0, 0, 0]  # left_hip not found
    write_openpose(folder, [[openpose_person(100), openpose_person(800, score=0.9)], [], [p_undetected]])
    (folder / "notes.txt").write_text("ignored")
    kp = read_keypoints(folder, image_size=(1280, 720))
    assert kp.source_skeleton == "body25" and kp.num_frames == 3 and kp.image_size == (1280, 720)
    # Most confident first: the person at x=800. BODY_25 left_shoulder = 5, right_hip = 9.
    assert kp.keypoints[0, COCO17_JOINTS.index("left_shoulder"), 0] == 805
    assert kp.keypoints[0, COCO17_JOINTS.index("right_hip"), 1] == 27
    np.testing.assert_array_equal(kp.keypoints[1, :, 2], 0)
    assert kp.keypoints[2, COCO17_JOINTS.index("left_hip"), 2] == 0
    assert np.isnan(kp.keypoints[2, COCO17_JOINTS.index("left_hip"), 0])


def test_openpose_natural_order_coco18_and_single_file(tmp_path):
    folder = tmp_path / "op18"
    folder.mkdir()
    for i in (1, 2, 10):  # unpadded names: natural order 1, 2, 10
        (folder / f"f{i}_keypoints.json").write_text(json.dumps({"people": [openpose_person(i, k=18)]}))
    kp = read_keypoints(folder)
    assert kp.source_skeleton == "openpose18"
    np.testing.assert_array_equal(kp.keypoints[:, 0, 0], [1, 2, 10])  # nose is index 0
    assert kp.keypoints[0, COCO17_JOINTS.index("left_ear"), 0] == 1 + 17
    one = read_keypoints(folder / "f2_keypoints.json")
    assert one.num_frames == 1 and one.keypoints[0, 0, 0] == 2


def test_bad_openpose(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "frame.json").write_text("{}")
    expect_error(empty, match="no OpenPose files")

    folder = tmp_path / "op"
    write_openpose(folder, [[openpose_person(0)], [{"pose_keypoints_2d": [1.0] * 20}]])
    with pytest.raises(InputError) as e:
        read_keypoints(folder)
    assert (
        "clip_000000000001_keypoints.json" in str(e.value) and e.value.field == "people[0].pose_keypoints_2d"
    )

    mixed = tmp_path / "mixed"
    write_openpose(mixed, [[openpose_person(0)], [openpose_person(0, k=18)]])
    with pytest.raises(InputError, match="75 numbers like earlier"):
        read_keypoints(mixed)

    nobody = tmp_path / "nobody"
    write_openpose(nobody, [[], []])
    expect_error(nobody, match="no person")

    broken = tmp_path / "broken"
    write_openpose(broken, [[openpose_person(0)]])
    f = next(broken.iterdir())
    f.write_text(f.read_text()[:30])
    with pytest.raises(InputError, match="not valid JSON") as e:
        read_keypoints(broken)
    assert f.name in str(e.value)

    nan_score = tmp_path / "nan"
    person_ = openpose_person(0)
    person_["pose_keypoints_2d"][2] = math.nan
    write_openpose(nan_score, [[person_]])
    with pytest.raises(InputError, match=r"people\[0\]\.pose_keypoints_2d\[0\]\[0\]"):
        read_keypoints(nan_score)


# --- atomic writing -------------------------------------------------------------------------


def test_failed_write_leaves_destination_untouched(tmp_path, monkeypatch):
    dest = tmp_path / "kp.json"
    write_keypoints(dest, make_kp(3))
    before = dest.read_bytes()

    bad = make_kp(4)
    bad.keypoints[2, 3] = [np.nan, 5.0, 0.9]  # mutated after construction: the writer revalidates
    with pytest.raises(InputError, match=r"keypoints\[2\]\[3\]"):
        write_keypoints(dest, bad)
    assert dest.read_bytes() == before

    def half_then_fail(self, text, encoding=None):
        with open(self, "w", encoding=encoding) as f:
            f.write(text[: len(text) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(pathlib.Path, "write_text", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_keypoints(dest, make_kp(6))
    monkeypatch.undo()
    assert dest.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kp.json"]  # no temporary left behind
    assert read_keypoints(dest).num_frames == 3
