"""Depth preview of a baked result: the input camera's view, a side view and a top view.

A lift can match the 2D input perfectly and still put the person metres too near or too far:
the input view cannot show depth. So the preview renders, for a few frames spread over the
clip, three views of the scene (Workbench, the body on a 1 m checkered floor at z = 0):

1. **input view** - through the scene's input camera (``AnyLift Camera``), the 2D input drawn on
   top when given;
2. **side view** - orthographic, looking across the input camera's line of sight (horizontal,
   at right angles to it), so an error in depth shows as a horizontal offset; the input
   camera looks from the left of the image to the right;
3. **top view** - orthographic, from above, turned so that the input camera looks up the image;
   the lifted pelvis path is drawn (orange) with the input camera's line of sight to the body
   (white) and, when known, the true path (cyan).

When the truth is known (the benchmark and the example), its COCO-17 skeleton is drawn in
every view in cyan beside the orange lifted body: depth errors show at a glance.

Only numpy and ``bpy`` (OpenCV, when importable, adds text labels): the add-on's Preview operator
and ``examples/render_preview.py`` share it. :func:`render_preview` leaves the scene as it found
it (settings restored, its temporary floor, camera and material removed).
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
from pathlib import Path

import bpy
import numpy as np

from .baking.armature import baked_armature, skinned_body
from .baking.camera import CAMERA_NAME, blender_camera_matrices, sample_camera

BODY_NAME = "SMPL Body"
LIFT_RGB = (242, 140, 64)  # the lifted body's colour (orange)
TRUTH_RGB = (40, 220, 255)  # truth (cyan)
INPUT_RGB = (60, 220, 60)  # the 2D input (green)
RAY_RGB = (255, 255, 255)
BACKGROUND_RGB = (44, 48, 52)
LOW_SCORE = 0.5
_TEMP = "AnyLift Preview"  # prefix of everything the preview adds


def _linear(rgb) -> tuple[float, float, float]:
    """8-bit sRGB -> linear (Blender's material colours are linear)."""
    c = np.asarray(rgb, float) / 255.0
    return tuple(np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).tolist())


def _look(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(4, 4) OpenCV world_to_camera looking from ``eye`` at ``target``; ``up`` is the image's up."""
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    w2c = np.eye(4)
    w2c[:3, :3] = np.stack([right, down, forward])
    w2c[:3, 3] = -w2c[:3, :3] @ eye
    return w2c


def _ortho_project(points: np.ndarray, w2c: np.ndarray, scale: float, size: tuple[int, int]) -> np.ndarray:
    """(..., 3) world points -> (..., 2) pixels of an orthographic view ``scale`` metres wide."""
    w, h = size
    cam = points @ w2c[:3, :3].T + w2c[:3, 3]
    return np.stack([w / 2 + cam[..., 0] * w / scale, h / 2 + cam[..., 1] * w / scale], axis=-1)


def _persp_project(points: np.ndarray, K: np.ndarray, w2c: np.ndarray) -> np.ndarray:
    cam = points @ w2c[:3, :3].T + w2c[:3, 3]
    z = np.where(cam[..., 2] > 1e-6, cam[..., 2], np.nan)
    return np.stack([K[0, 0] * cam[..., 0] / z + K[0, 2], K[1, 1] * cam[..., 1] / z + K[1, 2]], axis=-1)


def draw_line(image: np.ndarray, p, q, rgb, thickness: int = 1) -> None:
    """Draw a segment from pixel ``p`` to ``q`` (x, y) onto an (H, W, 3) uint8 image in place."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    if not (np.isfinite(p).all() and np.isfinite(q).all()):
        return
    h, w = image.shape[:2]
    n = int(min(np.abs(q - p).max(), 4 * (w + h))) + 1
    pts = p + (q - p) * np.linspace(0.0, 1.0, n + 1)[:, None]
    r = max(0, thickness - 1)
    for dx in range(-r, r + 1):
        for dy in range(-r, r + 1):
            if dx * dx + dy * dy > r * r:
                continue
            x = np.rint(pts[:, 0] + dx).astype(int)
            y = np.rint(pts[:, 1] + dy).astype(int)
            ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
            image[y[ok], x[ok]] = rgb


def draw_dot(image: np.ndarray, p, rgb, radius: int = 3) -> None:
    draw_line(image, p, p, rgb, radius + 1)


def draw_skeleton(image, points2d, bones, rgb, thickness=1, valid=None, hollow=None) -> None:
    """(J, 2) pixels joined by ``bones`` (pairs of joint indices); ``valid`` (J,) joints to draw."""
    valid = np.isfinite(points2d).all(-1) if valid is None else valid & np.isfinite(points2d).all(-1)
    for i, j in bones:
        if valid[i] and valid[j]:
            draw_line(image, points2d[i], points2d[j], rgb, thickness)
    for k in np.flatnonzero(valid):
        draw_dot(image, points2d[k], rgb, 1 if hollow is not None and hollow[k] else thickness + 1)


def label(image: np.ndarray, text: str, row: int = 0) -> None:
    """White text with a dark outline at the top-left (needs OpenCV; skipped without it)."""
    try:
        import cv2
    except ImportError:
        return
    bgr = np.ascontiguousarray(image[..., ::-1])
    y = 20 + 20 * row
    cv2.putText(bgr, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(bgr, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    image[:] = bgr[..., ::-1]


def _pelvis_path(scene, frames: range) -> np.ndarray:
    """(len(frames), 3) world pelvis of the baked armature (its root bone's head) per frame."""
    arm = baked_armature(scene)
    if arm is None:
        raise ValueError("the scene has no baked armature (or several: select one): bake a result first")
    root = arm.pose.bones[0]
    out = []
    for frame in frames:
        scene.frame_set(frame)
        out.append(np.array(arm.matrix_world @ root.head, dtype=np.float64))
    return np.stack(out)


def _read_png(path: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a PNG, top row first, read with Blender."""
    image = bpy.data.images.load(path)
    try:
        w, h = image.size
        pixels = np.empty(w * h * 4, dtype=np.float32)
        image.pixels.foreach_get(pixels)
    finally:
        bpy.data.images.remove(image)
    rgb = pixels.reshape(h, w, 4)[::-1, :, :3]
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def write_png(image: np.ndarray, path: str | os.PathLike) -> None:
    """Save an (H, W, 3) uint8 RGB image as PNG with Blender."""
    h, w = image.shape[:2]
    out = bpy.data.images.new(f"{_TEMP} Image", w, h, alpha=False)
    try:
        rgba = np.concatenate([image[::-1].astype(np.float32) / 255.0, np.ones((h, w, 1), np.float32)], -1)
        out.pixels.foreach_set(rgba.ravel())
        out.filepath_raw = os.path.abspath(os.fspath(path))  # Blender cannot save to a relative path
        out.file_format = "PNG"
        out.save()
    finally:
        bpy.data.images.remove(out)


def _floor(size: float, centre: np.ndarray):
    """A temporary ``size`` m checkered plane at z = 0 (1 m squares) around ``centre``."""
    mesh = bpy.data.meshes.new(f"{_TEMP} Floor")
    half = size / 2
    cx, cy = math.floor(centre[0]), math.floor(centre[1])
    verts = [(cx + sx * half, cy + sy * half, 0.0) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    mesh.from_pydata(verts, [], [(0, 1, 2, 3)])
    uv = mesh.uv_layers.new(name="UV")
    for loop, (x, y, _) in zip(uv.data, verts):
        loop.uv = (x / 8.0, y / 8.0)  # the checker image holds 8 x 8 squares: 1 m each
    image = bpy.data.images.new(f"{_TEMP} Checker", 1024, 1024)
    image.generated_type = "UV_GRID"
    mat = bpy.data.materials.new(f"{_TEMP} Floor")
    if bpy.app.version < (5, 0, 0):  # Blender 5 materials always have their node tree
        mat.use_nodes = True
    tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image = image
    tex.interpolation = "Closest"
    mat.node_tree.links.new(tex.outputs["Color"], mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"])
    mesh.materials.append(mat)
    obj = bpy.data.objects.new(f"{_TEMP} Floor", mesh)
    bpy.context.scene.collection.objects.link(obj)
    return obj, [obj, mesh, mat, image]


class _Saved:
    """Scene settings the preview changes, restored on exit."""

    FIELDS = (
        ("render", "engine"), ("render", "resolution_percentage"), ("render", "filepath"),
        ("render.image_settings", "file_format"), ("display.shading", "light"),
        ("display.shading", "color_type"), ("display.shading", "show_shadows"),
        ("display.shading", "show_cavity"), ("display", "shadow_shift"), ("view_settings", "view_transform"),
    )  # fmt: skip

    def __init__(self, scene):
        self.scene = scene

    def _owner(self, path):
        owner = self.scene
        for part in path.split("."):
            owner = getattr(owner, part)
        return owner

    def __enter__(self):
        s = self.scene
        self.values = [getattr(self._owner(p), name) for p, name in self.FIELDS]
        self.camera, self.frame, self.world = s.camera, s.frame_current, s.world
        return self

    def __exit__(self, *exc):
        for (p, name), value in zip(self.FIELDS, self.values):
            setattr(self._owner(p), name, value)
        self.scene.camera, self.scene.world = self.camera, self.world
        self.scene.frame_set(self.frame)


def _remove(ids) -> None:
    for block in ids:
        collection = {
            "OBJECT": bpy.data.objects, "MESH": bpy.data.meshes, "MATERIAL": bpy.data.materials,
            "IMAGE": bpy.data.images, "CAMERA": bpy.data.cameras, "WORLD": bpy.data.worlds,
        }[block.id_type]  # fmt: skip
        collection.remove(block)


def _shown_span(scene, start: int, end: int) -> tuple[int, int]:
    """(first, last) scene frames in which the baked body is not hidden (its ``hide_render`` keys,
    made where the result's ``seen`` says the footage does not show the person); ``(start, end)``
    when it never hides."""
    from .baking.keys import channelbag_of

    arm = baked_armature(scene)
    bag = None if arm is None else channelbag_of(arm)
    curve = None if bag is None else bag.fcurves.find("hide_render")
    if curve is None:
        return start, end
    shown = [f for f in range(start, end + 1) if curve.evaluate(f) < 0.5]
    return (shown[0], shown[-1]) if shown else (start, end)


def render_preview(
    scene,
    *,
    frames: int = 6,
    width: int = 480,
    keypoints: np.ndarray | None = None,
    truth: np.ndarray | None = None,
    bones=(),
    caption: str = "lifted",
) -> np.ndarray:
    """Render the depth preview (module docs) of the baked result in ``scene``.

    Args:
        scene: a scene holding a baked result (armature ``SMPL``, mesh ``SMPL Body``) and the
            input camera (``AnyLift Camera``, else the scene camera).
        frames: columns: frames spread evenly over the scene's frame range (over the frames
            that show the body, when the bake hides it where the footage does not show the person).
        width: pixels per column.
        keypoints: (T, 17, 3) 2D input ``[x, y, score]`` in the input video's pixels, or None.
        truth: (T, J, 3) true 3D keypoints (metres, the scene's world), or None.
        bones: pairs of joint indices joining ``keypoints`` / ``truth`` joints.
        caption: what the orange body is (``"AnyLift"``, ``"SMPLify baseline"``).

    Returns:
        (H, W, 3) uint8 RGB: rows (2D input when given), input view, side view, top view.
    """
    camera = bpy.data.objects.get(CAMERA_NAME) or scene.camera
    if camera is None or camera.type != "CAMERA":
        raise ValueError(f"the scene has no camera named '{CAMERA_NAME}' and no scene camera")
    start, end = scene.frame_start, scene.frame_end
    count = end - start + 1
    for name, arr in (("keypoints", keypoints), ("truth", truth)):
        if arr is not None and len(arr) != count:
            raise ValueError(f"{name} has {len(arr)} frames, the scene {count}")
    K, w2c_in, size = sample_camera(scene, camera, start, end)
    first, last = _shown_span(scene, start, end)
    columns = sorted(set(np.rint(np.linspace(first, last, frames)).astype(int).tolist()))
    temporary: list = []
    with _Saved(scene):
        pelvis = _pelvis_path(scene, range(start, end + 1))
        true_pelvis = None
        if truth is not None:  # COCO-17: the hips' midpoint; SMPL joints: joint 0
            true_pelvis = truth[:, [11, 12]].mean(axis=1) if truth.shape[1] == 17 else truth[:, 0]
        scene.render.engine = "BLENDER_WORKBENCH"
        scene.render.resolution_percentage = max(1, round(100 * width / scene.render.resolution_x))
        scene.render.image_settings.file_format = "PNG"
        shading = scene.display.shading
        shading.light, shading.color_type = "STUDIO", "TEXTURE"
        shading.show_shadows, shading.show_cavity = True, False
        scene.display.shadow_shift = 0.1
        scene.view_settings.view_transform = "Standard"  # colours as given (AgX desaturates)
        world = bpy.data.worlds.new(f"{_TEMP} World")
        world.color = (0.55, 0.6, 0.68)
        scene.world = world
        temporary.append(world)
        _, made = _floor(60.0, pelvis.mean(axis=0))
        temporary += made
        arm = baked_armature(scene)
        body = skinned_body(arm) if arm is not None else bpy.data.objects.get(BODY_NAME)
        body_materials = None
        if body is not None and body.type == "MESH":
            body_materials = list(body.data.materials)
            mat = bpy.data.materials.new(f"{_TEMP} Body")
            mat.diffuse_color = (*_linear(LIFT_RGB), 1.0)
            if mat.node_tree is not None:  # with nodes, Workbench's texture mode shows the base colour
                mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = mat.diffuse_color
            temporary.append(mat)
            body.data.materials.clear()
            body.data.materials.append(mat)
        view_data = bpy.data.cameras.new(f"{_TEMP} View")
        view_data.type = "ORTHO"
        view_data.sensor_fit = "HORIZONTAL"
        view_data.clip_start, view_data.clip_end = 0.1, 500.0
        view = bpy.data.objects.new(f"{_TEMP} View", view_data)
        scene.collection.objects.link(view)
        temporary = [view, view_data, *temporary]
        try:
            image = _render_all(
                scene, camera, view, columns, start, K, w2c_in, size, pelvis, true_pelvis, keypoints, truth,
                bones, caption,
            )  # fmt: skip
        finally:
            if body_materials is not None:
                body.data.materials.clear()
                for m in body_materials:
                    body.data.materials.append(m)
            _remove(temporary)
    return image


def _render_all(scene, camera, view, columns, start, K, w2c_in, size, pelvis, true_pelvis, keypoints, truth,
                bones, caption) -> np.ndarray:  # fmt: skip
    # Blender truncates the scaled resolution.
    w = scene.render.resolution_x * scene.render.resolution_percentage // 100
    h = scene.render.resolution_y * scene.render.resolution_percentage // 100
    to_cell = w / size[0]  # input-video pixels -> cell pixels
    up = np.array([0.0, 0.0, 1.0])
    idx = [c - start for c in columns]
    # One scale for every side / top cell: the bodies, the gap between lifted and true, a margin.
    gap = 0.0 if true_pelvis is None else float(np.linalg.norm(pelvis[idx] - true_pelvis[idx], axis=-1).max())
    span = max(3.0, gap + 2.6) * max(1.0, w / h)  # metres across a cell
    rows: dict[str, list[np.ndarray]] = {"input": [], "side": [], "top": []}
    if keypoints is not None:
        rows = {"2d": [], **rows}
    with tempfile.TemporaryDirectory() as tmp:
        for frame, t in zip(columns, idx):
            scene.frame_set(frame)
            cam_pos = np.linalg.inv(w2c_in[t])[:3, 3]
            forward = w2c_in[t][2, :3] * [1.0, 1.0, 0.0]  # the input camera's horizontal line of sight
            if np.linalg.norm(forward) < 1e-6:  # looking straight down
                forward = -w2c_in[t][1, :3] * [1.0, 1.0, 0.0]
            forward = forward / np.linalg.norm(forward)
            centre = pelvis[t] if true_pelvis is None else 0.5 * (pelvis[t] + true_pelvis[t])
            side_dir = np.cross(up, forward)  # the input camera looks left -> right in the side view
            aim = np.array([centre[0], centre[1], max(0.9, centre[2])])
            views = {
                "input": (camera, None),
                "side": (view, _look(aim - side_dir * 50.0, aim, up)),
                "top": (view, _look(np.array([*centre[:2], 60.0]), np.array([*centre[:2], 0.0]), forward)),
            }
            for name, (obj, w2c) in views.items():
                if w2c is not None:
                    obj.matrix_world = _matrix(blender_camera_matrices(w2c[None])[0])
                    obj.data.ortho_scale = span
                scene.camera = obj
                scene.render.filepath = str(Path(tmp) / f"{name}_{frame}.png")
                bpy.ops.render.render(write_still=True)
                cell = _read_png(scene.render.filepath)
                if name == "input":

                    def proj(p, _t=t):
                        return _persp_project(p, K, w2c_in[_t]) * to_cell
                else:

                    def proj(p, _w=w2c):
                        return _ortho_project(p, _w, span, (w, h))

                if name == "top":
                    draw_path(cell, proj(pelvis), LIFT_RGB)
                    if true_pelvis is not None:
                        draw_path(cell, proj(true_pelvis), TRUTH_RGB)
                    draw_line(cell, proj(cam_pos), proj(pelvis[t]), RAY_RGB, 1)
                    draw_dot(cell, proj(cam_pos), RAY_RGB, 4)
                if name == "side":  # the floor, seen edge-on
                    ends = aim * [1, 1, 0] + np.outer([-span, span], forward)
                    draw_line(cell, proj(ends[0]), proj(ends[1]), RAY_RGB, 1)
                if truth is not None:
                    draw_skeleton(cell, proj(truth[t]), bones, TRUTH_RGB, 2)
                if name == "input" and keypoints is not None:
                    kp = keypoints[t]
                    draw_skeleton(cell, kp[:, :2] * to_cell, bones, INPUT_RGB, 1, valid=kp[:, 2] > 0)
                title = {
                    "input": f"{caption}: input camera, frame {t}",
                    "side": "side view (input camera looks ->)",
                    "top": "top view (input camera looks up)",
                }[name]
                label(cell, title)
                if truth is not None and name != "input":
                    label(cell, "orange: lifted  cyan: truth", row=1)
                rows[name].append(cell)
            if keypoints is not None:
                canvas = np.empty((h, w, 3), np.uint8)
                canvas[:] = BACKGROUND_RGB
                kp = keypoints[t]
                hollow = kp[:, 2] < LOW_SCORE
                seen = kp[:, 2] > 0
                draw_skeleton(canvas, kp[:, :2] * to_cell, bones, INPUT_RGB, 2, valid=seen, hollow=hollow)
                label(canvas, f"2D input, frame {t}")
                rows["2d"].append(canvas)
    gap_px = 4
    strips = []
    for cells in rows.values():
        parts = []
        for cell in cells:
            parts += [cell, np.full((h, gap_px, 3), 255, np.uint8)]
        strips.append(np.hstack(parts[:-1]))
    out = []
    for strip in strips:
        out += [strip, np.full((gap_px, strip.shape[1], 3), 255, np.uint8)]
    return np.vstack(out[:-1])


def draw_path(image: np.ndarray, points2d: np.ndarray, rgb) -> None:
    """A polyline through (N, 2) pixels."""
    for a, b in itertools.pairwise(points2d):
        draw_line(image, a, b, rgb, 1)


def _matrix(m: np.ndarray):
    from mathutils import Matrix

    return Matrix(m.tolist())
