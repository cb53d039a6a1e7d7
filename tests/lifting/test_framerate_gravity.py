"""Frame-rate resampling (anylift.lifting.framerate) and the gravity estimate (anylift.lifting.gravity)."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from anylift.data.mocap import load_clip
from anylift.errors import InputError
from anylift.io.keypoints import Keypoints2D
from anylift.lifting import framerate, gravity


def _wave(times):
    x = 100 + 40 * np.sin(2 * np.pi * 0.5 * times)
    kp = np.zeros((len(times), 17, 3))
    kp[..., 0] = x[:, None] + np.arange(17)
    kp[..., 1] = 200.0
    kp[..., 2] = 0.9
    return kp


def test_10fps_goes_to_30_and_back():
    t10 = np.arange(20) / 10.0
    kp = Keypoints2D(_wave(t10), fps=10.0, image_size=(640, 360))
    out, _cam, plan = framerate.to_model_rate(kp, None)
    assert plan.resampled and out.fps == 30.0 and out.num_frames == 58  # 1.9 s at 30 fps
    # Linear between 10 fps samples: within the chord error of the sine (A * (w dt)^2 / 8 = 0.5 px).
    assert np.abs(out.keypoints[:, 0, 0] - _wave(plan.model_times)[:, 0, 0]).max() < 0.6
    back = framerate.resample_keypoints(out.keypoints, plan.model_times, plan.input_times)
    np.testing.assert_allclose(back, kp.keypoints, atol=1e-9)


def test_missing_joint_stays_missing_and_30fps_passes_unchanged():
    kp = _wave(np.arange(6) / 15.0)
    kp[2, 3] = [np.nan, np.nan, 0.0]
    out = framerate.resample_keypoints(kp, np.arange(6) / 15.0, np.arange(11) / 30.0)
    assert out[4, 3, 2] == 0 and out[3, 3, 2] == 0 and out[5, 3, 2] == 0  # around input frame 2
    assert out[2, 3, 2] > 0 and out[6, 3, 2] > 0
    k30 = Keypoints2D(_wave(np.arange(10) / 30.0), fps=30.0, image_size=None)
    same, _, plan = framerate.to_model_rate(k30, None)
    assert same is k30 and not plan.resampled


def test_variable_frame_times_and_camera_slerp():
    times = np.array([0.0, 0.05, 0.08, 0.2, 0.3, 0.31, 0.5])
    with pytest.raises(InputError, match="frame_times"):
        framerate.frame_times(7, 25.0, times[::-1])
    rots = Rotation.from_euler("y", np.degrees(times)[:, None], degrees=True).as_matrix()
    w2c = np.tile(np.eye(4), (7, 1, 1))
    w2c[:, :3, :3] = rots
    w2c[:, :3, 3] = [0.0, 0.0, 5.0]
    dst = np.arange(16) / 30.0
    out = framerate.resample_cameras(w2c, times, dst)
    angle = Rotation.from_matrix(out[:, :3, :3]).as_euler("xyz", degrees=True)[:, 1]
    np.testing.assert_allclose(angle, np.degrees(dst), atol=1e-6)  # uniform rotation: slerp is exact


def _tilted_walk(pitch_deg, roll_deg=0.0):
    clip = load_clip("walk", fps=30.0)
    pts = np.concatenate([clip.keypoints3d, clip.keypoints3d + np.array([1.27, 0, 0])])  # two cycles, 2.6 s
    r = Rotation.from_euler("xy", [pitch_deg, roll_deg], degrees=True).as_matrix()
    return pts @ r.T, r


@pytest.mark.parametrize("pitch,roll", [(35.0, 0.0), (-20.0, 8.0), (0.0, 0.0)])
def test_gravity_recovers_the_up_of_a_tilted_walk(pitch, roll):
    pts, r = _tilted_walk(pitch, roll)
    up, conf, n_contact, n_stand = gravity.estimate_up(pts, 30.0)
    true_up = r @ [0.0, 0.0, 1.0]
    err = np.degrees(np.arccos(np.clip(up @ true_up, -1, 1)))
    assert err < 3.0, err
    assert conf > 0.3 and n_contact > 10 and n_stand > 30


def _walk_on_a_tilted_floor(tilt_deg, lean_deg, jitter=0.25, seconds=5.0):
    """A walk looped along +y (about 5 m) on a floor tilted ``tilt_deg`` about x, each body turned
    back by ``lean_deg`` about its own ankles (``lean_deg == tilt_deg``: upright in the untilted
    world, as the prior lifts a body in the world it is given), its depth (y) jittering by
    ``jitter`` m a frame as a lift's does: (points, the floor's up)."""
    from anylift.data.augment import loop_sequence

    rng = np.random.default_rng(0)
    pts = loop_sequence(load_clip("walk", fps=30.0).keypoints3d, round(30 * seconds), "wrap", rng)
    d = pts[-1, 0, :2] - pts[0, 0, :2]
    pts = pts @ Rotation.from_euler("z", np.pi / 2 - np.arctan2(d[1], d[0])).as_matrix().T
    tilt = Rotation.from_euler("x", tilt_deg, degrees=True).as_matrix()
    back = Rotation.from_euler("x", -lean_deg, degrees=True).as_matrix()
    feet = pts[:, [15, 16]].mean(1, keepdims=True)
    pts = (feet @ tilt.T) + (pts - feet) @ (back @ tilt).T
    pts[..., 1] += rng.normal(0.0, jitter, size=(len(pts), 1))
    return pts, tilt @ [0.0, 0.0, 1.0]


@pytest.mark.parametrize("tilt", [8.0, -15.0])
def test_a_floor_walked_across_beats_a_standing_axis_that_leans_with_the_assumed_camera(tilt):
    pts, true_up = _walk_on_a_tilted_floor(tilt, lean_deg=tilt)
    assert gravity.contacts(pts, 30.0).sum() < 10  # the jitter leaves no resting feet
    up, conf, _, n_stand = gravity.estimate_up(pts, 30.0)
    assert np.degrees(np.arccos(np.clip(up @ true_up, -1, 1))) < 2.0
    assert conf >= 0.5 and n_stand > 100
    without = gravity._estimate_up(pts, 30.0, np.array([0.0, 0.0, 1.0]), walked=False)[0]
    assert np.degrees(np.arccos(np.clip(without @ true_up, -1, 1))) > abs(tilt) / 2  # the axis alone


def test_a_short_travel_or_a_floor_the_body_does_not_stand_on_leaves_the_estimate_as_without_it(monkeypatch):
    short, _ = _walk_on_a_tilted_floor(10.0, lean_deg=10.0, seconds=1.3)  # 1.3 m of travel
    without = gravity._estimate_up(short, 30.0, np.array([0.0, 0.0, 1.0]), walked=False)[0]
    np.testing.assert_allclose(gravity.estimate_up(short, 30.0)[0], without)
    # 5 m along a floor 40 deg off the bodies' axis: under that floor no frame stands upright.
    pts, _ = _walk_on_a_tilted_floor(40.0, lean_deg=40.0)
    without = gravity._estimate_up(pts, 30.0, np.array([0.0, 0.0, 1.0]), walked=False)
    assert without[4]  # it did walk far
    np.testing.assert_allclose(gravity.estimate_up(pts, 30.0)[0], without[0])
    # The 5 m walk carried 55 m further in its 5 s (12 m/s): a lift's depth noise, not a floor.
    fast, _ = _walk_on_a_tilted_floor(10.0, lean_deg=10.0)
    fast[..., 1] += np.linspace(0.0, 55.0, len(fast))[:, None]
    without_fast = gravity._estimate_up(fast, 30.0, np.array([0.0, 0.0, 1.0]), walked=False)
    assert not without_fast[4]  # too fast to have walked
    np.testing.assert_allclose(gravity.estimate_up(fast, 30.0)[0], without_fast[0])
    monkeypatch.setattr(gravity, "TRAVEL_SPEED", 15.0)  # now a floor walked across
    assert not np.allclose(gravity.estimate_up(fast, 30.0)[0], without_fast[0])
    monkeypatch.setattr(gravity, "TRAVEL_STD", 0.3)  # the short walk's floor now counts
    assert not np.allclose(gravity.estimate_up(short, 30.0)[0], without[0])


def test_gravity_override_parsing_and_static_camera():
    assert gravity.parse_up(None) is None and gravity.parse_up("camera") == "camera"
    np.testing.assert_allclose(gravity.parse_up("0,0,2"), [0, 0, 1])
    with pytest.raises(InputError, match="--up"):
        gravity.parse_up("0,0")
    cam, source = gravity.prepare_camera(None, np.array([0.0, -1.0, 0.0]), 5, (640, 360))
    assert source == "given" and cam.num_frames == 5
    assert gravity.prepare_camera(None, None, 5, (640, 360)) == (None, "estimated")
    # A camera looking 30 deg down from a level world: the reported pitch.
    from anylift.data.trajectories import look_at

    w2c = look_at(np.array([0.0, -5.0, 3.0 + 5 * np.tan(np.radians(30)) - 3.0]), np.array([0.0, 0.0, 0.0]))
    pitch, roll = gravity.camera_tilt(w2c)
    assert pitch == pytest.approx(30.0, abs=1e-6) and roll == pytest.approx(0.0, abs=1e-6)


def test_floor_level_follows_the_resting_feet():
    pts, _ = _tilted_walk(0.0)
    base = gravity.floor_level(pts, 30.0, ankle=0.0)
    # The walk clip's floor is z = 0: its resting ankles are a few centimetres above it.
    assert 0.03 < base < 0.15
    raised = pts + np.array([0.0, 0.0, 0.7])
    assert gravity.floor_level(raised, 30.0, ankle=base) == pytest.approx(0.7, abs=1e-9)
    # A lift whose ankles jitter faster than a resting foot moves shows no contact: the clip's
    # lowest ankles stand on the floor (measured: a 60 fps footage lift left 4.5 m under it).
    jitter = np.random.default_rng(0).normal(size=(len(pts), 1, 3)) * 0.05
    assert not gravity.contacts(pts + jitter, 30.0).any()
    assert gravity.floor_level(pts + jitter + [0.0, 0.0, -4.4], 30.0, ankle=0.0) == pytest.approx(
        base - 4.4, abs=0.1
    )
    assert gravity.floor_level(np.full_like(pts, np.nan), 30.0, ankle=0.0) is None


def test_move_fit_turns_and_lowers_a_posed_body_consistently():
    from anylift.body.model import load_body_model
    from anylift.fitting.smpl_fit import SmplFit

    body = load_body_model(None, device="cpu")
    rng = np.random.default_rng(3)
    betas = rng.normal(size=10) * 0.5
    orient, pose, transl = rng.normal(size=(4, 3)), rng.normal(size=(4, 69)) * 0.2, rng.normal(size=(4, 3))

    def posed(o, t):
        out = body.forward(betas=betas[None], global_orient=o, body_pose=pose, transl=t)
        return out.joints.detach().double().numpy(), out.keypoints.detach().double().numpy()

    joints, kp = posed(orient, transl)
    fit = SmplFit(betas, orient, pose, transl, joints, kp, 0.0)
    rot = Rotation.from_euler("xz", [30.0, -50.0], degrees=True).as_matrix()
    moved = gravity.move_fit(fit, rot, 0.4)
    np.testing.assert_allclose(moved.joints, joints @ rot.T - [0, 0, 0.4], atol=1e-9)
    again, _ = posed(moved.global_orient, moved.transl)  # the body model agrees with the moved joints
    np.testing.assert_allclose(again, moved.joints, atol=1e-4)
    assert gravity.move_fit(fit, np.eye(3)) is fit


def test_smplify_result_is_levelled_when_the_static_camera_looks_down():
    """No camera file: the static camera is only assumed level; SMPLify's result is turned upright
    by the estimated up and reports it (up, up_source) like AnyLift's."""
    from anylift.geometry.camera import project
    from anylift.pipeline import lift_with_report

    kp, true_up = _down_looking_walk()
    m = lift_with_report(kp, None, method="smplify").motion
    assert m.up_source == "estimated"
    # The level-camera assumption ((0, -1, 0)) is 30 deg off the true up; the estimate (measured
    # 7.6) well under half.
    assert np.degrees(np.arccos(np.clip(m.up @ true_up, -1, 1))) < 12.0
    np.testing.assert_allclose(m.world_to_camera[0, :3, :3] @ [0.0, 0.0, 1.0], m.up, atol=1e-9)
    # The fit was turned with the world: its joints still sit on the input rays.
    err = project(m.keypoints3d, m.intrinsics, m.world_to_camera) - kp.keypoints[..., :2]
    assert np.median(np.linalg.norm(err, axis=-1)) < 15.0


def _down_looking_walk(pitch=30.0, size=(640, 360)):
    """A walk seen by a static camera ``pitch`` degrees down (keypoints, the true up in its frame)."""
    from anylift.data.trajectories import look_at
    from anylift.geometry.camera import project
    from anylift.io.cameras import static_camera

    pts = load_clip("walk", fps=30.0).keypoints3d[:45]
    pts = pts - np.array([pts[..., 0].mean(), pts[..., 1].mean(), 0.0])
    eye = np.array([0.0, -6.0, 1.0 + 6.0 * np.tan(np.radians(pitch))])
    w2c = np.tile(look_at(eye, np.array([0.0, 0.0, 1.0])), (len(pts), 1, 1))
    uv = project(pts, static_camera(len(pts), size).K, w2c)
    kp = Keypoints2D(np.concatenate([uv, np.full_like(uv[..., :1], 0.9)], -1), 30.0, size)
    return kp, w2c[0, :3, :3] @ [0.0, 0.0, 1.0]


def test_anylift_takes_gravity_from_a_2d_fit_when_the_camera_looks_down():
    """The prior lifts upright in the world it is given (measured: 24 deg off with the static camera
    assumed level); the 2D fit's up (used when confident) puts the result within a few degrees."""
    from anylift.pipeline import lift_with_report

    kp, true_up = _down_looking_walk()
    report = lift_with_report(kp, None)  # the shipped checkpoint
    m = report.motion
    assert m.up_source == "estimated" and report.gravity.confidence >= 0.5
    assert np.degrees(np.arccos(np.clip(m.up @ true_up, -1, 1))) < 10.0
    assert report.gravity.pitch_deg == pytest.approx(30.0, abs=10.0)
    assert not any("tilt could not be measured" in w for w in report.warnings)


def test_an_unsure_gravity_estimate_is_reported(monkeypatch, tmp_path):
    import torch

    from anylift import pipeline
    from anylift.models import DenoiserConfig, build_model, save_checkpoint

    torch.manual_seed(0)
    save_checkpoint(tmp_path / "tiny.pt", build_model(DenoiserConfig.tiny("multi_view")))
    monkeypatch.setattr(pipeline, "UP_FIT_CONFIDENCE", 1.01)  # no 2D fit is ever sure enough
    kp, _ = _down_looking_walk()
    report = pipeline.lift_with_report(kp, None, checkpoint=tmp_path / "tiny.pt", steps=1, samples=1)
    assert report.motion.up_source == "estimated" and report.gravity.confidence < 1.01
    assert any("tilt could not be measured" in w and "--up" in w for w in report.warnings)


@pytest.mark.parametrize("fps", [25.0, 60.0])
def test_a_result_back_at_the_input_rate_keeps_joints_on_the_body_model(fps, tmp_path):
    """Resampled rotations and linearly resampled joints disagree by centimetres (the add-on refuses
    such a result); the joints are the body's forward kinematics of the resampled parameters."""
    import torch

    from anylift.body.model import load_body_model
    from anylift.fitting.smpl_fit import posed_joints
    from anylift.models import DenoiserConfig, build_model, save_checkpoint
    from anylift.pipeline import lift

    torch.manual_seed(0)
    save_checkpoint(tmp_path / "tiny.pt", build_model(DenoiserConfig.tiny("multi_view")))
    kp, _ = _down_looking_walk()
    kp = Keypoints2D(kp.keypoints[:30], fps, kp.image_size)
    m = lift(kp, None, checkpoint=tmp_path / "tiny.pt", steps=1, samples=1)
    assert m.num_frames == 30 and m.fps == fps
    fk = posed_joints(load_body_model(None), m.betas, m.global_orient, m.body_pose, m.transl)
    assert np.abs(fk - m.joints).max() < 1e-6


def test_an_unsure_estimate_does_not_turn_the_world_over(monkeypatch):
    """A confident estimate is applied however far it turns the world; an unsure one only when it
    turns it a little (gravity.UNSURE_CONFIDENCE): else the first camera stays assumed level."""
    from anylift.geometry.camera import rotate_world, world_zup_from_camera
    from anylift.io.cameras import static_camera
    from anylift.lifting.world import ResultWorld

    pts, _ = _tilted_walk(0.0)
    cam = static_camera(len(pts), (1280, 720))
    cam.world_to_camera = rotate_world(cam.world_to_camera, world_zup_from_camera(cam))
    world = ResultWorld(camera=cam, rotation=np.eye(3), scale=1.0, metric=True, from_file=False)
    far = Rotation.from_euler("x", 70, degrees=True).as_matrix() @ [0.0, 0.0, 1.0]
    near = Rotation.from_euler("x", 20, degrees=True).as_matrix() @ [0.0, 0.0, 1.0]
    for up, conf, turned in ((far, 0.9, True), (far, 0.1, False), (near, 0.1, True)):
        monkeypatch.setattr(gravity, "estimate_up", lambda p, f, u=up, c=conf: (u, c, 5, 0))
        grav, _, out, _ = gravity.level(pts, world, 30.0, "estimated")
        assert grav.confidence == conf
        assert np.allclose(grav.rotation, np.eye(3)) != turned
        if turned:
            np.testing.assert_allclose(grav.rotation @ up, [0.0, 0.0, 1.0], atol=1e-9)
        else:
            np.testing.assert_allclose(out.camera.world_to_camera, cam.world_to_camera)


def test_an_estimate_that_puts_the_camera_under_the_floor_is_turned_until_the_feet_are_below_it(monkeypatch):
    """A body leaning towards the camera and one leaning away look alike, so an estimate can tilt
    the camera the wrong way; the floor the feet stand on is below the camera, so the estimate is
    turned (about the first camera's x axis, the least angle) until the feet are
    FEET_BELOW_HORIZON_DEG below its horizon. A right estimate, or no rays, is left alone."""
    from anylift.geometry.camera import rotate_world, world_zup_from_camera
    from anylift.io.cameras import static_camera
    from anylift.lifting.world import ResultWorld

    pts, _ = _tilted_walk(0.0)
    pts = pts - np.array([pts[..., 0].mean(), pts[..., 1].mean() - 5.0, 1.5])  # 5 m ahead, camera 1.5 m up
    cam = static_camera(len(pts), (1280, 720))
    cam.world_to_camera = rotate_world(cam.world_to_camera, world_zup_from_camera(cam))  # looks along +y
    world = ResultWorld(camera=cam, rotation=np.eye(3), scale=1.0, metric=True, from_file=False)
    ankles = pts[:, list(gravity.ANKLES)]
    rays = ankles / np.linalg.norm(ankles, axis=-1, keepdims=True)
    rays[::3, 0] = np.nan  # unseen ankles count for nothing
    truth = gravity.feet_elevation(np.array([0.0, 0.0, 1.0]), rays)
    assert -20.0 < truth < -13.0  # the lower ankle, 1.5 m below the camera, about 5 m away
    for tilt in (30.0, -30.0):  # the camera taken to look 30 deg up (or down)
        up = Rotation.from_euler("x", tilt, degrees=True).as_matrix() @ [0.0, 0.0, 1.0]
        before = gravity.feet_elevation(up, rays)
        monkeypatch.setattr(gravity, "estimate_up", lambda p, f, u=up: (u, 0.9, 5, 5))
        grav, _, _, _ = gravity.level(pts, world, 30.0, "estimated", ankle_rays=rays)
        if before > 0:  # the feet above the horizon: turned back, just far enough
            after = gravity.feet_elevation(grav.up, rays)
            assert after == pytest.approx(-gravity.FEET_BELOW_HORIZON_DEG, abs=0.3)
            assert abs(grav.turned_deg) == pytest.approx(before - after, abs=0.5)
            assert np.degrees(np.arccos(grav.up[2])) < abs(tilt)  # nearer the truth
            np.testing.assert_allclose(grav.up[0], 0.0, atol=1e-9)  # pitch only: about the camera's x
        else:  # looking down: the feet stay below the horizon, nothing to turn
            assert before < -gravity.FEET_BELOW_HORIZON_DEG and grav.turned_deg == 0.0
            np.testing.assert_allclose(grav.up, up)
        without, *_ = gravity.level(pts, world, 30.0, "estimated")
        assert without.turned_deg == 0.0 and np.allclose(without.up, up)
    assert gravity.feet_elevation(np.array([0.0, 0.0, 1.0]), rays[:2]) is None  # too few frames
