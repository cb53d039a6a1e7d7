"""Synthetic HOI sequences: contact phases, floor, sizes, projection, masking, training windows."""

from __future__ import annotations

import numpy as np
import pytest

from anylift.data.augment import AugmentConfig
from anylift.data.hoi import (
    CARRY,
    DRAG,
    LIFT,
    PLACE,
    REST,
    SCALE_RANGES,
    HoiMotionBank,
    attach_object,
    make_hoi_sequence,
)
from anylift.errors import InputError
from anylift.geometry.camera import project
from anylift.io.keypoints import read_keypoints, write_keypoints
from anylift.object_templates import get_template


@pytest.fixture(scope="module")
def carry():
    return make_hoi_sequence("walk", 3, scenario="carry", num_frames=90)


def _segments(phase):
    change = np.flatnonzero(np.diff(phase)) + 1
    return [int(phase[i]) for i in np.concatenate([[0], change])]


def test_carry_phases_floor_and_hands(carry):
    obj = carry.object
    assert _segments(obj.phase) == [REST, LIFT, CARRY, PLACE, REST]
    low = carry.object_keypoints3d[..., 2].min(-1)
    assert low.min() > -1e-9
    rest = obj.phase == REST
    assert np.abs(low[rest]).max() < 1e-9  # resting on the floor, not floating
    first = np.flatnonzero(rest & (np.arange(len(rest)) < np.argmax(obj.phase == CARRY)))
    assert np.ptp(obj.translation[first], axis=0).max() < 1e-9  # still until picked up
    held = obj.phase == CARRY
    hands = 0.5 * (carry.body_keypoints3d[:, 9] + carry.body_keypoints3d[:, 10])
    centre = carry.object_keypoints3d.mean(1)
    assert np.abs(centre[held, 2] - hands[held, 2]).max() < 0.1  # carried at hand height
    assert np.linalg.norm(centre[held] - hands[held], axis=-1).max() < 0.8
    assert low[held].min() > 0.05  # off the floor while carried
    lo, hi = SCALE_RANGES["box"]
    assert lo <= obj.scale <= hi


def test_drag_stays_on_the_floor_and_moves_with_the_body():
    seq = make_hoi_sequence("walk", 1, scenario="drag", num_frames=90)
    obj = seq.object
    assert _segments(obj.phase) == [REST, DRAG, REST]
    low = seq.object_keypoints3d[..., 2].min(-1)
    assert np.abs(low).max() < 1e-9
    assert np.allclose(obj.rotation[:, 2, 2], 1.0)  # upright, turning about z only
    moved = np.linalg.norm(obj.translation[-1] - obj.translation[0])
    body_moved = np.linalg.norm(seq.body_keypoints3d[-1, 11] - seq.body_keypoints3d[0, 11])
    assert moved > 0.3 * body_moved > 0.1


def test_projection_and_masking(carry):
    kp = carry.keypoints2d
    (track,) = kp.objects
    assert track.category == "box" and track.keypoints.shape == (90, 8, 3) and track.canonical is None
    cam = carry.camera
    px = project(carry.object_keypoints3d, cam.K, cam.world_to_camera)
    vis = carry.object_visible
    assert np.abs(track.keypoints[vis, :2] - px[vis]).max() < 1e-6
    assert np.isnan(track.keypoints[~vis, :2]).all()
    assert 0.05 < 1 - vis.mean() < 0.6
    body_px = project(carry.body_keypoints3d, cam.K, cam.world_to_camera)
    seen = kp.keypoints[..., 2] > 0
    assert seen.mean() > 0.9 and np.abs(kp.keypoints[seen, :2] - body_px[seen]).max() < 1e-6
    assert carry.keypoints3d.shape == (90, 25, 3)
    assert np.array_equal(carry.keypoints3d[:, 17:], carry.object_keypoints3d)


def test_sequence_round_trips_through_the_keypoints_file(carry, tmp_path):
    path = tmp_path / "hoi.json"
    write_keypoints(path, carry.keypoints2d)
    back = read_keypoints(path)
    (track,) = back.objects
    np.testing.assert_allclose(track.keypoints, carry.keypoints2d.objects[0].keypoints, atol=1e-6)


def test_seeded_and_split():
    a = make_hoi_sequence("jump", 7)
    b = make_hoi_sequence("jump", 7)
    np.testing.assert_array_equal(a.object_keypoints3d, b.object_keypoints3d)
    np.testing.assert_array_equal(a.keypoints2d.keypoints, b.keypoints2d.keypoints)
    with pytest.raises(InputError, match="held out"):
        make_hoi_sequence("run", 0)
    held = make_hoi_sequence("run", 0, allow_heldout=True, category="chair", scenario="drag")
    assert held.object_keypoints3d.shape[1] == 10


def test_user_defined_template_goes_into_the_track():
    from anylift.object_templates import user_template

    tp = user_template(np.random.default_rng(0).uniform(-0.2, 0.2, size=(5, 3)), category="vase")
    seq = make_hoi_sequence("walk", 2, template=tp)
    assert np.allclose(seq.keypoints2d.objects[0].canonical, tp.canonical)


def test_attach_object_keeps_the_object_rigid():
    body = make_hoi_sequence("dance_a", 0).body_keypoints3d
    tp = get_template("table")
    motion = attach_object(body, tp, np.random.default_rng(1), scale=1.0)
    assert motion.scenario == "drag"  # tables are dragged, not carried
    pts = motion.keypoints(tp)
    d = np.linalg.norm(pts[:, :, None] - pts[:, None], axis=-1)
    d0 = np.linalg.norm(tp.canonical[:, None] - tp.canonical[None], axis=-1)
    assert np.abs(d - d0).max() < 1e-9
    with pytest.raises(InputError, match="scenario"):
        attach_object(body, tp, np.random.default_rng(1), scenario="throw")


def test_training_bank_appends_object_keypoints():
    bank = HoiMotionBank("box", clips=("walk",))
    assert bank.num_object_keypoints == 8
    w = bank.window(np.random.default_rng(0), 40, AugmentConfig())
    assert w.shape == (40, 25, 3)
    obj = w[:, 17:]
    assert obj[..., 2].min() > -1e-9
    edges = np.linalg.norm(obj[:, 0] - obj[:, 1], axis=-1)
    assert np.ptp(edges) < 1e-9  # rigid
    with pytest.raises(InputError, match="held out"):
        HoiMotionBank("box", clips=("run",))
