"""The training loop shared by the training scripts (``training/*.py``).

- :mod:`.config`: :class:`TrainConfig` and :func:`load_config` (JSON or TOML files).
- :mod:`.distributed`: ``torchrun`` / DistributedDataParallel setup and teardown (gloo on CPU,
  nccl on GPU).
- :mod:`.tasks`: what is trained - :class:`SingleViewTask`, :class:`MultiViewTask` (data from
  :mod:`anylift.data.windows` / :mod:`anylift.data.multiview`, losses from :mod:`anylift.models`).
- :mod:`.loop`: :func:`train` - seeded batches per rank and step, EMA, checkpoint and exact resume,
  validation on a held-in split, CSV loss log, a progress bar with ETA.
- :mod:`.command`: the command line of the training scripts (``--config``, ``--set``,
  ``--fresh``, ``--stop-after``); each script passes its task and default config.
"""

from anylift.training.config import TrainConfig, load_config
from anylift.training.loop import train
from anylift.training.tasks import MultiViewTask, SingleViewTask, make_task

__all__ = ["MultiViewTask", "SingleViewTask", "TrainConfig", "load_config", "make_task", "train"]
