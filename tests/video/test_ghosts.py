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


def _walker(t: int, speed: float = 4.0) -> np.ndarray:
    """A 200 px tall person walking ``speed`` px a frame to the right, bobbing 3 px."""
    bob = 3.0 * np.sin(t / 2)
    return np.array([100.0 + speed * t, 80.0 + bob, 180.0 + speed * t, 280.0 + bob])


def test_a_small_track_in_step_with_a_walking_person_rides_on_them():
    """The kite board's end held beside a kiter (real footage: a 25 px drawing 0.3 of his height
    from his centre, keeping its place within 0.03 of it) is a rider while he walks; someone small
    standing behind him, a child carried on his shoulders, or a rider whose carrier stands still
    (no evidence) are not."""
    frames = range(60)  # he walks 240 px: 1.2 of his heights
    carrier = {t: _walker(t) for t in frames}
    jitter = {t: 2.0 * np.array([np.sin(t), np.cos(1.3 * t), np.sin(t), np.cos(1.3 * t)]) for t in frames}
    board = {t: carrier[t] + [95, 100, -45, -75] + jitter[t] for t in frames}  # 25 px tall, beside him
    assert ghosts.rider(board, carrier, {})
    # Seen in the rider's frames only 70 % of the time: not its carrier.
    assert not ghosts.rider(board, {t: b for t, b in carrier.items() if t % 10 < 7}, {})
    # Someone 25 px tall standing where the board starts: he walks past them.
    behind = {t: board[0] + jitter[t] for t in frames}
    assert not ghosts.rider(behind, carrier, {})
    # A child on his shoulders: 70 px, 35 % of his height.
    child = {t: carrier[t] + [10, -60, -10, -190] for t in frames}
    assert not ghosts.rider(child, carrier, {})
    # A man standing in place with a tool held beside him: nothing tells it from someone behind.
    standing = {t: _walker(t, speed=0.0) for t in frames}
    tool = {t: standing[t] + [95, 100, -45, -75] + jitter[t] for t in frames}
    assert not ghosts.rider(tool, standing, {})
    # ... but a camera panning along with the man walking: he stays in the picture, the scene slides
    # 4 px a frame -> he walks through the scene, and the board rides on him.
    pan = {t: np.array([[1.0, 0.0, -4.0], [0.0, 1.0, 0.0]]) for t in range(1, 60)}
    assert ghosts.rider(tool, standing, pan)
    # Far from him (more than his height): not on him, whatever its step.
    far = {t: board[t] + [250, 0, 250, 0] for t in frames}
    assert not ghosts.rider(far, carrier, {})


def test_riders_are_set_aside_from_the_tracks_and_their_carrier_kept():
    from anylift.video.people import _Track, set_aside_riders

    def track(i, boxes):
        tr = _Track(i, boxes[0], 0)
        tr.frames = {t: (b, np.zeros((17, 3))) for t, b in boxes.items()}
        return tr

    frames = range(60)
    kiter = track(1, {t: _walker(t) for t in frames})
    board = track(2, {t: _walker(t) + np.array([95, 100, -45, -75]) for t in frames})
    other = track(3, {t: _walker(t, speed=-3.0) + np.array([300, 0, 300, 0]) for t in frames})
    kept, gone = set_aside_riders([kiter, board, other], {})
    assert kept == [kiter, other] and gone == [board]


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
    without it every still track is kept. Riders are set aside and listed either way."""
    pytest.importorskip("mediapipe")
    from anylift.video import people as people_module
    from anylift.video.cli import main

    real = people_module.detect_people
    configs = []

    def detect(video, *, config, set_aside, **kw):
        configs.append(config)
        found = real(video, config=config, **kw)
        set_aside.append((20, 90, 66, 25.0, "rider"))  # as detect_people reports a rider
        if config.set_aside_still:
            set_aside.append((3, 14, 12, 41.0, "still"))  # ... and a track of no one
        return found

    monkeypatch.setattr(people_module, "detect_people", detect)
    video, out = str(rendered_clip / "video.mp4"), str(tmp_path / "kp.json")
    argv = ["detect", video, "--out", out, "--progress", "none"]
    assert main([*argv, "--set-aside-still"]) == 0
    printed = capsys.readouterr().out
    assert "set aside 1 still track of no one (a pole" in printed, printed
    assert "moves with its region): frames 3-14 (41 px)" in printed, printed
    assert "set aside 1 small track riding on a person (on a board or a bag" in printed, printed
    assert "as they walk): frames 20-90 (25 px)" in printed, printed
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "still track" not in printed and "set aside 1 small track riding" in printed, printed
    assert [c.set_aside_still for c in configs] == [True, False]
