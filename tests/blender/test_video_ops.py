"""Detect Keypoints and Estimate Camera inside Blender, on a short render of the proxy body."""

from __future__ import annotations

import sys

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytest.importorskip("mediapipe")

from .conftest import REPO  # noqa: E402


@pytest.fixture(scope="module")
def clip_folder():
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from render_test_video import cached_render
    finally:
        sys.path.pop(0)
    # The same render as tests/video's fixture (shared cache).
    return cached_render(clip="dance_b", frames=16, size=(320, 240), seed=3, trajectory="real_like",
                         fit_iterations=40)  # fmt: skip


def test_detect_then_estimate_camera(addon, clip_folder, tmp_path):
    from anylift.io.cameras import read_camera
    from anylift.io.keypoints import read_keypoints
    from anylift.io.people import read_people
    from anylift_blender.operators.import_video import import_video

    scene = bpy.context.scene
    assert not bpy.ops.anylift.detect_keypoints.poll()  # no footage yet
    assert not bpy.ops.anylift.estimate_camera.poll()
    video = str(clip_folder / "video.mp4")
    import_video(scene, video)
    scene.anylift.video_path = video
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "shot.blend"))
    scene = bpy.context.scene

    assert bpy.ops.anylift.detect_keypoints() == {"FINISHED"}
    path = scene.anylift.keypoints_path
    assert path == str(tmp_path / "video_keypoints.json")  # beside the saved .blend
    kp = read_keypoints(path)
    truth = np.load(clip_folder / "truth.npz")
    assert kp.num_frames == 16
    assert len(read_people(path).tracks) == 1  # every person, tracked, as `anylift detect` writes
    ok = (kp.scores > 0) & truth["in_image"]
    assert np.median(np.linalg.norm(kp.keypoints[..., :2] - truth["keypoints2d"], axis=-1)[ok]) < 8.0
    overlays = [o for o in bpy.data.objects if o.get("anylift_role") == "keypoints"]
    assert len(overlays) == 1
    assert bpy.context.window_manager.anylift_job.message.endswith("done")
    # Tracks of no one set aside on request (`anylift detect --set-aside-still`): the dancer stays.
    scene.anylift.set_aside_still = True
    assert bpy.ops.anylift.detect_keypoints() == {"FINISHED"}
    assert len(read_people(scene.anylift.keypoints_path).tracks) == 1
    scene.anylift.set_aside_still = False

    focal = float(truth["K"][0, 0])
    assert bpy.ops.anylift.estimate_camera(focal=focal) == {"FINISHED"}
    cam_path = scene.anylift.camera_path
    cam = read_camera(cam_path)
    assert cam.num_frames == 16 and cam.K[0, 0] == pytest.approx(focal)
    assert scene.camera.name == "AnyLift Camera"
    assert any(bg.source == "MOVIE_CLIP" for bg in scene.camera.data.background_images)
    # The baked camera turns like the estimate: compare frame 16's rotation with frame 1's.
    scene.frame_set(1)
    m1 = np.array(scene.camera.matrix_world)[:3, :3]
    scene.frame_set(16)
    m16 = np.array(scene.camera.matrix_world)[:3, :3]
    rel_blender = m16.T @ m1
    R = cam.world_to_camera[:, :3, :3]
    flip = np.diag([1.0, -1.0, -1.0])
    rel_file = flip @ R[15] @ R[0].T @ flip
    assert np.allclose(rel_blender, rel_file, atol=1e-3)
    # Another person's camera (an edited video's other shot): an id the file does not have is
    # refused by name, and the camera already made stays.
    with pytest.raises(RuntimeError, match="no person 99"):
        bpy.ops.anylift.estimate_camera(focal=focal, person=99)
    assert scene.anylift.camera_path == cam_path


def test_unreadable_video_reports_and_changes_nothing(addon, tmp_path):
    scene = bpy.context.scene
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a movie")
    scene.anylift.video_path = str(bad)
    before = set(bpy.data.objects)
    with pytest.raises(RuntimeError, match=r"broken\.mp4"):
        bpy.ops.anylift.detect_keypoints()
    assert set(bpy.data.objects) == before and scene.anylift.keypoints_path == ""
    with pytest.raises(RuntimeError, match=r"broken\.mp4"):
        bpy.ops.anylift.estimate_camera()
    assert scene.anylift.camera_path == ""


def test_batch_video_alone_runs_the_chain_from_the_video(tmp_path):
    from anylift_blender import batch

    video = tmp_path / "shot.mp4"
    video.write_bytes(b"x")
    ns = batch.parse_args(["--video", str(video), "--out", str(tmp_path / "scene.blend")])
    (clip,) = batch.clips_from_args(ns)
    assert clip.keypoints is None and clip.motion is None and clip.video == video
    with pytest.raises(batch.UserError, match="KEYPOINTS"):
        batch.parse_args(["--out", str(tmp_path / "scene.blend")])
    # A folder of videos: one scene each, into an output folder.
    (tmp_path / "other.MOV").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    clips = batch.clips_from_args(
        batch.parse_args(["--video", str(tmp_path), "--out", str(tmp_path / "out")])
    )
    assert [(c.name, c.video, c.out) for c in clips] == [
        ("other", tmp_path / "other.MOV", tmp_path / "out" / "other.blend"),
        ("shot", video, tmp_path / "out" / "shot.blend"),
    ]
    with pytest.raises(batch.UserError, match="a folder of videos needs an output folder"):
        batch.clips_from_args(
            batch.parse_args(["--video", str(tmp_path), "--out", str(tmp_path / "s.blend")])
        )
    (tmp_path / "empty").mkdir()
    with pytest.raises(batch.UserError, match="no videos in this folder"):
        batch.clips_from_args(batch.parse_args(["--video", str(tmp_path / "empty"), "--out", str(tmp_path)]))
    with pytest.raises(batch.UserError, match="not found"):
        batch.clips_from_args(
            batch.parse_args(["--video", str(tmp_path / "gone.mp4"), "--out", str(tmp_path)])
        )


def test_batch_runs_the_whole_chain_on_a_folder_of_videos(clip_folder, tmp_path):
    """videos -> keypoints -> camera -> lift (tiny untrained model) -> one .blend each, one batch
    command; a file that is no video fails alone (exit code 2, in the manifest)."""
    import shutil
    import subprocess

    from anylift.batch.manifest import read_manifest
    from anylift.models import DenoiserConfig, build_model, save_checkpoint

    from .test_batch_and_extension import BATCH, _run

    ckpt = save_checkpoint(tmp_path / "tiny.pt", build_model(DenoiserConfig.tiny("multi_view")))
    videos, scenes = tmp_path / "videos", tmp_path / "scenes"
    videos.mkdir()
    shutil.copy(clip_folder / "video.mp4", videos / "dance.mp4")
    (videos / "broken.mp4").write_bytes(b"not a video")
    manifest = tmp_path / "m.jsonl"
    argv = [
        "--video",
        str(videos),
        "--out",
        str(scenes),
        "--checkpoint",
        str(ckpt),
        "--manifest",
        str(manifest),
    ]
    proc = _run([str(BATCH), "--", *argv])
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "broken: " in proc.stderr and "1 of 2 clips failed" in proc.stderr, proc.stderr[-3000:]
    assert {r["clip"]: r["status"] for r in read_manifest(manifest)} == {"broken": "failed", "dance": "ok"}
    out = scenes / "dance.blend"
    assert out.is_file() and not (scenes / "broken.blend").exists()
    assert (scenes / "dance_keypoints.json").is_file() and (scenes / "dance_camera.json").is_file()
    code = (
        "import bpy, sys; bpy.ops.wm.open_mainfile(filepath=sys.argv[1]); o = bpy.data.objects;"
        "s = bpy.context.scene; assert len(o['SMPL'].data.bones) == 24 and o['SMPL'].animation_data.action;"
        "cam = o['AnyLift Camera']; assert s.camera == cam and cam.animation_data.action;"
        "assert any(b.source == 'MOVIE_CLIP' for b in cam.data.background_images);"
        "assert (s.frame_start, s.frame_end) == (1, 16), (s.frame_start, s.frame_end)"
    )
    check = subprocess.run(
        [sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=300
    )
    assert check.returncode == 0, check.stderr[-3000:]
