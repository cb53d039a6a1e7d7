"""benchmarks/hoi.py: its object metrics, and the harness end to end on one short sequence."""

import json
import math

import numpy as np
import torch

from anylift.data.hoi import make_hoi_sequence
from anylift.geometry.camera import project
from anylift.models import DenoiserConfig, build_model, save_checkpoint
from anylift.object_templates import get_template
from tests.benchmark_modules import load_benchmark


def test_object_metrics_align_by_the_human_root_and_forgive_symmetries():
    bench = load_benchmark("hoi")
    box = get_template("box")
    t = 5
    body = np.random.default_rng(0).normal(size=(t, 17, 3))
    centre = np.array([1.0, 2.0, 0.5])
    obj = np.tile(box.canonical + centre, (t, 1, 1))
    shift = np.array([0.3, -0.2, 0.1])
    # The whole scene shifted: no error once the roots meet.
    m = bench.object_metrics(obj + shift, obj, body + shift, body, box)
    assert m["object_t_root_mm"] < 1e-9 and m["o_mpjpe_mm"] < 1e-9
    # The box turned by one of its symmetries (180 degrees about z): same physical pose.
    g = int(np.argmax([np.allclose(r, np.diag([-1.0, -1.0, 1.0])) for r in box.symmetry_rotations]))
    turned = np.tile(box.canonical @ box.symmetry_rotations[g].T + centre, (t, 1, 1))
    assert np.abs(turned - obj).max() > 0.1
    assert bench.object_metrics(turned, obj, body, body, box)["o_mpjpe_mm"] < 1e-9
    # The object 10 cm off while the person is right: 100 mm both.
    m = bench.object_metrics(obj + np.array([0.0, 0.1, 0.0]), obj, body, body, box)
    assert abs(m["object_t_root_mm"] - 100.0) < 1e-6 and abs(m["o_mpjpe_mm"] - 100.0) < 1e-6


def test_harness_runs_on_one_short_sequence(tmp_path, capsys):
    bench = load_benchmark("hoi")
    torch.manual_seed(0)
    model = build_model(DenoiserConfig.tiny("multi_view", num_object_keypoints=8))
    ckpt = save_checkpoint(tmp_path / "hoi.pt", model, extra={"object_category": "box"})
    out = tmp_path / "hoi.json"
    args = ["--checkpoint", str(ckpt), "--clips", "run", "--seeds", "1", "--frames", "20", "--steps", "2",
            "--out", str(out)]  # fmt: skip
    assert bench.main(args) == 0
    doc = json.loads(out.read_text())
    assert doc["meaningful"] is False and doc["category"] == "box"
    assert set(doc["means"]) == {"anylift", "smplify"}
    assert all(np.isfinite(v) and v > 0 for m in doc["means"].values() for v in m.values())
    assert "NOT meaningful" in capsys.readouterr().out and out.with_suffix(".md").is_file()
    # Under camera families: one case per family, the family's camera and fresh 2D.
    args = ["--checkpoint", str(ckpt), "--clips", "run", "--seeds", "1", "--frames", "20", "--steps", "2",
            "--methods", "smplify", "--families", "orbit", "elevated", "--out", str(out)]  # fmt: skip
    assert bench.main(args) == 0
    doc = json.loads(out.read_text())
    assert [r["family"] for r in doc["cases"]["smplify"]] == ["orbit", "elevated"]
    assert "Per camera family" in capsys.readouterr().out
    base = make_hoi_sequence("run", 0, category="box", num_frames=20, split="test", allow_heldout=True)
    seq = bench.with_family_camera(base, "elevated", 0)
    assert math.degrees(math.asin(-seq.camera.camera_to_world()[0, 2, 2])) > 20  # looks down
    assert seq.keypoints2d.keypoints.shape == base.keypoints2d.keypoints.shape
    seen = seq.keypoints2d.objects[0].keypoints[..., 2] > 0
    px = project(seq.object_keypoints3d, seq.camera.K, seq.camera.world_to_camera)
    err = np.linalg.norm(seq.keypoints2d.objects[0].keypoints[..., :2] - px, axis=-1)[seen]
    assert 0.3 < seen.mean() < 1.0 and 2.0 < err.mean() < 6.0  # 3 px noise on the visible keypoints
    body_only = save_checkpoint(tmp_path / "body.pt", build_model(DenoiserConfig.tiny("multi_view")))
    assert bench.main(["--checkpoint", str(body_only), "--out", str(out)]) == 2
