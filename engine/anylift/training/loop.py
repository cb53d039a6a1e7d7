"""The training loop: seeded per rank and step, EMA, exact resume, validation, CSV log, progress bar.

Determinism (what makes resume exact): step ``s`` on rank ``r`` draws its windows from
``(seed, r, s)`` (:meth:`task.batch`), its diffusion steps and noise from a torch generator seeded
with the same triple, and dropout from the global torch RNG reseeded with it. So the random state
of a step is a function of the step number and need not be saved: ``state.pt`` holds the model,
EMA, optimiser and step (plus the torch RNG state for inspection), and a run resumed from it
repeats the uninterrupted run's losses exactly. The learning rate is a function of the step too.

Files in ``out_dir``: ``state.pt`` (resume), ``model.pt`` (the engine checkpoint, EMA included,
:func:`anylift.models.save_checkpoint`), ``log.csv`` (rows ``step, loss, l1, line, lr, val_loss,
val_l1, val_line, elapsed_s``; losses averaged over ranks; on resume the rows after the saved step
are dropped), ``config.json``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from anylift.diffusion import make_schedule
from anylift.errors import CheckpointError
from anylift.io.atomic import atomic_path, write_text_atomic
from anylift.models import (
    EMA,
    build_model,
    init_from_multi_view,
    init_from_single_view,
    load_checkpoint,
    save_checkpoint,
)
from anylift.training.config import TrainConfig
from anylift.training.distributed import (
    DistributedContext,
    barrier,
    mean_over_ranks,
    setup_distributed,
    teardown_distributed,
)
from anylift.training.tasks import make_task, to_torch

CSV_FIELDS = ("step", "loss", "l1", "line", "lr", "val_loss", "val_l1", "val_line", "elapsed_s")
STATE_FORMAT = "anylift.training_state/1"


def autocast(device: torch.device | str, precision: str):
    """The forward pass's autocast context: bf16 where asked (CPU or CUDA), else a no-op."""
    if precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes bf16 matrix products natively: any CUDA device, a CPU with
    AVX-512 (oneDNN; AMX-BF16 where present). Elsewhere (an AVX2-only CPU) torch falls back to a
    reference kernel: measured 12x slower per training step than fp32 (37 vs 3.1 s, the multi-view
    model at batch 16, one thread) on a 2-core AMD EPYC with AVX2 only."""
    if torch.device(device).type != "cpu":
        return True
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def run_precision(config: TrainConfig, device: torch.device | str, *, say: bool = True) -> str:
    """The precision a run trains in: ``config.precision``, except bf16 on a device without native
    bf16 (:func:`native_bf16`), which trains in fp32 and (``say``) says so on stderr."""
    if config.precision != "bf16" or native_bf16(device):
        return config.precision
    if say:
        print(
            "precision = 'bf16' asked, but this CPU has no native bf16 (AVX-512/AMX): training in fp32 "
            "(bf16 would run about 12x slower here); set precision = 'fp32' to silence this",
            file=sys.stderr,
        )
    return "fp32"


def step_seed(seed: int, rank: int, step: int) -> int:
    """A 63-bit seed from (seed, rank, step) for torch generators."""
    state = np.random.SeedSequence([int(seed), int(rank), int(step), 1]).generate_state(1, np.uint64)[0]
    return int(state) >> 1


def learning_rate(config: TrainConfig, step: int) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``lr * min_lr_ratio`` at the end."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    span = max(config.steps - config.warmup_steps, 1)
    u = min((step - config.warmup_steps) / span, 1.0)
    return config.lr * (config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * u)))


class StepBatches(IterableDataset):
    """Batches for steps ``start .. end-1`` of one rank, split over DataLoader workers by step."""

    def __init__(self, task, start: int, end: int, rank: int, size: int) -> None:
        self.task, self.start, self.end, self.rank, self.size = task, start, end, rank, size

    def __iter__(self):
        info = get_worker_info()
        wid, num = (0, 1) if info is None else (info.id, info.num_workers)
        # The DataLoader takes one batch from each worker in turn, so step order is kept.
        for step in range(self.start + wid, self.end, num):
            yield step, self.task.batch(step, self.rank, self.size)


def _read_csv(path: Path, last_step: int) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return [row for row in csv.DictReader(f) if int(row["step"]) <= last_step]


def _fmt(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def save_state(path: Path, step: int, model, ema: EMA, optimizer, config: TrainConfig) -> None:
    """The resume file: model, EMA, optimiser, step, config (loads with weights_only=True)."""
    data = {
        "format": STATE_FORMAT,
        "step": int(step),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "ema": ema.state_dict(),
        "optimizer": optimizer.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "config": json.dumps(config.to_dict()),
    }
    with atomic_path(path) as tmp:
        torch.save(data, tmp)


def load_state(path: Path) -> dict[str, Any]:
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # damaged files raise many types
        raise CheckpointError(f"cannot read the training state ({type(exc).__name__})", path=path,
                              fix="delete it to start over, or restore a good copy") from exc  # fmt: skip
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise CheckpointError("not a training state file", path=path, field="format", expected=STATE_FORMAT)
    return data


@torch.no_grad()
def validate(task, model, schedule, batch: dict[str, torch.Tensor], seed: int) -> dict[str, float]:
    """Losses of ``model`` (eval mode) on a fixed validation batch with fixed noise."""
    g = torch.Generator(device=batch["x0"].device).manual_seed(step_seed(seed, 10**6, 0))
    was = model.training
    model.eval()
    out = task.losses(model, batch, schedule, g)
    model.train(was)
    return {k: float(v) for k, v in out.items()}


def train(config: TrainConfig, *, resume: bool = True, stop_after: int | None = None) -> dict[str, Any]:
    """Run (or resume) a training run.

    Returns:
        ``{"step", "model_path", "last" (the last logged losses), "model", "ema"}`` (this rank's).

    Args:
        config: the run.
        resume: continue from ``out_dir/state.pt`` when it exists.
        stop_after: stop (saving state) after this many steps in total - for tests and for splitting
            a run across sessions; the learning-rate schedule still follows ``config.steps``.
    """
    ctx: DistributedContext = setup_distributed(config.device)
    torch.set_num_threads(max(int(config.threads), 1))
    try:
        return _train(config, ctx, resume, stop_after)
    finally:
        teardown_distributed()


def _train(
    config: TrainConfig, ctx: DistributedContext, resume: bool, stop_after: int | None
) -> dict[str, Any]:
    out = Path(config.out_dir)
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / "config.json", json.dumps(config.to_dict(), indent=2))
    barrier(ctx)
    task = make_task(config)
    model_config = task.model_config(config.model)
    torch.manual_seed(config.seed)  # same initial weights on every rank
    model = build_model(model_config).to(ctx.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    state_path = out / "state.pt"
    start = 0
    if resume and state_path.is_file():
        state = load_state(state_path)
        try:
            model.load_state_dict(state["model"])
            ema = EMA(model, config.ema_decay)
            ema.load_state_dict(state["ema"])
            optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise CheckpointError(
                "the saved training state does not fit this config's model",
                path=state_path,
                fix="use the config the run was started with, another out_dir, or --fresh to start over",
            ) from exc
        start = int(state["step"])
    else:
        if config.init_from:
            if model_config.kind != "multi_view":
                raise CheckpointError("init_from is for multi-view runs", field="init_from")
            start_from = load_checkpoint(config.init_from)
            if start_from.config.kind == "multi_view":
                try:  # all weights; a model with the epipolar condition widens one without
                    init_from_multi_view(model, start_from.inference_model.state_dict())
                except (RuntimeError, ValueError) as exc:
                    raise CheckpointError(
                        "the multi-view checkpoint's model differs from this config's",
                        path=config.init_from,
                        field="init_from",
                        fix="use the checkpoint's model settings (width, layers, views, window)",
                    ) from exc
            else:
                init_from_single_view(model, start_from.model.state_dict())
        ema = EMA(model, config.ema_decay)
    schedule = make_schedule(model_config.schedule, model_config.diffusion_steps).to(ctx.device)
    net = DistributedDataParallel(model) if ctx.distributed else model
    end = config.steps if stop_after is None else min(config.steps, int(stop_after))

    log_path = out / "log.csv"
    rows = _read_csv(log_path, start) if ctx.is_main else []
    elapsed0 = float(rows[-1]["elapsed_s"]) if rows else 0.0
    if ctx.is_main:
        with atomic_path(log_path) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, CSV_FIELDS)
            writer.writeheader()
            writer.writerows(rows)
    val_batch = to_torch(task.validation(config.val_size), ctx.device) if ctx.is_main else None

    loader = DataLoader(
        StepBatches(task, start, end, ctx.rank, config.batch_size),
        batch_size=None,
        num_workers=int(config.workers),
        prefetch_factor=2 if config.workers > 0 else None,
    )
    bar = None
    if ctx.is_main and config.progress:
        from tqdm import tqdm

        bar = tqdm(total=end, initial=start, desc=config.task, unit="step", dynamic_ncols=True)
    precision = run_precision(config, ctx.device, say=ctx.is_main)
    t0 = time.perf_counter()
    last: dict[str, float] = {}
    model.train()
    for step, batch in loader:
        lr = learning_rate(config, step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        seed = step_seed(config.seed, ctx.rank, step)
        torch.manual_seed(seed)  # dropout
        gen = torch.Generator(device=ctx.device).manual_seed(seed)
        with autocast(ctx.device, precision):
            losses = task.losses(net, to_torch(batch, ctx.device), schedule, gen)
        optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        ema.update(model)
        done = step + 1
        log_now = done % config.log_every == 0 or done == end
        val_now = done % config.val_every == 0 or done == config.steps
        if log_now or val_now:
            last = mean_over_ranks({k: float(v.detach()) for k, v in losses.items()}, ctx)
        if ctx.is_main and (log_now or val_now):
            val = validate(task, ema.model, schedule, val_batch, config.seed) if val_now else {}
            row = {
                "step": done, "loss": _fmt(last["loss"]), "l1": _fmt(last["l1"]), "line": _fmt(last["line"]),
                "lr": _fmt(lr), "val_loss": _fmt(val.get("loss")), "val_l1": _fmt(val.get("l1")),
                "val_line": _fmt(val.get("line")), "elapsed_s": f"{elapsed0 + time.perf_counter() - t0:.3f}",
            }  # fmt: skip
            with log_path.open("a", newline="") as f:
                csv.DictWriter(f, CSV_FIELDS).writerow(row)
        if done % config.checkpoint_every == 0 or done == end:
            if ctx.is_main:
                save_state(state_path, done, model, ema, optimizer, config)
                save_checkpoint(
                    out / "model.pt", model, ema=ema, normalisation=task.normalisation(),
                    extra={"step": done, "task": task.summary(), "seed": config.seed,
                           **task.checkpoint_extra()},
                )  # fmt: skip
            barrier(ctx)
        if bar is not None:
            bar.update(1)
            if last:
                bar.set_postfix(loss=f"{last['loss']:.4f}")
    if bar is not None:
        bar.close()
    return {"step": end, "model_path": str(out / "model.pt"), "last": last, "model": model, "ema": ema}
