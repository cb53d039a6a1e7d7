"""The batch command and the built extension, each in a fresh Python process."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BATCH = REPO / "anylift_blender" / "batch.py"


def _run(args, **kw):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=300, **kw)


def _check_blend(path: Path, frames: int) -> None:
    code = (
        "import bpy, sys; bpy.ops.wm.open_mainfile(filepath=sys.argv[1]);"
        "o = bpy.data.objects; s = bpy.context.scene;"
        "assert o['SMPL'].type == 'ARMATURE' and len(o['SMPL'].data.bones) == 24;"
        "assert o['SMPL Body'].parent == o['SMPL'] and o['AnyLift Camera'].animation_data.action;"
        "assert 'box' in o and s.camera == o['AnyLift Camera'];"
        f"assert (s.frame_start, s.frame_end) == (1, {frames}), (s.frame_start, s.frame_end)"
    )
    proc = _run(["-c", code, str(path)])
    assert proc.returncode == 0, proc.stderr


def test_batch_bakes_and_exports(result_npz, tmp_path):
    path, motion = result_npz
    out = tmp_path / "scene.blend"
    proc = _run([str(BATCH), "--", "--motion", str(path), "--out", str(out), "--export", "fbx"])
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and out.with_suffix(".fbx").stat().st_size > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene.blend", "scene.fbx"]  # no temp files left
    _check_blend(out, len(motion.joints))


def test_batch_folder_continues_past_a_bad_clip(result_npz, tmp_path):
    path, _motion = result_npz
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "a_good.npz").write_bytes(path.read_bytes())
    (clips / "b_bad.npz").write_bytes(b"corrupt")
    (clips / "c_good.npz").write_bytes(path.read_bytes())
    out = tmp_path / "out"
    proc = _run([str(BATCH), "--", "--motion", str(clips), "--out", str(out)])
    assert proc.returncode == 2
    assert "b_bad" in proc.stderr and "1 of 3 clips failed" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a_good.blend", "c_good.blend"]


def test_batch_user_errors_exit_2(tmp_path):
    proc = _run(
        [str(BATCH), "--", "--motion", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "s.blend")]
    )
    assert proc.returncode == 2 and "missing.npz" in proc.stderr
    proc = _run([str(BATCH), "--", "--out", str(tmp_path / "s.blend")])
    assert proc.returncode == 2 and "KEYPOINTS or --motion" in proc.stderr


def test_extension_builds_and_installs(tmp_path):
    proc = _run([str(REPO / "scripts" / "build_extension.py"), "--out", str(tmp_path / "dist")])
    assert proc.returncode == 0, proc.stderr
    zip_path = Path(proc.stdout.strip().splitlines()[-1])
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
    assert {"__init__.py", "operators/__init__.py", "baking/keys.py", "batch.py"} <= names
    assert not any("__pycache__" in n for n in names)
    assert manifest["schema_version"] == "1.0.0" and manifest["id"] == "anylift"
    assert manifest["type"] == "add-on" and manifest["blender_version_min"] == "4.2.0"
    assert manifest["license"] == ["SPDX:GPL-3.0-or-later"] and manifest["permissions"]["files"]
    assert all(w.removeprefix("./") in names for w in manifest["wheels"])
    code = (
        "import bpy, sys;"
        "r = bpy.ops.extensions.package_install_files(filepath=sys.argv[1], repo='user_default',"
        " enable_on_install=True);"
        "assert r == {'FINISHED'}, r;"
        "assert 'bl_ext.user_default.anylift' in bpy.context.preferences.addons.keys();"
        "assert hasattr(bpy.types.Scene, 'anylift');"
        "assert bpy.ops.anylift.import_result.get_rna_type();"
        "p = bpy.context.preferences.addons['bl_ext.user_default.anylift'].preferences;"
        "assert p.engine_mode == 'auto' and p.device == 'cpu'"
    )
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "user"))
    proc = subprocess.run(
        [sys.executable, "-c", code, str(zip_path)], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "user" / "extensions" / "user_default" / "anylift" / "blender_manifest.toml").is_file()


def test_batch_shard_resume_and_manifest(result_npz, tmp_path):
    """A folder of clips in two shards with a manifest; a rerun with --resume bakes nothing."""
    import json

    path, _motion = result_npz
    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("a", "b", "c"):
        (clips / f"{name}.npz").write_bytes(path.read_bytes())
    out = tmp_path / "out"
    for shard in ("0/2", "1/2"):
        manifest = tmp_path / f"m{shard[0]}.jsonl"
        args = ["--motion", str(clips), "--out", str(out), "--shard", shard, "--manifest", str(manifest)]
        proc = _run([str(BATCH), "--", *args])
        assert proc.returncode == 0, proc.stderr
        assert "Saved copy as" not in proc.stdout  # the atomic save is silent
    lines = [json.loads(x) for f in ("m0.jsonl", "m1.jsonl") for x in (tmp_path / f).read_text().splitlines()]
    assert [(x["clip"], x["shard"], x["status"]) for x in lines] == [
        ("a", "0/2", "ok"), ("c", "0/2", "ok"), ("b", "1/2", "ok"),
    ]  # fmt: skip
    assert all(x["outputs"] == [str(out / f"{x['clip']}.blend")] and x["seconds"] > 0 for x in lines)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    (out / "c.blend").write_bytes(b"")  # an empty scene is not a valid output: baked again
    manifest = tmp_path / "again.jsonl"
    args = ["--motion", str(clips), "--out", str(out), "--resume", "--manifest", str(manifest)]
    proc = _run([str(BATCH), "--", *args])
    assert proc.returncode == 0, proc.stderr
    again = [json.loads(x) for x in manifest.read_text().splitlines()]
    assert [(x["clip"], x["status"]) for x in again] == [("a", "skipped"), ("b", "skipped"), ("c", "ok")]
    assert (out / "a.blend").stat().st_mtime_ns == stamps["a.blend"] and (out / "c.blend").stat().st_size > 0
    proc = _run([str(BATCH), "--", "--motion", str(clips), "--out", str(out), "--shard", "2/2"])
    assert proc.returncode == 2 and "--shard" in proc.stderr
