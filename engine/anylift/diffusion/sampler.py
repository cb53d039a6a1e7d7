"""DDPM and DDIM sampling for any x0-predicting denoiser.

The sampler is independent of the network: it takes a callable
``denoise(x_n, n, cond) -> x0`` (x_n: (B, ...) noisy data, n: (B,) long step indices,
cond: anything the callable understands, passed through untouched) and returns clean samples.

Guidance and consistency steps are *hooks*: ``hook(x0, n, cond) -> x0`` callables applied,
in order, to each x0 prediction before the update (e.g. pull the observed view towards the
input keypoints, or triangulate all views and reproject). The denoiser runs under
``torch.no_grad()``; hooks run with autograd in its default state, so a hook may use
``torch.enable_grad()`` for gradient-based guidance.

Step spacing: sampling with S of the N training steps (1 <= S <= N) visits ``N-1`` first and
then S-1 further steps, spaced ``"uniform"``ly or ``"quadratic"``ally (denser near the clean
end, which helps with few steps). DDPM with S < N samples the posterior of the re-spaced chain,
which equals DDIM with ``eta = 1``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from anylift.diffusion.schedule import NoiseSchedule, cosine_schedule
from anylift.errors import AnyLiftError

Denoiser = Callable[[torch.Tensor, torch.Tensor, Any], torch.Tensor]
Hook = Callable[[torch.Tensor, torch.Tensor, Any], torch.Tensor]
Progress = Callable[[str, int, int], None]

SPACINGS = ("uniform", "quadratic")
METHODS = ("ddim", "ddpm")


class SamplingCancelled(AnyLiftError):
    """Raised when the ``cancel`` event is set while sampling."""


def sampling_timesteps(num_sampling_steps: int, num_train_steps: int = 1000, spacing: str = "uniform"):
    """The training steps visited when sampling with ``num_sampling_steps`` steps.

    Args:
        num_sampling_steps: S, 1 <= S <= N.
        num_train_steps: N.
        spacing: ``"uniform"`` or ``"quadratic"`` (``n_i ~ i^2``, denser near ``n = 0``).

    Returns:
        (S,) long tensor of distinct step indices, descending, starting at ``N - 1``.
    """
    s, n = int(num_sampling_steps), int(num_train_steps)
    if not 1 <= s <= n:
        raise ValueError(f"sampling steps must be in [1, {n}], got {num_sampling_steps}")
    if spacing == "uniform":
        ts = np.linspace(0.0, n - 1, s)
    elif spacing == "quadratic":
        ts = np.linspace(0.0, np.sqrt(n - 1), s) ** 2
    else:
        raise ValueError(f"unknown spacing {spacing!r}; expected one of {SPACINGS}")
    ts = np.round(ts).astype(np.int64)
    if s == 1:
        ts = np.array([n - 1])
    # Rounding can merge neighbouring steps near n = 0; push them apart, then back below N.
    for i in range(1, s):
        ts[i] = max(ts[i], ts[i - 1] + 1)
    ts[-1] = n - 1
    for i in range(s - 2, -1, -1):
        ts[i] = min(ts[i], ts[i + 1] - 1)
    return torch.from_numpy(ts[::-1].copy())


def _levels(schedule: NoiseSchedule, n: int, n_prev: int) -> tuple[float, float]:
    a = float(schedule.alphas_cumprod[n])
    a_prev = 1.0 if n_prev < 0 else float(schedule.alphas_cumprod[n_prev])
    return a, a_prev


def ddim_step(
    schedule: NoiseSchedule,
    x_n: torch.Tensor,
    x0: torch.Tensor,
    n: int,
    n_prev: int,
    *,
    eta: float = 0.0,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """One DDIM update (Song et al. 2021) from step ``n`` to ``n_prev`` (-1 = clean).

    ``sigma = eta * sqrt((1 - a_prev) / (1 - a)) * sqrt(1 - a / a_prev)``;
    ``x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev - sigma^2) eps + sigma z``.

    Args:
        x_n, x0: (B, ...) current sample and its clean prediction.
        noise: (B, ...) standard normal z; required when ``eta > 0``.
    """
    a, a_prev = _levels(schedule, n, n_prev)
    eps = (x_n - a**0.5 * x0) / (1.0 - a) ** 0.5
    sigma = eta * ((1.0 - a_prev) / (1.0 - a)) ** 0.5 * max(1.0 - a / a_prev, 0.0) ** 0.5
    out = a_prev**0.5 * x0 + max(1.0 - a_prev - sigma**2, 0.0) ** 0.5 * eps
    if sigma > 0.0:
        if noise is None:
            raise ValueError("ddim_step with eta > 0 needs noise")
        out = out + sigma * noise
    return out


def ddpm_step(
    schedule: NoiseSchedule,
    x_n: torch.Tensor,
    x0: torch.Tensor,
    n: int,
    n_prev: int,
    *,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """One ancestral DDPM step: a draw from the posterior ``q(x_prev | x_n, x0)``.

    With ``a = alpha_bar[n]``, ``a_prev = alpha_bar[n_prev]`` and ``beta = 1 - a / a_prev``
    (the re-spaced chain's beta): mean ``= sqrt(a_prev) beta / (1-a) x0 + sqrt(1-beta) (1-a_prev)
    / (1-a) x_n``, variance ``= (1-a_prev) / (1-a) beta``. At ``n_prev = -1`` it returns ``x0``.
    """
    a, a_prev = _levels(schedule, n, n_prev)
    beta = 1.0 - a / a_prev
    mean = (a_prev**0.5 * beta / (1.0 - a)) * x0 + ((1.0 - beta) ** 0.5 * (1.0 - a_prev) / (1.0 - a)) * x_n
    var = (1.0 - a_prev) / (1.0 - a) * beta
    if var > 0.0:
        if noise is None:
            raise ValueError("ddpm_step needs noise before the last step")
        mean = mean + var**0.5 * noise
    return mean


def sample(
    denoise: Denoiser,
    shape: Sequence[int],
    cond: Any = None,
    schedule: NoiseSchedule | None = None,
    *,
    steps: int = 50,
    method: str = "ddim",
    eta: float = 0.0,
    spacing: str = "uniform",
    hooks: Sequence[Hook] = (),
    generator: torch.Generator | None = None,
    x_init: torch.Tensor | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    stage: str = "sampling",
) -> torch.Tensor:
    """Draw samples by iterating ``denoise`` from pure noise.

    Args:
        denoise: ``denoise(x_n (B, ...), n (B,) long, cond) -> x0 (B, ...)``.
        shape: (B, ...) shape of the samples.
        cond: passed unchanged to ``denoise`` and the hooks.
        schedule: the training noise schedule (default: 1000-step cosine).
        steps: S, number of denoiser calls, 1 <= S <= N.
        method: ``"ddim"`` (deterministic with ``eta = 0``) or ``"ddpm"`` (ancestral).
        eta: DDIM stochasticity, 0 (deterministic) .. 1 (same as DDPM).
        spacing: ``"uniform"`` or ``"quadratic"``, see :func:`sampling_timesteps`.
        hooks: ``hook(x0, n, cond) -> x0`` applied in order to every x0 prediction.
        generator: the source of all randomness (initial noise and per-step noise).
        x_init: (B, ...) initial noise at step N-1 instead of drawing it.
        progress: ``progress(stage, done, total)`` after each step.
        cancel: when set, sampling stops before the next step with :class:`SamplingCancelled`.

    Returns:
        (B, ...) samples, the x0 of the last step (after the hooks).
    """
    schedule = schedule or cosine_schedule()
    if method not in METHODS:
        raise ValueError(f"unknown sampling method {method!r}; expected one of {METHODS}")
    if generator is not None and device is None:
        device = generator.device
    if x_init is not None:
        x = x_init.to(device=device or x_init.device, dtype=dtype)
    else:
        x = torch.randn(tuple(shape), generator=generator, device=device, dtype=dtype)
    timesteps = sampling_timesteps(steps, schedule.num_steps, spacing).tolist()
    total = len(timesteps)
    x0 = x
    for i, n in enumerate(timesteps):
        if cancel is not None and cancel.is_set():
            raise SamplingCancelled(f"{stage} cancelled after {i} of {total} steps")
        n_prev = timesteps[i + 1] if i + 1 < total else -1
        n_batch = torch.full((x.shape[0],), n, dtype=torch.long, device=x.device)
        with torch.no_grad():
            x0 = denoise(x, n_batch, cond)
        for hook in hooks:
            x0 = hook(x0, n_batch, cond)
        x0 = x0.detach()
        stochastic = n_prev >= 0 and (method == "ddpm" or eta > 0.0)
        noise = (
            torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype) if stochastic else None
        )
        if method == "ddpm":
            x = ddpm_step(schedule, x, x0, n, n_prev, noise=noise)
        else:
            x = ddim_step(schedule, x, x0, n, n_prev, eta=eta, noise=noise)
        if progress is not None:
            progress(stage, i + 1, total)
    return x
