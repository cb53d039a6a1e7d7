"""Tracks of no one (``anylift.video.ghosts``): still, no person segmented, a drawing that moves
with its region; set aside by ``detect_people`` and listed by ``anylift detect``."""

from __future__ import annotations

import numpy as np
import pytest

from anylift.video import ghosts


def _pan(t: int) -> np.ndarray:
    """A camera panning 6 px a frame to the right: the scene moves 6 px left in the picture."""
    return np.array([[1.0, 0.0, -6.0], [0.0, 1.0, 0.0]])


def test_still_is_measured_in_the_world_through_the_camera_motion():
    box = np.array([100.0, 50.0, 130.0, 150.0])  # 100 px tall
    motions = {t: _pan(t) for t in range(1, 40)}
    # A pole: moves with the scene, 6 px a frame left in the picture -> still in the world.
    pole = {t: box - [6 * t, 0, 6 * t, 0] for t in range(40)}
    assert ghosts.still(pole, motions)
    # The same boxes under a static camera move 234 px: not still.
    assert not ghosts.still(pole, {})
    # A walker crossing the picture while the camera pans along: still in the picture, moving in
    # the world.
    assert not ghosts.still({t: box for t in range(40)}, motions)
    # A person swaying in place, and a skeleton jumping about a hoop for a few frames: still.
    sway = {t: box + 20 * np.sin(t / 3) * np.array([1.0, 0.0, 1.0, 0.0]) for t in range(40)}
    assert ghosts.still(sway, {})
    jumpy = {t: box + ([300, 0, 300, 0] if t % 7 == 0 else 0) for t in range(40)}
    assert ghosts.still(jumpy, {})
    assert not ghosts.still({}, {})


def test_support_reads_the_mask_along_confident_limbs():
    kp = np.zeros((17, 3))
    kp[:, 2] = 1.0
    kp[[5, 7, 9, 11, 13, 15], :2] = [[40, 20], [40, 40], [40, 60], [40, 50], [40, 70], [40, 90]]
    kp[[6, 8, 10, 12, 14, 16], :2] = [[60, 20], [60, 40], [60, 60], [60, 50], [60, 70], [60, 90]]
    mask = np.zeros((100, 100), np.float32)
    assert ghosts.support(mask, kp) == 0.0
    mask[:, 35:66] = 1.0
    assert ghosts.support(mask, kp) == 1.0
    kp[:, 2] = 0.2
    assert ghosts.support(mask, kp) is None


def test_no_one_needs_both_tests_to_fail():
    assert ghosts.no_one([(0.0, 0.9)] * 8)
    assert ghosts.no_one([(None, 1.0)] * 3)
    assert not ghosts.no_one([(0.9, 0.9)] * 8)  # a person segmented: small, the drawing unstable
    assert not ghosts.no_one([(0.0, 0.05)] * 8)  # a mannequin: not segmented, the drawing stays
    assert not ghosts.no_one([])


def test_detect_sets_aside_a_track_on_the_background_and_keeps_the_person(rendered_clip):
    """The dancer's render: her track is kept; a made-up still track on the background (a skeleton
    where there is nobody) is set aside, but never the only one."""
    pytest.importorskip("mediapipe")
    from anylift.video.people import _set_aside_still, _Track, detect_people

    video = rendered_clip / "video.mp4"
    people = detect_people(video)
    dancer = people.tracks[0]
    person = _Track(1, dancer.boxes[0], 0)
    seen = np.flatnonzero(dancer.seen)
    person.frames = {t: (dancer.boxes[t], dancer.keypoints[t]) for t in seen}
    # The ghost: the dancer's first skeleton, moved to where she never is (the frame's top corner).
    first = seen[0]
    kp = dancer.keypoints[first].copy()
    box = dancer.boxes[first]
    where = np.array([5.0, 5.0]) - box[:2] if box[0] > 160 else np.array([315.0, 5.0]) - box[[2, 1]]
    kp[:, :2] += where
    ghost = _Track(2, box + np.tile(where, 2), 0)
    ghost.frames = {t: (box + np.tile(where, 2), kp) for t in range(16)}
    motions = dict.fromkeys(range(16))
    kept, gone = _set_aside_still([person, ghost], motions, video, None, 1)
    assert kept == [person] and gone == [ghost]
    kept, gone = _set_aside_still([ghost], motions, video, None, 1)
    assert kept == [ghost] and gone == []


def test_detect_sets_aside_only_when_asked_and_lists_it(rendered_clip, tmp_path, monkeypatch, capsys):
    """``anylift detect --set-aside-still`` names the frames and sizes of the tracks set aside;
    without it every track is kept."""
    pytest.importorskip("mediapipe")
    from anylift.video import people as people_module
    from anylift.video.cli import main

    real = people_module.detect_people
    configs = []

    def detect(video, *, config, set_aside, **kw):
        configs.append(config)
        found = real(video, config=config, **kw)
        if config.set_aside_still:
            set_aside.append((3, 14, 12, 41.0))  # as _set_aside_still reports one
        return found

    monkeypatch.setattr(people_module, "detect_people", detect)
    video, out = str(rendered_clip / "video.mp4"), str(tmp_path / "kp.json")
    argv = ["detect", video, "--out", out, "--progress", "none"]
    assert main([*argv, "--set-aside-still"]) == 0
    printed = capsys.readouterr().out
    assert "set aside 1 still track that looks like no one (a pole" in printed, printed
    assert "moves with its region): frames 3-14 (41 px)" in printed, printed
    assert main(argv) == 0
    assert "set aside" not in capsys.readouterr().out
    assert [c.set_aside_still for c in configs] == [True, False]
