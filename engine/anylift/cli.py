"""The ``anylift`` command line (``docs/formats.md``).

Exit codes: 0 success, 2 user error (one line on stderr), 1 bug (traceback), 130 / 143
interrupted by SIGINT (Ctrl-C) / SIGTERM (the add-on's Cancel): one line, no traceback, and no
file written (a result being written when the signal comes is finished first, then we stop).

- ``anylift lift KEYPOINTS [--camera CAMERA] --out RESULT.npz [...]``: every input (keypoints,
  camera, checkpoint, body model, output folder) is read and checked before the long part, and
  the result is written atomically at the very end, so a user error writes nothing.
- ``anylift eval RESULT.npz --truth TRUTH.npz [--json]``: metrics between two motion files.
- ``anylift info``.
- ``anylift rest-mesh --kind KIND --betas B0,...,B9 --out REST.npz``: the body's rest mesh for a shape
  (:mod:`anylift.body.rest`), for the Blender add-on when the engine runs in another Python.
- ``anylift batch FOLDER --out DIR [...]``: :mod:`anylift.batch.cli`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import json
import os
import platform
import signal
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from anylift.batch.cli import add_parser as add_batch_parser
from anylift.errors import InputError
from anylift.lifting.options import DEFAULT_SAMPLES, DEFAULT_STEPS, LiftOptions
from anylift.video.cli import add_parsers as add_video_parsers


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def cmd_info(args: argparse.Namespace) -> int:
    """Print versions, the models found and the devices."""
    import torch

    import anylift

    print(f"anylift {anylift.__version__} (Python {platform.python_version()}, {platform.machine()})")
    for dist in ("torch", "numpy", "scipy", "smplx", "opencv-python-headless", "bpy", "mediapipe"):
        print(f"  {dist:24s} {_version(dist)}")
    print("body model:")
    official = os.environ.get("ANYLIFT_SMPL_MODEL")
    if official:
        state = "found" if os.path.exists(official) else "MISSING"
        print(f"  official SMPL (ANYLIFT_SMPL_MODEL): {official} [{state}]")
    else:
        print("  proxy SMPL body (bundled generator; set ANYLIFT_SMPL_MODEL for the official model)")
    print("checkpoints:")
    from anylift.errors import CheckpointError
    from anylift.models import load_checkpoint
    from anylift.pipeline import DEFAULT_CHECKPOINT, DEFAULT_HOI_CHECKPOINTS

    shipped = [("default (body)", DEFAULT_CHECKPOINT)]
    shipped += [(f"HOI {category}", path) for category, path in DEFAULT_HOI_CHECKPOINTS.items()]
    for label, path in shipped:
        try:
            ckpt = load_checkpoint(path, kind="multi_view")
        except CheckpointError as exc:
            print(f"  {label:15s} {path} [unusable: {exc.reason}]")
            continue
        c = ckpt.config
        print(
            f"  {label:15s} {path} [{c.layers}x{c.width}, {c.num_views} views x {c.window} frames, "
            f"{ckpt.extra.get('step', '?')} training steps]"
        )
    print("devices:")
    print("  cpu: yes" + f" ({torch.get_num_threads()} threads)")
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            print(f"  cuda:{i}: {torch.cuda.get_device_name(i)}")
    else:
        print("  cuda: not available")
    return 0


MAX_SEED = 2**32 - 1
MAX_SAMPLES = 64
MAX_STEPS = 1000


def _whole(low: int, high: int):
    """argparse type: a whole number in [low, high] (a one-line error otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text[:40]} is outside {low}..{high}")
        return value

    parse.__name__ = "whole number"
    return parse


def _seconds(text: str) -> float:
    """argparse type: a duration in seconds, a finite number >= 0 (a one-line error otherwise)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of seconds") from None
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text[:40]} is not a number of seconds >= 0")
    return value


def _check_out(path: str) -> Path:
    """The ``--out`` file, checked writable before the long part (a probe file is made and removed)."""
    from anylift.io.atomic import remove_stale_temporaries

    out = Path(path)
    if out.suffix.lower() != ".npz":
        raise InputError(
            "the result file name must end in .npz", path=out, field="--out", expected="RESULT.npz"
        )
    if not out.parent.is_dir():
        raise InputError("the folder does not exist", path=out.parent, field="--out", fix="Create it first")
    if out.is_dir():
        raise InputError("is a folder", path=out, field="--out", expected="a file name ending in .npz")
    try:
        with tempfile.TemporaryFile(dir=out.parent, prefix=f".{out.name}.probe."):
            pass
    except OSError as e:
        raise InputError(
            f"cannot write in this folder ({e.strerror or e})",
            path=out.parent,
            field="--out",
            fix="Choose a folder you can write to",
        ) from None
    remove_stale_temporaries(out)
    return out


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived (raised from the signal handler, like Ctrl-C's KeyboardInterrupt)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_pending: list[int] = []
_deferring = False


def _on_signal(signum, _frame) -> None:
    if _deferring:
        _pending.append(signum)
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals_handled() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` (cleanup runs in ``finally``/``except``)."""
    installed = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):  # not the main thread: leave them alone
            installed[sig] = signal.signal(sig, _on_signal)
    try:
        yield
    finally:
        for sig, old in installed.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def _deferred_signals() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while a result is written; raise :class:`Interrupted` after it."""
    global _deferring
    _pending.clear()
    _deferring = True
    try:
        yield
    finally:
        _deferring = False
    if _pending:
        raise Interrupted(_pending[0])


def write_result(out: Path, motion) -> None:
    """Write ``motion`` to ``out`` atomically; SIGINT/SIGTERM wait until it is complete."""
    from anylift.io.motion import write_motion

    try:
        with _deferred_signals():
            write_motion(out, motion)
    except Interrupted:
        print(f"wrote {out}")  # the signal came while writing: the result is complete
        raise


def _lift_all(args: argparse.Namespace, out: Path, people) -> int:
    """``--all``: every person seen at least ``--min-seconds`` into ``RESULT_<id>.npz``; a person
    whose lift is refused is reported and the others go on (exit code 2 if any was refused)."""
    chosen = people.seen_for(args.min_seconds)
    short = [pid for pid in people.ids() if pid not in chosen]
    if short:
        listed = ", ".join(map(str, short[:12])) + (", ..." if len(short) > 12 else "")
        print(f"skipping {len(short)} of {len(people.ids())} people seen under {args.min_seconds:g} s "
              f"({listed}; lift one with --person ID)")  # fmt: skip
    refused = []
    for pid in chosen:
        name = str(out.with_name(f"{out.stem}_{pid}{out.suffix}"))
        try:
            cmd_lift(argparse.Namespace(**{**vars(args), "all": False, "person": pid, "out": name}))
        except InputError as exc:
            print(f"anylift: error: person {pid}: {' '.join(str(exc).split())}", file=sys.stderr)
            refused.append(pid)
    print(f"lifted {len(chosen) - len(refused)} of {len(chosen)} people"
          + (f"; refused: {', '.join(map(str, refused))}" if refused else ""))  # fmt: skip
    return 2 if refused else 0


def cmd_lift(args: argparse.Namespace) -> int:
    """Lift 2D keypoints to a motion file (one person, or every person with ``--all``)."""
    from anylift.io.cameras import read_camera
    from anylift.io.people import select_person
    from anylift.lifting.gravity import parse_up

    out = _check_out(args.out)
    for name, given in (("KEYPOINTS", args.keypoints), ("--camera", args.camera)):
        if given and out.exists() and os.path.samefile(out, given):
            raise InputError(
                f"is the {name} input", path=out, field="--out", fix="Write the result to another file"
            )
    up = parse_up(args.up)
    # Several people (anylift.io.people): --person ID, --all, else the most prominent.
    keypoints, person, people = select_person(args.keypoints, args.person)
    camera = read_camera(args.camera) if args.camera else None
    if args.all:
        return _lift_all(args, out, people)
    if person is not None:
        how = "as asked" if args.person is not None else "the default: longest, largest, most central"
        ids = people.ids()
        listed = ", ".join(map(str, ids[:12])) + (f", ... {ids[-1]}" if len(ids) > 12 else "")
        print(f"person {person} ({how}; {len(ids)} in the file: {listed})")
        if people.cuts and camera is not None:
            cuts = ", ".join(map(str, people.cuts))
            print(f"an edited video (cuts at frames {cuts}): the camera file must be this person's shot's "
                  f"('anylift camera ... --person {person}')")  # fmt: skip
    # torch comes in only now: a bad file is reported in a fraction of a second.
    from anylift.lifting.checks import check_result
    from anylift.lifting.objects import ObjectsIgnoredWarning
    from anylift.pipeline import lift_with_report
    from anylift.progress import make_progress

    given = {k: getattr(args, k) for k in ("samples", "steps", "seed") if getattr(args, k) is not None}
    options = LiftOptions(
        checkpoint=args.checkpoint, body_model=args.body_model, method=args.method, ground=args.ground,
        device=args.device, up=up, **given,
    )  # fmt: skip
    progress = make_progress(args.progress)
    try:
        with warnings.catch_warnings():
            # Printed below as clean lines, from the report.
            warnings.simplefilter("ignore", ObjectsIgnoredWarning)
            result = lift_with_report(
                keypoints, camera, options, progress=progress, frame_times=people.frame_times
            )
    finally:
        close = getattr(progress, "close", None)
        if close is not None:
            close()
    write_result(out, result.motion)
    m = result.motion
    for message in [*result.warnings, *check_result(result.motion)]:
        print(f"anylift: warning: {' '.join(message.split())}", file=sys.stderr)
    print(f"wrote {out}")
    world = "camera file's world" if result.world.from_file else "first camera frame, Z up"
    scale = "" if result.world.metric else f", camera scale {result.world.scale:.4g} units/m"
    rate = f"{m.fps:.4g} fps" + (" on average (frame_times)" if people.frame_times is not None else "")
    print(
        f"{m.num_frames} frames at {rate}, method {args.method}, body {m.body_model}, "
        f"{result.samples or 1} sample(s), world: {world}{scale}, "
        f"{result.timings.get('total', 0.0):.1f} s"
    )
    if m.root_std is not None:
        import numpy as np

        print(
            f"spread of the samples (median): placement {1000 * np.median(m.root_std):.0f} mm, "
            f"pose {1000 * np.median(m.keypoints3d_pose_std):.0f} mm"
        )
    if result.ground_offset is not None:
        print(f"ground: translated by (0, 0, {-result.ground_offset:+.4f}) m so the floor is z = 0")
    g = result.gravity
    if g is not None and g.floor_offset is not None:
        print(f"floor: the feet's contact level, moved to z = 0 (by {-g.floor_offset:+.3f} m)")
    if g is not None and g.pitch_deg is not None:
        conf = f", confidence {g.confidence:.2f}" if g.source == "estimated" else ""
        turned = (f" (the estimate tilted {abs(g.turned_deg):.1f} deg further down: it had the feet above "
                  "the camera's horizon, the camera under the floor)" if g.turned_deg else "")  # fmt: skip
        print(
            f"up: {g.source}{conf}; camera tilt {g.pitch_deg:.1f} deg down, roll {g.roll_deg:.1f} deg{turned}"
            + ("; override with --up X,Y,Z or --up camera" if g.source == "estimated" else "")
        )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Print the metrics of a result against the truth."""
    from anylift.io.motion import read_motion
    from anylift.metrics import evaluate_motions, format_table

    metrics = evaluate_motions(read_motion(args.result), read_motion(args.truth))
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(format_table(metrics))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with formats.md's error contract: one line on stderr, exit 2."""

    def error(self, message: str):
        self.exit(2, f"anylift: error: {' '.join(message.split())} (see 'anylift --help')\n")


def cmd_rest_mesh(args: argparse.Namespace) -> int:
    """Write the body's rest mesh for ``--betas`` (:func:`anylift.body.rest.compute_body_rest`)."""
    from anylift.body.rest import compute_body_rest, parse_betas, write_body_rest
    from anylift.progress import make_progress

    out = _check_out(args.out)
    betas = parse_betas(args.betas)
    rest = compute_body_rest(betas, args.kind, args.body_model, progress=make_progress(args.progress))
    write_body_rest(out, rest)
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="anylift",
        description="World-grounded 3D SMPL motion from monocular dynamic-camera 2D keypoints.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("info", help="versions, models found, devices")
    p.set_defaults(func=cmd_info)
    add_video_parsers(sub)

    p = sub.add_parser("lift", help="2D keypoints (+ camera) -> world-grounded SMPL motion (.npz)")
    p.add_argument("keypoints", metavar="KEYPOINTS", help="2D keypoints file (or OpenPose folder)")
    p.add_argument(
        "--camera", metavar="CAMERA", help="camera trajectory (anylift JSON, MegaSaM .npz, COLMAP)"
    )
    p.add_argument("--out", required=True, metavar="RESULT.npz", help="where to write the motion")
    p.add_argument("--checkpoint", metavar="PATH", help="multi-view checkpoint (default: the shipped one)")
    p.add_argument(
        "--body-model", metavar="PATH", help="SMPL model file (default: $ANYLIFT_SMPL_MODEL or proxy)"
    )
    p.add_argument("--samples", type=_whole(1, MAX_SAMPLES), default=None, metavar="S",
                   help=f"samples drawn and fused, 1..{MAX_SAMPLES} (default {DEFAULT_SAMPLES})")  # fmt: skip
    p.add_argument("--steps", type=_whole(1, MAX_STEPS), default=None, metavar="N",
                   help=f"DDIM steps, 1..{MAX_STEPS} (default {DEFAULT_STEPS})")  # fmt: skip
    p.add_argument("--seed", type=_whole(0, MAX_SEED), default=0, metavar="N",
                   help=f"random seed, 0..{MAX_SEED} (default 0)")  # fmt: skip
    p.add_argument("--method", choices=("anylift", "smplify"), default="anylift")
    p.add_argument("--ground", action="store_true", help="level the result so the floor is z = 0")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--progress", choices=("auto", "bar", "jsonl", "none"), default="auto",
                   help="a bar on a terminal (auto), JSON lines on stderr, or none")  # fmt: skip
    who = p.add_mutually_exclusive_group()
    who.add_argument("--person", type=int, metavar="ID", help="the track id to lift (see 'anylift detect')")
    who.add_argument("--all", action="store_true", help="lift every person: RESULT_<id>.npz each")
    p.add_argument("--min-seconds", type=_seconds, default=1.0, metavar="S",
                   help="with --all: skip people seen in under S seconds of frames (default 1)")  # fmt: skip
    p.add_argument(
        "--up",
        metavar="X,Y,Z|camera",
        help="world up in the camera file's world (default: the file's, else estimated)",
    )
    p.set_defaults(func=cmd_lift)

    p = sub.add_parser("rest-mesh", help="the body's rest mesh for a shape (.npz, for the Blender add-on)")
    p.add_argument("--kind", choices=("smpl-proxy", "smpl"), required=True, help="the result's body_model")
    p.add_argument("--betas", required=True, metavar="B0,...,B9", help="10 comma-separated shape values")
    p.add_argument("--out", required=True, metavar="REST.npz", help="where to write the rest mesh")
    p.add_argument(
        "--body-model", metavar="PATH", help="SMPL model file (default: $ANYLIFT_SMPL_MODEL or proxy)"
    )
    p.add_argument("--progress", choices=("auto", "bar", "jsonl", "none"), default="none",
                   help="JSON lines on stderr, a bar, or none (default)")  # fmt: skip
    p.set_defaults(func=cmd_rest_mesh)

    p = sub.add_parser("eval", help="metrics of a result against the truth")
    p.add_argument("result", metavar="RESULT.npz")
    p.add_argument("--truth", required=True, metavar="TRUTH.npz")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_eval)
    add_batch_parser(sub)
    return parser


def run_guarded(func: Callable[..., int | None], *args: Any) -> int:
    """Call ``func(*args)`` with the command line's error contract; return the exit code.

    InputError: one line on stderr, 2. SIGINT / SIGTERM: one line, 130 / 143 (cleanup in
    ``finally`` blocks has run; atomic writes leave no temporary file). Anything else is a bug:
    the traceback is printed and the code is 1 (by the interpreter).
    """
    with _signals_handled():
        try:
            return int(func(*args) or 0)
        except InputError as exc:
            # One line, whatever the message holds (a file name with a newline, a nested error).
            text = " ".join(str(exc).split())
            print(f"anylift: error: {text}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as exc:
            signum = getattr(exc, "signum", signal.SIGINT)
            print(f"anylift: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
            return 128 + int(signum)


def main(argv: Sequence[str] | None = None) -> int:
    def run() -> int:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help (0) or a bad argument (2, its line already printed)
            return exc.code if isinstance(exc.code, int) else 2
        return args.func(args)

    return run_guarded(run)


if __name__ == "__main__":
    sys.exit(main())
