"""Detected-2D training windows: the bank builder and the training batches that read it."""

import sys
from pathlib import Path

import numpy as np
import pytest

from anylift.data.multiview import (
    DetectedBank,
    MultiViewConfig,
    MultiViewWindows,
    multiview_window,
    world_down,
)
from anylift.data.windows import MotionBank, WindowConfig
from anylift.errors import InputError
from anylift.geometry.camera import project

ROOT = Path(__file__).resolve().parents[2]
WINDOW = 16


def _entry(path: Path, clip: str = "walk", frames: int = WINDOW, seed: int = 0) -> dict:
    """A bank entry whose 'detections' are the true projection moved 12 px right, one joint missed."""
    from anylift.data import trajectories
    from anylift.data.augment import hip_mid

    cfg = WindowConfig(window=frames, clips=("walk",))
    rng = np.random.default_rng(seed)
    motion = MotionBank(cfg.clips).window(rng, frames, cfg.augment)
    cam = trajectories.sample_trajectory(rng, frames, hip_mid(motion), "train", 0.3, 30.0, "wide")
    detected = np.concatenate([project(motion, cam.K, cam.world_to_camera), np.ones((frames, 17, 1))], -1)
    detected[..., 0] += 12.0
    detected[3, 5] = [np.nan, np.nan, 0.0]
    detected[4, 6, 2] = 0.2  # under the inference threshold (0.3): a lift would not use it
    entry = dict(keypoints3d=motion, world_to_camera=cam.world_to_camera, K=cam.K,
                 image_size=np.array(cam.image_size), detected=detected, clip=np.str_(clip))  # fmt: skip
    np.savez(path, **entry)
    return entry


def test_detected_windows_feed_the_detections_and_keep_exact_targets(tmp_path):
    entry = _entry(tmp_path / "entry_00000.npz")
    config = MultiViewConfig(
        num_views=4, windows=WindowConfig(window=WINDOW, clips=("walk",)),
        detected_bank=str(tmp_path), detected_fraction=0.5,
    )  # fmt: skip
    batch = MultiViewWindows(config, seed=3).batch(0, 0, 4)
    det = entry["detected"]
    args = (entry["keypoints3d"], entry["world_to_camera"], entry["K"], tuple(entry["image_size"]), 4)
    kwargs = dict(down=world_down(entry["world_to_camera"][0]))
    rng = np.random.default_rng(0)
    seen = multiview_window(
        *args, rng, **kwargs, observed=np.where(det[..., 2:] >= 0.3, det[..., :2], np.nan)
    )
    exact = multiview_window(*args, rng, **kwargs, keypoint_drop=0.0)
    for i in range(2):  # the batch's detected share: the bank's entry as the detector saw it
        for key in ("observed", "observed_mask", "x0", "target_mask", "camera"):
            np.testing.assert_allclose(batch[key][i], seen[key], atol=1e-5, err_msg=key)
    assert batch["observed_mask"][0, 3, 5] == 0 and batch["observed_mask"][0, 4, 6] == 0
    assert batch["observed_mask"][0].sum() == WINDOW * 17 - 2
    # The detector's 12 px shift reaches the input but not the targets (the views are re-derived
    # from the input view, so the ring moves with it a little: compare with the exact window's).
    assert np.abs(seen["observed"] - exact["observed"])[seen["observed_mask"] > 0].max() > 1e-3
    assert np.abs(seen["x0"] - exact["x0"]).max() < 0.05
    # The other half are ordinary 3D-path windows (not the entry).
    assert not np.allclose(batch["observed"][2], seen["observed"], atol=1e-3)


def test_detected_bank_refuses_held_out_clips_other_windows_and_empty_folders(tmp_path):
    with pytest.raises(InputError, match="no detected-2D windows"):
        DetectedBank(tmp_path, WINDOW)
    _entry(tmp_path / "entry_00000.npz", clip="kick+run arms")
    with pytest.raises(InputError, match="training clips only"):
        DetectedBank(tmp_path, WINDOW)
    _entry(tmp_path / "entry_00000.npz", frames=WINDOW + 2)
    with pytest.raises(InputError, match=f"{WINDOW} frames"):
        DetectedBank(tmp_path, WINDOW)
    _entry(tmp_path / "entry_00000.npz")
    assert len(DetectedBank(tmp_path, WINDOW)) == 1
    entry = _entry(tmp_path / "entry_00001.npz")  # the person found in 5 of 16 frames: left out
    entry["detected"][5:] = [np.nan, np.nan, 0.0]
    np.savez(tmp_path / "entry_00001.npz", **entry)
    assert len(DetectedBank(tmp_path, WINDOW)) == 1
    entry["detected"][5] = entry["detected"][4]  # 6 of 16: in
    np.savez(tmp_path / "entry_00001.npz", **entry)
    assert len(DetectedBank(tmp_path, WINDOW)) == 2


def test_bank_entries_are_training_clips_drawn_from_seed_and_index():
    sys.path.insert(0, str(ROOT / "training"))
    import build_detected_bank as builder

    windows = WindowConfig(window=WINDOW, camera_range="wide")
    bank = MotionBank(windows.clips, windows.fps)
    a = builder.entry(windows, bank, 0, 5)
    b = builder.entry(windows, bank, 0, 5)
    c = builder.entry(windows, bank, 0, 6)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2].world_to_camera, b[2].world_to_camera)
    assert not np.allclose(a[1], c[1])
    assert a[1].shape == (WINDOW, 17, 3) and a[0].split("+")[0] in windows.clips


def test_bank_builder_renders_and_detects_a_window(tmp_path):
    """The whole build (Blender render + the tracker) of one short window: a body is found and the
    detections lie near the window's projection."""
    pytest.importorskip("bpy")
    pytest.importorskip("mediapipe")
    sys.path.insert(0, str(ROOT / "training"))
    import build_detected_bank as builder

    config = tmp_path / "run.toml"
    config.write_text(
        (ROOT / "training" / "configs" / "multi_view_detected.toml")
        .read_text()
        .replace("window = 60", "window = 24")
    )
    builder.build(config, tmp_path / "bank", seed=0, indices=[1])
    entry = np.load(tmp_path / "bank" / "entry_00001.npz")
    det = entry["detected"]
    assert det.shape == (24, 17, 3) and (det[..., 2] > 0).mean() > 0.5
    px = project(entry["keypoints3d"], entry["K"], entry["world_to_camera"])
    size = np.ptp(px[..., 1], axis=1).mean()
    error = np.linalg.norm(det[..., :2] - px, axis=-1)[det[..., 2] > 0]
    assert np.median(error) < 0.15 * size
    assert not list((tmp_path / "bank").glob("*.part.npz"))
    assert len(DetectedBank(tmp_path / "bank", 24)) == 1
