"""Several people: the keypoints file (anylift.io.people) and ``anylift detect`` / ``lift --person``."""

import json

import numpy as np
import pytest

from anylift.errors import InputError
from anylift.io.keypoints import read_keypoints
from anylift.io.people import People, PersonTrack, read_people, select_person, write_people
from anylift.video.people import beside_taken, centre_distance, every_frame, frame_stride, iou, mask_boxes


def _track(pid, t_len, x0, height, seen):
    kp = np.full((t_len, 17, 3), np.nan)
    kp[..., 2] = 0.0
    boxes = np.full((t_len, 4), np.nan)
    for t in seen:
        kp[t, :, 0] = x0 + t + np.arange(17)
        kp[t, :, 1] = np.linspace(100, 100 + height, 17)
        kp[t, :, 2] = 0.8
        boxes[t] = [x0 + t, 100, x0 + t + 17, 100 + height]
    return PersonTrack(pid, kp, boxes)


def test_people_file_round_trip_and_default(tmp_path):
    tracks = [
        _track(3, 12, 50, 80, range(0, 12)),
        _track(7, 12, 300, 150, range(4, 9)),
        _track(9, 12, 500, 60, [1]),
    ]
    people = People(
        tracks, fps=25.0, image_size=(640, 360), frame_times=np.arange(12) * 0.04, detector="mediapipe"
    )
    # Prominence = frames seen x sqrt(mean height): 12 x sqrt(80) beats 5 x sqrt(150).
    assert people.default == 3
    path = tmp_path / "kp.json"
    write_people(path, people)
    data = json.loads(path.read_text())
    assert data["person"] == 3 and [p["id"] for p in data["people"]] == [3, 7, 9]
    assert data["people"][1]["boxes"][0] is None and data["people"][1]["boxes"][5] == [
        305.0,
        100.0,
        322.0,
        250.0,
    ]
    # A single-person reader sees the default person.
    single = read_keypoints(path)
    np.testing.assert_allclose(single.keypoints, tracks[0].keypoints, atol=1e-3)
    back = read_people(path)
    assert back.ids() == [3, 7, 9] and back.default == 3
    assert data["detector"] == "mediapipe" and single.detector == back.keypoints2d(7).detector == "mediapipe"
    np.testing.assert_allclose(back.frame_times, np.arange(12) * 0.04)
    np.testing.assert_allclose(back.track(7).keypoints, tracks[1].keypoints, atol=1e-3)
    kp, pid, _ = select_person(path, 7)
    assert pid == 7 and (kp.scores > 0).any(-1).sum() == 5
    with pytest.raises(InputError, match="no person 4"):
        select_person(path, 4)
    table = back.table().splitlines()
    assert table[1].split()[:4] == ["3", "0-11", "12", "80"] and "(default)" in table[1]


def test_default_person_how_long_counts_more_than_how_large():
    # Without an image size nobody is nearer the middle than another (the centrality is 1).
    # A ghost: the pose model drawing a body four times too large beside a small crawling person,
    # for a quarter of the clip (frames x height would take it: 25 x 400 > 100 x 60).
    crawler, ghost = _track(1, 100, 50, 60, range(100)), _track(2, 100, 300, 400, range(40, 65))
    assert People([crawler, ghost], fps=30.0, image_size=None).default == 1
    # As long, the larger one is the default; half as long, it needs over four times the height.
    near, far = _track(1, 100, 50, 200, range(100)), _track(2, 100, 300, 50, range(100))
    assert People([far, near], fps=30.0, image_size=None).default == 1
    small = _track(2, 100, 300, 50, range(100))
    assert People([_track(1, 100, 50, 220, range(50)), small], fps=30.0, image_size=None).default == 1
    assert People([_track(1, 100, 50, 180, range(50)), small], fps=30.0, image_size=None).default == 2


def test_default_person_is_the_one_in_the_middle_not_an_onlooker_at_the_edge():
    # A real clip (DAVIS "dancing"): an onlooker at the frame's left edge, seen a little longer
    # and larger than the dancer in the middle, was the default.
    onlooker = _track(1, 100, 5, 220, range(100))  # box centre 14-113 px of 640
    dancer = _track(2, 100, 280, 180, range(95))  # 289-383 px
    assert onlooker.centrality((640, 360)) < 0.7 < 0.98 < dancer.centrality((640, 360))
    assert onlooker.centrality(None) == dancer.centrality(None) == 1.0
    assert People([onlooker, dancer], fps=30.0, image_size=(640, 360)).default == 2
    assert People([onlooker, dancer], fps=30.0, image_size=None).default == 1
    # Mirrored to the right edge, the same; and the table lists the dancer first.
    right = _track(3, 100, 526, 220, range(100))  # 535-634 px
    people = People([right, dancer], fps=30.0, image_size=(640, 360))
    assert people.default == 2 and [t.id for t in people.by_prominence()] == [2, 3]
    assert "(default)" in people.table().splitlines()[1]
    # Much longer seen, the person at the edge is still the default (a walker crossing a static
    # camera's frame spends most of the clip away from the middle).
    brief = _track(2, 100, 280, 180, range(40))
    assert People([onlooker, brief], fps=30.0, image_size=(640, 360)).default == 1


def test_single_person_file_is_one_track(tmp_path):
    from anylift.io.keypoints import Keypoints2D, write_keypoints

    path = tmp_path / "one.json"
    write_keypoints(
        path, Keypoints2D(_track(0, 5, 10, 90, range(5)).keypoints, fps=30.0, image_size=(64, 64))
    )
    kp, pid, people = select_person(path)
    assert pid is None and people.ids() == [0] and kp.num_frames == 5


def test_box_geometry():
    a = np.array([[0, 0, 10, 20.0]])
    b = np.array([[5, 0, 15, 20.0], [0, 0, 10, 20.0]])
    np.testing.assert_allclose(iou(a, b), [[1 / 3, 1.0]])
    np.testing.assert_allclose(centre_distance(a, b), [[5 / 20, 0.0]])
    mask = np.zeros((100, 100))
    mask[10:60, 20:30] = 1.0  # a person
    mask[63:90, 20:30] = 1.0  # ... whose legs the mask cut off: closed into one blob
    mask[10:15, 80:85] = 1.0  # too small
    np.testing.assert_allclose(mask_boxes(mask, 0.5, 24), [[20, 10, 30, 90]])
    # Someone behind a tracked person (box 20-30 x 10-60) makes one blob with them: what sticks
    # out is proposed too; nothing more where the blob is the tracked person alone.
    mask = np.zeros((100, 100))
    mask[10:60, 20:30] = 1.0
    mask[30:85, 26:40] = 1.0
    np.testing.assert_allclose(mask_boxes(mask, 0.5, 24), [[20, 10, 40, 85]])
    whole = mask_boxes(mask, 0.5, 24)
    np.testing.assert_allclose(beside_taken(mask, 0.5, 24, [[20.0, 10, 30, 60]], whole), [[26, 30, 40, 85]])
    assert beside_taken(mask, 0.5, 24, [[15.0, 5, 45, 100]], whole).shape == (0, 4)
    assert beside_taken(mask, 0.5, 24, [[60.0, 5, 90, 100]], whole).shape == (0, 4)  # the blob itself


def test_detect_and_lift_person_on_render(rendered_clip, tmp_path, capsys):
    from anylift.video.cli import main

    out = tmp_path / "kp.json"
    assert main(["detect", str(rendered_clip / "video.mp4"), "--out", str(out), "--progress", "none"]) == 0
    printed = capsys.readouterr().out
    assert "height px" in printed and "default person" in printed
    people = read_people(out)
    truth = np.load(rendered_clip / "truth.npz")
    kp = people.keypoints2d().keypoints
    ok = (kp[..., 2] > 0) & truth["in_image"]
    # A 320x240 frame, the person about 100 px tall: measured 99.6 % of the frames (the landmark
    # model on the track's own region; a face-based detector on every frame found under half).
    assert ok.sum() > 0.9 * truth["in_image"].sum(), ok.sum() / truth["in_image"].sum()
    err = np.linalg.norm(kp[..., :2] - truth["keypoints2d"], axis=-1)[ok]
    # Measured 4.6 px here; a wrong joint order, region offset or scale is off by tens of pixels.
    assert np.median(err) < 8.0, np.median(err)


def test_keep_leg_labels_changes_only_which_leg_is_which(rendered_clip, tmp_path):
    from anylift.video.cli import main

    video = str(rendered_clip / "video.mp4")
    assert main(["detect", video, "--out", str(tmp_path / "a.json"), "--progress", "none"]) == 0
    argv = ["detect", video, "--out", str(tmp_path / "b.json"), "--progress", "none", "--keep-leg-labels"]
    assert main(argv) == 0
    relabelled = read_people(tmp_path / "a.json").keypoints2d().keypoints
    kept = read_people(tmp_path / "b.json").keypoints2d().keypoints
    legs = [13, 14, 15, 16]
    rest = [j for j in range(17) if j not in legs]
    np.testing.assert_array_equal(relabelled[:, rest], kept[:, rest])
    swapped = kept[:, [14, 13, 16, 15]]
    same = np.isclose(relabelled[:, legs], kept[:, legs], equal_nan=True).all((1, 2))
    other = np.isclose(relabelled[:, legs], swapped, equal_nan=True).all((1, 2))
    assert (same | other).all()


def test_variable_rate_video_gives_the_keypoints_their_frame_times(rendered_clip, tmp_path, capsys):
    """A phone video that dropped frames: the keypoints file carries each frame's time (which the
    lift resamples by), and the keypoints of each frame are that frame's."""
    from anylift.video.cli import main
    from anylift.video.reader import open_video

    from .conftest import timed_video

    source = open_video(rendered_clip / "video.mp4")
    kept = [t for t in range(len(list(source))) if t not in (4, 5, 9)]
    frames = list(source)
    path = tmp_path / "phone.mp4"
    timed_video(path, [frames[t] for t in kept], [t / source.fps for t in kept])
    out = tmp_path / "kp.json"
    assert main(["detect", str(path), "--out", str(out), "--progress", "none"]) == 0
    assert "variable frame rate" in capsys.readouterr().out
    people = read_people(out)
    np.testing.assert_allclose(people.frame_times, [t / source.fps for t in kept], atol=2e-3)
    truth = np.load(rendered_clip / "truth.npz")
    kp = people.keypoints2d().keypoints
    ok = (kp[..., 2] > 0) & truth["in_image"][kept]
    err = np.linalg.norm(kp[..., :2] - truth["keypoints2d"][kept], axis=-1)[ok]
    assert ok.sum() > 0.8 * truth["in_image"][kept].sum() and np.median(err) < 8.0, np.median(err)


def test_a_body_turning_fast_is_followed_the_right_way_up(rendered_clip, tmp_path):
    """The render turned clockwise about the body ever faster, 7 degrees a frame more each frame up
    to 40 (a backflip seen side on): each frame's torso stays within 30 degrees of the truth's.
    The landmark model's region turned only like the last frame's torso fell behind from the fourth
    frame on and drew the body upside down (166 degrees off) by the last."""
    import cv2

    from anylift.video.people import _wrap, detect_people, torso_angle

    truth = np.load(rendered_clip / "truth.npz")["keypoints2d"]
    frames = sorted((rendered_clip / "frames").glob("*.png"))
    want, pad = [], np.array([160.0, 120.0])  # a border, so the corners stay in the frame
    turn_by = np.cumsum(np.minimum(7.0 * np.arange(len(frames)), 40.0))  # degrees
    for t, path in enumerate(frames):
        img = cv2.copyMakeBorder(
            cv2.imread(str(path)), 120, 120, 160, 160, cv2.BORDER_CONSTANT, value=(90,) * 3
        )
        centre = truth[t].mean(0) + pad
        turn = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), -float(turn_by[t]), 1.0)
        cv2.imwrite(str(tmp_path / f"{t:05d}.png"),
                    cv2.warpAffine(img, turn, img.shape[1::-1], borderValue=(90,) * 3))  # fmt: skip
        want.append(torso_angle(np.c_[(truth[t] + pad) @ turn[:, :2].T + turn[:, 2], np.ones(17)]))
    kp = detect_people(tmp_path, fps=30).keypoints2d().keypoints
    got = [torso_angle(k) for k in kp]
    assert all(a is not None for a in got), got
    off = [abs(np.degrees(_wrap(a - b))) for a, b in zip(got, want, strict=True)]
    assert max(off) < 30.0, np.round(off)


def test_high_resolution_footage_is_looked_at_shrunk_where_that_loses_nothing(
    rendered_clip, tmp_path, monkeypatch
):
    """The render upscaled 5 times (1600x1200): the proposals look at it shrunk to
    ``proposal_side``, and the person is found as often and as precisely as at 320x240 (in the
    render's pixels). On a 4K copy of a footage render, shrinking the proposals and the frames
    kept for looking back took detection from 12.8 to 8.7 s and 1.9 GB to 0.9, and the people
    found from 94 to 98 % of their frames (360p: 100 %)."""
    import cv2

    from anylift.video import people as people_mod

    truth = np.load(rendered_clip / "truth.npz")
    for t, path in enumerate(sorted((rendered_clip / "frames").glob("*.png"))):
        big = cv2.resize(cv2.imread(str(path)), None, fx=5, fy=5, interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(tmp_path / f"{t:05d}.png"), big)
    masks = []
    boxes_of = people_mod.mask_boxes
    monkeypatch.setattr(people_mod, "mask_boxes", lambda m, *a: masks.append(m.shape) or boxes_of(m, *a))
    people = people_mod.detect_people(tmp_path, fps=30)
    assert masks and max(max(shape) for shape in masks) == 1280, set(masks)
    assert people.image_size == (1600, 1200)
    kp = people.keypoints2d().keypoints
    ok = (kp[..., 2] > 0) & truth["in_image"]
    assert ok.sum() > 0.9 * truth["in_image"].sum(), ok.sum() / truth["in_image"].sum()
    err = np.linalg.norm(kp[..., :2] / 5 - truth["keypoints2d"], axis=-1)[ok]
    assert np.median(err) < 8.0, np.median(err)  # measured 2.4 px (320x240 itself: 3.1), both 99.6 % found


def test_frames_between_looked_at_ones_are_interpolated():
    rates = (24, 25, 30, 40, 45, 50, 59.94, 60, 120)
    assert [frame_stride(r, 30.0) for r in rates] == [1, 1, 1, 1, 2, 2, 2, 2, 4]
    assert frame_stride(60.0, 0.0) == 1
    kp = np.zeros((3, 17, 3))
    kp[:, 0] = [[0.0, 0.0, 1.0], [2.0, 4.0, 0.5], [4.0, 8.0, 1.0]]
    kp[:, 1:] = np.array([[10.0, 10.0, 0.8], [np.nan, np.nan, 0.0], [20.0, 20.0, 1.0]])[:, None]
    boxes = np.array([[0.0, 0.0, 2.0, 2.0], [np.nan] * 4, [4.0, 4.0, 6.0, 6.0]])
    up, ub = every_frame(kp, boxes, 2, 6)
    assert up.shape == (6, 17, 3) and ub.shape == (6, 4)
    np.testing.assert_array_equal(up[[0, 2, 4]], kp)  # each looked-at frame its own
    np.testing.assert_allclose(up[1, 0], [1.0, 2.0, 0.5])  # halfway, the lower score
    np.testing.assert_allclose(up[3, 0], [3.0, 6.0, 0.5])
    assert (up[[1, 3], 1, 2] == 0).all() and np.isnan(up[[1, 3], 1, :2]).all()  # unseen on one side
    np.testing.assert_array_equal(up[5], kp[2])  # the last one held
    np.testing.assert_allclose(ub[[0, 4, 5]], boxes[[0, 2, 2]])
    assert np.isnan(ub[1:4]).all()  # no box in a frame looked at: none on either side of it
    same, same_boxes = every_frame(kp, boxes, 1, 3)
    np.testing.assert_array_equal(same, kp)
    np.testing.assert_array_equal(same_boxes, boxes)


def test_fast_footage_is_looked_at_in_every_other_frame(rendered_clip, monkeypatch):
    """A 60 fps video with ``detect_rate`` 30: the detector looks at every second frame,
    every frame still gets its keypoints, as close to the truth as when it looks at all."""
    from anylift.video import people as people_mod

    calls = []
    model = people_mod.RoiPose.__call__
    monkeypatch.setattr(
        people_mod.RoiPose, "__call__", lambda self, *a, **k: calls.append(1) or model(self, *a, **k)
    )
    truth = np.load(rendered_clip / "truth.npz")
    found = {}
    for rate in (0.0, 30.0):
        calls.clear()
        cfg = people_mod.PeopleConfig(detect_rate=rate)
        people = people_mod.detect_people(rendered_clip / "frames", fps=60.0, config=cfg)
        kp = people.keypoints2d().keypoints
        assert people.fps == 60.0 and kp.shape[0] == len(truth["keypoints2d"])
        ok = (kp[..., 2] > 0) & truth["in_image"]
        assert ok.sum() > 0.9 * truth["in_image"].sum(), (rate, ok.sum())
        err = np.linalg.norm(kp[..., :2] - truth["keypoints2d"], axis=-1)[ok]
        found[rate] = (len(calls), np.median(err))
    (all_calls, all_err), (half_calls, half_err) = found[0.0], found[30.0]
    assert half_calls <= 0.6 * all_calls, found
    # Measured: the model on 15 regions and 7; median error 3.4 and 3.7 px (the render moves as
    # much in a frame as 30 fps footage, so the frames in between are further from a line).
    assert half_err < 8.0 and half_err < all_err + 1.5, found


def test_several_regions_drawn_at_once_give_what_one_graph_gives_in_order(rendered_clip):
    """Two graphs in two threads (``RoiPoses``) draw a frame's regions as one graph does, in the
    order asked, and both threads take part."""
    import threading

    import cv2

    from anylift.video.people import RoiPoses

    truth = np.load(rendered_clip / "truth.npz")["keypoints2d"]
    frame = cv2.imread(str(sorted((rendered_clip / "frames").glob("*.png"))[5]))
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    box = np.r_[truth[5].min(0), truth[5].max(0)]
    regions = [box + d for d in (0.0, 6.0, -6.0, 12.0)] + [np.array([0.0, 0.0, 40.0, 40.0])] * 2
    regions += [box * np.array([1.0, 1.0, 1.05, 1.05]), box + np.array([0.0, 10.0, 0.0, 10.0])]
    threads = set()

    def draw(model, region):
        threads.add(threading.get_ident())
        return model(rgb, region)

    one, two = RoiPoses(1), RoiPoses(2)
    try:
        alone = one.map(draw, regions)
        threads.clear()
        together = two.map(draw, regions)
    finally:
        one.close()
        two.close()
    assert len(threads) == 2 and len(together) == len(regions)
    assert sum(kp is not None for kp in alone) >= 4  # the body's regions drawn, the corner's not
    for a, b in zip(alone, together, strict=True):
        assert (a is None and b is None) or np.array_equal(a, b)


def test_detect_threads_is_a_whole_number_and_changes_nothing_found(rendered_clip, tmp_path, capsys):
    """``anylift detect --threads 1`` (several detections sharing a machine) finds what the
    default finds; 0 is refused with a message."""
    from anylift.video.cli import main

    video = str(rendered_clip / "video.mp4")
    for name, extra in (("one", ["--threads", "1"]), ("auto", [])):
        assert (
            main(["detect", video, "--out", str(tmp_path / f"{name}.json"), "--progress", "none", *extra])
            == 0
        )
    one, auto = read_people(tmp_path / "one.json"), read_people(tmp_path / "auto.json")
    np.testing.assert_array_equal(one.keypoints2d().keypoints, auto.keypoints2d().keypoints)
    with pytest.raises(SystemExit):
        main(["detect", video, "--out", str(tmp_path / "x.json"), "--threads", "0"])
    assert "expected a whole number >= 1" in capsys.readouterr().err


def test_native_start_up_lines_are_dropped_real_errors_kept(capfd):
    import os

    from anylift.video.native_logs import quiet_native_logs

    with quiet_native_logs():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written\n")
        os.write(2, b"W0000 00:00:1796052444.721824   21112 inference_feedback_manager.cc:114] Feedback\n")
        os.write(2, b"E: a real failure\n")
    err = capfd.readouterr().err
    assert err == "E: a real failure\n"


def test_person_depth_of_frames_without_limbs_is_nan_without_warning():
    import warnings

    from anylift.io.keypoints import Keypoints2D
    from anylift.video.camera_estimation import person_depth

    kp = _track(1, 6, 100, 170, range(3)).keypoints  # seen in frames 0-2 only
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        depth = person_depth(Keypoints2D(kp, fps=30.0, image_size=(640, 360)), focal=500.0, window=1)
    np.testing.assert_allclose(depth[:3], depth[0])  # the seen frames: one consistent depth
