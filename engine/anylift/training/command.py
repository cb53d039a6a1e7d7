"""The command line every training script runs (``training/train_*.py`` are thin wrappers).

Options: ``--config`` (JSON or TOML), ``--set KEY=VALUE`` overrides (dotted for nested keys,
e.g. ``--set model.width=64``), ``--fresh`` (ignore ``<out_dir>/state.pt`` and start over),
``--stop-after N`` (stop after N steps in total). Exit status 0, or 2 with a one-line error.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from anylift.errors import InputError
from anylift.training.config import load_config
from anylift.training.loop import train


def main(argv: Sequence[str] | None, *, task: str, default_config: Path, description: str = "") -> int:
    """Parse ``argv``, check the config's ``task`` and :func:`~anylift.training.loop.train`.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).
        task: the config's required ``task`` (``"single_view"`` or ``"multi_view"``).
        default_config: the config file used without ``--config``.
        description: the ``--help`` description (the script's first docstring line).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", type=Path, default=default_config, help="JSON or TOML training config")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key"
    )
    parser.add_argument("--fresh", action="store_true", help="ignore an existing state.pt and start over")
    parser.add_argument("--stop-after", type=int, default=None, help="stop after this many steps in total")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, args.set)
        if config.task != task:
            raise InputError(f"task = {config.task!r}", path=args.config, field="task", expected=repr(task))
        result = train(config, resume=not args.fresh, stop_after=args.stop_after)
    except InputError as error:
        parser.exit(2, f"error: {error}\n")
    print(f"step {result['step']}: {result['model_path']}")
    return 0
