"""Pick the thresholds that colour bones by pose spread (issue 16, item 4), on training motions.

For a few training-split cases (``make_case``, never the held-out clips) lifted with
``--samples 4``, every (frame, joint) gets its pose spread relative to body size
(``keypoints3d_pose_std / body_size``, :mod:`anylift.lifting.spread`) and its root-relative error
against the truth (as MPJPE: ``|(p - p_root) - (g - g_root)|``, metres). It prints

- the rank correlation (Spearman) of spread and error, pooled and per joint type;
- the error by decile of the spread;
- the mean error of joints below the LOW quantile (green: confident) and above the HIGH quantile
  (red: unsure) of the spread, and the relative spreads at those quantiles: the add-on's
  thresholds (``anylift_blender.baking.uncertainty.LOW`` / ``HIGH``).

    OMP_NUM_THREADS=1 python benchmarks/uncertainty_thresholds.py [--clips walk,jump] [--samples 4]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import spearmanr

from anylift.data.evaluation import make_case
from anylift.data.mocap import TRAIN_CLIPS
from anylift.fitting.smpl_fit import SmplFitConfig
from anylift.lifting.spread import body_size
from anylift.pipeline import lift

DEFAULT_CLIPS = ("walk", "jump", "dance_a", "punch", "kick", "spin")
LOW_QUANTILE, HIGH_QUANTILE = 0.5, 0.9


def measure(clips, samples: int, seed: int = 0):
    """Pooled (relative pose spread, root-relative error m, joint index) over all cases."""
    fit = SmplFitConfig(stage1_iterations=10, stage2_iterations=20)  # keypoints3d do not use the fit
    rel, err, joint = [], [], []
    for clip in clips:
        if clip not in TRAIN_CLIPS:
            raise SystemExit(f"{clip}: not a training clip (held-out clips are for benchmarks/accuracy.py)")
        case = make_case(clip, seed, fit_config=fit)
        start = time.perf_counter()
        m = lift(case.keypoints, case.camera, samples=samples, seed=seed, fit_config=fit)
        p, g = m.keypoints3d, case.truth.keypoints3d
        root_p, root_g = p[:, [11, 12]].mean(1, keepdims=True), g[:, [11, 12]].mean(1, keepdims=True)
        e = np.linalg.norm((p - root_p) - (g - root_g), axis=-1)
        r = m.keypoints3d_pose_std / body_size(p)
        print(
            f"{clip:16s} {m.num_frames:4d} frames {time.perf_counter() - start:5.1f} s  median spreads: "
            f"root {1000 * np.median(m.root_std):6.1f} mm, "
            f"pose {1000 * np.median(m.keypoints3d_pose_std):5.1f} mm, "
            f"total {1000 * np.median(m.keypoints3d_std):6.1f} mm; error {1000 * e.mean():5.1f} mm"
        )
        rel.append(r.ravel())
        err.append(e.ravel())
        joint.append(np.tile(np.arange(17), m.num_frames))
    return np.concatenate(rel), np.concatenate(err), np.concatenate(joint)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", default=",".join(DEFAULT_CLIPS))
    parser.add_argument("--samples", type=int, default=4)
    args = parser.parse_args()
    rel, err, joint = measure(args.clips.split(","), args.samples)
    # The hips define the root: their root-relative spread and error are small by construction.
    keep = ~np.isin(joint, (11, 12))
    rel, err, joint = rel[keep], err[keep], joint[keep]
    rho = spearmanr(rel, err).statistic
    per_joint = [spearmanr(rel[joint == j], err[joint == j]).statistic for j in set(joint.tolist())]
    print(f"\n{len(rel)} joint-frames (hips left out); Spearman(spread, error) pooled {rho:.2f}, "
          f"within a joint type median {np.nanmedian(per_joint):.2f}")  # fmt: skip
    edges = np.quantile(rel, np.linspace(0, 1, 11))
    print("decile of relative spread -> mean error (mm):")
    for i in range(10):
        sel = (rel >= edges[i]) & (rel <= edges[i + 1])
        print(f"  {edges[i]:.4f}-{edges[i + 1]:.4f}: {1000 * err[sel].mean():6.1f}")
    low, high = np.quantile(rel, [LOW_QUANTILE, HIGH_QUANTILE])
    green, yellow, red = err[rel <= low], err[(rel > low) & (rel < high)], err[rel >= high]
    print(f"\nLOW = {low:.4f}, HIGH = {high:.4f} of body size (quantiles {LOW_QUANTILE}, {HIGH_QUANTILE})")
    for label, e in (("green", green), ("yellow", yellow), ("red", red)):
        over = 100 * (e > 0.1).mean()
        print(f"{label:7s} joints: mean error {1000 * e.mean():.1f} mm, {over:.1f} % over 10 cm")


if __name__ == "__main__":
    main()
