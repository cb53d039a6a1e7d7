"""Key-writing speed: bulk F-curve writes (``anylift_blender.baking.keys``) vs ``keyframe_insert``.

Bakes FRAMES frames x 24 bones (quaternion rotation on every bone + the root's location: 99
F-curves) both ways and prints the times and their ratio. ``keyframe_insert`` is timed on
``--insert-frames`` frames (default 500) and extrapolated linearly to FRAMES, a lower bound:
inserting into a longer F-curve does not get cheaper.

    .venv/bin/python benchmarks/bake_speed.py [--frames 10000] [--insert-frames 500]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import bpy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from anylift_blender.baking import keys

BONES = 24


def make_armature(name: str) -> bpy.types.Object:
    """A 24-bone chain armature linked to the scene."""
    arm = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, arm)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    parent = None
    for i in range(BONES):
        eb = arm.edit_bones.new(f"bone{i:02d}")
        eb.head = (0.0, 0.0, 0.1 * i)
        eb.tail = (0.0, 0.0, 0.1 * (i + 1))
        eb.parent = parent
        parent = eb
    bpy.ops.object.mode_set(mode="OBJECT")
    for pb in obj.pose.bones:
        pb.rotation_mode = "QUATERNION"
    return obj


def motion(frames: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(T, 24, 4) unit quaternions and (T, 3) root locations, smooth random motion."""
    rng = np.random.default_rng(seed)
    q = np.cumsum(rng.normal(scale=0.02, size=(frames, BONES, 4)), axis=0)
    q[..., 0] += 1.0
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    loc = np.cumsum(rng.normal(scale=0.01, size=(frames, 3)), axis=0)
    return keys.continuous_quaternions(q), loc


def bake_bulk(obj: bpy.types.Object, quats: np.ndarray, loc: np.ndarray) -> float:
    frames = np.arange(1, len(quats) + 1, dtype=np.float64)
    start = time.perf_counter()
    bag = keys.new_action(obj)
    for b, pb in enumerate(obj.pose.bones):
        keys.write_channels(
            bag, f'pose.bones["{pb.name}"].rotation_quaternion', frames, quats[:, b], group=pb.name
        )
    root = obj.pose.bones[0].name
    keys.write_channels(bag, f'pose.bones["{root}"].location', frames, loc, group=root)
    return time.perf_counter() - start


def bake_insert(obj: bpy.types.Object, quats: np.ndarray, loc: np.ndarray) -> float:
    bones = list(obj.pose.bones)
    start = time.perf_counter()
    for t in range(len(quats)):
        frame = t + 1
        for b, pb in enumerate(bones):
            pb.rotation_quaternion = quats[t, b]
            pb.keyframe_insert("rotation_quaternion", frame=frame, group=pb.name)
        bones[0].location = loc[t]
        bones[0].keyframe_insert("location", frame=frame, group=bones[0].name)
    return time.perf_counter() - start


def check_same(bulk: bpy.types.Object, inserted: bpy.types.Object, frames: int) -> float:
    """Largest difference between the two bakes' key values over the frames both have."""
    a, b = keys.channelbag_of(bulk), keys.channelbag_of(inserted)
    worst = 0.0
    for fc in b.fcurves:
        other = a.fcurves.find(fc.data_path, index=fc.array_index)
        n = min(frames, len(fc.keyframe_points))
        va, vb = np.empty(2 * len(other.keyframe_points), np.float32), np.empty(2 * n, np.float32)
        other.keyframe_points.foreach_get("co", va)
        fc.keyframe_points.foreach_get("co", vb)
        worst = max(worst, float(np.abs(va[: 2 * n] - vb).max()))
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--insert-frames", type=int, default=500)
    args = parser.parse_args(argv)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    quats, loc = motion(args.frames)
    curves = BONES * 4 + 3

    bulk_obj = make_armature("Bulk")
    bulk = bake_bulk(bulk_obj, quats, loc)
    print(f"bulk (foreach_set):   {args.frames} frames x {curves} F-curves: {bulk:.3f} s")

    n = min(args.insert_frames, args.frames)
    insert_obj = make_armature("Insert")
    inserted = bake_insert(insert_obj, quats[:n], loc[:n])
    estimate = inserted * args.frames / n
    print(f"keyframe_insert:      {n} frames x {curves} F-curves: {inserted:.3f} s")
    print(f"keyframe_insert, extrapolated to {args.frames} frames (linear, a lower bound): {estimate:.1f} s")
    print(f"ratio keyframe_insert / bulk: {estimate / bulk:.0f}x")
    print(f"largest key difference between the two bakes: {check_same(bulk_obj, insert_obj, n):.2e}")


if __name__ == "__main__":
    main(sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else None)
