"""lift() with objects: an HOI oracle recovers the object's pose; mismatches warn or fail clearly."""

import dataclasses

import numpy as np
import pytest
import torch

from anylift.errors import InputError
from anylift.fitting.smpl_fit import SmplFitConfig
from anylift.io.motion import read_motion, write_motion
from anylift.lifting.objects import ObjectsIgnoredWarning
from anylift.models import DenoiserConfig, build_model, save_checkpoint
from anylift.pipeline import lift, lift_with_report

from .conftest import HoiOracle

FAST_FIT = SmplFitConfig(stage1_iterations=10, stage2_iterations=10)
# The oracle's geometry is exact in the triangulated points (LiftOptions.keypoints3d) of the
# keypoints as given (no smoothing).
EXACT = dict(fit_config=FAST_FIT, keypoints3d="triangulated", smooth_keypoints=False)


def _angle_deg(a, b):
    rel = np.einsum("tji,tjk->tik", a, b)
    cos = np.clip((np.trace(rel, axis1=1, axis2=2) - 1) / 2, -1, 1)
    return np.degrees(np.arccos(cos))


def test_oracle_recovers_object_pose_and_round_trips(hoi_walk, tmp_path):
    seq = hoi_walk
    assert (~seq.object_visible).any()  # some object keypoints are masked: completed, not dropped
    oracle = HoiOracle(seq.keypoints3d, seq.template.num_keypoints)
    report = lift_with_report(
        seq.keypoints2d, seq.camera, denoiser=oracle, steps=2, **EXACT, placement="prior"
    )
    m = report.motion
    t = len(seq.body_keypoints3d)
    assert oracle.shapes[0][-2] == 17 + 8  # the object's keypoints ride along with the body's
    assert m.object_names == ["box"]
    assert m.object_rotation.shape == (1, t, 3, 3) and m.object_translation.shape == (1, t, 3)
    assert _angle_deg(m.object_rotation[0], seq.object.rotation).max() < 1.0
    assert np.linalg.norm(m.object_translation[0] - seq.object.translation, axis=-1).max() < 0.005
    assert abs(m.object_scale[0] / seq.object.scale - 1) < 0.01
    assert np.linalg.norm(m.keypoints3d - seq.body_keypoints3d, axis=-1).max() < 0.005
    assert report.object_fit.keypoints3d.shape == (t, 8, 3) and report.warnings == []
    write_motion(tmp_path / "hoi.npz", m)
    back = read_motion(tmp_path / "hoi.npz")
    assert back.object_names == ["box"]
    np.testing.assert_allclose(back.object_rotation, m.object_rotation)
    np.testing.assert_allclose(back.object_translation, m.object_translation)
    np.testing.assert_allclose(back.object_scale, m.object_scale)


def test_ground_moves_the_object_with_the_body(hoi_walk):
    seq = hoi_walk
    oracle = HoiOracle(seq.keypoints3d, 8)
    rep = lift_with_report(seq.keypoints2d, seq.camera, denoiser=oracle, steps=2, ground=True,
                           **EXACT, placement="prior")  # fmt: skip
    shift = np.array([0.0, 0.0, rep.ground_offset])
    assert abs(rep.ground_offset) > 1e-4
    err = rep.motion.object_translation[0] - (seq.object.translation - shift)
    assert np.linalg.norm(err, axis=-1).max() < 0.005


def test_body_only_model_warns_and_lifts_the_person(hoi_walk):
    seq = hoi_walk
    oracle = HoiOracle(seq.keypoints3d, 0)
    with pytest.warns(ObjectsIgnoredWarning, match="HOI checkpoint.*--checkpoint"):
        rep = lift_with_report(
            seq.keypoints2d, seq.camera, denoiser=oracle, steps=2, **EXACT, placement="prior"
        )
    assert rep.motion.object_names is None and rep.motion.object_rotation is None
    assert oracle.shapes[0][-2] == 17
    assert len(rep.warnings) == 1
    assert np.linalg.norm(rep.motion.keypoints3d - seq.body_keypoints3d, axis=-1).max() < 0.005


def test_hoi_model_needs_a_matching_object(hoi_walk):
    seq = hoi_walk
    oracle = HoiOracle(seq.keypoints3d, 8)
    no_objects = dataclasses.replace(seq.keypoints2d, objects=[])
    with pytest.raises(InputError, match="no object track") as info:
        lift(no_objects, seq.camera, denoiser=oracle, steps=2)
    assert info.value.field == "objects"
    chair = HoiOracle(seq.keypoints3d, 8, object_category="chair")
    with pytest.raises(InputError, match="'chair'"):
        lift(seq.keypoints2d, seq.camera, denoiser=chair, steps=2)


def test_tiny_untrained_hoi_checkpoint_end_to_end(hoi_walk, tmp_path):
    seq = hoi_walk
    torch.manual_seed(0)
    model = build_model(DenoiserConfig.tiny("multi_view", num_object_keypoints=8))
    path = save_checkpoint(tmp_path / "hoi.pt", model, extra={"object_category": "box"})
    rep = lift_with_report(
        seq.keypoints2d, seq.camera, checkpoint=path, steps=3, samples=2, fit_config=FAST_FIT
    )
    m = rep.motion
    t = len(seq.body_keypoints3d)
    assert m.keypoints3d.shape == (t, 17, 3) and m.samples_keypoints3d.shape == (2, t, 17, 3)
    assert m.object_rotation.shape == (1, t, 3, 3) and m.object_scale.shape == (1,)
    assert np.isfinite(m.object_translation).all() and m.object_scale[0] > 0
    assert "object pose" in rep.timings


def test_shipped_box_checkpoint_is_used_for_a_box(hoi_walk):
    from anylift.models import load_checkpoint
    from anylift.pipeline import DEFAULT_CHECKPOINT, DEFAULT_HOI_CHECKPOINTS, default_checkpoint

    seq = hoi_walk
    shipped = DEFAULT_HOI_CHECKPOINTS["box"]
    ckpt = load_checkpoint(shipped, kind="multi_view")
    assert ckpt.extra["object_category"] == "box" and ckpt.config.num_object_keypoints == 8
    assert "cartwheel" not in ckpt.extra["task"]["clips"]
    assert default_checkpoint(seq.keypoints2d) == shipped
    assert default_checkpoint(dataclasses.replace(seq.keypoints2d, objects=[])) == DEFAULT_CHECKPOINT
    rep = lift_with_report(seq.keypoints2d, seq.camera, steps=2, **EXACT)
    assert rep.warnings == []
    m = rep.motion
    assert len(m.object_names) == 1 and m.object_rotation.shape == (1, seq.keypoints2d.num_frames, 3, 3)
    assert np.isfinite(m.object_translation).all() and m.object_scale[0] > 0


def test_person_comes_from_the_body_model_and_the_object_keeps_its_place(hoi_walk, tmp_path, monkeypatch):
    """hoi_body="body" (default): the person is the body-only model's lift of the same 2D; the
    object is moved along its camera rays only (its image position stays the HOI model's)."""
    from anylift import pipeline
    from anylift.geometry.camera import project

    seq = hoi_walk
    torch.manual_seed(0)
    model = build_model(DenoiserConfig.tiny("multi_view", num_object_keypoints=8))
    path = save_checkpoint(tmp_path / "hoi.pt", model, extra={"object_category": "box"})
    lifted_objects = []
    fit_object = pipeline.hoi.fit_object
    monkeypatch.setattr(pipeline.hoi, "fit_object", lambda points, *a, **k: (
        lifted_objects.append(points), fit_object(points, *a, **k))[1])  # fmt: skip
    run = dict(steps=2, samples=2, **EXACT)
    both = lift_with_report(seq.keypoints2d, seq.camera, checkpoint=path, **run)
    body_only = lift(dataclasses.replace(seq.keypoints2d, objects=[]), seq.camera, **run)
    own = lift_with_report(seq.keypoints2d, seq.camera, checkpoint=path, hoi_body="hoi", **run)
    assert both.warnings == [] and both.denoiser_calls > own.denoiser_calls
    np.testing.assert_allclose(both.motion.keypoints3d, body_only.keypoints3d, atol=1e-6)
    assert np.abs(own.motion.keypoints3d - body_only.keypoints3d).mean() > 0.01
    pixels = [
        project(p, m.intrinsics, m.world_to_camera) for p, m in zip(lifted_objects, (both.motion, own.motion))
    ]
    np.testing.assert_allclose(pixels[0], pixels[1], atol=1e-3)


def test_unknown_hoi_body_is_a_user_error(hoi_walk):
    with pytest.raises(InputError, match="hoi_body"):
        lift(hoi_walk.keypoints2d, hoi_walk.camera, hoi_body="both")


def test_a_person_seen_in_part_of_the_clip_carries_the_object_there_and_holds_it_outside(hoi_walk):
    """The span (anylift.lifting.span) crops the object's keypoints with the person's: the object's
    pose is recovered where the person is seen and held (like the body) outside."""
    seq = hoi_walk
    kp = seq.keypoints2d.keypoints.copy()
    kp[:5] = [np.nan, np.nan, 0.0]
    part = dataclasses.replace(seq.keypoints2d, keypoints=kp)
    oracle = HoiOracle(seq.keypoints3d[5:], 8)
    m = lift(part, seq.camera, denoiser=oracle, steps=2, **EXACT, placement="prior")
    t = len(seq.body_keypoints3d)
    assert m.object_translation.shape == (1, t, 3) and m.seen_span() == (5, t - 1)
    assert np.linalg.norm(m.object_translation[0, 5:] - seq.object.translation[5:], axis=-1).max() < 0.005
    np.testing.assert_array_equal(m.object_translation[0, :5], np.repeat(m.object_translation[0, 5:6], 5, 0))
    assert _angle_deg(m.object_rotation[0, 5:], seq.object.rotation[5:]).max() < 1.0


def test_an_object_lifted_under_the_floor_comes_back_along_its_rays():
    """The object's keypoints of a frame that went metres through the floor are pulled towards
    the camera until their lowest is at the margin under it, each keeping its image position
    (its ray); a box resting on the floor with its corners a few centimetres under (noise), and a
    frame whose camera is not above the floor, are left alone."""
    from anylift.lifting.objects import above_floor
    from anylift.object_templates import box_template

    corners = box_template().canonical  # 0.45 x 0.35 x 0.30 m, centred
    resting = corners + np.array([2.0, 0.5, 0.15 - 0.03])  # bottom 3 cm under the floor (noise)
    centres = np.array([[0.0, 0.0, 1.5], [0.0, 0.0, 1.5], [0.0, 0.0, -0.5]])
    far = centres[0] + 4.0 * (resting - centres[0])  # on the same rays, 4x as far: z down to -4.6 m
    points = np.stack([resting, far, far])
    out = above_floor(points, centres, floor=0.0, margin=0.1)
    np.testing.assert_allclose(out[0], resting)  # within the margin: untouched
    np.testing.assert_allclose(out[2], far)  # a camera under the floor: no such bound
    assert out[1][:, 2].min() == pytest.approx(-0.1)
    rays = lambda p, c: (p - c) / np.linalg.norm(p - c, axis=-1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(rays(out[1], centres[1]), rays(far, centres[1]), atol=1e-12)
    assert np.linalg.norm(out[1].mean(0) - resting.mean(0)) < 0.15  # back to where it was (to the margin)
