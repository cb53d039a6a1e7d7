"""Build the bundled example: the held-out ``cartwheel`` clip filmed by a moving camera.

Writes, in public formats (formats.md), into ``examples/out/`` (not committed: this script makes
them in ~30 s from the mocap clip shipped in the ``pybullet`` wheel):

- ``cartwheel_keypoints.json`` - ``anylift.keypoints/1``: COCO-17 2D keypoints on a 1920x1080
  video at 30 fps, with detector-like noise (3 px mean Gaussian, 2% gross errors with low
  scores) and 5% of the joint-frames dropped in occlusion bursts (score 0, null x/y);
- ``cartwheel_camera.json`` - ``anylift.camera/1``: the moving camera (test-split trajectory
  seed :data:`EXAMPLE_TRAJECTORY_SEED`: a handheld follow with a slow orbit, ~4 m of travel and
  ~45 degrees of turn over the clip), world Z up, metres;
- ``cartwheel_truth.npz`` - ``anylift.motion/1``: the truth (keypoints3d = the mocap keypoints;
  SMPL fields fitted to them, see :mod:`anylift.data.evaluation`).

    .venv/bin/python examples/make_example.py [--out-dir examples/out] [--force]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out"
CLIP = "cartwheel"
EXAMPLE_TRAJECTORY_SEED = 1


def example_paths(out_dir: Path = DEFAULT_OUT) -> dict[str, Path]:
    """The three example files: keys ``keypoints``, ``camera``, ``truth``."""
    out_dir = Path(out_dir)
    return {
        "keypoints": out_dir / f"{CLIP}_keypoints.json",
        "camera": out_dir / f"{CLIP}_camera.json",
        "truth": out_dir / f"{CLIP}_truth.npz",
    }


def build_example(
    out_dir: Path = DEFAULT_OUT, *, force: bool = False, quiet: bool = False
) -> dict[str, Path]:
    """Write the example files (kept when all three exist, unless ``force``); returns their paths."""
    paths = example_paths(out_dir)
    if not force and all(p.is_file() for p in paths.values()):
        return paths
    from anylift.data.evaluation import make_case
    from anylift.io.cameras import write_camera
    from anylift.io.keypoints import write_keypoints
    from anylift.io.motion import write_motion

    start = time.perf_counter()
    if not quiet:
        print(f"building the example ({CLIP}, moving camera {EXAMPLE_TRAJECTORY_SEED}) ...", flush=True)
    # Held-out clip: this is evaluation data, never seen in training.
    case = make_case(CLIP, EXAMPLE_TRAJECTORY_SEED, allow_heldout=True)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    write_keypoints(paths["keypoints"], case.keypoints)
    write_camera(paths["camera"], case.camera)
    write_motion(paths["truth"], case.truth)
    if not quiet:
        print(
            f"  {case.num_frames} frames, {case.keypoints.image_size[0]}x{case.keypoints.image_size[1]}, "
            f"{case.dropped.mean():.1%} joints dropped, {case.outliers.mean():.1%} gross errors, "
            f"truth SMPL fit {1000 * case.fit_error:.1f} mm from the mocap "
            f"({time.perf_counter() - start:.0f} s)"
        )
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="folder for the three files")
    parser.add_argument("--force", action="store_true", help="rebuild even if the files exist")
    args = parser.parse_args(argv)
    paths = build_example(args.out_dir, force=args.force)
    for key, path in paths.items():
        print(f"{key:10s} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
