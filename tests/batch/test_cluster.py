"""``anylift batch``: clips, shards, resume, the manifest, and a two-worker Dask cluster (issue 16)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from anylift.batch import clips as batch_clips
from anylift.batch.manifest import read_manifest
from anylift.batch.run import run_batch
from anylift.cli import main
from anylift.errors import InputError
from anylift.fitting.smpl_fit import SmplFitConfig
from anylift.io.motion import read_motion
from anylift.lifting.options import LiftOptions

TRAINING = ("walk", "jump", "dance_a", "punch", "kick", "roll", "crawl", "getup_facedown", "spin", "backflip")
FAST = LiftOptions(steps=2, fit_config=SmplFitConfig(stage1_iterations=10, stage2_iterations=20))


@pytest.fixture(scope="module")
def clips20(tmp_path_factory):
    """20 short clips (10 training motions x 2 camera trajectories, 40 frames), cameras beside them."""
    from anylift.data.evaluation import make_case
    from anylift.io.cameras import Camera, write_camera
    from anylift.io.keypoints import Keypoints2D, write_keypoints

    folder = tmp_path_factory.mktemp("clips20")
    fit = SmplFitConfig(stage1_iterations=2, stage2_iterations=2)  # the truth's SMPL fields go unused
    for clip in TRAINING:
        for seed in (0, 1):
            case = make_case(clip, seed, fit_config=fit)
            n = min(40, case.num_frames)
            kp, cam = case.keypoints, case.camera
            write_keypoints(
                folder / f"{clip}_{seed}_keypoints.json",
                Keypoints2D(keypoints=kp.keypoints[:n], fps=kp.fps, image_size=kp.image_size),
            )
            write_camera(
                folder / f"{clip}_{seed}_camera.json",
                Camera(cam.K, cam.world_to_camera[:n], up=cam.up, image_size=cam.image_size),
            )
    return folder


def test_clips_cameras_and_shards(clips20, tmp_path):
    found = batch_clips.find_clips(clips20)
    assert [c.name for c in found][:3] == ["backflip_0", "backflip_1", "crawl_0"]
    assert len(found) == 20
    assert all(c.camera == clips20 / f"{c.name}_camera.json" for c in found)
    shards = [batch_clips.select_shard(found, (i, 3)) for i in range(3)]
    names = [c.name for shard in shards for c in shard]
    assert sorted(names) == sorted(c.name for c in found) and len(set(names)) == 20  # disjoint, complete
    assert [len(s) for s in shards] == [7, 7, 6]
    # A --camera folder wins over the camera beside the clip.
    cams = tmp_path / "cams"
    cams.mkdir()
    shutil.copy(clips20 / "walk_0_camera.json", cams / "walk_0.json")
    walk = next(c for c in batch_clips.find_clips(clips20, cams) if c.name == "walk_0")
    assert walk.camera == cams / "walk_0.json"
    for bad in ("3/3", "1", "a/b", "-1/2"):
        with pytest.raises(InputError, match="--shard"):
            batch_clips.parse_shard(bad)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no clip"):
        batch_clips.find_clips(tmp_path / "empty")


def test_dask_two_workers_lift_20_clips_and_a_rerun_skips_all(clips20, tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "out"
    manifest = tmp_path / "manifest.jsonl"
    found = batch_clips.find_clips(clips20)
    records = run_batch(found, out, options=FAST, manifest=manifest, executor="dask", workers=2)
    assert sorted(r["clip"] for r in records) == sorted(c.name for c in found)
    assert {r["status"] for r in records} == {"ok"}, [r.get("error") for r in records]
    # Two worker processes shared the work, none of them this one.
    workers = {r["worker"] for r in records}
    assert len(workers) == 2 and all(not w.endswith(f":{os.getpid()}") for w in workers)
    lines = read_manifest(manifest)
    assert len(lines) == 20
    for line in lines:
        motion = read_motion(out / f"{line['clip']}.npz")
        assert line["outputs"] == [str(out / f"{line['clip']}.npz")]
        assert motion.num_frames == line["frames"] == 40 or line["clip"].startswith("walk")
        assert line["seconds"] > 0 and line["timings"]["total"] > 0 and isinstance(line["warnings"], list)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.npz")}

    # The rerun, from the command line: every clip has a valid output, all 20 are skipped.
    args = ["batch", str(clips20), "--out", str(out), "--manifest", str(manifest), "--resume"]
    assert main([*args, "--executor", "dask", "--workers", "2"]) == 0
    assert "20 clips: 0 lifted, 20 skipped" in capsys.readouterr().out
    rerun = read_manifest(manifest)[20:]
    assert len(rerun) == 20 and {r["status"] for r in rerun} == {"skipped"}
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.npz")} == stamps  # nothing rewritten
    assert len(read_manifest(manifest)) == 40


def test_cli_shard_resume_and_a_bad_clip(clips20, tmp_path, capsys):
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("walk_0", "jump_1", "spin_0"):
        for kind in ("keypoints", "camera"):
            shutil.copy(clips20 / f"{name}_{kind}.json", folder / f"{name}_{kind}.json")
    (folder / "broken_keypoints.json").write_text("{not json")
    out = tmp_path / "out"
    fast = ["--steps", "2"]
    # Shard 0 of 2 in name order (broken, jump_1, spin_0, walk_0): broken and spin_0.
    code = main(["batch", str(folder), "--out", str(out), "--shard", "0/2", *fast])
    captured = capsys.readouterr()
    assert code == 2
    assert "broken" in captured.err and "1 failed" in captured.out
    lines = read_manifest(out / "manifest.shard-0-of-2.jsonl")
    status = {line["clip"]: line for line in lines}
    assert set(status) == {"broken", "spin_0"}
    assert status["spin_0"]["status"] == "ok" and (out / "spin_0.npz").is_file()
    assert status["broken"]["status"] == "failed" and "broken_keypoints.json" in status["broken"]["error"]
    assert not (out / "broken.npz").exists()
    # Resume: the clip fixed since is lifted, a corrupt output is not "valid" and is lifted again.
    shutil.copy(folder / "walk_0_keypoints.json", folder / "broken_keypoints.json")
    (out / "spin_0.npz").write_bytes(b"truncated")
    args = ["batch", str(folder), "--out", str(out), "--shard", "0/2", "--resume", *fast]
    assert main(args) == 0
    lines = [json.loads(x) for x in (out / "manifest.shard-0-of-2.jsonl").read_text().splitlines()]
    assert [(x["clip"], x["status"]) for x in lines[2:]] == [("broken", "ok"), ("spin_0", "ok")]
    assert np.isfinite(read_motion(out / "spin_0.npz").joints).all()
    assert main(args) == 0  # and now both are skipped
    lines = read_manifest(out / "manifest.shard-0-of-2.jsonl")
    assert [(x["clip"], x["status"]) for x in lines[4:]] == [("broken", "skipped"), ("spin_0", "skipped")]
    capsys.readouterr()
    assert main(["batch", str(folder), "--out", str(out), "--shard", "2/2"]) == 2
    assert "--shard" in capsys.readouterr().err
