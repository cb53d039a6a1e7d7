"""Training losses of the denoisers (AnyLift stage 1 and 2).

All keypoints are root/local model coordinates (:mod:`anylift.representation`), shaped
(B, ..., T, J, 2) with masks (B, ..., T, J): ``...`` is empty for the single-view model and V for
the multi-view one.
"""

from __future__ import annotations

from typing import Any

import torch

from anylift.diffusion.schedule import NoiseSchedule
from anylift.geometry.epipolar import point_line_distance
from anylift.representation import HIPS, from_root_local


def _per_sample(flags: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return flags.reshape(flags.shape[:1] + (1,) * (like.dim() - 1))


def masked_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over the masked-in keypoints (both coordinates).

    Args:
        pred, target: (..., J, 2). mask: (..., J) bool or 0/1 weights.

    Returns:
        scalar; 0 when nothing is masked in.
    """
    w = mask.to(pred.dtype)[..., None]
    return ((pred - target).abs() * w).sum() / (2.0 * w.sum()).clamp_min(1.0)


def target_mask(mask: torch.Tensor, local_only: torch.Tensor | None = None) -> torch.Tensor:
    """The mask of the x0 loss: data mask with the two hips removed for local-only samples.

    Local-only samples (projections of 3D motion from random viewpoints, root at the image
    centre) have no meaningful global root, so their hips are not targets (AnyLift's hybrid data).

    Args:
        mask: (B, ..., T, J) visibility of the target keypoints.
        local_only: (B,) bool, True for local-only samples; ``None`` = none.

    Returns:
        (B, ..., T, J) float mask.
    """
    out = mask.to(torch.float32).clone()
    if local_only is not None:
        hips = out[..., list(HIPS)]
        out[..., list(HIPS)] = hips * (~_per_sample(local_only.bool(), hips)).to(out.dtype)
    return out


def line_loss(
    root_local: torch.Tensor, lines: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean point-line distance of the recombined global keypoints to their epipolar lines.

    Args:
        root_local: (..., J, 2) root/local model coordinates (recombined by
            :func:`~anylift.representation.from_root_local` before measuring).
        lines: (..., J, 3) normalised lines; all-zero rows (no line) are ignored.
        mask: (..., J) extra weights (e.g. visibility; zero for local-only samples).

    Returns:
        scalar in model units; grows linearly with the distance (an L1 on distances).
    """
    points = from_root_local(root_local)
    dist = point_line_distance(points, lines)
    has_line = (lines[..., :2].abs().sum(-1) > 0).to(dist.dtype)
    w = has_line if mask is None else has_line * mask.to(dist.dtype)
    return (dist * w).sum() / w.sum().clamp_min(1.0)


def denoising_losses(
    denoiser: Any,
    schedule: NoiseSchedule,
    x0: torch.Tensor,
    cond: Any,
    mask: torch.Tensor,
    *,
    local_only: torch.Tensor | None = None,
    lines: torch.Tensor | None = None,
    line_weight: float = 0.0,
    generator: torch.Generator | None = None,
    n: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """One diffusion training step's losses (x0-parameterisation, L1).

    Draws n uniformly in [0, N) per sample, noises x0, predicts it back and returns
    ``{"loss": l1 + line_weight * line, "l1": ..., "line": ...}``.

    Args:
        denoiser: ``denoiser(x_n, n, cond) -> x0``.
        x0: (B, ..., T, J, 2) clean root/local sequences.
        cond: the denoiser's condition for this batch.
        mask: (B, ..., T, J) visibility of the targets (filled values are not targets).
        local_only: (B,) bool: hips masked and no line loss for these samples.
        lines: (B, ..., T, J, 3) lines for the line-matching loss (the single-view model gets the
            same lines as a condition); ``None`` = no line loss.
        line_weight: weight of the line loss.
        generator: source of n and the noise.
        n: (B,) steps to use instead of drawing them.
    """
    b = x0.shape[0]
    if n is None:
        n = torch.randint(0, schedule.num_steps, (b,), generator=generator, device=x0.device)
    noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    pred = denoiser(schedule.q_sample(x0, n, noise), n, cond)
    weights = target_mask(mask, local_only)
    l1 = masked_l1(pred, x0, weights)
    line = pred.new_zeros(())
    if lines is not None and line_weight > 0.0:
        line_mask = mask.to(pred.dtype)
        if local_only is not None:
            line_mask = line_mask * (~_per_sample(local_only.bool(), line_mask)).to(pred.dtype)
        line = line_loss(pred, lines, line_mask)
    return {"loss": l1 + line_weight * line, "l1": l1, "line": line}
