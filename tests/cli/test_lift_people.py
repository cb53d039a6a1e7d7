"""`anylift lift` on a several-people keypoints file: --person, --all, the default, --up, 10 fps."""

import numpy as np
import pytest
import torch

from anylift.cli import main
from anylift.io.motion import read_motion
from anylift.io.people import People, PersonTrack, write_people
from anylift.models import DenoiserConfig, build_model, save_checkpoint


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two walkers seen by a static camera at 10 fps (people file), a tiny checkpoint."""
    from anylift.data.mocap import load_clip
    from anylift.geometry.camera import project
    from anylift.io.cameras import static_camera

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("people")
    walk = load_clip("walk", fps=10.0).keypoints3d[:12]  # 1.1 s at 10 fps
    cam = static_camera(len(walk), (640, 360))
    tracks = []
    for pid, (dx, depth) in ((2, (-0.8, 6.0)), (5, (0.9, 9.0))):
        x, y, z = np.moveaxis(walk, -1, 0)
        pts = np.stack([x - x.mean() + dx, 0.9 - z, y + depth], -1)  # camera frame: y down, z forward
        uv = project(pts, cam.K, cam.world_to_camera)
        kp = np.concatenate([uv, np.full_like(uv[..., :1], 0.9)], -1)
        tracks.append(PersonTrack(pid, kp, np.concatenate([uv.min(1), uv.max(1)], -1)))
    write_people(d / "kp.json", People(tracks, fps=10.0, image_size=(640, 360)))
    save_checkpoint(d / "tiny.pt", build_model(DenoiserConfig.tiny("multi_view")))
    return d


@pytest.fixture(autouse=True)
def _env(isolated_engine):
    """Private cache, proxy body, one torch thread (tests/conftest.py)."""


def _lift(files, tmp_path, *extra):
    return main(["lift", str(files / "kp.json"), "--out", str(tmp_path / "r.npz"), "--checkpoint",
                 str(files / "tiny.pt"), "--steps", "1", "--progress", "none", *extra])  # fmt: skip


def test_default_person_all_people_and_frame_rate(files, tmp_path, capsys):
    assert _lift(files, tmp_path) == 0
    out = capsys.readouterr().out
    # Person 2 is nearer (taller in the image) and seen as long: the most prominent.
    assert "person 2 (the default: longest, largest, most central; 2 in the file: 2, 5)" in out
    assert "up: estimated, confidence" in out  # an untrained tiny model: no figures to check here
    m = read_motion(tmp_path / "r.npz")
    assert m.num_frames == 12 and m.fps == pytest.approx(10.0)  # lifted at 30 fps, back at the input's
    assert m.person == 2 and m.up_source == "estimated" and m.up.shape == (3,)
    assert _lift(files, tmp_path, "--all") == 0
    for pid in (2, 5):
        r = read_motion(tmp_path / f"r_{pid}.npz")
        assert r.num_frames == 12 and r.person == pid
    assert "lifted 2 of 2 people" in capsys.readouterr().out


def test_all_skips_people_seen_briefly_and_goes_on_past_a_refused_one(files, tmp_path, capsys):
    """--all on footage with fragments: people seen under --min-seconds are listed and skipped; a
    person whose lift is refused is reported, the others are lifted, and the exit code says so."""
    from anylift.io.people import read_people

    people = read_people(files / "kp.json")
    brief = people.tracks[1].keypoints.copy()
    brief[:9] = [np.nan, np.nan, 0.0]  # person 5 seen in 3 frames: 0.3 s
    dot = people.tracks[0].keypoints.copy()
    dot[..., :2] = dot[:, :1, :2]  # person 2: every keypoint on one pixel, refused
    tracks = [PersonTrack(2, dot, people.tracks[0].boxes), PersonTrack(5, brief, people.tracks[1].boxes)]
    write_people(tmp_path / "kp.json", People(tracks, fps=10.0, image_size=(640, 360)))
    args = ["lift", str(tmp_path / "kp.json"), "--out", str(tmp_path / "r.npz"), "--checkpoint",
            str(files / "tiny.pt"), "--steps", "1", "--progress", "none", "--all"]  # fmt: skip
    assert main(args) == 2
    cap = capsys.readouterr()
    assert "skipping 1 of 2 people seen under 1 s (5; lift one with --person ID)" in cap.out
    assert "anylift: error: person 2:" in cap.err and "lifted 0 of 1 people; refused: 2" in cap.out
    assert main([*args, "--min-seconds", "0.2"]) == 2  # now 5 is lifted, 2 still refused
    assert read_motion(tmp_path / "r_5.npz").seen.sum() == 3
    assert main([*args, "--min-seconds", "-1"]) == 2 and "number of seconds >= 0" in capsys.readouterr().err


def test_person_and_up_override_and_errors(files, tmp_path, capsys):
    assert _lift(files, tmp_path, "--person", "5", "--up", "camera") == 0
    out = capsys.readouterr().out
    assert "person 5 (as asked" in out and "up: given" in out
    m = read_motion(tmp_path / "r.npz")
    # No camera file: the up is given in the static camera's frame (OpenCV: y down).
    assert m.person == 5 and m.up_source == "given"
    np.testing.assert_allclose(m.up, [0.0, -1.0, 0.0], atol=1e-9)
    assert _lift(files, tmp_path, "--up", "0,-4,3") == 0
    m = read_motion(tmp_path / "r.npz")
    np.testing.assert_allclose(m.up, [0.0, -0.8, 0.6], atol=1e-9)
    np.testing.assert_allclose(m.world_to_camera[0, :3, :3] @ [0.0, 0.0, 1.0], [0.0, -0.8, 0.6], atol=1e-9)
    assert _lift(files, tmp_path, "--person", "4") == 2
    assert "no person 4" in capsys.readouterr().err
    assert _lift(files, tmp_path, "--up", "0,0") == 2
    assert "--up" in capsys.readouterr().err


def test_an_estimated_up_that_puts_the_camera_under_the_floor_is_tilted_down_and_said(
    files, tmp_path, capsys, monkeypatch
):
    """The walkers' feet are 0.9 m below the static camera; an estimate that has the camera looking
    30 deg up puts them above its horizon: the lift tilts it down (gravity.feet_below_horizon) and
    says by how much."""
    from scipy.spatial.transform import Rotation

    from anylift.lifting import gravity

    wrong = Rotation.from_euler("x", -30.0, degrees=True).as_matrix() @ [0.0, 0.0, 1.0]
    monkeypatch.setattr(gravity, "estimate_up", lambda points, fps: (wrong, 0.9, 5, 5))
    assert _lift(files, tmp_path) == 0
    out = capsys.readouterr().out
    assert "further down: it had the feet above the camera's horizon, the camera under the floor" in out
    m = read_motion(tmp_path / "r.npz")
    # In the result's world (Z up) the camera is above the floor the feet stand on.
    centre = -m.world_to_camera[0, :3, :3].T @ m.world_to_camera[0, :3, 3]
    assert centre[2] > np.median(m.keypoints3d[:, 15:17, 2])
