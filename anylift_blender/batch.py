"""Batch baking without the UI (formats.md, "Batch baking in Blender")::

    blender -b --python anylift_blender/batch.py -- (KEYPOINTS [--camera CAMERA] | --motion RESULT.npz)
            --out SCENE.blend [--video VIDEO] [--export fbx|bvh|glb] [--retarget PRESET --rig RIG]
    blender -b --python anylift_blender/batch.py -- --video VIDEO --out SCENE.blend [--checkpoint CKPT]

also ``python anylift_blender/batch.py -- ...`` under the ``bpy`` module. KEYPOINTS (or RESULT) may
be a folder: every clip in it (``*.json``/``*.npz`` files, OpenPose sub-folders) becomes
``OUT/<clip>.blend`` (+ export), ``--out`` then names a folder, and ``--camera``/``--video`` may be
folders holding files with the clip's name. A bad clip is reported and skipped; the exit code is
then non-zero. Lifting writes its result beside the scene as ``<clip>.npz``.

``--video`` alone (no KEYPOINTS, no --motion; a video file, or a folder of them with ``--out`` a
folder: ``OUT/<video>.blend`` each) runs the whole chain: keypoints (``anylift.video.people``:
every person; the default one is lifted) -> camera (``anylift.video.camera_estimation``) -> lift
-> bake; the keypoints and camera are written beside the scene as ``<scene>_keypoints.json`` and
``<scene>_camera.json``. ``--checkpoint`` (an
addition) names the lifting model file.

``--rig FILE[:Armature]`` (an addition to formats.md): the .blend or .fbx holding the armature that
``--retarget`` keys with the preset's bone map (``mixamo``, ``rigify``, ``auto``): a generated Rigify
rig (its FK controls), a Mixamo rig, a metarig or any humanoid. Only the rig and its children enter
the scene; with ``--export`` the export holds the retargeted rig. A rig that would not follow (too
few limbs mapped, deform bones overridden) fails the clip with exit code 2.

``--object-mesh FILE.blend[:MeshName]`` (an addition, HOI): the mesh every result object is baked
onto (``BakeOptions.object_mesh``) instead of the placeholder cube. Its keypoints defined with
"Define Object Keypoints" (``mesh.anylift_keypoints``) align it, so its keypoint vertices land on
the result's object keypoints. Without ``:MeshName`` the file must hold one mesh, or one mesh with
keypoints defined. A result without objects ignores it (with a note on stderr).

Dataset scale (formats.md): ``--shard I/N`` bakes every N-th clip of the folder in name order from
the I-th (as ``anylift batch``), ``--resume`` skips clips whose outputs (scene, export) exist and
are valid, ``--manifest FILE.jsonl`` appends one line per clip (``clip``, ``status`` ok / skipped /
failed / error, ``seconds``, ``warnings``, ``outputs``, ``error``; :mod:`anylift.batch.manifest`).

Exit codes: 0 success, 2 user error (one line per failure on stderr), 1 bug.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
# Run as a script, this folder is first on sys.path and its modules would shadow others.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
for _p in (_REPO, _REPO / "engine"):
    if _p.is_dir() and str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import bpy  # noqa: E402

from anylift.batch.clips import MOVIE_SUFFIXES  # noqa: E402

EXPORT_FORMATS = ("fbx", "bvh", "glb")


class UserError(Exception):
    """A problem with the command line or an input file (exit code 2)."""


@dataclass
class Clip:
    name: str
    keypoints: Path | None
    motion: Path | None
    camera: Path | None
    video: Path | None
    out: Path


def script_args(argv: list[str]) -> list[str]:
    """The arguments after ``--`` (Blender's own come before it), else all after the script."""
    return argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]


def parse_args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="batch.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("keypoints", nargs="?", help="2D keypoints file or folder (lifted first)")
    parser.add_argument("--camera", help="camera file (or folder, for a folder of clips)")
    parser.add_argument("--motion", help="result .npz (or folder) to bake without lifting")
    parser.add_argument("--out", required=True, help="SCENE.blend (or a folder, for a folder of clips)")
    parser.add_argument("--video", help="footage (or folder): background of the camera")
    parser.add_argument("--export", choices=EXPORT_FORMATS, help="also export the baked armature")
    parser.add_argument("--retarget", metavar="ARMATURE_PRESET", help="bone-map preset: mixamo, rigify, auto")
    parser.add_argument("--rig", help="file (.blend/.fbx) holding the armature to retarget onto")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="device for lifting")
    parser.add_argument("--checkpoint", help="lifting model checkpoint (default: the bundled one)")
    parser.add_argument(
        "--object-mesh", metavar="FILE.blend[:MeshName]", help="mesh for the result's objects (HOI)"
    )
    parser.add_argument("--shard", metavar="I/N", help="bake only share I of N (clips in name order)")
    parser.add_argument("--resume", action="store_true", help="skip clips whose outputs already exist")
    parser.add_argument("--manifest", metavar="FILE.jsonl", help="append one JSON line per clip")
    ns = parser.parse_args(args)
    if ns.keypoints is not None and ns.motion is not None:
        raise UserError("give either KEYPOINTS or --motion RESULT.npz (not both)")
    if ns.keypoints is None and ns.motion is None and ns.video is None:
        raise UserError("give KEYPOINTS or --motion RESULT.npz, or --video VIDEO alone (detect and lift it)")
    if ns.motion and ns.camera:
        raise UserError("--camera goes with KEYPOINTS; a result already holds its camera")
    if ns.retarget and not ns.rig:
        raise UserError("--retarget needs --rig FILE (.blend or .fbx holding the target armature)")
    if ns.object_mesh:
        path, _name = split_object_mesh(ns.object_mesh)
        if path.suffix.lower() != ".blend" or not path.is_file():
            raise UserError(f"--object-mesh {ns.object_mesh}: expected an existing FILE.blend[:MeshName]")
    return ns


def split_object_mesh(value: str) -> tuple[Path, str | None]:
    """``FILE.blend[:Name]`` (or ``FILE.fbx[:Name]``) -> (file, name or None); a drive letter's colon
    is not a separator."""
    head, sep, tail = value.rpartition(":")
    if sep and head.lower().endswith((".blend", ".fbx")):
        return Path(head), tail or None
    return Path(value), None


def load_object_mesh(value: str) -> bpy.types.Mesh:
    """Append the ``--object-mesh`` mesh into the current file (with its ``anylift_keypoints``)."""
    path, name = split_object_mesh(value)
    with bpy.data.libraries.load(str(path), link=False) as (src, _dst):
        available = list(src.meshes)
    if name is not None and name not in available:
        raise UserError(
            f"--object-mesh {value}: no mesh named {name!r} (meshes: {', '.join(available) or 'none'})"
        )
    wanted = [name] if name is not None else available
    with bpy.data.libraries.load(str(path), link=False) as (_src, dst):
        dst.meshes = wanted
    loaded = [m for m in dst.meshes if m is not None]
    if len(loaded) == 1:
        return loaded[0]
    keyed = [m for m in loaded if _has_keypoints(m)]
    for mesh in loaded:
        if len(keyed) != 1 or mesh != keyed[0]:
            bpy.data.meshes.remove(mesh)
    if len(keyed) != 1:
        raise UserError(
            f"--object-mesh {value}: holds {len(available)} meshes ({', '.join(available) or 'none'}), "
            f"{len(keyed)} with keypoints defined; name one: {path}:MeshName"
        )
    return keyed[0]


def _has_keypoints(mesh: bpy.types.Mesh) -> bool:
    group = getattr(mesh, "anylift_keypoints", None)
    return group is not None and len(group.keypoints) > 0


def _match(folder: Path | None, stem: str, suffixes: tuple[str, ...] | set[str] | None = None) -> Path | None:
    if folder is None:
        return None
    if not folder.is_dir():
        return folder
    for path in sorted(folder.iterdir()):
        if path.stem == stem and (suffixes is None or path.suffix.lower() in suffixes):
            return path
    return None


def clips_from_args(ns: argparse.Namespace) -> list[Clip]:
    """One clip, or one per entry of the input folder."""
    if ns.keypoints is None and ns.motion is None:
        video, out = Path(ns.video), Path(ns.out)
        if video.is_dir():
            if out.suffix.lower() == ".blend":
                raise UserError(f"--out {out}: a folder of videos needs an output folder")
            videos = [
                p for p in sorted(video.iterdir()) if p.is_file() and p.suffix.lower() in MOVIE_SUFFIXES
            ]
            if not videos:
                raise UserError(
                    f"--video {video}: no videos in this folder (expected {', '.join(MOVIE_SUFFIXES)})"
                )
            return [Clip(p.stem, None, None, None, video=p, out=out / f"{p.stem}.blend") for p in videos]
        if not video.is_file():
            raise UserError(f"--video {video}: not found (expected a video file or a folder of videos)")
        if out.suffix.lower() != ".blend":
            raise UserError(f"--out {out}: expected a .blend file")
        return [Clip(video.stem, keypoints=None, motion=None, camera=None, video=video, out=out)]
    source = Path(ns.motion or ns.keypoints)
    if not source.exists():
        raise UserError(f"{source}: not found")
    camera = Path(ns.camera) if ns.camera else None
    video = Path(ns.video) if ns.video else None
    for given in (camera, video):
        if given is not None and not given.exists():
            raise UserError(f"{given}: not found")
    out = Path(ns.out)
    is_folder = source.is_dir() and not (ns.keypoints and list(source.glob("*_keypoints.json")))
    if not is_folder:
        if out.suffix.lower() != ".blend":
            raise UserError(f"--out {out}: expected a .blend file")
        entry = {"keypoints": None, "motion": source} if ns.motion else {"keypoints": source, "motion": None}
        return [Clip(source.stem, camera=camera, video=video, out=out, **entry)]
    if out.suffix.lower() == ".blend":
        raise UserError(f"--out {out}: a folder of clips needs an output folder")
    wanted = {".npz"} if ns.motion else {".json", ".npz"}
    entries = [
        p
        for p in sorted(source.iterdir())
        if (p.is_file() and p.suffix.lower() in wanted) or (ns.keypoints and p.is_dir())
    ]
    if not entries:
        raise UserError(f"{source}: no clips in this folder (expected {', '.join(sorted(wanted))} files)")
    clips = []
    for p in entries:
        entry = {"keypoints": None, "motion": p} if ns.motion else {"keypoints": p, "motion": None}
        clips.append(
            Clip(
                p.stem,
                camera=_match(camera, p.stem, {".json", ".npz", ".txt"}),
                video=_match(video, p.stem, MOVIE_SUFFIXES),
                out=out / f"{p.stem}.blend",
                **entry,
            )
        )
    return clips


def _detect(clip: Clip):
    """Keypoints and camera from ``clip.video``, written beside the scene; returns both."""
    from anylift.io.cameras import write_camera
    from anylift.io.people import write_people
    from anylift.progress import make_progress
    from anylift.video.camera_estimation import estimate_camera
    from anylift.video.people import detect_people

    progress = make_progress("auto")
    people = detect_people(clip.video, progress=progress)  # as `anylift detect`; lifts the default person
    keypoints = people.keypoints2d()
    camera = estimate_camera(clip.video, keypoints, people=people, progress=progress).camera
    clip.out.parent.mkdir(parents=True, exist_ok=True)
    write_people(clip.out.with_name(f"{clip.out.stem}_keypoints.json"), people)
    write_camera(clip.out.with_name(f"{clip.out.stem}_camera.json"), camera)
    return keypoints, camera


def _lift(clip: Clip, device: str, checkpoint: str | None = None):
    from anylift.io.cameras import read_camera
    from anylift.io.keypoints import read_keypoints
    from anylift.io.motion import write_motion

    try:
        from anylift.pipeline import lift
    except ImportError as exc:
        raise UserError(
            f"lifting is unavailable in this installation ({exc}); lift with `anylift lift` and bake the "
            "result with --motion"
        ) from exc
    if clip.keypoints is None:
        keypoints, camera = _detect(clip)
    else:
        keypoints = read_keypoints(clip.keypoints)
        camera = read_camera(clip.camera) if clip.camera else None
    motion = lift(keypoints, camera, device=device, checkpoint=checkpoint)
    write_motion(clip.out.with_suffix(".npz"), motion)
    return motion


def _load_rig(value: str) -> bpy.types.Object:
    """Bring the ``--rig FILE[:Armature]`` armature and the objects parented to it into the scene.

    Only the rig and its children are linked: objects it merely uses (a generated Rigify rig's
    widget meshes, its custom shapes) come along as data, not as scene objects. Without a name,
    the file's armature with the most meshes deformed by it wins, then the one with most bones
    (a generated rig over its metarig).
    """
    path, name = split_object_mesh(value)
    if path.suffix.lower() == ".fbx":
        before = set(bpy.data.objects)
        bpy.ops.import_scene.fbx(filepath=str(path))
        new = [obj for obj in bpy.data.objects if obj not in before]
    elif path.suffix.lower() == ".blend":
        if not path.is_file():
            raise UserError(f"--rig {path}: not found")
        with bpy.data.libraries.load(str(path), link=False) as (src, dst):
            dst.objects = list(src.objects)
        new = [obj for obj in dst.objects if obj is not None]
    else:
        raise UserError(f"--rig {value}: expected a .blend or .fbx file[:Armature]")
    rigs = [obj for obj in new if obj.type == "ARMATURE"]
    if name is not None:
        rigs = [obj for obj in rigs if obj.name == name]
    if not rigs:
        found = ", ".join(o.name for o in new if o.type == "ARMATURE") or "none"
        named = f" named {name!r}" if name else ""
        raise UserError(f"--rig {value}: holds no armature{named} (armatures: {found})")

    def deformed(rig):
        return sum(any(m.type == "ARMATURE" and m.object == rig for m in o.modifiers) for o in new)

    rig = max(rigs, key=lambda r: (deformed(r), len(r.data.bones)))
    if path.suffix.lower() == ".blend":
        keep = [o for o in new if o == rig or rig in _ancestors(o)]
        for obj in keep:
            bpy.context.scene.collection.objects.link(obj)
        for obj in new:
            if obj not in keep and obj.users == 0:
                bpy.data.objects.remove(obj)
    return rig


def _ancestors(obj: bpy.types.Object) -> list[bpy.types.Object]:
    out = []
    while obj.parent is not None:
        obj = obj.parent
        out.append(obj)
    return out


@contextlib.contextmanager
def _quiet_stdout():
    """Silence C-level writes to stdout (Blender's ``Info: Saved copy as ...`` report)."""
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real file behind stdout (e.g. captured)
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def bake_clip(clip: Clip, ns: argparse.Namespace) -> None:
    """Build, save (atomically) and export one clip's scene."""
    import anylift_blender
    from anylift.io.atomic import atomic_path
    from anylift_blender.baking.result import BakeOptions, bake_motion
    from anylift_blender.operators.import_video import import_video
    from anylift_blender.preferences import engine_settings
    from anylift_blender.results import read_result

    bpy.ops.wm.read_factory_settings(use_empty=True)
    motion = read_result(clip.motion) if clip.motion else _lift(clip, ns.device, ns.checkpoint)
    from anylift_blender.baking.body import load_body_rest

    body = load_body_rest(motion.betas, motion.body_model, engine_settings())
    anylift_blender.register()
    try:
        scene = bpy.context.scene
        size = None
        if clip.video is not None:
            clip_data = import_video(scene, str(clip.video.resolve()))
            size = tuple(clip_data.size)
            scene.anylift.video_path = str(clip.video.resolve())
            scene.anylift.image_width, scene.anylift.image_height = size
        object_mesh = None
        if ns.object_mesh:
            if motion.object_names:
                object_mesh = load_object_mesh(ns.object_mesh)
            else:
                print(f"note: {clip.name}: the result has no objects; --object-mesh ignored", file=sys.stderr)
        baked = bake_motion(scene, motion, body, BakeOptions(image_size=size, object_mesh=object_mesh))
        if clip.motion:
            scene.anylift.result_path = str(clip.motion.resolve())
        exported = baked.armature
        if ns.retarget:
            from anylift_blender.retarget import RetargetError, retarget

            rig = _load_rig(ns.rig)
            try:
                retarget(baked.armature, rig, None if ns.retarget == "auto" else ns.retarget)
            except (KeyError, RetargetError) as exc:
                raise UserError(f"--retarget {ns.retarget} --rig {ns.rig}: {exc.args[0]}") from exc
            exported = rig
        clip.out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(clip.out) as tmp:
            # An existing (empty) temp file would make Blender keep it as a .blend1 backup.
            tmp.unlink()
            with _quiet_stdout():
                bpy.ops.wm.save_as_mainfile(filepath=str(tmp), check_existing=False, compress=True, copy=True)
        if ns.export:
            from anylift_blender.exporting import export_scene

            export_scene(clip.out.with_suffix(f".{ns.export}"), ns.export, exported)
    finally:
        anylift_blender.unregister()


def _user_errors() -> tuple[type[BaseException], ...]:
    from anylift_blender.results import USER_ERRORS

    return (UserError, *USER_ERRORS)


def outputs_of(clip: Clip, ns: argparse.Namespace) -> list[Path]:
    """The files a clip's bake writes (the scene, its export)."""
    out = [clip.out]
    if ns.export:
        out.append(clip.out.with_suffix(f".{ns.export}"))
    return out


_BLEND_MAGIC = (b"BLENDER", b"\x28\xb5\x2f\xfd", b"\x1f\x8b")  # plain, zstd, gzip


def outputs_valid(clip: Clip, ns: argparse.Namespace) -> bool:
    """Whether every output of the clip exists, is non-empty, and the scene is a .blend file
    (``--resume`` skips the clip). Files are saved atomically, so none is half-written."""
    paths = outputs_of(clip, ns)
    if not all(p.is_file() and p.stat().st_size > 0 for p in paths):
        return False
    with open(clip.out, "rb") as f:
        return f.read(7).startswith(_BLEND_MAGIC)


def _select(clips: list[Clip], ns: argparse.Namespace) -> list[Clip]:
    if not ns.shard:
        return clips
    from anylift.batch.clips import parse_shard, select_shard
    from anylift.errors import InputError

    try:
        return select_shard(clips, parse_shard(ns.shard))
    except InputError as exc:
        raise UserError(str(exc)) from exc


def main(argv: list[str] | None = None) -> int:
    """Run the batch; returns the exit code."""
    try:
        ns = parse_args(script_args(sys.argv if argv is None else argv))
        clips = _select(clips_from_args(ns), ns)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # argparse's usage errors
        return 2 if exc.code else 0
    manifest = None
    if ns.manifest:
        from anylift.batch.manifest import ManifestWriter

        manifest = ManifestWriter(ns.manifest)
    failures: list[tuple[str, str, int]] = []
    show = sys.stderr.isatty()
    try:
        for i, clip in enumerate(clips, 1):
            if show:
                print(f"[{i}/{len(clips)}] {clip.name}", file=sys.stderr)
            record = {"clip": clip.name, "shard": ns.shard, "warnings": [], "outputs": []}
            start = time.perf_counter()
            if ns.resume and outputs_valid(clip, ns):
                record.update(status="skipped", outputs=[str(p) for p in outputs_of(clip, ns)])
            else:
                try:
                    bake_clip(clip, ns)
                    record.update(status="ok", outputs=[str(p) for p in outputs_of(clip, ns)])
                except _user_errors() as exc:
                    failures.append((clip.name, str(exc), 2))
                    record.update(status="failed", error=" ".join(str(exc).split()))
                except Exception as exc:
                    failures.append((clip.name, f"internal error: {exc}\n{traceback.format_exc()}", 1))
                    record.update(status="error", error=f"internal error: {' '.join(str(exc).split())}")
            record["seconds"] = round(time.perf_counter() - start, 3)
            if manifest is not None:
                manifest.write(record)
    finally:
        if manifest is not None:
            manifest.close()
    for name, message, _ in failures:
        prefix = f"{name}: " if len(clips) > 1 else ""
        print(f"error: {prefix}{message}", file=sys.stderr)
    if failures:
        if len(clips) > 1:
            print(f"{len(failures)} of {len(clips)} clips failed", file=sys.stderr)
        return max(code for *_, code in failures) if any(c == 1 for *_, c in failures) else 2
    return 0


if __name__ == "__main__":
    # Blender -b ends with SystemExit's code too.
    sys.exit(main())
