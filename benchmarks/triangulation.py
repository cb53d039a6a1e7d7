"""Time triangulation of 300 frames x 17 joints x 5 views (DLT and robust, numpy and torch).

Usage: python benchmarks/triangulation.py [--repeats N] [--threads N] [--device cpu|cuda]

Prints the median wall time of several runs per variant and the mean error against the
synthetic ground truth (1 px noise; one view with 40 px outliers for the robust line).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from anylift.geometry import project, projection_matrices, triangulate, triangulate_robust

FRAMES, JOINTS, VIEWS = 300, 17, 5


def _ring(num_views: int, radius: float = 4.0) -> np.ndarray:
    out = []
    for a in np.linspace(0.0, 2 * np.pi, num_views, endpoint=False):
        centre = np.array([radius * np.cos(a), radius * np.sin(a), 1.2])
        z = np.array([0.0, 0.0, 1.0]) - centre
        z /= np.linalg.norm(z)
        x = np.cross(z, [0.0, 0.0, 1.0])
        x /= np.linalg.norm(x)
        m = np.eye(4)
        m[:3, :3] = np.stack([x, np.cross(z, x), z])
        m[:3, 3] = -m[:3, :3] @ centre
        out.append(m)
    return np.stack(out)


def _median_time(fn, repeats: int, sync=lambda: None) -> float:
    fn()  # warm-up
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    k = np.array([[1000.0, 0.0, 960.0], [0.0, 1000.0, 540.0], [0.0, 0.0, 1.0]])
    w2c = _ring(VIEWS)
    proj = projection_matrices(k, w2c)
    truth = rng.normal(size=(FRAMES, JOINTS, 3)) * [0.3, 0.3, 0.5] + [0.0, 0.0, 1.0]
    uv = project(truth[None], k, w2c[:, None]) + rng.normal(size=(VIEWS, FRAMES, JOINTS, 2))
    uv_outlier = uv.copy()
    uv_outlier[2] += rng.normal(size=uv[2].shape) * 40.0
    conf = rng.uniform(0.5, 1.0, size=uv.shape[:-1])

    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    print(
        f"triangulation: {FRAMES} frames x {JOINTS} joints x {VIEWS} views, median of {args.repeats} runs, "
        f"torch threads {args.threads}, device {device}"
    )
    for name, fn in (("DLT", triangulate), ("robust (IRLS, 10 it.)", triangulate_robust)):
        data = uv_outlier if fn is triangulate_robust else uv
        cases = [("numpy float64", (data, conf, proj), lambda x: x)]
        for dtype in (torch.float64, torch.float32):
            tensors = tuple(torch.as_tensor(a, dtype=dtype, device=device) for a in (data, conf, proj))
            cases.append(
                (f"torch {str(dtype).removeprefix('torch.')}", tensors, lambda x: x.double().cpu().numpy())
            )
        for label, inputs, to_np in cases:
            seconds = _median_time(
                lambda fn=fn, inputs=inputs: fn(*inputs),
                args.repeats,
                sync if label.startswith("torch") else (lambda: None),
            )
            err = np.linalg.norm(to_np(fn(*inputs)) - truth, axis=-1).mean()
            print(f"  {name:22s} {label:14s} {seconds * 1e3:8.2f} ms   mean error {err * 1e3:6.2f} mm")
    dlt_err = np.linalg.norm(triangulate(uv_outlier, conf, proj) - truth, axis=-1).mean()
    print(f"  (plain DLT on the outlier data: mean error {dlt_err * 1e3:.2f} mm)")


if __name__ == "__main__":
    main()
