"""Train the single-view denoiser (AnyLift stage 1) on hybrid windows from the training mocap clips.

    python training/train_single_view.py --config training/configs/single_view.toml
    torchrun --nproc_per_node 2 training/train_single_view.py --config training/configs/single_view.toml

Resumes from ``<out_dir>/state.pt`` when it exists (``--fresh`` starts over). ``--set KEY=VALUE``
overrides config keys (dotted for nested ones, e.g. ``--set model.width=64``). The command line,
loop, data and model all live in the engine (:mod:`anylift.training`).
"""

from __future__ import annotations

from pathlib import Path

from anylift.training.command import main as run

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "single_view.toml"


def main(argv: list[str] | None = None) -> int:
    return run(argv, task="single_view", default_config=DEFAULT_CONFIG, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
