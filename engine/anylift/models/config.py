"""Sizes of the denoisers, as one frozen dataclass stored in every checkpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from anylift.representation import CAMERA_DIM

MODEL_KINDS = ("single_view", "multi_view")


@dataclass(frozen=True)
class DenoiserConfig:
    """Architecture and diffusion settings of a denoiser.

    Attributes:
        kind: ``"single_view"`` (:class:`~anylift.models.single_view.SingleViewDenoiser`) or
            ``"multi_view"`` (:class:`~anylift.models.multi_view.MultiViewDenoiser`).
        num_joints: K body keypoints (17 for COCO-17).
        num_object_keypoints: M object keypoints appended after the body's (HOI models), 0 otherwise.
        window: training window length in frames (the model accepts any T; it was trained on this).
        num_views: V views of the multi-view model (views are interchangeable; any V works at run
            time, this is what it was trained with).
        layers: transformer layers (each: temporal attention [+ cross-view attention] + MLP).
        width: token width; heads: attention heads (width % heads == 0); ff_width: MLP hidden width.
        dropout: dropout in attention outputs and MLPs.
        camera_dim: per-frame camera features (:data:`anylift.representation.CAMERA_DIM`).
        schedule: noise schedule name; diffusion_steps: N training steps.
        skeleton: joint order of the keypoints (``"coco17"``).
        epipolar: multi-view models: also conditioned on the epipolar lines of the observed
            keypoints in every virtual view (AnyLift; :class:`~anylift.models.MultiViewCondition`).
    """

    kind: str = "single_view"
    num_joints: int = 17
    num_object_keypoints: int = 0
    window: int = 60
    num_views: int = 4
    layers: int = 4
    width: int = 256
    heads: int = 4
    ff_width: int = 512
    dropout: float = 0.1
    camera_dim: int = CAMERA_DIM
    schedule: str = "cosine"
    diffusion_steps: int = 1000
    skeleton: str = "coco17"
    epipolar: bool = False

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"DenoiserConfig.kind must be one of {MODEL_KINDS}, got {self.kind!r}")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        for name in ("num_joints", "window", "num_views", "layers", "width", "heads", "ff_width"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"DenoiserConfig.{name} must be >= 1, got {getattr(self, name)}")

    @property
    def num_points(self) -> int:
        """J = K + M, the points per frame the model denoises."""
        return self.num_joints + self.num_object_keypoints

    @classmethod
    def tiny(cls, kind: str = "single_view", **overrides: Any) -> DenoiserConfig:
        """A few-thousand-parameter model for tests: 2 layers, width 32, 16-frame windows."""
        base = dict(kind=kind, window=16, num_views=3, layers=2, width=32, heads=4, ff_width=64, dropout=0.0)
        return cls(**{**base, **overrides})

    @classmethod
    def default(cls, kind: str = "single_view", **overrides: Any) -> DenoiserConfig:
        """The shipped size: 4 layers, width 256, 4 heads, MLP 512, 60-frame windows.

        MVLift's public code uses 4 layers at width 512; halving the width quarters the cost of
        the dense layers, which dominate at these lengths, while a frame of 2D keypoints (34
        numbers + conditions) is small enough that width 256 is not the bottleneck. 60 frames =
        2 s at 30 fps. Measured with benchmarks/diffusion_speed.py on the shared 2-core dev CPU
        (1 thread, batch 64): about 1.3 training steps/s single-view (2.3 M parameters), 0.2
        multi-view x 4 views (3.4 M), and about 1.1 s for 50 DDIM steps of one 4-view window.
        """
        return cls(**{**dict(kind=kind), **overrides})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DenoiserConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``TypeError``."""
        return cls(**data)
