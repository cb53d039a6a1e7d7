"""Video front end accuracy on Blender renders of the proxy body (held-out mocap clips).

    .venv/bin/python benchmarks/video_frontend.py [--quick]

Renders (once, cached under ``$ANYLIFT_CACHE/test_videos``; see render_test_video.py) test
videos of held-out clips with known moving cameras, then prints per video and overall:

- ``anylift detect`` against the projected truth (joints inside the image): mean pixel
  error over detected joints, the share of detected joints within 10 px, and the share of all
  in-image joints that were detected within 10 px;
- ``anylift camera``: per-frame rotation error (degrees, relative to frame 0, so the two
  worlds need no alignment) with the true focal length given and with it estimated: mean
  and worst frame; the focal estimate's error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from render_test_video import cached_render

VIDEOS = (
    {"clip": "dance_b", "frames": 75, "size": (640, 360), "seed": 0, "trajectory": "real_like"},
    {"clip": "cartwheel", "frames": 75, "size": (640, 360), "seed": 1, "trajectory": "real_like"},
    {"clip": "dance_b", "frames": 75, "size": (640, 360), "seed": 2, "trajectory": "move_left"},
    {"clip": "getup_faceup", "frames": 90, "size": (640, 360), "seed": 4, "trajectory": "rotate_cw"},
)


def rotation_errors(w2c_est: np.ndarray, w2c_true: np.ndarray) -> np.ndarray:
    """(T,) degrees between estimated and true camera rotations relative to frame 0."""
    Re, Rg = w2c_est[:, :3, :3], w2c_true[:, :3, :3]
    rel = (Re @ Re[0].T) @ np.transpose(Rg @ Rg[0].T, (0, 2, 1))
    return np.degrees(Rotation.from_matrix(rel).magnitude())


def evaluate(folder: Path) -> dict:
    from anylift.errors import InputError
    from anylift.video.camera_estimation import estimate_camera
    from anylift.video.detect import detect_keypoints

    truth = np.load(folder / "truth.npz")
    video = folder / "video.mp4"
    t0 = time.time()
    vis = truth["in_image"]
    try:
        kp = detect_keypoints(video)
    except InputError as exc:  # MediaPipe found nobody: report it, estimate the camera unmasked
        print(f"  detect failed: {exc}")
        kp = None
    t_detect = time.time() - t0
    if kp is not None:
        ok = (kp.scores > 0) & vis
        err = np.linalg.norm(kp.keypoints[..., :2] - truth["keypoints2d"], axis=-1)[ok]
    else:
        ok, err = np.zeros_like(vis), np.full(1, np.nan)
    out = {
        "detect_mean_px": float(err.mean()) if len(err) else float("nan"),
        "detect_median_px": float(np.median(err)) if len(err) else float("nan"),
        "within10_of_detected": float((err < 10).mean()) if len(err) else 0.0,
        "within10_of_visible": float((err < 10).sum() / vis.sum()),
        "detected_share": float(ok.sum() / vis.sum()),
        "detect_s": t_detect,
    }
    f_true = float(truth["K"][0, 0])
    t0 = time.time()
    known = estimate_camera(video, kp, focal=f_true)
    out["camera_known_s"] = time.time() - t0
    e = rotation_errors(known.camera.world_to_camera, truth["world_to_camera"])
    out.update(rot_mean_known=float(e.mean()), rot_worst_known=float(e.max()))
    t0 = time.time()
    est = estimate_camera(video, kp)
    out["camera_est_s"] = time.time() - t0
    e = rotation_errors(est.camera.world_to_camera, truth["world_to_camera"])
    out.update(rot_mean_est=float(e.mean()), rot_worst_est=float(e.max()),
               focal_error=float(est.focal / f_true - 1.0), motion=est.motion)  # fmt: skip
    g = rotation_errors(truth["world_to_camera"], np.tile(np.eye(4), (len(e), 1, 1)))
    out["true_total_rotation_deg"] = float(g.max())
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the first video")
    args = parser.parse_args(argv)
    rows = []
    for params in VIDEOS[:1] if args.quick else VIDEOS:
        folder = cached_render(**params)
        r = evaluate(folder)
        rows.append(r)
        name = f"{params['clip']}/{params['trajectory']}/seed{params['seed']}"
        print(
            f"{name:32s} detect: mean {r['detect_mean_px']:.2f} px, median {r['detect_median_px']:.2f} px, "
            f"within 10 px {100 * r['within10_of_detected']:.1f}% of detected "
            f"({100 * r['within10_of_visible']:.1f}% of visible; detected {100 * r['detected_share']:.1f}%)"
        )
        print(f"{'':32s} camera ({r['motion']}, true motion {r['true_total_rotation_deg']:.1f} deg): "
              f"rotation error known focal mean {r['rot_mean_known']:.2f} / "
              f"worst {r['rot_worst_known']:.2f} deg; "
              f"estimated focal ({100 * r['focal_error']:+.1f}%) mean {r['rot_mean_est']:.2f} / worst "
              f"{r['rot_worst_est']:.2f} deg")  # fmt: skip
        print(f"{'':32s} time: detect {r['detect_s']:.1f} s, camera {r['camera_known_s']:.1f} s "
              f"(+ focal search {r['camera_est_s']:.1f} s)")  # fmt: skip
    keys = ("detect_mean_px", "within10_of_detected", "within10_of_visible", "rot_mean_known", "rot_mean_est")
    means = ", ".join(f"{k} {np.nanmean([r[k] for r in rows]):.3f}" for k in keys)
    print("overall (mean over videos): " + means
          + f", rot_worst_known {max(r['rot_worst_known'] for r in rows):.2f}"
          + f", rot_worst_est {max(r['rot_worst_est'] for r in rows):.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
