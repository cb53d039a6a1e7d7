"""lift() end to end with a tiny untrained multi-view checkpoint."""

import numpy as np
import pytest

from anylift import pipeline
from anylift.errors import CheckpointError, InputError
from anylift.fitting.smpl_fit import SmplFitConfig
from anylift.geometry.camera import invert_rigid
from anylift.lifting import smoothing, spread
from anylift.models import DenoiserConfig, build_model, load_checkpoint, save_checkpoint
from anylift.pipeline import DEFAULT_CHECKPOINT, lift, lift_with_report, reprojection_pixels

FAST_FIT = SmplFitConfig(stage1_iterations=10, stage2_iterations=20)


def _smoothed(keypoints, camera):
    """(T, 17, 2) the keypoints as the lift takes them in (smoothed on their frame times)."""
    times = np.arange(keypoints.num_frames) / keypoints.fps
    return smoothing.smooth_keypoints(keypoints.keypoints, times, camera)[0][..., :2]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    import torch

    torch.manual_seed(0)
    model = build_model(DenoiserConfig.tiny("multi_view"))
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", model)


def test_tiny_model_end_to_end_is_deterministic(walk_scene, tiny_checkpoint):
    sc = walk_scene
    stages = []
    kw = dict(checkpoint=tiny_checkpoint, steps=4, fit_config=FAST_FIT, keypoints3d="triangulated")
    rep = lift_with_report(sc.keypoints, sc.camera, progress=lambda s, d, t: stages.append(s), **kw)
    m = rep.motion
    assert m.num_frames == len(sc.truth) and m.body_model == "smpl-proxy"
    assert {"prepare", "diffusion", "triangulate", "fit SMPL"} <= set(stages)
    assert rep.denoiser_calls == 4 and rep.num_windows == 3 and rep.num_views == 3
    # Observed joints lie on their rays: the input view (its jitter smoothed out first,
    # anylift.lifting.smoothing) is reproduced whatever the model says.
    np.testing.assert_allclose(reprojection_pixels(m), _smoothed(sc.keypoints, sc.camera), atol=1e-3)
    raw = lift(sc.keypoints, sc.camera, smooth_keypoints=False, **kw)  # the keypoints as given
    np.testing.assert_allclose(reprojection_pixels(raw), sc.keypoints.keypoints[..., :2], atol=1e-3)
    assert np.abs(_smoothed(sc.keypoints, sc.camera) - sc.keypoints.keypoints[..., :2]).max() > 0.5
    again = lift(sc.keypoints, sc.camera, **kw)
    np.testing.assert_array_equal(again.keypoints3d, m.keypoints3d)
    other = lift(sc.keypoints, sc.camera, seed=1, **kw)
    assert np.abs(other.keypoints3d - m.keypoints3d).max() > 1e-4


def test_samples_give_spread(walk_scene, tiny_checkpoint):
    sc = walk_scene
    kw = dict(checkpoint=tiny_checkpoint, steps=3, fit_config=FAST_FIT, keypoints3d="triangulated")
    m = lift(sc.keypoints, sc.camera, samples=3, **kw)
    assert m.samples_keypoints3d.shape == (3, len(sc.truth), 17, 3)
    assert m.keypoints3d_std.shape == (len(sc.truth), 17) and (m.keypoints3d_std > 0).any()
    # The median of the samples brought to one depth along the camera rays (anylift.lifting.spread.fuse).
    centres = invert_rigid(m.world_to_camera)[:, :3, 3]
    np.testing.assert_allclose(m.keypoints3d, spread.fuse(m.samples_keypoints3d, centres)[0])
    np.testing.assert_allclose(reprojection_pixels(m), _smoothed(sc.keypoints, sc.camera), atol=1e-3)
    one = lift(sc.keypoints, sc.camera, samples=1, **kw)
    # Sample 0 comes from the seed alone, whatever S (up to float32 batching).
    np.testing.assert_allclose(m.samples_keypoints3d[0], one.keypoints3d, atol=1e-5)  # batch float32
    assert one.keypoints3d_std is None


def test_keypoints_are_the_fitted_bodys_unless_asked_for_the_triangulation(walk_scene, tiny_checkpoint):
    """``keypoints3d`` by default: the fitted SMPL body's COCO-17 keypoints (the body of ``joints``
    and of the baked armature); ``keypoints3d="triangulated"``: the samples' fused points it was
    fitted to. Sampling and fit are the same either way."""
    import torch

    from anylift.body.model import load_body_model
    from anylift.fitting.smpl_fit import KeypointLayer

    sc = walk_scene
    kw = dict(checkpoint=tiny_checkpoint, steps=3, samples=2, fit_config=FAST_FIT)
    body_kp = lift(sc.keypoints, sc.camera, **kw)
    tri = lift(sc.keypoints, sc.camera, keypoints3d="triangulated", **kw)
    np.testing.assert_array_equal(body_kp.samples_keypoints3d, tri.samples_keypoints3d)
    np.testing.assert_array_equal(body_kp.joints, tri.joints)
    layer = KeypointLayer(load_body_model(None, device="cpu")).to(dtype=torch.float64)
    params = (body_kp.betas[None], body_kp.global_orient, body_kp.body_pose, body_kp.transl)
    with torch.no_grad():
        joints, keypoints = layer(*(torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in params))
    np.testing.assert_allclose(joints.numpy(), body_kp.joints, atol=1e-4)
    np.testing.assert_allclose(keypoints.numpy(), body_kp.keypoints3d, atol=1e-4)
    assert np.abs(body_kp.keypoints3d - tri.keypoints3d).max() > 1e-3  # not the triangulation
    with pytest.raises(InputError, match="keypoints3d"):
        lift(sc.keypoints, sc.camera, keypoints3d="fused", **kw)


def test_shipped_default_checkpoint_lifts(walk_scene):
    ckpt = load_checkpoint(DEFAULT_CHECKPOINT, kind="multi_view")
    assert ckpt.config.num_views == 4 and ckpt.config.num_object_keypoints == 0
    assert ckpt.extra["step"] > 0 and "cartwheel" not in ckpt.extra["task"]["clips"]
    sc = walk_scene
    m = lift(sc.keypoints, sc.camera, steps=2, fit_config=FAST_FIT)
    assert m.keypoints3d.shape == (sc.keypoints.num_frames, 17, 3) and np.isfinite(m.joints).all()


def test_user_errors(walk_scene, tiny_checkpoint, tmp_path, monkeypatch):
    sc = walk_scene
    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "DEFAULT_CHECKPOINT", tmp_path / "not_installed.pt")
        with pytest.raises(CheckpointError, match="default multi-view checkpoint"):
            lift(sc.keypoints, sc.camera)
    with pytest.raises(CheckpointError, match="not found"):
        lift(sc.keypoints, sc.camera, checkpoint=tmp_path / "nope.pt")
    single = save_checkpoint(tmp_path / "sv.pt", build_model(DenoiserConfig.tiny("single_view")))
    with pytest.raises(CheckpointError, match="multi_view"):
        lift(sc.keypoints, sc.camera, checkpoint=single)
    other = save_checkpoint(
        tmp_path / "op.pt", build_model(DenoiserConfig.tiny("multi_view", skeleton="openpose18"))
    )
    with pytest.raises(CheckpointError, match="skeleton"):
        lift(sc.keypoints, sc.camera, checkpoint=other)
    with pytest.raises(InputError, match=r"body|not found|exist"):
        lift(sc.keypoints, sc.camera, checkpoint=tiny_checkpoint, body_model=tmp_path / "SMPL.pkl")
    with pytest.raises(InputError, match="samples"):
        lift(sc.keypoints, sc.camera, checkpoint=tiny_checkpoint, samples=0)
    from anylift.io.cameras import Camera

    short = Camera(K=sc.camera.K, world_to_camera=sc.camera.world_to_camera[:10])
    with pytest.raises(InputError, match="frames"):
        lift(sc.keypoints, short, checkpoint=tiny_checkpoint)


def test_a_small_person_far_off_the_image_centre_is_lifted_upright():
    """A walker 45 m away, 50 px tall, 9 m off the optical axis of a long lens looking 15 deg down
    (a courtyard's far corner): the model's input used to hold the person six body sizes off
    centre, where no training window put them, and the lift lay the body 57 deg over along the
    camera ray. Each window's input camera is now turned about its centre towards the person."""
    from anylift.data.mocap import load_clip
    from anylift.data.trajectories import look_at
    from anylift.geometry.camera import project
    from anylift.io.cameras import Camera
    from anylift.io.keypoints import Keypoints2D

    pts = load_clip("walk", fps=10.0).keypoints3d
    pts = pts - np.array([pts[..., 0].mean() - 9.0, pts[..., 1].mean(), 0.0])
    pitch = np.radians(14.6)
    eye = np.array([0.0, -45.0 * np.cos(pitch), 1.0 + 45.0 * np.sin(pitch)])
    w2c = np.tile(look_at(eye, np.array([0.0, 0.0, 1.0])), (len(pts), 1, 1))
    k = np.array([[1324.0, 0, 384], [0, 1324.0, 288], [0, 0, 1]])
    cam = Camera(K=k, world_to_camera=w2c, up=np.array([0.0, 0.0, 1.0]), image_size=(768, 576))
    uv = project(pts, k, w2c) + np.random.default_rng(0).normal(scale=1.0, size=(*pts.shape[:2], 2))
    assert uv[..., 0].min() > 600  # the far right of the frame
    kp = Keypoints2D(np.concatenate([uv, np.full_like(uv[..., :1], 0.9)], -1), 10.0, (768, 576))
    m = lift(kp, cam, fit_config=FAST_FIT)
    torso = m.keypoints3d[:, [5, 6]].mean(1) - m.keypoints3d[:, [11, 12]].mean(1)
    lean = np.degrees(np.arccos(torso[:, 2] / np.linalg.norm(torso, axis=-1)))
    assert np.median(lean) < 10.0  # measured 4 (57 before)
    height = np.ptp(m.keypoints3d[..., 2], axis=1)
    assert np.median(height) == pytest.approx(1.4, abs=0.15)


def test_legs_out_of_the_frame_keep_their_length_and_come_down_to_the_floor(walk_scene):
    """A walker filmed waist up (knees and ankles never in the input): the prior drew the unseen
    legs short (thighs 0.32-0.36 m and shins 0.28-0.29 m for a true 0.42 and 0.41; the lowest
    ankle 0.29 m too high); they now keep the lengths the rest of the body gives
    (``lifting.placement.unseen_limb_lengths``; the knees' bend stays the prior's guess)."""
    from dataclasses import replace

    from anylift.lifting.scale import BONES, bone_lengths

    sc = walk_scene
    kp = sc.keypoints.keypoints.copy()
    kp[:, 13:17] = np.nan
    kp[:, 13:17, 2] = 0.0
    m = lift(replace(sc.keypoints, keypoints=kp), sc.camera, fit_config=FAST_FIT, keypoints3d="triangulated")
    legs = [BONES.index(b) for b in ((11, 13), (13, 15), (12, 14), (14, 16))]
    assert bone_lengths(m.keypoints3d)[legs] == pytest.approx(bone_lengths(sc.truth)[legs], rel=0.1)
    lowest = m.keypoints3d[:, [15, 16], 2].min(1) - sc.truth[:, [15, 16], 2].min(1)
    assert np.median(lowest) < 0.2  # measured 0.07
