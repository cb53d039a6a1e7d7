"""Build a bank of detected-2D training windows: the training clips' motions rendered in Blender
through training cameras, and what ``anylift detect``'s tracker finds in the renders.

Synthetic detector errors (:func:`anylift.data.windows.detector_errors`: jitter, gross errors,
left/right swaps) are independent of the pose. A real detector's are not: MediaPipe draws a torso
that leans towards the camera long and upright, and shrinks a body seen steeply from above onto
part of it. Those errors can only be learned from the detector itself. Each entry is

1. a window of an augmented training clip (:class:`anylift.data.windows.MotionBank`, the run
   config's augmentation; held-out clips are refused there) and a training camera trajectory
   (:func:`anylift.data.trajectories.sample_trajectory`, ``split="train"``, the config's camera
   range), drawn from ``(seed, entry index)``;
2. the proxy body fitted to the window, rendered in Blender (``benchmarks/render_test_video.py``'s
   scene) at :data:`RENDER_LONG_SIDE` pixels on the long side, in a subprocess;
3. :func:`anylift.video.people.detect_people`'s default person on the frames
   (``benchmarks/detected_2d.py``), in the camera's pixels.

Entries are written one file each (``entry_00012.npz``: ``keypoints3d`` (T, 17, 3) the window's
mocap keypoints, ``world_to_camera`` (T, 4, 4), ``K``, ``image_size``, ``detected`` (T, 17, 3)
``[x, y, score]``, NaN/0 where missed, ``clip``), so a stopped build resumes and two workers
(``--worker k --workers 2``) split the indices. About 2 s per frame on one core. Training reads
the folder with ``data.detected_bank`` (:class:`anylift.data.multiview.DetectedBank`).

    .venv/bin/python training/build_detected_bank.py --config training/configs/multi_view_detected.toml \\
        --out runs/detected_bank --count 40 [--worker 0 --workers 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

RENDER_LONG_SIDE = 640
"""Pixels on the render's long side: the camera-family benchmark's detected 2D renders 1920x1080
cases at 640x360."""
CHUNK = 3
"""Entries rendered per Blender subprocess (one start-up for several)."""


def _windows(config_path: Path):
    from anylift.data.multiview import MultiViewConfig
    from anylift.training.config import load_config

    return MultiViewConfig.from_dict(load_config(config_path).data).windows


def entry(windows, bank, seed: int, index: int):
    """(clip name, (T, 17, 3) keypoints, Camera) of entry ``index``: a pure function of (seed, index)."""
    from anylift.data import trajectories
    from anylift.data.augment import hip_mid
    from anylift.data.windows import step_rng

    rng = step_rng(seed, index)
    motion, clip = bank.window(rng, windows.window, windows.augment, with_name=True)
    camera = trajectories.sample_trajectory(
        rng, windows.window, hip_mid(motion), "train", windows.mode_prob, windows.fps, windows.camera_range
    )
    return clip, motion, camera


def _render_camera(camera):
    """``camera`` at :data:`RENDER_LONG_SIDE` pixels on the long side (what Blender renders)."""
    from detected_2d import scaled_camera

    return scaled_camera(camera, RENDER_LONG_SIDE / max(camera.image_size))


def _render(config_path: Path, seed: int, indices: list[int], into: Path) -> None:
    """Render entries ``indices`` into ``into/<index>/frames`` (the Blender subprocess's job)."""
    import render_test_video

    from anylift.data.windows import MotionBank

    windows = _windows(config_path)
    bank = MotionBank(windows.clips, windows.fps)
    for index in indices:
        _, motion, camera = entry(windows, bank, seed, index)
        small = _render_camera(camera)
        render_test_video.render(
            into / str(index), frames=len(motion), size=small.image_size, seed=index, fps=windows.fps,
            write_mp4=False, keypoints3d=motion, camera=small,
        )  # fmt: skip


def build(config_path: Path, out: Path, seed: int, indices: list[int]) -> None:
    """Render, detect and write the entries ``indices`` that ``out`` lacks."""
    from detected_2d import detect_frames

    from anylift.data.windows import MotionBank

    windows = _windows(config_path)
    bank = MotionBank(windows.clips, windows.fps)
    todo = [i for i in indices if not (out / f"entry_{i:05d}.npz").is_file()]
    out.mkdir(parents=True, exist_ok=True)
    for at in range(0, len(todo), CHUNK):
        chunk = todo[at : at + CHUNK]
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            listed = ",".join(map(str, chunk))
            argv = [sys.executable, str(Path(__file__).resolve()), "--config", str(config_path),
                    "--seed", str(seed), "--render-into", tmp, "--indices", listed]  # fmt: skip
            done = subprocess.run(
                argv, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True
            )
            if done.returncode != 0:
                raise RuntimeError(f"rendering entries {chunk} failed:\n{done.stderr[-2000:]}")
            for index in chunk:
                clip, motion, camera = entry(windows, bank, seed, index)
                detected = detect_frames(Path(tmp) / str(index) / "frames", camera, _render_camera(camera))
                path = out / f"entry_{index:05d}.npz"
                part = path.with_suffix(".part.npz")
                np.savez(
                    part, keypoints3d=motion, world_to_camera=camera.world_to_camera, K=camera.K,
                    image_size=np.array(camera.image_size), detected=detected, clip=np.str_(clip),
                )  # fmt: skip
                os.replace(part, path)
                seen = float((detected[..., 2] > 0).mean())
                print(f"entry {index} ({clip}, {camera.image_size[0]}x{camera.image_size[1]}): "
                      f"{seen:.0%} of the joint-frames detected", flush=True)  # fmt: skip
        print(f"  {len(chunk)} entries in {time.perf_counter() - start:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--config", type=Path, required=True, help="the training run's config (data settings)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "detected_bank")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--render-into", type=Path, help=argparse.SUPPRESS)  # the subprocess's job
    parser.add_argument("--indices", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.render_into is not None:
        _render(args.config, args.seed, [int(i) for i in args.indices.split(",")], args.render_into)
        return 0
    build(args.config, args.out, args.seed, list(range(args.worker, args.count, args.workers)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
