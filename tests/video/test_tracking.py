import numpy as np

from anylift.video.tracking import drop_low_confidence, fill_gaps, one_euro_smooth


def test_drop_and_fill_gaps():
    T = 12
    kp = np.zeros((T, 17, 3))
    kp[:, :, 0] = np.arange(T)[:, None] * 10.0
    kp[:, :, 1] = 5.0
    kp[:, :, 2] = 0.8
    kp[3:5, 0, 2] = 0.1  # low confidence: dropped, then filled (gap 2)
    kp[6:11, 1, 2] = 0.0  # gap of 5: longer than max_gap, stays missing
    dropped = drop_low_confidence(kp, 0.3)
    assert (dropped[3:5, 0, 2] == 0).all() and np.isnan(dropped[3:5, 0, 0]).all()
    filled = fill_gaps(dropped, max_gap=3)
    assert np.allclose(filled[3:5, 0, 0], [30.0, 40.0])
    assert np.allclose(filled[3:5, 0, 2], 0.4)  # half the lower neighbour's score
    assert (filled[6:11, 1, 2] == 0).all()


def test_one_euro_reduces_jitter_without_lag():
    T, fps = 120, 30.0
    rng = np.random.default_rng(0)
    truth = np.zeros((T, 17, 2))
    truth[..., 0] = 100 + 200 * np.arange(T)[:, None] / fps  # 200 px/s
    truth[..., 1] = 50
    noisy = np.concatenate([truth + rng.normal(0, 2.0, truth.shape), np.ones((T, 17, 1))], -1)
    smooth = one_euro_smooth(noisy, fps)
    err_raw = np.abs(noisy[..., :2] - truth).mean()
    err_smooth = np.abs(smooth[..., :2] - truth)[5:-5].mean()
    assert err_smooth < 0.75 * err_raw
    bias = (smooth[10:-10, :, 0] - truth[10:-10, :, 0]).mean()
    assert abs(bias) < 0.3  # forward-backward: a causal filter would trail by pixels


def test_one_euro_low_confidence_moves_less_and_missing_stays_missing():
    T = 40
    kp = np.zeros((T, 17, 3))
    kp[..., 0], kp[..., 1], kp[..., 2] = 100.0, 100.0, 1.0
    kp[20, 0, :2] = [130.0, 100.0]
    kp[20, 0, 2] = 1.0
    kp[20, 1, :2] = [130.0, 100.0]
    kp[20, 1, 2] = 0.05
    kp[30, 2] = [np.nan, np.nan, 0.0]
    out = one_euro_smooth(kp, 30.0)
    assert out[20, 1, 0] - 100 < 0.3 * (out[20, 0, 0] - 100)
    assert out[30, 2, 2] == 0 and np.isnan(out[30, 2, 0])
