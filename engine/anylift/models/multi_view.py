"""Stage 2: the multi-view 2D motion denoiser (cross-view attention, camera conditioned).

V views of one motion are denoised together: each layer is temporal self-attention within a
view, then cross-view attention across the views at the same frame, then an MLP. There is no
view embedding, so permuting the views (with their conditions) permutes the outputs. Per view and
frame the token is ``[x_n (J*2), camera (camera_dim), observed (J*2), observed_mask (J)]``:

- ``camera``: the view's camera relative to the input camera's frame 0
  (:func:`anylift.representation.camera_condition` with ``reference`` = input camera frame 0);
  view 0 is the input camera's trajectory, the others the virtual cameras.
- ``observed`` / ``observed_mask``: the observed 2D keypoints (root/local model coordinates) of
  the input view; by convention view 0 carries them and the other views carry zeros. Training
  drops observations at random (:func:`random_observation_mask`) so the model also completes
  occluded joints and object keypoints.
- ``lines`` (models with ``config.epipolar``; AnyLift's epipolar condition): in each virtual view,
  the epipolar line of each observed input keypoint (:func:`anylift.lifting.view_geometry.observed_lines`),
  zero where the keypoint is unobserved (masked with view 0's ``observed_mask``, so training's
  random drops hide a joint's line too). Appended last, so a model without them widens into one
  with them (:func:`init_from_multi_view`).

J = num_joints + num_object_keypoints: HOI models append M object keypoints per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from anylift.models.config import DenoiserConfig
from anylift.models.layers import MotionTransformer


@dataclass
class MultiViewCondition:
    """Conditions of the multi-view denoiser.

    Attributes:
        camera: (B, V, T, camera_dim) per-view camera features.
        observed: (B, V, T, J, 2) observed keypoints per view (zeros where not observed).
        observed_mask: (B, V, T, J) 1 where ``observed`` holds an observation.
        lines: (B, V, T, J, 3) epipolar lines of the input view's keypoints in every view (zeros
            in view 0), or None (zeros).
    """

    camera: torch.Tensor
    observed: torch.Tensor
    observed_mask: torch.Tensor
    lines: torch.Tensor | None = None

    @classmethod
    def from_input(
        cls,
        camera: torch.Tensor,
        observed: torch.Tensor,
        observed_mask: torch.Tensor,
        lines: torch.Tensor | None = None,
    ) -> MultiViewCondition:
        """Put the input view's observations in view 0 and zeros in the others.

        Args:
            camera: (B, V, T, camera_dim), view 0 = the input camera.
            observed: (B, T, J, 2) the input view's keypoints, root/local model coordinates.
            observed_mask: (B, T, J) 1 = observed.
            lines: (B, V, T, J, 3) or None (:func:`anylift.lifting.view_geometry.observed_lines`).
        """
        b, v = camera.shape[:2]
        obs = observed.new_zeros((b, v, *observed.shape[1:]))
        obs[:, 0] = observed
        mask = observed_mask.new_zeros((b, v, *observed_mask.shape[1:]))
        mask[:, 0] = observed_mask
        return cls(camera, obs * mask[..., None].to(obs), mask, lines)

    def to(self, device: torch.device | str) -> MultiViewCondition:
        lines = None if self.lines is None else self.lines.to(device)
        return MultiViewCondition(
            self.camera.to(device), self.observed.to(device), self.observed_mask.to(device), lines
        )

    def permute_views(self, order: torch.Tensor | list[int]) -> MultiViewCondition:
        """The same condition with views reordered (``order``: (V,) view indices)."""
        lines = None if self.lines is None else self.lines[:, order]
        return MultiViewCondition(
            self.camera[:, order], self.observed[:, order], self.observed_mask[:, order], lines
        )


class MultiViewDenoiser(nn.Module):
    """``forward(x_n (B, V, T, J, 2), n (B,) long, cond: MultiViewCondition) -> x0 (B, V, T, J, 2)``."""

    def __init__(self, config: DenoiserConfig) -> None:
        super().__init__()
        if config.kind != "multi_view":
            raise ValueError(f"MultiViewDenoiser needs a multi_view config, got {config.kind!r}")
        self.config = config
        j = config.num_points
        self.net = MotionTransformer(
            j * 2 + config.camera_dim + j * 2 + j + (j * 3 if config.epipolar else 0),
            j * 2,
            layers=config.layers,
            width=config.width,
            heads=config.heads,
            ff_width=config.ff_width,
            dropout=config.dropout,
            cross_view=True,
        )

    def forward(self, x_n: torch.Tensor, n: torch.Tensor, cond: MultiViewCondition) -> torch.Tensor:
        b, v, t, j, _ = x_n.shape
        if j != self.config.num_points:
            raise ValueError(f"expected {self.config.num_points} points per frame, got {j}")
        mask = cond.observed_mask.to(x_n)
        parts = [
            x_n.reshape(b, v, t, j * 2),
            cond.camera.to(x_n),
            (cond.observed.to(x_n) * mask[..., None]).reshape(b, v, t, j * 2),
            mask,
        ]
        if self.config.epipolar:
            if cond.lines is None:
                parts.append(x_n.new_zeros((b, v, t, j * 3)))
            else:  # a joint's line only where the input view observes it (view 0's mask)
                parts.append((cond.lines.to(x_n) * mask[:, :1, ..., None]).reshape(b, v, t, j * 3))
        return self.net(torch.cat(parts, dim=-1), n).reshape(b, v, t, j, 2)


def init_from_single_view(
    model: MultiViewDenoiser, single_view_weights: dict[str, torch.Tensor]
) -> list[str]:
    """Start a multi-view model from a trained single-view one (AnyLift: same backbone + view layers).

    Copies every weight whose name and shape match (temporal attention, MLPs, norms, step
    embedding, output head); the input embedding's first layer (other condition features) and the
    cross-view attention layers keep their fresh initialisation.

    Args:
        model: the multi-view model to initialise (same width/layers/heads as the single-view one).
        single_view_weights: ``SingleViewDenoiser.state_dict()`` (e.g. ``load_checkpoint(p).model``'s).

    Returns:
        The names of the copied weights.
    """
    own = model.state_dict()
    copied = [k for k, v in single_view_weights.items() if k in own and own[k].shape == v.shape]
    model.load_state_dict({**own, **{k: single_view_weights[k] for k in copied}})
    return copied


def init_from_multi_view(model: MultiViewDenoiser, weights: dict[str, torch.Tensor]) -> None:
    """Start a multi-view model from a trained multi-view one: every weight, and where the model
    takes more condition features (the epipolar lines, appended last), the input layer's extra
    columns start at zero, so the widened model computes exactly what the trained one did.

    Raises:
        ValueError: the two differ in anything else (width, layers, points).
    """
    own = model.state_dict()
    first = next(k for k in own if k.endswith("embed.mlp.0.weight"))
    mismatched = [k for k in own if k not in weights or own[k].shape != weights[k].shape]
    old = weights.get(first)
    widens = (
        mismatched == [first]
        and old is not None
        and old.shape[0] == own[first].shape[0]
        and old.shape[1] < own[first].shape[1]
    )
    if mismatched and not widens:
        raise ValueError(f"the weights differ in {', '.join(mismatched[:3]) or 'their names'}")
    if set(weights) - set(own):
        raise ValueError(f"unexpected weights {sorted(set(weights) - set(own))[:3]}")
    merged = dict(weights)
    if widens:
        merged[first] = torch.zeros_like(own[first])
        merged[first][:, : old.shape[1]] = old
    model.load_state_dict(merged)


def random_observation_mask(
    mask: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    point_drop: float = 0.1,
    frame_drop: float = 0.05,
    num_joints: int | None = None,
    object_drop: float = 0.3,
) -> torch.Tensor:
    """Training-time masking of observed keypoints (occlusion, detector and tracker failures).

    Drops each keypoint with probability ``point_drop``, whole frames with ``frame_drop``, and,
    when ``num_joints`` is given (HOI), each object keypoint (index >= num_joints) additionally with
    ``object_drop``.

    Args:
        mask: (..., T, J) observation mask (bool or 0/1).

    Returns:
        (..., T, J) mask of the same dtype, never 1 where ``mask`` was 0.
    """
    dev = mask.device
    keep = torch.rand(mask.shape, generator=generator, device=dev) >= point_drop
    keep &= torch.rand(mask.shape[:-1], generator=generator, device=dev)[..., None] >= frame_drop
    if num_joints is not None and mask.shape[-1] > num_joints:
        obj = torch.rand(mask.shape, generator=generator, device=dev) >= object_drop
        obj[..., :num_joints] = True
        keep &= obj
    return (mask.bool() & keep).to(mask.dtype)
