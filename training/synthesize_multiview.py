"""Synthesize a multi-view dataset from single-view 2D sequences (the "2D only" path).

SDS with a trained single-view model on V-1 ring views (line loss between adjacent views and to the
input view), triangulation, SMPL fit, reprojection into 4 evenly spaced cameras; writes a ``.npz``
that ``train_multi_view.py`` reads (``--set data.dataset=PATH``).

    python training/synthesize_multiview.py --config training/configs/synthesize.toml \
        --checkpoint runs/single_view/model.pt --out runs/synth/multiview.npz

Inputs: ``source = "mocap"`` simulates ``count`` single-view sequences from the training clips (the
3D is discarded); ``source = "files"`` reads ``inputs = [[keypoints, camera], ...]`` file pairs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from anylift.body.model import load_body_model
from anylift.data.multiview import write_multiview_dataset
from anylift.data.synthesis import (
    SynthesisConfig,
    file_sequences,
    mocap_sequences,
    synthesize_dataset,
)
from anylift.data.windows import WindowConfig
from anylift.diffusion import make_schedule
from anylift.errors import InputError
from anylift.fitting.smpl_fit import SmplFitConfig
from anylift.models import load_checkpoint
from anylift.progress import make_progress
from anylift.training.config import load_mapping

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "synthesize.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--checkpoint", type=Path, help="single-view checkpoint (overrides the config)")
    parser.add_argument("--out", type=Path, help="dataset file to write (overrides the config)")
    args = parser.parse_args(argv)
    try:
        cfg = load_mapping(args.config, args.set)
        checkpoint = args.checkpoint or cfg.get("checkpoint")
        out = args.out or cfg.get("out")
        if not checkpoint or not out:
            raise InputError("no checkpoint or output path", path=args.config, field="checkpoint/out",
                             fix="pass --checkpoint and --out")  # fmt: skip
        torch.set_num_threads(int(cfg.get("threads", 1)))
        seed = int(cfg.get("seed", 0))
        ckpt = load_checkpoint(checkpoint, kind="single_view")
        schedule = make_schedule(ckpt.config.schedule, ckpt.config.diffusion_steps)
        windows = WindowConfig.from_dict(cfg.get("data", {}))
        if cfg.get("source", "mocap") == "mocap":
            sequences = mocap_sequences(int(cfg.get("count", 64)), seed, windows)
        else:
            sequences = file_sequences([tuple(p) for p in cfg.get("inputs", [])], windows.window)
        if not sequences:
            raise InputError("no input sequences", path=args.config, field="source/inputs")
        sds = SynthesisConfig(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.get("sds", {}).items()}
        )
        fit = SmplFitConfig(**cfg.get("fit", {}))
        start = time.perf_counter()
        dataset = synthesize_dataset(
            ckpt.inference_model, schedule, sequences, load_body_model(), sds,
            batch=int(cfg.get("batch", 8)), fps=windows.fps, output_views=int(cfg.get("output_views", 4)),
            fit_config=fit, seed=seed, progress=make_progress("auto"),
        )  # fmt: skip
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        write_multiview_dataset(out, dataset)
    except InputError as error:
        parser.exit(2, f"error: {error}\n")
    print(
        f"{len(dataset)} sequences -> {out} in {time.perf_counter() - start:.0f} s; mean SMPL fit error "
        f"{1000 * dataset.info['fit_error'].mean():.1f} mm, "
        f"mean line residual {dataset.info['line_residual'].mean():.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
