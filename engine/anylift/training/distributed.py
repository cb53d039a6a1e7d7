"""``torchrun`` support: one process per device, DistributedDataParallel, gloo on CPU / nccl on GPU.

Without ``torchrun`` (no ``WORLD_SIZE`` in the environment) everything runs in one process and no
process group is created.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands: rank / world_size (1 without torchrun), its device, the backend."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str | None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup_distributed(device: str = "auto") -> DistributedContext:
    """Read torchrun's environment, pick the device and start the process group (if any).

    Args:
        device: ``"auto"`` (cuda when available), ``"cpu"`` or ``"cuda"``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    dev = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    backend = None
    if world > 1:
        backend = "nccl" if use_cuda else "gloo"
        if not dist.is_initialized():
            dist.init_process_group(backend=backend, rank=rank, world_size=world)
    return DistributedContext(rank, world, local, dev, backend)


def teardown_distributed() -> None:
    """Leave the process group (if one was started)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def mean_over_ranks(values: dict[str, float], ctx: DistributedContext) -> dict[str, float]:
    """Average scalar values over all processes (identity without torchrun)."""
    if not ctx.distributed:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return {k: float(v) / ctx.world_size for k, v in zip(keys, t.tolist())}


def barrier(ctx: DistributedContext) -> None:
    if ctx.distributed:
        dist.barrier()
