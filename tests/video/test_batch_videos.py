"""``anylift batch`` on a folder of videos: each is detected, its camera estimated and its people
lifted, resumable; a video's keypoints file beside it is used instead of detecting again."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from anylift.batch.clips import find_clips
from anylift.batch.manifest import read_manifest
from anylift.batch.run import PeopleChoice, run_batch
from anylift.errors import InputError
from anylift.fitting.smpl_fit import SmplFitConfig
from anylift.io.cameras import read_camera
from anylift.io.motion import read_motion
from anylift.io.people import People, read_people, write_people
from anylift.lifting.options import LiftOptions

FAST = LiftOptions(steps=2, fit_config=SmplFitConfig(stage1_iterations=10, stage2_iterations=20))


def test_a_folder_of_videos_keypoints_and_cameras_makes_clips(tmp_path):
    for name in ("a.mp4", "b.MOV", "b_keypoints.json", "b_camera.json", "c.json", "notes.txt"):
        (tmp_path / name).write_text('{"format": "anylift.keypoints/1"}')  # only the names count here
    clips = {c.name: c for c in find_clips(tmp_path)}
    assert sorted(clips) == ["a", "b", "c"]
    assert (
        clips["a"].video == tmp_path / "a.mp4" and clips["a"].keypoints is None and clips["a"].camera is None
    )
    # A video and its keypoints (and camera) beside it are one clip: nothing is detected again.
    assert clips["b"].video == tmp_path / "b.MOV" and clips["b"].keypoints == tmp_path / "b_keypoints.json"
    assert clips["b"].camera == tmp_path / "b_camera.json"
    assert clips["c"].video is None and clips["c"].keypoints == tmp_path / "c.json"
    (tmp_path / "a.avi").write_text("x")
    with pytest.raises(InputError, match=r"two clips are named 'a' \(a.avi, a.mp4\)"):
        find_clips(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"holds no clip.*videos \(.mp4"):
        find_clips(tmp_path / "empty")


@pytest.fixture(scope="module")
def video_folder(rendered_clip, tmp_path_factory):
    """Two copies of the dancer's render and a file that is no video."""
    folder = tmp_path_factory.mktemp("videos")
    for name in ("dance", "dance_again"):
        shutil.copy(rendered_clip / "video.mp4", folder / f"{name}.mp4")
    (folder / "broken.mp4").write_bytes(b"not a video")
    return folder


def test_batch_detects_estimates_and_lifts_each_video_and_resumes(video_folder, rendered_clip, tmp_path):
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    records = {
        r["clip"]: r for r in run_batch(find_clips(video_folder), out, options=FAST, manifest=manifest)
    }
    assert records["broken"]["status"] == "failed" and "broken.mp4" in records["broken"]["error"]
    assert records["broken"]["outputs"] == []
    frames = int(np.load(rendered_clip / "truth.npz")["keypoints2d"].shape[0])
    for name in ("dance", "dance_again"):
        r = records[name]
        assert r["status"] == "ok", r.get("error")
        assert r["outputs"] == [
            str(out / f"{name}{tail}") for tail in ("_keypoints.json", "_camera.json", ".npz")
        ]
        assert {"detect", "camera", "total"} <= set(r["timings"])
        people = read_people(out / f"{name}_keypoints.json")
        assert r["people"] == [people.default]
        assert read_camera(out / f"{name}_camera.json").num_frames == frames
        motion = read_motion(out / f"{name}.npz")
        assert motion.num_frames == frames and np.isfinite(motion.joints).all()
    # --resume: the finished clips are skipped; a result lost is lifted again from the keypoints and
    # camera written beside it (neither detected nor estimated again).
    (out / "dance_again.npz").unlink()
    camera_before = (out / "dance_again_camera.json").read_bytes()
    again = run_batch(find_clips(video_folder), out, options=FAST, manifest=manifest, resume=True)
    status = {r["clip"]: r for r in again}
    assert status["dance"]["status"] == "skipped" and status["broken"]["status"] == "failed"
    assert status["dance_again"]["status"] == "ok"
    assert not {"detect", "camera"} & set(status["dance_again"]["timings"])
    assert (out / "dance_again_camera.json").read_bytes() == camera_before
    assert len(read_manifest(manifest)) == 6


def test_batch_lifts_every_person_of_an_edited_video_through_their_shot_camera(rendered_clip, tmp_path):
    """The dancer's 16 frames, then the same frames mirrored with red and blue swapped: a cut at
    frame 16, one person in each shot. ``--all`` lifts both, each through a camera of their shot."""
    frames = [cv2.imread(str(p)) for p in sorted((rendered_clip / "frames").glob("*.png"))]
    h, w = frames[0].shape[:2]
    folder = tmp_path / "clips"
    folder.mkdir()
    writer = cv2.VideoWriter(str(folder / "edited.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (w, h))
    for f in frames + [f[:, ::-1, ::-1].copy() for f in frames]:
        writer.write(f)
    writer.release()
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    choice = PeopleChoice(all_people=True, min_seconds=0.3)
    (record,) = run_batch(find_clips(folder), out, options=FAST, manifest=manifest, people=choice)
    assert record["status"] == "ok", record.get("error")
    people = read_people(out / "edited_keypoints.json")
    assert people.cuts == (16,), people.cuts
    ids = [t.id for t in people.tracks if t.seen.sum() >= 0.3 * people.fps]
    assert len(ids) >= 2 and sorted(record["people"]) == ids and record["people"][0] == people.default
    for shot, pid in ((1, ids[0]), (2, ids[-1])):
        assert str(out / f"edited_camera_shot{shot}.json") in record["outputs"]
        motion = read_motion(out / f"edited_{pid}.npz")
        assert motion.num_frames == 32
    # Each camera moves only within its own shot (the rest holds its first or last pose).
    first = read_camera(out / "edited_camera_shot1.json").world_to_camera
    np.testing.assert_allclose(first[16:], first[15:16].repeat(16, 0), atol=1e-9)
    second = read_camera(out / "edited_camera_shot2.json").world_to_camera
    np.testing.assert_allclose(second[:16], second[16:17].repeat(16, 0), atol=1e-9)
    # Resumed, the clip is known finished from its keypoints file and every person's result.
    (again,) = run_batch(find_clips(folder), out, options=FAST, manifest=manifest, people=choice, resume=True)
    assert again["status"] == "skipped"
    assert again["outputs"] == [str(out / f"edited_{i}.npz") for i in record["people"]]


def test_batch_lifts_variable_rate_keypoints_at_their_frame_times(rendered_clip, tmp_path):
    """A keypoints file with frame times (a phone's variable rate): the batch passes them to the
    lift as ``anylift lift`` does, so the result is sampled at those times (its rate their mean)."""
    from anylift.video.cli import main

    kp = tmp_path / "clips" / "phone_keypoints.json"
    kp.parent.mkdir()
    assert main(["detect", str(rendered_clip / "video.mp4"), "--out", str(kp), "--progress", "none"]) == 0
    people = read_people(kp)
    step = (
        np.where(np.arange(1, people.num_frames) % 5 == 0, 2.0, 1.0) / people.fps
    )  # every 5th frame dropped
    times = np.r_[0.0, np.cumsum(step)]
    write_people(kp, People(people.tracks, people.fps, people.image_size, frame_times=times))
    out = tmp_path / "out"
    (record,) = run_batch(find_clips(kp.parent), out, options=FAST, manifest=tmp_path / "m.jsonl")
    assert record["status"] == "ok", record.get("error")
    motion = read_motion(out / "phone.npz")
    assert motion.num_frames == people.num_frames
    # Without the frame times it would be the file's 30 fps.
    assert motion.fps == pytest.approx((people.num_frames - 1) / times[-1]) and motion.fps < 0.9 * people.fps


def test_batch_sets_aside_tracks_of_no_one_when_asked(video_folder, tmp_path, monkeypatch):
    """``anylift batch --set-aside-still`` detects as ``anylift detect --set-aside-still`` does and
    lists what it set aside in the manifest (``set_aside``); its landmark model runs in the clip's
    ``--threads`` (not the machine's cores, which the clips share)."""
    from anylift.video import people as people_module

    real = people_module.detect_people
    configs = []

    def detect(video, *, config, set_aside, **kw):
        configs.append((config.set_aside_still, config.pose_threads))
        found = real(video, config=config, **kw)
        if config.set_aside_still:
            set_aside.append((3, 14, 12, 41.04, "still"))  # as detect_people reports one
        return found

    monkeypatch.setattr(people_module, "detect_people", detect)
    clips = [c for c in find_clips(video_folder) if c.name == "dance"]
    choice = PeopleChoice(set_aside_still=True)
    (record,) = run_batch(
        clips, tmp_path / "a", options=FAST, manifest=tmp_path / "a.jsonl", people=choice, threads=2
    )
    assert record["status"] == "ok"
    assert record["set_aside"] == [{"frames": [3, 14], "height": 41.0, "why": "still"}]
    (record,) = run_batch(clips, tmp_path / "b", options=FAST, manifest=tmp_path / "b.jsonl")
    assert record["status"] == "ok" and "set_aside" not in record
    assert configs == [(True, 2), (False, 1)]
