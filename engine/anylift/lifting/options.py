"""How a clip is lifted: one frozen options object for ``lift()``, the CLI, the batch entry and the add-on."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from anylift.errors import InputError

if TYPE_CHECKING:  # light module (the command line reads its defaults before torch loads)
    from anylift.fitting.smpl_fit import SmplFitConfig

DEFAULT_SAMPLES = 8
"""Samples drawn and fused (their median at one depth) when none are asked for. With 3 DDIM steps
(:data:`DEFAULT_STEPS`), 8 samples cost fewer denoiser evaluations (24) than the earlier default of 4
samples x 10 steps (40) and lift better: on the 120 training-motion cases of the camera-family
benchmark at noise level 1 MPJPE 68.6 vs 70.6 mm (better on 75 cases, worse on 32), PA-MPJPE 50.6 vs
51.4, T_root 114.3 vs 118.3, foot sliding 21.9 vs 24.2 mm/frame; at noise level 2 (walk, kick x 12)
113.7 vs 116.9 (ablation row 50). Several samples also give every result its spread
(``keypoints3d_std``, ``root_std``, ``keypoints3d_pose_std``)."""
DEFAULT_STEPS = 3
"""DDIM steps when none are asked for. Fewer steps lift better with this model: a few steps keep
each sample near the model's mean prediction, which is what a joint-position error rewards, and
the median of several such samples is steadier than fewer sharper ones (training-motion cases at
noise level 2, 8 samples: 1, 2, 3, 4, 5 steps MPJPE 116.1, 114.0, 113.7, 114.1, 114.1 mm; the
global path gets worse with fewer steps: T_root 704, 616, 545, 476, 481 mm; 4 samples x 10 steps:
116.9 mm, T_root 511). The second session's curve on training-clip cases with test cameras was
flat above 10 (10, 25, 50, 100 steps: 139, 142, 143, 144 mm)."""
METHODS = ("anylift", "smplify")
DEVICES = ("cpu", "cuda")
PLACEMENTS = ("body_size", "size_only", "prior")
"""``body_size``: each frame's depth from the body's known size, then each frame's lowest point put
on one level floor (:mod:`anylift.lifting.placement`); ``size_only``: without the floor (ablation);
``prior``: the depth the multi-view prior triangulated (exact with a perfect prior; tests)."""
KEYPOINTS3D = ("body", "triangulated")
"""What the result's ``keypoints3d`` are. ``body``: the fitted SMPL body's COCO-17 keypoints, the
same body as ``joints`` and the baked armature (the fit keeps bone lengths, joint limits and
smoothness, and leans on the samples' fused points where they agree and on the observed rays:
on the 120 training-motion camera-family cases at noise level 1 MPJPE 72.5 vs 79.6 mm, better on
119, but 7.7 vs 6.2 px off the true 2D); ``triangulated``: the samples' fused triangulation the body
is fitted to, its observed joints on their rays (``samples_keypoints3d`` holds every sample either
way)."""
HOI_BODIES = ("body", "hoi")
"""Where an HOI lift's person comes from. ``body``: the shipped body-only multi-view model (the
HOI model then gives the object, moved in depth with the person); ``hoi``: the HOI model's own
body joints. On the 14 training-motion cases of the HOI camera-family benchmark (walk, kick x 7
families) the body model's person is 83.0 mm MPJPE against the HOI model's 105.0: it was trained
on more motion and cameras than the HOI model, whose capacity also goes to the object."""


def _whole(value: Any, low: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer) and value >= low


@dataclass(frozen=True)
class LiftOptions:
    """Everything that chooses how a clip is lifted (``lift(keypoints, camera, options)``).

    Attributes:
        checkpoint: multi-view checkpoint file; None: the shipped one for the keypoints
            (:func:`anylift.pipeline.default_checkpoint`).
        body_model: SMPL model file; None: ``$ANYLIFT_SMPL_MODEL`` or the bundled proxy.
        samples: S >= 1 samples (:data:`DEFAULT_SAMPLES`); S > 1 adds ``keypoints3d_std``,
            ``samples_keypoints3d``, ``root_std`` and ``keypoints3d_pose_std``.
        steps: DDIM steps (None: :data:`DEFAULT_STEPS`).
        seed: the same seed gives the same result (checked by :mod:`anylift.lifting.checks`).
        method: ``"anylift"`` or ``"smplify"`` (the single-view baseline).
        ground: put the floor at z = 0 (translation along Z only).
        device: ``"cpu"`` or ``"cuda"`` for the denoiser (the fit runs on the CPU).
        metric_camera: override whether the camera's translations are metres
            (:func:`anylift.lifting.world.camera_is_metric`).
        placement: :data:`PLACEMENTS`.
        bone_lengths: keep each bone's length constant over a window inside the sampling loop
            (:func:`anylift.lifting.consistency.keep_bone_lengths`).
        up: gravity override (:mod:`anylift.lifting.gravity`): None (the camera file's up, else
            estimated), ``"camera"`` or (3,) in the camera file's world.
        fit_config: SMPL fit weights and iterations (None: :class:`SmplFitConfig`'s defaults).
        hoi_body: :data:`HOI_BODIES` (HOI checkpoints only).
        keypoints3d: :data:`KEYPOINTS3D`.
        smooth_keypoints: take the input keypoints' jitter out first (AnyLift only;
            :mod:`anylift.lifting.smoothing`); False lifts them as they are (ablation).
        drop_collapsed: treat frames whose skeleton collapsed onto part of the body as unseen
            (AnyLift only; :mod:`anylift.lifting.collapse`); False keeps them (ablation).
    """

    checkpoint: str | Path | None = None
    body_model: str | Path | None = None
    samples: int = DEFAULT_SAMPLES
    steps: int | None = None
    seed: int = 0
    method: str = "anylift"
    ground: bool = False
    device: str = "cpu"
    metric_camera: bool | None = None
    placement: str = "body_size"
    bone_lengths: bool = False
    up: Any = None
    fit_config: SmplFitConfig | None = None
    hoi_body: str = "body"
    keypoints3d: str = "body"
    smooth_keypoints: bool = True
    drop_collapsed: bool = True

    def replace(self, **changes: Any) -> LiftOptions:
        """A copy with ``changes`` (field names; unknown names are a user error)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise InputError(
                f"unknown lift option(s) {', '.join(unknown)}",
                field="options",
                expected=", ".join(sorted(names)),
            )
        return dataclasses.replace(self, **changes)

    @property
    def num_steps(self) -> int:
        return int(self.steps or DEFAULT_STEPS)

    def check(self) -> None:
        """Raise InputError for a value no lift can use (before any long computation)."""
        if not _whole(self.samples, 1):
            raise InputError(f"is {self.samples!r}", field="samples", expected="a whole number >= 1")
        if self.steps is not None and not _whole(self.steps, 1):
            raise InputError(f"is {self.steps!r}", field="steps", expected="a whole number >= 1")
        if self.method not in METHODS:
            raise InputError(f"is {self.method!r}", field="method", expected=" or ".join(METHODS))
        if self.hoi_body not in HOI_BODIES:
            raise InputError(f"is {self.hoi_body!r}", field="hoi_body", expected=" or ".join(HOI_BODIES))
        if self.keypoints3d not in KEYPOINTS3D:
            expected = " or ".join(KEYPOINTS3D)
            raise InputError(f"is {self.keypoints3d!r}", field="keypoints3d", expected=expected)
        if self.placement not in PLACEMENTS:
            raise InputError(f"is {self.placement!r}", field="placement", expected=" or ".join(PLACEMENTS))
        if str(self.device).split(":")[0] not in DEVICES:
            raise InputError(f"is {self.device!r}", field="device", expected="cpu or cuda")
        import torch

        if str(self.device).startswith("cuda") and not torch.cuda.is_available():
            raise InputError(
                "CUDA is not available on this machine",
                field="device",
                expected="cpu",
                fix="Use --device cpu",
            )
