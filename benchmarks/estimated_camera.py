"""The person's path in the world through ``anylift camera``'s estimate instead of the true camera.

The accuracy benchmark gives the lift the true camera. A user's footage gets the camera from
:func:`anylift.video.camera_estimation.estimate_camera`, a stand-in for a real SLAM system, and the
person's path in the world is only as good as its trajectory. This benchmark takes the accuracy
benchmark's noise-level-2 renders (``benchmarks/detected_2d.py``: the frames and ``anylift
detect``'s default person, cached), estimates the camera from the frames (focal length unknown),
and lifts the same detections three times: through the true camera, through the estimate and with
the camera held still at frame 0 (what a tripod assumption gives). Per case:

- ``focal``: the estimate's focal length error (%);
- ``rotation``: its rotation error relative to frame 0, mean over frames (degrees);
- ``camera``: its camera centre's displacement from frame 0 against the true one's, mean distance
  over frames (m; frame 0's camera axes, the estimate's metres from the person's size), and how far
  it moved from the first to the last frame over how far the true camera did (cameras that move
  more than 5 cm);
- ``root path``: the lifted pelvis's displacement from frame 0, in frame 0's camera axes (so the
  worlds need no alignment), against the truth's: mean distance over frames (m), for each camera.

Cases: the training clips x the families whose camera moves (default: the handheld walk-along,
follow with lag and orbit, and the panning tripod, which only turns), with the seeds of the
accuracy benchmark's plan; missing renders are made on first use (``detected_2d.py``).

    .venv/bin/python benchmarks/estimated_camera.py [--clips walk kick ...] [--families orbit ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
for _p in (_HERE, _HERE.parent / "engine"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import accuracy  # noqa: E402
import camera_families  # noqa: E402
import detected_2d  # noqa: E402
from video_frontend import rotation_errors  # noqa: E402

from anylift.data.mocap import ALL_CLIPS, TRAIN_CLIPS  # noqa: E402

MOVING = ("handheld_walk", "follow_lag", "orbit", "tripod_pan")
CAMERAS = ("true", "estimated", "static")
MOVES = 0.05  # m: a camera path shorter than this is a camera that only turns


def root_path(motion) -> np.ndarray:
    """(T, 3) the pelvis's displacement from frame 0, in frame 0's camera axes."""
    pelvis = motion.keypoints3d[:, [11, 12]].mean(1)
    return (pelvis - pelvis[0]) @ motion.world_to_camera[0, :3, :3].T


def camera_path(world_to_camera: np.ndarray) -> np.ndarray:
    """(T, 3) the camera centre's displacement from frame 0, in frame 0's camera axes."""
    centres = -np.einsum("tji,tj->ti", world_to_camera[:, :3, :3], world_to_camera[:, :3, 3])
    return (centres - centres[0]) @ world_to_camera[0, :3, :3].T


def evaluate(clip: str, family: str, seed: int) -> dict | None:
    """One case's figures (module docs), or None when the detector found too little of the person."""
    from anylift.data.evaluation import static_camera_like
    from anylift.io.keypoints import Keypoints2D
    from anylift.pipeline import lift
    from anylift.video.camera_estimation import estimate_camera

    case = accuracy.build_case(clip, family, seed, 2)
    if case is None:
        return None
    true_cam, kp = case.camera, case.keypoints
    render_cam = detected_2d.scaled_camera(true_cam, detected_2d.RENDER_SCALE)  # the frames' camera
    (w, h), (rw, rh) = true_cam.image_size, render_cam.image_size
    pixels = kp.keypoints.copy()
    pixels[..., 0] *= rw / w
    pixels[..., 1] *= rh / h
    start = time.perf_counter()
    est = estimate_camera(
        detected_2d.frames_path(clip, family, seed),
        Keypoints2D(pixels, fps=kp.fps, image_size=(rw, rh), detector=kp.detector),
        fps=kp.fps,
    )
    seconds = time.perf_counter() - start
    estimated = detected_2d.scaled_camera(est.camera, w / rw)  # back to the case's pixels
    cameras = {"true": true_cam, "estimated": estimated, "static": static_camera_like(true_cam)}
    truth = root_path(case.truth)
    path, true_path = camera_path(est.camera.world_to_camera), camera_path(true_cam.world_to_camera)
    out = {
        "focal_error": float(estimated.K[0, 0] / true_cam.K[0, 0] - 1.0),
        "rotation_deg": float(rotation_errors(est.camera.world_to_camera, true_cam.world_to_camera).mean()),
        "camera_error": float(np.linalg.norm(path - true_path, axis=1).mean()),
        "camera_moves": float(np.linalg.norm(true_path[-1])),
        "camera_moves_estimated": float(np.linalg.norm(path[-1])),
        "motion": est.motion,
        "camera_seconds": seconds,
    }
    for name, cam in cameras.items():
        path = root_path(lift(kp, cam, seed=0))
        out[f"root_path_{name}"] = float(np.linalg.norm(path - truth, axis=1).mean())
    return out


def table(rows: dict[str, dict]) -> list[str]:
    """Markdown table: one row per family and an overall row."""
    lines = [
        "| family | cases | focal error (abs) | rotation deg | camera path m | moved est / true "
        "| root path true cam m | estimated m | static m |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[str, list[dict]] = {}
    for name, r in rows.items():
        groups.setdefault(name.split("/")[1], []).append(r)
    groups["**all**"] = list(rows.values())
    for family, rs in groups.items():
        mean = {key: np.mean([r[key] for r in rs]) for key in rs[0] if key != "motion"}
        moving = [r["camera_moves_estimated"] / r["camera_moves"] for r in rs if r["camera_moves"] > MOVES]
        cells = [
            f"{100 * np.mean([abs(r['focal_error']) for r in rs]):.0f} %",
            f"{mean['rotation_deg']:.2f}",
            f"{mean['camera_error']:.3f}",
            f"{np.median(moving):.2f} (median)" if moving else "-",
            *(f"{mean[f'root_path_{c}']:.3f}" for c in CAMERAS),
        ]
        lines.append(f"| {family} | {len(rs)} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", nargs="+", default=list(TRAIN_CLIPS), choices=ALL_CLIPS)
    parser.add_argument("--families", nargs="+", default=list(MOVING), choices=camera_families.FAMILIES)
    parser.add_argument("--out", default="out/benchmarks/estimated_camera.json")
    args = parser.parse_args(argv)
    plan = [
        c
        for c in accuracy.detected_plan(args.clips, camera_families.FAMILIES, args.clips)
        if c[1] in args.families
    ]
    rows = {}
    for clip, family, seed in plan:
        r = evaluate(clip, family, seed)
        if r is None:
            print(f"  {clip}/{family}/{seed}: skipped (the person detected in under a third of the frames)")
            continue
        rows[f"{clip}/{family}/{seed}"] = r
        print(
            f"  {clip}/{family}/{seed}: focal {100 * r['focal_error']:+.0f} %, "
            f"rotation {r['rotation_deg']:.2f} deg, camera {r['camera_error']:.3f} m off (moved "
            f"{r['camera_moves_estimated']:.2f} / {r['camera_moves']:.2f} m, {r['motion']}); root path "
            + ", ".join(f"{c} {r[f'root_path_{c}']:.3f}" for c in CAMERAS)
            + " m",
            flush=True,
        )
    print("\n".join(["", *table(rows)]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
