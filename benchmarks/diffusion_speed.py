"""Speed of the default-size denoisers on this machine's CPU.

Prints training steps per second (forward + backward + Adam) of the single- and multi-view
models at their default sizes, and the time to sample one 60-frame window x 4 views with 50 DDIM
steps (the multi-view model, batch 1). Synthetic inputs: speed does not depend on the values.

    python benchmarks/diffusion_speed.py [--threads 1] [--batch 64] [--train-steps 5]
"""

from __future__ import annotations

import argparse
import time

import torch

from anylift.diffusion import cosine_schedule, sample
from anylift.models import (
    DenoiserConfig,
    MultiViewCondition,
    SingleViewCondition,
    build_model,
    denoising_losses,
)


def _single_view_batch(config: DenoiserConfig, batch: int):
    t, j = config.window, config.num_points
    x0 = torch.randn(batch, t, j, 2)
    cond = SingleViewCondition(
        torch.randn(batch, t, config.camera_dim), torch.randn(batch, t, j, 3), torch.ones(batch, t, j)
    )
    return x0, cond, torch.ones(batch, t, j)


def _multi_view_batch(config: DenoiserConfig, batch: int):
    v, t, j = config.num_views, config.window, config.num_points
    x0 = torch.randn(batch, v, t, j, 2)
    cond = MultiViewCondition.from_input(
        torch.randn(batch, v, t, config.camera_dim), x0[:, 0], torch.ones(batch, t, j)
    )
    return x0, cond, torch.ones(batch, v, t, j)


def train_steps_per_second(kind: str, batch: int, steps: int) -> float:
    config = DenoiserConfig.default(kind)
    model = build_model(config).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    schedule = cosine_schedule(config.diffusion_steps)
    x0, cond, mask = (_single_view_batch if kind == "single_view" else _multi_view_batch)(config, batch)
    g = torch.Generator().manual_seed(0)

    def step():
        out = denoising_losses(model, schedule, x0, cond, mask, generator=g)
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        opt.step()

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start)


def sampling_seconds(steps: int = 50) -> float:
    config = DenoiserConfig.default("multi_view")
    model = build_model(config).eval()
    _, cond, _ = _multi_view_batch(config, 1)
    shape = (1, config.num_views, config.window, config.num_points, 2)
    sample(model, shape, cond, steps=2)  # warm-up
    start = time.perf_counter()
    sample(model, shape, cond, steps=steps, generator=torch.Generator().manual_seed(0))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--train-steps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for kind in ("single_view", "multi_view"):
        config = DenoiserConfig.default(kind)
        params = sum(p.numel() for p in build_model(config).parameters())
        rate = train_steps_per_second(kind, args.batch, args.train_steps)
        views = f" x {config.num_views} views" if kind == "multi_view" else ""
        print(
            f"{kind}: {config.layers} layers, width {config.width}, {params / 1e6:.2f} M parameters; "
            f"batch {args.batch} x {config.window} frames{views}: {rate:.2f} training steps/s "
            f"({args.threads} threads)"
        )
    seconds = sampling_seconds(50)
    print(f"sampling 1 window x 60 frames x 4 views, 50 DDIM steps: {seconds:.2f} s ({args.threads} threads)")


if __name__ == "__main__":
    main()
