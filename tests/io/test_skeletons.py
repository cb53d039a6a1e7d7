"""Joint sets: names, bones, flips and the conversion to COCO-17."""

import numpy as np
import pytest

from anylift import skeletons as sk
from anylift.errors import InputError

# formats.md, verbatim.
FORMATS_COCO17 = (
    "nose, left_eye, right_eye, left_ear, right_ear, left_shoulder, right_shoulder, left_elbow, right_elbow, "
    "left_wrist, right_wrist, left_hip, right_hip, left_knee, right_knee, left_ankle, right_ankle"
)
FORMATS_SMPL24 = (
    "pelvis, left_hip, right_hip, spine1, left_knee, right_knee, spine2, left_ankle, right_ankle, "
    "spine3, left_foot, right_foot, neck, left_collar, right_collar, head, left_shoulder, right_shoulder, "
    "left_elbow, right_elbow, left_wrist, right_wrist, left_hand, right_hand"
)


def test_names_follow_formats_md():
    assert sk.COCO17_JOINTS == tuple(FORMATS_COCO17.split(", "))
    assert sk.SMPL24_JOINTS == tuple(FORMATS_SMPL24.split(", "))
    assert sk.COCO17.joints == sk.COCO17_JOINTS
    assert (
        len(sk.OPENPOSE18_JOINTS) == 18 and len(sk.MEDIAPIPE33_JOINTS) == 33 and len(sk.BODY25_JOINTS) == 25
    )


def test_smpl_parents_form_a_tree():
    parents = sk.SMPL24_PARENTS
    assert len(parents) == 24 and parents[0] == -1
    assert all(0 <= p < c for c, p in enumerate(parents) if c > 0)
    assert sk.SMPL24.bones[sk.SMPL24_JOINTS.index("left_knee") - 1] == (1, 4)
    assert parents[sk.SMPL24_JOINTS.index("left_wrist")] == sk.SMPL24_JOINTS.index("left_elbow")
    assert len(sk.SMPL24.bones) == 23


@pytest.mark.parametrize("name", sorted(sk.SKELETONS))
def test_flip_is_involution_and_maps_bones_to_bones(name):
    s = sk.SKELETONS[name]
    flip = np.array(s.flip)
    assert sorted(flip.tolist()) == list(range(s.num_joints))
    np.testing.assert_array_equal(flip[flip], np.arange(s.num_joints))
    bones = {frozenset(b) for b in s.bones}
    assert {frozenset((s.flip[i], s.flip[j])) for i, j in s.bones} == bones
    for i, joint in enumerate(s.joints):
        mirrored = s.joints[s.flip[i]]
        if "left" in joint.split("_"):
            assert mirrored == joint.replace("left", "right")
        elif "right" not in joint.split("_"):
            assert mirrored == joint  # midline joints stay


def test_flip_examples():
    assert sk.COCO17.flip[:7] == (0, 2, 1, 4, 3, 6, 5)
    mp = sk.SKELETONS["mediapipe33"]
    assert mp.joints[mp.flip[mp.index("mouth_left")]] == "mouth_right"


def test_bones_of_coco17_are_the_usual_19():
    assert len(sk.COCO17.bones) == 19
    assert (sk.COCO17.index("left_knee"), sk.COCO17.index("left_ankle")) in sk.COCO17.bones


@pytest.mark.parametrize(
    ("name", "coco_joint", "source_index"),
    [
        ("openpose18", "left_wrist", 7),
        ("openpose18", "right_eye", 14),
        ("body25", "left_ankle", 14),
        ("body25", "right_hip", 9),
        ("mediapipe33", "left_ankle", 27),
        ("mediapipe33", "left_eye", 2),
        ("smpl24", "left_hip", 1),
        ("smpl24", "right_wrist", 21),
        ("coco17", "right_knee", 14),
    ],
)
def test_to_coco17_picks_joints_by_name(name, coco_joint, source_index):
    k = sk.SKELETONS[name].num_joints
    a = np.zeros((2, 3, k, 3))
    a[..., 0] = np.arange(k)  # x = source index
    a[..., 1] = 100 + np.arange(k)
    a[..., 2] = 0.5
    out = sk.to_coco17(a, name)
    assert out.shape == (2, 3, 17, 3) and out.dtype == np.float64
    j = sk.COCO17_JOINTS.index(coco_joint)
    np.testing.assert_array_equal(out[..., j, 0], source_index)
    np.testing.assert_array_equal(out[..., j, 1], 100 + source_index)


def test_smpl24_face_points_get_score_zero():
    a = np.random.default_rng(0).uniform(0.1, 1.0, (4, 24, 3))
    out = sk.to_coco17(a, "smpl24")
    face = [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(out[:, face, 2], 0.0)
    assert np.isnan(out[:, face, :2]).all()
    np.testing.assert_array_equal(out[:, 5:, :], a[:, [16, 17, 18, 19, 20, 21, 1, 2, 4, 5, 7, 8], :])
    no_score = sk.to_coco17(a, "smpl24", has_score=False)
    assert np.isnan(no_score[:, face]).all()


def test_unknown_skeleton_and_wrong_joint_count():
    with pytest.raises(InputError) as e:
        sk.get_skeleton("coco19")
    assert e.value.field == "skeleton" and "coco17" in str(e.value) and "coco19" in str(e.value)
    with pytest.raises(InputError, match=r"\(\.\.\., 18, C\)"):
        sk.to_coco17(np.zeros((3, 17, 3)), "openpose18")


def test_skeleton_rejects_a_flip_that_is_not_an_involution():
    with pytest.raises(ValueError, match="involution"):
        sk.Skeleton(name="bad", joints=("a", "b", "c"), bones=(), flip=(1, 2, 0))
