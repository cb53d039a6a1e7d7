"""Speed benchmark: lift time for 300 frames on this CPU, accuracy against DDIM steps, default vs MVLift-like.

Three measurements in one run (same process, same machine state):

1. **Lift time for ``--frames`` (300) frames**: a held-out clip (``--timing-clip``, default
   ``getup_faceup``, the longest) resampled so it has exactly that many frames and then labelled
   30 fps (a slowed-down clip: the content does not change the cost), under a test-split moving
   camera, lifted with the default setting (``--steps``, default the pipeline's) - total wall
   time and the pipeline's per-stage times (:class:`anylift.pipeline.LiftReport`) - and with the
   SMPLify baseline for reference.
2. **MVLift-like setting** on the same input: ``--mvlift-steps`` (1000) denoising steps, the
   number of denoiser calls of MVLift's 1000-step DDPM sampling. The pipeline samples with DDIM
   (eta 0) and has no DDPM switch, so this is 1000 DDIM steps: the same network cost per step
   (the consistency hooks run at every step in both), which is what the time ratio measures.
   The ratio MVLift-like / default is printed.
3. **Accuracy against steps** (``--steps-list``, default 10 25 50 100 1000) on a held-out subset
   (``--clips`` x ``--seeds`` trajectories, as in ``benchmarks/accuracy.py``): MPJPE, PA-MPJPE,
   T_root (mm) and the diffusion time per clip. The suggested default is the fewest steps whose
   MPJPE and T_root are both within 5% (or 2 mm) of the most-steps result.

    .venv/bin/python benchmarks/speed.py [--frames 300] [--clips cartwheel run] [--seeds 1]
        [--steps-list 10 25 50 100 1000] [--checkpoint PATH | --untrained tiny|default]
        [--out out/benchmarks/speed.json]

``--untrained tiny|default`` uses a freshly initialised model (no trained checkpoint needed):
``default`` is the shipped architecture, so its timings are real while its accuracies mean
nothing; ``tiny`` only checks the harness. The output says which.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import REPO, TRUTH_FIT, build_cases, markdown_table, untrained_checkpoint

TOLERANCE = (0.05, 2.0)  # relative, mm: "as good as the most-steps result"


def timing_input(clip: str, frames: int, seed: int = 0):
    """(keypoints (frames at 30 fps), camera) of ``clip`` resampled to exactly ``frames`` frames."""
    from anylift.data.evaluation import make_case
    from anylift.data.mocap import load_clip
    from anylift.fitting.smpl_fit import SmplFitConfig

    # The clip's own duration to 1 ms; half a frame of margin absorbs that and the resampler's rounding.
    duration = load_clip(clip, fps=1000.0, allow_heldout=True).duration
    fps = (frames - 0.5) / duration
    case = make_case(clip, seed, fps=fps, allow_heldout=True, fit_config=SmplFitConfig(**TRUTH_FIT))
    if case.num_frames != frames:
        raise RuntimeError(f"{clip} resampled to {case.num_frames} frames, not {frames}")
    return dataclasses.replace(case.keypoints, fps=30.0), case.camera


def timed_lift(keypoints, camera, **kw) -> dict:
    from anylift.pipeline import lift_with_report

    start = time.perf_counter()
    report = lift_with_report(keypoints, camera, **kw)
    return {
        "seconds": time.perf_counter() - start,
        "timings": report.timings,
        "denoiser_seconds": report.denoiser_seconds,
        "denoiser_calls": report.denoiser_calls,
        "windows": report.num_windows,
        "views": report.num_views,
        "motion": report.motion,
    }


def suggest_steps(curve: list[dict]) -> tuple[int, str]:
    """The fewest steps within :data:`TOLERANCE` of the most-steps result, and why."""
    best = max(curve, key=lambda r: r["steps"])
    rel, absolute = TOLERANCE
    for row in sorted(curve, key=lambda r: r["steps"]):
        ok = all(row[k] <= best[k] + max(rel * best[k], absolute) for k in ("mpjpe_mm", "t_root_mm"))
        if ok:
            why = (
                f"{row['steps']} steps: MPJPE {row['mpjpe_mm']:.1f} mm and T_root {row['t_root_mm']:.1f} mm, "
                f"within {rel:.0%} (or {absolute:g} mm) of {best['steps']} steps "
                f"({best['mpjpe_mm']:.1f} / {best['t_root_mm']:.1f} mm) at "
                f"{row['diffusion_s'] / max(best['diffusion_s'], 1e-9):.2f}x its diffusion time"
            )
            return row["steps"], why
    return best["steps"], "no smaller step count is as accurate"


def main(argv: list[str] | None = None) -> int:
    from anylift.metrics import evaluate_motions
    from anylift.pipeline import DEFAULT_CHECKPOINT, DEFAULT_STEPS, lift_with_report

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--timing-clip", default="getup_faceup")
    parser.add_argument("--clips", nargs="+", default=["cartwheel", "run"])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="the default setting's DDIM steps")
    parser.add_argument("--mvlift-steps", type=int, default=1000)
    parser.add_argument("--steps-list", type=int, nargs="+", default=[10, 25, 50, 100, 1000])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--checkpoint", type=Path)
    group.add_argument(
        "--untrained", choices=("tiny", "default"), help="a freshly initialised model of this size"
    )
    parser.add_argument("--skip-smplify", action="store_true", help="do not time the SMPLify baseline")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "benchmarks" / "speed.json")
    args = parser.parse_args(argv)

    tmp = tempfile.TemporaryDirectory()
    checkpoint, meaningful = args.checkpoint, True
    if args.untrained:
        checkpoint, meaningful = untrained_checkpoint(Path(tmp.name), args.untrained), False
    elif checkpoint is None and not DEFAULT_CHECKPOINT.is_file():
        print(f"error: no default checkpoint ({DEFAULT_CHECKPOINT}); pass --checkpoint or --untrained")
        return 2
    if "sampler" in inspect.signature(lift_with_report).parameters:
        mvlift_kw, mvlift_label = {"sampler": "ddpm"}, f"{args.mvlift_steps} DDPM steps"
    else:
        mvlift_kw, mvlift_label = {}, f"{args.mvlift_steps} DDIM steps (= MVLift's DDPM denoiser calls)"

    import torch

    cpu = platform.processor() or platform.machine()
    machine = f"{cpu}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}"
    print(f"machine: {machine}", file=sys.stderr)
    keypoints, camera = timing_input(args.timing_clip, args.frames)
    lift_kw = {"checkpoint": checkpoint}
    timing = {"default": timed_lift(keypoints, camera, steps=args.steps, **lift_kw)}
    print(
        f"  default ({args.steps} steps): {timing['default']['seconds']:.1f} s", file=sys.stderr, flush=True
    )
    timing["mvlift"] = timed_lift(keypoints, camera, steps=args.mvlift_steps, **lift_kw, **mvlift_kw)
    print(f"  MVLift-like: {timing['mvlift']['seconds']:.1f} s", file=sys.stderr, flush=True)
    if not args.skip_smplify:
        timing["smplify"] = timed_lift(keypoints, camera, method="smplify")
        print(f"  SMPLify: {timing['smplify']['seconds']:.1f} s", file=sys.stderr, flush=True)

    cases = build_cases(args.clips, args.seeds, *_corruption())
    curve = []
    for steps in sorted(set(args.steps_list)):
        rows = []
        for case in cases:
            run = timed_lift(case.keypoints, case.camera, steps=steps, **lift_kw)
            rows.append((evaluate_motions(run["motion"], case.truth), run))
        curve.append(
            {
                "steps": steps,
                "mpjpe_mm": float(np.mean([m["mpjpe_mm"] for m, _ in rows])),
                "pa_mpjpe_mm": float(np.mean([m["pa_mpjpe_mm"] for m, _ in rows])),
                "t_root_mm": float(np.mean([m["t_root_mm"] for m, _ in rows])),
                "diffusion_s": float(np.mean([r["timings"].get("diffusion", 0.0) for _, r in rows])),
                "total_s": float(np.mean([r["seconds"] for _, r in rows])),
            }
        )
        print(f"  {steps} steps: {curve[-1]}", file=sys.stderr, flush=True)
    suggested, why = suggest_steps(curve)

    note = ""
    if args.untrained == "tiny":
        note = " - UNTRAINED TINY MODEL: harness check only, times and accuracies NOT meaningful"
    elif args.untrained == "default":
        note = (
            " - UNTRAINED model of the shipped size: times are the real architecture's, "
            "accuracies NOT meaningful"
        )
    acc_note = note.replace("times are the real architecture's, ", "")
    frames = args.frames
    print(f"\n### Lift time, {frames} frames ({machine}){note}\n")
    stage_names = ["prepare", "diffusion", "triangulate", "fit SMPL", "total"]
    labels = {
        "default": f"AnyLift, {args.steps} DDIM steps (default)",
        "mvlift": f"AnyLift, {mvlift_label} (MVLift-like)",
        "smplify": "SMPLify baseline",
    }
    print(
        markdown_table(
            ["setting", *(f"{s} s" for s in stage_names), "frames / s"],
            [
                [labels[k], *(t["timings"].get(s) for s in stage_names), frames / t["seconds"]]
                for k, t in timing.items()
            ],
        )
    )
    ratio = timing["mvlift"]["seconds"] / timing["default"]["seconds"]
    diffusion_ratio = timing["mvlift"]["timings"]["diffusion"] / timing["default"]["timings"]["diffusion"]
    print(
        f"\nMVLift-like / default: {ratio:.1f}x wall time, {diffusion_ratio:.1f}x diffusion time (same run)"
    )
    print(
        f"\n### Accuracy against steps ({len(cases)} held-out cases: "
        f"{', '.join(c.name for c in cases)}){acc_note}\n"
    )
    print(
        markdown_table(
            ["steps", "MPJPE mm", "PA-MPJPE mm", "T_root mm", "diffusion s / clip", "total s / clip"],
            [
                [r["steps"], r["mpjpe_mm"], r["pa_mpjpe_mm"], r["t_root_mm"], r["diffusion_s"], r["total_s"]]
                for r in curve
            ],
        )
    )
    print(f"\nsuggested default: {suggested} steps - {why}")
    document = {
        "meaningful": meaningful,
        "machine": machine,
        "frames": frames,
        "timing": {k: {kk: vv for kk, vv in t.items() if kk != "motion"} for k, t in timing.items()},
        "mvlift_setting": mvlift_label,
        "mvlift_over_default": ratio,
        "mvlift_over_default_diffusion": diffusion_ratio,
        "untrained": args.untrained,
        "curve": curve,
        "cases": [c.name for c in cases],
        "suggested_steps": suggested,
        "why": why,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2))
    print(f"\nwrote {args.out}")
    tmp.cleanup()
    return 0


def _corruption() -> tuple[float, float]:
    from anylift.data.evaluation import DEFAULT_DROPOUT, DEFAULT_NOISE_PX

    return DEFAULT_NOISE_PX, DEFAULT_DROPOUT


if __name__ == "__main__":
    sys.exit(main())
