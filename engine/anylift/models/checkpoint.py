"""One file per trained denoiser: config, weights, EMA weights, normalisation, skeleton, version.

The file is ``torch.save`` of a plain dict (tensors, numbers, strings, lists, dicts only) so it
loads with ``torch.load(weights_only=True)``, which never runs pickled code::

    {"format": "anylift.checkpoint", "version": 1, "kind": "single_view" | "multi_view",
     "skeleton": "coco17", "config": DenoiserConfig.to_dict(), "weights": state_dict,
     "ema": EMA.state_dict() | None, "normalisation": dict | None, "extra": dict | None}

``normalisation`` holds whatever statistics the trainer used to present data to the model
(e.g. ``{"body_size_m": 1.5, "score_threshold": 0.3}``), so inference presents data the same way;
``extra`` holds anything else plain (training step, data summary, optimiser state).
Every problem on loading raises :class:`anylift.errors.CheckpointError` naming the file and the fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from anylift.errors import CheckpointError
from anylift.io.atomic import atomic_path
from anylift.models.config import MODEL_KINDS, DenoiserConfig
from anylift.models.ema import EMA
from anylift.models.multi_view import MultiViewDenoiser
from anylift.models.single_view import SingleViewDenoiser

CHECKPOINT_FORMAT = "anylift.checkpoint"
CHECKPOINT_VERSION = 1


@dataclass
class Checkpoint:
    """A loaded checkpoint.

    Attributes:
        config: the model's sizes.
        model: the trained (raw) weights, eval mode.
        ema_model: the EMA weights, eval mode, or ``None`` when the file has none.
        normalisation, extra: the dicts saved with it (``{}`` when absent).
        skeleton: joint order of the keypoints the model was trained on.
        path: the file.
    """

    config: DenoiserConfig
    model: nn.Module
    ema_model: nn.Module | None
    normalisation: dict[str, Any]
    extra: dict[str, Any]
    skeleton: str
    path: Path

    @property
    def inference_model(self) -> nn.Module:
        """The weights to sample with: EMA when present, else the raw weights."""
        return self.ema_model if self.ema_model is not None else self.model


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else "no details"


def build_model(config: DenoiserConfig) -> nn.Module:
    """A freshly initialised denoiser of ``config.kind``."""
    return SingleViewDenoiser(config) if config.kind == "single_view" else MultiViewDenoiser(config)


def save_checkpoint(
    path: str | os.PathLike,
    model: SingleViewDenoiser | MultiViewDenoiser,
    *,
    ema: EMA | None = None,
    normalisation: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` (and its EMA) to ``path`` atomically. Returns the path."""
    config: DenoiserConfig = model.config
    data = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "kind": config.kind,
        "skeleton": config.skeleton,
        "config": config.to_dict(),
        "weights": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "ema": None if ema is None else ema.state_dict(),
        "normalisation": normalisation,
        "extra": extra,
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(data, tmp)
    return path


def load_checkpoint(
    path: str | os.PathLike,
    *,
    kind: str | None = None,
    skeleton: str | None = "coco17",
    device: torch.device | str = "cpu",
) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Args:
        path: the file.
        kind: required model kind (``"single_view"`` / ``"multi_view"``), or ``None`` for any.
        skeleton: required keypoint skeleton, or ``None`` for any.
        device: where to put the models.

    Raises:
        CheckpointError: missing, unreadable (corrupt, truncated, not a checkpoint), other format
            version, other kind or skeleton, or weights that do not fit the stored config.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            "checkpoint file not found",
            path=path,
            fix="Pass the path of an existing .pt checkpoint (e.g. --checkpoint PATH), or train one first",
        )
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for damaged files (EOF, zip, unpickling)
        raise CheckpointError(
            f"cannot read the checkpoint ({type(exc).__name__}: {_first_line(exc)})",
            path=path,
            expected="a file written by anylift.models.save_checkpoint",
            fix="The file is corrupt or truncated; copy or download it again",
        ) from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            "not an anylift checkpoint",
            path=path,
            field="format",
            expected=f"'{CHECKPOINT_FORMAT}'",
            fix="Pass a checkpoint written by anylift (save_checkpoint)",
        )
    version = data.get("version")
    if version != CHECKPOINT_VERSION:
        newer = isinstance(version, int) and version > CHECKPOINT_VERSION
        raise CheckpointError(
            f"checkpoint format version {version!r} is not supported",
            path=path,
            field="version",
            expected=f"version {CHECKPOINT_VERSION}",
            fix="Update anylift to read it" if newer else "Re-train or convert it with this anylift version",
        )
    file_kind = data.get("kind")
    if file_kind not in MODEL_KINDS:
        raise CheckpointError("unknown model kind", path=path, field="kind", expected=f"one of {MODEL_KINDS}")
    if kind is not None and file_kind != kind:
        raise CheckpointError(
            f"this is a {file_kind} model",
            path=path,
            field="kind",
            expected=f"a {kind} model",
            fix=f"Pass a {kind} checkpoint here",
        )
    file_skeleton = data.get("skeleton")
    if skeleton is not None and file_skeleton != skeleton:
        raise CheckpointError(
            f"the model was trained on skeleton {file_skeleton!r}",
            path=path,
            field="skeleton",
            expected=f"{skeleton!r}",
            fix=f"Use a checkpoint trained on {skeleton!r} keypoints",
        )
    try:
        config = DenoiserConfig.from_dict(dict(data["config"]))
        model = build_model(config)
        model.load_state_dict(data["weights"])
        ema_model = None
        if data.get("ema") is not None:
            ema = EMA(model, decay=0.0)
            ema.load_state_dict(data["ema"])
            ema_model = ema.model.to(device)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"the weights do not fit the stored config ({type(exc).__name__}: {_first_line(exc)})",
            path=path,
            field="config/weights",
            fix="The file is damaged or was edited; use the original checkpoint",
        ) from exc
    if config.kind != file_kind or config.skeleton != file_skeleton:
        raise CheckpointError("kind/skeleton disagree with the stored config", path=path, field="config")
    return Checkpoint(
        config=config,
        model=model.to(device).eval(),
        ema_model=ema_model,
        normalisation=dict(data.get("normalisation") or {}),
        extra=dict(data.get("extra") or {}),
        skeleton=str(file_skeleton),
        path=path,
    )


def export_checkpoint(
    source: str | os.PathLike,
    destination: str | os.PathLike,
    *,
    dtype: torch.dtype = torch.float16,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a shipping copy of a checkpoint: the weights to sample with, in ``dtype``.

    Keeps the config, normalisation, skeleton and version; the raw weights are replaced by the
    EMA weights (when the file has them) and the EMA copy is dropped, which with float16 makes
    the file about a quarter of the training checkpoint. :func:`load_checkpoint` reads it like
    any other (weights are cast back to the model's float32 on load).

    Args:
        source: a checkpoint written by :func:`save_checkpoint`.
        destination: the file to write (atomically).
        dtype: storage type of floating-point weights.
        extra: merged into the checkpoint's ``extra`` (e.g. training provenance).
    Returns:
        The destination path.
    """
    ckpt = load_checkpoint(source, skeleton=None)
    weights = {
        k: (v.detach().cpu().to(dtype) if v.is_floating_point() else v.detach().cpu())
        for k, v in ckpt.inference_model.state_dict().items()
    }
    data = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "kind": ckpt.config.kind,
        "skeleton": ckpt.skeleton,
        "config": ckpt.config.to_dict(),
        "weights": weights,
        "ema": None,
        "normalisation": ckpt.normalisation or None,
        "extra": {**ckpt.extra, **(extra or {})} or None,
    }
    destination = Path(destination)
    with atomic_path(destination) as tmp:
        torch.save(data, tmp)
    return destination
