"""Render a test video with Blender (the ``bpy`` module): the proxy body performing a held-out
mocap clip over a textured floor, seen by a known moving camera.

    .venv/bin/python benchmarks/render_test_video.py --out DIR [--clip dance_b] [--frames 75]
        [--size 640x360] [--seed 0] [--trajectory real_like|zoom_in|move_left|rotate_cw|...|static]

Writes into DIR:

- ``video.mp4`` (mp4v, the clip's fps) and ``frames/00000.png ...`` (the same frames, lossless);
- ``truth.npz``: an ``anylift.motion/1`` file of the rendered body (so ``anylift eval RESULT.npz
  --truth DIR/truth.npz`` reads it) with these extra keys: ``K`` (3, 3), ``keypoints2d`` (T, 17, 2)
  pixels (the posed body's COCO-17 keypoints projected), ``in_image`` (T, 17) bool,
  ``image_size`` (W, H), ``clip``, ``trajectory``, ``render_seconds``;
- ``truth_camera.json``: the camera in ``anylift.camera/1``.

The body: SMPL parameters fitted (:func:`anylift.fitting.smpl_fit.fit_smpl`) to the clip's 3D
keypoints, posed with the proxy body model; the 2D truth is that same posed body's keypoints,
so it matches what is drawn. The scene: a 40 m textured floor (checker + seeded noise, so
features exist everywhere) and a ring of textured boxes 11-16 m from the subject (a real
scene is not one plane; without them a camera's focal length cannot be told from the floor's
homography). Camera trajectories come from :mod:`anylift.data.trajectories`, ``split="test"``.
Workbench engine (textured solid shading), no anti-aliasing noise: a 75-frame 640x360 clip
takes well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
for _p in (_REPO, _REPO / "engine"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import numpy as np  # noqa: E402

TRUTH_VERSION = 2
"""Layout of truth.npz: 2 = an ``anylift.motion/1`` file plus the render's extra keys."""
TRAJECTORIES = ("real_like", "static", "zoom_in", "zoom_out", "move_left", "move_right", "rotate_cw",
                "rotate_ccw")  # fmt: skip


def _texture(rng: np.random.Generator, size: int, checks: int, base, contrast: float) -> np.ndarray:
    """(size, size, 4) float32 RGBA: a checkerboard with blotchy seeded noise on top."""
    from scipy.ndimage import gaussian_filter, zoom

    yy, xx = np.mgrid[0:size, 0:size] * checks // size
    checker = ((yy + xx) % 2).astype(np.float32)
    fine = rng.random((size, size)).astype(np.float32)
    coarse = zoom(rng.random((size // 16, size // 16)), 16, order=1)[:size, :size]
    value = 0.35 + contrast * (0.45 * checker + 0.35 * gaussian_filter(fine, 1.0) + 0.2 * coarse - 0.5)
    rgb = np.clip(value[..., None] * np.asarray(base, np.float32), 0, 1)
    return np.concatenate([rgb, np.ones((size, size, 1), np.float32)], axis=-1)


def _image_material(name: str, pixels: np.ndarray):
    import bpy

    h, w = pixels.shape[:2]
    image = bpy.data.images.new(name, w, h, alpha=True)
    image.pixels.foreach_set(np.ascontiguousarray(pixels, dtype=np.float32).ravel())
    image.pack()
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image = image
    bsdf = mat.node_tree.nodes.get("Principled BSDF")
    mat.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    return mat


def _box_uv_object(name, verts, faces, uv_scale: float, material):
    """A mesh whose UVs come from the vertices' planar coordinates (scaled), so textures tile."""
    import bpy

    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([tuple(v) for v in verts], [], [tuple(f) for f in faces])
    uv = mesh.uv_layers.new(name="UV")
    for poly in mesh.polygons:
        n = np.abs(np.array(poly.normal))
        drop = int(np.argmax(n))
        keep = [i for i in range(3) if i != drop]
        for li in poly.loop_indices:
            co = np.array(verts[mesh.loops[li].vertex_index])
            uv.data[li].uv = (co[keep[0]] * uv_scale, co[keep[1]] * uv_scale)
    mesh.materials.append(material)
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def _cuboid(centre, size, yaw):
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (0.0, 1.0)])
    verts = (corners * size) @ rot.T + centre
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    return verts, faces


def body_motion(clip_name: str, start: int, frames: int, fps: float = 30.0, fit_iterations: int = 120):
    """Fit SMPL to a clip and pose the proxy body: vertices (T, 6890, 3), keypoints (T, 17, 3), faces."""
    verts, kp3d, faces, _fit, _kind = body_fit(clip_name, start, frames, fps, fit_iterations)
    return verts, kp3d, faces


def body_fit(clip_name: str, start: int, frames: int, fps: float = 30.0, fit_iterations: int = 120):
    """:func:`body_motion` plus the SMPL fit (``SmplFit``) and the body model's kind."""
    from anylift.data.mocap import load_clip

    clip = load_clip(clip_name, fps=fps, allow_heldout=True)
    kp3d = clip.keypoints3d[start : start + frames]
    if len(kp3d) < frames:
        raise SystemExit(f"clip {clip_name} has {clip.num_frames} frames; asked for {start}+{frames}")
    return fit_keypoints(kp3d, fps, fit_iterations)


def fit_keypoints(kp3d: np.ndarray, fps: float = 30.0, fit_iterations: int = 120):
    """:func:`body_fit` of any (T, 17, 3) Z-up mocap keypoints (floor at z = 0)."""
    import torch

    from anylift.body.model import load_body_model
    from anylift.fitting.smpl_fit import SmplFitConfig, fit_smpl

    torch.set_num_threads(2)
    frames = len(kp3d)
    body = load_body_model()
    fit = fit_smpl(kp3d, body, fps=fps, floor_z=0.0, config=SmplFitConfig(stage2_iterations=fit_iterations))
    with torch.no_grad():
        out = body(
            torch.as_tensor(np.broadcast_to(fit.betas, (frames, 10)).copy(), dtype=torch.float32),
            torch.as_tensor(fit.global_orient, dtype=torch.float32),
            torch.as_tensor(fit.body_pose, dtype=torch.float32),
            torch.as_tensor(fit.transl, dtype=torch.float32),
        )
    fit.joints = out.joints.double().numpy()
    return (
        out.vertices.double().numpy(),
        out.keypoints.double().numpy(),
        np.asarray(body.faces),
        fit,
        body.kind,
    )


def make_camera(kind: str, seed: int, frames: int, track: np.ndarray, size: tuple[int, int], fps: float):
    """A test-split camera (anylift.io.cameras.Camera) around the (T, 3) pelvis track."""
    from anylift.data import trajectories as tj

    if kind == "real_like":
        return tj.real_like_trajectory(seed, frames, track, split="test", fps=fps, image_size=size)
    if kind == "static":
        return tj.real_like_trajectory(
            seed, frames, track, split="test", fps=fps, image_size=size, orbit_rate=0.0, dolly_rate=0.0,
            follow=0.0, wobble=0.0, shake_rotation=0.0, shake_translation=0.0, lag=1e6, track_pelvis=False,
        )  # fmt: skip
    return tj.predefined_trajectory(kind, frames, track, seed=seed, split="test", fps=fps, image_size=size)


def camera_and_render(scene, K: np.ndarray, size: tuple[int, int], fps: float):
    """The scene's camera (K, image size) and the Workbench PNG render settings both test videos use."""
    import bpy

    from anylift_blender.baking.camera import set_intrinsics

    cam_obj = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    scene.collection.objects.link(cam_obj)
    scene.camera = cam_obj
    cam_obj.data.clip_start, cam_obj.data.clip_end = 0.05, 200.0
    set_intrinsics(cam_obj, scene, K, size)
    scene.render.engine = "BLENDER_WORKBENCH"
    shading = scene.display.shading
    shading.light, shading.color_type, shading.show_shadows = "STUDIO", "TEXTURE", True
    scene.display.render_aa = "5"
    scene.render.image_settings.file_format = "PNG"
    scene.render.fps = round(fps)
    world = bpy.data.worlds.new("World")
    world.color = (0.55, 0.65, 0.8)
    scene.world = world
    return cam_obj


def render(
    out: Path, *, clip: str = "dance_b", start: int = 0, frames: int = 75, size=(640, 360), seed: int = 0,
    trajectory: str = "real_like", fps: float = 30.0, write_mp4: bool = True, fit_iterations: int = 120,
    keypoints3d: np.ndarray | None = None, camera=None,
) -> dict:  # fmt: skip
    """Render the test video into ``out`` (see the module docs); returns the truth dict.

    ``keypoints3d`` (T, 17, 3): render the body fitted to these instead of ``clip``'s frames
    ``start``..; ``camera`` (``anylift.io.cameras.Camera`` of ``size`` and ``frames``): film
    through it instead of ``trajectory``'s."""
    import bpy
    import cv2
    from mathutils import Matrix

    from anylift.geometry.camera import project
    from anylift.io.cameras import write_camera
    from anylift_blender.baking.camera import blender_camera_matrices

    out = Path(out)
    (out / "frames").mkdir(parents=True, exist_ok=True)
    if keypoints3d is None:
        verts, kp3d, faces, fit, body_kind = body_fit(clip, start, frames, fps, fit_iterations)
    else:
        verts, kp3d, faces, fit, body_kind = fit_keypoints(np.asarray(keypoints3d), fps, fit_iterations)
    pelvis = kp3d[:, 11:13].mean(1)
    cam = make_camera(trajectory, seed, frames, pelvis, size, fps) if camera is None else camera
    K, w2c = cam.K, cam.world_to_camera
    kp2d, depth = project(kp3d, K, w2c, return_depth=True)
    w, h = size
    in_image = (
        (depth > 0) & (kp2d[..., 0] >= 0) & (kp2d[..., 0] < w) & (kp2d[..., 1] >= 0) & (kp2d[..., 1] < h)
    )

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    rng = np.random.default_rng(seed + 1000)
    centre = pelvis.mean(0) * [1, 1, 0]
    floor = _image_material("floor", _texture(rng, 1024, 16, (0.95, 0.85, 0.7), 0.9))
    half = 20.0
    _box_uv_object(
        "Floor",
        [centre + v for v in ([-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0])],
        [(0, 1, 2, 3)], 0.125, floor,
    )  # fmt: skip
    for i in range(10):
        ang = 2 * np.pi * i / 10 + rng.uniform(-0.2, 0.2)
        radius = rng.uniform(11.0, 16.0)
        box_size = rng.uniform([1.0, 1.0, 1.0], [3.0, 3.0, 4.0])
        mat = _image_material(f"box{i}", _texture(rng, 256, 4, rng.uniform(0.4, 1.0, 3), 1.0))
        v, f = _cuboid(
            centre + radius * np.array([np.cos(ang), np.sin(ang), 0]), box_size, rng.uniform(0, np.pi)
        )
        _box_uv_object(f"Box{i}", v, f, 0.5, mat)
    skin = _image_material("skin", np.tile(np.array([0.75, 0.6, 0.5, 1.0], np.float32), (4, 4, 1)))
    mesh = bpy.data.meshes.new("Body")
    mesh.from_pydata([tuple(p) for p in verts[0]], [], [tuple(int(i) for i in f) for f in faces])
    mesh.materials.append(skin)
    mesh.shade_smooth()
    body = bpy.data.objects.new("Body", mesh)
    scene.collection.objects.link(body)

    cam_obj = camera_and_render(scene, K, size, fps)
    mats = blender_camera_matrices(w2c)
    flat = np.empty(verts.shape[1] * 3)
    started = time.time()
    for t in range(frames):
        flat[:] = verts[t].ravel()
        mesh.vertices.foreach_set("co", flat)
        mesh.update()
        cam_obj.matrix_world = Matrix(mats[t].tolist())
        scene.render.filepath = str(out / "frames" / f"{t:05d}.png")
        bpy.ops.render.render(write_still=True)
    elapsed = time.time() - started
    if write_mp4:
        writer = cv2.VideoWriter(str(out / "video.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        for t in range(frames):
            writer.write(cv2.imread(str(out / "frames" / f"{t:05d}.png")))
        writer.release()
    from anylift.io.motion import Motion

    motion = Motion(
        fps=fps, joints=fit.joints, keypoints3d=kp3d, global_orient=fit.global_orient,
        body_pose=fit.body_pose, transl=fit.transl, betas=fit.betas, body_model=body_kind,
        world_to_camera=w2c, intrinsics=K,
    )  # fmt: skip
    truth = {
        **motion.to_arrays(), "K": K, "keypoints2d": kp2d, "in_image": in_image,
        "image_size": np.array(size), "clip": np.str_(clip if keypoints3d is None else "given"),
        "trajectory": np.str_(trajectory if camera is None else "given"),
        "render_seconds": np.float64(elapsed),
    }  # fmt: skip
    np.savez(out / "truth.npz", **truth)
    write_camera(out / "truth_camera.json", cam)
    return truth


def cached_render(**params) -> Path:
    """Render (in a subprocess, once) into a cache folder keyed by ``params``; returns the folder.

    The cache is ``$ANYLIFT_CACHE/test_videos`` (default ``~/.cache/anylift``), never the
    repository. Params are :func:`render`'s keywords; ``size`` as (W, H).
    """
    import hashlib
    import os
    import subprocess

    # TRUTH_VERSION in the key: a cached render whose truth.npz predates the current layout is redone.
    key = hashlib.sha1(json.dumps({**params, "_truth": TRUTH_VERSION}, sort_keys=True).encode()).hexdigest()[
        :12
    ]
    root = Path(os.environ.get("ANYLIFT_CACHE", Path.home() / ".cache" / "anylift")) / "test_videos"
    out = root / key
    if (out / "truth.npz").exists() and (out / "video.mp4").exists():
        return out
    argv = [sys.executable, str(Path(__file__).resolve()), "--out", str(out)]
    for name, value in params.items():
        flag = "--" + name.replace("_", "-")
        argv += [flag, "x".join(map(str, value)) if name == "size" else str(value)]
    env = dict(os.environ, OMP_NUM_THREADS="2")
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--clip", default="dance_b")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--frames", type=int, default=75)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trajectory", default="real_like", choices=TRAJECTORIES)
    parser.add_argument("--fit-iterations", type=int, default=120)
    parser.add_argument("--no-mp4", action="store_true")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    truth = render(
        Path(args.out), clip=args.clip, start=args.start, frames=args.frames, size=size, seed=args.seed,
        trajectory=args.trajectory, write_mp4=not args.no_mp4, fit_iterations=args.fit_iterations,
    )  # fmt: skip
    print(
        json.dumps({"out": args.out, "frames": args.frames, "render_seconds": float(truth["render_seconds"])})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
