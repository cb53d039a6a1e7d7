"""Train the multi-view denoiser (AnyLift stage 2) from 3D motion and/or a synthesized dataset.

    python training/train_multi_view.py --config training/configs/multi_view.toml
    python training/train_multi_view.py --config training/configs/multi_view.toml \
        --set data.dataset=runs/synth/multiview.npz --set data.dataset_fraction=1.0
    torchrun --nproc_per_node 2 training/train_multi_view.py --config ...

``data.dataset`` (a file from ``synthesize_multiview.py``) is the "2D only" path; without it, or with
``data.dataset_fraction`` < 1, windows also come from the training mocap clips (the "3D available"
path). ``init_from`` starts the shared weights from a single-view checkpoint. Options as for
``train_single_view.py``.
"""

from __future__ import annotations

from pathlib import Path

from anylift.training.command import main as run

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "multi_view.toml"


def main(argv: list[str] | None = None) -> int:
    return run(argv, task="multi_view", default_config=DEFAULT_CONFIG, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
