"""A detector's skeleton collapsed onto part of the body (anylift.lifting.collapse)."""

from __future__ import annotations

import numpy as np

from anylift.lifting import collapse
from anylift.lifting.scale import BONES


def _body(height_px: float, x: float = 320.0) -> np.ndarray:
    """(17, 3) a standing skeleton about ``height_px`` tall, feet at y = 400, every joint seen."""
    y = {0: 0.0, 5: 0.18, 6: 0.18, 7: 0.36, 8: 0.36, 9: 0.5, 10: 0.5, 11: 0.5, 12: 0.5, 13: 0.74, 14: 0.74,
         15: 1.0, 16: 1.0}  # fmt: skip
    dx = {5: -0.11, 6: 0.11, 7: -0.13, 8: 0.13, 9: -0.14, 10: 0.14, 11: -0.06, 12: 0.06, 13: -0.06,
          14: 0.06, 15: -0.06, 16: 0.06}  # fmt: skip
    kp = np.zeros((17, 3))
    for j in range(17):
        kp[j] = [x + dx.get(j, 0.0) * height_px, 400.0 - (1.0 - y.get(j, 0.05)) * height_px, 0.9]
    return kp


def test_a_collapse_longer_than_the_window_is_flagged_from_its_edges_in():
    t = np.arange(150) / 30.0
    kp = np.stack([_body(300.0) for _ in t])
    bad = np.arange(50, 100)  # 1.7 s: longer than the 1 s each side the reference is taken from
    centre = kp[bad, :, :2].mean(1, keepdims=True)
    kp[bad, :, :2] = centre + 0.25 * (kp[bad, :, :2] - centre)  # every joint still "seen"
    flagged = collapse.collapsed_frames(kp, t)
    np.testing.assert_array_equal(np.flatnonzero(flagged), bad)
    out, dropped = collapse.drop_collapsed(kp, t)
    assert (out[bad, :, 2] == 0).all() and (out[~dropped, :, 2] == 0.9).all()
    np.testing.assert_array_equal(out[..., :2], kp[..., :2])  # positions kept, only unseen


def test_a_person_walking_away_or_folding_up_is_not_a_collapse():
    t = np.arange(120) / 30.0
    # Walking away: 4 s from 3 m to 7 m (half the size in under 2 s at first), at uneven frame times.
    away = np.stack([_body(900.0 / (3.0 + s)) for s in t])
    times = t + np.random.default_rng(0).uniform(0, 0.01, len(t))
    assert not collapse.collapsed_frames(away, times).any()
    # Folding up: the legs and arms bend (the box halves), the bones keep their length.
    fold = np.stack([_body(300.0) for _ in t])
    fold[40:80, [13, 14], 0] += 60.0  # knees forward
    fold[40:80, [15, 16], 1] -= 120.0  # feet under the hips
    assert not collapse.collapsed_frames(fold, t).any()


def test_frames_with_too_few_bones_are_not_judged():
    t = np.arange(90) / 30.0
    kp = np.stack([_body(300.0) for _ in t])
    kp[30:60, 7:, 2] = 0.0  # only the head and shoulders seen: one bone (the shoulders' width)
    assert np.isnan(collapse.longest_bone(kp)[30:60]).all()
    assert not collapse.collapsed_frames(kp, t).any()
    assert len(BONES) == 12
