"""The depth preview (anylift_blender.preview, the Depth Preview operator): views in the right places,
the scene left as it was."""

from __future__ import annotations

import bpy
import numpy as np
import pytest

from anylift_blender import preview


@pytest.fixture
def baked(addon, result_npz):
    path, motion = result_npz
    assert bpy.ops.anylift.import_result(filepath=str(path)) == {"FINISHED"}
    return motion


def _body_mask(cell: np.ndarray) -> np.ndarray:
    """Pixels of the orange body: red well above blue (the background and floor are grey-blue)."""
    rgb = cell.astype(int)
    return (rgb[..., 0] - rgb[..., 2] > 60) & (rgb[..., 0] > 120)


def test_views_show_the_body_where_it_is_and_the_scene_is_left_as_it_was(baked):
    scene = bpy.context.scene
    before = (sorted(bpy.data.objects.keys()), sorted(bpy.data.materials.keys()), scene.render.engine,
              scene.camera.name, scene.render.resolution_percentage, scene.frame_current)  # fmt: skip
    motion = baked
    w = 200
    image = preview.render_preview(scene, frames=2, width=w)
    percent = round(100 * w / scene.render.resolution_x)  # Blender renders at a whole percentage
    w = scene.render.resolution_x * percent // 100  # and truncates
    h = scene.render.resolution_y * percent // 100
    gap = 4
    assert image.shape == (3 * h + 2 * gap, 2 * w + gap, 3)
    after = (sorted(bpy.data.objects.keys()), sorted(bpy.data.materials.keys()), scene.render.engine,
             scene.camera.name, scene.render.resolution_percentage, scene.frame_current)  # fmt: skip
    assert after == before

    # Truth = the result's own keypoints moved 1 m away from the input camera: in the side view the
    # cyan skeleton sits beside the body by 1 m of the view's scale, in the top view above it.
    kp = motion.keypoints3d.copy()
    cam = np.linalg.inv(motion.world_to_camera[0])
    away = cam[:3, 2] * [1.0, 1.0, 0.0]
    away /= np.linalg.norm(away)
    truth = kp + away
    image = preview.render_preview(scene, frames=1, width=200, truth=truth, bones=((11, 12), (5, 6)))
    side = image[h + gap : 2 * h + gap]
    top = image[2 * h + 2 * gap :]
    cyan = np.array(preview.TRUTH_RGB)
    for cell, axis in ((side, 1), (top, 0)):
        body = np.argwhere(_body_mask(cell))
        truth_px = np.argwhere(np.abs(cell.astype(int) - cyan).sum(-1) < 30)
        assert len(body) > 50 and len(truth_px) > 5
        # Side view: depth is horizontal (truth to the right, further along the line of sight);
        # top view: the camera looks up the image, so further away is higher (smaller row).
        offset = truth_px.mean(0) - body.mean(0)
        if axis == 1:
            assert offset[1] > 0.5 * abs(offset[0]) and offset[1] > 5
        else:
            assert -offset[0] > 0.5 * abs(offset[1]) and -offset[0] > 5


def test_operator_writes_and_loads_the_preview(baked, tmp_path):
    out = tmp_path / "preview.png"
    assert bpy.ops.anylift.preview(frames=2, width=160, filepath=str(out)) == {"FINISHED"}
    assert out.is_file()
    image = bpy.data.images["AnyLift Preview"]
    res_x = bpy.context.scene.render.resolution_x
    assert image.size[0] == 2 * (res_x * round(100 * 160 / res_x) // 100) + 4  # Blender truncates


def test_operator_poll_explains_without_a_bake(addon):
    assert not bpy.ops.anylift.preview.poll()


def test_columns_cover_the_frames_that_show_the_person_and_a_relative_path_is_written(
    addon, tmp_path, monkeypatch
):
    """A result whose footage shows the person only in frames 8-15 (``seen``): the preview spreads its
    columns over those frames (elsewhere the body is hidden); ``write_png`` takes a relative path
    (Blender alone could not save to one)."""
    import dataclasses

    from anylift.io.motion import write_motion

    from .conftest import build_motion

    seen = np.zeros(24, bool)
    seen[8:16] = True
    path = tmp_path / "partial.npz"
    write_motion(path, dataclasses.replace(build_motion(), seen=seen))
    assert bpy.ops.anylift.import_result(filepath=str(path)) == {"FINISHED"}
    scene = bpy.context.scene
    assert preview._shown_span(scene, scene.frame_start, scene.frame_end) == (9, 16)  # frame 1 = result 0
    assert preview.render_preview(scene, frames=2, width=80).shape[1] > 80  # two columns rendered
    monkeypatch.chdir(tmp_path)
    preview.write_png(np.zeros((4, 6, 3), np.uint8), "relative.png")
    assert (tmp_path / "relative.png").is_file()
