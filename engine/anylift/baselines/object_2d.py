"""The object part of the SMPLify-style HOI baseline (``benchmarks/hoi.py``).

:func:`fit_object_2d` fits one object's pose per frame (6D rotation, translation) and one scale
to its 2D keypoints seen through the known camera, with the body fitted by
:func:`anylift.baselines.body_2d.smplify` giving the hands for a contact term.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch

from anylift.baselines.body_2d import gmof
from anylift.errors import InputError
from anylift.io.cameras import Camera
from anylift.progress import ProgressFn, check_cancel, report

__all__ = ["OBJECT_STAGE", "ObjectFit2D", "ObjectFit2DConfig", "fit_object_2d"]

OBJECT_STAGE = "object 2D fit"
"""Progress stage name of :func:`fit_object_2d`."""


@dataclass
class ObjectFit2DConfig:
    """Weights and schedule of :func:`fit_object_2d`.

    Every term is in "reference pixels" squared (normalised image coordinates times
    ``reference_focal``; lengths in metres become reference pixels through ``reference_focal /
    median object depth``), so the weights mean the same at any resolution and distance.

    iterations, lr: Adam steps and initial rate (cosine decay to 1%). sigma: Geman-McClure scale
    of the reprojection residual. w_scale: prior ``(log s)^2`` on the scale of the canonical
    keypoints (the category's canonical size). w_smooth_t / w_smooth_r: squared accelerations of
    the translation and of the rotated keypoints. w_contact: hands kept within the object's
    radius (+ ``contact_margin`` metres) of its centre on the frames where the initial pose has
    that hand that near: a hand-held object may not drift away from the hands where the image is ambiguous.
    """

    iterations: int = 300
    lr: float = 0.02
    reference_focal: float = 1000.0
    sigma: float = 100.0
    w_scale: float = 1000.0
    w_smooth_t: float = 0.1
    w_smooth_r: float = 0.1
    w_contact: float = 1.0
    contact_margin: float = 0.15


@dataclass
class ObjectFit2D:
    """:func:`fit_object_2d`'s result, world metres (the Motion's ``object_*`` of one object).

    Attributes:
        rotation: (T, 3, 3) object -> world. translation: (T, 3). scale: uniform scale.
        keypoints3d: (T, M, 3) ``s R p + t``. contact: (T,) bool frames with the hand term.
        reprojection_px: score-weighted mean reprojection error, pixels.
    """

    rotation: np.ndarray
    translation: np.ndarray
    scale: float
    keypoints3d: np.ndarray
    contact: np.ndarray
    reprojection_px: float


def _pnp_init(obs, score, K, w2c, canonical):
    """Per-frame object poses (world) from OpenCV SQPnP at scale 1; frames with < 4 keypoints copy
    the nearest frame that has them. Returns (T, 3, 3), (T, 3), (T,) bool solved."""
    import cv2

    t_len = len(obs)
    rot = np.tile(np.eye(3), (t_len, 1, 1))
    trans = np.zeros((t_len, 3))
    ok = np.zeros(t_len, bool)
    for t in range(t_len):
        vis = score[t] > 0
        if vis.sum() < 4:
            continue
        good, rvec, tvec = cv2.solvePnP(
            canonical[vis].astype(np.float64), obs[t, vis].astype(np.float64), K, None,
            flags=cv2.SOLVEPNP_SQPNP,
        )  # fmt: skip
        if not good or tvec[2, 0] <= 0:
            continue
        r_c = cv2.Rodrigues(rvec)[0]
        r_w = w2c[t, :3, :3].T
        rot[t] = r_w @ r_c
        trans[t] = r_w @ (tvec[:, 0] - w2c[t, :3, 3])
        ok[t] = True
    if not ok.any():
        raise InputError(
            "no frame has 4 or more object keypoints", field="object keypoints", expected="a detected object"
        )
    idx = np.flatnonzero(ok)
    nearest = idx[np.abs(np.arange(t_len)[:, None] - idx[None]).argmin(1)]
    return rot[nearest], trans[nearest], ok


def fit_object_2d(
    keypoints2d: np.ndarray,
    camera: Camera,
    canonical: np.ndarray,
    *,
    hands: np.ndarray | None = None,
    config: ObjectFit2DConfig | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> ObjectFit2D:
    """Fit one object's pose per frame (and one scale) to its 2D keypoints through the camera.

    The SMPLify-style baseline for objects: per-frame 6D rotations (Zhou et al.), translations and
    the log of one scale, by Adam on score-weighted Geman-McClure reprojection error, a prior
    holding the scale at the canonical keypoints' size (monocular depth and size trade off; the
    category's size settles it), translation and rotation smoothness, and - on frames where the
    initial pose puts the hands near the object - contact: each hand within the object's radius
    (+ a margin) of its centre (:class:`ObjectFit2DConfig`). Initialisation: OpenCV SQPnP per
    frame at scale 1.

    Args:
        keypoints2d: (T, M, 3) ``[x px, y px, score]``; score 0 / NaN = missing.
        camera: ``K`` (3, 3) px and ``world_to_camera`` (T, 4, 4) in the result world (metres).
        canonical: (M, 3) the object's canonical keypoints, metres (its template's).
        hands: (T, H, 3) world hand (wrist) positions of the fitted body, metres, or None.

    Returns:
        :class:`ObjectFit2D`.

    Raises:
        InputError: shapes that do not match, or no frame with 4 visible keypoints.
    """
    from anylift.geometry.rotations import matrix_to_rot6d, rot6d_to_matrix

    cfg = config or ObjectFit2DConfig()
    kp = np.asarray(keypoints2d, dtype=np.float64)
    can = np.asarray(canonical, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[2] != 3 or can.shape != (kp.shape[1], 3):
        raise InputError(
            f"keypoints {kp.shape}, canonical {can.shape}", field="keypoints2d / canonical",
            expected="(T, M, 3) and (M, 3)",
        )  # fmt: skip
    if camera.world_to_camera.shape[0] != len(kp):
        raise InputError(
            f"{len(kp)} frames of keypoints, {camera.world_to_camera.shape[0]} of camera",
            field="camera", expected="the same number of frames",
        )  # fmt: skip
    K = np.asarray(camera.K, dtype=np.float64)
    w2c = np.asarray(camera.world_to_camera, dtype=np.float64)
    score = np.where(np.isfinite(kp[..., :2]).all(-1), np.nan_to_num(kp[..., 2]), 0.0)
    obs = np.nan_to_num(kp[..., :2])
    rot0, trans0, _ = _pnp_init(obs, score, K, w2c, can)
    radius = float(np.linalg.norm(can - can.mean(0), axis=-1).max())
    centre0 = trans0 + rot0 @ can.mean(0)
    depth = np.einsum("tij,tj->ti", w2c[:, :3, :3], centre0)[:, 2] + w2c[:, 2, 3]
    px_per_m = cfg.reference_focal / max(float(np.median(depth)), 0.1)
    contact = np.zeros(len(kp), bool)
    near = np.zeros((len(kp), 1), bool)
    if hands is not None:
        hd = np.linalg.norm(np.asarray(hands, dtype=np.float64) - centre0[:, None], axis=-1)
        near = hd <= radius + cfg.contact_margin  # (T, H) per hand
        contact = near.any(-1)

    dt = torch.float64
    r6 = torch.tensor(matrix_to_rot6d(rot0), dtype=dt, requires_grad=True)
    tr = torch.tensor(trans0, dtype=dt, requires_grad=True)
    log_s = torch.zeros((), dtype=dt, requires_grad=True)
    p = torch.tensor(can, dtype=dt)
    unit = torch.tensor(
        np.stack([(obs[..., 0] - K[0, 2]) / K[0, 0], (obs[..., 1] - K[1, 2]) / K[1, 1]], -1), dtype=dt
    )
    w = torch.tensor(score, dtype=dt)
    wsum = w.sum().clamp_min(1e-12)
    rw = torch.tensor(w2c[:, :3, :3], dtype=dt)
    tw = torch.tensor(w2c[:, :3, 3], dtype=dt)
    hand_t = torch.tensor(np.asarray(hands, dtype=np.float64), dtype=dt) if contact.any() else None
    near_t = torch.tensor(near, dtype=dt)
    ref = cfg.reference_focal
    opt = torch.optim.Adam([r6, tr, log_s], lr=cfg.lr)
    n = cfg.iterations
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: 0.01 + 0.495 * (1 + np.cos(np.pi * k / max(n, 1)))
    )

    def points():
        return torch.exp(log_s) * torch.einsum("tij,mj->tmi", rot6d_to_matrix(r6), p) + tr[:, None]

    for k in range(n):
        if k % 20 == 0:
            check_cancel(cancel)
            report(progress, OBJECT_STAGE, k, n)
        opt.zero_grad()
        world = points()
        cam = torch.einsum("tij,tmj->tmi", rw, world) + tw[:, None]
        proj = cam[..., :2] / cam[..., 2:3].clamp_min(1e-3)
        r2 = (((proj - unit) * ref) ** 2).sum(-1)
        loss = (w * gmof(r2, cfg.sigma)).sum() / wsum + cfg.w_scale * log_s**2
        if len(world) > 2:
            acc_t = tr[2:] - 2 * tr[1:-1] + tr[:-2]
            rel = world - tr[:, None]
            acc_r = rel[2:] - 2 * rel[1:-1] + rel[:-2]
            loss = loss + px_per_m**2 * (
                cfg.w_smooth_t * (acc_t**2).sum(-1).mean() + cfg.w_smooth_r * (acc_r**2).sum(-1).mean()
            )
        if hand_t is not None:
            centre = world.mean(1)
            reach = radius * torch.exp(log_s) + cfg.contact_margin
            gap = torch.relu(torch.linalg.norm(hand_t - centre[:, None], dim=-1) - reach)
            loss = loss + cfg.w_contact * px_per_m**2 * (near_t * gap**2).sum() / near_t.sum()
        loss.backward()
        opt.step()
        sched.step()
    report(progress, OBJECT_STAGE, n, n)
    with torch.no_grad():
        world = points()
        cam = torch.einsum("tij,tmj->tmi", rw, world) + tw[:, None]
        proj = cam[..., :2] / cam[..., 2:3].clamp_min(1e-3)
        px = torch.linalg.norm((proj - unit) * torch.tensor([K[0, 0], K[1, 1]], dtype=dt), dim=-1)
        return ObjectFit2D(
            rotation=rot6d_to_matrix(r6).numpy().copy(),
            translation=tr.numpy().copy(),
            scale=float(torch.exp(log_s)),
            keypoints3d=world.numpy().copy(),
            contact=contact,
            reprojection_px=float((w * px).sum() / wsum),
        )
