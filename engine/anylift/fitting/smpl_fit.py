"""Fit SMPL (proxy or official) to 3D COCO-17 keypoints.

The fit minimises, over one ``betas`` per clip and per-frame ``global_orient``, ``body_pose``
and ``transl`` (all in the engine's Z-up world, see :mod:`anylift.body.model`):

- the confidence-weighted squared distance between the body's COCO-17 keypoints and the
  targets;
- temporal smoothness: squared joint accelerations (SMPL joints, metres per frame^2);
- a pose regulariser: per-joint quadratic costs (joints COCO-17 cannot see, such as the
  spine, neck, wrists and feet, cost more) plus hinge joint limits on knees and elbows (they
  bend one way only);
- a shape prior (betas are standard-normal in SMPL);
- foot-floor contact: feet whose target ankle rests near the floor and moves slowly are
  kept still horizontally; with a known floor, nothing goes below it.

Initialisation: per frame the pelvis orientation from hips and shoulders (Kabsch), the
translation from the pelvis, the pose at rest. Then Adam in two stages (root and shape
first, then everything). Only the 24 joints and 5 face vertices are posed during the fit
(:class:`KeypointLayer`), which is exact and many times faster than posing 6890 vertices.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from anylift.body.model import NUM_BETAS, ZUP_REST_GLOBAL_ORIENT, BodyModel
from anylift.errors import InputError
from anylift.fitting.optimize import gmof, lbfgs
from anylift.geometry.rotations import axis_angle_to_matrix
from anylift.geometry.transforms import similarity_align, swing
from anylift.progress import ProgressFn, report

# COCO-17 indices used here.
L_SHOULDER, R_SHOULDER, L_HIP, R_HIP, L_ANKLE, R_ANKLE = 5, 6, 11, 12, 15, 16
TORSO = (L_SHOULDER, R_SHOULDER, L_HIP, R_HIP)
# SMPL joint indices.
SMPL_L_KNEE, SMPL_R_KNEE, SMPL_L_ANKLE, SMPL_R_ANKLE = 4, 5, 7, 8
SMPL_L_FOOT, SMPL_R_FOOT, SMPL_L_ELBOW, SMPL_R_ELBOW = 10, 11, 18, 19

LOSS_SCALE = 1e4
FIT_CHUNK = 1200
"""Frames fitted at once; longer clips are fitted in chunks (memory stays bounded)."""
FIT_OVERLAP = 60

# Quadratic pose cost per SMPL joint 1..23 (rad^-2). Joints whose rotation COCO-17 does not
# observe (spine chain, collars, neck, head, wrists, hands, feet) are held near rest.
_POSE_WEIGHT = np.ones(23)
for _j in (3, 6, 9, 12, 13, 14, 15, 20, 21, 22, 23, 10, 11, 7, 8):
    _POSE_WEIGHT[_j - 1] = 10.0


@dataclass
class SmplFitConfig:
    """Weights and schedule of :func:`fit_smpl`. Distances in metres, per frame."""

    stage1_iterations: int = 20  # loss evaluations (L-BFGS) for the root and shape
    stage2_iterations: int = 100  # ... for everything (the analytic start makes few enough)
    w_keypoints: float = 1.0
    w_smooth: float = 0.1
    w_pose: float = 1e-6
    w_limits: float = 1e-3
    w_betas: float = 1e-6
    w_contact: float = 1.0
    w_floor: float = 10.0
    contact_height: float = 0.12
    contact_speed: float = 0.25  # m/s
    analytic_init: bool = True  # arms and legs start along the target bones (:func:`limb_pose`)
    w_rays: float = 1.0  # the observed keypoints' camera rays (``fit_smpl(rays=...)``), per metre^2
    ray_sigma: float = 0.1  # metres: Geman-McClure scale of the distance to a ray (a detector's gross errors)


@dataclass
class SmplFit:
    """SMPL parameters fitted to a clip (numpy float64, Z-up world, metres).

    betas (10,); global_orient (T, 3); body_pose (T, 69); transl (T, 3);
    joints (T, 24, 3); keypoints3d (T, 17, 3); final_error: mean weighted keypoint distance (m).
    """

    betas: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    transl: np.ndarray
    joints: np.ndarray
    keypoints3d: np.ndarray
    final_error: float
    losses: dict[str, float] = field(default_factory=dict)


def rigid_chain(
    rot: torch.Tensor, rest: torch.Tensor, parents
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Forward kinematics of a joint tree (what ``smplx.lbs.batch_rigid_transform`` computes).

    Args:
        rot: (B, J, 3, 3) local joint rotations; rest: (B, J, 3) rest joint positions;
        parents: (J,) parent of each joint (-1 for the root), parents before children.

    Returns:
        posed joints (B, J, 3), world rotations (B, J, 3, 3) and the skinning offsets (B, J, 3)
        (``joints - world_rot @ rest``: a rest point x moves to ``world_rot @ x + offset``).

    The joints are taken apart once (``unbind``) rather than indexed one by one, whose backward
    would write a full-size zero gradient per joint - the fit's hottest spot.
    """
    rel = torch.cat([rest[:, :1], rest[:, 1:] - rest[:, list(parents[1:])]], dim=1)
    rots, offs = rot.unbind(1), rel.unbind(1)
    world, pos = [rots[0]], [offs[0]]
    for i in range(1, len(parents)):
        p = int(parents[i])
        world.append(world[p] @ rots[i])
        pos.append(pos[p] + (world[p] @ offs[i][..., None])[..., 0])
    world_rot, joints = torch.stack(world, 1), torch.stack(pos, 1)
    return joints, world_rot, joints - (world_rot @ rest[..., None])[..., 0]


class KeypointLayer(torch.nn.Module):
    """Poses only the 24 SMPL joints and the 5 face vertices of a :class:`BodyModel`.

    Gives exactly what ``BodyModel.forward`` gives for ``joints`` and ``keypoints`` (posedirs
    and skinning of the face vertices included), without the 6890-vertex skinning.
    """

    def __init__(self, body: BodyModel) -> None:
        super().__init__()
        smpl = body.smpl
        reg = smpl.J_regressor  # (24, V)
        self.register_buffer("j_template", reg @ smpl.v_template)  # (24, 3)
        self.register_buffer("j_dirs", torch.einsum("jv,vcb->jcb", reg, smpl.shapedirs))  # (24,3,B)
        ids = body._face_ids
        self.register_buffer("f_template", smpl.v_template[ids])  # (5, 3)
        self.register_buffer("f_dirs", smpl.shapedirs[ids])  # (5, 3, B)
        cols = (ids[:, None] * 3 + torch.arange(3)).reshape(-1)
        self.register_buffer("f_posedirs", smpl.posedirs[:, cols])  # (207, 15)
        self.register_buffer("f_weights", smpl.lbs_weights[ids])  # (5, 24)
        self.register_buffer("gather", body._coco_gather.clone())
        self.parents = smpl.parents

    def forward(
        self, betas: torch.Tensor, global_orient: torch.Tensor, body_pose: torch.Tensor, transl: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Args: betas (1 or B, 10), global_orient (B, 3), body_pose (B, 69), transl (B, 3).

        Returns: joints (B, 24, 3), keypoints (B, 17, 3) COCO-17.
        """
        b = global_orient.shape[0]
        betas = betas.expand(b, -1)
        rest = self.j_template + torch.einsum("jcb,nb->njc", self.j_dirs, betas)
        pose = torch.cat([global_orient, body_pose], dim=1).reshape(b, 24, 3)
        rot = axis_angle_to_matrix(pose)
        joints, world_rot, offset = rigid_chain(rot, rest, self.parents)
        eye = torch.eye(3, dtype=rot.dtype, device=rot.device)
        pose_feature = (rot[:, 1:] - eye).reshape(b, -1)
        face = self.f_template + torch.einsum("fcb,nb->nfc", self.f_dirs, betas)
        face = face + (pose_feature @ self.f_posedirs).reshape(b, -1, 3)
        skin_rot = torch.einsum("fj,njab->nfab", self.f_weights, world_rot)
        face = (skin_rot @ face[..., None])[..., 0] + torch.einsum("fj,nja->nfa", self.f_weights, offset)
        joints = joints + transl[:, None]
        face = face + transl[:, None]
        keypoints = torch.cat([joints, face], dim=1).index_select(1, self.gather)
        return joints, keypoints


def posed_joints(body: BodyModel, betas, global_orient, body_pose, transl) -> np.ndarray:
    """(T, 24, 3) float64 joints of SMPL parameters (numpy (10,), (T, 3), (T, 69), (T, 3))."""
    layer = KeypointLayer(body).to(dtype=torch.float64)
    with torch.no_grad():
        b, go, bp, tr = (
            torch.as_tensor(np.asarray(a, dtype=np.float64))
            for a in (betas, global_orient, body_pose, transl)
        )
        joints, _ = layer(b.reshape(1, -1), go, bp, tr)
    return joints.numpy()


def _kabsch_orient(model_pts: np.ndarray, target_pts: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-frame rotation taking the rest torso (4, 3) onto the targets (T, 4, 3).

    Frames without all four torso points reuse the nearest frame that has them.
    Returns (T, 3, 3).
    """
    t = target_pts.shape[0]
    out = np.empty((t, 3, 3))
    good = np.flatnonzero(valid)
    if good.size == 0:
        raise InputError(
            "no frame has both shoulders and both hips",
            field="keypoints3d",
            expected="at least one frame where the torso is visible",
        )
    _, out[good], _ = similarity_align(model_pts, target_pts[good], scale=False)
    nearest = good[np.abs(np.arange(t)[:, None] - good[None]).argmin(1)]
    out[~valid] = out[nearest[~valid]]
    return out


# Limb bones set analytically at initialisation: (SMPL joint whose rotation moves the bone, its
# child, COCO-17 keypoints of the bone's start and end), parents before children.
_LIMBS = (
    (1, 4, L_HIP, 13), (4, 7, 13, L_ANKLE), (2, 5, R_HIP, 14), (5, 8, 14, R_ANKLE),
    (16, 18, L_SHOULDER, 7), (18, 20, 7, 9), (17, 19, R_SHOULDER, 8), (19, 21, 8, 10),
)  # fmt: skip


def limb_pose(
    root_rotation: np.ndarray, rest_joints: np.ndarray, parents: np.ndarray, kp: np.ndarray, valid: np.ndarray
) -> np.ndarray:
    """(T, 69) body pose whose arms and legs point along the target bones (swing only, no twist).

    Args:
        root_rotation: (T, 3, 3) the pelvis' world rotation (global orient as a matrix).
        rest_joints: (24, 3) SMPL joints at rest; parents: (24,) the kinematic tree.
        kp: (T, 17, 3) target COCO-17 keypoints; valid: (T, 17) usable targets.
    """
    t_len = len(kp)
    world_rot = np.repeat(np.eye(3)[None, None], 24, axis=1).repeat(t_len, axis=0)
    world_rot[:, 0] = root_rotation
    local = np.repeat(np.eye(3)[None, None], 24, axis=1).repeat(t_len, axis=0)
    for j in range(1, 24):
        world_rot[:, j] = world_rot[:, parents[j]]  # spine, collars, ... at rest
        for joint, child, a, b in _LIMBS:
            if joint != j:
                continue
            rest = rest_joints[child] - rest_joints[joint]
            rest = np.broadcast_to(rest / np.linalg.norm(rest), (t_len, 3))
            target = kp[:, b] - kp[:, a]
            norm = np.linalg.norm(target, axis=-1, keepdims=True)
            ok = valid[:, a] & valid[:, b] & (norm[:, 0] > 1e-6)
            parent = world_rot[:, parents[j]]
            want = np.einsum("tji,tj->ti", parent, np.where(ok[:, None], target / np.maximum(norm, 1e-9), 0))
            rot = swing(rest, np.where(ok[:, None], want, rest))
            local[:, j] = rot
            world_rot[:, j] = parent @ rot
    return Rotation.from_matrix(local[:, 1:].reshape(-1, 3, 3)).as_rotvec().reshape(t_len, 69)


def contact_labels(
    keypoints3d: np.ndarray, weights: np.ndarray, fps: float, height: float, speed_limit: float
) -> np.ndarray:
    """(T, 2) bool: the left/right ankle rests near the lowest ankle level and moves slowly.

    Args:
        keypoints3d: (T, 17, 3) COCO-17, Z-up world, metres (finite where ``weights`` > 0).
        weights: (T, 17) confidences; ankles with weight 0 are never in contact.
        fps: frames per second.
        height: metres above the clip's 5th-percentile ankle height that still count as contact.
        speed_limit: horizontal ankle speed (m/s) below which the foot counts as still.
    """
    ankles = keypoints3d[:, [L_ANKLE, R_ANKLE]]
    ok = weights[:, [L_ANKLE, R_ANKLE]] > 0
    if ok.sum() < 2:
        return np.zeros((keypoints3d.shape[0], 2), bool)
    level = np.percentile(ankles[..., 2][ok], 5)
    speed = np.zeros(ankles.shape[:2])
    if ankles.shape[0] > 1:
        step = np.linalg.norm(np.diff(ankles[..., :2], axis=0), axis=-1) * fps
        speed[1:] = step
        speed[0] = step[0]
    return ok & (ankles[..., 2] < level + height) & (np.nan_to_num(speed, nan=1e9) < speed_limit)


def pose_cost(body_pose: torch.Tensor) -> torch.Tensor:
    """Quadratic pose regulariser per frame: (T, 69) axis-angle -> (T,) rad^2, weighted per joint.

    Joints that COCO-17 cannot observe (spine, collars, neck, head, wrists, hands, feet) cost
    ten times more (:data:`_POSE_WEIGHT`).
    """
    pose_w = torch.tensor(np.repeat(_POSE_WEIGHT, 3), dtype=body_pose.dtype, device=body_pose.device)
    return (pose_w * body_pose**2).sum(1)


def joint_limit_cost(body_pose: torch.Tensor) -> torch.Tensor:
    """Hinge joint limits per frame: (T, 69) axis-angle -> (T,) rad^2.

    Knees bend one way about their x axis only (and not about y or z); elbows bend one way
    about their y axis (left: negative, right: positive).
    """
    pose = body_pose.reshape(body_pose.shape[0], 23, 3)
    knees = pose[:, [SMPL_L_KNEE - 1, SMPL_R_KNEE - 1]]
    lim = torch.relu(-knees[..., 0]) ** 2 + knees[..., 1] ** 2 + knees[..., 2] ** 2
    lim = lim.sum(-1) + torch.relu(pose[:, SMPL_L_ELBOW - 1, 1]) ** 2
    return lim + torch.relu(-pose[:, SMPL_R_ELBOW - 1, 1]) ** 2


def foot_slide_cost(joints: torch.Tensor, contact: torch.Tensor) -> torch.Tensor:
    """Horizontal sliding of feet in contact: summed squared xy steps (m^2), a scalar.

    Args:
        joints: (T, 24, 3) SMPL joints, Z-up world, metres (T >= 2).
        contact: (T, 2) float 0/1 left/right contact labels (:func:`contact_labels`); a step
            t -> t+1 counts when the foot is in contact in both frames. Ankle and foot
            (toe) joints both count.
    """
    feet = joints[:, [SMPL_L_ANKLE, SMPL_R_ANKLE]]
    toes = joints[:, [SMPL_L_FOOT, SMPL_R_FOOT]]
    both = contact[1:] * contact[:-1]
    slide = ((feet[1:, :, :2] - feet[:-1, :, :2]) ** 2).sum(-1)
    slide = slide + ((toes[1:, :, :2] - toes[:-1, :, :2]) ** 2).sum(-1)
    return (both * slide).sum()


def fit_smpl(
    keypoints3d: np.ndarray,
    body: BodyModel,
    *,
    weights: np.ndarray | None = None,
    fps: float = 30.0,
    floor_z: float | None = None,
    config: SmplFitConfig | None = None,
    betas: np.ndarray | None = None,
    rays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> SmplFit:
    """Fit SMPL to a clip of 3D COCO-17 keypoints.

    Args:
        keypoints3d: (T, 17, 3) world (Z up), metres; NaN where unknown.
        body: the body model (proxy or official).
        weights: (T, 17) confidence in [0, inf); 0 (or NaN keypoints) = ignored. Default 1.
        fps: frames per second (contact speeds).
        floor_z: the floor height when known (nothing goes below it), else None.
        config: weights and schedule.
        betas: (10,) keep this shape fixed instead of estimating it.
        rays: the keypoints' 2D observations as camera rays in the same world, ``(origins (T, 3),
            unit directions (T, 17, 3), weights (T, 17))``: each fitted keypoint is also drawn
            towards its ray (robust distance, ``config.w_rays``, ``config.ray_sigma``), so the body
            stays on what the camera saw where the 3D targets are unsure. None: no such term.
        progress, cancel: see :mod:`anylift.progress` (stage ``"fit SMPL"``).
    Returns:
        :class:`SmplFit`.
    """
    cfg = config or SmplFitConfig()
    kp = np.asarray(keypoints3d, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[1:] != (17, 3) or kp.shape[0] < 1:
        raise InputError(f"got shape {kp.shape}", field="keypoints3d", expected="(T, 17, 3) with T >= 1")
    w = np.ones(kp.shape[:2]) if weights is None else np.asarray(weights, dtype=np.float64).copy()
    finite = np.isfinite(kp).all(-1)
    w = np.where(finite & np.isfinite(w), w, 0.0)
    kp = np.where(finite[..., None], kp, 0.0)
    t_len = kp.shape[0]
    if rays is not None:
        origins, dirs, ray_w = (np.asarray(a, dtype=np.float64) for a in rays)
        if origins.shape != (t_len, 3) or dirs.shape != (t_len, 17, 3) or ray_w.shape != (t_len, 17):
            raise InputError(
                f"got shapes {origins.shape}, {dirs.shape}, {ray_w.shape}",
                field="rays",
                expected=f"({t_len}, 3), ({t_len}, 17, 3), ({t_len}, 17)",
            )
        ok = np.isfinite(dirs).all(-1) & np.isfinite(origins).all(-1)[:, None] & np.isfinite(ray_w)
        rays = (np.nan_to_num(origins), np.nan_to_num(dirs), np.where(ok, ray_w, 0.0))
    # One thread: the same result whatever the machine's thread count (sums in one order).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if t_len <= FIT_CHUNK:
            return _fit_clip(kp, w, body, fps, floor_z, cfg, betas, rays, progress, cancel)
        # Long clips: chunks overlapping by FIT_OVERLAP frames, joined at the overlap's middle;
        # the first chunk's shape is kept for the rest (bounded memory, linear time).
        stride = FIT_CHUNK - FIT_OVERLAP
        starts = list(range(0, t_len - FIT_OVERLAP, stride))
        parts: list[tuple[int, int, SmplFit]] = []
        for i, start in enumerate(starts):
            end = min(start + FIT_CHUNK, t_len)
            part = slice(start, end)

            def relay(stage, done, total, i=i):
                report(progress, stage, i * total + done, len(starts) * total)

            fit = _fit_clip(
                kp[part], w[part], body, fps, floor_z, cfg, betas,
                None if rays is None else tuple(a[part] for a in rays), relay if progress else None, cancel,
            )  # fmt: skip
            betas = fit.betas
            parts.append((start, end, fit))
        return _join(parts, t_len)
    finally:
        torch.set_num_threads(threads)


def _join(parts: list[tuple[int, int, SmplFit]], t_len: int) -> SmplFit:
    """Chunk fits (start, end, fit) -> one, each frame from the chunk whose middle is nearest."""
    keep = []
    for i, (start, end, _) in enumerate(parts):
        lo = start if i == 0 else (start + parts[i - 1][1]) // 2
        hi = end if i == len(parts) - 1 else (parts[i + 1][0] + end) // 2
        keep.append((lo - start, hi - start))
    fields = ("global_orient", "body_pose", "transl", "joints", "keypoints3d")
    cat = {
        f: np.concatenate([getattr(fit, f)[a:b] for (_, _, fit), (a, b) in zip(parts, keep)]) for f in fields
    }
    frames = np.array([b - a for a, b in keep], dtype=np.float64)
    error = float((np.array([fit.final_error for _, _, fit in parts]) * frames).sum() / frames.sum())
    losses = {k: float(np.mean([fit.losses.get(k, 0.0) for _, _, fit in parts])) for k in parts[0][2].losses}
    return SmplFit(betas=parts[0][2].betas, final_error=error, losses=losses, **cat)


def _fit_clip(kp, w, body, fps, floor_z, cfg, betas, rays, progress, cancel) -> SmplFit:
    """:func:`fit_smpl` on one chunk (validated (T, 17, 3) targets, (T, 17) weights)."""
    t_len = kp.shape[0]

    dtype = torch.float32
    layer = KeypointLayer(body).to(dtype=dtype)
    with torch.no_grad():
        fixed_betas = (
            None if betas is None else torch.as_tensor(np.asarray(betas)[None, :NUM_BETAS], dtype=dtype)
        )
        zero = torch.zeros(1, 3, dtype=dtype)
        _, rest_kp = layer(
            fixed_betas if fixed_betas is not None else torch.zeros(1, NUM_BETAS, dtype=dtype),
            torch.as_tensor(ZUP_REST_GLOBAL_ORIENT[None], dtype=dtype),
            torch.zeros(1, 69, dtype=dtype),
            zero,
        )
    rest_kp = rest_kp[0].double().numpy()
    torso_valid = (w[:, list(TORSO)] > 0).all(1)
    rot = _kabsch_orient(rest_kp[list(TORSO)], kp[:, list(TORSO)], torso_valid)
    # Orientations composed with the upright rest orientation.
    orient = Rotation.from_matrix(rot) * Rotation.from_rotvec(ZUP_REST_GLOBAL_ORIENT)
    # transl so the hip midpoint lands on the target's: rotation is about the pelvis joint J0.
    with torch.no_grad():
        rest_joints = layer.j_template.double().numpy()
    j0 = rest_joints[0]
    hips_rest = rest_kp[[L_HIP, R_HIP]].mean(0)  # upright rest, pelvis at j0 (transl 0)
    hip_target = kp[:, [L_HIP, R_HIP]].mean(1)
    hips_ok = (w[:, [L_HIP, R_HIP]] > 0).all(1)
    if not hips_ok.all():
        good = np.flatnonzero(hips_ok) if hips_ok.any() else np.flatnonzero(torso_valid)
        nearest = good[np.abs(np.arange(t_len)[:, None] - good[None]).argmin(1)]
        hip_target = hip_target[nearest]
    transl0 = hip_target - (np.einsum("tij,j->ti", rot, hips_rest - j0) + j0)

    go = torch.tensor(orient.as_rotvec(), dtype=dtype, requires_grad=True)
    init_pose = np.zeros((t_len, 69))
    if cfg.analytic_init:
        init_pose = limb_pose(orient.as_matrix(), rest_joints, np.asarray(layer.parents), kp, w > 0)
    bp = torch.tensor(init_pose, dtype=dtype, requires_grad=True)
    tr = torch.tensor(transl0, dtype=dtype, requires_grad=True)
    be = (
        fixed_betas.clone() if fixed_betas is not None else torch.zeros(1, NUM_BETAS, dtype=dtype)
    ).requires_grad_(fixed_betas is None)
    target = torch.tensor(kp, dtype=dtype)
    wt = torch.tensor(w, dtype=dtype)
    wsum = wt.sum().clamp_min(1e-6)
    contact = torch.tensor(contact_labels(kp, w, fps, cfg.contact_height, cfg.contact_speed), dtype=dtype)
    floor = None if floor_z is None else float(floor_z)
    use_rays = rays is not None and cfg.w_rays > 0 and float(rays[2].sum()) > 0
    if use_rays:
        origin, direction, ray_w = (torch.tensor(a, dtype=dtype) for a in rays)
        ray_wsum = ray_w.sum()

    def losses(stage: int) -> dict[str, torch.Tensor]:
        joints, kps = layer(be, go, bp, tr)
        d2 = ((kps - target) ** 2).sum(-1)
        out = {"keypoints": (wt * d2).sum() / wsum}
        if use_rays:
            v = kps - origin[:, None]
            off = v - (v * direction).sum(-1, keepdim=True) * direction  # from the ray to the point
            out["rays"] = cfg.w_rays * (ray_w * gmof((off**2).sum(-1), cfg.ray_sigma)).sum() / ray_wsum
        if t_len >= 3:
            acc = joints[2:] - 2 * joints[1:-1] + joints[:-2]
            out["smooth"] = cfg.w_smooth * (acc**2).sum(-1).mean() / cfg.w_keypoints
        out["betas"] = cfg.w_betas * (be**2).sum()
        if stage == 2:
            out["pose"] = cfg.w_pose * pose_cost(bp).mean()
            out["limits"] = cfg.w_limits * joint_limit_cost(bp).mean()
            if t_len >= 2 and cfg.w_contact > 0:
                # Per keypoint-and-frame like the data term, so a few contact frames cannot outweigh it.
                out["contact"] = cfg.w_contact * foot_slide_cost(joints, contact) / (17 * t_len)
            if floor is not None:
                feet = joints[:, [SMPL_L_ANKLE, SMPL_R_ANKLE]]
                toes = joints[:, [SMPL_L_FOOT, SMPL_R_FOOT]]
                low = torch.cat([feet[..., 2], toes[..., 2]], dim=1)
                out["floor"] = cfg.w_floor * (torch.relu(floor - low) ** 2).mean()
        return out

    # Stage 1: root and shape; stage 2: everything. L-BFGS (SciPy's, :mod:`.optimize`): it
    # converges in far fewer evaluations than Adam on this smooth least-squares problem. Losses
    # are in m^2 (~1e-6 near the optimum): scaled up so the tolerances do not stop it early.
    total_iters = cfg.stage1_iterations + cfg.stage2_iterations

    def progress_from(offset: int):
        return lambda n: (
            report(progress, "fit SMPL", min(offset + n, total_iters), total_iters) if n % 10 == 0 else None
        )

    if cfg.stage1_iterations > 0:
        params = [p for p in (go, tr, be) if p.requires_grad]
        lbfgs(params, lambda: sum(losses(1).values()), cfg.stage1_iterations, scale=LOSS_SCALE,
              cancel=cancel, on_evaluation=progress_from(0))  # fmt: skip
    if cfg.stage2_iterations > 0:
        params = [p for p in (go, tr, be, bp) if p.requires_grad]
        lbfgs(params, lambda: sum(losses(2).values()), cfg.stage2_iterations, scale=LOSS_SCALE,
              cancel=cancel, on_evaluation=progress_from(cfg.stage1_iterations))  # fmt: skip
    report(progress, "fit SMPL", total_iters, total_iters)

    with torch.no_grad():
        final = {k: float(v) for k, v in losses(2).items()}
        joints, kps = layer(be, go, bp, tr)
        err = torch.sqrt(((kps - target) ** 2).sum(-1))
        final_error = float((wt * err).sum() / wsum)
    return SmplFit(
        betas=be.detach()[0].double().numpy().copy(),
        global_orient=go.detach().double().numpy().copy(),
        body_pose=bp.detach().double().numpy().copy(),
        transl=tr.detach().double().numpy().copy(),
        joints=joints.double().numpy().copy(),
        keypoints3d=kps.double().numpy().copy(),
        final_error=final_error,
        losses=final,
    )
