"""Small synthetic 2D motion windows for the model tests (no dependence on the data package)."""

import numpy as np
import torch

from anylift import representation as rep


def walking_windows(num: int, frames: int, seed: int = 0, num_points: int = 17) -> np.ndarray:
    """(num, frames, num_points, 2) global model coordinates: a stick body swaying and drifting."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-0.5, 0.5, (num_points, 2)) * np.array([0.4, 1.0])
    t = np.arange(frames)[:, None, None]
    out = []
    for _ in range(num):
        phase, speed, amp = rng.uniform(0, 2 * np.pi), rng.uniform(-0.03, 0.03), rng.uniform(0.02, 0.1)
        wobble = amp * np.sin(0.4 * t + phase + np.arange(num_points)[None, :, None])
        drift = np.concatenate([speed * t, 0.01 * np.sin(0.2 * t)], axis=-1)
        out.append(base + wobble + drift)
    return np.stack(out).astype(np.float32)


def single_view_batch(num: int, frames: int, seed: int = 0):
    """(x0 root/local (B,T,17,2), SingleViewCondition, mask (B,T,17), lines (B,T,17,3)) as torch."""
    from anylift.models import SingleViewCondition

    rng = np.random.default_rng(seed)
    glob = walking_windows(num, frames, seed)
    lines = np.stack([rep.training_lines(g, rng, 0.3)[0] for g in glob])
    w2c = np.broadcast_to(np.eye(4), (frames, 4, 4)).copy()
    cams = []
    for _ in range(num):
        w2c[:, 0, 3] = np.linspace(0, rng.uniform(-1, 1), frames)
        cams.append(rep.camera_condition(w2c, np.diag([1000.0, 1000.0, 1.0]), (1920, 1080), 0.3))
    mask = (rng.uniform(size=glob.shape[:3]) > 0.1).astype(np.float32)
    x0 = torch.from_numpy(rep.to_root_local(glob))
    cond = SingleViewCondition(
        torch.from_numpy(np.stack(cams)), torch.from_numpy(lines), torch.from_numpy(mask)
    )
    return x0, cond, torch.from_numpy(mask), torch.from_numpy(lines)
