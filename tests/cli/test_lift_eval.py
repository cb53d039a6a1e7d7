"""`anylift lift` and `anylift eval`: results, one-line user errors (exit 2, nothing written)."""

import json

import numpy as np
import pytest
import torch

from anylift import pipeline
from anylift.cli import main
from anylift.io.cameras import write_camera
from anylift.io.keypoints import write_keypoints
from anylift.io.motion import read_motion, write_motion
from anylift.models import DenoiserConfig, build_model, save_checkpoint


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Keypoints + camera of the walk clip, a tiny checkpoint, one for another skeleton."""
    from anylift.data.mocap import load_clip
    from anylift.data.trajectories import sample_trajectory
    from anylift.geometry.camera import project
    from anylift.io.keypoints import Keypoints2D

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("cli")
    pts = load_clip("walk").keypoints3d[:20]
    cam = sample_trajectory(np.random.default_rng(3), len(pts), pts[:, [11, 12]].mean(1), mode_prob=0.0)
    uv = project(pts, cam.K, cam.world_to_camera)
    kp = Keypoints2D(np.concatenate([uv, np.ones_like(uv[..., :1])], -1), fps=30.0, image_size=cam.image_size)
    write_keypoints(d / "kp.json", kp)
    write_camera(d / "cam.json", cam)
    save_checkpoint(d / "tiny.pt", build_model(DenoiserConfig.tiny("multi_view")))
    save_checkpoint(d / "op.pt", build_model(DenoiserConfig.tiny("multi_view", skeleton="openpose18")))
    (d / "bad.json").write_text('{"format": "anylift.keypoints/1", "keypoints": [[1, 2]]')
    (d / "badcam.json").write_text('{"format": "anylift.camera/1", "intrinsics": {"fx": -1}}')
    short = type(cam)(K=cam.K, world_to_camera=cam.world_to_camera[:5])
    write_camera(d / "short.json", short)
    return d


@pytest.fixture(autouse=True)
def _env(isolated_engine):
    """Private cache, proxy body, one torch thread (tests/conftest.py)."""


def test_lift_writes_a_result_and_eval_scores_it(files, tmp_path, capsys):
    out = tmp_path / "result.npz"
    args = ["lift", str(files / "kp.json"), "--camera", str(files / "cam.json"), "--out", str(out),
            "--checkpoint", str(files / "tiny.pt"), "--steps", "2", "--progress", "jsonl",
            "--ground"]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    assert f"wrote {out}" in captured.out and "ground: translated" in captured.out
    stages = {json.loads(line)["stage"] for line in captured.err.splitlines()}
    assert {"diffusion", "fit SMPL"} <= stages
    m = read_motion(out)
    assert m.num_frames == 20

    assert main(["eval", str(out), "--truth", str(out), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["mpjpe_mm"] == pytest.approx(0.0, abs=1e-9)
    assert scores["j2d_px"] == pytest.approx(0.0, abs=1e-9)
    # A truth 10 cm higher: W-MPJPE sees it (alignment on two frames removes it), T_root too.
    shifted = read_motion(out)
    shifted.keypoints3d = shifted.keypoints3d + np.array([0.0, 0.0, 0.1])
    write_motion(tmp_path / "truth.npz", shifted)
    assert main(["eval", str(out), "--truth", str(tmp_path / "truth.npz")]) == 0
    table = capsys.readouterr().out
    assert "MPJPE (mm)" in table and "J2D (px)" in table
    assert main(["eval", str(out), "--truth", str(tmp_path / "truth.npz"), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["mpjpe_mm"] == pytest.approx(0.0, abs=1e-6)
    assert scores["j2d_px"] > 1.0  # the truth's points moved in its own camera
    # The root is 10 cm off in the world, but not after the first frames' roots are aligned.
    assert scores["root_abs_mm"] == pytest.approx(100.0, abs=1e-6)
    assert scores["t_root_mm"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    "case",
    ["missing keypoints", "bad keypoints", "bad camera", "camera frames", "default checkpoint",
     "missing checkpoint", "other skeleton", "missing body model", "out folder", "out suffix",
     "bad samples"],
)  # fmt: skip
def test_user_errors_exit_2_with_one_line_and_write_nothing(files, tmp_path, capsys, case, monkeypatch):
    if case == "default checkpoint":
        monkeypatch.setattr(pipeline, "DEFAULT_CHECKPOINT", tmp_path / "not_installed.pt")
    out = tmp_path / "r.npz"
    kp, cam, ckpt = str(files / "kp.json"), str(files / "cam.json"), str(files / "tiny.pt")
    extra = {"missing keypoints": dict(kp=str(tmp_path / "none.json")),
             "bad keypoints": dict(kp=str(files / "bad.json")),
             "bad camera": dict(cam=str(files / "badcam.json")),
             "camera frames": dict(cam=str(files / "short.json")),
             "default checkpoint": dict(ckpt=None),
             "missing checkpoint": dict(ckpt=str(tmp_path / "no.pt")),
             "other skeleton": dict(ckpt=str(files / "op.pt")),
             "missing body model": dict(more=["--body-model", str(tmp_path / "SMPL_NEUTRAL.pkl")]),
             "out folder": dict(out=str(tmp_path / "nofolder" / "r.npz")),
             "out suffix": dict(out=str(tmp_path / "r.txt")),
             "bad samples": dict(more=["--samples", "0"])}[case]  # fmt: skip
    kp, cam, ckpt = extra.get("kp", kp), extra.get("cam", cam), extra.get("ckpt", ckpt)
    target = extra.get("out", str(out))
    args = ["lift", kp, "--camera", cam, "--out", target, "--steps", "1", *extra.get("more", [])]
    if ckpt:
        args += ["--checkpoint", ckpt]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("anylift: error: ") and "\n" not in err
    assert not list(tmp_path.glob("*.npz")) and not list(tmp_path.glob("r.*"))


def test_info_lists_versions_models_and_devices(capsys, monkeypatch, tmp_path):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "torch" in out and "body model:" in out and "cpu: yes" in out
    assert f"default (body)  {pipeline.DEFAULT_CHECKPOINT}" in out and "training steps]" in out
    monkeypatch.setattr(pipeline, "DEFAULT_CHECKPOINT", tmp_path / "gone.pt")
    assert main(["info"]) == 0
    assert "[unusable: checkpoint file not found]" in capsys.readouterr().out
