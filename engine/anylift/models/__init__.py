"""The denoisers, their conditions, losses, EMA and checkpoint files.

- :class:`SingleViewDenoiser` + :class:`SingleViewCondition` (stage 1, camera + epipolar lines)
- :class:`MultiViewDenoiser` + :class:`MultiViewCondition` (stage 2, cross-view attention)
- :class:`DenoiserConfig` (``.tiny()`` for tests, ``.default()`` to ship)
- :mod:`.losses`: :func:`denoising_losses`, :func:`masked_l1`, :func:`line_loss`, :func:`target_mask`
- :class:`EMA`, :func:`save_checkpoint`, :func:`load_checkpoint`, :func:`build_model`

A single-view training example, from pixels (the data builders do this per window)::

    from anylift import representation as rep
    nk = rep.normalise_keypoints(keypoints_px, K)                  # (T,17,3) px -> model coords
    x0 = rep.to_root_local(nk.points)                              # (T,17,2) target
    lines, _ = rep.training_lines(nk.points, rng, nk.normalisation.scale,
                                  relative_w2c=relative_to_first(w2c))
    camera = rep.camera_condition(w2c, K, (W, H), nk.normalisation.scale)
    # batch them as torch tensors, then per step:
    cond = SingleViewCondition(camera, lines, mask)
    losses = denoising_losses(model, schedule, x0, cond, mask, local_only=is_projected,
                              lines=lines, line_weight=0.1, generator=g)
    losses["loss"].backward(); opt.step(); ema.update(model)
    save_checkpoint(path, model, ema=ema, normalisation={"body_size_m": rep.BODY_SIZE_M})

Projected (local-only) samples use ``rep.centre_root(points)`` and ``camera=None`` rows of zeros.
Sampling: ``anylift.diffusion.sample(load_checkpoint(path).inference_model, shape, cond, steps=50)``.
"""

from anylift.models.checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    Checkpoint,
    build_model,
    export_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from anylift.models.config import DenoiserConfig
from anylift.models.ema import EMA
from anylift.models.losses import denoising_losses, line_loss, masked_l1, target_mask
from anylift.models.multi_view import (
    MultiViewCondition,
    MultiViewDenoiser,
    init_from_multi_view,
    init_from_single_view,
    random_observation_mask,
)
from anylift.models.single_view import SingleViewCondition, SingleViewDenoiser

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "EMA",
    "Checkpoint",
    "DenoiserConfig",
    "MultiViewCondition",
    "MultiViewDenoiser",
    "SingleViewCondition",
    "SingleViewDenoiser",
    "build_model",
    "denoising_losses",
    "export_checkpoint",
    "init_from_multi_view",
    "init_from_single_view",
    "line_loss",
    "load_checkpoint",
    "masked_l1",
    "random_observation_mask",
    "save_checkpoint",
    "target_mask",
]
