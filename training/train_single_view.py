"""Train the single-view denoiser (AnyLift stage 1) on hybrid windows from the training mocap clips.

    python training/train_single_view.py --config training/configs/single_view.toml
    torchrun --nproc_per_node 2 training/train_single_view.py --config training/configs/single_view.toml

Resumes from ``<out_dir>/state.pt`` when it exists (``--fresh`` starts over). ``--set KEY=VALUE``
overrides config keys (dotted for nested ones, e.g. ``--set model.width=64``). The loop, data and
model all live in the engine (:mod:`anylift.training`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from anylift.errors import InputError
from anylift.training import load_config, train

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "single_view.toml"


def main(argv: list[str] | None = None, task: str = "single_view", default: Path = DEFAULT_CONFIG) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=default, help="JSON or TOML training config")
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


if __name__ == "__main__":
    raise SystemExit(main())
