"""Real footage without ground truth: what a user's own video does to the chain.

    .venv/bin/python benchmarks/real_footage.py VIDEO [--people N] [--keypoints KP.json]

Runs ``anylift detect`` (unless ``--keypoints`` gives its output), ``anylift camera`` and ``anylift
lift`` of the N longest-seen people (default 3), and prints what can be judged without truth:

- tracking: the number of tracks, how many are seen at least 3 s, and *resumed-looking breaks*:
  a track that starts within 1 s of another's end, within one body height of where that one
  was last seen (on footage of people walking about, mostly the same person given a new id);
- the camera: its focal length, where it came from, and its tilt;
- per lifted person (frames where they are seen): the torso's lean off vertical (people walking
  about stand upright: median and 90th percentile, degrees) and how much the lowest point of the
  body wanders in height (inter-quartile range, m: feet on one floor).

The figures measured on OpenCV's courtyard sample ``vtest.avi`` (768x576, 10 fps, 795 frames; not
shipped: fetch it from OpenCV's ``samples/data``) are in the README.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("OMP_NUM_THREADS", "2")

from people_video import _tilt as torso_tilt  # the footage benchmark's torso angle to +Z


def tracking_figures(people) -> dict:
    """Tracks, tracks seen at least 3 s, and breaks that look like one person resumed (not across
    one of the video's cuts, where every track ends by design)."""
    spans = []
    for tr in people.tracks:
        seen = np.flatnonzero(tr.seen & np.isfinite(tr.boxes).all(1))
        if len(seen):
            h = float(np.median(tr.boxes[seen, 3] - tr.boxes[seen, 1]))
            spans.append((seen[0], seen[-1], len(seen), h, tr.boxes[seen[0]], tr.boxes[seen[-1]]))
    fps = people.fps
    breaks = 0
    for a in spans:
        end = (a[5][:2] + a[5][2:]) / 2
        if any(
            0 < b[0] - a[1] <= fps
            and np.linalg.norm((b[4][:2] + b[4][2:]) / 2 - end) < a[3]
            and not any(a[1] < c <= b[0] for c in people.cuts)
            for b in spans
        ):
            breaks += 1
    return {
        "tracks": len(spans),
        "long": sum(s[2] >= 3 * fps for s in spans),
        "breaks": breaks,
    }


def lean_and_floor(motion, track) -> dict:
    """Torso lean off +Z and the lowest point's height spread over the frames the person is seen."""
    seen = (track.keypoints[..., 2] > 0.3).sum(-1) >= 8
    kp = motion.keypoints3d[seen]
    lean = torso_tilt(kp)
    low = np.nanmin(kp[..., 2], axis=1)
    q1, q3 = np.nanpercentile(low, [25, 75])
    return {
        "frames": int(seen.sum()),
        "lean_median": float(np.nanmedian(lean)),
        "lean_p90": float(np.nanpercentile(lean, 90)),
        "floor_iqr": float(q3 - q1),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("video")
    ap.add_argument("--people", type=int, default=3,
                    help="lift the N longest-seen people (0: the tracking figures only)")  # fmt: skip
    ap.add_argument("--keypoints", help="'anylift detect' output for VIDEO (else detected here)")
    args = ap.parse_args(argv)

    from anylift.io.people import read_people, write_people
    from anylift.pipeline import lift_with_report
    from anylift.video.camera_estimation import estimate_camera
    from anylift.video.people import detect_people

    t0 = time.perf_counter()
    if args.keypoints:
        people = read_people(args.keypoints)
    else:
        people = detect_people(args.video)
        out = Path("out/benchmarks/real_footage")
        out.mkdir(parents=True, exist_ok=True)
        write_people(out / f"{Path(args.video).stem}_keypoints.json", people)
    t_detect = time.perf_counter() - t0
    fig = tracking_figures(people)
    w, h = people.image_size
    how = f"keypoints from {args.keypoints}" if args.keypoints else f"detect {t_detect:.0f} s"
    print(f"{Path(args.video).name}: {len(people.tracks[0].seen)} frames, {w}x{h}, {people.fps:g} fps; {how}")
    cuts = f"; cuts at frames {list(people.cuts)}" if people.cuts else ""
    print(f"  tracks {fig['tracks']}, seen >= 3 s: {fig['long']}, breaks that look like one person "
          f"resumed: {fig['breaks']}{cuts}")  # fmt: skip
    longest = sorted(people.tracks, key=lambda tr: -int(tr.seen.sum()))[: args.people]
    if not longest:
        return 0
    t0 = time.perf_counter()
    est = estimate_camera(args.video, people.keypoints2d(longest[0].id), people=people)
    cam = est.camera
    tilt = "no up from the scene (the lift estimates it)"
    if est.scene_tilt is not None:
        tilt = f"tilt from the scene {est.scene_tilt[0]:.1f} deg down"
    print(f"  camera: {est.motion}, focal {est.focal:.0f} px ({est.focal_source}), {tilt}; "
          f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
    for tr in longest:
        t0 = time.perf_counter()
        if people.cuts and tr is not longest[0]:  # an edited video: each person's shot's camera
            cam = estimate_camera(args.video, people.keypoints2d(tr.id), people=people).camera
        rep = lift_with_report(people.keypoints2d(tr.id), cam, frame_times=people.frame_times)
        m = lean_and_floor(rep.motion, tr)
        print(f"  person {tr.id} ({m['frames']} frames seen): torso lean median {m['lean_median']:.1f} "
              f"deg, 90th percentile {m['lean_p90']:.1f} deg; lowest point's height IQR "
              f"{100 * m['floor_iqr']:.0f} cm; lift {time.perf_counter() - t0:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
