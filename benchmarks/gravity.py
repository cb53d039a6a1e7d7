"""Gravity without a known up: how far the result's up is from the truth (issue 14, item 3).

Keypoints only, no camera file: a static camera 6 m from the person (1280x720, fx = 1280, 2 px
noise), pitched ``--pitches`` degrees down and rolled 0-8 degrees, so the engine must estimate the
world's up. For each clip and pitch it prints the angle between the result's ``up`` and the
truth, and the reported confidence, for

- ``2d fit``: the default (the SMPLify fit's up for the world the prior lifts in, refined by the
  lifted body; :func:`anylift.pipeline._up_from_2d_fit`);
- ``body only``: the lifted body's own estimate (what the engine did before; the prior lifts
  upright in the world it is given, so this mostly echoes the level-camera assumption).

Training motions and held-out motions are reported separately (choices: training motions only).

    OMP_NUM_THREADS=1 python benchmarks/gravity.py [--clips walk,kick,...] [--pitches 0,15,30,45]

``--walk-away``: instead, a walker (the walk clip looped for 5 s, about 5 m) going straight away
from or towards a static camera 6-10 m off, pitched 3-30 deg down: per case the up error, the
confidence and how far the lowest point of the body wanders in height (inter-quartile range over
the frames: feet on one floor). Six cases, about a minute.

``--detected``: instead, the accuracy benchmark's noise-level-2 cases (the real detector's 2D on
renders, ``benchmarks/detected_2d.py``; one seed per clip and camera family, ``--families``
default all twelve), each lifted through its true camera with the ``up`` taken out, so the lift
estimates it as for a camera file without one: per case the up error, the camera's estimated and
true pitch, the confidence and how far the estimate was tilted to keep the camera above the floor
(``gravity.feet_below_horizon``); then the mean and median error per family. The 114 training
cases with a person found: 6 and 13 minutes as two processes of five clips each (the command below,
and roll, crawl, getup_facedown, spin, backflip), one core each.

    OMP_NUM_THREADS=1 python benchmarks/gravity.py --detected --clips walk,jump,dance_a,punch,kick
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
from scipy.spatial.transform import Rotation

from anylift import pipeline
from anylift.data.mocap import HELDOUT_CLIPS, TRAIN_CLIPS, load_clip
from anylift.data.trajectories import look_at
from anylift.geometry.camera import project
from anylift.io.cameras import static_camera
from anylift.io.keypoints import Keypoints2D

SIZE = (1280, 720)


def case(clip: str, pitch: float, seed: int):
    """(keypoints, true up in the static camera's frame) of ``clip`` (at most 5 s)."""
    rng = np.random.default_rng(seed)
    pts = load_clip(clip, fps=30.0, allow_heldout=True).keypoints3d[:150]
    pts = pts - np.array([pts[..., 0].mean(), pts[..., 1].mean(), 0.0])
    eye = np.array([rng.uniform(-1, 1), -6.0, 1.0 + 6.0 * np.tan(np.radians(pitch))])
    return _seen(pts, eye, np.array([0.0, 0.0, 1.0]), rng.uniform(-8, 8), rng)


def _seen(pts: np.ndarray, eye: np.ndarray, target: np.ndarray, roll_deg: float, rng):
    """(keypoints, true up in the camera's frame) of world points ``pts`` (T, 17, 3) seen by a
    static camera at ``eye`` looking at ``target``, rolled ``roll_deg``, with 2 px noise."""
    w2c = look_at(eye, target)
    w2c[:3] = Rotation.from_euler("z", roll_deg, degrees=True).as_matrix() @ w2c[:3]
    w2c = np.tile(w2c, (len(pts), 1, 1))
    uv = project(pts, static_camera(len(pts), SIZE).K, w2c) + rng.normal(size=(*pts.shape[:2], 2)) * 2.0
    kp = Keypoints2D(np.concatenate([uv, np.full_like(uv[..., :1], 0.9)], -1), 30.0, SIZE)
    return kp, w2c[0, :3, :3] @ [0.0, 0.0, 1.0]


WALK_AWAY = [(3, 6, True), (10, 6, True), (20, 8, False), (5, 10, False), (15, 8, True), (30, 6, False)]
"""(pitch deg, distance m, away) of the ``--walk-away`` cases."""


def walk_away_case(pitch: float, distance: float, away: bool, seed: int):
    """(keypoints, true up in the static camera's frame) of a walker going straight away from
    (``away``) or towards a camera ``distance`` m behind where the walk starts or ends."""
    from anylift.data.augment import loop_sequence

    rng = np.random.default_rng(seed)
    pts = loop_sequence(load_clip("walk", fps=30.0).keypoints3d, 150, "wrap", rng)
    d = pts[-1, 0, :2] - pts[0, 0, :2]
    turn = (np.pi / 2 if away else -np.pi / 2) - np.arctan2(d[1], d[0])  # along +y, or -y
    pts = pts @ Rotation.from_euler("z", turn).as_matrix().T
    pts = pts - np.array([pts[0, 0, 0], min(pts[0, 0, 1], pts[-1, 0, 1]), 0.0])  # the near end at y = 0
    eye = np.array([rng.uniform(-1, 1), -distance, 1.0 + distance * np.tan(np.radians(pitch))])
    return _seen(pts, eye, np.array([0.0, 2.0, 1.0]), rng.uniform(-5, 5), rng)


def walk_away() -> None:
    """The ``--walk-away`` cases: up error, confidence, the lowest point's height spread."""
    errors, spreads = [], []
    for i, (pitch, distance, away) in enumerate(WALK_AWAY):
        kp, true_up = walk_away_case(pitch, distance, away, seed=i)
        report = pipeline.lift_with_report(kp, None)
        error = float(np.degrees(np.arccos(np.clip(report.motion.up @ true_up, -1, 1))))
        lowest = np.nanmin(report.motion.keypoints3d[..., 2], axis=1)
        q1, q3 = np.percentile(lowest, [25, 75])
        errors.append(error)
        spreads.append(100 * (q3 - q1))
        print(f"pitch {pitch:2.0f}, {distance:2.0f} m, walking {'away' if away else 'towards'}: up error "
              f"{error:4.1f} deg (confidence {report.gravity.confidence:.2f}), lowest point's height IQR "
              f"{spreads[-1]:4.1f} cm", flush=True)  # fmt: skip
    print(f"mean up error {np.mean(errors):.1f} deg, lowest point's height IQR {min(spreads):.1f}-"
          f"{max(spreads):.1f} cm")  # fmt: skip


def up_error(kp, true_up, body_only: bool) -> tuple[float, float]:
    """(degrees between the result's up and the truth, reported confidence)."""
    saved = pipeline.UP_FIT_CONFIDENCE
    pipeline.UP_FIT_CONFIDENCE = np.inf if body_only else saved
    try:
        report = pipeline.lift_with_report(kp, None)
    finally:
        pipeline.UP_FIT_CONFIDENCE = saved
    up = report.motion.up
    return float(np.degrees(np.arccos(np.clip(up @ true_up, -1, 1)))), report.gravity.confidence


def detected_row(clip: str, family: str, seed: int) -> dict | None:
    """One noise-level-2 case lifted through its camera without ``up`` (module doc), or None when
    the detector found the person in too few frames."""
    import accuracy  # benchmarks/ (on the path when run as a script)

    from anylift.lifting.gravity import camera_tilt

    case = accuracy.build_case(clip, family, seed, 2)
    if case is None:
        return None
    report = pipeline.lift_with_report(case.keypoints, replace(case.camera, up=None))
    g = report.gravity
    return dict(
        clip=clip, family=family, error=float(np.degrees(np.arccos(np.clip(report.motion.up[2], -1, 1)))),
        pitch=g.pitch_deg, true_pitch=camera_tilt(case.camera.world_to_camera[0])[0],
        confidence=g.confidence, turned=g.turned_deg,
    )  # fmt: skip


def detected_table(rows: list[dict]) -> list[str]:
    """Markdown lines: mean and median up error per family and group of motions, then all."""
    lines = [
        "| motions | family | cases | mean deg | median deg | tilted down |",
        "|---|---|---|---|---|---|",
    ]
    for group in ("training", "held-out"):
        mine = [r for r in rows if group_of(r["clip"]) == group]
        for family in [*sorted({r["family"] for r in mine}), "**all**"] if mine else []:
            sel = [r for r in mine if family in ("**all**", r["family"])]
            e, turned = [r["error"] for r in sel], sum(1 for r in sel if r["turned"])
            lines.append(
                f"| {group} | {family} | {len(sel)} | {np.mean(e):.1f} | {np.median(e):.1f} | {turned} |"
            )
    return lines


def group_of(clip: str) -> str:
    return "training" if clip in TRAIN_CLIPS else "held-out" if clip in HELDOUT_CLIPS else "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default="walk,jump,dance_a,punch,kick,spin,cartwheel,run,dance_b")
    ap.add_argument("--pitches", default="0,15,30,45")
    ap.add_argument("--detected", action="store_true", help="the noise-level-2 renders, camera up taken out")
    ap.add_argument("--walk-away", action="store_true", help="a walker going away from / towards the camera")
    ap.add_argument("--families", default=None, help="with --detected: comma-separated (default: all twelve)")
    args = ap.parse_args()
    clips = args.clips.split(",")
    if args.walk_away:
        walk_away()
        return
    if args.detected:
        import accuracy
        import camera_families

        families = args.families.split(",") if args.families else list(camera_families.FAMILIES)
        t0, found = time.time(), []
        for clip, family, seed in accuracy.detected_plan(clips, families, clips):
            row = detected_row(clip, family, seed)
            if row is None:
                print(f"{clip:14s} {family:13s} skipped: the detector found the person in too few frames")
                continue
            found.append(row)
            print(f"{clip:14s} {family:13s} up error {row['error']:5.1f} deg; pitch {row['pitch']:6.1f} "
                  f"(true {row['true_pitch']:5.1f}), confidence {row['confidence']:.2f}"
                  + (f", tilted {row['turned']:+.1f} deg" if row["turned"] else ""), flush=True)  # fmt: skip
        print(f"\nup error, degrees ({time.time() - t0:.0f} s)\n")
        print("\n".join(detected_table(found)))
        return
    pitches = [float(p) for p in args.pitches.split(",")]
    rows: dict[tuple[str, str, float], list[float]] = {}
    t0 = time.time()
    for clip in clips:
        group = group_of(clip)
        for i, pitch in enumerate(pitches):
            kp, true_up = case(clip, pitch, seed=i)
            line = f"{clip:12s} pitch {pitch:4.0f}"
            for name, body_only in (("2d fit", False), ("body only", True)):
                err, conf = up_error(kp, true_up, body_only)
                rows.setdefault((group, name, pitch), []).append(err)
                line += f" | {name}: {err:5.1f} deg (confidence {conf:.2f})"
            print(line, flush=True)
    print(f"\nmean up error, degrees ({time.time() - t0:.0f} s)\n")
    print("| motions | method | " + " | ".join(f"pitch {p:g}" for p in pitches) + " | all |")
    print("|---|---|" + "---|" * (len(pitches) + 1))
    for group in ("training", "held-out"):
        for name in ("2d fit", "body only"):
            cells = [rows.get((group, name, p)) for p in pitches]
            if not any(cells):
                continue
            every = np.mean([e for c in cells if c for e in c])
            means = " | ".join(f"{np.mean(c):.1f}" for c in cells)
            print(f"| {group} | {name} | {means} | {every:.1f} |")


if __name__ == "__main__":
    main()
