"""The ``anylift`` command line (``shared/formats.md``).

Exit codes: 0 success, 2 user error (one line on stderr), 1 bug (traceback).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import platform
import sys
from collections.abc import Sequence

from anylift.errors import InputError


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
    print("devices:")
    print("  cpu: yes" + f" ({torch.get_num_threads()} threads)")
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            print(f"  cuda:{i}: {torch.cuda.get_device_name(i)}")
    else:
        print("  cuda: not available")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anylift",
        description="World-grounded 3D SMPL motion from monocular dynamic-camera 2D keypoints.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("info", help="versions, models found, devices")
    p.set_defaults(func=cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
