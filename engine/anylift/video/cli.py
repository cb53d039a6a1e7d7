"""``anylift detect`` and ``anylift camera`` (``docs/formats.md``, "Command line").

::

    anylift detect VIDEO --out KEYPOINTS.json [--fps F] [--min-score S] [--max-gap N]
                   [--no-smoothing] [--keep-leg-labels] [--set-aside-still] [--detect-rate FPS]
                   [--progress auto|bar|jsonl|none]
    anylift camera VIDEO --out CAMERA.json [--keypoints KEYPOINTS.json] [--person ID] [--focal PX]
                   [--fps F] [--seed N] [--progress auto|bar|jsonl|none]

``anylift camera`` masks every tracked person out of the background and takes the metric scale
from the default person's size; people standing about tell the scene's verticals (focal and tilt:
:mod:`anylift.video.camera_estimation`). Without ``--keypoints`` it detects them first (as
``detect``).
:func:`add_parsers` adds both to the ``anylift`` command line; :func:`main` runs them alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from anylift.batch.cli import _count
from anylift.errors import InputError

PROGRESS_MODES = ("auto", "bar", "jsonl", "none")


def _close(progress) -> None:
    close = getattr(progress, "close", None)
    if callable(close):
        close()


def cmd_detect(args: argparse.Namespace) -> int:
    """Detect and track every person in ``args.video``; write them all to ``args.out``, print a table."""
    import numpy as np

    from anylift.io.people import write_people
    from anylift.progress import make_progress
    from anylift.video.detect import DetectConfig
    from anylift.video.people import PeopleConfig, detect_people

    config = DetectConfig(min_score=args.min_score, max_gap=args.max_gap, smoothing=not args.no_smoothing,
                          unswap_legs=not args.keep_leg_labels)  # fmt: skip
    progress = make_progress(args.progress)
    set_aside: list = []
    try:
        people = detect_people(
            args.video,
            fps=args.fps,
            config=PeopleConfig(
                detect=config,
                detect_rate=args.detect_rate,
                set_aside_still=args.set_aside_still,
                pose_threads=args.threads,
            ),
            progress=progress,
            set_aside=set_aside,
        )
    finally:
        _close(progress)
    write_people(args.out, people)
    kp = people.keypoints2d()
    print(people.table())
    for why, what in (
        ("rider", "small {} riding on a person (on a board or a bag they carry, in step with them as "
                  "they walk)"),
        ("still", "still {} of no one (a pole, a railing, a sign: no person segmented there, and the pose "
                  "model's drawing moves with its region)"),
    ):  # fmt: skip
        gone = [g for g in set_aside if g[4] == why]
        if gone:
            listed = ", ".join(f"{a}-{b} ({h:.0f} px)" for a, b, _, h, _ in gone[:6])
            more = f" and {len(gone) - 6} more" if len(gone) > 6 else ""
            tracks = what.format("track" if len(gone) == 1 else "tracks")
            print(f"set aside {len(gone)} {tracks}: frames {listed}{more}")
    n = f"{len(people.tracks)} {'person' if len(people.tracks) == 1 else 'people'}"
    if people.frame_times is not None:
        t = people.frame_times
        print(f"variable frame rate: {(len(t) - 1) / t[-1]:.2f} fps on average, intervals "
              f"{1000 * np.diff(t).min():.0f}-{1000 * np.diff(t).max():.0f} ms; each frame's time is kept "
              "(frame_times), and the lift follows it")  # fmt: skip
    if people.cuts:
        from anylift.lifting.framerate import frame_times

        times = frame_times(kp.num_frames, people.fps, people.frame_times)
        at = ", ".join(f"{c} ({times[c]:.2f} s)" for c in people.cuts)
        frames = "frame" if len(people.cuts) == 1 else "frames"
        print(f"an edited video: it cuts to another shot at {frames} {at}; no track crosses a cut, and "
              "'anylift camera' estimates the camera of the lifted person's shot")  # fmt: skip
    print(f"{kp.num_frames} frames, {kp.image_size[0]}x{kp.image_size[1]}, {n}; "
          f"default person {people.default} (longest, largest, most central; "
          "'anylift lift --person ID' picks another) "
          f"-> {args.out}")  # fmt: skip
    return 0


def cmd_camera(args: argparse.Namespace) -> int:
    """Estimate the camera of ``args.video`` and write it to ``args.out``."""
    from anylift.io.cameras import write_camera
    from anylift.io.people import read_people
    from anylift.progress import make_progress
    from anylift.video.camera_estimation import estimate_camera

    progress = make_progress(args.progress)
    try:
        if args.keypoints:
            people = read_people(args.keypoints)
        else:
            from anylift.video.people import detect_people

            people = detect_people(args.video, fps=args.fps, progress=progress)
        est = estimate_camera(args.video, people.keypoints2d(args.person), focal=args.focal, fps=args.fps,
                              seed=args.seed, people=people, progress=progress)  # fmt: skip
    finally:
        _close(progress)
    write_camera(args.out, est.camera)
    how = {
        "camera motion": "estimated from the camera's motion",
        "scene lines": "estimated from the scene's lines",
        "people and scene lines": "estimated from the people standing in the scene and its lines",
        "floor lines": "estimated from the floor's lines taken as square, where the people standing agree",
        "camera path": "estimated from how the frames between keyframes follow one path: a lower bound, "
        "give --focal if known",
        "guess": "not measurable here, guessed as the picture's long side: give --focal if known",
    }.get(est.focal_source, est.focal_source)
    print(f"{est.camera.num_frames} frames, {est.motion} camera motion, focal {est.focal:.1f} px ({how}) "
          f"-> {args.out}")  # fmt: skip
    if est.shot is not None:
        a, b = est.shot
        who = people.default if args.person is None else args.person
        print(f"an edited video (cuts at frames {', '.join(map(str, people.cuts))}): the camera of frames "
              f"{a}-{b - 1}, person {who}'s shot; the others hold its first and last pose (for another "
              "shot's person: --person ID)")  # fmt: skip
    if est.scene_tilt is not None:
        pitch, roll = est.scene_tilt
        whence = (f"the people standing in the scene ({est.up_support} axes)" if est.up_source == "people"
                  else f"the scene's vanishing lines ({est.up_support} segments)")  # fmt: skip
        print(f"up from {whence}: camera tilt {pitch:.1f} deg down, roll {roll:.1f} deg")
    else:
        print("up: no clear vanishing lines; the lift estimates it from the body")
    return 0


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text}: expected a number > 0")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text}: expected frames a second >= 0 (0: every frame)")
    return value


def add_parsers(subparsers) -> None:
    """Register ``detect`` and ``camera`` on the ``anylift`` sub-command parsers."""
    p = subparsers.add_parser("detect", help="2D keypoints (COCO-17) of every person in a video, tracked")
    p.add_argument("video", help="video file (mp4, mov, avi, ...) or folder of images")
    p.add_argument("--out", required=True, help="KEYPOINTS.json (anylift.keypoints/1)")
    p.add_argument("--fps", type=_positive, help="frame rate (default: the video's; 30 for image folders)")
    p.add_argument("--min-score", type=float, default=0.3, help="joints below this score are dropped")
    p.add_argument("--max-gap", type=int, default=8, help="longest dropout (frames) filled in")
    p.add_argument("--no-smoothing", action="store_true", help="no One-Euro smoothing")
    p.add_argument("--keep-leg-labels", action="store_true",
                   help="keep the detector's left/right labels of the legs (default: the frames where "
                   "they jump to the other leg are relabelled)")  # fmt: skip
    p.add_argument("--set-aside-still", action="store_true",
                   help="set aside (and list) the tracks of still things that look like no one: poles, "
                   "railings, signs (default: keep every track; a body lying still can look like no one "
                   "too)")  # fmt: skip
    p.add_argument("--detect-rate", type=_rate, default=0.0, metavar="FPS",
                   help="look at faster footage in every k-th frame only, about this often a second, "
                   "and interpolate the frames between (30: half the time at 60 fps; default 0: every "
                   "frame)")  # fmt: skip
    p.add_argument("--threads", type=_count, default=0, metavar="N",
                   help="people's regions drawn at once by the landmark model (default: the cores, at "
                   "most 4; 1 where several detections share the machine)")  # fmt: skip
    p.add_argument("--progress", choices=PROGRESS_MODES, default="auto")
    p.set_defaults(func=cmd_detect)

    p = subparsers.add_parser("camera", help="camera trajectory from a video (anylift.camera/1)")
    p.add_argument("video", help="video file (mp4, mov, avi, ...) or folder of images")
    p.add_argument("--out", required=True, help="CAMERA.json (anylift.camera/1)")
    p.add_argument("--keypoints", help="the people's keypoints ('anylift detect's file, every track; "
                   "without it the video goes through the detector first, which takes about as long "
                   "again)")  # fmt: skip
    p.add_argument("--person", type=int, metavar="ID",
                   help="the person whose size gives the scale and, in an edited video, whose shot is "
                   "estimated (default: the file's default person)")  # fmt: skip
    p.add_argument("--focal", type=_positive, help="focal length in pixels (else estimated)")
    p.add_argument("--fps", type=_positive, help="frame rate (default: the video's; 30 for image folders)")
    p.add_argument("--seed", type=int, default=0, help="RANSAC seed")
    p.add_argument("--progress", choices=PROGRESS_MODES, default="auto")
    p.set_defaults(func=cmd_camera)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``detect`` or ``camera`` alone (``python -m anylift.video.cli detect ...``).

    Exit codes as ``anylift``: 0 success, 2 user error, 130 interrupted.
    """
    parser = argparse.ArgumentParser(prog="anylift")
    add_parsers(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"anylift: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("anylift: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
