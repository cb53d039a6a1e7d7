"""Export the baked (or retargeted) armature and its body mesh through Blender's own exporters.

- ``fbx``: ``bpy.ops.export_scene.fbx``, selection only (armature + its meshes), the armature's
  action baked over its frame range, no leaf bones (game engines and DCCs add their own);
- ``bvh``: ``bpy.ops.export_anim.bvh``, the armature alone (BVH has no mesh), over the same range.
  Blender's BVH exporter writes armature space as is (Z up) and drops the object's transform, while
  BVH readers (Blender's importer included) expect Y up; so a temporary copy of the armature with
  its rest pose turned Z-up -> Y-up (``R_x(-90°)``, with the object's rotation and location folded
  in, its uniform scale passed as ``global_scale``) is exported instead. The file re-imports into
  Blender with the importer's defaults at the original place;
- ``glb``: ``bpy.ops.export_scene.gltf`` with ``export_format="GLB"``, selection only, the
  active action of each object sampled on every frame of the range.

The frame range is the armature's action range (scene frames, inclusive), else the scene's. The
file is written beside its destination and renamed over it at the end, so a failed export never
leaves a half-written file. Selection, active object, frame and scene range are restored.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import bpy

FORMATS = ("fbx", "bvh", "glb")
_SUFFIX = {"fbx": ".fbx", "bvh": ".bvh", "glb": ".glb"}


def find_armature(scene: bpy.types.Scene | None = None) -> bpy.types.Object:
    """The armature to export by default: ``SMPL``, else the active armature, else the only one.

    Raises:
        ValueError: no armature, or several and none of them named ``SMPL`` or active.
    """
    scene = scene or bpy.context.scene
    objects = [o for o in scene.objects if o.type == "ARMATURE"]
    for obj in objects:
        if obj.name == "SMPL":
            return obj
    active = bpy.context.view_layer.objects.active if bpy.context.view_layer else None
    if active is not None and active.type == "ARMATURE":
        return active
    if len(objects) == 1:
        return objects[0]
    if not objects:
        raise ValueError("nothing to export: the scene has no armature (bake a result first)")
    raise ValueError(
        f"{len(objects)} armatures in the scene and none is active or named 'SMPL': select the one to export"
    )


def skinned_meshes(armature: bpy.types.Object) -> list[bpy.types.Object]:
    """Meshes deformed by ``armature`` (armature modifier) or parented to it."""
    out = []
    for obj in bpy.context.scene.objects:
        if obj.type != "MESH":
            continue
        deformed = any(m.type == "ARMATURE" and m.object == armature for m in obj.modifiers)
        if deformed or obj.parent == armature:
            out.append(obj)
    return out


def frame_range(armature: bpy.types.Object, scene: bpy.types.Scene | None = None) -> tuple[int, int]:
    """(first, last) scene frames to export, inclusive: the action's range, else the scene's."""
    scene = scene or bpy.context.scene
    anim = armature.animation_data
    if anim is not None and anim.action is not None:
        start, end = anim.action.frame_range
        return round(start), max(round(end), round(start))
    return scene.frame_start, scene.frame_end


@contextlib.contextmanager
def _exporting_state(
    scene: bpy.types.Scene, objects: list[bpy.types.Object], first: int, last: int
) -> Iterator[None]:
    """Select exactly ``objects`` (first one active) and set the scene range; restore on exit."""
    view_layer = bpy.context.view_layer
    selected = [o for o in view_layer.objects if o.select_get()]
    active = view_layer.objects.active
    saved = scene.frame_start, scene.frame_end, scene.frame_current
    if bpy.context.object is not None and bpy.context.object.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    try:
        for obj in selected:
            obj.select_set(False)
        for obj in objects:
            obj.select_set(True)
        view_layer.objects.active = objects[0]
        scene.frame_start, scene.frame_end = first, last
        yield
    finally:
        for obj in objects:
            obj.select_set(False)
        for obj in selected:
            with contextlib.suppress(ReferenceError, RuntimeError):
                obj.select_set(True)
        view_layer.objects.active = active
        scene.frame_start, scene.frame_end = saved[0], saved[1]
        scene.frame_set(saved[2])


def export_scene(
    path: str | os.PathLike,
    fmt: str,
    armature: bpy.types.Object | None = None,
    *,
    with_mesh: bool = True,
    frames: tuple[int, int] | None = None,
) -> Path:
    """Write ``armature`` (+ its skinned meshes) with its animation to ``path``.

    Args:
        path: destination file; its suffix is not changed.
        fmt: ``"fbx"``, ``"bvh"`` or ``"glb"``.
        armature: default :func:`find_armature`.
        with_mesh: include the meshes it deforms (FBX, glTF; BVH never has a mesh).
        frames: (first, last) scene frames, inclusive; default :func:`frame_range`.

    Returns:
        The path written.

    Raises:
        ValueError: unknown format, no armature, or the exporter reported a failure.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt == "gltf":
        fmt = "glb"
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (expected one of {', '.join(FORMATS)})")
    scene = bpy.context.scene
    armature = armature or find_armature(scene)
    if armature.type != "ARMATURE":
        raise ValueError(f"'{armature.name}' is not an armature")
    first, last = frames or frame_range(armature, scene)
    objects = [armature] + (skinned_meshes(armature) if with_mesh and fmt != "bvh" else [])
    path = Path(bpy.path.abspath(os.fspath(path)))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=path.suffix or _SUFFIX[fmt], dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with _exporting_state(scene, objects, first, last):
            result = _run_exporter(fmt, str(tmp), first, last)
        if "FINISHED" not in result or not tmp.exists() or tmp.stat().st_size == 0:
            raise ValueError(f"{path}: the {fmt.upper()} exporter wrote nothing ({result})")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def _export_bvh(armature: bpy.types.Object, filepath: str, first: int, last: int) -> set[str]:
    """BVH of a Y-up copy of ``armature`` (see the module docstring)."""
    from mathutils import Matrix

    location, rotation, scale = armature.matrix_world.decompose()
    to_bvh = (
        Matrix.Rotation(-math.pi / 2, 4, "X") @ Matrix.Translation(location) @ rotation.to_matrix().to_4x4()
    )
    copy = armature.copy()
    copy.data = armature.data.copy()
    copy.matrix_world = Matrix.Identity(4)
    bpy.context.scene.collection.objects.link(copy)
    view_layer = bpy.context.view_layer
    try:
        armature.select_set(False)
        copy.select_set(True)
        view_layer.objects.active = copy
        bpy.ops.object.mode_set(mode="EDIT")
        for bone in copy.data.edit_bones:
            # Moving the whole rest skeleton leaves every bone's local keys valid and turns every
            # posed bone by the same matrix.
            bone.transform(to_bvh)
        bpy.ops.object.mode_set(mode="OBJECT")
        return bpy.ops.export_anim.bvh(
            filepath=filepath,
            check_existing=False,
            global_scale=sum(scale) / 3.0,
            frame_start=first,
            frame_end=last,
            rotate_mode="NATIVE",
            root_transform_only=False,
        )
    finally:
        if copy.mode != "OBJECT":
            bpy.ops.object.mode_set(mode="OBJECT")
        data = copy.data
        bpy.data.objects.remove(copy)
        bpy.data.armatures.remove(data)
        view_layer.objects.active = armature


def _run_exporter(fmt: str, filepath: str, first: int, last: int) -> set[str]:
    if fmt == "fbx":
        return bpy.ops.export_scene.fbx(
            filepath=filepath,
            check_existing=False,
            use_selection=True,
            object_types={"ARMATURE", "MESH"},
            add_leaf_bones=False,
            bake_anim=True,
            bake_anim_use_all_bones=True,
            bake_anim_use_nla_strips=False,
            bake_anim_use_all_actions=False,
            bake_anim_force_startend_keying=True,
            # Keep every baked frame: the motion is already what the artist wants.
            bake_anim_simplify_factor=0.0,
        )
    if fmt == "bvh":
        return _export_bvh(bpy.context.view_layer.objects.active, filepath, first, last)
    return bpy.ops.export_scene.gltf(
        filepath=filepath,
        check_existing=False,
        export_format="GLB",
        use_selection=True,
        export_animations=True,
        export_animation_mode="ACTIVE_ACTIONS",
        export_frame_range=True,
        export_force_sampling=True,
        export_optimize_animation_size=False,
        export_anim_slide_to_zero=False,
    )
