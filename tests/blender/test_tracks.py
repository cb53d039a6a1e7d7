"""Several people in Blender: Load Tracks (list + tracks drawn over the footage), and the person
id passed through Lift (its command line, its result file name)."""

from __future__ import annotations

import bpy
import cv2
import numpy as np


def _people_file(path, t_len=12, cuts=()):
    from anylift.io.people import People, PersonTrack, write_people

    tracks = []
    for pid, x0, height, seen in ((4, 40, 120, range(t_len)), (9, 200, 90, range(3, 8))):
        kp = np.full((t_len, 17, 3), np.nan)
        kp[..., 2] = 0.0
        boxes = np.full((t_len, 4), np.nan)
        for t in seen:
            kp[t, :, 0] = x0 + np.linspace(0, 30, 17)
            kp[t, :, 1] = np.linspace(60, 60 + height, 17)
            kp[t, :, 2] = 0.9
            boxes[t] = [x0, 60, x0 + 30, 60 + height]
        tracks.append(PersonTrack(pid, kp, boxes))
    write_people(path, People(tracks, fps=25.0, image_size=(320, 240), cuts=tuple(cuts)))


def test_load_tracks_lists_people_and_draws_them_over_the_footage(addon, tmp_path):
    from anylift_blender.operators.import_video import import_video

    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (320, 240))
    for _ in range(12):
        writer.write(np.full((240, 320, 3), 90, np.uint8))
    writer.release()
    scene = bpy.context.scene
    import_video(scene, str(video))
    kp = tmp_path / "clip_keypoints.json"
    _people_file(kp)
    scene.anylift.keypoints_path = str(kp)
    assert bpy.ops.anylift.load_tracks() == {"FINISHED"}
    items = [(t.track_id, t.first, t.last, t.seen, round(t.height), t.is_default, t.selected)
             for t in scene.anylift_tracks]  # fmt: skip
    assert items == [(4, 0, 11, 12, 120, True, True), (9, 3, 7, 5, 90, False, False)]
    overlay = tmp_path / "clip_keypoints_tracks.mp4"
    assert overlay.exists()
    bg = scene.camera.data.background_images
    assert len(bg) == 1 and bpy.path.abspath(bg[0].clip.filepath) == str(overlay)
    # Frame 4 shows both boxes' outlines where the file says, the plain footage elsewhere.
    cap = cv2.VideoCapture(str(overlay))
    for _ in range(5):
        ok, frame = cap.read()
    assert ok
    assert np.abs(frame[60:180, 40].astype(int) - 90).max() > 60  # person 4's left edge
    assert np.abs(frame[100, 200].astype(int) - 90).max() > 60  # person 9's left edge
    assert np.abs(frame[220, 300].astype(int) - 90).max() < 15
    assert not [m for m in scene.timeline_markers if m.name == "AnyLift cut"]


def test_load_tracks_marks_an_edited_videos_cuts(addon, tmp_path):
    """The file's cuts become timeline markers (file frame 8 is scene frame 9); loading another
    file replaces them, and the scene's own markers stay."""
    scene = bpy.context.scene
    scene.timeline_markers.new("mine", frame=3)
    kp = tmp_path / "edited_keypoints.json"
    _people_file(kp, cuts=(8,))
    scene.anylift.keypoints_path = str(kp)
    assert bpy.ops.anylift.load_tracks() == {"FINISHED"}
    assert sorted((m.name, m.frame) for m in scene.timeline_markers) == [("AnyLift cut", 9), ("mine", 3)]
    _people_file(kp, cuts=(2, 10))
    assert bpy.ops.anylift.load_tracks() == {"FINISHED"}
    assert sorted((m.name, m.frame) for m in scene.timeline_markers) == [
        ("AnyLift cut", 3), ("AnyLift cut", 11), ("mine", 3)
    ]  # fmt: skip


def test_person_id_reaches_the_lift_command_and_result_name(addon, tmp_path):
    from anylift_blender.operators.lift import LiftRequest, lift_command, result_path
    from anylift_blender.preferences import EngineSettings

    req = LiftRequest(keypoints=str(tmp_path / "k.json"), camera=None, out="r.npz", person=9)
    argv = lift_command(req, EngineSettings(engine_python="/py"))
    assert argv[argv.index("--person") + 1] == "9"
    plain = lift_command(LiftRequest("k.json", None, "r.npz"), EngineSettings(engine_python="/py"))
    assert "--person" not in plain
    assert result_path("/x/k.json", 9).endswith("k_anylift_9.npz")
    assert result_path("/x/k.json").endswith("k_anylift.npz")
