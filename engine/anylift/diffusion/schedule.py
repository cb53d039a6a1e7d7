"""Noise schedules and the forward (noising) process of DDPM.

A schedule is the list of cumulative signal levels ``alpha_bar[n]`` for ``n = 0 .. N-1``
(``N = 1000`` by default): ``x_n = sqrt(alpha_bar[n]) x_0 + sqrt(1 - alpha_bar[n]) eps``.
Step index ``n`` is 0-based; ``n = 0`` is the least noisy step, ``n = N-1`` almost pure noise.
The schedule knows nothing about the network or the sampler (see :mod:`anylift.diffusion.sampler`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

SCHEDULE_NAMES = ("cosine", "linear")


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """Cumulative signal levels of a diffusion process.

    Attributes:
        name: ``"cosine"`` or ``"linear"``.
        alphas_cumprod: (N,) float64 tensor, ``alpha_bar[n]``, strictly decreasing in (0, 1).
    """

    name: str
    alphas_cumprod: torch.Tensor

    @property
    def num_steps(self) -> int:
        """N, the number of training steps."""
        return int(self.alphas_cumprod.shape[0])

    @property
    def betas(self) -> torch.Tensor:
        """(N,) float64 per-step noise variances ``1 - alpha_bar[n] / alpha_bar[n-1]``."""
        prev = torch.cat([self.alphas_cumprod.new_ones(1), self.alphas_cumprod[:-1]])
        return 1.0 - self.alphas_cumprod / prev

    def alpha_bar(self, n: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """``alpha_bar[n]`` shaped to broadcast against ``like``.

        Args:
            n: (B,) long step indices; ``n = -1`` means "clean" (alpha_bar = 1).
            like: (B, ...) tensor whose dtype, device and rank the result takes.

        Returns:
            (B, 1, ..., 1) tensor of ``like``'s dtype.
        """
        table = torch.cat([self.alphas_cumprod.new_ones(1), self.alphas_cumprod]).to(like.device)
        a = table[n.to(like.device).long() + 1].to(like.dtype)
        return a.reshape(a.shape + (1,) * (like.dim() - a.dim()))

    def q_sample(self, x0: torch.Tensor, n: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Noise clean data to step ``n``: ``sqrt(a) x0 + sqrt(1 - a) noise``.

        Args:
            x0: (B, ...) clean data.
            n: (B,) long step indices in [0, N).
            noise: (B, ...) standard normal noise, same shape as ``x0``.
        """
        a = self.alpha_bar(n, x0)
        return a.sqrt() * x0 + (1.0 - a).sqrt() * noise

    def eps_from_x0(self, x_n: torch.Tensor, n: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
        """The noise implied by a clean-data prediction: ``(x_n - sqrt(a) x0) / sqrt(1 - a)``."""
        a = self.alpha_bar(n, x_n)
        return (x_n - a.sqrt() * x0) / (1.0 - a).sqrt()

    def to(self, device: torch.device | str) -> NoiseSchedule:
        return NoiseSchedule(self.name, self.alphas_cumprod.to(device))


def cosine_schedule(num_steps: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> NoiseSchedule:
    """The cosine schedule of Nichol & Dhariwal (2021), as used by MVLift.

    ``alpha_bar(t) = cos^2(((t/N) + s) / (1 + s) * pi/2)`` normalised to 1 at t = 0, with the
    per-step beta clipped at ``max_beta`` so the last step is not a division by zero.
    """
    _check_steps(num_steps)
    t = torch.arange(num_steps + 1, dtype=torch.float64) / num_steps
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    betas = (1.0 - f[1:] / f[:-1]).clamp(max=max_beta)
    return NoiseSchedule("cosine", torch.cumprod(1.0 - betas, dim=0))


def linear_schedule(num_steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> NoiseSchedule:
    """The linear beta schedule of Ho et al. (2020).

    ``beta_start`` and ``beta_end`` are the values for 1000 steps; for other ``num_steps``
    they are scaled by ``1000 / num_steps`` (as in improved DDPM) so the final noise level
    stays about the same.
    """
    _check_steps(num_steps)
    scale = 1000.0 / num_steps
    betas = torch.linspace(beta_start * scale, beta_end * scale, num_steps, dtype=torch.float64)
    return NoiseSchedule("linear", torch.cumprod(1.0 - betas, dim=0))


def make_schedule(name: str = "cosine", num_steps: int = 1000) -> NoiseSchedule:
    """A schedule by name (``"cosine"`` or ``"linear"``)."""
    if name == "cosine":
        return cosine_schedule(num_steps)
    if name == "linear":
        return linear_schedule(num_steps)
    raise ValueError(f"unknown noise schedule {name!r}; expected one of {SCHEDULE_NAMES}")


def _check_steps(num_steps: int) -> None:
    if int(num_steps) < 2:
        raise ValueError(f"a noise schedule needs at least 2 steps, got {num_steps}")
