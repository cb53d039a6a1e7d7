"""What each training script trains: the data stream, the model and the losses.

A task has ``kind`` (the model kind), ``batch(step, rank, size)`` / ``validation(count)`` (numpy
dicts, pure functions of the seed, rank and step), ``model_config(overrides)`` and
``losses(model, batch, schedule, generator) -> {"loss", ...}`` on a torch batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from anylift import representation as rep
from anylift.data.multiview import NUM_BODY, MultiViewConfig, MultiViewWindows
from anylift.data.windows import SingleViewWindows, WindowConfig
from anylift.errors import InputError
from anylift.models import (
    DenoiserConfig,
    MultiViewCondition,
    SingleViewCondition,
    denoising_losses,
    random_observation_mask,
)
from anylift.training.config import TrainConfig

NORMALISATION = {"body_size_m": rep.BODY_SIZE_M, "score_threshold": rep.DEFAULT_SCORE_THRESHOLD}
"""How the data were presented to the models (stored in every checkpoint)."""


def to_torch(batch: dict[str, Any], device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """numpy (or tensor) dict -> tensors on ``device``."""
    return {
        k: torch.as_tensor(np.asarray(v) if not isinstance(v, torch.Tensor) else v).to(device)
        for k, v in batch.items()
    }


def _model_config(values: dict[str, Any]) -> DenoiserConfig:
    try:
        return DenoiserConfig(**values)
    except (TypeError, ValueError) as error:
        raise InputError(
            f"bad model settings: {error}", field="model", expected="DenoiserConfig fields"
        ) from error


class SingleViewTask:
    """Stage 1: hybrid single-view windows, x0 L1 (hips masked for local-only) + line matching."""

    kind = "single_view"

    def __init__(self, config: TrainConfig) -> None:
        self.data_config = WindowConfig.from_dict(config.data)
        self.windows = SingleViewWindows(self.data_config, seed=config.seed)
        self.line_weight = config.line_weight

    def model_config(self, overrides: dict[str, Any]) -> DenoiserConfig:
        return _model_config({"window": self.data_config.window, **overrides, "kind": self.kind})

    def checkpoint_extra(self) -> dict[str, Any]:
        """Entries for the checkpoint's ``extra`` (none)."""
        return {}

    def normalisation(self) -> dict[str, Any]:
        """The checkpoint's ``normalisation``: how the data were presented to the model."""
        return dict(NORMALISATION)

    def batch(self, step: int, rank: int, size: int) -> dict[str, np.ndarray]:
        return self.windows.batch(step, rank, size)

    def validation(self, count: int) -> dict[str, np.ndarray]:
        return self.windows.validation(count)

    def losses(self, model, batch: dict[str, torch.Tensor], schedule, generator) -> dict[str, torch.Tensor]:
        local = batch["local_only"].bool()
        cond = SingleViewCondition(batch["camera"], batch["lines"], batch["mask"])
        return denoising_losses(
            model, schedule, batch["x0"], cond, batch["mask"], local_only=local,
            lines=batch["lines"], line_weight=self.line_weight, generator=generator,
        )  # fmt: skip

    def summary(self) -> dict[str, Any]:
        return {"clips": list(self.data_config.clips), "window": self.data_config.window}


class MultiViewTask:
    """Stage 2: multi-view windows (3D path and/or a synthesized dataset), random observation masks.

    HOI (``data.object_category``): windows carry the object's M keypoints after the body's, the
    model gets ``num_object_keypoints = M``, object keypoints are also dropped from the observation
    at random (occlusion, tracking failure) and the checkpoint records ``extra["object_category"]``.
    """

    kind = "multi_view"

    def __init__(self, config: TrainConfig) -> None:
        self.data_config = MultiViewConfig.from_dict(config.data)
        self.windows = MultiViewWindows(self.data_config, seed=config.seed)

    def model_config(self, overrides: dict[str, Any]) -> DenoiserConfig:
        base = {"window": self.data_config.windows.window, "num_views": self.data_config.num_views}
        # The data decide M (0: body only), whatever the model settings say.
        m = self.windows.num_object_keypoints
        return _model_config({**base, **overrides, "kind": self.kind, "num_object_keypoints": m})

    def checkpoint_extra(self) -> dict[str, Any]:
        """``{"object_category": ...}`` for HOI runs (what :func:`anylift.pipeline.lift` reads)."""
        category = self.data_config.object_category
        return {} if category is None else {"object_category": category}

    def normalisation(self) -> dict[str, Any]:
        """The checkpoint's ``normalisation``, with how the ring of views was placed (inference reads it)."""
        return {**NORMALISATION, "ring": self.data_config.ring}

    def batch(self, step: int, rank: int, size: int) -> dict[str, np.ndarray]:
        return self.windows.batch(step, rank, size)

    def validation(self, count: int) -> dict[str, np.ndarray]:
        return self.windows.validation(count)

    def losses(self, model, batch: dict[str, torch.Tensor], schedule, generator) -> dict[str, torch.Tensor]:
        num_joints = NUM_BODY if self.windows.num_object_keypoints else None
        observed_mask = random_observation_mask(batch["observed_mask"], generator, num_joints=num_joints)
        cond = MultiViewCondition.from_input(
            batch["camera"], batch["observed"], observed_mask, batch.get("lines")
        )
        return denoising_losses(model, schedule, batch["x0"], cond, batch["target_mask"], generator=generator)

    def summary(self) -> dict[str, Any]:
        return {
            "clips": list(self.data_config.windows.clips),
            "dataset": self.data_config.dataset,
            "num_views": self.data_config.num_views,
            "object_category": self.data_config.object_category,
        }


def make_task(config: TrainConfig):
    """The task of ``config.task``."""
    return SingleViewTask(config) if config.task == "single_view" else MultiViewTask(config)
