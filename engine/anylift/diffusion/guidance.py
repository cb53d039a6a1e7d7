"""Sampling hooks: small ``hook(x0, n, cond) -> x0`` functions for :func:`anylift.diffusion.sample`.

Hooks edit the denoiser's clean prediction before each update; they compose by listing them.
Geometry-heavy hooks (triangulate all views and reproject, as in Mocap-2-to-3) belong with the
lifting pipeline, which owns the cameras; this module holds the generic ones.
"""

from __future__ import annotations

from typing import Any

import torch

from anylift.diffusion.sampler import Hook


def observed_guidance(
    observed: torch.Tensor,
    mask: torch.Tensor,
    *,
    view: int | None = 0,
    strength: float = 1.0,
    until_step: int = 0,
) -> Hook:
    """Pull the prediction of the observed keypoints towards the observations.

    ``x0 <- x0 + strength * mask * (observed - x0)`` on the observed view, for steps
    ``n >= until_step`` (``until_step > 0`` leaves the last, finest steps to the model so that
    noisy detections are smoothed rather than copied).

    Args:
        observed: (B, T, J, 2) observed keypoints in the model's coordinates (root/local).
        mask: (B, T, J) observation weights in [0, 1] (0 = not observed).
        view: index of the observed view along axis 1 of a multi-view x0 (B, V, T, J, 2);
            ``None`` for single-view x0 (B, T, J, 2).
        strength: 1 replaces observed keypoints (inpainting), smaller values blend.
        until_step: apply only while ``n >= until_step``.
    """
    weight = strength * mask[..., None]

    def hook(x0: torch.Tensor, n: torch.Tensor, cond: Any) -> torch.Tensor:
        if int(n.min()) < until_step:
            return x0
        w = weight.to(x0)
        if view is None:
            return x0 + w * (observed.to(x0) - x0)
        out = x0.clone()
        out[:, view] = x0[:, view] + w * (observed.to(x0) - x0[:, view])
        return out

    return hook
