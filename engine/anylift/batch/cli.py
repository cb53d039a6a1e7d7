"""``anylift batch`` (formats.md, "Command line")::

    anylift batch FOLDER --out DIR [--camera DIR] [--shard I/N] [--resume] [--manifest FILE.jsonl]
                  [--executor local|dask] [--workers N] [--scheduler ADDRESS] [--threads N]
                  [--checkpoint PATH] [--body-model PATH] [--samples S] [--steps N] [--seed N]
                  [--method anylift|smplify] [--ground] [--device cpu|cuda] [--all [--min-seconds S]]
                  [--set-aside-still]

Lifts every clip of FOLDER (:mod:`anylift.batch.clips`: videos, keypoints files, OpenPose folders)
into ``DIR/<clip>.npz`` (``--all``: every person, ``DIR/<clip>_<id>.npz``; a video is detected and
its camera estimated first, into ``DIR/<clip>_keypoints.json`` and ``DIR/<clip>_camera.json``) and
appends one line per clip to the manifest (default ``DIR/manifest.jsonl``, ``DIR/manifest.shard-I-of-N.jsonl``
for a shard). Exit code 0 when every clip is lifted or skipped, 2 when a clip failed on its input
(the others still run), 1 when one hit a bug. :func:`add_parser` registers it on ``anylift``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from anylift.errors import InputError
from anylift.lifting.options import DEFAULT_SAMPLES, DEFAULT_STEPS


def cmd_batch(args: argparse.Namespace) -> int:
    """Lift a folder of clips (this shard), resumable, with a manifest."""
    from anylift.lifting.options import LiftOptions

    from .clips import find_clips, parse_shard, select_shard
    from .manifest import default_manifest
    from .run import PeopleChoice, run_batch, summary

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError("is a file", path=out, field="--out", expected="an output folder")
    shard = parse_shard(args.shard) if args.shard else None
    clips = find_clips(args.folder, args.camera)
    manifest = Path(args.manifest) if args.manifest else default_manifest(out, shard)
    given = {k: getattr(args, k) for k in ("samples", "steps") if getattr(args, k) is not None}
    options = LiftOptions(
        checkpoint=args.checkpoint, body_model=args.body_model, seed=args.seed, method=args.method,
        ground=args.ground, device=args.device, **given,
    )  # fmt: skip
    total = len(select_shard(clips, shard))
    show = sys.stderr.isatty()
    done = 0

    def progress(record: dict) -> None:
        nonlocal done
        done += 1
        if show or record["status"] in ("failed", "error"):
            detail = record.get("error") or f"{record.get('seconds') or 0:.1f} s"
            print(f"[{done}/{total}] {record['clip']}: {record['status']} ({detail})", file=sys.stderr)

    choice = PeopleChoice(args.all, args.min_seconds, set_aside_still=args.set_aside_still)
    start = time.perf_counter()
    records = run_batch(
        clips, out, options=options, threads=args.threads, shard=shard, resume=args.resume, manifest=manifest,
        executor=args.executor, workers=args.workers, scheduler=args.scheduler, on_record=progress,
        people=choice,
    )  # fmt: skip
    print(summary(records, time.perf_counter() - start))
    print(f"manifest: {manifest}")
    statuses = {r["status"] for r in records}
    return 1 if "error" in statuses else 2 if "failed" in statuses else 0


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def add_parser(subparsers) -> None:
    """Register ``batch`` on the ``anylift`` sub-command parsers."""
    from anylift.cli import _seconds  # the lift's --min-seconds type (anylift.cli calls this)

    p = subparsers.add_parser("batch", help="lift a folder of clips: shards, resume, manifest, Dask")
    p.add_argument("folder", metavar="FOLDER", help="folder of videos / keypoints files / OpenPose folders")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (DIR/<clip>.npz)")
    p.add_argument("--camera", metavar="DIR", help="folder of cameras named after the clips")
    p.add_argument("--shard", metavar="I/N", help="lift only share I of N (clips in name order)")
    p.add_argument("--resume", action="store_true", help="skip clips whose output is a valid result")
    p.add_argument("--manifest", metavar="FILE.jsonl", help="manifest to append to")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local: in sequence here; dask: a Dask cluster (default local)")  # fmt: skip
    p.add_argument("--workers", type=_count, default=2, help="processes of the local Dask cluster (2)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler (tcp://host:8786)")
    p.add_argument("--threads", type=_count, default=1, help="threads per clip: torch, pose model (1)")
    p.add_argument("--checkpoint", metavar="PATH", help="multi-view checkpoint (default: the shipped one)")
    p.add_argument("--body-model", metavar="PATH", help="SMPL model file (default: proxy)")
    p.add_argument(
        "--samples",
        type=_count,
        default=None,
        metavar="S",
        help=f"samples per clip (default {DEFAULT_SAMPLES})",
    )
    p.add_argument(
        "--steps", type=_count, default=None, metavar="N", help=f"DDIM steps (default {DEFAULT_STEPS})"
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    p.add_argument("--method", choices=("anylift", "smplify"), default="anylift")
    p.add_argument("--ground", action="store_true", help="level each result so the floor is z = 0")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--all", action="store_true", help="lift every person of a clip: DIR/<clip>_<id>.npz each")
    p.add_argument("--min-seconds", type=_seconds, default=1.0, metavar="S",
                   help="with --all, only people seen at least this long (default 1)")  # fmt: skip
    p.add_argument("--set-aside-still", action="store_true",
                   help="detecting a video: set aside the tracks of still things that look like no one "
                   "(as anylift detect --set-aside-still; listed in the manifest's set_aside)")  # fmt: skip
    p.set_defaults(func=cmd_batch)
