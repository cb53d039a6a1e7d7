"""lift() with an oracle denoiser: the geometry (windows, views, triangulation, world frame) is exact."""

import numpy as np
import pytest
import torch

from anylift.fitting.smpl_fit import SmplFitConfig
from anylift.geometry.camera import project
from anylift.io.cameras import Camera
from anylift.pipeline import lift, lift_with_report, reprojection_pixels

from .conftest import Oracle, make_scene

FAST_FIT = SmplFitConfig(stage1_iterations=20, stage2_iterations=20)
# The triangulated points are what these tests check (LiftOptions.keypoints3d); the fitted body's
# keypoints (the default) add the body model's own error to the exact geometry, and the input's
# smoothing (anylift.lifting.smoothing) would move the exact keypoints by fractions of a pixel.
EXACT = dict(fit_config=FAST_FIT, keypoints3d="triangulated", smooth_keypoints=False)


def test_oracle_recovers_moving_camera_motion(walk_scene):
    sc = walk_scene
    rep = lift_with_report(
        sc.keypoints, sc.camera, denoiser=Oracle(sc.truth), steps=3, **EXACT, placement="prior"
    )
    m = rep.motion
    assert rep.num_windows == 3  # 39 frames, 16-frame windows
    err = np.linalg.norm(m.keypoints3d - sc.truth, axis=-1)
    assert err.max() < 0.005
    # Same world as the camera file (up = +Z already): the camera is unchanged.
    np.testing.assert_allclose(m.world_to_camera, sc.camera.world_to_camera, atol=1e-9)
    np.testing.assert_allclose(reprojection_pixels(m), sc.keypoints.keypoints[..., :2], atol=1e-3)
    # The SMPL fit follows the keypoints (a proxy body on mocap proportions: centimetres).
    assert np.linalg.norm(m.joints[:, 0] - sc.truth[:, [11, 12]].mean(1), axis=-1).max() < 0.15


def test_oracle_short_clip_is_padded(walk_scene):
    sc = walk_scene
    kp = type(sc.keypoints)(sc.keypoints.keypoints[:5], fps=30.0, image_size=sc.keypoints.image_size)
    cam = Camera(K=sc.camera.K, world_to_camera=sc.camera.world_to_camera[:5], up=sc.camera.up)
    m = lift(kp, cam, denoiser=Oracle(sc.truth[:5]), steps=2, **EXACT, placement="prior")
    assert m.num_frames == 5
    assert np.linalg.norm(m.keypoints3d - sc.truth[:5], axis=-1).max() < 0.005


def test_masked_keypoints_are_completed_not_zeroed(walk_scene):
    sc = walk_scene
    kp = sc.keypoints.keypoints.copy()
    kp[10:20, 9] = [np.nan, np.nan, 0.0]  # left wrist lost
    kp[30, :, 2] = 0.1  # a whole frame below the score threshold
    kp[30, :, :2] = kp[30, :, :2] + 200.0  # ... and wrong: it must be ignored
    masked = type(sc.keypoints)(kp, fps=30.0, image_size=sc.keypoints.image_size)
    m = lift(masked, sc.camera, denoiser=Oracle(sc.truth), steps=3, **EXACT, placement="prior")
    assert np.linalg.norm(m.keypoints3d - sc.truth, axis=-1).max() < 0.005


def test_oracle_without_camera_uses_first_frame_zup(walk_scene):
    sc = walk_scene
    # A static camera looking along world +y from 6 m away: truth in its OpenCV frame.
    x, y, z = np.moveaxis(sc.truth, -1, 0)
    truth_cam = np.stack([x, 0.9 - z, y + 6.0], -1)
    size = (1280, 720)
    k = np.array([[1280.0, 0, 640], [0, 1280.0, 360], [0, 0, 1]])
    uv = project(truth_cam, k, np.eye(4))
    kp = type(sc.keypoints)(np.concatenate([uv, np.ones_like(uv[..., :1])], -1), fps=30.0, image_size=size)
    rep = lift_with_report(kp, None, denoiser=Oracle(truth_cam), steps=2, **EXACT, placement="prior")
    m = rep.motion
    # World = first camera frame turned Z-up (x -> x, -y -> z, z -> y), then levelled by the
    # estimated gravity (from the 2D fit; this camera is level: a small turn) with the floor at z = 0.
    expect = np.stack([truth_cam[..., 0], truth_cam[..., 2], -truth_cam[..., 1]], -1)
    grav = rep.gravity
    assert grav.source == "estimated"
    assert np.degrees(np.arccos(np.clip(grav.rotation[2, 2], -1, 1))) < 5.0
    shift = np.array([0.0, 0.0, grav.floor_offset])
    assert np.linalg.norm(m.keypoints3d - (expect @ grav.rotation.T - shift), axis=-1).max() < 0.005
    # The camera is 0.9 m above the floor: exactly so with an exact up; a tilt of a few degrees
    # moves the floor under a person 6 m away by 6 tan(tilt). The feet rest on z = 0 either way.
    tilt = np.arccos(np.clip(grav.rotation[2, 2], -1, 1))
    assert grav.floor_offset == pytest.approx(-0.9, abs=0.08 + 6.0 * np.tan(tilt))
    assert abs(np.percentile(m.keypoints3d[:, 15:17, 2], 5)) < 0.15
    assert m.keypoints3d[..., 2].max() > m.keypoints3d[..., 2].min() + 1.0  # standing up in Z


def test_up_to_scale_camera_gets_metric_from_body_proportions(body, monkeypatch):
    """Truth from the proxy body (mean shape), taken here as the reference the scale is resolved to
    (the pipeline's reference has the training keypoints' proportions, which this body lacks)."""
    import anylift.pipeline as pipeline
    from anylift.body.model import ZUP_REST_GLOBAL_ORIENT
    from anylift.data.trajectories import predefined_trajectory
    from anylift.lifting.placement import rest_keypoints
    from anylift.lifting.scale import bone_lengths

    def own_joints(b, detector=None):
        return bone_lengths(rest_keypoints(b)[None])

    monkeypatch.setattr(pipeline, "reference_bone_lengths", own_joints)

    t = 40
    pose = np.zeros((t, 69))
    swing = 0.4 * np.sin(np.linspace(0, 2 * np.pi, t))
    pose[:, 0], pose[:, 3] = swing, -swing  # hips
    pose[:, 48 + 2] = -0.3  # a lowered left shoulder
    transl = np.stack([np.linspace(0, 1.0, t), np.zeros(t), np.full(t, 0.9)], -1)
    with torch.no_grad():
        out = body(global_orient=np.tile(ZUP_REST_GLOBAL_ORIENT, (t, 1)), body_pose=pose, transl=transl)
    truth = out.keypoints.double().numpy()
    cam = predefined_trajectory("move_right", t, truth[:, [11, 12]].mean(1), seed=1, magnitude=1.0)
    units = 3.0  # the file's units per metre
    w2c = cam.world_to_camera.copy()
    w2c[:, :3, 3] *= units
    slam = Camera(K=cam.K, world_to_camera=w2c, up=cam.up, image_size=cam.image_size)
    sc = make_scene(truth * units, slam)
    # placement="size_only": the scale is this test's subject; the floor step would move this exact
    # lift by its own noise (a camera 34 m away sees the feet at 6 deg: 1 cm of foot height, 10 cm of depth).
    rep = lift_with_report(
        sc.keypoints, slam, denoiser=Oracle(truth * units), steps=2, metric_camera=False, **EXACT,
        placement="size_only",
    )  # fmt: skip
    assert not rep.world.metric
    assert rep.world.scale == pytest.approx(units, rel=1e-3)
    assert np.linalg.norm(rep.motion.keypoints3d - truth, axis=-1).max() < 0.005
    np.testing.assert_allclose(reprojection_pixels(rep.motion), sc.keypoints.keypoints[..., :2], atol=1e-3)


def test_ground_translates_to_floor(walk_scene):
    sc = walk_scene
    lifted = sc.truth + np.array([0.0, 0.0, 0.4])  # the camera file's floor is at z = 0.4
    cam = sc.camera
    w2c = cam.world_to_camera.copy()
    w2c[:, :3, 3] -= np.einsum("tij,j->ti", w2c[:, :3, :3], [0.0, 0.0, 0.4])
    cam = Camera(K=cam.K, world_to_camera=w2c, up=cam.up, image_size=cam.image_size)
    sc2 = make_scene(lifted, cam)
    rep = lift_with_report(
        sc2.keypoints,
        cam,
        denoiser=Oracle(lifted),
        steps=2,
        ground=True,
        **EXACT,
        placement="prior",
    )
    m = rep.motion
    assert rep.ground_offset == pytest.approx(0.4, abs=0.06)
    shift = np.array([0.0, 0.0, rep.ground_offset])
    np.testing.assert_allclose(m.keypoints3d, lifted - shift, atol=0.005)
    np.testing.assert_allclose(reprojection_pixels(m), sc2.keypoints.keypoints[..., :2], atol=1e-3)


def test_a_person_who_enters_later_stands_on_the_floor_of_a_first_camera_world(walk_scene):
    """``anylift camera``'s world has the video's first camera at its origin and no floor, so the
    lift puts the feet's contact level at z = 0. A person first seen in a later frame is lifted on
    the frames from there, whose first camera is elsewhere: that world was taken for one with a
    floor of its own, and the feet were left where they were (a footage render's dancer 9 m below
    the floor, seen from a drone from frame 8)."""
    sc = walk_scene
    w2c = sc.camera.world_to_camera.copy()
    centre = -w2c[0, :3, :3].T @ w2c[0, :3, 3]
    w2c[:, :3, 3] += np.einsum("tij,j->ti", w2c[:, :3, :3], centre)  # the first camera at the origin
    cam = Camera(K=sc.camera.K, world_to_camera=w2c, up=sc.camera.up, image_size=sc.camera.image_size)
    truth = sc.truth - centre
    scene = make_scene(truth, cam)
    kp = scene.keypoints.keypoints.copy()
    kp[:8] = [np.nan, np.nan, 0.0]  # first seen in frame 8
    late = type(scene.keypoints)(kp, fps=30.0, image_size=scene.keypoints.image_size)
    rep = lift_with_report(late, cam, denoiser=Oracle(truth), steps=2, **EXACT, placement="prior")
    assert rep.gravity.floor_offset == pytest.approx(-centre[2], abs=0.05)
    assert abs(np.percentile(rep.motion.keypoints3d[8:, 15:17, 2], 5) - sc.truth[:, 15:17, 2].min()) < 0.05


class ShiftedOracle(Oracle):
    """Each window's answer is off by its own depth shift, as windows of a real model disagree."""

    def __call__(self, x_n, n, cond):
        keep = self.points
        starts = cond.frames[:, 0].numpy()
        outs = []
        for b, s in enumerate(starts):
            self.points = keep + np.array([0.0, 0.0, 0.1 * (list(self.starts).index(s) % 2)])
            sub = type(cond)(cond.model, cond.world_to_camera[b : b + 1], cond.model_K[b : b + 1],
                             cond.frames[b : b + 1], cond.valid[b : b + 1], cond.lift_from_file)  # fmt: skip
            outs.append(super().__call__(x_n[b : b + 1], n[b : b + 1], sub))
        self.points = keep
        return torch.cat(outs)


def test_windows_blend_without_a_jump_at_seams(walk_scene):
    from anylift.lifting.windows import plan_windows

    sc = walk_scene
    oracle = ShiftedOracle(sc.truth)
    oracle.starts = plan_windows(len(sc.truth), oracle.window)
    m = lift(sc.keypoints, sc.camera, denoiser=oracle, steps=2, **EXACT, placement="prior")
    err = m.keypoints3d - sc.truth
    step = np.linalg.norm(np.diff(err, axis=0), axis=-1).max()
    assert np.abs(err).max() > 0.03  # the windows really disagreed
    overlap = int(oracle.starts[0] + oracle.window - oracle.starts[1])
    assert step < 0.1 * np.pi / (2 * (overlap + 1)) + 1e-3  # a hard cut would step by ~0.1 m


@pytest.mark.parametrize("wrong", [0.75, 1.3])
def test_body_size_placement_puts_a_wrongly_sized_prior_at_the_right_depth(walk_scene, body, wrong):
    """A prior whose body is 25 % too small (or 30 % too big), projecting exactly onto the input, is
    placed by the body's known size: a person of the body model's size lands where the camera saw them."""
    from anylift.geometry.camera import invert_rigid
    from anylift.lifting.placement import reference_bone_lengths
    from anylift.lifting.scale import bone_lengths

    sc = walk_scene
    # The person has the body model's size (size is the depth cue), on the same floor.
    size = reference_bone_lengths(body).sum() / bone_lengths(sc.truth).sum()
    floor = np.array([*sc.truth[..., :2].reshape(-1, 2).mean(0), sc.truth[..., 2].min()])
    truth = floor + size * (sc.truth - floor)
    scene = make_scene(truth, sc.camera)
    centres = invert_rigid(sc.camera.world_to_camera)[:, None, :3, 3]
    prior = centres + wrong * (truth - centres)  # same image, wrong depth and size
    hips = lambda x: x[:, [11, 12]].mean(1)  # noqa: E731
    lifted = {
        placement: lift(
            scene.keypoints,
            sc.camera,
            denoiser=Oracle(prior),
            steps=2,
            **EXACT,
            placement=placement,
        )
        for placement in ("prior", "body_size")
    }
    depth = np.linalg.norm(hips(truth) - centres[:, 0], axis=-1).mean()
    err = {k: np.linalg.norm(hips(m.keypoints3d) - hips(truth), axis=-1).mean() for k, m in lifted.items()}
    assert err["prior"] > 0.2 * depth  # the prior alone is as wrong as it was made
    assert err["body_size"] < 0.03 * depth, err  # placed within 3 % of the depth
    # Placement only moves points along their rays: the input view is reproduced exactly.
    np.testing.assert_allclose(
        reprojection_pixels(lifted["body_size"]), scene.keypoints.keypoints[..., :2], atol=1e-3
    )


def test_keep_bone_lengths_gives_each_bone_one_length_and_keeps_directions(walk_scene):
    from anylift.lifting.consistency import keep_bone_lengths

    truth = torch.as_tensor(walk_scene.truth[None])  # (1, T, 17, 3)
    stretch = 1.0 + 0.2 * torch.sin(torch.arange(truth.shape[1], dtype=torch.float64))[None, :, None, None]
    hips = truth[:, :, [11, 12]].mean(2, keepdim=True)
    noisy = hips + (truth - hips) * stretch  # every bone's length wobbles by +-20 % over time
    fixed = keep_bone_lengths(noisy)
    for a, b in ((11, 13), (13, 15), (5, 7), (7, 9), (6, 8)):
        length = (fixed[0, :, a] - fixed[0, :, b]).norm(dim=-1)
        assert float(length.std() / length.mean()) < 1e-9  # one length per bone
        d_fixed = fixed[0, :, b] - fixed[0, :, a]
        d_noisy = noisy[0, :, b] - noisy[0, :, a]
        cos = (d_fixed * d_noisy).sum(-1) / (d_fixed.norm(dim=-1) * d_noisy.norm(dim=-1))
        assert float(cos.min()) > 1 - 1e-9  # same directions


@pytest.mark.parametrize("units", [1.0, 3.0])
def test_a_person_seen_in_part_of_the_clip_is_lifted_there_and_held_outside(walk_scene, units):
    """People enter and leave real footage: only the frames from the first to the last sighting are
    lifted (the oracle is asked about those frames only), the body holds still outside them, and the
    camera is still the input camera at every frame (here also moved to the floor by ground=True,
    and, with ``units`` 3, scaled from an up-to-scale camera file's world)."""
    sc = walk_scene
    w2c = sc.camera.world_to_camera.copy()
    w2c[:, :3, 3] *= units
    cam = Camera(K=sc.camera.K, world_to_camera=w2c, up=sc.camera.up, image_size=sc.camera.image_size)
    kp = sc.keypoints.keypoints.copy()
    kp[:6] = [np.nan, np.nan, 0.0]
    kp[33:] = [np.nan, np.nan, 0.0]
    kp[20, :, 2] = 0.0  # an occlusion inside the span: lifted, not seen
    part = type(sc.keypoints)(kp, fps=30.0, image_size=sc.keypoints.image_size)
    oracle = Oracle(sc.truth[6:33] * units)
    rep = lift_with_report(part, cam, denoiser=oracle, steps=2, ground=True, **EXACT,
                           placement="prior", metric_camera=units == 1.0)  # fmt: skip
    m = rep.motion
    assert m.num_frames == 39 and oracle.calls > 0
    seen = np.zeros(39, bool)
    seen[6:33] = True
    seen[20] = False
    np.testing.assert_array_equal(m.seen, seen)
    assert m.seen_span() == (6, 32)
    truth = sc.truth * units / rep.world.scale - np.array([0.0, 0.0, rep.ground_offset])  # result world
    np.testing.assert_allclose(m.keypoints3d[6:33], truth[6:33], atol=0.005)
    np.testing.assert_array_equal(m.keypoints3d[:6], np.repeat(m.keypoints3d[6:7], 6, axis=0))
    np.testing.assert_array_equal(m.body_pose[33:], np.repeat(m.body_pose[32:33], 6, axis=0))
    # Every frame's camera, the unseen ones too, still projects the truth onto the input.
    uv = project(truth, m.intrinsics, m.world_to_camera)
    np.testing.assert_allclose(uv, sc.keypoints.keypoints[..., :2], atol=1e-3)
    assert any("seen from frame 6 to 32 of 39" in w for w in rep.warnings)


@pytest.mark.parametrize("ring", ["bbox", "limbs", "tilted"])
def test_a_model_trained_with_another_ring_gets_that_ring(walk_scene, ring):
    """The denoiser's ring (a checkpoint's normalisation) places the virtual views as in training."""
    from anylift.data.trajectories import intrinsics, look_at

    # The walker seen from 60 degrees above, 6 m away.
    truth = walk_scene.truth
    hips = truth[:, [11, 12]].mean(1)
    eye = hips.mean(0) + 6.0 * np.array([0.5 * np.cos(1.0), -0.5 * np.sin(1.0), np.sin(np.pi / 3)])
    w2c = np.tile(look_at(eye, hips.mean(0)), (len(truth), 1, 1))
    sc = make_scene(
        truth,
        Camera(intrinsics((1280, 720), 900.0), w2c, up=np.array([0.0, 0.0, 1.0]), image_size=(1280, 720)),
    )

    class Recording(Oracle):
        def __call__(self, x_n, n, cond):
            w2c = cond.world_to_camera.cpu().numpy()  # (B, V, W, 4, 4) in the lift frame
            lift = cond.lift_from_file
            centre = hips[cond.frames.cpu().numpy()] @ lift[:3, :3].T + lift[:3, 3]
            eyes = -np.einsum("bvwji,bvwj->bvwi", w2c[..., :3, :3], w2c[..., :3, 3])
            # The virtual cameras' distance to the subject over the input camera's.
            dist = np.linalg.norm(eyes - centre[:, None], axis=-1).mean(axis=(0, 2))
            self.ratios.append(dist[1:].mean() / dist[0])
            return super().__call__(x_n, n, cond)

    oracle = Recording(sc.truth)
    oracle.ring, oracle.ratios = ring, []
    motion = lift(sc.keypoints, sc.camera, denoiser=oracle, steps=2, **EXACT, placement="prior")
    assert np.linalg.norm(motion.keypoints3d - sc.truth, axis=-1).max() < 0.005
    ratio = float(np.median(oracle.ratios))
    # Seen from above the body looks small: the image-size guess stands the ring much farther off
    # than the input camera is; the limbs' guess about as far.
    assert (ratio > 1.3) if ring == "bbox" else (abs(ratio - 1.0) < 0.15)


def test_a_collapsed_skeleton_is_lifted_as_unseen(walk_scene):
    """A detector's skeleton shrunk onto part of the body for 10 frames, every joint still scored:
    dropped (anylift.lifting.collapse), the frames are bridged as occluded ones; kept, their
    joints sit on the wrong rays."""
    sc = walk_scene
    kp = sc.keypoints.keypoints.copy()
    bad = slice(15, 25)
    centre = kp[bad, 11:13, :2].mean(1, keepdims=True)
    kp[bad, :, :2] = centre + 0.2 * (kp[bad, :, :2] - centre)
    shrunk = type(sc.keypoints)(kp, fps=30.0, image_size=sc.keypoints.image_size)
    rep = lift_with_report(shrunk, sc.camera, denoiser=Oracle(sc.truth), steps=3, **EXACT, placement="prior")
    assert np.linalg.norm(rep.motion.keypoints3d - sc.truth, axis=-1).max() < 0.005
    assert any("10 frame(s) treated as unseen" in m and "from frame 15" in m for m in rep.warnings)
    kept = lift(shrunk, sc.camera, denoiser=Oracle(sc.truth), steps=3, **EXACT, placement="prior",
                drop_collapsed=False)  # fmt: skip
    assert np.linalg.norm(kept.keypoints3d[bad] - sc.truth[bad], axis=-1).max() > 0.1
