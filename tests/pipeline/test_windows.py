import numpy as np
import pytest

from anylift.lifting.windows import blend, blend_weights, plan_windows, window_frames, window_valid


@pytest.mark.parametrize("t", [1, 5, 16])
def test_short_clip_is_one_padded_window(t):
    starts = plan_windows(t, 16)
    assert starts.tolist() == [0]
    assert window_valid(starts, 16, t).sum() == t
    assert window_frames(starts, 16, t).max() == t - 1


@pytest.mark.parametrize("t", [17, 40, 61, 300])
def test_windows_cover_the_clip_with_overlap(t):
    w = 16
    starts = plan_windows(t, w)
    assert starts[0] == 0 and starts[-1] == t - w
    gaps = np.diff(starts)
    assert (gaps <= 12).all() and (gaps >= 1).all()  # stride <= 3/4 W: overlaps >= W/4
    weights = blend_weights(starts, w, t)
    total = np.zeros(t)
    np.add.at(total, window_frames(starts, w, t).ravel(), weights.ravel())
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


def test_blend_hands_over_smoothly():
    t, w = 60, 16
    starts = plan_windows(t, w)
    # Each window disagrees by a full unit with the next: a hard cut would jump by 1.
    values = np.broadcast_to(np.arange(len(starts), dtype=float)[:, None], (len(starts), w))
    out = blend(values, starts, t)
    steps = np.abs(np.diff(out))
    overlap = int(starts[0] + w - starts[1])
    assert steps.max() <= np.pi / (2 * (overlap + 1)) + 1e-9
    assert out[0] == 0 and out[-1] == len(starts) - 1
    # Constant input stays constant (weights sum to one).
    np.testing.assert_allclose(blend(np.ones((len(starts), w, 3)), starts, t), 1.0)


def test_the_subject_turn_centres_the_hips_and_keeps_every_ray():
    from anylift.lifting.views import subject_turn, turned_coordinates

    rng = np.random.default_rng(0)
    unit = np.array([0.3, -0.15]) + 0.02 * rng.normal(size=(16, 17, 2))
    mask = np.ones((16, 17), bool)
    turn = subject_turn(unit, mask)
    np.testing.assert_allclose(turn @ turn.T, np.eye(3), atol=1e-12)
    turned = turned_coordinates(unit, turn)
    assert np.abs(turned[:, [11, 12]].mean(axis=(0, 1))).max() < 0.01
    rays = np.concatenate([unit, np.ones_like(unit[..., :1])], -1)
    back = np.concatenate([turned, np.ones_like(turned[..., :1])], -1) @ turn  # turned rays, camera frame
    np.testing.assert_allclose(np.cross(back, rays), 0.0, atol=1e-12)  # the same rays
    np.testing.assert_array_equal(subject_turn(unit, np.zeros_like(mask)), np.eye(3))
    # A level camera looking 30 deg down stays level: its turned x axis is still horizontal.
    down = np.array([0.0, np.cos(np.radians(30.0)), np.sin(np.radians(30.0))])
    level = subject_turn(unit, mask, down)
    assert abs(level[0] @ down) < 1e-12
    assert abs(turn[0] @ down) > 0.01  # the smallest rotation would have rolled it


def test_a_dutch_angle_is_rolled_level_and_straight_down_is_left_alone():
    from anylift.data.trajectories import look_at
    from anylift.lifting.views import level_roll, subject_turn

    # A camera 4 m from a person, 20 deg down, rolled 25 deg; down in its own coordinates.
    eye, target = np.array([0.0, -3.8, 2.4]), np.array([0.0, 0.0, 1.0])
    rolled = look_at(eye, target, np.radians(25.0))[:3, :3]
    down = rolled @ np.array([0.0, 0.0, -1.0])
    unit = 0.02 * np.random.default_rng(1).normal(size=(8, 17, 2))
    turn = level_roll(subject_turn(unit, np.ones((8, 17), bool), down), down)
    np.testing.assert_allclose(turn @ turn.T, np.eye(3), atol=1e-12)
    g = turn @ down
    assert abs(g[0]) < 1e-12 and g[1] > 0.9  # down is the image's +y: rolled level
    level = look_at(eye, target)[:3, :3]
    np.testing.assert_allclose(level_roll(np.eye(3), down) @ rolled, level, atol=1e-9)  # the camera unrolled
    np.testing.assert_array_equal(level_roll(np.eye(3), None), np.eye(3))
    np.testing.assert_array_equal(level_roll(np.eye(3), np.array([0.03, 0.0, 1.0])), np.eye(3))  # looks down
