"""Sampling and fusion: a clip's windows through the multi-view denoiser to fused 3D keypoints.

Windows of the model's length (:mod:`anylift.lifting.windows`) each get the input view and V-1
virtual ring views (:mod:`anylift.lifting.views`); DDIM (eta 0) samples them with the hooks of
:mod:`anylift.lifting.consistency` (observed keypoints written into the input view, then
triangulate all views / put observed joints on their rays / reproject). Windows go through the
sampler in chunks of :data:`WINDOW_CHUNK` (times the samples), so memory stays bounded however
long the clip; each window's noise comes from its sample's seed, so chunking changes nothing.
The sampled views are triangulated robustly (view weights: input view ``1 + score`` where
observed, 1 elsewhere), observed joints put on their rays (the input view is reproduced exactly),
and the windows blended with a raised cosine.
"""

from __future__ import annotations

import numpy as np
import torch

from anylift import representation as rep
from anylift.diffusion import observed_guidance, sample
from anylift.lifting.consistency import ViewGeometry, consistency_hook, final_points
from anylift.lifting.denoiser import LiftCondition, TimedDenoiser
from anylift.lifting.views import NUM_BODY, WindowViews, build_window_views, normalised_coordinates
from anylift.lifting.windows import blend, plan_windows
from anylift.lifting.world import ResultWorld
from anylift.models import MultiViewCondition
from anylift.progress import check_cancel

SAMPLE_SEED_STRIDE = 7919
"""Sample s starts from the noise of seed ``seed + s * SAMPLE_SEED_STRIDE``: sample s is the same
whatever the number of samples drawn."""
WINDOW_CHUNK = 16
"""Windows per sampler call (bounded memory for long clips)."""


def batch_views(
    views: list[WindowViews], samples: int, device
) -> tuple[LiftCondition, ViewGeometry, torch.Tensor]:
    """Stack windows (repeated per sample: b = s * n_windows + k) into the sampler's batch."""
    order = [v for _ in range(samples) for v in views]

    def stack(name, dtype=torch.float32):
        return torch.as_tensor(np.stack([getattr(v, name) for v in order])).to(device=device, dtype=dtype)

    cond = MultiViewCondition.from_input(
        stack("camera"), stack("observed"), stack("observed_mask"), stack("lines")
    )
    model_k = np.stack([np.broadcast_to(v.model_K, (v.camera.shape[0], 3, 3)) for v in order])
    lift_cond = LiftCondition(
        model=cond,
        world_to_camera=stack("world_to_camera", torch.float64),
        model_K=torch.as_tensor(model_k).to(device=device, dtype=torch.float64),
        frames=stack("frames", torch.long),
        valid=stack("valid", torch.bool),
        lift_from_file=np.eye(4),
    )
    weights = []
    for v in order:
        w = np.ones((*v.camera.shape[:2], v.points.shape[1]))
        w[0] = np.where(v.points_mask, 1.0 + v.scores, 1.0)
        weights.append(w)
    geometry = ViewGeometry(
        projections=np.stack([v.projections for v in order]),
        weights=np.stack(weights),
        ray_origin=np.stack([v.ray_origin for v in order]),
        ray_direction=np.stack([v.ray_direction for v in order]),
        ray_mask=np.stack([v.points_mask.astype(np.float64) for v in order]),
    ).to(device)
    return lift_cond, geometry, stack("guidance_mask")


def window_noise(shape: tuple[int, ...], num_windows: int, samples: int, seed: int) -> torch.Tensor:
    """(samples, num_windows, *shape) starting noise of every window; sample s from seed
    ``seed + s * SAMPLE_SEED_STRIDE`` (shape: one window's (V, W, K, 2))."""
    parts = []
    for s in range(samples):
        g = torch.Generator().manual_seed(int(seed) + s * SAMPLE_SEED_STRIDE)
        parts.append(torch.randn((num_windows, *shape), generator=g))
    return torch.stack(parts)


def sample_points(
    kp: np.ndarray,
    world: ResultWorld,
    image_size: tuple[int, int],
    den: TimedDenoiser,
    schedule,
    *,
    samples: int,
    steps: int,
    seed: int,
    device,
    bone_lengths: bool = False,
    progress=None,
    cancel=None,
) -> tuple[np.ndarray, dict]:
    """Sample every window of a clip.

    Args:
        kp: (T, J, 3) pixels + score, J = 17 body joints (+ M object keypoints).
        world: the result world (its camera is the input camera).
        image_size: (W, H) pixels.
        den, schedule: from :mod:`anylift.lifting.denoiser`.
        bone_lengths: keep bone lengths inside the sampling loop (:func:`consistency_hook`).

    Returns:
        (S, T, J, 3) points of every sample in the lift frame (metres), and the plan
        ``{"num_windows", "window", "num_views"}``.
    """
    cam = world.camera
    lift_w2c = cam.world_to_camera @ np.linalg.inv(cam.world_to_camera[0])
    t_len = len(kp)
    body = kp[:, :NUM_BODY]
    mask = rep.visibility_mask(body, den.score_threshold)
    clip_scale = rep.body_scale(normalised_coordinates(body, cam.K), mask)
    starts = plan_windows(t_len, den.window)
    down = cam.world_to_camera[0, :3, :3] @ np.array([0.0, 0.0, -1.0])  # result world is Z-up
    one = (den.num_views, den.window, kp.shape[1], 2)
    noise = window_noise(one, len(starts), samples, seed)
    points = np.empty((samples, len(starts), den.window, kp.shape[1], 3))
    total = -(-len(starts) // WINDOW_CHUNK) * steps
    for c0 in range(0, len(starts), WINDOW_CHUNK):
        chunk = starts[c0 : c0 + WINDOW_CHUNK]
        views = [
            build_window_views(
                kp, cam.K, image_size, lift_w2c, int(s), den.window, den.num_views,
                fallback_scale=clip_scale, down=down, score_threshold=den.score_threshold,
                ring=den.ring,
            )
            for s in chunk
        ]  # fmt: skip
        cond, geometry, obs_mask = batch_views(views, samples, device)
        cond.lift_from_file = world.lift_from_file
        consistency = consistency_hook(geometry, bone_lengths=bone_lengths)
        hooks = (observed_guidance(cond.model.observed[:, 0], obs_mask, view=0), consistency)
        x_init = noise[:, c0 : c0 + len(chunk)].reshape(-1, *one).to(device)
        done = c0 // WINDOW_CHUNK * steps
        relay = None if progress is None else (lambda stage, i, n, d=done: progress(stage, d + i, total))
        with torch.no_grad():
            x = sample(
                den, x_init.shape, cond, schedule, steps=steps, hooks=hooks, x_init=x_init, device=device,
                progress=relay, cancel=cancel, stage="diffusion",
            )  # fmt: skip
        check_cancel(cancel)
        pts = final_points(x.detach(), geometry)  # (S * n, W, J, 3)
        points[:, c0 : c0 + len(chunk)] = pts.reshape(samples, len(chunk), *pts.shape[1:])
    out = np.stack([blend(p, starts, t_len) for p in points])
    return out, {"num_windows": len(starts), "window": den.window, "num_views": den.num_views}
