"""Diffusion machinery, independent of any network: schedules, samplers, score distillation.

- :mod:`.schedule`: :class:`NoiseSchedule`, :func:`cosine_schedule`, :func:`linear_schedule`.
- :mod:`.sampler`: :func:`sample` (DDPM / DDIM with hooks), :func:`sampling_timesteps`.
- :mod:`.sds`: :func:`sds_gradient`.
- :mod:`.guidance`: sampling hooks, e.g. :func:`observed_guidance`.
"""

from anylift.diffusion.guidance import observed_guidance
from anylift.diffusion.sampler import (
    SamplingCancelled,
    ddim_step,
    ddpm_step,
    sample,
    sampling_timesteps,
)
from anylift.diffusion.schedule import NoiseSchedule, cosine_schedule, linear_schedule, make_schedule
from anylift.diffusion.sds import sds_gradient

__all__ = [
    "NoiseSchedule",
    "SamplingCancelled",
    "cosine_schedule",
    "ddim_step",
    "ddpm_step",
    "linear_schedule",
    "make_schedule",
    "observed_guidance",
    "sample",
    "sampling_timesteps",
    "sds_gradient",
]
