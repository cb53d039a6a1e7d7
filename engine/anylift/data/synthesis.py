"""Multi-view data from single-view 2D sequences (AnyLift's "2D only" path, MVLift stage 2-3).

For each input sequence (2D keypoints of one moving camera, with its trajectory):

1. **SDS** (:func:`synthesize_views`): the V-1 virtual views of
   :func:`anylift.data.multiview.multiview_cameras` (the ring inference uses) are optimised with
   Adam. Each is pulled towards the single-view prior by score distillation
   (:func:`anylift.diffusion.sds_gradient`, with the view's own camera condition and the epipolar
   lines of the input keypoints as the line condition), and towards geometric consistency by the
   line loss (:func:`anylift.models.line_loss`) between adjacent virtual views and between each
   virtual view and the input view (both directions of each pair). The input view is fixed.
   Initialisation: the input keypoints placed flat at the guessed depth and seen from each view.
2. **Triangulation** (:func:`triangulate_views`): robust DLT over all V views in model
   coordinates (projections ``diag(1/scale, 1/scale, 1) @ camera``).
3. **SMPL fit** (:func:`fit_and_reproject`): :func:`anylift.fitting.smpl_fit.fit_smpl` in a Z-up
   world (the frame-0 camera coordinates turned so ``down`` points to -Z), then the fitted
   COCO-17 keypoints reprojected into 4 evenly spaced cameras (input + 3 ring views).

The results go into a :class:`anylift.data.multiview.MultiViewDataset` file that
:class:`anylift.data.multiview.MultiViewWindows` reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from anylift import representation as rep
from anylift.data.multiview import model_points, multiview_cameras, world_down
from anylift.diffusion import sds_gradient
from anylift.diffusion.schedule import NoiseSchedule
from anylift.geometry.camera import invert_rigid, relative_to_first, rotation_between, up_vector
from anylift.geometry.triangulation import projection_matrices, triangulate_robust
from anylift.models import SingleViewCondition, line_loss


@dataclass
class ViewSequence:
    """One input sequence for synthesis, already in model coordinates.

    Attributes:
        points: (T, 17, 2) global model coordinates (filled where masked).
        mask: (T, 17) bool observed.
        scale: the sequence's scale (:class:`anylift.representation.ImageNormalisation`).
        relative_w2c: (T, 4, 4) the camera relative to its frame 0.
        K: (3, 3) pixels; image_size: (W, H).
        down: (3,) the world's down in frame-0 camera coordinates, or None (camera +y).
        name: where it came from.
    """

    points: np.ndarray
    mask: np.ndarray
    scale: float
    relative_w2c: np.ndarray
    K: np.ndarray
    image_size: tuple[int, int]
    down: np.ndarray | None
    name: str = ""

    @classmethod
    def from_pixels(
        cls, keypoints: np.ndarray, K: np.ndarray, world_to_camera: np.ndarray, image_size, *,
        up: np.ndarray | None = None, name: str = "",
    ) -> ViewSequence:  # fmt: skip
        """From pixels (T, 17, 3 or 2; NaN = missing) and a camera (K (3,3), world_to_camera (T,4,4)).

        ``up``: the world's up (3,) in the camera's world; None = :func:`up_vector` of the camera.
        """
        nk = rep.normalise_keypoints(keypoints, K)
        w2c = np.asarray(world_to_camera, dtype=np.float64)
        up = up_vector(w2c) if up is None else up
        return cls(
            nk.points.astype(np.float64), nk.mask, nk.normalisation.scale, relative_to_first(w2c),
            np.asarray(K, dtype=np.float64), tuple(int(v) for v in image_size), world_down(w2c[0], up), name,
        )  # fmt: skip


@dataclass(frozen=True)
class SynthesisConfig:
    """Settings of :func:`synthesize_views`.

    Attributes:
        num_views: V, input view + V-1 virtual views evenly spaced on the ring.
        iterations: Adam steps; lr: Adam learning rate (model units), cosine-decayed to lr / 10.
        line_weight, sds_weight: weights of the line loss and the SDS term (both per-point means).
            The L1 line loss keeps pushing while the other views are still wrong, so a weight of 1
            slows convergence (with an exact prior: view error 0.037 after 120 iterations vs 0.001
            at 0.3).
        n_start, n_end: SDS step range (fractions of N) at the first and last iteration,
            interpolated linearly (wide at first, low-noise at the end to settle details).
        weighting: SDS weighting (``"snr"``: an x0-space residual, commensurate with the line loss).
        init_noise: std of noise added to the initial views (model units).
    """

    num_views: int = 4
    iterations: int = 200
    lr: float = 0.02
    line_weight: float = 0.3
    sds_weight: float = 1.0
    n_start: tuple[float, float] = (0.02, 0.98)
    n_end: tuple[float, float] = (0.02, 0.3)
    weighting: str = "snr"
    init_noise: float = 0.0


def _pairs(num_views: int) -> list[tuple[int, int]]:
    """View pairs tied by the line loss: (0, v) for every virtual v, and adjacent virtual views."""
    return [(0, v) for v in range(1, num_views)] + [(v, v + 1) for v in range(1, num_views - 1)]


def flat_guess(seq: ViewSequence, cameras: np.ndarray) -> np.ndarray:
    """(V, T, 17, 2) initial views: the input keypoints at the guessed depth, seen by each camera."""
    depth = rep.BODY_SIZE_M / seq.scale
    rays = np.concatenate([seq.points * seq.scale, np.ones((*seq.points.shape[:-1], 1))], axis=-1)
    c2w = invert_rigid(seq.relative_w2c)
    world = np.einsum("tij,tkj->tki", c2w[:, :3, :3], depth * rays) + c2w[:, None, :3, 3]
    views, _ = model_points(world, cameras, seq.scale)
    return views


def synthesize_views(
    denoise,
    schedule: NoiseSchedule,
    sequences: list[ViewSequence],
    config: SynthesisConfig,
    *,
    generator: torch.Generator | None = None,
    init: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Optimise the virtual views of a batch of equally long sequences.

    Args:
        denoise: the single-view denoiser, ``denoise(x_n (B', T, 17, 2), n, SingleViewCondition)``;
            the batch is the sequences x virtual views, flattened sequence-major
            (row ``b * (V-1) + (v-1)``).
        schedule: its noise schedule.
        sequences: B inputs with the same T.
        init: (B, V-1, T, 17, 2) global model coordinates to start from instead of
            :func:`flat_guess`.

    Returns:
        ``views`` (B, V, T, 17, 2) global model coordinates (view 0 = input), ``cameras``
        (B, V, T, 4, 4) in frame-0 coordinates, ``line`` (B,) final mean line distance.
    """
    v_all = config.num_views
    cams = np.stack(
        [multiview_cameras(s.relative_w2c, s.points, s.scale, v_all, down=s.down) for s in sequences]
    )
    b, t = len(sequences), sequences[0].points.shape[0]
    if init is None:
        init = np.stack([flat_guess(s, c)[1:] for s, c in zip(sequences, cams)])
        if config.init_noise > 0:
            noise = torch.randn(init.shape, generator=generator, dtype=torch.float64).numpy()
            init = init + config.init_noise * noise
    f32 = torch.float32
    y = torch.tensor(rep.to_root_local(np.asarray(init, dtype=np.float64)), dtype=f32, requires_grad=True)
    inputs = torch.tensor(np.stack([s.points for s in sequences]), dtype=f32)  # (B, T, 17, 2)
    in_mask = torch.tensor(np.stack([s.mask for s in sequences]), dtype=f32)
    # Fundamental matrices per sequence and pair, (B, T, 3, 3) each direction.
    fund = {}
    for i, j in _pairs(v_all):
        f = np.stack(
            [rep.fundamental_matrices(c[i], s.scale, c[j], s.scale) for s, c in zip(sequences, cams)]
        )
        fund[(i, j)] = torch.tensor(f, dtype=f32)
        fund[(j, i)] = fund[(i, j)].transpose(-1, -2)
    # Single-view conditions of the virtual views: own (static) camera, lines of the input keypoints.
    camera = np.stack(
        [
            rep.camera_condition(c[v], s.K, s.image_size, s.scale)
            for s, c in zip(sequences, cams)
            for v in range(1, v_all)
        ]
    )
    cond_lines = torch.stack(
        [rep.lines_between_views(inputs[:, None], fund[(0, v)][:, None])[:, 0] for v in range(1, v_all)], 1
    )
    cond = SingleViewCondition(
        torch.tensor(camera, dtype=f32),
        cond_lines.reshape(b * (v_all - 1), t, 17, 3),
        torch.ones(b * (v_all - 1), t, 17),
    )
    input_rl = rep.to_root_local(inputs)
    opt = torch.optim.Adam([y], lr=config.lr)

    def view(k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(root/local, global, mask weights) of view k."""
        if k == 0:
            return input_rl, inputs, in_mask
        rl = y[:, k - 1]
        return rl, rep.from_root_local(rl), torch.ones_like(in_mask)

    def lines_loss() -> torch.Tensor:
        total = y.new_zeros(())
        for i, j in _pairs(v_all):
            rl_i, g_i, m_i = view(i)
            rl_j, g_j, m_j = view(j)
            li = rep.lines_between_views(g_i, fund[(i, j)])
            lj = rep.lines_between_views(g_j, fund[(j, i)])
            total = total + line_loss(rl_j, li, m_i * m_j) + line_loss(rl_i, lj, m_i * m_j)
        return total / (2 * len(_pairs(v_all)))

    for k in range(config.iterations):
        u = k / max(config.iterations - 1, 1)
        lo = (1 - u) * config.n_start[0] + u * config.n_end[0]
        hi = (1 - u) * config.n_start[1] + u * config.n_end[1]
        flat = y.detach().reshape(b * (v_all - 1), t, 17, 2)
        grad = sds_gradient(
            denoise, flat, cond, schedule, n_range=(lo, hi), weighting=config.weighting, generator=generator
        ).reshape(y.shape)
        # Cosine decay to a tenth: the L1 line loss keeps a constant-size gradient near its minimum.
        for group in opt.param_groups:
            group["lr"] = config.lr * (0.1 + 0.45 * (1.0 + np.cos(np.pi * u)))
        opt.zero_grad(set_to_none=True)
        loss = config.sds_weight * (grad * y).sum() / y[..., 0].numel() + config.line_weight * lines_loss()
        loss.backward()
        opt.step()
    with torch.no_grad():
        final_line = []
        for s_idx in range(b):
            total = 0.0
            for i, j in _pairs(v_all):
                _, g_i, m_i = view(i)
                rl_j, _, m_j = view(j)
                li = rep.lines_between_views(g_i[s_idx], fund[(i, j)][s_idx])
                total += float(line_loss(rl_j[s_idx], li, (m_i * m_j)[s_idx]))
            final_line.append(total / len(_pairs(v_all)))
        views = torch.cat([inputs[:, None], rep.from_root_local(y)], dim=1)
    return {"views": views.double().numpy(), "cameras": cams, "line": np.asarray(final_line)}


def triangulate_views(
    views: np.ndarray, cameras: np.ndarray, scale: float, weights: np.ndarray | None = None
) -> np.ndarray:
    """(T, 17, 3) 3D keypoints (frame-0 camera coordinates) from V views in model coordinates.

    Args:
        views: (V, T, 17, 2) global model coordinates; cameras: (V, T, 4, 4); scale: shared scale.
        weights: (V, T, 17) confidences (e.g. the input view's mask), default ones.
    """
    k_model = np.diag([1.0 / scale, 1.0 / scale, 1.0])
    proj = projection_matrices(k_model, cameras)
    # Threshold in model units (a body is ~1 unit tall): beyond 5% of the body a view is an outlier.
    points = triangulate_robust(views, weights, proj, threshold=0.05, fill=np.nan)
    if np.isnan(points).any():  # a point seen by < 2 views: hold the nearest frame's value
        for k in range(points.shape[1]):
            bad = np.isnan(points[:, k]).any(-1)
            if bad.all():
                points[:, k] = np.nanmean(points, axis=1)[:, :]
            elif bad.any():
                good = np.flatnonzero(~bad)
                near = good[np.abs(np.arange(len(bad))[:, None] - good[None]).argmin(1)]
                points[bad, k] = points[near[bad], k]
    return points


def fit_and_reproject(
    points3d: np.ndarray,
    seq: ViewSequence,
    body,
    *,
    fps: float = 30.0,
    num_views: int = 4,
    fit_config=None,
) -> dict[str, np.ndarray]:
    """SMPL fit of triangulated keypoints, reprojected into ``num_views`` evenly spaced cameras.

    Args:
        points3d: (T, 17, 3) frame-0 camera coordinates (world units, metres when the guessed
            depth is right). seq: the input sequence. body: :class:`anylift.body.BodyModel`.

    Returns:
        ``keypoints3d`` (T, 17, 3) the fitted body's COCO-17 keypoints in frame-0 coordinates,
        ``views2d`` (V, T, 17, 2) global model coordinates, ``cameras`` (V, T, 4, 4),
        ``fit_error`` () metres.
    """
    from anylift.fitting.smpl_fit import fit_smpl

    down = np.array([0.0, 1.0, 0.0]) if seq.down is None else np.asarray(seq.down, dtype=np.float64)
    to_zup = rotation_between(-down, np.array([0.0, 0.0, 1.0]))
    fit = fit_smpl(points3d @ to_zup.T, body, fps=fps, config=fit_config)
    fitted = fit.keypoints3d @ to_zup  # back: R^T p
    cams = multiview_cameras(seq.relative_w2c, seq.points, seq.scale, num_views, down=seq.down)
    views, _ = model_points(fitted, cams, seq.scale)
    return {"keypoints3d": fitted, "views2d": views, "cameras": cams, "fit_error": np.array(fit.final_error)}


def mocap_sequences(count: int, seed: int, config) -> list[ViewSequence]:
    """``count`` simulated single-view input sequences from the training clips (3D discarded).

    Each is an augmented window seen by a video-like camera (mostly frontal, 70/30 real-like /
    predefined trajectory; :func:`anylift.data.windows.video_like_camera`), as 2D pixels.

    Args:
        config: :class:`anylift.data.windows.WindowConfig` (clips, window length, augmentation).
    """
    from anylift.data.windows import MotionBank, observe, step_rng, video_like_camera

    bank = MotionBank(config.clips, config.fps)
    out = []
    for i in range(count):
        rng = step_rng(seed, 3, i)
        motion = bank.window(rng, config.window, config.augment)
        cam = video_like_camera(motion, rng, config)
        px = observe(motion, cam.K, cam.world_to_camera, rng, config.keypoint_drop)
        out.append(
            ViewSequence.from_pixels(
                px, cam.K, cam.world_to_camera, cam.image_size, up=cam.up, name=f"mocap:{i}"
            )
        )
    return out


def file_sequences(pairs: list[tuple[str, str]], frames: int) -> list[ViewSequence]:
    """Input sequences from (keypoints file, camera file) pairs, cut into windows of ``frames``.

    Non-overlapping windows; a tail shorter than ``frames`` is dropped. The world's up comes from the
    camera file (:func:`anylift.geometry.camera.up_vector`).
    """
    from anylift.io.cameras import check_frames_match, read_camera
    from anylift.io.keypoints import read_keypoints

    out = []
    for kp_path, cam_path in pairs:
        kp = read_keypoints(kp_path)
        cam = read_camera(cam_path)
        check_frames_match(kp, cam)
        size = cam.image_size or kp.image_size
        up = up_vector(cam)
        for start in range(0, kp.num_frames - frames + 1, frames):
            sl = slice(start, start + frames)
            out.append(
                ViewSequence.from_pixels(
                    kp.keypoints[sl], cam.K, cam.world_to_camera[sl], size, up=up, name=f"{kp_path}:{start}"
                )
            )
    return out


def synthesize_dataset(
    denoise,
    schedule: NoiseSchedule,
    sequences: list[ViewSequence],
    body,
    config: SynthesisConfig,
    *,
    batch: int = 8,
    fps: float = 30.0,
    output_views: int = 4,
    fit_config=None,
    seed: int = 0,
    progress=None,
):
    """SDS -> triangulation -> SMPL fit -> reprojection for every sequence: a MultiViewDataset.

    Args:
        denoise, schedule: the single-view model and its schedule.
        sequences: inputs of equal length T.
        body: :class:`anylift.body.BodyModel` for the fit.
        batch: sequences optimised together.
        output_views: cameras of the reprojection (input + ring), 4 = 90 degrees apart.
        progress: ``progress(stage, done, total)``.

    Returns:
        :class:`anylift.data.multiview.MultiViewDataset` (``path`` None).
    """
    from anylift.data.multiview import MultiViewDataset

    gen = torch.Generator().manual_seed(int(seed))
    kp3d, views2d, fit_err, line_res = [], [], [], []
    for start in range(0, len(sequences), batch):
        chunk = sequences[start : start + batch]
        res = synthesize_views(denoise, schedule, chunk, config, generator=gen)
        for k, seq in enumerate(chunk):
            weights = np.ones(res["views"].shape[1:4])
            weights[0] = seq.mask
            points = triangulate_views(res["views"][k], res["cameras"][k], seq.scale, weights)
            fitted = fit_and_reproject(
                points, seq, body, fps=fps, num_views=output_views, fit_config=fit_config
            )
            kp3d.append(fitted["keypoints3d"])
            views2d.append(fitted["views2d"])
            fit_err.append(float(fitted["fit_error"]))
            line_res.append(float(res["line"][k]))
        if progress is not None:
            progress("synthesize", min(start + batch, len(sequences)), len(sequences))
    return MultiViewDataset(
        keypoints3d=np.stack(kp3d),
        world_to_camera=np.stack([s.relative_w2c for s in sequences]),
        K=np.stack([s.K for s in sequences]),
        image_size=np.array([s.image_size for s in sequences]),
        down=np.stack([np.array([0.0, 1.0, 0.0]) if s.down is None else s.down for s in sequences]),
        views2d=np.stack(views2d),
        scale=np.array([s.scale for s in sequences]),
        fps=float(fps),
        info={
            "fit_error": np.array(fit_err),
            "line_residual": np.array(line_res),
            "source": np.array([s.name for s in sequences]),
        },
    )
