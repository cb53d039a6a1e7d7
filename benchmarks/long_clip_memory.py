"""Peak memory and time of `anylift lift` against clip length (issue 15: bounded memory).

For each length N, a training clip (dance_a, looped with its root carried over) is seen through a
moving training-split camera, written as the public keypoints and camera files, and lifted by the
real command line in a fresh process under ``/usr/bin/time -v`` (maximum resident set size, wall
time). Memory should stay flat beyond the result arrays themselves (the sampler runs windows in
chunks, the SMPL fit runs in chunks of 1200 frames) and time should grow in proportion to N.

    .venv/bin/python benchmarks/long_clip_memory.py [--frames 3000 18000] [--steps N] [--method anylift]

Target: 18,000 frames (10 minutes at 30 fps) in < 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def write_inputs(folder: Path, frames: int) -> tuple[Path, Path]:
    from anylift.data.augment import loop_sequence
    from anylift.data.mocap import load_clip
    from anylift.data.trajectories import sample_trajectory
    from anylift.geometry.camera import project
    from anylift.io.cameras import write_camera
    from anylift.io.keypoints import Keypoints2D, write_keypoints

    clip = load_clip("dance_a")
    points = loop_sequence(clip.keypoints3d, frames, clip.loop, np.random.default_rng(0))
    camera = sample_trajectory(np.random.default_rng(1), frames, points[:, [11, 12]].mean(1), mode_prob=0.0)
    uv = project(points, camera.K, camera.world_to_camera)
    kp = Keypoints2D(np.concatenate([uv, np.full((*uv.shape[:2], 1), 0.9)], -1), fps=30.0,
                     image_size=camera.image_size)  # fmt: skip
    write_keypoints(folder / "keypoints.json", kp)
    write_camera(folder / "camera.json", camera)
    return folder / "keypoints.json", folder / "camera.json"


def measure(frames: int, steps: int | None, method: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        kp, cam = write_inputs(Path(tmp), frames)
        cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "anylift", "lift", str(kp), "--camera", str(cam),
               "--out", str(Path(tmp) / "result.npz"), "--method", method, "--progress", "none"]  # fmt: skip
        if steps:
            cmd += ["--steps", str(steps)]
        run = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        if run.returncode != 0:
            raise SystemExit(f"anylift lift failed on {frames} frames:\n{run.stderr[-2000:]}")
        peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", run.stderr).group(1)
        seconds = sum(float(p) * 60**i for i, p in enumerate(reversed(wall.split(":"))))
        return {"frames": frames, "peak_mb": peak_kb / 1024, "seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[3000, 18000])
    parser.add_argument("--steps", type=int, help="DDIM steps (default: the pipeline's)")
    parser.add_argument("--method", default="anylift", choices=["anylift", "smplify"])
    parser.add_argument("--out", type=Path, default=REPO / "out" / "benchmarks" / "long_clip_memory.json")
    args = parser.parse_args()
    rows = []
    print("| frames | peak memory MB | wall s | s per 1000 frames |\n|---|---|---|---|")
    for frames in args.frames:
        row = measure(frames, args.steps, args.method)
        rows.append(row)
        per_1000 = 1000 * row["seconds"] / frames
        print(f"| {frames} | {row['peak_mb']:.0f} | {row['seconds']:.0f} | {per_1000:.1f} |", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
