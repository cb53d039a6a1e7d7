"""Preview strip of a baked scene: the 2D input next to the lifted body seen by the ``AnyLift Camera``.

Runs under the ``bpy`` module (``.venv/bin/python examples/render_preview.py -- ...``) or
``blender -b --python examples/render_preview.py -- ...``::

    render_preview.py -- --blend SCENE.blend --keypoints KEYPOINTS.json --out PREVIEW.png
                         [--frames 6] [--width 480] [--label TEXT]

For ``--frames`` frames spread over the clip it draws two rows, one column per frame:

1. the 2D input keypoints (COCO-17 skeleton, dropped joints left out, joints with a score
   below 0.5 drawn hollow) on a plain footage-sized canvas;
2. a Workbench render of the scene through the ``AnyLift Camera`` (the camera the result
   holds, i.e. the input camera): the ``SMPL Body`` on a checkered floor at z = 0, with the same
   2D input drawn thinly on top - where the body sits under the 2D skeleton, the lift explains
   the input; the floor shows the camera moving and the body staying grounded.

The floor plane and the render settings are made for the preview only; the .blend is not saved.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import bpy
import cv2
import numpy as np

from anylift.io.keypoints import read_keypoints
from anylift.skeletons import COCO17

CAMERA_NAME = "AnyLift Camera"
BODY_COLOR = (0.95, 0.55, 0.25, 1.0)
INPUT_COLOR = (60, 220, 60)  # BGR
LOW_SCORE = 0.5
BACKGROUND = (52, 48, 44)  # BGR, a dim "footage" grey


def script_args(argv: list[str]) -> list[str]:
    return argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]


def _floor(size: float = 40.0) -> None:
    """A ``size`` metre checkered plane at z = 0 (1 m squares) around the scene's origin."""
    bpy.ops.mesh.primitive_plane_add(size=size, location=(0.0, 0.0, 0.0))
    plane = bpy.context.active_object
    plane.name = "Preview Floor"
    image = bpy.data.images.new("Preview Checker", 1024, 1024)
    image.generated_type = "UV_GRID"
    mat = bpy.data.materials.new("Preview Floor")
    mat.use_nodes = True
    tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image = image
    tex.interpolation = "Closest"
    bsdf = mat.node_tree.nodes.get("Principled BSDF")
    mat.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    plane.data.materials.append(mat)
    # Each UV unit shows the whole checker image (8 x 8 squares); tile it so a square is 1 m.
    uv = plane.data.uv_layers.active.data
    for loop in uv:
        loop.uv = (loop.uv[0] * size / 8.0, loop.uv[1] * size / 8.0)


def _setup(scene: bpy.types.Scene, width: int) -> None:
    camera = bpy.data.objects.get(CAMERA_NAME)
    if camera is None:
        raise SystemExit(f"error: the scene has no camera named {CAMERA_NAME!r}")
    scene.camera = camera
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_percentage = max(1, round(100 * width / scene.render.resolution_x))
    scene.render.image_settings.file_format = "PNG"
    shading = scene.display.shading
    shading.light = "STUDIO"
    shading.color_type = "TEXTURE"
    shading.show_shadows = True
    shading.show_cavity = False
    scene.display.shadow_shift = 0.1
    body = bpy.data.objects.get("SMPL Body")
    if body is not None:
        mat = bpy.data.materials.new("Preview Body")
        mat.diffuse_color = BODY_COLOR
        body.data.materials.clear()
        body.data.materials.append(mat)
    world = scene.world or bpy.data.worlds.new("Preview World")
    scene.world = world
    world.color = (0.55, 0.6, 0.68)
    _floor()


def render_frames(scene: bpy.types.Scene, frames: list[int], folder: Path) -> list[np.ndarray]:
    """Render scene frames (1-based) through the scene camera; BGR uint8 images."""
    images = []
    for frame in frames:
        scene.frame_set(frame)
        scene.render.filepath = str(folder / f"frame_{frame:04d}.png")
        bpy.ops.render.render(write_still=True)
        images.append(cv2.imread(scene.render.filepath, cv2.IMREAD_COLOR))
    return images


def draw_keypoints(image: np.ndarray, keypoints: np.ndarray, scale: float, thickness: int) -> None:
    """Draw one frame's (17, 3) keypoints (pixels of the full-size video) onto ``image`` in place."""
    ok = keypoints[:, 2] > 0
    pts = [tuple(p) for p in np.rint(np.nan_to_num(keypoints[:, :2] * scale)).astype(int).tolist()]
    for i, j in COCO17.bones:
        if ok[i] and ok[j]:
            cv2.line(image, pts[i], pts[j], INPUT_COLOR, thickness, cv2.LINE_AA)
    for k in np.flatnonzero(ok):
        filled = -1 if keypoints[k, 2] >= LOW_SCORE else 1
        cv2.circle(image, pts[k], thickness + 2, INPUT_COLOR, filled, cv2.LINE_AA)


def _label(image: np.ndarray, text: str) -> None:
    cv2.putText(image, text, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, text, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)


def compose(
    renders: list[np.ndarray], keypoints: np.ndarray, frames: list[int], video_width: int, label: str
) -> np.ndarray:
    """Two rows (2D input; render + input) x len(frames) columns, BGR uint8."""
    h, w = renders[0].shape[:2]
    scale = w / video_width
    top, bottom = [], []
    for render, frame in zip(renders, frames):
        kp = keypoints[frame - 1]
        canvas = np.empty_like(render)
        canvas[:] = BACKGROUND
        draw_keypoints(canvas, kp, scale, 2)
        _label(canvas, f"2D input, frame {frame - 1}")
        shot = render.copy()
        draw_keypoints(shot, kp, scale, 1)
        _label(shot, f"{label}, frame {frame - 1}")
        top.append(canvas)
        bottom.append(shot)
    gap = np.full((h, 4, 3), 255, np.uint8)
    rows = [np.hstack([x for img in row for x in (img, gap)][:-1]) for row in (top, bottom)]
    return np.vstack([rows[0], np.full((4, rows[0].shape[1], 3), 255, np.uint8), rows[1]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="render_preview.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--blend", required=True, type=Path)
    parser.add_argument("--keypoints", required=True, type=Path, help="the 2D input of the lift")
    parser.add_argument("--out", required=True, type=Path, help="preview .png")
    parser.add_argument("--frames", type=int, default=6, help="columns (frames spread over the clip)")
    parser.add_argument("--width", type=int, default=480, help="pixels per column")
    parser.add_argument("--label", default="lifted", help="caption of the rendered row")
    ns = parser.parse_args(script_args(sys.argv if argv is None else argv))
    bpy.ops.wm.open_mainfile(filepath=str(ns.blend))
    scene = bpy.context.scene
    keypoints = read_keypoints(ns.keypoints)
    video_width = scene.render.resolution_x
    _setup(scene, ns.width)
    count = scene.frame_end - scene.frame_start + 1
    if count != keypoints.num_frames:
        print(f"error: {ns.blend} has {count} frames, {ns.keypoints} {keypoints.num_frames}", file=sys.stderr)
        return 2
    frames = sorted(
        set(np.rint(np.linspace(scene.frame_start, scene.frame_end, ns.frames)).astype(int).tolist())
    )
    with tempfile.TemporaryDirectory() as tmp:
        renders = render_frames(scene, frames, Path(tmp))
    strip = compose(renders, keypoints.keypoints, frames, video_width, ns.label)
    ns.out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(ns.out), strip):
        print(f"error: cannot write {ns.out}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
