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


def _validator() -> Path:
    """Blender's own extension validator (``blender --command extension validate``), from this bpy."""
    import bpy

    path = Path(bpy.utils.system_resource("SCRIPTS")) / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"
    assert path.is_file(), path
    return path


def test_extension_builds_validates_and_installs(tmp_path):
    proc = _run([str(REPO / "scripts" / "build_extension.py"), "--out", str(tmp_path / "dist")])
    assert proc.returncode == 0, proc.stderr
    zip_path = Path(proc.stdout.strip().splitlines()[-1])
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
    assert {"__init__.py", "engine.py", "operators/__init__.py", "baking/keys.py", "batch.py"} <= names
    assert {"lib/anylift/pipeline.py", "lib/anylift/checkpoints/multiview.pt"} <= names
    assert not any("__pycache__" in n or n.endswith((".pyc", ".whl")) for n in names)
    assert manifest["schema_version"] == "1.0.0" and manifest["id"] == "anylift"
    assert manifest["type"] == "add-on" and manifest["blender_version_min"] == "4.2.0"
    assert manifest["license"] == ["SPDX:GPL-3.0-or-later"] and manifest["permissions"]["files"]
    assert "wheels" not in manifest
    # The minimum is the oldest Blender the version matrix (and CI) runs the tests in.
    matrix = (REPO / "scripts" / "test_blender_matrix.sh").read_text()
    oldest = matrix.split("versions=(", 2)[2].split(")")[0].split()[0]
    assert manifest["blender_version_min"] == f"{oldest}.0"
    assert f"test_blender_matrix.sh {oldest}" in (REPO / ".ci" / "run").read_text()

    proc = _run([str(_validator()), "validate", str(zip_path)])
    assert proc.returncode == 0 and "Success" in proc.stdout, proc.stdout + proc.stderr

    # Installed in a fresh user folder, with the development engine hidden: the extension must work
    # from its own bundled copy and write its data (the proxy body) under its own user folder.
    user = tmp_path / "user"
    code = (
        "import sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in type(f).__module__ + repr(f)]\n"
        "sys.path[:] = [p for p in sys.path if 'editable' not in p and p not in ('', sys.argv[2])]\n"
        "import importlib.util, os, bpy\n"
        "assert importlib.util.find_spec('anylift') is None, 'the development engine is visible'\n"
        "r = bpy.ops.extensions.package_install_files(filepath=sys.argv[1], repo='user_default',"
        " enable_on_install=True)\n"
        "assert r == {'FINISHED'}, r\n"
        "assert 'bl_ext.user_default.anylift' in bpy.context.preferences.addons.keys()\n"
        "assert hasattr(bpy.types.Scene, 'anylift') and bpy.ops.anylift.import_result.get_rna_type()\n"
        "p = bpy.context.preferences.addons['bl_ext.user_default.anylift'].preferences\n"
        "assert p.engine_mode == 'auto' and p.device == 'cpu'\n"
        "import anylift\n"
        "from anylift.body.proxy import proxy_model_path\n"
        "print('ENGINE', anylift.__file__)\n"
        "print('CACHE', os.environ['ANYLIFT_CACHE'])\n"
        "print('PROXY', proxy_model_path())\n"
        "print('USER', bpy.utils.extension_path_user('bl_ext.user_default.anylift'))\n"
        "bpy.ops.preferences.addon_disable(module='bl_ext.user_default.anylift')\n"
        "sys.stdout.flush(); os._exit(0)  # bpy 4.2/4.5 may crash or hang at exit\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(BLENDER_USER_RESOURCES=str(user), ANYLIFT_CACHE=str(tmp_path / "not-here"))
    proc = subprocess.run(
        [sys.executable, "-c", code, str(zip_path), str(REPO / "engine")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if line.split(" ")[0].isupper())
    installed = user / "extensions" / "user_default" / "anylift"
    assert (installed / "blender_manifest.toml").is_file()
    assert Path(out["ENGINE"]) == installed / "lib" / "anylift" / "__init__.py"
    # One copy of the engine on disk: no wheel, nothing installed into Blender's site-packages.
    assert len(list(user.rglob("pipeline.py"))) == 1 and not list(user.rglob("*.whl"))
    data = Path(out["USER"])
    assert data.is_relative_to(user / "extensions") and Path(out["CACHE"]).is_relative_to(data)
    assert Path(out["PROXY"]).is_relative_to(data) and Path(out["PROXY"]).stat().st_size > 1_000_000
    assert not (tmp_path / "not-here").exists()


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
