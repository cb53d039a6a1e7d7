"""Camera: construction, the anylift / MegaSaM / COLMAP readers, the writer and bad inputs."""

import json
import os
import pathlib

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from anylift.errors import InputError
from anylift.io.cameras import Camera, check_frames_match, read_camera, static_camera, write_camera
from anylift.io.fields import ROTATION_TOLERANCE
from anylift.io.keypoints import Keypoints2D

K = np.array([[1000.0, 0.0, 960.0], [0.0, 1010.0, 540.0], [0.0, 0.0, 1.0]])


def random_w2c(t=5, seed=0):
    rng = np.random.default_rng(seed)
    m = np.tile(np.eye(4), (t, 1, 1))
    m[:, :3, :3] = Rotation.random(t, random_state=seed).as_matrix()
    m[:, :3, 3] = rng.normal(size=(t, 3))
    return m


def camera_doc(w2c, **extra):
    doc = {
        "format": "anylift.camera/1",
        "intrinsics": {"fx": 1000.0, "fy": 1010.0, "cx": 960.0, "cy": 540.0},
        "world_to_camera": np.asarray(w2c).tolist(),
    }
    doc.update(extra)
    return doc


def dump(tmp_path, doc, name="cam.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def expect_error(path, field=None, match=None):
    with pytest.raises(InputError) as e:
        read_camera(path)
    assert str(path) in str(e.value), str(e.value)
    if field is not None:
        assert e.value.field == field, str(e.value)
    if match is not None:
        assert match in str(e.value), str(e.value)
    return e.value


def test_round_trip_is_exact(tmp_path):
    cam = Camera(K=K, world_to_camera=random_w2c(), up=[0, 0, 2.0], image_size=(1920, 1080))
    np.testing.assert_array_equal(cam.up, [0, 0, 1.0])  # normalised
    p = tmp_path / "sub" / "cam.json"
    write_camera(p, cam)
    data = json.loads(p.read_text())
    assert data["format"] == "anylift.camera/1" and data["intrinsics"] == {
        "fx": 1000.0, "fy": 1010.0, "cx": 960.0, "cy": 540.0,
    }  # fmt: skip
    back = read_camera(p)
    np.testing.assert_array_equal(back.world_to_camera, cam.world_to_camera)
    np.testing.assert_array_equal(back.K, K)
    np.testing.assert_array_equal(back.up, [0, 0, 1.0])
    assert back.image_size == (1920, 1080) and back.num_frames == 5 and back.path == str(p)
    plain = Camera(K=K, world_to_camera=random_w2c(2))
    write_camera(p, plain)
    assert "up" not in json.loads(p.read_text()) and read_camera(p).up is None


def test_camera_to_world_inverts():
    cam = Camera(K=K, world_to_camera=random_w2c(4))
    c2w = cam.camera_to_world()
    np.testing.assert_allclose(c2w @ cam.world_to_camera, np.tile(np.eye(4), (4, 1, 1)), atol=1e-12)
    # The camera centre maps to the camera frame's origin.
    centre = c2w[:, :3, 3]
    origin = np.einsum("tij,tj->ti", cam.world_to_camera[:, :3, :3], centre) + cam.world_to_camera[:, :3, 3]
    np.testing.assert_allclose(origin, 0, atol=1e-12)


def test_static_camera():
    cam = static_camera(7, (1920, 1080))
    np.testing.assert_array_equal(cam.K, [[1920, 0, 960], [0, 1920, 540], [0, 0, 1]])
    np.testing.assert_array_equal(cam.world_to_camera, np.tile(np.eye(4), (7, 1, 1)))
    assert cam.image_size == (1920, 1080) and cam.up is None
    assert static_camera(1, (480, 640)).K[0, 0] == 640
    for bad in ((0, (10, 10)), (True, (10, 10)), (3, (10, 0)), (3, None)):
        with pytest.raises(InputError):
            static_camera(*bad)


def test_check_frames_match_names_both_files():
    kp = Keypoints2D(np.zeros((10, 17, 3)), fps=30, image_size=None, path="/data/kp.json")
    check_frames_match(kp, Camera(K=K, world_to_camera=random_w2c(10), path="/data/cam.json"))
    with pytest.raises(InputError) as e:
        check_frames_match(kp, Camera(K=K, world_to_camera=random_w2c(9), path="/data/cam.json"))
    msg = str(e.value)
    assert "/data/kp.json" in msg and "/data/cam.json" in msg and "9" in msg and "10" in msg


def test_float32_slam_poses_are_accepted_within_tolerance(tmp_path):
    w2c = random_w2c(3)
    w2c[:, :3, :3] += 3e-5  # float32 round-off and drift
    assert Camera(K=K, world_to_camera=w2c.astype(np.float32)).world_to_camera.dtype == np.float64
    w2c[1, :3, :3] += 3 * ROTATION_TOLERANCE
    with pytest.raises(InputError, match=r"world_to_camera\[1\]"):
        Camera(K=K, world_to_camera=w2c)


# --- bad anylift JSON -----------------------------------------------------------------------


def _bad_camera_docs():
    good = random_w2c(4)
    scaled = good.copy()
    scaled[2, :3, :3] *= 1.01
    mirrored = good.copy()
    mirrored[1, :3, 0] *= -1
    bottom = good.copy()
    bottom[3, 3] = [0, 0, 1, 1]
    shear = good.copy()
    shear[0, 0, 1] += 0.1
    intr = {"fx": 1000.0, "fy": 1000.0, "cx": 1.0, "cy": 1.0}
    return [
        ("not orthonormal", camera_doc(scaled), "world_to_camera[2]", "orthonormal"),
        ("sheared", camera_doc(shear), "world_to_camera[0]", "orthonormal"),
        ("det -1", camera_doc(mirrored), "world_to_camera[1]", "determinant"),
        ("bottom row", camera_doc(bottom), "world_to_camera[3][3]", "[0, 0, 0, 1]"),
        ("3x4", camera_doc(good[:, :3]), "world_to_camera[0]", "3 entries"),
        ("empty", camera_doc([]), "world_to_camera", "at least one frame"),
        (
            "null entry",
            camera_doc([[[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, None], [0, 0, 0, 1]]]),
            "world_to_camera[0][2][3]",
            "null",
        ),
        ("wrong format", {**camera_doc(good), "format": "anylift.keypoints/1"}, "format", "camera/1"),
        ("no format", {k: v for k, v in camera_doc(good).items() if k != "format"}, "format", None),
        (
            "no intrinsics",
            {k: v for k, v in camera_doc(good).items() if k != "intrinsics"},
            "intrinsics",
            None,
        ),
        ("no fx", camera_doc(good, intrinsics={"fy": 1.0, "cx": 1.0, "cy": 1.0}), "intrinsics.fx", None),
        ("negative fy", camera_doc(good, intrinsics={**intr, "fy": -5.0}), "intrinsics.fy", "positive"),
        ("string cx", camera_doc(good, intrinsics={**intr, "cx": "1"}), "intrinsics.cx", "number"),
        ("zero up", camera_doc(good, up=[0, 0, 0]), "up", "non-zero"),
        ("short up", camera_doc(good, up=[0, 1]), "up", "3"),
        ("top-level list", [1, 2], None, "JSON object"),
    ]


@pytest.mark.parametrize(
    ("label", "doc", "field", "word"), _bad_camera_docs(), ids=[d[0] for d in _bad_camera_docs()]
)
def test_bad_camera_json(tmp_path, label, doc, field, word):
    expect_error(dump(tmp_path, doc), field=field, match=word)


def test_nan_truncated_missing(tmp_path):
    text = json.dumps(camera_doc(np.tile(np.eye(4), (2, 1, 1))))
    p = tmp_path / "cam.json"
    p.write_text(text.replace("0.0, 0.0, 1.0]", "0.0, 0.0, NaN]", 1))
    expect_error(p, field="world_to_camera[0][3][3]", match="finite")  # bottom row [0, 0, 0, NaN]
    p.write_text(text[: len(text) // 2])
    expect_error(p, match="not valid JSON")
    expect_error(tmp_path / "nope.json", match="not found")
    other = tmp_path / "cam.yaml"
    other.write_text("a: 1")
    expect_error(other, match="unknown camera file type")


def test_constructor_rejects_bad_intrinsics():
    with pytest.raises(InputError, match="no skew"):
        Camera(K=[[1000, 2, 5], [0, 1000, 5], [0, 0, 1]], world_to_camera=random_w2c(1))
    with pytest.raises(InputError, match=r"\(3, 3\)"):
        Camera(K=np.eye(3)[:2], world_to_camera=random_w2c(1))
    with pytest.raises(InputError, match="positive focal"):
        Camera(K=np.diag([0.0, 1.0, 1.0]), world_to_camera=random_w2c(1))
    with pytest.raises(InputError, match=r"K\[1\]\[2\]"):
        Camera(K=[[1, 0, 0], [0, 1, np.nan], [0, 0, 1]], world_to_camera=random_w2c(1))


# --- MegaSaM .npz ---------------------------------------------------------------------------


def test_megasam_npz(tmp_path):
    w2c = random_w2c(6, seed=3)
    c2w = np.linalg.inv(w2c).astype(np.float32)
    p = tmp_path / "sgd_cvd_hr.npz"
    np.savez(p, cam_c2w=c2w, K=K.astype(np.float32), depths=np.zeros((6, 4, 4), np.float32))
    cam = read_camera(p)
    assert cam.num_frames == 6 and cam.world_to_camera.dtype == np.float64
    np.testing.assert_allclose(cam.world_to_camera, w2c, atol=1e-5)
    np.testing.assert_allclose(cam.K, K, rtol=1e-6)
    np.savez(p, cam_c2w=c2w, intrinsic=K)  # MegaSaM's own key name
    np.testing.assert_array_equal(read_camera(p).K, K)


@pytest.mark.parametrize(
    ("arrays", "field", "word"),
    [
        ({"K": K}, "cam_c2w", "missing"),
        ({"cam_c2w": np.tile(np.eye(4), (2, 1, 1))}, "K", "missing"),
        ({"cam_c2w": np.tile(np.eye(4), (2, 1, 1))[:, :3], "K": K}, "cam_c2w", "shape"),
        ({"cam_c2w": np.zeros((0, 4, 4)), "K": K}, "cam_c2w", "at least one frame"),
        ({"cam_c2w": np.tile(np.eye(4) * 1.1, (2, 1, 1)), "K": K}, "cam_c2w[0][3]", "bottom row"),
        (
            {"cam_c2w": np.tile(np.diag([1.0, 1.0, -1.0, 1.0]), (2, 1, 1)), "K": K},
            "cam_c2w[0]",
            "determinant",
        ),
        ({"cam_c2w": np.tile(np.eye(4), (2, 1, 1)), "K": np.eye(4)}, "K", "shape"),
    ],
)
def test_bad_megasam(tmp_path, arrays, field, word):
    p = tmp_path / "cam.npz"
    np.savez(p, **arrays)
    expect_error(p, field=field, match=word)


def test_corrupt_npz(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, cam_c2w=np.tile(np.eye(4), (100, 1, 1)), K=K)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:700])
    expect_error(cut, match="corrupt or truncated")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"\x80" + os.urandom(255))
    expect_error(junk, match="not a zip file")
    npy = tmp_path / "plain.npz"
    with open(npy, "wb") as f:
        np.save(f, np.eye(4))
    expect_error(npy, match="single .npy array")


# --- COLMAP ---------------------------------------------------------------------------------

CAMERAS_TXT = """# Camera list with one line of data per camera:
#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]
# Number of cameras: 1
1 {model} 1280 720 {params}
"""


def write_colmap(folder, images, model="PINHOLE", params="1100 1120 640 360", extra_cameras=""):
    folder.mkdir(exist_ok=True)
    (folder / "cameras.txt").write_text(CAMERAS_TXT.format(model=model, params=params) + extra_cameras)
    lines = [
        "# Image list with two lines of data per image:",
        "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME",
    ]
    for i, (name, q, t, cam) in enumerate(images, start=1):
        lines.append(f"{i} {q[0]} {q[1]} {q[2]} {q[3]} {t[0]} {t[1]} {t[2]} {cam} {name}")
        lines.append("" if i % 2 else "12.5 30.1 -1 100.0 200.0 3")  # POINTS2D; empty for some images
    (folder / "images.txt").write_text("\n".join(lines) + "\n")


S = np.sqrt(0.5)


def test_colmap_reader(tmp_path):
    folder = tmp_path / "sparse"
    images = [
        ("frame10.png", (1, 0, 0, 0), (0, 0, 10), 1),
        ("frame2.png", (S, 0, 0, S), (1, 2, 3), 1),  # 90 degrees about z
        ("frame1.png", (1, 0, 0, 0), (0, 0, 1), 1),
    ]
    write_colmap(folder, images)
    for path in (folder, folder / "cameras.txt", folder / "images.txt"):
        cam = read_camera(path)
        assert cam.num_frames == 3 and cam.image_size == (1280, 720)
        np.testing.assert_array_equal(cam.K, [[1100, 0, 640], [0, 1120, 360], [0, 0, 1]])
        np.testing.assert_array_equal(cam.world_to_camera[:, 2, 3], [1, 3, 10])  # frame1, frame2, frame10
        np.testing.assert_allclose(
            cam.world_to_camera[1, :3, :3], [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12
        )
        np.testing.assert_array_equal(cam.world_to_camera[1, :3, 3], [1, 2, 3])


@pytest.mark.parametrize(
    ("model", "params", "fx", "fy", "cx", "cy"),
    [
        ("SIMPLE_PINHOLE", "900 640 360", 900, 900, 640, 360),
        ("SIMPLE_RADIAL", "900 641 361 0.01", 900, 900, 641, 361),
        ("RADIAL", "900 641 361 0.01 0.002", 900, 900, 641, 361),
        ("OPENCV", "910 920 642 362 0.1 0.01 0.001 0.002", 910, 920, 642, 362),
    ],
)
def test_colmap_models(tmp_path, model, params, fx, fy, cx, cy):
    write_colmap(tmp_path / "m", [("a.png", (1, 0, 0, 0), (0, 0, 0), 1)], model=model, params=params)
    cam = read_camera(tmp_path / "m")
    np.testing.assert_array_equal(cam.K, [[fx, 0, cx], [0, fy, cy], [0, 0, 1]])


def test_colmap_two_cameras_with_same_intrinsics_are_fine(tmp_path):
    same = "2 PINHOLE 1280 720 1100 1120 640 360\n"
    images = [("a.png", (1, 0, 0, 0), (0, 0, 0), 1), ("b.png", (1, 0, 0, 0), (0, 0, 1), 2)]
    write_colmap(tmp_path / "c", images, extra_cameras=same)
    assert read_camera(tmp_path / "c").num_frames == 2


@pytest.mark.parametrize(
    ("setup", "file", "word"),
    [
        ({"model": "FISHEYE", "params": "1 2 3"}, "cameras.txt", "FISHEYE"),
        ({"model": "PINHOLE", "params": "1100 1120 640"}, "cameras.txt", "4 parameters"),
        ({"model": "PINHOLE", "params": "1100 -1 640 360"}, "cameras.txt", "positive focal"),
        ({"images": [("a.png", (1, 0, 0, 0), (0, 0, 0), 7)]}, "images.txt", "camera 7"),
        ({"images": [("a.png", (2, 0, 0, 0), (0, 0, 0), 1)]}, "images.txt", "unit quaternion"),
        (
            {"images": [("a.png", (1, 0, 0, 0), (0, 0, 0), 1), ("a.png", (1, 0, 0, 0), (0, 0, 1), 1)]},
            "images.txt",
            "listed twice",
        ),
        ({"images": []}, "images.txt", "no images"),
        (
            {
                "extra_cameras": "2 PINHOLE 1280 720 1000 1000 640 360\n",
                "images": [("a.png", (1, 0, 0, 0), (0, 0, 0), 1), ("b.png", (1, 0, 0, 0), (0, 0, 0), 2)],
            },
            "cameras.txt",
            "intrinsics differ",
        ),
    ],
)
def test_bad_colmap(tmp_path, setup, file, word):
    images = setup.pop("images", [("a.png", (1, 0, 0, 0), (0, 0, 0), 1)])
    write_colmap(tmp_path / "c", images, **setup)
    with pytest.raises(InputError) as e:
        read_camera(tmp_path / "c")
    assert file in str(e.value) and word in str(e.value), str(e.value)


def test_colmap_missing_sibling_and_bad_numbers(tmp_path):
    folder = tmp_path / "c"
    write_colmap(folder, [("a.png", (1, 0, 0, 0), (0, 0, 0), 1)])
    (folder / "images.txt").unlink()
    expect_error(folder / "cameras.txt", match="images.txt not found")
    expect_error(folder, match="images.txt not found")
    write_colmap(folder, [("a.png", (1, 0, 0, 0), ("x", 0, 0), 1)])
    with pytest.raises(InputError, match="line 3"):
        read_camera(folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    expect_error(empty, match="cameras.txt not found")


# --- atomic writing -------------------------------------------------------------------------


def test_failed_write_leaves_destination_untouched(tmp_path, monkeypatch):
    dest = tmp_path / "cam.json"
    write_camera(dest, Camera(K=K, world_to_camera=random_w2c(3)))
    before = dest.read_bytes()
    cam = Camera(K=K, world_to_camera=random_w2c(3, seed=9))
    cam.world_to_camera[1, :3, :3] *= 2.0  # mutated after construction
    with pytest.raises(InputError, match=r"world_to_camera\[1\]"):
        write_camera(dest, cam)
    assert dest.read_bytes() == before

    def half_then_fail(self, text, encoding=None):
        with open(self, "w", encoding=encoding) as f:
            f.write(text[:20])
        raise RuntimeError("killed")

    monkeypatch.setattr(pathlib.Path, "write_text", half_then_fail)
    with pytest.raises(RuntimeError):
        write_camera(dest, Camera(K=K, world_to_camera=random_w2c(5)))
    monkeypatch.undo()
    assert dest.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["cam.json"]


def test_natural_key_orders_by_value_and_takes_any_number_of_digits():
    from anylift.io.fields import natural_key

    names = ["frame10", "frame2", "frame02b", "frame" + "9" * 5000, "frame1", "a", "frame002"]
    assert sorted(names, key=natural_key) == [
        "a",
        "frame1",
        "frame2",
        "frame002",
        "frame02b",
        "frame10",
        "frame" + "9" * 5000,
    ]
