"""HOI training: windows with the object appended, a tiny run, and its checkpoint in lift()."""

import sys
from pathlib import Path

import numpy as np
import pytest

from anylift.data.hoi import make_hoi_sequence
from anylift.data.multiview import MultiViewConfig, MultiViewWindows, multiview_window, world_down
from anylift.errors import InputError
from anylift.fitting.smpl_fit import SmplFitConfig
from anylift.models import load_checkpoint
from anylift.pipeline import lift

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "training" / "configs" / "tiny_hoi_box_multi_view.toml"


def test_object_rides_along_without_changing_the_body_view():
    seq = make_hoi_sequence("jump", seed=1, category="box", num_frames=16)
    cam = seq.camera
    kw = dict(down=world_down(cam.world_to_camera[0]), keypoint_drop=0.0)
    both = multiview_window(seq.keypoints3d, cam.world_to_camera, cam.K, cam.image_size, 3,
                            np.random.default_rng(0), **kw)  # fmt: skip
    body = multiview_window(seq.body_keypoints3d, cam.world_to_camera, cam.K, cam.image_size, 3,
                            np.random.default_rng(0), **kw)  # fmt: skip
    assert both["x0"].shape == (3, 16, 25, 2) and both["observed_mask"].shape == (16, 25)
    # Same scale and ring (from the body alone): the body's targets and conditions are unchanged.
    np.testing.assert_array_equal(both["camera"], body["camera"])
    np.testing.assert_allclose(both["x0"][..., :17, :], body["x0"], atol=1e-6)
    assert np.abs(both["x0"][..., 17:, :]).max() > 0.05  # the box is somewhere else


def test_hoi_windows_and_dataset_do_not_mix(tmp_path):
    cfg = MultiViewConfig.from_dict({"num_views": 3, "object_category": "box",
                                     "windows": {"window": 16, "clips": ["walk"]}})  # fmt: skip
    windows = MultiViewWindows(cfg, seed=0)
    batch = windows.batch(0, 0, 2)
    assert windows.num_object_keypoints == 8 and batch["x0"].shape == (2, 3, 16, 25, 2)
    with pytest.raises(InputError, match="synthesized dataset"):
        MultiViewWindows(MultiViewConfig(object_category="box", dataset=str(tmp_path / "d.npz")))


def test_tiny_hoi_run_trains_and_lifts(tmp_path):
    sys.path.insert(0, str(REPO / "training"))
    try:
        from train_multi_view import main
    finally:
        sys.path.pop(0)
    out = tmp_path / "run"
    assert main(["--config", str(TINY), "--set", f"out_dir={out}"]) == 0
    ckpt = load_checkpoint(out / "model.pt", kind="multi_view")
    assert ckpt.config.num_object_keypoints == 8 and ckpt.config.num_points == 25
    assert ckpt.extra["object_category"] == "box" and ckpt.extra["step"] == 6
    losses = [float(r.split(",")[1]) for r in (out / "log.csv").read_text().splitlines()[1:]]
    assert len(losses) == 6 and all(np.isfinite(losses))
    seq = make_hoi_sequence("walk", seed=2, category="box", num_frames=20)
    m = lift(seq.keypoints2d, seq.camera, checkpoint=out / "model.pt", steps=2,
             fit_config=SmplFitConfig(stage1_iterations=5, stage2_iterations=5))  # fmt: skip
    assert m.object_names == ["box"] and m.object_rotation.shape == (1, 20, 3, 3)
