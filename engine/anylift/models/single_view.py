"""Stage 1: the single-view 2D motion denoiser (camera-trajectory and epipolar-line conditioned).

Per frame, the token is ``[x_n (J*2), camera (camera_dim), lines (J*3), mask (J)]`` embedded by an
MLP, plus the diffusion step embedding and a sinusoidal frame encoding; a transformer over frames
predicts the clean sequence x0 (x0-parameterisation). Keypoints are root/local model coordinates
(:mod:`anylift.representation`). The module itself is a ``denoise(x_n, n, cond) -> x0`` callable
for :func:`anylift.diffusion.sample` and :func:`anylift.diffusion.sds_gradient`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from anylift.models.config import DenoiserConfig
from anylift.models.layers import MotionTransformer


@dataclass
class SingleViewCondition:
    """Conditions of the single-view denoiser (torch tensors, batch first).

    Attributes:
        camera: (B, T, camera_dim) :func:`anylift.representation.camera_condition`; ``None`` = zeros
            (no camera information, e.g. local-only projected training samples).
        lines: (B, T, J, 3) normalised epipolar lines in model coordinates; ``None`` or all-zero
            rows = no line for that keypoint.
        mask: (B, T, J) 1 where the keypoint is real data, 0 where it was filled; ``None`` = all 1.
    """

    camera: torch.Tensor | None = None
    lines: torch.Tensor | None = None
    mask: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> SingleViewCondition:
        return SingleViewCondition(
            *(None if x is None else x.to(device) for x in (self.camera, self.lines, self.mask))
        )


class SingleViewDenoiser(nn.Module):
    """``forward(x_n (B, T, J, 2), n (B,) long, cond: SingleViewCondition) -> x0 (B, T, J, 2)``."""

    def __init__(self, config: DenoiserConfig) -> None:
        super().__init__()
        if config.kind != "single_view":
            raise ValueError(f"SingleViewDenoiser needs a single_view config, got {config.kind!r}")
        self.config = config
        j = config.num_points
        self.net = MotionTransformer(
            j * 2 + config.camera_dim + j * 3 + j,
            j * 2,
            layers=config.layers,
            width=config.width,
            heads=config.heads,
            ff_width=config.ff_width,
            dropout=config.dropout,
            cross_view=False,
        )

    def forward(
        self, x_n: torch.Tensor, n: torch.Tensor, cond: SingleViewCondition | None = None
    ) -> torch.Tensor:
        cond = cond or SingleViewCondition()
        b, t, j, _ = x_n.shape
        if j != self.config.num_points:
            raise ValueError(f"expected {self.config.num_points} points per frame, got {j}")
        zeros = x_n.new_zeros
        camera = zeros(b, t, self.config.camera_dim) if cond.camera is None else cond.camera
        lines = zeros(b, t, j, 3) if cond.lines is None else cond.lines
        mask = x_n.new_ones(b, t, j) if cond.mask is None else cond.mask
        tokens = torch.cat(
            [x_n.reshape(b, t, j * 2), camera.to(x_n), lines.to(x_n).reshape(b, t, j * 3), mask.to(x_n)],
            dim=-1,
        )
        return self.net(tokens[:, None], n)[:, 0].reshape(b, t, j, 2)
