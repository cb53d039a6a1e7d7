"""Footage benchmark: several people, small people, unknown camera tilt, 10/25/60 fps.

    .venv/bin/python benchmarks/people_video.py [--scenes elevated25,handheld10,elevated60,single25 | all]
                                                [--no-lift] [--lift-all] [--checkpoint PATH]
                                                [--option KEY=VALUE ...] [--focal PX] [--upscale K]

Renders (once, cached under ``out/test_videos``; see render_people_video.py, TRAINING clips
only; ``--focal``: through another lens than the scenes' own, whose 640 px is exactly
``anylift camera``'s guess where it cannot measure the focal length) and prints per scene:

- detection rate against the person's height in pixels: share of true person-frames (at
  least 70 % of joints visible) matched by a track (box IoU >= 0.3, Hungarian per frame);
- track purity: per true person, the share of its matched frames given to its most frequent id;
- identity switches: changes of the matched id between a person's matched frames, per person
  per minute; and the tracks given to two true people (5 frames or more each);
- for the default person (``anylift camera`` -> ``anylift lift``, gravity estimated): torso
  tilt error (|angle of hip->shoulder to +Z, lifted - true|, median over frames, deg) and the
  floor error of the feet in contact (|lifted - true ankle height| at true contact frames,
  mean, m), and the camera ``anylift camera`` gave it (focal length and where it came from, where
  the up came from); with ``--lift-all`` also for every other track that follows a true person,
  and the means over all lifts;
- ``--upscale K`` looks at a K times larger copy of each scene's video (cubic; 6: 3840x2160), the
  truth's pixels scaled alike (high-resolution footage);
- a scene ``A+B`` is an edited video: A's video cut to B's (the same frame rate and size;
  :func:`edited`), each lifted person through the camera of their own shot; ``A~B``: A's video
  dissolving into B's over half a second;
- end-to-end time (detect, camera, lift, bake into Blender) per second of video, and where it
  goes: detect's steps (``detect_people(timings=...)``), the camera's, the lift's stages
  (``LiftReport.timings``) and the bake (``anylift_blender.results.bake_result_file``, in this
  process with the ``bpy`` module; skipped when it is not installed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
os.environ.setdefault("OMP_NUM_THREADS", "2")

import itertools

from accuracy import parse_options
from render_people_video import SCENES, cached_people_render

HEIGHT_BINS = (0, 60, 80, 120, 10_000)


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def upscaled(folder: Path, k: int) -> tuple[Path, dict]:
    """The scene's video enlarged ``k`` times (cubic; cached next to it) and its truth to match."""
    import cv2

    path = folder / f"video_x{k}.mp4"
    if not path.exists():
        cap = cv2.VideoCapture(str(folder / "video.mp4"))
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) * k, int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) * k)
        tmp = folder / f"video_x{k}.partial.mp4"
        out = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), cap.get(cv2.CAP_PROP_FPS), size)
        while (frame := cap.read()[1]) is not None:
            out.write(cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC))
        out.release()
        tmp.replace(path)
    truth = dict(np.load(folder / "truth.npz"))
    for key in ("keypoints2d", "boxes", "height_px", "image_size"):
        truth[key] = truth[key] * k
    for key in ("K", "frame_K"):  # frame_K: an edited video's (edited)
        if key in truth:
            truth[key] = np.diag([k, k, 1.0]) @ truth[key]
    return path, truth


def match_tracks(truth, people) -> np.ndarray:
    """(P, T) matched track id per true person and frame (-1: none).

    Every person with a joint in view takes part in the per-frame assignment, so that a correct
    track of someone mostly hidden behind another is not credited to the one in front (measured:
    a track that followed a walker 94 % hidden behind a dancer, its box within 4 px of the
    walker's, was counted as a switch of the dancer while the assignment left out people under
    30 % visible); the metrics then count the frames where a person is at least 70 % visible.
    """
    from anylift.video.people import iou

    boxes, visible = truth["boxes"], truth["visible"].any(-1)
    p_len, t_len = visible.shape
    out = np.full((p_len, t_len), -1)
    for t in range(t_len):
        tp = [p for p in range(p_len) if visible[p, t]]
        tr = [k for k in people.tracks if np.isfinite(k.boxes[t]).all() and k.seen[t]]
        if not tp or not tr:
            continue
        ov = iou(boxes[tp, t], np.array([k.boxes[t] for k in tr]))
        rows, cols = linear_sum_assignment(-ov)
        for r, c in zip(rows, cols):
            if ov[r, c] >= 0.3:
                out[tp[r], t] = tr[c].id
    return out


def tracking_metrics(truth, people) -> dict:
    visible = truth["visible"].mean(-1) >= 0.7
    matched = np.where(visible, match_tracks(truth, people), -1)
    height = truth["height_px"]
    fps = float(truth["fps"])
    rates = {}
    for lo, hi in itertools.pairwise(HEIGHT_BINS):
        sel = visible & (height >= lo) & (height < hi)
        rate = float((matched[sel] >= 0).mean()) if sel.any() else None
        rates[f"{lo}-{hi if hi < 10_000 else 'inf'}"] = (rate, int(sel.sum()))
    big = visible & (height >= 80)
    purity, switches, minutes = [], 0, 0.0
    for p in range(len(matched)):
        ids = matched[p][matched[p] >= 0]
        if len(ids) == 0:
            continue
        purity.append(np.bincount(ids).max() / len(ids))
        switches += int((np.diff(ids) != 0).sum())
        minutes += visible[p].sum() / fps / 60.0
    # A track given to two true people, 5 frames or more each: it jumped onto someone else (or,
    # in an edited video, across a cut), which purity, per true person, does not see.
    mixed = sum(
        int(np.sort((matched == tid).sum(1))[-2] >= 5) for tid in np.unique(matched[matched >= 0])
    ) if len(matched) > 1 else 0  # fmt: skip
    return {
        "rates": rates,
        "detected_80px": float((matched[big] >= 0).mean()) if big.any() else None,
        "purity_min": float(min(purity)) if purity else 0.0,
        "purity_mean": float(np.mean(purity)) if purity else 0.0,
        "switches": switches,
        "switches_per_person_minute": switches / max(minutes, 1e-9),
        "mixed_tracks": mixed,
        "matched": matched,
    }


def _tilt(points: np.ndarray) -> np.ndarray:
    torso = points[:, [5, 6]].mean(1) - points[:, [11, 12]].mean(1)
    return np.degrees(np.arccos(np.clip(torso[:, 2] / np.linalg.norm(torso, axis=-1), -1, 1)))


def lift_metrics(
    video: Path,
    truth,
    people,
    matched,
    kp_path: Path,
    pid: int | None = None,
    checkpoint: Path | None = None,
    options: dict | None = None,
) -> dict:
    """Camera + lift of person ``pid`` (default: the default person; ``checkpoint``: the multi-view
    model, None: the shipped one; ``options``: further LiftOptions fields); torso tilt and floor
    error against its true person."""
    from anylift.io.cameras import write_camera
    from anylift.pipeline import lift_with_report
    from anylift.video.camera_estimation import estimate_camera

    pid = people.default if pid is None else pid
    counts = [(matched[p] == pid).sum() for p in range(len(matched))]
    p_true = int(np.argmax(counts))
    kp = people.keypoints2d(pid)
    t0 = time.perf_counter()
    est = estimate_camera(video, kp, people=people)
    cam = est.camera
    t_cam = time.perf_counter() - t0
    write_camera(kp_path.with_name(kp_path.name.replace("bench_keypoints", "camera")), cam)
    t0 = time.perf_counter()
    rep = lift_with_report(kp, cam, frame_times=people.frame_times, checkpoint=checkpoint, **(options or {}))
    t_lift = time.perf_counter() - t0
    m = rep.motion
    t_bake = bake_seconds(m, kp_path.with_name(kp_path.stem.replace("keypoints", "result") + ".npz"))
    frames = matched[p_true] == pid
    tilt_err = np.abs(_tilt(m.keypoints3d) - _tilt(truth["keypoints3d"][p_true]))[frames]
    contact = truth["contact"][p_true] & frames[:, None]
    z_lift = m.keypoints3d[:, [15, 16], 2][contact]
    z_true = truth["keypoints3d"][p_true][:, [15, 16], 2][contact]
    g = rep.gravity
    return {
        "person": pid, "true_person": p_true, "clip": str(truth["clips"][p_true]),
        "tilt_err_deg": float(np.median(tilt_err)) if len(tilt_err) else float("nan"),
        "floor_err_m": float(np.mean(np.abs(z_lift - z_true))) if len(z_lift) else float("nan"),
        "pitch_est": g.pitch_deg, "confidence": g.confidence, "t_camera": t_cam, "t_lift": t_lift,
        "focal": est.focal, "focal_source": est.focal_source, "up_source": est.up_source,
        "lift_stages": {k: v for k, v in rep.timings.items() if k != "total"}, "t_bake": t_bake,
    }  # fmt: skip


def bake_seconds(motion, path: Path) -> float | str:
    """Seconds to write ``motion`` to ``path`` and bake it into a Blender scene (armature, body
    mesh, keys) as the add-on does; why not (a line) without the ``bpy`` module or when the bake
    refuses the result."""
    try:
        import bpy
    except ImportError:
        return "no bpy"
    from anylift.io.motion import write_motion

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from anylift_blender.baking.result import BakeError
    from anylift_blender.results import bake_result_file

    t0 = time.perf_counter()
    write_motion(path, motion)
    try:
        bake_result_file(bpy.context.scene, path)
    except BakeError as exc:
        return f"failed: {exc}"
    return time.perf_counter() - t0


def _breakdown(times: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in times.items() if v >= 0.05)


def true_pitch(truth, person: int = 0) -> float:
    """The true camera's pitch (deg) in the first frame that shows ``person`` (edited videos: their
    shot's camera)."""
    from anylift.lifting.gravity import camera_tilt

    first = int(np.argmax(truth["visible"][person].any(-1)))
    return camera_tilt(truth["world_to_camera"][first])[0]


PER_PERSON = {"keypoints2d": np.nan, "keypoints3d": np.nan, "boxes": np.nan, "height_px": np.nan,
              "visible": False, "contact": False}  # fmt: skip


DISSOLVE_SECONDS = 0.5
"""How long the dissolves of a scene ``A~B`` last (:func:`edited`)."""


def edited(scene: str, focal: float | None = None) -> tuple[Path, dict]:
    """Scenes put together into one video (``A+B``: A's video cut to B's; ``A~B``: A's last
    :data:`DISSOLVE_SECONDS` dissolving into B's first, the share of B rising steadily; the same
    frame rate and size; each shot re-encoded once more; cached under ``out/test_videos/<scene>``),
    and the truth to match: each shot's people seen in it only (in a dissolve, until its middle
    frame, the first that is more B than A, and from it), each frame's camera (``world_to_camera``,
    and ``frame_K``) in its shot's world; ``K`` is the first shot's."""
    import cv2

    names = scene.replace("~", "+").split("+")
    folders = [cached_people_render(n, focal=focal) for n in names]
    parts = [dict(np.load(f / "truth.npz")) for f in folders]
    first = parts[0]
    for name, part in zip(names[1:], parts[1:], strict=True):
        if part["fps"] != first["fps"] or not np.array_equal(part["image_size"], first["image_size"]):
            raise SystemExit(f"{name}: another frame rate or size than {names[0]}: cannot be cut in")
    marks = [c for c in scene if c in "+~"]
    joins = [round(DISSOLVE_SECONDS * float(first["fps"])) if c == "~" else 0 for c in marks]
    lengths = [len(p["frame_times"]) for p in parts]
    starts = np.cumsum([0] + [n - k for n, k in zip(lengths[:-1], joins, strict=True)])  # in the video
    t_len = int(starts[-1] + lengths[-1])
    # (first, stop) frames of the video each shot's truth holds: up to and from a dissolve's middle
    ends = zip(starts, lengths, [0, *joins], [*joins, 0], strict=True)
    shown = [(int(a + k_in // 2), int(a + n - k_out + k_out // 2)) for a, n, k_in, k_out in ends]
    truth = {k: first[k] for k in ("fps", "image_size", "K")}
    for key, fill in PER_PERSON.items():
        rows = []
        for start, (lo, hi), part in zip(starts, shown, parts, strict=True):
            arr = part[key]
            full = np.full((arr.shape[0], t_len, *arr.shape[2:]), fill, dtype=arr.dtype)
            full[:, lo:hi] = arr[:, lo - start : hi - start]
            rows.append(full)
        truth[key] = np.concatenate(rows)
    truth["clips"] = np.concatenate([p["clips"] for p in parts])
    truth["scales"] = np.concatenate([p["scales"] for p in parts])
    own = [(p, np.arange(lo, hi) - start) for p, start, (lo, hi) in zip(parts, starts, shown, strict=True)]
    truth["world_to_camera"] = np.concatenate([p["world_to_camera"][t] for p, t in own])
    frame_k = [p["frame_K"][t] if "frame_K" in p else np.repeat(p["K"][None], len(t), 0) for p, t in own]
    truth["frame_K"] = np.concatenate(frame_k)  # a zooming shot's own (render_people_video)
    truth["frame_times"] = np.arange(t_len) / float(first["fps"])
    truth["scene"] = np.array(scene)
    truth["render_seconds"] = np.array(sum(float(p["render_seconds"]) for p in parts))
    out = folders[0].parent / "".join(f.name + c for f, c in zip(folders, [*marks, ""], strict=True))
    video = out / "video.mp4"
    if not video.exists():
        out.mkdir(exist_ok=True)
        size = tuple(int(v) for v in first["image_size"])
        tmp = out / "video.partial.mp4"
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(first["fps"]), size)
        tail: list = []  # the last shot's frames that dissolve into the next
        for f, k_in, k_out in zip(folders, [0, *joins], [*joins, 0], strict=True):
            cap = cv2.VideoCapture(str(f / "video.mp4"))
            frames = []
            while (frame := cap.read()[1]) is not None:
                frames.append(frame)
            for i, (a, b) in enumerate(zip(tail, frames[:k_in], strict=True)):
                writer.write(cv2.addWeighted(a, 1 - (i + 1) / (k_in + 1), b, (i + 1) / (k_in + 1), 0))
            for frame in frames[k_in : len(frames) - k_out]:
                writer.write(frame)
            tail = frames[len(frames) - k_out :]
        writer.release()
        tmp.replace(video)
    np.savez(out / "truth.npz", **truth)  # read back by --upscale
    return video, truth


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", default="elevated25,handheld10,elevated60,single25",
                        help="comma-separated scenes of render_people_video.SCENES, or all (the default "
                        "four and six camera designs nothing was tuned on)")  # fmt: skip
    parser.add_argument("--no-lift", action="store_true")
    parser.add_argument("--lift-all", action="store_true",
                        help="also lift every other track that follows a true person (20+ frames) and "
                             "print its tilt and floor errors, and their means over all lifts")  # fmt: skip
    parser.add_argument(
        "--checkpoint", type=Path, help="multi-view checkpoint to lift with (default: the shipped one)"
    )
    parser.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE",
        help="a LiftOptions field for the lifts (ablations), e.g. bone_lengths=true",
    )  # fmt: skip
    parser.add_argument("--focal", type=float, metavar="PX",
                        help="render the scenes through another lens, fx = fy = PX (their own: 640 px, the "
                        "picture's long side and anylift camera's guess, for the elevated ones; handheld10 "
                        "520; the six added later 560-1100)")  # fmt: skip
    parser.add_argument(
        "--upscale",
        type=int,
        default=1,
        metavar="K",
        help="look at a K times larger copy of each video (6: 3840x2160)",
    )
    parser.add_argument("--detect-rate", type=float, default=0.0, metavar="FPS",
                        help="track faster footage in every k-th frame only (as anylift detect "
                        "--detect-rate; default 0: every frame)")  # fmt: skip
    args = parser.parse_args(argv)
    options = parse_options(args.option)
    from anylift.io.people import write_people
    from anylift.video.people import PeopleConfig, detect_people

    every = []
    for scene in list(SCENES) if args.scenes == "all" else args.scenes.split(","):
        if "+" in scene or "~" in scene:  # an edited video
            video, truth = edited(scene, args.focal)
            folder = video.parent
        else:
            folder = cached_people_render(scene, focal=args.focal)
            video, truth = folder / "video.mp4", np.load(folder / "truth.npz")
        if args.upscale > 1:
            video, truth = upscaled(folder, args.upscale)
        duration = len(truth["frame_times"]) / float(truth["fps"])
        t0 = time.perf_counter()
        steps: dict[str, float] = {}
        config = PeopleConfig(detect_rate=args.detect_rate)
        people = detect_people(video, config=config, timings=steps)
        t_detect = time.perf_counter() - t0
        kp_path = folder / ("bench_keypoints" + (f"_x{args.upscale}" if args.upscale > 1 else "") + ".json")
        write_people(kp_path, people)
        r = tracking_metrics(truth, people)
        print(f"{scene}: {len(truth['clips'])} people ({', '.join(map(str, truth['clips']))}), "
              f"{float(truth['fps']):g} fps, {duration:.1f} s; {len(people.tracks)} tracks")  # fmt: skip
        rates = ", ".join(f"{k} px {'n/a' if v is None else f'{100 * v:.0f}%'} (n={n})"
                          for k, (v, n) in r["rates"].items())  # fmt: skip
        print(f"  detection rate by height: {rates}")
        d80 = "n/a" if r["detected_80px"] is None else f"{100 * r['detected_80px']:.1f}%"
        print(f"  people >= 80 px detected: {d80}; purity min {100 * r['purity_min']:.1f}% "
              f"mean {100 * r['purity_mean']:.1f}%; identity switches {r['switches']} "
              f"({r['switches_per_person_minute']:.2f} per person per minute); tracks given to two "
              f"people: {r['mixed_tracks']}")  # fmt: skip
        line = f"  time: detect {t_detect:.1f} s (the process' peak memory so far {_peak_mb():.0f} MB)"
        if not args.no_lift:
            lm = lift_metrics(
                video, truth, people, r["matched"], kp_path, checkpoint=args.checkpoint, options=options
            )
            who = f"person {lm['person']} (true {lm['true_person']}, {lm['clip']})"
            pitch = true_pitch(truth, lm["true_person"])
            print(f"  lift of {who}: torso tilt error "
                  f"{lm['tilt_err_deg']:.1f} deg (median), feet in contact {100 * lm['floor_err_m']:.1f} cm "
                  f"off the floor (mean); camera pitch estimated {lm['pitch_est']:.1f} deg, true "
                  f"{pitch:.1f} deg, confidence {lm['confidence']:.2f}")  # fmt: skip
            first = int(np.argmax(truth["visible"][lm["true_person"]].any(-1)))
            true_focal = (truth["frame_K"][first] if "frame_K" in truth else truth["K"])[0, 0]
            print(f"  camera: focal {lm['focal']:.0f} px ({lm['focal_source']}), true "
                  f"{true_focal:.0f}; up from {lm['up_source'] or 'the lifted body'}")  # fmt: skip
            baked = not isinstance(lm["t_bake"], str)
            total = t_detect + lm["t_camera"] + lm["t_lift"] + (lm["t_bake"] if baked else 0.0)
            line += f", camera {lm['t_camera']:.1f} s, lift {lm['t_lift']:.1f} s"
            line += f", bake {lm['t_bake']:.2f} s" if baked else f", bake {lm['t_bake']}"
            line += f"; {total / duration:.2f} s per second of video (x{total / duration:.1f} the duration)"
        print(line, flush=True)
        print(f"    detect steps (s): {_breakdown(steps)}")
        if not args.no_lift:
            print(f"    lift stages (s): {_breakdown(lm['lift_stages'])}", flush=True)
            every.append(lm)
        if args.lift_all and not args.no_lift:
            for pid in people.ids():
                if pid == people.default or max((r["matched"] == pid).sum(1)) < 20:
                    continue
                other = lift_metrics(
                    video, truth, people, r["matched"], kp_path, pid, args.checkpoint, options
                )
                every.append(other)
                who = f"person {pid} (true {other['true_person']}, {other['clip']})"
                print(f"  lift of {who}: torso tilt error {other['tilt_err_deg']:.1f} deg, "
                      f"feet in contact {100 * other['floor_err_m']:.1f} cm", flush=True)  # fmt: skip
    if len(every) > 1:
        tilt = np.nanmean([m["tilt_err_deg"] for m in every])
        feet = 100 * np.nanmean([m["floor_err_m"] for m in every])
        print(f"all {len(every)} lifts: torso tilt error mean {tilt:.1f} deg, feet in contact {feet:.1f} cm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
