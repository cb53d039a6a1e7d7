"""An edited video's cuts: found (anylift.video.cuts), kept in the keypoints file, and the camera
estimated on one shot only."""

import itertools

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from anylift.data.trajectories import intrinsics, look_at
from anylift.errors import InputError
from anylift.io.people import People, PersonTrack, read_people, write_people
from anylift.video.camera_estimation import estimate_camera, person_shot
from anylift.video.cuts import CutFinder, DissolveFinder, breaks, frame_histogram, histogram_distance
from anylift.video.people import detect_people
from anylift.video.reader import open_video

from .conftest import textured_panorama
from .test_vanishing import _floor_and_poles

SIZE = (640, 360)
FLOOR_FRAMES, PAN_FRAMES = 6, 16


def _pan_frames(seed=0):
    """A camera turning 0.5 deg a frame about the vertical over a textured scene."""
    pano = textured_panorama(seed)
    ph, pw = pano.shape[:2]
    K, Kp = intrinsics(SIZE, 500.0), np.array([[500.0, 0, pw / 2], [0, 500.0, ph / 2], [0, 0, 1]])
    rots = Rotation.from_euler("y", np.radians(0.5 * np.arange(PAN_FRAMES))[:, None]).as_matrix()
    return [cv2.warpPerspective(pano, K @ R @ np.linalg.inv(Kp), SIZE) for R in rots], rots


def _floor_frames():
    """A static camera 5 m up over a floor with poles, looking 30 deg down."""
    w2c = look_at(np.array([0.0, -6.0, 5.0]), np.array([0.0, 3.0, 0.0]))
    return [_floor_and_poles(w2c, intrinsics(SIZE, 500.0), SIZE)] * FLOOR_FRAMES, w2c


@pytest.fixture(scope="module")
def two_shots(tmp_path_factory):
    """An image folder: the floor shot (frames 0-5), then the pan (6-21)."""
    floor, w2c = _floor_frames()
    pan, rots = _pan_frames()
    folder = tmp_path_factory.mktemp("edited")
    for t, frame in enumerate(floor + pan):
        cv2.imwrite(str(folder / f"{t:04d}.png"), frame)
    return folder, w2c, rots


def _grey(frame):
    return cv2.cvtColor(cv2.resize(frame, (320, 180)), cv2.COLOR_BGR2GRAY)


def test_the_cut_between_two_shots_is_found_and_nothing_else(two_shots):
    folder, _, _ = two_shots
    finder = CutFinder()
    cuts = [t - 1 for t, f in enumerate(open_video(folder)) if finder(f, _grey(f))]  # a frame late
    assert cuts == [FLOOR_FRAMES]


def test_colours_that_change_over_a_background_that_goes_on_are_no_cut():
    """A large red shape sweeping in front of the camera (a dancer's skirt): the colours change as
    much as at a cut (distance 0.54), but the picture around it continues (37 % of the corners
    followed, half the picture being covered)."""
    pan, _ = _pan_frames()
    finder = CutFinder()
    for t, frame in enumerate(pan[:4]):
        frame = frame.copy()
        if t == 2:
            frame[:, : SIZE[0] // 2] = (30, 30, 220)  # half the picture red at once
        assert not finder(frame, _grey(frame)), t
    # A black frame, then the scene: a cut (no corners to follow in the black one), known with the
    # frame after it.
    finder = CutFinder()
    black = np.zeros_like(pan[0])
    assert [finder(f, _grey(f)) for f in (black, pan[0], pan[1])] == [False, False, True]


@pytest.mark.parametrize("flash", ["white", "brighter"])
def test_a_flash_is_no_cut(flash):
    """One frame white, or 1.6 times as bright (a photographer's flash): it breaks with the frames
    on both sides as a cut does (both were taken for cuts), but the frame after it continues the
    one before."""
    pan, _ = _pan_frames()
    frames = [f.copy() for f in pan[:6]]
    frames[3] = (
        np.full_like(frames[3], 250) if flash == "white" else cv2.convertScaleAbs(frames[3], alpha=1.6)
    )
    finder = CutFinder()
    assert not any(finder(f, _grey(f)) for f in frames)


def test_a_camera_brightening_its_picture_is_no_cut_and_no_dissolve():
    """A camera adapting to a dark hall (PoseTrack 024158's first half second): the same picture
    brightening from a sixth of its levels to all of them, a lamp at full white all along. Its
    colours jump as at a cut (0.2-0.5) and the frames are blends of dark and bright, and the dark
    frames' corners were outweighed by the lamp (too few to follow: taken for blank frames)."""
    pan, _ = _pan_frames()
    frames = []
    for t, gain in enumerate(np.linspace(1 / 6, 1.0, 9)):
        frame = cv2.convertScaleAbs(pan[t // 3], alpha=gain)
        frame[10:30, 300:340] = 255  # the lamp
        frames += [frame, frame]  # 15 frames a second in a 30 fps file
    frames += [frames[-1]] * 14
    hists = [frame_histogram(f) for f in frames]
    jumps = [histogram_distance(a, b) for a, b in itertools.pairwise(hists)]
    assert max(jumps) > 0.2  # as at a cut
    finder = CutFinder()
    assert not any(finder(f, _grey(f)) for f in frames)
    assert _dissolves(frames, 30.0) == []


def _people(cuts, seen_frames, t_len=FLOOR_FRAMES + PAN_FRAMES):
    """One small person at the picture's right edge, seen in ``seen_frames``."""
    kp = np.zeros((t_len, 17, 3))
    kp[..., :2] = np.nan
    body = np.c_[np.full(17, 600.0), np.linspace(250, 340, 17), np.full(17, 0.9)]
    kp[seen_frames] = body
    boxes = np.full((t_len, 4), np.nan)
    boxes[seen_frames] = [590, 250, 610, 340]
    return People([PersonTrack(1, kp, boxes)], 30.0, SIZE, cuts=tuple(cuts))


def test_the_cuts_are_kept_in_the_keypoints_file(tmp_path):
    path = tmp_path / "kp.json"
    write_people(path, _people([6], list(range(6))))
    assert read_people(path).cuts == (6,)
    write_people(path, _people([], list(range(6))))
    assert read_people(path).cuts == () and '"cuts"' not in path.read_text()
    text = path.read_text()
    for bad in ("[0]", "[22]", "[3.5]", '"6"', "[true]"):
        path.write_text(text.rstrip().rstrip("}") + f', "cuts": {bad}}}\n')
        with pytest.raises(InputError, match="cuts"):
            read_people(path)


def test_person_shot():
    kp = _people([6, 12], list(range(7, 12))).keypoints2d()
    assert person_shot((6, 12), kp, 22) == (6, 12)
    assert person_shot((), kp, 22) is None
    assert person_shot((6,), None, 22) == (0, 6)


def test_the_camera_of_an_edited_video_is_the_persons_shots(two_shots):
    """The person in the floor shot: its static camera and its tilt from the floor and poles; in
    the pan: its rotation from the shot's first frame. The other shot's frames hold the pose."""
    from anylift.lifting.gravity import camera_tilt

    folder, w2c, _ = two_shots
    T = FLOOR_FRAMES + PAN_FRAMES
    people = _people([FLOOR_FRAMES], list(range(FLOOR_FRAMES)))
    est = estimate_camera(folder, people.keypoints2d(), people=people, focal=500.0)
    assert est.shot == (0, FLOOR_FRAMES) and est.camera.num_frames == T
    assert est.motion == "static" and est.models[FLOOR_FRAMES:] == ["other shot"] * PAN_FRAMES
    assert est.scene_tilt[0] == pytest.approx(camera_tilt(w2c)[0], abs=1.0)
    w2c_est = est.camera.world_to_camera
    np.testing.assert_allclose(w2c_est[FLOOR_FRAMES:], w2c_est[:1].repeat(PAN_FRAMES, 0), atol=1e-9)

    people = _people([FLOOR_FRAMES], list(range(FLOOR_FRAMES, T)))
    est = estimate_camera(folder, people.keypoints2d(), people=people, focal=500.0)
    assert est.shot == (FLOOR_FRAMES, T) and est.motion == "rotation"
    R = est.camera.world_to_camera[FLOOR_FRAMES:, :3, :3]
    turned = [np.degrees(Rotation.from_matrix(R[t] @ R[0].T).magnitude()) for t in range(PAN_FRAMES)]
    np.testing.assert_allclose(turned, 0.5 * np.arange(PAN_FRAMES), atol=0.3)
    w2c_est = est.camera.world_to_camera
    first = w2c_est[FLOOR_FRAMES : FLOOR_FRAMES + 1]
    np.testing.assert_allclose(w2c_est[:FLOOR_FRAMES], first.repeat(FLOOR_FRAMES, 0), atol=1e-9)


def test_detect_and_camera_say_what_they_did_with_an_edited_video(rendered_clip, tmp_path, capsys):
    """The dancer's render (16 frames), then 8 frames of another scene: ``anylift detect`` lists
    the cut and ends the dancer's track there; ``anylift camera`` estimates her shot."""
    from anylift.video.cli import main

    frames = sorted((rendered_clip / "frames").glob("*.png"))
    other = cv2.resize(textured_panorama(5), (320, 240))
    for t, path in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"{t:04d}.png"), cv2.imread(str(path)))
    for t in range(len(frames), len(frames) + 8):
        cv2.imwrite(str(tmp_path / f"{t:04d}.png"), np.roll(other, 2 * t, axis=1))
    out = tmp_path / "kp.json"
    assert main(["detect", str(tmp_path), "--out", str(out), "--progress", "none"]) == 0
    printed = capsys.readouterr().out
    assert "cuts to another shot at frame 16 (0.53 s)" in printed, printed
    people = read_people(out)
    assert people.cuts == (16,) and all(t.first_last[1] < 16 for t in people.tracks)
    cam = tmp_path / "cam.json"
    assert (
        main(["camera", str(tmp_path), "--keypoints", str(out), "--out", str(cam), "--progress", "none"]) == 0
    )
    printed = capsys.readouterr().out
    assert f"the camera of frames 0-15, person {people.default}'s shot" in printed, printed


def _dissolved(a, b, frames):
    """``a``'s frames, its last ``frames`` dissolving into ``b``'s first, then the rest of ``b``
    (the share of ``b`` rising steadily, as an editor's cross-fade) -> (frames, index of the first
    frame that is more ``b`` than ``a``)."""
    mixed = [
        cv2.addWeighted(a[len(a) - frames + i], 1 - (i + 1) / (frames + 1), b[i], (i + 1) / (frames + 1), 0)
        for i in range(frames)
    ]
    return a[:-frames] + mixed + b[frames:], len(a) - frames + frames // 2


def _dissolves(frames, per_second):
    finder = DissolveFinder(per_second)
    found = [finder(f, _grey(f)) for f in frames] + [finder.flush()]
    return [d for d in found if d is not None]


@pytest.mark.parametrize("frames", [4, 8])
def test_a_dissolve_into_another_shot_is_found_in_its_middle(frames):
    """A turning camera's shot dissolving into a static one (no frame breaks with the one before,
    so no cut is found), and no dissolve in either shot alone nor at a cut between them."""
    pan, _ = _pan_frames()
    floor = _floor_frames()[0] * 3
    video, middle = _dissolved(pan, floor, frames)
    finder = CutFinder()
    assert not any(finder(f, _grey(f)) for f in video)
    found = _dissolves(video, 10.0)
    assert len(found) == 1 and abs(found[0] - middle) <= 1, (found, middle)
    assert _dissolves(pan, 10.0) == [] and _dissolves(floor, 10.0) == []
    assert _dissolves(pan + floor, 10.0) == []
    # A cut found after the dissolve's middle (CutFinder's): nothing before it is a dissolve any more.
    finder = DissolveFinder(10.0)
    for frame in video[: middle + frames]:
        assert finder(frame, _grey(frame)) is None  # found later
    finder.cut(middle + 2)
    assert finder.flush() is None


def test_a_pan_across_other_colours_is_no_dissolve():
    """The camera turning 3 deg a frame from one part of a scene to another, its colours changing
    as much as at a cut: the frames between are no blends of the ends."""
    other = textured_panorama(7)
    other[..., 0] //= 4  # warmer
    pano = np.concatenate([textured_panorama(1), other], axis=1)
    ph, pw = pano.shape[:2]
    K, Kp = intrinsics(SIZE, 500.0), np.array([[500.0, 0, pw / 2], [0, 500.0, ph / 2], [0, 0, 1]])
    rots = Rotation.from_euler("y", np.radians(3.0 * np.arange(-12, 13))[:, None]).as_matrix()
    frames = [cv2.warpPerspective(pano, K @ R @ np.linalg.inv(Kp), SIZE) for R in rots]
    ends = frames[0], frames[8]  # a window the finder looks at: it breaks as at a cut
    assert breaks(*((frame_histogram(f), _grey(f)) for f in ends))
    assert _dissolves(frames, 10.0) == []


def test_detect_ends_the_tracks_at_a_dissolve(rendered_clip, tmp_path):
    """The dancer's render (16 frames), its last 6 dissolving into another scene (12 frames in
    all): ``anylift detect`` ends the dancer's track in the dissolve's middle and lists it as a cut."""
    frames = [cv2.imread(str(p)) for p in sorted((rendered_clip / "frames").glob("*.png"))]
    other = cv2.resize(textured_panorama(5), (320, 240))
    video, middle = _dissolved(frames, [np.roll(other, 2 * t, axis=1) for t in range(12)], 6)
    for t, frame in enumerate(video):
        cv2.imwrite(str(tmp_path / f"{t:04d}.png"), frame)
    people = detect_people(tmp_path)
    assert len(people.cuts) == 1 and abs(people.cuts[0] - middle) <= 1, (people.cuts, middle)
    assert all(t.first_last[1] < people.cuts[0] for t in people.tracks)
    assert max(t.first_last[1] for t in people.tracks) >= people.cuts[0] - 3  # followed into the dissolve
