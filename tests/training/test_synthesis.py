"""SDS synthesis of virtual views (oracle prior), triangulation, and the end-to-end scripts."""

import sys
from pathlib import Path

import numpy as np
import torch

from anylift import representation as rep
from anylift.data.multiview import (
    MultiViewConfig,
    MultiViewWindows,
    model_points,
    multiview_cameras,
    read_multiview_dataset,
)
from anylift.data.synthesis import (
    SynthesisConfig,
    ViewSequence,
    flat_guess,
    synthesize_views,
    triangulate_views,
)
from anylift.data.windows import MotionBank, WindowConfig, observe, video_like_camera
from anylift.diffusion import cosine_schedule
from anylift.geometry.camera import to_camera

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "training"))


def _scenes(count=2, frames=16, seed=0):
    cfg = WindowConfig(window=frames, clips=("walk", "jump"), keypoint_drop=0.0)
    bank = MotionBank(cfg.clips)
    rng = np.random.default_rng(seed)
    seqs, truths, motions = [], [], []
    for _ in range(count):
        m = bank.window(rng, frames, cfg.augment)
        cam = video_like_camera(m, rng, cfg)
        px = observe(m, cam.K, cam.world_to_camera, rng, 0.0)
        s = ViewSequence.from_pixels(px, cam.K, cam.world_to_camera, cam.image_size, up=cam.up)
        cams = multiview_cameras(s.relative_w2c, s.points, s.scale, 4, down=s.down)
        truths.append(model_points(to_camera(m, cam.world_to_camera[0]), cams, s.scale)[0])
        motions.append(to_camera(m, cam.world_to_camera[0]))
        seqs.append(s)
    return seqs, np.stack(truths), motions


def test_sds_with_an_oracle_prior_and_lines_converges_to_the_true_views():
    torch.manual_seed(0)
    seqs, truths, motions = _scenes()
    true_rl = torch.tensor(rep.to_root_local(truths[:, 1:]).reshape(-1, 16, 17, 2), dtype=torch.float32)
    calls = []

    def oracle(x_n, n, cond):  # a perfect prior: always the true view (rows sequence-major)
        calls.append((x_n.shape, cond.camera.shape, cond.lines.shape))
        return true_rl

    init = np.stack([flat_guess(s, multiview_cameras(s.relative_w2c, s.points, s.scale, 4, down=s.down))[1:]
                     for s in seqs])  # fmt: skip
    init_err = np.abs(init - truths[:, 1:]).mean()
    cfg = SynthesisConfig(num_views=4, iterations=120)
    out = synthesize_views(oracle, cosine_schedule(), seqs, cfg, generator=torch.Generator().manual_seed(0))
    err = np.abs(out["views"][:, 1:] - truths[:, 1:]).mean()
    assert init_err > 0.05 and err < 0.1 * init_err
    assert np.all(out["line"] < 0.01)
    np.testing.assert_allclose(out["views"][:, 0], truths[:, 0], atol=1e-5)  # the input view is fixed
    assert calls[0] == ((6, 16, 17, 2), (6, 16, rep.CAMERA_DIM), (6, 16, 17, 3))
    # The converged views triangulate to the motion (frame-0 camera coordinates, metres).
    points = triangulate_views(out["views"][0], out["cameras"][0], seqs[0].scale)
    assert (
        np.abs(points - motions[0]).mean()
        < 0.25
        * np.abs(
            triangulate_views(np.concatenate([truths[0, :1], init[0]]), out["cameras"][0], seqs[0].scale)
            - motions[0]
        ).mean()
    )


def test_line_loss_alone_makes_noisy_views_consistent():
    seqs, _, _ = _scenes(count=1, seed=1)
    s = seqs[0]
    flat = flat_guess(s, multiview_cameras(s.relative_w2c, s.points, s.scale, 4, down=s.down))[None, 1:]
    init = flat + np.random.default_rng(0).normal(0.0, 0.05, flat.shape)  # a projection of 3D is consistent

    def unused(x_n, n, cond):
        return x_n

    before = synthesize_views(unused, cosine_schedule(), seqs, SynthesisConfig(iterations=0), init=init)[
        "line"
    ]
    cfg = SynthesisConfig(num_views=4, iterations=80, sds_weight=0.0)
    after = synthesize_views(unused, cosine_schedule(), seqs, cfg, init=init)["line"]
    assert before[0] > 0.02 and after[0] < 0.2 * before[0]


def test_scripts_end_to_end(tmp_path, capsys):
    import synthesize_multiview
    import train_multi_view
    import train_single_view

    configs = ROOT / "training" / "configs"
    sv = ["--config", str(configs / "tiny_single_view.toml"), "--set", f"out_dir={tmp_path / 'sv'}"]
    assert train_single_view.main([*sv, "--set", "steps=3"]) == 0
    data = tmp_path / "mv.npz"
    assert synthesize_multiview.main(["--config", str(configs / "tiny_synthesize.toml"),
                                      "--checkpoint", str(tmp_path / "sv" / "model.pt"), "--out", str(data),
                                      "--set", "sds.iterations=3"]) == 0  # fmt: skip
    ds = read_multiview_dataset(data)
    assert ds.keypoints3d.shape == (2, 16, 17, 3) and ds.views2d.shape == (2, 4, 16, 17, 2)
    assert np.all(np.isfinite(ds.views2d)) and ds.info["fit_error"].shape == (2,)
    # The reprojected views are the fitted 3D seen by the shared ring cameras.
    glob = MultiViewWindows(
        MultiViewConfig(num_views=4, dataset=str(data), dataset_fraction=1.0,
                        windows=WindowConfig(window=16, keypoint_drop=0.0)), seed=0,
    ).batch(0, 0, 1)  # fmt: skip
    assert glob["x0"].shape == (1, 4, 16, 17, 2)
    assert train_multi_view.main(["--config", str(configs / "tiny_multi_view.toml"),
                                  "--set", f"out_dir={tmp_path / 'mv'}", "--set", "steps=2",
                                  "--set", f"data.dataset={data}", "--set", "data.num_views=4",
                                  "--set", f"init_from={tmp_path / 'sv' / 'model.pt'}"]) == 0  # fmt: skip
    assert "step 2" in capsys.readouterr().out


def test_file_sequences_read_keypoint_and_camera_files(tmp_path):
    from anylift.data.synthesis import file_sequences
    from anylift.io.cameras import Camera, write_camera
    from anylift.io.keypoints import Keypoints2D, write_keypoints

    cfg = WindowConfig(window=20, clips=("walk",), keypoint_drop=0.0)
    rng = np.random.default_rng(2)
    motion = MotionBank(cfg.clips).window(rng, 20, cfg.augment)
    cam = video_like_camera(motion, rng, cfg)
    px = observe(motion, cam.K, cam.world_to_camera, rng, 0.0)
    scores = np.ones((20, 17, 1))
    write_keypoints(tmp_path / "kp.json", Keypoints2D(np.concatenate([px, scores], -1), 30.0, cam.image_size))
    write_camera(tmp_path / "cam.json", Camera(cam.K, cam.world_to_camera, up=np.array([0.0, 0.0, 1.0]),
                                               image_size=cam.image_size))  # fmt: skip
    seqs = file_sequences([(str(tmp_path / "kp.json"), str(tmp_path / "cam.json"))], 8)
    assert len(seqs) == 2  # 20 frames -> two windows of 8, the tail dropped
    up = np.array([0.0, 0.0, 1.0])
    direct = ViewSequence.from_pixels(px[8:16], cam.K, cam.world_to_camera[8:16], cam.image_size, up=up)
    np.testing.assert_allclose(seqs[1].points, direct.points, atol=1e-6)
    np.testing.assert_allclose(seqs[1].relative_w2c, direct.relative_w2c, atol=1e-9)
    np.testing.assert_allclose(seqs[1].down, direct.down, atol=1e-9)
    assert seqs[1].image_size == tuple(cam.image_size)
