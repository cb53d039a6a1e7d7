"""The denoiser a lift samples with: a checkpoint's model (or an injected one), timed.

Testing hook: an injected ``denoiser`` replaces the checkpoint's model. It is called as
``denoiser(x_n (B, V, T, K, 2), n (B,) long, cond: LiftCondition) -> x0 (B, V, T, K, 2)`` (root/local
model coordinates) and may carry ``window`` / ``num_views`` attributes (defaults 60 / 4), and for HOI
``num_object_keypoints`` (M; K = 17 + M) / ``object_category``. The :class:`LiftCondition` gives it
the model's conditions and every view's exact camera, so an oracle that knows the true 3D motion can
return exact multi-view 2D.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from anylift import representation as rep
from anylift.diffusion import make_schedule
from anylift.models import MultiViewCondition, load_checkpoint


@dataclass
class LiftCondition:
    """What the denoiser gets at each step (B = windows x samples, V views, T window frames).

    Attributes:
        model: the trained model's conditions (cameras, observed input view).
        world_to_camera: (B, V, T, 4, 4) float64 every view in the lift frame (metres).
        model_K: (B, V, 3, 3) float64 camera frame -> model coordinates of each view.
        frames: (B, T) long clip frame of each window frame (padding repeats the last).
        valid: (B, T) bool, False on padding.
        lift_from_file: (4, 4) numpy similarity, the camera file's world (its units; the
            static camera's frame without a file) -> lift frame.
    """

    model: MultiViewCondition
    world_to_camera: torch.Tensor
    model_K: torch.Tensor
    frames: torch.Tensor
    valid: torch.Tensor
    lift_from_file: np.ndarray


class TimedDenoiser:
    """The callable the sampler uses: the model (or an injected denoiser), timed.

    Attributes: window, num_views, score_threshold, num_object_keypoints, object_category,
    ring (the model's; :data:`anylift.lifting.view_geometry.RINGS`), seconds / calls
    (time spent in and number of forward calls).
    """

    def __init__(
        self, fn, window: int, num_views: int, score_threshold: float, wrap_model: bool,
        num_object_keypoints: int = 0, object_category: str | None = None, ring: str = "bbox",
    ) -> None:  # fmt: skip
        self.fn = fn
        self.ring = ring
        self.num_object_keypoints = int(num_object_keypoints)
        self.object_category = object_category
        self.window = window
        self.num_views = num_views
        self.score_threshold = score_threshold
        self.wrap_model = wrap_model
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, x_n: torch.Tensor, n: torch.Tensor, cond: LiftCondition) -> torch.Tensor:
        start = time.perf_counter()
        out = self.fn(x_n, n, cond.model) if self.wrap_model else self.fn(x_n, n, cond)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        return out


def injected_denoiser(denoiser: Callable[..., torch.Tensor], device) -> tuple[TimedDenoiser, Any]:
    """(timed denoiser, noise schedule) of an injected model or callable (module doc)."""
    config = getattr(denoiser, "config", None)
    window = int(getattr(denoiser, "window", getattr(config, "window", 60)))
    views = int(getattr(denoiser, "num_views", getattr(config, "num_views", 4)))
    wrap = isinstance(denoiser, torch.nn.Module) and config is not None
    if wrap:
        denoiser = denoiser.to(device).eval()
    schedule = make_schedule(getattr(config, "schedule", "cosine"), getattr(config, "diffusion_steps", 1000))
    m = int(getattr(denoiser, "num_object_keypoints", getattr(config, "num_object_keypoints", 0)))
    category = getattr(denoiser, "object_category", None)
    ring = str(getattr(denoiser, "ring", "bbox"))
    return TimedDenoiser(
        denoiser, window, views, rep.DEFAULT_SCORE_THRESHOLD, wrap, m, category, ring
    ), schedule


def checkpoint_denoiser(path: str | Path, device) -> tuple[TimedDenoiser, Any]:
    """(timed denoiser, noise schedule) of a multi-view checkpoint file (CheckpointError if unusable)."""
    ckpt = load_checkpoint(path, kind="multi_view", skeleton="coco17", device=device)
    category = ckpt.extra.get("object_category") if ckpt.config.num_object_keypoints else None
    threshold = float(ckpt.normalisation.get("score_threshold", rep.DEFAULT_SCORE_THRESHOLD))
    schedule = make_schedule(ckpt.config.schedule, ckpt.config.diffusion_steps)
    den = TimedDenoiser(
        ckpt.inference_model, ckpt.config.window, ckpt.config.num_views, threshold, True,
        ckpt.config.num_object_keypoints, None if category is None else str(category),
        str(ckpt.normalisation.get("ring", "bbox")),
    )  # fmt: skip
    return den, schedule
