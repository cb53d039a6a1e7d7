"""Object templates: keypoints, names, symmetry groups, user-defined objects."""

from __future__ import annotations

import numpy as np
import pytest

from anylift.errors import InputError
from anylift.io.keypoints import ObjectTrack
from anylift.object_templates import (
    CATEGORIES,
    axis_aligned_rotations,
    box_template,
    chair_template,
    get_template,
    table_template,
    template_for_track,
    user_template,
)


def _check_group(tp):
    """Every symmetry maps the keypoints onto themselves as its permutation says; rotations are proper."""
    for g, d, perm in zip(tp.symmetry_rotations, tp.symmetry_offsets, tp.symmetry_permutations):
        assert np.allclose(g @ g.T, np.eye(3)) and np.isclose(np.linalg.det(g), 1.0)
        assert np.allclose(tp.canonical @ g.T + d, tp.canonical[perm], atol=1e-12)
        assert sorted(perm.tolist()) == list(range(tp.num_keypoints))
    assert np.allclose(tp.symmetry_rotations[0], np.eye(3))


def test_axis_aligned_rotations_are_the_cube_group():
    r = axis_aligned_rotations()
    assert r.shape == (24, 3, 3)
    assert np.allclose(r[0], np.eye(3))
    assert len({tuple(m.round().astype(int).ravel()) for m in r}) == 24
    assert np.allclose(np.linalg.det(r), 1.0)


@pytest.mark.parametrize(
    ("size", "count"),
    [((0.45, 0.35, 0.30), 4), ((0.5, 0.3, 0.3), 8), ((0.3, 0.5, 0.3), 8), ((0.4, 0.4, 0.4), 24)],
)
def test_box_symmetries_follow_its_dimensions(size, count):
    tp = box_template(size)
    assert tp.num_keypoints == 8 and tp.num_symmetries == count
    _check_group(tp)
    assert np.allclose(tp.canonical.mean(0), 0.0)  # centred: symmetries are rotations about the origin
    assert np.allclose(np.ptp(tp.canonical, axis=0), size)


def test_box_names_describe_the_corners():
    tp = get_template("box")
    i = tp.names.index("top_front_left")
    assert np.all(tp.canonical[i] > 0)
    i = tp.names.index("bottom_back_right")
    assert np.all(tp.canonical[i] < 0)
    assert len(set(tp.names)) == 8
    # The reference pair is a space diagonal (the farthest pair).
    a, b = tp.reference_pair
    assert np.isclose(np.linalg.norm(tp.canonical[a] - tp.canonical[b]), np.linalg.norm([0.45, 0.35, 0.30]))


def test_chair_has_a_mirror_but_no_rotational_symmetry():
    tp = chair_template()
    assert tp.num_keypoints == 10 and tp.num_symmetries == 1
    assert tp.mirror is not None
    for i, name in enumerate(tp.names):
        partner = tp.names[tp.mirror[i]]
        assert partner == name.replace("left", "@").replace("right", "left").replace("@", "right")
    assert tp.canonical[:, 2].min() == 0.0  # standing on the floor
    back = [tp.names.index("backrest_left"), tp.names.index("backrest_right")]
    assert np.all(tp.canonical[back, 0] < 0) and np.all(tp.canonical[back, 2] == 0.9)


def test_table_turns_about_z_only():
    rect = table_template()
    assert rect.num_symmetries == 2
    _check_group(rect)
    assert np.allclose(rect.symmetry_rotations[1], np.diag([-1.0, -1.0, 1.0]))
    square = table_template((0.9, 0.9, 0.75))
    assert square.num_symmetries == 4  # the four quarter turns, never upside down
    assert np.all(square.symmetry_rotations[:, 2, 2] == 1.0)


def test_get_template_and_unknown_category():
    for c in CATEGORIES:
        assert get_template(c).category == c
    with pytest.raises(InputError, match="unknown object category 'sofa'"):
        get_template("sofa")
    with pytest.raises(InputError, match="box size"):
        box_template((0.4, -0.1, 0.2))


def test_user_template_detects_symmetries_of_an_offset_cuboid():
    corners = box_template((0.6, 0.2, 0.2)).canonical + np.array([1.0, 2.0, 3.0])  # not centred at the origin
    tp = user_template(corners, category="crate")
    assert tp.num_symmetries == 8 and tp.names[0] == "kp0"
    _check_group(tp)
    assert not np.allclose(tp.symmetry_offsets[1:], 0.0)
    irregular = user_template(np.random.default_rng(0).normal(size=(6, 3)))
    assert irregular.num_symmetries == 1
    none = user_template(corners, symmetries="none")
    assert none.num_symmetries == 1


def test_user_template_errors():
    with pytest.raises(InputError, match="one line"):
        user_template([[0, 0, 0], [1, 0, 0], [2, 0, 0]], path="kp.json", field="objects[0].canonical")
    with pytest.raises(InputError, match=r"shape \(2, 3\)"):
        user_template([[0, 0, 0], [1, 0, 0]])
    with pytest.raises(InputError, match="names"):
        user_template(np.eye(3), names=["a", "a", "b"])


def test_template_for_track():
    kp = np.zeros((4, 8, 3))
    tp = template_for_track(ObjectTrack("b", "box", kp))
    assert tp.category == "box" and tp.num_symmetries == 4
    can = np.random.default_rng(1).normal(size=(5, 3))
    tp = template_for_track(ObjectTrack("scan", "vase", np.zeros((4, 5, 3)), canonical=can))
    assert tp.category == "vase" and np.allclose(tp.canonical, can)
    with pytest.raises(InputError, match="not built in") as e:
        template_for_track(ObjectTrack("v", "vase", np.zeros((4, 5, 3))), path="kp.json", index=0)
    assert "objects[0].category" in str(e.value)
    with pytest.raises(InputError, match="10 keypoints") as e:
        template_for_track(ObjectTrack("c", "chair", kp))
    assert "foot_back_right" in str(e.value)
