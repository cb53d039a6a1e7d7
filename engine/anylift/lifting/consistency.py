"""Multi-view consistency during sampling, and the final triangulation.

At every DDIM step (a :func:`anylift.diffusion.sample` hook, ``hook(x0, n, cond) -> x0``):

1. the x0 of all V views (root/local model coordinates) goes back to global coordinates and is
   triangulated (confidence-weighted DLT, :func:`anylift.geometry.triangulate`) with each view's
   projection in the lift frame - the input view through its *moving* camera, frame by frame
   (Mocap-2-to-3, MAS);
2. each triangulated joint that the input view observes is moved onto the camera ray of its
   observed keypoint (the closest point on the ray; VideoMDM's guidance), so the input view is
   reproduced exactly where observed and nowhere else forced;
3. the points are reprojected into every view, back to root/local coordinates.

The observed keypoints themselves are also written into the input view's x0 before this
(:func:`anylift.diffusion.observed_guidance`, inpainting), so the triangulation already sees them.
Computation is float64 whatever the sampling dtype, so consistency does not cost precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from anylift import representation as rep
from anylift.diffusion.sampler import Hook
from anylift.geometry.triangulation import triangulate, triangulate_robust

MIN_DEPTH = 1e-3
"""Reprojected points closer than this (metres) are clamped: a broken early x0 must not blow up."""


@dataclass
class ViewGeometry:
    """Batched geometry of B windows (torch or numpy, float64).

    Attributes:
        projections: (B, V, T, 3, 4) lift frame -> model coordinates.
        weights: (B, V, T, K) triangulation confidence of each view's points.
        ray_origin: (B, T, 3) input camera centres, lift frame.
        ray_direction: (B, T, K, 3) unit rays through the observed keypoints.
        ray_mask: (B, T, K) 1 where a keypoint is observed (0 = free).
    """

    projections: Any
    weights: Any
    ray_origin: Any
    ray_direction: Any
    ray_mask: Any

    def to(self, device: torch.device | str) -> ViewGeometry:
        """Torch float64 copies on ``device``."""
        conv = lambda a: torch.as_tensor(np.asarray(a) if not torch.is_tensor(a) else a).to(  # noqa: E731
            device=device, dtype=torch.float64
        )
        return ViewGeometry(*(conv(a) for a in (self.projections, self.weights, self.ray_origin,
                                                self.ray_direction, self.ray_mask)))  # fmt: skip


def reproject(points, projections):
    """(B, T, K, 3) lift-frame points -> (B, V, T, K, 2) model coordinates of every view.

    numpy or torch; depths are clamped at :data:`MIN_DEPTH`.
    """
    xp = torch if torch.is_tensor(points) else np
    ones = xp.ones_like(points[..., :1])
    hom = xp.concatenate([points, ones], -1)[:, None, ..., None]  # (B, 1, T, K, 4, 1)
    img = (projections[:, :, :, None] @ hom)[..., 0]  # (B, V, T, K, 3)
    depth = img[..., 2:3]
    depth = depth.clamp_min(MIN_DEPTH) if xp is torch else np.maximum(depth, MIN_DEPTH)
    return img[..., :2] / depth


def onto_rays(points, origin, direction, mask, strength: float = 1.0):
    """Move points (B, T, K, 3) towards the closest point of their rays where ``mask`` (B, T, K) > 0.

    ``origin`` (B, T, 3), ``direction`` (B, T, K, 3) unit. ``strength`` 1 puts them on the ray.
    """
    o = origin[:, :, None, :]
    along = ((points - o) * direction).sum(-1, keepdims=True)
    closest = o + along * direction
    return points + (strength * mask)[..., None] * (closest - points)


def triangulate_views(x_global, geometry: ViewGeometry, *, robust: bool = False):
    """(B, V, T, K, 2) global model coordinates -> (B, T, K, 3) lift-frame points.

    Points seen by fewer than two views with weight > 0 come out at the origin (never the case
    with virtual views, which always have weight 1).
    """
    fn = triangulate_robust if robust else triangulate
    kwargs = {"threshold": 0.05} if robust else {}
    return fn(x_global, geometry.weights, geometry.projections, view_axis=1, fill=0.0, **kwargs)


# COCO-17 tree for the bone-length step, outward from the hip centre: (joint, parent); -1 = hips.
_TREE = (
    (11, -1), (12, -1), (13, 11), (15, 13), (14, 12), (16, 14), (5, 11), (6, 12), (7, 5), (9, 7),
    (8, 6), (10, 8), (0, -2), (1, 0), (2, 0), (3, 1), (4, 2),
)  # fmt: skip


def keep_bone_lengths(points: torch.Tensor) -> torch.Tensor:
    """(B, T, K, 3) body points with each bone set to its median length over the window's frames
    (directions kept), walking out from the hip centre; the head hangs off the shoulder centre.

    K >= 17 (COCO-17 first; object points pass unchanged).
    """
    out = points.clone()
    hips = 0.5 * (points[:, :, 11] + points[:, :, 12])
    neck = 0.5 * (points[:, :, 5] + points[:, :, 6])
    for joint, parent in _TREE:
        base_old = hips if parent == -1 else neck if parent == -2 else points[:, :, parent]
        base_new = (
            hips
            if parent == -1
            else 0.5 * (out[:, :, 5] + out[:, :, 6])
            if parent == -2
            else out[:, :, parent]
        )
        bone = points[:, :, joint] - base_old
        length = bone.norm(dim=-1, keepdim=True)
        target = length.median(dim=1, keepdim=True).values
        out[:, :, joint] = base_new + bone * (target / length.clamp_min(1e-9))
    return out


def consistency_hook(
    geometry: ViewGeometry, *, ray_strength: float = 1.0, bone_lengths: bool = False
) -> Hook:
    """The triangulate / ray-project / reproject hook (module doc) for (B, V, T, K, 2) x0.

    ``bone_lengths``: after triangulating, give every bone one length over the window
    (:func:`keep_bone_lengths`), before the observed joints go onto their rays.
    """

    def hook(x0: torch.Tensor, n: torch.Tensor, cond: Any) -> torch.Tensor:
        g = geometry
        glob = rep.from_root_local(x0.to(torch.float64))
        pts = triangulate_views(glob, g)
        if bone_lengths:
            pts = keep_bone_lengths(pts)
        pts = onto_rays(pts, g.ray_origin, g.ray_direction, g.ray_mask, ray_strength)
        return rep.to_root_local(reproject(pts, g.projections)).to(x0.dtype)

    return hook


def final_points(x_root_local: np.ndarray | torch.Tensor, geometry: ViewGeometry) -> np.ndarray:
    """The sampled views (B, V, T, K, 2) root/local -> (B, T, K, 3) lift-frame keypoints.

    Robust weighted triangulation (IRLS, Huber in model units), then observed joints onto their
    rays so the result reprojects onto the input keypoints exactly.
    """
    glob = rep.from_root_local(torch.as_tensor(x_root_local, dtype=torch.float64, device="cpu"))
    g = ViewGeometry(*(torch.as_tensor(a, dtype=torch.float64, device="cpu")
                       for a in (geometry.projections, geometry.weights, geometry.ray_origin,
                                 geometry.ray_direction, geometry.ray_mask)))  # fmt: skip
    pts = triangulate_views(glob, g, robust=True)
    return onto_rays(pts, g.ray_origin, g.ray_direction, g.ray_mask).numpy()
