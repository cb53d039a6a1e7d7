"""Training configuration: one file (JSON or TOML) per run, read into :class:`TrainConfig`.

Top-level keys are :class:`TrainConfig` fields; ``model`` holds
:class:`anylift.models.DenoiserConfig` fields (its ``kind`` is set by the task), ``data`` the task's
data settings (:class:`anylift.data.windows.WindowConfig` for single-view,
:class:`anylift.data.multiview.MultiViewConfig` for multi-view). Command-line overrides use dotted
keys (``--set steps=100 --set model.width=64``).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anylift.errors import InputError


@dataclass(frozen=True)
class TrainConfig:
    """One training run.

    Attributes:
        task: ``"single_view"`` or ``"multi_view"``.
        out_dir: where ``state.pt`` (resume), ``model.pt`` (the checkpoint), ``log.csv`` and
            ``config.json`` go.
        seed: every random draw of the run derives from it (and the rank and step).
        steps: total optimiser steps; batch_size: windows per step *per process*.
        lr, warmup_steps, min_lr_ratio: Adam learning rate, linear warm-up, cosine decay to
            ``lr * min_lr_ratio`` at the last step.
        weight_decay, grad_clip: AdamW decay, gradient-norm clip (0 = off).
        ema_decay: EMA of the weights (the checkpoint samples with it).
        line_weight: weight of the line-matching loss (single-view).
        log_every: steps between CSV rows; val_every: steps between validations (and at the end);
            val_size: held-in validation windows; checkpoint_every: steps between ``state.pt`` saves
            (and at the end).
        threads: torch threads per process; workers: data-loading processes per training process
            (0 = build windows in the training process).
        device: ``"auto"`` (cuda when available), ``"cpu"`` or ``"cuda"``.
        progress: show a progress bar (main process only).
        init_from: multi-view only: a checkpoint to start from - a single-view one (the shared
            weights; AnyLift's stage 1 -> 2) or a multi-view one of the same architecture (all
            weights: continue training a shipped model, e.g. with new data settings).
        precision: ``"fp32"`` or ``"bf16"`` (autocast of the forward pass and loss: about 1.4x
            faster per step on CPUs with AMX and on recent GPUs; weights and optimiser stay fp32; a
            CPU without native bf16, AVX2 only, trains in fp32 and says so).
        model: DenoiserConfig overrides; data: the task's data settings.
    """

    task: str = "single_view"
    out_dir: str = "runs/single_view"
    seed: int = 0
    steps: int = 1000
    batch_size: int = 64
    lr: float = 1e-4
    warmup_steps: int = 100
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    line_weight: float = 0.1
    log_every: int = 10
    val_every: int = 200
    val_size: int = 64
    checkpoint_every: int = 200
    threads: int = 1
    workers: int = 1
    device: str = "auto"
    progress: bool = True
    init_from: str | None = None
    precision: str = "fp32"
    model: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in ("single_view", "multi_view"):
            raise InputError(f"task = {self.task!r}", field="task", expected="'single_view' or 'multi_view'")
        if self.precision not in ("fp32", "bf16"):
            raise InputError(
                f"precision = {self.precision!r}", field="precision", expected="'fp32' or 'bf16'"
            )
        for name in ("steps", "batch_size", "log_every", "val_every", "checkpoint_every", "val_size"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} = {getattr(self, name)!r}", field=name, expected="an integer >= 1")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    for p in parts[:-1]:
        data = data.setdefault(p, {})
    data[parts[-1]] = value


def parse_override(text: str) -> tuple[str, Any]:
    """``"a.b=VALUE"`` -> ``("a.b", value)`` with VALUE read as JSON when it parses (else a string)."""
    if "=" not in text:
        raise InputError(f"override {text!r}", field="--set", expected="KEY=VALUE, e.g. steps=100")
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def load_mapping(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """A config file (``.json`` / ``.toml``) as a dict, with ``KEY=VALUE`` overrides applied."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            text = path.read_text()
            data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (OSError, ValueError) as error:
            raise InputError(f"cannot read the config: {error}", path=path) from error
    for item in overrides:
        _set_dotted(data, *parse_override(item))
    return data


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """Read a config file (``.json`` or ``.toml``) and apply ``KEY=VALUE`` overrides.

    Raises:
        InputError: unreadable file, unknown keys or bad values (naming the file and key).
    """
    data = load_mapping(path, overrides)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(
            f"unknown keys {unknown}",
            path=path,
            field=", ".join(unknown),
            expected=f"keys from {sorted(known)}",
        )
    try:
        return TrainConfig(**data)
    except TypeError as error:
        raise InputError(f"bad training config: {error}", path=path) from error
