"""The reference body baseline: SMPLify-style single-view fitting (``anylift lift --method smplify``).

:func:`smplify` fits SMPL (one shape per clip; per-frame ``global_orient``, ``body_pose``,
``transl`` in the result world, Z up, metres) to one view's 2D COCO-17 keypoints seen through
the known camera trajectory. It follows SMPLify (Bogo et al. 2016) with the temporal terms a
video fit needs, and it shares the pose regulariser, joint limits, shape prior and foot
contact of :func:`anylift.fitting.smpl_fit.fit_smpl`. Every accuracy figure is compared with
it, so it is meant to be strong, not a straw man.

Objective (all terms per frame, averaged over frames):

- reprojection: ``sum_j c_j rho(s_t * |proj_j - x_j|)`` with ``c_j`` the detector score (0
  for missing joints, NaN, or frames with fewer than ``min_joints`` visible joints), ``rho``
  the Geman-McClure function ``sigma^2 r^2 / (sigma^2 + r^2)`` and ``s_t`` a per-frame pixel
  scale that brings the person's 2D torso height to ``reference_torso_px`` (so the weights
  below mean the same thing at any resolution, focal length or distance: residuals are
  "reference pixels");
- temporal smoothness: squared accelerations of the 24 SMPL joints and of ``transl``
  (metres per frame^2, measured in reference pixels through ``px_per_m = reference_torso_px /
  torso length of the body``);
- :func:`~anylift.fitting.smpl_fit.pose_cost` and
  :func:`~anylift.fitting.smpl_fit.joint_limit_cost` on ``body_pose``; ``|betas|^2``;
- foot contact: feet labelled as in contact (:func:`~anylift.fitting.smpl_fit.contact_labels`
  on the fit so far: ankles near their lowest level and slow) are kept from sliding;
- stage 1 only: the pelvis depth stays near its similar-triangles estimate (SMPLify's depth
  term on the camera translation).

The pelvis is optimised in camera-relative coordinates (image position and log depth, see
``_Projector``) so that the weakly observed depth does not slow L-BFGS down, and the
smoothness weights are annealed from weak to full (stage 1 and the first sub-stages of stage
2 are nearly per-frame problems, which converge fast; the full smoothness then only makes
small changes).

Procedure:

1. Depth from similar triangles: ``depth_t = f * torso_m / torso_px_t`` with the body's rest
   torso height (shoulder midpoint to hip midpoint, metres) and the 2D one (median-filtered
   over time); the hip midpoint is back-projected at that depth.
2. Orientation: the rest body stood upright in the world (Z up) is turned to ``yaw_bins``
   headings; per frame the fit of the torso and face keypoints scores each heading, and a
   Viterbi pass over frames picks the cheapest heading sequence that does not spin.
3. Stage 1 (SMPLify's camera stage): orientation and translation on the torso and face
   points, rest pose, mean shape - run twice, from the initial orientation and from it turned
   by 180 degrees about the vertical (SMPLify's flip trick, which settles the front/back
   ambiguity of side views); per frame the better of the two is kept, again through a Viterbi
   pass that charges for sudden turns.
4. Stage 2: everything (shape, pose, orientation, translation) on all keypoints, from a
   relaxed pose (arms lowered by ``init_arm_angle``, as SMPLify starts from its prior's mean
   pose), with the pose and shape priors annealed from strong to weak as SMPLify does;
   contact labels are taken from the fit before the last sub-stage, which adds the contact
   term.

All optimisation is L-BFGS (strong Wolfe line search), deterministic (no random numbers).
Only the 24 joints and 5 face vertices are posed
(:class:`~anylift.fitting.smpl_fit.KeypointLayer`). About 290 evaluations of the objective;
300 frames take about 7 s on two busy CPU cores. A single view cannot fix the depth of the
body exactly: the absolute scale comes from the shape prior (the mean body), so expect the
root depth to be off by the ratio of the true to the mean body size.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import median_filter
from scipy.spatial.transform import Rotation

from anylift.body.model import NUM_BETAS, BodyModel
from anylift.errors import InputError
from anylift.fitting.optimize import gmof
from anylift.fitting.smpl_fit import (
    L_HIP,
    L_SHOULDER,
    R_HIP,
    R_SHOULDER,
    KeypointLayer,
    SmplFit,
    contact_labels,
    foot_slide_cost,
    joint_limit_cost,
    pose_cost,
)
from anylift.geometry.camera import pixel_rays
from anylift.io.cameras import Camera, check_frames_match
from anylift.io.keypoints import Keypoints2D
from anylift.progress import ProgressFn, check_cancel, report

__all__ = ["STAGE", "SmplifyConfig", "gmof", "smplify"]

STAGE = "SMPLify"
"""Progress stage name of :func:`smplify`."""

SMPL_L_SHOULDER, SMPL_R_SHOULDER = 16, 17
SHOULDERS = (L_SHOULDER, R_SHOULDER)
HIPS = (L_HIP, R_HIP)
FACE = (0, 1, 2, 3, 4)
# What stage 1 and the heading search look at: points the rest pose places well.
TORSO_FACE = FACE + SHOULDERS + HIPS


@dataclass
class SmplifyConfig:
    """Weights and schedule of :func:`smplify`.

    Image terms are in reference pixels (the 2D torso scaled to ``reference_torso_px``); the
    weights of metric terms turn metres into reference pixels via the body's torso length
    (module docstring), so every weight compares with "one reference pixel squared".
    """

    sigma: float = 100.0  # Geman-McClure scale, reference px (SMPLify: 100 px)
    reference_torso_px: float = 100.0
    score_threshold: float = 0.0  # scores at or below are missing
    min_joints: int = 6  # frames with fewer visible joints carry no image term
    yaw_bins: int = 24
    w_turn: float = 1e4  # Viterbi cost of turning by angle a between frames: w_turn * (1 - cos a)
    lbfgs_iterations: int = 20  # evaluations per L-BFGS step
    stage1_steps: int = 3
    stage2_steps: tuple[int, ...] = (3, 3, 4)  # L-BFGS steps per annealing sub-stage
    prior_anneal: tuple[float, ...] = (10.0, 3.0, 1.0)  # multiplies w_pose and w_betas per sub-stage
    smooth_anneal: tuple[float, ...] = (0.01, 0.1, 1.0)  # multiplies the smoothness weights per sub-stage
    stage1_smooth: float = 0.01  # multiplies the smoothness weights in stage 1
    w_depth: float = 0.01  # stage 1: (px_per_m * depth change)^2
    w_smooth_joints: float = 0.1  # (px_per_m * acceleration)^2 summed over the 24 joints
    w_smooth_transl: float = 0.1
    w_pose: float = 1.0  # per weighted rad^2 (smpl_fit.pose_cost)
    w_limits: float = 1e4  # per rad^2 beyond a limit
    w_betas: float = 2.0
    w_contact: float = 10.0  # (px_per_m * slide)^2
    init_arm_angle: float = 1.0  # radians the arms start below the T-pose in stage 2
    contact_height: float = 0.12  # metres above the lowest ankle level
    contact_speed: float = 0.25  # m/s


def _viterbi(unary: np.ndarray, pairwise: np.ndarray) -> np.ndarray:
    """Cheapest state path: unary (T, K), pairwise (K, K) or (T-1, K, K) from t to t+1 -> (T,) int."""
    t_len, k = unary.shape
    pair = np.broadcast_to(pairwise, (max(t_len - 1, 0), k, k))
    cost = unary[0].copy()
    back = np.zeros((t_len, k), dtype=np.int64)
    for t in range(1, t_len):
        total = cost[:, None] + pair[t - 1]
        back[t] = total.argmin(0)
        cost = total[back[t], np.arange(k)] + unary[t]
    path = np.empty(t_len, dtype=np.int64)
    path[-1] = int(cost.argmin())
    for t in range(t_len - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def _fill_nearest(values: np.ndarray, good: np.ndarray) -> np.ndarray:
    """Copy each frame without ``good`` from the nearest frame with it (first axis is time)."""
    idx = np.flatnonzero(good)
    nearest = idx[np.abs(np.arange(len(good))[:, None] - idx[None]).argmin(1)]
    return values[nearest]


def _group_mean(
    points: np.ndarray, visible: np.ndarray, group: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the visible points of a joint group per frame: ((T, D), (T,) any visible)."""
    w = visible[:, list(group)].astype(np.float64)
    n = w.sum(1)
    pts = np.nan_to_num(points[:, list(group)])
    mean = (w[..., None] * pts).sum(1) / np.maximum(n, 1)[:, None]
    return mean, n > 0


class _Projector:
    """Per-frame cameras: projection, scoring against the 2D keypoints, and the camera-relative
    parameterisation of the pelvis.

    The pelvis of frame t is optimised as ``p = (k_t x/z, k_t y/z, log z)`` in camera t's
    frame, ``k_t = f s_t / 100`` with ``s_t`` the reference-pixel scale: each unit then moves
    the keypoints by about a hundred reference pixels, like a radian of rotation does, and the
    weakly observed depth is no longer a metre-scaled world coordinate next to well observed
    sideways ones. This keeps L-BFGS well conditioned.
    """

    def __init__(
        self, K: np.ndarray, w2c: np.ndarray, obs: np.ndarray, weight: np.ndarray, scale: np.ndarray
    ):
        dtype = torch.float32
        self.fx, self.fy, self.cx, self.cy = (float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2]))
        self.rot = torch.tensor(w2c[:, :3, :3], dtype=dtype)
        self.trans = torch.tensor(w2c[:, :3, 3], dtype=dtype)
        self.obs = torch.tensor(np.nan_to_num(obs), dtype=dtype)
        self.weight = torch.tensor(weight, dtype=dtype)
        self.scale = torch.tensor(scale, dtype=dtype)
        self.k = torch.tensor(0.5 * (K[0, 0] + K[1, 1]) * scale / 100.0, dtype=dtype)

    def _cams(self, batch: int):
        reps = batch // self.rot.shape[0]
        return self.rot.repeat(reps, 1, 1), self.trans.repeat(reps, 1), self.k.repeat(reps)

    def camera(self, points: torch.Tensor) -> torch.Tensor:
        """(B, N, 3) world -> (B, N, 3) camera frame; B is T or a multiple of T (stacked runs)."""
        rot, trans, _ = self._cams(points.shape[0])
        return torch.einsum("bij,bnj->bni", rot, points) + trans[:, None]

    def pixels(self, points: torch.Tensor) -> torch.Tensor:
        """(B, N, 3) world -> (B, N, 2) pixels (depth clamped at 5 cm so nothing divides by 0)."""
        cam = self.camera(points)
        z = cam[..., 2].clamp_min(0.05)
        return torch.stack([self.fx * cam[..., 0] / z + self.cx, self.fy * cam[..., 1] / z + self.cy], -1)

    def data(self, keypoints: torch.Tensor, joints: tuple[int, ...] | None, sigma: float) -> torch.Tensor:
        """(B,) per-frame robust reprojection cost of (B, 17, 3) world keypoints, reference px^2."""
        reps = keypoints.shape[0] // self.obs.shape[0]
        r2 = ((self.pixels(keypoints) - self.obs.repeat(reps, 1, 1)) ** 2).sum(-1)
        r2 = r2 * self.scale.repeat(reps)[:, None] ** 2
        w = self.weight.repeat(reps, 1)
        if joints is not None:
            mask = torch.zeros(17, dtype=w.dtype)
            mask[list(joints)] = 1.0
            w = w * mask
        return (w * gmof(r2, sigma)).sum(-1)

    def pelvis_params(self, pelvis: torch.Tensor) -> torch.Tensor:
        """(B, 3) world pelvis positions -> (B, 3) parameters (class docstring)."""
        _, _, k = self._cams(pelvis.shape[0])
        cam = self.camera(pelvis[:, None])[:, 0]
        z = cam[:, 2].clamp_min(0.05)
        return torch.stack([k * cam[:, 0] / z, k * cam[:, 1] / z, torch.log(z)], -1)

    def pelvis_world(self, params: torch.Tensor) -> torch.Tensor:
        """(B, 3) parameters -> (B, 3) world pelvis positions (inverse of :meth:`pelvis_params`)."""
        rot, trans, k = self._cams(params.shape[0])
        z = torch.exp(params[:, 2])
        cam = torch.stack([params[:, 0] / k * z, params[:, 1] / k * z, z], -1)
        return torch.einsum("bji,bj->bi", rot, cam - trans)


def _check_inputs(keypoints: Keypoints2D, camera: Camera, body: BodyModel) -> None:
    if not isinstance(keypoints, Keypoints2D):
        raise InputError(f"is a {type(keypoints).__name__}", field="keypoints", expected="a Keypoints2D")
    if not isinstance(camera, Camera):
        raise InputError(f"is a {type(camera).__name__}", field="camera", expected="a Camera")
    if not isinstance(body, BodyModel):
        raise InputError(f"is a {type(body).__name__}", field="body", expected="a BodyModel")
    check_frames_match(keypoints, camera)


def smplify(
    keypoints: Keypoints2D,
    camera: Camera,
    body: BodyModel,
    *,
    config: SmplifyConfig | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> SmplFit:
    """Fit SMPL to one view's 2D keypoints through a known camera trajectory (module docstring).

    Args:
        keypoints: (T, 17, 3) ``[x px, y px, score]`` COCO-17; missing joints have score 0
            (or NaN coordinates) and are ignored.
        camera: the same T frames; ``K`` (3, 3) px and ``world_to_camera`` (T, 4, 4) in the
            result world (Z up, metres).
        body: the body model (proxy or official SMPL).
        config: weights and schedule (:class:`SmplifyConfig`).
        progress: ``progress("SMPLify", done, total)`` after each optimiser step.
        cancel: raises :class:`anylift.progress.Cancelled` soon after it is set.
    Returns:
        :class:`~anylift.fitting.smpl_fit.SmplFit` in the camera's world: betas (10,),
        global_orient (T, 3) (includes SMPL's Y-up -> Z-up turn), body_pose (T, 69), transl
        (T, 3), joints (T, 24, 3), keypoints3d (T, 17, 3), metres. ``final_error`` is the
        score-weighted mean distance (metres) from each fitted 3D keypoint to the camera ray
        through its 2D keypoint; ``losses`` holds the final terms plus ``reprojection_px``
        (score-weighted mean pixel error), ``flipped_frames`` (frames where stage 1 kept the
        flipped orientation) and ``observed_frames``.
    Raises:
        InputError: mismatched frame counts, or no frame with at least ``min_joints`` visible
            joints including a shoulder and a hip.
    """
    cfg = config or SmplifyConfig()
    if not len(cfg.stage2_steps) == len(cfg.prior_anneal) == len(cfg.smooth_anneal) >= 1:
        raise InputError(
            f"has {len(cfg.stage2_steps)} stage-2 sub-stages, {len(cfg.prior_anneal)} prior and "
            f"{len(cfg.smooth_anneal)} smoothness factors",
            field="config",
            expected="stage2_steps, prior_anneal and smooth_anneal of the same length >= 1",
        )
    _check_inputs(keypoints, camera, body)
    kp = np.asarray(keypoints.keypoints, dtype=np.float64)
    t_len = kp.shape[0]
    obs = kp[..., :2]
    score = np.nan_to_num(kp[..., 2])
    visible = (score > cfg.score_threshold) & np.isfinite(obs).all(-1)
    frame_ok = visible.sum(1) >= cfg.min_joints
    visible &= frame_ok[:, None]
    weight = np.where(visible, score, 0.0)

    shoulders_2d, has_sh = _group_mean(obs, visible, SHOULDERS)
    hips_2d, has_hip = _group_mean(obs, visible, HIPS)
    torso_ok = has_sh & has_hip
    if not torso_ok.any():
        raise InputError(
            f"no frame of {t_len} has {cfg.min_joints} or more visible joints including a shoulder and a hip",
            path=keypoints.path,
            field="keypoints",
            expected=f"at least one frame where the torso is detected (score > {cfg.score_threshold})",
            fix="check that the keypoints belong to a person and that their scores are not all 0",
        )
    check_cancel(cancel)

    dtype = torch.float32
    layer = KeypointLayer(body).to(dtype=dtype)
    zeros_betas = torch.zeros(1, NUM_BETAS, dtype=dtype)
    with torch.no_grad():
        _, rest = layer(zeros_betas, torch.zeros(1, 3, dtype=dtype), torch.zeros(1, 69, dtype=dtype),
                        torch.zeros(1, 3, dtype=dtype))  # fmt: skip
        j0 = layer.j_template[0].double().numpy()
    rest = rest[0].double().numpy()  # SMPL frame (Y up), pelvis at j0
    rest_hips = rest[list(HIPS)].mean(0)
    torso_m = float(np.linalg.norm(rest[list(SHOULDERS)].mean(0) - rest_hips))
    px_per_m = cfg.reference_torso_px / torso_m

    # 1. Depth by similar triangles on the torso height, robust over time.
    torso_px = np.linalg.norm(shoulders_2d - hips_2d, axis=-1)
    torso_ok &= torso_px > 1.0
    torso_px = _fill_nearest(np.where(torso_ok, torso_px, 0.0), torso_ok)
    torso_px = median_filter(torso_px, size=min(15, 2 * (t_len // 2) + 1), mode="nearest")
    scale = cfg.reference_torso_px / torso_px
    K = camera.K
    focal = 0.5 * (K[0, 0] + K[1, 1])
    depth = focal * torso_m / torso_px
    hip_uv = _fill_nearest(hips_2d, has_hip) if has_hip.any() else _fill_nearest(shoulders_2d, has_sh)
    ray = np.stack(
        [(hip_uv[:, 0] - K[0, 2]) / K[0, 0], (hip_uv[:, 1] - K[1, 2]) / K[1, 1], np.ones(t_len)], -1
    )
    w2c = camera.world_to_camera
    hip_world = np.einsum("tji,tj->ti", w2c[:, :3, :3], depth[:, None] * ray - w2c[:, :3, 3])
    # Optimise about a local origin: float32 keeps millimetres far from the file's origin.
    origin = hip_world.mean(0)
    local_w2c = w2c.copy()
    local_w2c[:, :3, 3] = w2c[:, :3, 3] + np.einsum("tij,j->ti", w2c[:, :3, :3], origin)
    hip_local = hip_world - origin
    proj = _Projector(K, local_w2c, obs, weight, scale)

    # 2. Heading search: the upright rest body turned about world Z, hip midpoint on its ray.
    yaws = 2 * np.pi * np.arange(cfg.yaw_bins) / cfg.yaw_bins
    upright = Rotation.from_rotvec(np.array([np.pi / 2, 0.0, 0.0]))  # SMPL Y-up -> world Z-up
    candidates = Rotation.from_euler("z", yaws[:, None]) * upright
    offsets = np.einsum("kij,pj->kpi", candidates.as_matrix(), rest - rest_hips)  # (K, 17, 3)
    with torch.no_grad():
        pts = torch.tensor(hip_local[:, None, None] + offsets[None], dtype=dtype)  # (T, K, 17, 3)
        pts = pts.transpose(0, 1).reshape(-1, 17, 3)  # candidate-major, as _Projector expects
        unary = proj.data(pts, TORSO_FACE, cfg.sigma).reshape(cfg.yaw_bins, t_len).T.double().numpy()
    turn = cfg.w_turn * (1 - np.cos(yaws[:, None] - yaws[None]))
    rot0 = candidates[_viterbi(unary, turn)]
    total = 1 + cfg.stage1_steps + sum(cfg.stage2_steps)
    done = 1
    report(progress, STAGE, done, total)

    j_template0, j_dirs0 = layer.j_template[0], layer.j_dirs[0]

    def transl_of(pelvis_params: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        """World ``transl`` (B, 3): SMPL puts the pelvis at J0(betas) + transl."""
        return proj.pelvis_world(pelvis_params) - (j_template0 + j_dirs0 @ betas[0])

    def lbfgs(params, closure_loss, steps):
        nonlocal done
        opt = torch.optim.LBFGS(
            params, lr=1.0, max_iter=cfg.lbfgs_iterations, history_size=20, line_search_fn="strong_wolfe",
            tolerance_grad=1e-7, tolerance_change=1e-10,
        )  # fmt: skip

        def closure():
            opt.zero_grad(set_to_none=True)
            loss = closure_loss()
            loss.backward()
            return loss

        for _ in range(steps):
            check_cancel(cancel)
            opt.step(closure)
            done += 1
            report(progress, STAGE, done, total)

    def accel2(x: torch.Tensor) -> torch.Tensor:
        """(R, T, ...) runs -> sum over runs of the per-frame mean of squared second differences."""
        if x.shape[1] < 3:
            return x.new_zeros(())
        acc = x[:, 2:] - 2 * x[:, 1:-1] + x[:, :-2]
        return (acc**2).reshape(acc.shape[0], acc.shape[1], -1).sum(-1).sum() / t_len

    # 3. Stage 1 on two stacked runs: as initialised, and flipped by 180 degrees about Z.
    flip = Rotation.from_euler("z", np.pi)
    starts = [rot0, flip * rot0]
    # The hip midpoint is at R (h - j0) + pelvis: put it on its back-projected point.
    pelvis0 = np.concatenate([hip_local - r.apply(rest_hips - j0) for r in starts])
    go = torch.tensor(np.concatenate([r.as_rotvec() for r in starts]), dtype=dtype, requires_grad=True)
    with torch.no_grad():
        pp = proj.pelvis_params(torch.tensor(pelvis0, dtype=dtype)).requires_grad_(True)
    rest_pose = torch.zeros(2 * t_len, 69, dtype=dtype)
    log_depth = torch.tensor(np.log(depth), dtype=dtype).repeat(2)
    m2 = px_per_m**2
    # 100 reference px per unit of log depth, as the parameterisation assumes.
    depth_weight = cfg.w_depth * 100.0**2

    def stage1_terms() -> tuple[torch.Tensor, torch.Tensor]:
        tr = transl_of(pp, zeros_betas)
        joints, kps = layer(zeros_betas, go, rest_pose, tr)
        per_frame = proj.data(kps, TORSO_FACE, cfg.sigma) + depth_weight * (pp[:, 2] - log_depth) ** 2
        smooth = cfg.w_smooth_joints * m2 * accel2(joints.reshape(2, t_len, 24, 3))
        smooth = cfg.stage1_smooth * (smooth + cfg.w_smooth_transl * m2 * accel2(tr.reshape(2, t_len, 3)))
        return per_frame, smooth

    def stage1_loss() -> torch.Tensor:
        per_frame, smooth = stage1_terms()
        return per_frame.sum() / t_len + smooth

    lbfgs([go, pp], stage1_loss, cfg.stage1_steps)
    with torch.no_grad():
        _, kps1 = layer(zeros_betas, go, rest_pose, transl_of(pp, zeros_betas))
        unary = proj.data(kps1, TORSO_FACE, cfg.sigma).reshape(2, t_len).T.double().numpy()
    rots = Rotation.from_rotvec(go.detach().double().numpy()).as_matrix().reshape(2, t_len, 3, 3)
    # 1 - cos(angle) between orientations at t (state a) and t+1 (state b) = (3 - trace(Ra^T Rb)) / 2.
    trace = np.einsum("atij,btij->tab", rots[:, :-1], rots[:, 1:])
    choice = _viterbi(unary, cfg.w_turn * (3.0 - trace) / 2.0)
    frames = np.arange(t_len)

    # 4. Stage 2: everything, priors annealed; contact from the fit before the last sub-stage.
    go = go.detach().reshape(2, t_len, 3)[choice, frames].clone().requires_grad_(True)
    pp = pp.detach().reshape(2, t_len, 3)[choice, frames].clone().requires_grad_(True)
    # A relaxed start (arms lowered from the T-pose by init_arm_angle), as SMPLify starts
    # from its prior's mean pose; the pose prior itself stays centred on zero.
    bp0 = torch.zeros(t_len, 23, 3, dtype=dtype)
    bp0[:, SMPL_L_SHOULDER - 1, 2] = -cfg.init_arm_angle
    bp0[:, SMPL_R_SHOULDER - 1, 2] = cfg.init_arm_angle
    bp = bp0.reshape(t_len, 69).requires_grad_(True)
    be = torch.zeros(1, NUM_BETAS, dtype=dtype, requires_grad=True)
    contact = torch.zeros(t_len, 2, dtype=dtype)
    state = {"anneal": 1.0, "smooth": 1.0, "contact": False}

    def stage2_terms() -> dict[str, torch.Tensor]:
        tr = transl_of(pp, be)
        joints, kps = layer(be, go, bp, tr)
        out = {"reprojection": proj.data(kps, None, cfg.sigma).mean()}
        out["smooth_joints"] = state["smooth"] * cfg.w_smooth_joints * m2 * accel2(joints[None])
        out["smooth_transl"] = state["smooth"] * cfg.w_smooth_transl * m2 * accel2(tr[None])
        out["pose"] = state["anneal"] * cfg.w_pose * pose_cost(bp).mean()
        out["limits"] = cfg.w_limits * joint_limit_cost(bp).mean()
        out["betas"] = state["anneal"] * cfg.w_betas * (be**2).sum()
        if state["contact"] and t_len >= 2:
            out["contact"] = cfg.w_contact * m2 * foot_slide_cost(joints, contact) / t_len
        return out

    for i, (steps, anneal, smooth) in enumerate(zip(cfg.stage2_steps, cfg.prior_anneal, cfg.smooth_anneal)):
        state["anneal"], state["smooth"] = anneal, smooth
        if i == len(cfg.stage2_steps) - 1 and cfg.w_contact > 0:
            with torch.no_grad():
                _, kps = layer(be, go, bp, transl_of(pp, be))
            labels = contact_labels(
                kps.double().numpy() + origin, np.ones((t_len, 17)), keypoints.fps,
                cfg.contact_height, cfg.contact_speed,
            )  # fmt: skip
            contact = torch.tensor(labels, dtype=dtype)
            state["contact"] = True
        lbfgs([go, pp, bp, be], lambda: sum(stage2_terms().values()), steps)

    with torch.no_grad():
        final = {k: float(v) for k, v in stage2_terms().items()}
        tr = transl_of(pp, be)
        joints, kps = layer(be, go, bp, tr)
        px_err = torch.sqrt(((proj.pixels(kps) - proj.obs) ** 2).sum(-1)).double().numpy()
    joints = joints.double().numpy() + origin
    kps = kps.double().numpy() + origin
    transl = tr.detach().double().numpy() + origin
    wsum = max(weight.sum(), 1e-12)
    final["reprojection_px"] = float((weight * np.nan_to_num(px_err)).sum() / wsum)
    final["flipped_frames"] = float(choice.sum())
    final["observed_frames"] = float(frame_ok.sum())
    # Distance of each keypoint to the ray through its 2D keypoint (metres).
    centres, d = pixel_rays(np.nan_to_num(obs), K, camera.world_to_camera)
    rel = kps - centres[:, None]
    along = (rel * d).sum(-1, keepdims=True)
    ray_dist = np.linalg.norm(rel - along * d, axis=-1)
    final_error = float((weight * ray_dist).sum() / wsum)
    return SmplFit(
        betas=be.detach()[0].double().numpy().copy(),
        global_orient=go.detach().double().numpy().copy(),
        body_pose=bp.detach().double().numpy().copy(),
        transl=transl,
        joints=joints,
        keypoints3d=kps,
        final_error=final_error,
        losses=final,
    )
