"""Multi-view training windows (stage 2).

The virtual views (ring cameras, model coordinates, the multi-view condition) are inference's
(:mod:`anylift.lifting.view_geometry`, re-exported here); training builds its windows with them,
passing the true world down (:func:`world_down`), so windows look exactly as at inference.

Training windows (:class:`MultiViewWindows`) come from two sources with the same builder
(:func:`multiview_window`): the "3D available" path (mocap motion + a training camera trajectory)
and the "2D only" path (3D keypoints from SDS synthesis + SMPL fit, read from a dataset file
written by :mod:`anylift.data.synthesis`).

HOI (``MultiViewConfig.object_category``): the 3D path's windows carry an object
(:class:`anylift.data.hoi.HoiMotionBank`), J = 17 + M points per frame, the object's M keypoints
after the body's; the per-sequence scale and the ring come from the body alone, as at inference
(:mod:`anylift.lifting.views`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from anylift import representation as rep
from anylift.data import trajectories
from anylift.data.augment import hip_mid
from anylift.data.hoi import HoiMotionBank
from anylift.data.windows import MotionBank, WindowConfig, observe, stack_examples, step_rng
from anylift.errors import InputError
from anylift.geometry.camera import relative_to_first, to_camera
from anylift.lifting.view_geometry import (  # noqa: F401  (re-exported for training code)
    NUM_BODY,
    RINGS,
    model_points,
    multiview_cameras,
    multiview_condition,
    ring_centre,
    world_down,
)

DATASET_FORMAT = "anylift.multiview_dataset/1"


def multiview_window(
    keypoints3d: np.ndarray,
    world_to_camera: np.ndarray,
    K: np.ndarray,
    image_size: tuple[int, int],
    num_views: int,
    rng: np.random.Generator,
    *,
    down: np.ndarray | None,
    keypoint_drop: float = 0.05,
    keypoint_noise: float = 0.0,
    outlier_rate: float = 0.0,
    swap_rate: float = 0.0,
    observed: np.ndarray | None = None,
    ring: str = "bbox",
) -> dict[str, np.ndarray]:
    """One multi-view training example from a 3D window seen by an input camera.

    The input view is observed in pixels (keypoints dropped at random, NaN), normalised as at
    inference; the views and conditions come from the input view alone
    (:func:`multiview_cameras`, :func:`multiview_condition`); the targets are the true 3D
    keypoints reprojected into every view.

    Args:
        keypoints3d: (T, J, 3) in the camera's world, J = 17 body joints (+ M object keypoints,
            HOI). world_to_camera: (T, 4, 4) input camera.
        K: (3, 3); image_size: (W, H).
        down: (3,) world down in frame-0 camera coordinates (:func:`world_down`), or None.
        keypoint_drop, keypoint_noise, outlier_rate, swap_rate: the input view's detector misses and errors
            (:func:`anylift.data.windows.observe`); the targets stay exact.
        observed: (T, J, 2) the input view's pixels as a real detector gave them (NaN where
            missed) instead of the simulated ones.
        ring: how the ring's centre is placed (:data:`RINGS`).

    Returns:
        ``x0`` (V, T, J, 2) root/local targets, ``target_mask`` (V, T, J), ``camera``
        (V, T, CAMERA_DIM), ``observed`` (T, J, 2), ``observed_mask`` (T, J); float32.
    """
    w2c = np.asarray(world_to_camera, dtype=np.float64)
    if observed is None:
        px = observe(
            keypoints3d,
            K,
            w2c,
            rng,
            keypoint_drop,
            noise=keypoint_noise,
            outliers=outlier_rate,
            swaps=swap_rate,
        )
    else:
        px = np.asarray(observed, dtype=np.float64)
    # The scale is the body's alone (an object must not change how big the person looks).
    scale = rep.normalise_keypoints(px[:, :NUM_BODY], K).normalisation.scale
    nk = rep.normalise_keypoints(px, K, scale=scale)
    rel = relative_to_first(w2c)
    cams = multiview_cameras(rel, nk.points, scale, num_views, down=down, mask=nk.mask, ring=ring)
    # The targets live in the input camera's frame-0 coordinates: move the 3D points there.
    points_rel = to_camera(np.asarray(keypoints3d, dtype=np.float64), w2c[0])
    x0, front = model_points(points_rel, cams, scale)
    out = multiview_condition(cams, K, image_size, scale, nk.points, nk.mask)
    out["x0"] = rep.to_root_local(np.where(front[..., None], x0, 0.0)).astype(np.float32)
    out["target_mask"] = front.astype(np.float32)
    return out


@dataclass
class MultiViewDataset:
    """A synthesized ("2D only") multi-view dataset file, one entry per input sequence.

    Attributes (N sequences of T frames):
        keypoints3d: (N, T, 17, 3) fitted 3D keypoints in each input camera's frame-0 coordinates.
        world_to_camera: (N, T, 4, 4) the input camera relative to its frame 0.
        K: (N, 3, 3) pixels; image_size: (N, 2) (W, H); down: (N, 3) world down in frame-0
        coordinates (the ring's vertical).
        views2d: (N, V, T, 17, 2) the fitted motion reprojected into the V evenly spaced cameras
            (global model coordinates, view 0 = input camera); scale: (N,).
        fps: frame rate; info: dict of (N,) arrays (fit error, line residual, source names).
        path: the file.
    """

    keypoints3d: np.ndarray
    world_to_camera: np.ndarray
    K: np.ndarray
    image_size: np.ndarray
    down: np.ndarray
    views2d: np.ndarray
    scale: np.ndarray
    fps: float
    info: dict[str, np.ndarray]
    path: str | None = None

    def __len__(self) -> int:
        return int(self.keypoints3d.shape[0])


_DATASET_KEYS = ("keypoints3d", "world_to_camera", "K", "image_size", "down", "views2d", "scale")


def write_multiview_dataset(path, dataset: MultiViewDataset) -> None:
    """Write a :class:`MultiViewDataset` as ``.npz`` (atomic; ``format`` = :data:`DATASET_FORMAT`)."""
    from anylift.io.atomic import atomic_path

    arrays = {k: np.asarray(getattr(dataset, k)) for k in _DATASET_KEYS}
    arrays.update({f"info_{k}": np.asarray(v) for k, v in dataset.info.items()})
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, format=np.array(DATASET_FORMAT), fps=np.array(dataset.fps), **arrays)


def read_multiview_dataset(path) -> MultiViewDataset:
    """Read a file written by :func:`write_multiview_dataset`.

    Raises:
        InputError: missing file, other format, missing fields or inconsistent shapes.
    """
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read the dataset: {error}", path=path, expected="a .npz file") from error
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise InputError("not an .npz archive", path=path, expected="a write_multiview_dataset file")
    with data:
        if "format" not in data or str(data["format"]) != DATASET_FORMAT:
            raise InputError("not a multi-view dataset", path=path, field="format", expected=DATASET_FORMAT)
        missing = [k for k in (*_DATASET_KEYS, "fps") if k not in data]
        if missing:
            raise InputError(
                "missing arrays", path=path, field=", ".join(missing), expected="all dataset arrays"
            )
        fields = {k: np.asarray(data[k]) for k in _DATASET_KEYS}
        info = {k[5:]: np.asarray(data[k]) for k in data.files if k.startswith("info_")}
        fps = float(data["fps"])
    kp = fields["keypoints3d"]
    n = kp.shape[0] if kp.ndim == 4 else -1
    if kp.ndim != 4 or kp.shape[2:] != (17, 3) or fields["world_to_camera"].shape != (n, kp.shape[1], 4, 4):
        raise InputError(
            f"keypoints3d {kp.shape}, world_to_camera {fields['world_to_camera'].shape}",
            path=path,
            field="keypoints3d/world_to_camera",
            expected="(N, T, 17, 3) and (N, T, 4, 4)",
        )
    if not np.all(np.isfinite(kp)):
        raise InputError("non-finite 3D keypoints", path=path, field="keypoints3d", expected="finite values")
    return MultiViewDataset(**fields, fps=fps, info=info, path=str(path))


MIN_DETECTED_FRAMES = 1 / 3
"""A detected-bank window whose person the tracker found in fewer of its frames is left out (the
camera-family benchmark skips such cases too): a lift of nothing teaches nothing."""


class DetectedBank:
    """Training windows whose input view is a real detector's: the files
    ``training/build_detected_bank.py`` writes (one ``entry_*.npz`` each: a training-clip window's
    3D keypoints, the training camera that filmed its render, and what ``anylift detect``'s
    tracker found, in that camera's pixels). Windows with the person found in fewer than
    :data:`MIN_DETECTED_FRAMES` of the frames are left out; each kept one gets ``observed``
    (T, 17, 2), its detections with the joints scored under the inference threshold missing.

    Raises:
        InputError: no usable entries in ``folder``, or an entry of another window length, or one
            built from a held-out clip.
    """

    def __init__(self, folder, window: int) -> None:
        from pathlib import Path

        from anylift.data.mocap import HELDOUT_CLIPS

        self.paths = sorted(Path(folder).glob("entry_*[0-9].npz"))
        if not self.paths:
            raise InputError(
                "no detected-2D windows", path=str(folder), field="data.detected_bank",
                expected="a folder built by training/build_detected_bank.py",
            )  # fmt: skip
        self.entries = []
        for path in self.paths:
            with np.load(path) as data:
                entry = {k: data[k] for k in data.files}
            clips = {part.split(" ")[0] for part in str(entry["clip"]).split("+")}
            if clips & set(HELDOUT_CLIPS) or len(entry["keypoints3d"]) != window:
                raise InputError(
                    f"entry of clip {entry['clip']}, {len(entry['keypoints3d'])} frames", path=str(path),
                    expected=f"training clips only, {window} frames (rebuild the bank for this window)",
                )  # fmt: skip
            if (entry["detected"][..., 2] > 0).any(axis=1).mean() >= MIN_DETECTED_FRAMES:
                # The input view as a lift sees it: joints scored under the inference threshold
                # missing, as :mod:`anylift.lifting.sampling` treats them.
                seen = rep.visibility_mask(entry["detected"], rep.DEFAULT_SCORE_THRESHOLD)
                entry["observed"] = np.where(seen[..., None], entry["detected"][..., :2], np.nan)
                self.entries.append(entry)
        if not self.entries:
            raise InputError(
                f"no window of the {len(self.paths)} has a person detected in a third of its frames",
                path=str(folder), field="data.detected_bank", expected="a bank with people found",
            )  # fmt: skip

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class MultiViewConfig:
    """How multi-view windows are made.

    Attributes:
        num_views: V (input + V-1 ring views; 4 = evenly spaced 90 degrees apart).
        dataset: path of a synthesized dataset (the "2D only" path), or None.
        dataset_fraction: share of a batch drawn from the dataset when there is one (the rest is
            the "3D available" path; 1.0 = dataset only).
        windows: the 3D path's settings (clips, trajectories, augmentation, keypoint_drop).
        object_category: HOI: a built-in category (:data:`anylift.object_templates.CATEGORIES`) whose
            object is attached to every 3D-path window (M keypoints after the body's); None:
            body only. HOI runs have no "2D only" path (synthesized datasets hold no objects).
        detected_bank: folder of detected-2D windows (:class:`DetectedBank`), or None.
        detected_fraction: share of a batch whose input view is a detector's (from the bank).
        ring: how the ring of virtual views finds the subject's depth (:data:`RINGS`;
            recorded in the checkpoint, inference does the same).
    """

    num_views: int = 4
    dataset: str | None = None
    dataset_fraction: float = 0.5
    windows: WindowConfig = field(default_factory=WindowConfig)
    object_category: str | None = None
    detected_bank: str | None = None
    detected_fraction: float = 0.25
    ring: str = "bbox"

    def __post_init__(self) -> None:
        if self.ring not in RINGS:
            raise InputError(
                f"unknown ring {self.ring!r}",
                field="data.ring",
                expected=f"one of {RINGS}",
            )

    @classmethod
    def from_dict(cls, data: dict) -> MultiViewConfig:
        data = dict(data)
        windows = WindowConfig.from_dict(data.pop("windows", {}))
        try:
            return cls(**data, windows=windows)
        except TypeError as error:
            raise InputError(
                f"bad data settings: {error}", field="data", expected="MultiViewConfig fields"
            ) from error


class MultiViewWindows:
    """Deterministic batches of multi-view windows, a pure function of ``(seed, rank, step)``.

    3D path: an augmented training-clip window seen by a training trajectory (70% real-like /
    30% predefined, any viewpoint). 2D-only path: a random window of a dataset sequence (its input
    camera and fitted 3D), used as synthesized; the ring is re-derived from the window's input view
    exactly as at inference.
    """

    def __init__(self, config: MultiViewConfig, seed: int = 0) -> None:
        self.config = config
        self.seed = int(seed)
        self.window = config.windows.window
        use_3d = config.dataset is None or config.dataset_fraction < 1.0
        if config.object_category is not None:
            if config.dataset is not None:
                raise InputError(
                    "an HOI run (data.object_category) cannot use a synthesized dataset",
                    path=config.dataset,
                    field="data.dataset",
                    expected="no dataset: HOI windows come from the training clips (3D path)",
                )
            self.bank = HoiMotionBank(config.object_category, config.windows.clips, config.windows.fps)
        else:
            self.bank = MotionBank(config.windows.clips, config.windows.fps) if use_3d else None
        self.dataset = None if config.dataset is None else read_multiview_dataset(config.dataset)
        self.detected = (
            None if config.detected_bank is None else DetectedBank(config.detected_bank, self.window)
        )
        if self.dataset is not None and self.dataset.keypoints3d.shape[1] < self.window:
            raise InputError(
                f"sequences of {self.dataset.keypoints3d.shape[1]} frames",
                path=config.dataset,
                field="keypoints3d",
                expected=f"at least the window length {self.window}",
            )

    @property
    def num_object_keypoints(self) -> int:
        """M object keypoints per frame after the body's (0: body only)."""
        return self.bank.num_object_keypoints if isinstance(self.bank, HoiMotionBank) else 0

    def example_3d(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        wc = self.config.windows
        motion = self.bank.window(rng, self.window, wc.augment)
        cam = trajectories.sample_trajectory(
            rng, self.window, hip_mid(motion), "train", wc.mode_prob, wc.fps, wc.camera_range
        )
        return multiview_window(
            motion,
            cam.world_to_camera,
            cam.K,
            cam.image_size,
            self.config.num_views,
            rng,
            down=world_down(cam.world_to_camera[0]),
            keypoint_drop=wc.keypoint_drop,
            keypoint_noise=wc.keypoint_noise,
            outlier_rate=wc.outlier_rate,
            swap_rate=wc.swap_rate,
            ring=self.config.ring,
        )

    def example_dataset(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        ds = self.dataset
        i = int(rng.integers(len(ds)))
        start = int(rng.integers(ds.keypoints3d.shape[1] - self.window + 1))
        sl = slice(start, start + self.window)
        return multiview_window(
            ds.keypoints3d[i, sl],
            ds.world_to_camera[i, sl],
            ds.K[i],
            tuple(int(v) for v in ds.image_size[i]),
            self.config.num_views,
            rng,
            down=ds.down[i],
            keypoint_drop=self.config.windows.keypoint_drop,
            keypoint_noise=self.config.windows.keypoint_noise,
            outlier_rate=self.config.windows.outlier_rate,
            swap_rate=self.config.windows.swap_rate,
            ring=self.config.ring,
        )

    def example_detected(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """A detected-bank window: the input view as the detector saw it (:class:`DetectedBank`), the
        targets exact."""
        e = self.detected.entries[int(rng.integers(len(self.detected)))]
        return multiview_window(
            e["keypoints3d"], e["world_to_camera"], e["K"], tuple(int(v) for v in e["image_size"]),
            self.config.num_views, rng, down=world_down(e["world_to_camera"][0]), observed=e["observed"],
            ring=self.config.ring,
        )  # fmt: skip

    def _examples(self, rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
        n_det = 0 if self.detected is None else round(size * self.config.detected_fraction)
        n_ds = 0
        if self.dataset is not None:
            n_ds = size - n_det if self.bank is None else round((size - n_det) * self.config.dataset_fraction)
        makers = [self.example_detected] * n_det + [self.example_dataset] * n_ds
        return stack_examples([(makers[i] if i < len(makers) else self.example_3d)(rng) for i in range(size)])

    def batch(self, step: int, rank: int, size: int) -> dict[str, np.ndarray]:
        return self._examples(step_rng(self.seed, rank, step), size)

    def validation(self, count: int) -> dict[str, np.ndarray]:
        from anylift.data.windows import VALIDATION_STREAM

        return self._examples(step_rng(self.seed, VALIDATION_STREAM), count)
