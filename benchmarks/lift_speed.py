"""End-to-end speed of `lift()` on this machine's CPU: a 300-frame clip, wall time per stage.

The clip is a training mocap clip (looped to 300 frames) seen through a moving camera; the
model is the shipped default checkpoint (or the tiny untrained test size with ``--tiny``), with
the pipeline's default steps unless ``--steps`` says otherwise. Prints seconds per stage, the
denoiser's own compute (time inside its forward calls) and the ratio total / denoiser.

    python benchmarks/lift_speed.py [--frames 300] [--steps N] [--samples S] [--threads 2] [--tiny]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from anylift.data.mocap import load_clip
from anylift.data.trajectories import sample_trajectory
from anylift.geometry.camera import project
from anylift.io.keypoints import Keypoints2D
from anylift.models import DenoiserConfig, build_model, save_checkpoint
from anylift.pipeline import lift_with_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--steps", type=int, default=None, help="DDIM steps (default: the pipeline's)")
    parser.add_argument("--samples", type=int, default=None, help="default: the pipeline's")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clip", default="dance_a")
    parser.add_argument("--tiny", action="store_true", help="the tiny test model instead of the default size")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    clip = load_clip(args.clip)
    idx = np.arange(args.frames) % clip.num_frames
    pts = clip.keypoints3d[idx]
    cam = sample_trajectory(np.random.default_rng(0), len(pts), pts[:, [11, 12]].mean(1))
    uv = project(pts, cam.K, cam.world_to_camera)
    kp = Keypoints2D(np.concatenate([uv, np.ones_like(uv[..., :1])], -1), fps=30.0, image_size=cam.image_size)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = None  # the shipped default
        if args.tiny:
            ckpt = save_checkpoint(Path(tmp) / "mv.pt", build_model(DenoiserConfig.tiny("multi_view")))
        given = {} if args.samples is None else {"samples": args.samples}
        rep = lift_with_report(kp, cam, checkpoint=ckpt, steps=args.steps, **given)
    total = rep.timings["total"]
    plan = f"{rep.num_windows} windows x {rep.num_views} views x {rep.window} frames"
    print(f"lift: {args.frames} frames, {plan}, "
          f"{rep.steps} DDIM steps, {rep.samples} sample(s), {args.threads} thread(s), "
          f"model {'tiny untrained' if args.tiny else 'shipped default'}")  # fmt: skip
    for stage, seconds in rep.timings.items():
        if stage != "total":
            print(f"  {stage:<12} {seconds:8.2f} s  ({100 * seconds / total:5.1f} %)")
    print(f"  {'total':<12} {total:8.2f} s")
    print(f"denoiser compute: {rep.denoiser_seconds:.2f} s in {rep.denoiser_calls} calls; "
          f"total / denoiser = {total / max(rep.denoiser_seconds, 1e-9):.2f}")  # fmt: skip
    diffusion = rep.timings.get("diffusion", 0.0)
    print(f"sampling overhead (hooks, updates): {diffusion - rep.denoiser_seconds:.2f} s")


if __name__ == "__main__":
    main()
