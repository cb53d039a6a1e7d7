"""Import Video / Keypoints / Camera and Use Scene Camera, in real Blender."""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from bpy_extras.object_utils import world_to_camera_view
from mathutils import Vector

from anylift_blender.baking import overlay
from anylift_blender.baking.transaction import datablock_names


@pytest.fixture
def video(tmp_path):
    """A 12-frame 320x240 MJPG .avi at 25 fps, written with OpenCV."""
    import cv2

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (320, 240))
    for i in range(12):
        frame = np.full((240, 320, 3), 20 * i, dtype=np.uint8)
        writer.write(frame)
    writer.release()
    return path


def test_import_video_fits_the_scene(addon, video):
    assert bpy.ops.anylift.import_video(filepath=str(video)) == {"FINISHED"}
    scene = bpy.context.scene
    assert (scene.render.resolution_x, scene.render.resolution_y) == (320, 240)
    assert scene.render.fps / scene.render.fps_base == pytest.approx(25.0)
    assert (scene.frame_start, scene.frame_end) == (1, 12)
    cam = scene.camera
    assert cam.name == "AnyLift Camera"
    bg = cam.data.background_images[0]
    assert cam.data.show_background_images and bg.source == "MOVIE_CLIP"
    assert bg.clip.filepath.endswith("clip.avi")
    assert (scene.anylift.image_width, scene.anylift.image_height) == (320, 240)


def test_import_video_rejects_a_non_video(addon, tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a movie")
    before = datablock_names()
    with pytest.raises(RuntimeError):
        bpy.ops.anylift.import_video(filepath=str(bad))
    assert datablock_names() == before


def _camera_file(tmp_path, T=10):
    from anylift.io.cameras import Camera, write_camera

    w2c = np.tile(np.eye(4), (T, 1, 1))
    for t in range(T):
        a = 0.05 * t
        c, s = np.cos(a), np.sin(a)
        # OpenCV camera looking along +y (horizontal), panning about z, moving along x.
        R_look = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
        R_pan = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        R = R_look @ R_pan.T
        centre = np.array([0.1 * t, -4.0, 1.5])
        w2c[t, :3, :3] = R
        w2c[t, :3, 3] = -R @ centre
    K = np.array([[800.0, 0.0, 330.0], [0.0, 760.0, 230.0], [0.0, 0.0, 1.0]])
    cam = Camera(K=K, world_to_camera=w2c, image_size=(640, 480))
    path = tmp_path / "camera.json"
    write_camera(path, cam)
    return path, cam


def _pixels(scene, cam_obj, points):
    W, H = scene.render.resolution_x, scene.render.resolution_y
    ndc = np.array([tuple(world_to_camera_view(scene, cam_obj, Vector(p))) for p in points])
    return np.stack([ndc[:, 0] * W, (1.0 - ndc[:, 1]) * H], -1)


def test_import_camera_projects_like_the_file(addon, tmp_path):
    from anylift.geometry.camera import project

    path, cam = _camera_file(tmp_path)
    assert bpy.ops.anylift.import_camera(filepath=str(path)) == {"FINISHED"}
    scene = bpy.context.scene
    obj = scene.camera
    points = np.random.default_rng(0).uniform([-1, 0, 0], [1, 2, 2], size=(30, 3))
    for t in (0, 4, 9):
        scene.frame_set(t + 1)
        expected = project(points, cam.K, cam.world_to_camera[t])
        assert np.abs(_pixels(scene, obj, points) - expected).max() < 0.5


def test_use_scene_camera_round_trips(addon, tmp_path):
    from anylift.io.cameras import read_camera

    path, cam = _camera_file(tmp_path)
    bpy.ops.anylift.import_camera(filepath=str(path))
    out = tmp_path / "scene_camera.json"
    assert bpy.ops.anylift.use_scene_camera(filepath=str(out)) == {"FINISHED"}
    back = read_camera(out)
    assert np.allclose(back.K, cam.K, atol=1e-3)
    assert np.allclose(back.world_to_camera, cam.world_to_camera, atol=1e-5)
    assert bpy.context.scene.anylift.camera_path == str(out)


def test_use_scene_camera_needs_a_camera(addon):
    with pytest.raises(RuntimeError, match="no camera"):
        bpy.ops.anylift.use_scene_camera(filepath="/tmp/x.json")


def test_keypoints_drawn_on_their_pixels(addon, tmp_path):
    from anylift.io.keypoints import Keypoints2D, write_keypoints

    cam_path, _ = _camera_file(tmp_path, T=6)
    bpy.ops.anylift.import_camera(filepath=str(cam_path))
    rng = np.random.default_rng(1)
    kp = np.concatenate([rng.uniform([50, 40], [600, 450], size=(6, 17, 2)), np.ones((6, 17, 1))], -1)
    kp[2, 9] = [np.nan, np.nan, 0.0]  # left wrist missing on frame 2
    kp_path = tmp_path / "kp.json"
    write_keypoints(kp_path, Keypoints2D(keypoints=kp, fps=30.0, image_size=(640, 480)))
    assert bpy.ops.anylift.import_keypoints(filepath=str(kp_path)) == {"FINISHED"}
    obj = bpy.data.objects["AnyLift Keypoints"]
    assert obj.parent == bpy.context.scene.camera
    scene = bpy.context.scene
    for t in (0, 2, 5):
        scene.frame_set(t + 1)
        strokes = overlay.frame_strokes(obj, t)
        local = np.concatenate(strokes)
        world = [np.array(obj.matrix_world @ Vector(p)) for p in local]
        pixels = _pixels(scene, scene.camera, world)
        # every drawn point is one of the frame's keypoints, to a tenth of a pixel
        dist = np.linalg.norm(pixels[:, None] - kp[t, None, :, :2], axis=-1)
        assert np.nanmin(dist, axis=1).max() < 0.1
        assert len(strokes) == (18 if t == 2 else 19)  # COCO-17 has 19 bones, 1 ends at a wrist
