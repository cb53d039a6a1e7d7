import numpy as np
import pytest

from anylift.video.tracking import LEGS, drop_low_confidence, fill_gaps, one_euro_smooth, unswap_legs


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


def _walker_seen_from(azimuth_deg: float, fps: float = 30.0, clip: str = "walk"):
    """(T, 17, 2) pixels of a training clip (the walk), seen from ``azimuth_deg`` 15 degrees from
    above, and the person's height in pixels."""
    from anylift.data.mocap import load_clip
    from anylift.geometry.camera import project
    from anylift.geometry.transforms import intrinsics, look_at

    x = load_clip(clip, fps=fps).keypoints3d
    az, el = np.radians(azimuth_deg), np.radians(15.0)
    centre = x.reshape(-1, 3).mean(0)
    eye = centre + 6.0 * np.array([np.cos(az) * np.cos(el), np.sin(az) * np.cos(el), np.sin(el)])
    px = project(x, intrinsics((640, 360), 800.0), look_at(eye, centre))
    return px, float(np.median(np.ptp(px[..., 1], axis=1)))


def _wrong_legs(kp: np.ndarray, truth: np.ndarray, size: float) -> np.ndarray:
    """(T,) frames whose legs are labelled the other way round, where the legs are apart."""
    as_is = np.linalg.norm(kp[:, [13, 15], :2] - truth[:, [13, 15]], axis=-1).sum(-1)
    swapped = np.linalg.norm(kp[:, [13, 15], :2] - truth[:, [14, 16]], axis=-1).sum(-1)
    apart = np.linalg.norm(truth[:, [13, 15]] - truth[:, [14, 16]], axis=-1).sum(-1) > 0.15 * size
    return (swapped < as_is) & apart


@pytest.mark.parametrize("fps", [10.0, 30.0, 60.0])
@pytest.mark.parametrize("azimuth", [0.0, 60.0, 90.0, 200.0])
def test_unswap_legs_undoes_a_detectors_leg_swaps(azimuth, fps):
    truth, size = _walker_seen_from(azimuth, fps)
    rng = np.random.default_rng(1)
    noisy = truth + rng.normal(0.0, 0.01 * size, truth.shape)
    frame = lambda seconds: round(seconds * fps)  # noqa: E731
    swapped = np.zeros(len(truth), dtype=bool)
    swapped[: frame(0.17)] = True  # from the first frame on: nothing before to follow
    swapped[frame(0.67) : frame(0.8)] = swapped[frame(1.0)] = True
    det = noisy.copy()
    for a, b in LEGS:
        det[swapped, a], det[swapped, b] = noisy[swapped, b], noisy[swapped, a]
    kp = np.concatenate([det, np.ones((len(det), 17, 1))], -1)
    assert _wrong_legs(kp, truth, size).sum() >= 4
    assert _wrong_legs(unswap_legs(kp, fps), truth, size).sum() == 0
    # Labels are only changed where they jump: the clean track's stay as they were.
    clean = np.concatenate([noisy, np.ones((len(det), 17, 1))], -1)
    assert np.array_equal(unswap_legs(clean, fps), clean)


@pytest.mark.parametrize("clip", ["kick", "spin", "backflip", "dance_a"])
def test_unswap_legs_leaves_fast_leg_motion_alone(clip):
    """A kick's leg accelerates hard, and a backflip's legs pass each other upside down: without
    swaps, nothing is relabelled, with a jitter of 1 or 3 % of the body's height (an earlier
    setting relabelled 7 frames of a detected kick, and its lift was 22 mm worse)."""
    rng = np.random.default_rng(2)
    for azimuth in (0.0, 45.0, 90.0, 135.0, 180.0, 270.0):
        for fps in (10.0, 30.0):
            truth, size = _walker_seen_from(azimuth, fps, clip)
            for noise in (0.01, 0.03):  # of the body's height
                noisy = truth + rng.normal(0.0, noise * size, truth.shape)
                kp = np.concatenate([noisy, np.ones((len(noisy), 17, 1))], -1)
                assert np.array_equal(unswap_legs(kp, fps), kp), (azimuth, fps, noise)


def test_unswap_legs_solves_each_seen_run_apart_and_keeps_scores_with_joints():
    truth, size = _walker_seen_from(60.0)
    kp = np.concatenate([truth, np.linspace(0.5, 1.0, 17)[None, :, None].repeat(len(truth), 0)], -1)
    kp[10:12] = np.nan  # the person not seen for two frames
    kp[12:18, [13, 14, 15, 16]] = kp[12:18, [14, 13, 16, 15]]  # swapped right after
    fixed = unswap_legs(kp, 30.0)
    assert np.isnan(fixed[10:12]).all()
    assert _wrong_legs(fixed, truth, size).sum() == 0
    # The scores were swapped with the joints (right knee's score on the left knee) and move back.
    seen = ~np.isnan(fixed[:, 0, 2])
    assert np.array_equal(fixed[seen, :, 2], np.broadcast_to(np.linspace(0.5, 1.0, 17), (seen.sum(), 17)))
