"""Score distillation sampling (SDS, Poole et al. 2022 "DreamFusion") for x0-predicting denoisers.

Used to synthesise virtual views: a batch of 2D sequences ``x`` (the parameters being
optimised) is pulled towards the learned prior by the gradient

    grad = w(n) * (eps_pred - eps),   x_n = sqrt(a) x + sqrt(1 - a) eps,   a = alpha_bar[n],

where ``eps_pred`` is the noise implied by the denoiser's x0 prediction,
``eps_pred = (x_n - sqrt(a) x0_pred) / sqrt(1 - a)``. Since then
``eps_pred - eps = sqrt(a) / sqrt(1 - a) * (x - x0_pred)``, the gradient points from the
prediction to ``x``: gradient *descent* moves ``x`` towards what the prior believes.

Weighting (``weighting=``):

- ``"sds"`` (default, DreamFusion): ``w(n) = 1 - a``. Then ``grad = sqrt(a (1 - a)) (x - x0_pred)``,
  bounded by 1/2 times the residual at every n: no blow-up at small n (where
  ``eps_pred - eps`` is amplified by ``sqrt(a / (1-a))``) and no vanishing at mid n.
- ``"snr"``: ``w(n) = sqrt((1 - a) / a)`` (1 / sqrt(SNR)), which makes ``grad = x - x0_pred``
  exactly: an x0-space residual with the same scale at every step, i.e. the gradient of
  ``0.5 |x - x0_pred|^2``. Useful when mixing SDS with other x0-space losses (line loss).

Timestep range: n is drawn uniformly, per sequence, from ``[n_min, n_max]`` given as fractions of
N, by default ``(0.02, 0.98)`` as in DreamFusion. Very small n tells little (the prior barely
moves a nearly clean input), very large n only sees noise. An annealed range (start wide,
narrow towards small n as the views converge) is the caller's choice: pass ``n_range`` per call.
"""

from __future__ import annotations

from typing import Any

import torch

from anylift.diffusion.sampler import Denoiser
from anylift.diffusion.schedule import NoiseSchedule

WEIGHTINGS = ("sds", "snr")


def sds_gradient(
    denoise: Denoiser,
    x: torch.Tensor,
    cond: Any,
    schedule: NoiseSchedule,
    *,
    n_range: tuple[float, float] = (0.02, 0.98),
    weighting: str = "sds",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The SDS gradient for a batch of sequences (no graph: the denoiser runs under no_grad).

    Args:
        denoise: ``denoise(x_n (B, ...), n (B,) long, cond) -> x0 (B, ...)``.
        x: (B, ...) current sequences (e.g. normalised 2D keypoints (B, T, K, 2)).
        cond: passed to ``denoise``.
        schedule: the noise schedule the denoiser was trained with.
        n_range: fractions of N bounding the drawn step, ``0 <= lo <= hi <= 1``.
        weighting: ``"sds"`` (w = 1 - alpha_bar) or ``"snr"`` (w = sqrt((1-a)/a)); see the module doc.
        generator: source of the step indices and noise.

    Returns:
        (B, ...) gradient with respect to ``x`` (same dtype). Apply it with
        ``x.backward(gradient=grad)`` or the surrogate loss ``(grad.detach() * x).sum()``.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown SDS weighting {weighting!r}; expected one of {WEIGHTINGS}")
    lo, hi = n_range
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"n_range must satisfy 0 <= lo <= hi <= 1, got {n_range}")
    big_n = schedule.num_steps
    n_lo = round(lo * (big_n - 1))
    n_hi = round(hi * (big_n - 1))
    x = x.detach()
    n = torch.randint(n_lo, n_hi + 1, (x.shape[0],), generator=generator, device=x.device)
    eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    x_n = schedule.q_sample(x, n, eps)
    with torch.no_grad():
        x0_pred = denoise(x_n, n, cond)
    eps_pred = schedule.eps_from_x0(x_n, n, x0_pred)
    a = schedule.alpha_bar(n, x)
    w = (1.0 - a) if weighting == "sds" else ((1.0 - a) / a).sqrt()
    return w * (eps_pred - eps)
