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
