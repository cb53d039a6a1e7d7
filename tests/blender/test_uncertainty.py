"""Uncertainty on the SMPL armature: keyed custom properties and bone colours."""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from mathutils import Vector

from anylift_blender import panels
from anylift_blender.baking import keys, uncertainty
from anylift_blender.retarget import SMPL_BONES

COCO = uncertainty.COCO17


def smpl_rig():
    arm = bpy.data.armatures.new("SMPL")
    rig = bpy.data.objects.new("SMPL", arm)
    bpy.context.scene.collection.objects.link(rig)
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    for i, name in enumerate(SMPL_BONES):
        eb = arm.edit_bones.new(name)
        eb.head = Vector((0.05 * i, 0.0, 0.0))
        eb.tail = Vector((0.05 * i, 0.0, 0.1))
    bpy.ops.object.mode_set(mode="OBJECT")
    return rig


@pytest.fixture
def rig(clean_scene):
    return smpl_rig()


def test_keyed_values_match_the_mapping(rig):
    rng = np.random.default_rng(0)
    std = rng.uniform(0.0, 0.2, size=(6, 17))
    # Keep the existing motion keys: uncertainty goes into the same action.
    bag = keys.new_action(rig)
    keys.write_channels(
        bag, 'pose.bones["pelvis"].location', np.arange(1, 7), np.zeros((6, 3)), group="pelvis"
    )
    keyed = uncertainty.apply_uncertainty(rig, std, frame_start=1)
    assert set(keyed) == set(SMPL_BONES)
    i = COCO.index
    want = {
        "left_elbow": (std[:, i("left_elbow")] + std[:, i("left_wrist")]) / 2,
        "right_knee": (std[:, i("right_knee")] + std[:, i("right_ankle")]) / 2,
        "head": std[:, :5].mean(axis=1),
        "spine2": std[:, [5, 6, 11, 12]].mean(axis=1),
        "left_hand": std[:, i("left_wrist")],
    }
    scene = bpy.context.scene
    for frame in (1, 4, 6):
        scene.frame_set(frame)
        for bone, values in want.items():
            assert rig.pose.bones[bone][uncertainty.PROPERTY] == pytest.approx(values[frame - 1], abs=1e-6)
    bag = keys.channelbag_of(rig)
    assert bag.fcurves.find('pose.bones["pelvis"].location', index=0) is not None
    fc = bag.fcurves.find('pose.bones["left_elbow"]["anylift_std"]')
    assert len(fc.keyframe_points) == 6 and fc.keyframe_points[0].co[0] == 1.0


def test_colour_follows_the_spread(rig):
    std = np.full((3, 17), 0.01)
    std[1, COCO.index("left_elbow")] = std[1, COCO.index("left_wrist")] = 0.5  # very unsure at frame 2
    std[2, COCO.index("left_elbow")] = std[2, COCO.index("left_wrist")] = 0.06  # midway at frame 3
    uncertainty.apply_uncertainty(rig, std, frame_start=10, low=0.02, high=0.10)
    pb = rig.pose.bones["left_elbow"]
    assert pb.color.palette == "CUSTOM"
    scene = bpy.context.scene
    scene.frame_set(10)
    # Theme colours are stored as 8-bit values.
    assert np.allclose(pb.color.custom.normal, uncertainty._GREEN, atol=5e-3)
    scene.frame_set(11)
    assert np.allclose(pb.color.custom.normal, uncertainty._RED, atol=5e-3)
    scene.frame_set(12)
    assert np.allclose(pb.color.custom.normal, uncertainty._YELLOW, atol=5e-3)
    assert np.allclose(rig.pose.bones["right_elbow"].color.custom.normal, uncertainty._GREEN, atol=5e-3)


def test_nan_and_bad_input(rig):
    std = np.full((2, 17), 0.05)
    std[:, COCO.index("nose")] = 0.3
    std[0, COCO.index("left_elbow")] = np.nan
    values = uncertainty.bone_std(std)
    assert values["left_elbow"][0] == pytest.approx(0.05)  # NaN left out of the mean
    std[0, COCO.index("left_wrist")] = np.nan
    values = uncertainty.bone_std(std)
    assert values["left_elbow"][0] == pytest.approx(0.3)  # nothing seen: the frame's worst spread
    assert values["left_elbow"][1] == pytest.approx(0.05)
    std[0] = np.nan
    with pytest.raises(ValueError, match="frame 0 has no finite value"):
        uncertainty.apply_uncertainty(rig, std)
    with pytest.raises(ValueError, match=r"\(T, 17\)"):
        uncertainty.apply_uncertainty(rig, np.zeros((4, 24)))
    with pytest.raises(ValueError, match="non-negative"):
        uncertainty.apply_uncertainty(rig, -np.ones((4, 17)))
    assert rig.animation_data is None  # nothing keyed on failure


def test_pose_spread_relative_to_body_size_colours_bones_not_the_depth(rig):
    """Samples far apart in depth (placement) but agreeing on the pose: green bones, the depth
    spread on the object; one arm the samples disagree on: red."""
    from types import SimpleNamespace

    from anylift.lifting.spread import body_size, sample_spread

    rng = np.random.default_rng(0)
    t = 4
    body = np.zeros((t, 17, 3))
    body[:, :, 2] = np.linspace(1.7, 0.0, 17)  # a 1.7 m column of keypoints
    body[:, [11, 12, 13, 14, 15, 16, 5, 6], 0] = [0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.2, -0.2]
    body[:, [11, 12], 2], body[:, [13, 14], 2], body[:, [15, 16], 2] = 1.0, 0.5, 0.0
    body[:, [5, 6], 2] = 1.5
    depth = np.array([0.0, 0.25, 0.5, 0.75])  # 28 cm placement spread
    samples = body[None] + depth[:, None, None, None] * np.array([0.0, 1.0, 0.0])
    samples = samples + rng.normal(0, 0.003, samples.shape)  # 0.5 cm pose noise
    samples[:, :, COCO.index("left_wrist"), 0] += np.array([0.0, 0.2, -0.2, 0.0])[:, None]
    s = sample_spread(samples)
    motion = SimpleNamespace(
        keypoints3d=s.fused, keypoints3d_std=s.std, samples_keypoints3d=samples,
        root_std=s.root_std, keypoints3d_pose_std=s.pose_std,
    )  # fmt: skip
    assert uncertainty.apply_motion_uncertainty(rig, motion, frame_start=1)
    size = body_size(s.fused)
    assert rig[uncertainty.SIZE_PROPERTY] == pytest.approx(size) and 1.4 < size < 1.6
    bpy.context.scene.frame_set(2)
    assert rig[uncertainty.ROOT_PROPERTY] == pytest.approx(s.root_std[1], abs=1e-6)
    assert s.root_std[1] > 0.25 and s.std[1].min() > 0.25  # the old total spread: all red
    # Pose spread: the right arm is confident (green), the left forearm and hand are not (red).
    assert np.allclose(rig.pose.bones["right_elbow"].color.custom.normal, uncertainty._GREEN, atol=5e-3)
    assert np.allclose(rig.pose.bones["left_wrist"].color.custom.normal, uncertainty._RED, atol=5e-3)
    assert rig.pose.bones["left_wrist"][uncertainty.PROPERTY] == pytest.approx(s.pose_std[1, 9], abs=1e-6)
    # Without a pose spread field, it is computed from the samples; without anything, nothing is keyed.
    del motion.keypoints3d_pose_std
    np.testing.assert_allclose(uncertainty.pose_spread(motion), s.pose_std)
    assert not uncertainty.apply_motion_uncertainty(rig, SimpleNamespace(keypoints3d=s.fused))


class _Layout:
    """Records what a panel draws (labels and icons)."""

    def __init__(self):
        self.lines = []

    def column(self, **_):
        return self

    def label(self, text="", icon="NONE"):
        self.lines.append((text, icon))


def test_legend_names_thresholds_and_placement(rig):
    layout = _Layout()
    panels.draw_legend(layout, rig)
    assert "Samples > 1" in layout.lines[0][0]
    rig[uncertainty.SIZE_PROPERTY] = 1.5
    rig[uncertainty.ROOT_PROPERTY] = 0.28
    layout = _Layout()
    panels.draw_legend(layout, rig)
    text = "\n".join(t for t, _ in layout.lines)
    assert f"{100 * uncertainty.LOW:.1f} % ({100 * uncertainty.LOW * 1.5:.1f} cm): confident" in text
    assert f"{100 * uncertainty.HIGH:.1f} % ({100 * uncertainty.HIGH * 1.5:.1f} cm): unsure" in text
    assert "Placement (root) spread here: 28.0 cm" in text
    # Green, yellow, red swatches; every icon is one this Blender knows.
    assert [icon for _, icon in layout.lines[1:4]] == [f"COLLECTION_COLOR_0{i}" for i in (4, 3, 1)]
    icons = bpy.types.UILayout.bl_rna.functions["label"].parameters["icon"].enum_items.keys()
    assert all(icon in icons for _, icon in layout.lines)
