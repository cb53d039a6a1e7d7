"""The input keypoints' jitter taken out before lifting: a Whittaker smoother per joint.

The lift puts every observed joint exactly on its camera ray (:mod:`anylift.lifting.consistency`),
so a keypoint file's frame-to-frame jitter goes straight into the 3D points. Each joint's track is
smoothed first, on the input's own frame times (any rate, variable too), as the minimum of

    sum_t w_t |y_t - x_t|^2 + lam * sum_t |third divided difference of x at t|^2

(Whittaker 1923, the discrete smoothing spline; third differences, :data:`ORDER`, so a steady
acceleration - a flight, a swing - costs nothing) with

- ``lam`` chosen per joint by generalised cross-validation (Craven & Wahba 1979) among
  :data:`LAMBDAS`: a still hip under a noisy detector is smoothed hard, a clean fast kick barely;
  the data decide, there is no noise level to set;
- ``w_t`` the keypoint's score; undetected frames weigh 0 (the penalty bridges them, and they
  stay undetected in the output);
- ``y_t`` the keypoint's direction in the world's orientation when the camera is known (its
  rotation taken out), so a handheld camera's shake,
  which moves every keypoint at once, is not smoothed away as if it were jitter (in pixels the
  smoother tripled a handheld walk's 2D error, 3.8 -> 11.3 px; on directions 3.8 -> 2.6);
- footage under :data:`MIN_FPS` left as it is.

The system is banded: the solve and the diagonal of its inverse (the GCV trace; Hutchinson & de
Hoog 1985) are LDL^T recurrences vectorised over joints and ``lam``, so a clip costs O(frames)
(0.1 s for 300 frames). Chosen on the accuracy benchmark's training-motion cases (ablation row
42). Tried and dropped there: second differences; a Tukey re-weighting against gross errors (the
same figures); capping each keypoint's move at 2.5 or 4 times the track's noise level (it kept
fast peaks in 2D, but left gross errors in). Tracks from ``anylift detect`` are One-Euro smoothed
already (:mod:`anylift.video.tracking`); on them this changes little.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from anylift.geometry.camera import pixel_rays, project

if TYPE_CHECKING:
    from anylift.io.cameras import Camera

LAMBDAS = np.array([0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0])
"""Candidate penalties, time in units of 1 / :data:`TIME_UNIT_FPS` s: the strongest, 1000, smooths
over about 1000^(1/6) = 3 units (0.1 s) whatever the frame rate - the reach is fixed in seconds,
not in frames."""
TIME_UNIT_FPS = 30.0
"""The penalty's time unit (the models' rate: at 30 fps a unit is a frame)."""
ORDER = 3
"""Order of the differences penalised (3: a constant acceleration, a flight, costs nothing)."""
MIN_FPS = 24.0
"""Below this mean frame rate the tracks are left as they are: a fast movement is then too sparsely
sampled for a smoother to tell it from noise (at 12 fps GCV rounded a backflip's wrist off by 17 px
where the jitter was 3.7, and MPJPE rose to 78.8 from 76.1 mm on the 120 training-motion cases)."""
MIN_FRAMES = 8
"""Joints observed in fewer frames are left as they are (too little to tell noise from motion)."""


def _penalty_bands(times: np.ndarray, order: int) -> list[np.ndarray]:
    """Lower bands of P = D^T D for D the ``order``-th divided differences (times ``order``!, so a
    derivative estimate) at ``times`` (T,) seconds, in units of 1 / :data:`TIME_UNIT_FPS` s: band k is
    P[i + k, i] (T - k,)."""
    t_len = len(times)
    t = (times - times[0]) * TIME_UNIT_FPS
    rows = t_len - order
    coef = np.empty((rows, order + 1))  # row i acts on frames i..i+order
    for j in range(order + 1):
        prod = np.ones(rows)
        for m in range(order + 1):
            if m != j:
                prod *= t[j : j + rows] - t[m : m + rows]
        coef[:, j] = math.factorial(order) / prod
    bands = [np.zeros(t_len - k) for k in range(order + 1)]
    for k in range(order + 1):
        for a in range(order + 1 - k):
            bands[k][a : a + rows] += coef[:, a] * coef[:, a + k]
    return bands


def _banded_solve_and_trace(w: np.ndarray, rhs: np.ndarray, bands: list[np.ndarray], lam: np.ndarray):
    """Solve (diag(w) + lam P) x = rhs and the GCV trace sum_t w_t (A^-1)_tt, for N systems at once.

    Args:
        w: (N, T) weights; rhs: (N, T, D); bands: :func:`_penalty_bands`; lam: (N,).

    Returns:
        x (N, T, D), trace (N,).
    """
    b = len(bands) - 1
    n, t_len = w.shape
    a = [lam[:, None] * band[None] for band in bands]  # a[k][:, i] = A[i + k, i]
    a[0] = a[0] + w
    d = np.empty((n, t_len))
    low = [None] + [np.zeros((n, t_len)) for _ in range(b)]  # low[k][:, i] = L[i + k, i]
    for i in range(t_len):  # A = L D L^T, L unit lower triangular with b sub-diagonals
        di = a[0][:, i].copy()
        for k in range(1, min(b, i) + 1):
            di -= low[k][:, i - k] ** 2 * d[:, i - k]
        d[:, i] = di
        for k in range(1, min(b, t_len - 1 - i) + 1):
            v = a[k][:, i].copy()
            for m in range(1, min(b - k, i) + 1):
                v -= low[k + m][:, i - m] * low[m][:, i - m] * d[:, i - m]
            low[k][:, i] = v / di
    x = rhs.copy()  # forward: L z = rhs; then L^T x = z / D
    for i in range(1, t_len):
        for k in range(1, min(b, i) + 1):
            x[:, i] -= low[k][:, i - k, None] * x[:, i - k]
    x /= d[..., None]
    for i in range(t_len - 2, -1, -1):
        for k in range(1, min(b, t_len - 1 - i) + 1):
            x[:, i] -= low[k][:, i, None] * x[:, i + k]
    # The band of A^-1 from the factor, backwards (Takahashi): s[k][:, i] = S[i + k, i].
    s = [np.zeros((n, t_len)) for _ in range(b + 1)]
    for i in range(t_len - 1, -1, -1):
        reach = min(b, t_len - 1 - i)
        for k in range(reach, 0, -1):
            acc = np.zeros(n)
            for m in range(1, reach + 1):
                acc -= low[m][:, i] * s[abs(k - m)][:, i + min(k, m)]
            s[k][:, i] = acc
        s[0][:, i] = 1.0 / d[:, i] - sum(low[m][:, i] * s[m][:, i] for m in range(1, reach + 1))
    return x, (w * s[0]).sum(1)


def _gcv_fit(y: np.ndarray, w: np.ndarray, bands) -> tuple[np.ndarray, np.ndarray]:
    """(J, T, D) tracks, (J, T) weights -> the GCV-best fit (J, T, D) and its lam (J,)."""
    j_len, t_len = w.shape
    dims = y.shape[-1]
    k = len(LAMBDAS)
    lam = np.repeat(LAMBDAS[None], j_len, 0).reshape(-1)
    ww = np.repeat(w, k, 0)
    fit, trace = _banded_solve_and_trace(ww, np.repeat(w[..., None] * y, k, 0), bands, lam)
    fit = fit.reshape(j_len, k, t_len, dims)
    trace = trace.reshape(j_len, k)
    rss = (w[:, None, :, None] * (y[:, None] - fit) ** 2).sum((2, 3))
    total = w.sum(1, keepdims=True)
    gcv = rss * total / np.maximum(total - trace, 1e-6) ** 2
    best = np.argmin(gcv, axis=1)
    return fit[np.arange(j_len), best], LAMBDAS[best]


def smooth_keypoints(
    keypoints: np.ndarray, times: np.ndarray, camera: Camera | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """GCV Whittaker smoothing of every joint's track (module docs).

    Args:
        keypoints: (T, K, 3) ``[x px, y px, score]``, score 0 (and NaN x, y) where undetected.
        times: (T,) seconds of the frames, increasing (a mean rate under :data:`MIN_FPS`: unchanged).
        camera: the :class:`~anylift.io.cameras.Camera` of the same frames, or None (a still one):
            the tracks are smoothed as directions in the world's orientation, so a handheld
            camera's shake, which moves every keypoint at once, is not taken for jitter.

    Returns:
        (T, K, 3) copy (positions smoothed where detected; scores and undetected joints unchanged)
        and the (K,) penalty chosen per joint (NaN: left as it was).
    """
    kp = np.array(keypoints, dtype=np.float64)
    chosen = np.full(kp.shape[1], np.nan)
    seen = (kp[..., 2] > 0) & np.isfinite(kp[..., :2]).all(-1)
    joints = np.flatnonzero(seen.sum(0) >= MIN_FRAMES)
    times = np.asarray(times, dtype=np.float64)
    slow = len(kp) > 1 and (len(kp) - 1) / max(times[-1] - times[0], 1e-9) < MIN_FPS
    if len(kp) < MIN_FRAMES or len(joints) == 0 or slow:
        return kp, chosen
    bands = _penalty_bands(times, ORDER)
    ok = seen[:, joints].T  # (J, T)
    xy = np.nan_to_num(kp[:, joints, :2])
    if camera is not None:  # directions in the world's orientation: the camera's own turns taken out
        turns = camera.world_to_camera.copy()
        turns[:, :3, 3] = 0.0  # the fit is linear, so the directions' unit scale does not matter
        tracks = pixel_rays(xy, camera.K, turns)[1]
    else:
        tracks = xy
    y = np.where(ok[..., None], tracks.transpose(1, 0, 2), 0.0)
    w = np.where(ok, np.clip(kp[:, joints, 2].T, 1e-3, 1.0), 0.0)
    fit, lam = _gcv_fit(y, w, bands)
    fit = fit.transpose(1, 0, 2)  # (T, J, D)
    if camera is not None:
        fit = project(fit, camera.K, turns)
    kp[:, joints, :2] = np.where(ok.T[..., None], fit, kp[:, joints, :2])
    chosen[joints] = lam
    return kp, chosen
