"""Training speed with the real data loader, on this machine's CPU.

Prints, for the single- and multi-view default configs and each ``--precision`` (fp32, bf16
autocast where the CPU has native bf16 - AVX-512/AMX; an AVX2-only CPU trains a bf16 config in
fp32, :func:`anylift.training.loop.run_precision`, and the line says so): the time to build one
batch of windows (numpy, one process), and training steps per second of the real loop
(:func:`anylift.training.train`: windows built on the fly in ``--workers`` loader processes, DDP
off, EMA, logging), measured over ``--steps`` steps after a warm-up.

    python benchmarks/training_speed.py [--steps 6] [--batch B] [--workers 1] [--threads 1]
        [--precision fp32 bf16]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from anylift.training import load_config, make_task, train
from anylift.training.loop import run_precision

CONFIGS = Path(__file__).parents[1] / "training" / "configs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch", type=int, default=None, help="default: the config's batch_size")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", choices=("single_view", "multi_view"), default=None)
    parser.add_argument("--precision", nargs="+", choices=("fp32", "bf16"), default=["fp32", "bf16"])
    args = parser.parse_args()
    for kind, precision in ((k, p) for k in ("single_view", "multi_view") for p in args.precision):
        if args.only and kind != args.only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            overrides = [
                f"out_dir={tmp}", f"workers={args.workers}",
                f"threads={args.threads}", "progress=false", "val_size=4", "init_from=null",
                f"precision={precision}",
                "data.dataset=null" if kind == "multi_view" else "data.window=60",
            ]  # fmt: skip
            if args.batch is not None:
                overrides.append(f"batch_size={args.batch}")
            config = load_config(CONFIGS / f"{kind}.toml", overrides)
            size = config.batch_size
            task = make_task(config)
            task.batch(0, 0, 4)  # load clips
            start = time.perf_counter()
            task.batch(1, 0, size)
            build = time.perf_counter() - start
            warm = 2
            config = load_config(CONFIGS / f"{kind}.toml", [*overrides, f"steps={warm + args.steps}",
                                 "log_every=1", "val_every=1000", "checkpoint_every=1000"])  # fmt: skip
            train(config)
            with open(Path(tmp) / "log.csv", newline="") as f:
                elapsed = [float(row["elapsed_s"]) for row in csv.DictReader(f)]
            # Steady state: from the end of the warm-up steps to the last step (no start-up, no saving).
            rate = args.steps / (elapsed[-1] - elapsed[warm - 1])
        ran = run_precision(config, "cpu", say=False)
        label = precision if ran == precision else f"{precision} (ran in {ran}: no native bf16 on this CPU)"
        print(
            f"{kind} {label}: one batch of {size} windows built in {build:.2f} s; "
            f"{rate:.2f} training steps/s with the real loader "
            f"({args.workers} loader workers, {args.threads} threads; steady state after {warm} warm-up "
            "steps)"
        )


if __name__ == "__main__":
    main()
