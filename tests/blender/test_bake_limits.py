"""The bake refuses values Blender would clamp silently (frame rate, lens), scene unchanged."""

from __future__ import annotations

import bpy
import numpy as np
import pytest

from anylift_blender.baking.transaction import datablock_names

from .conftest import build_motion


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(fps=1e9), r"frame rate is 1e\+09 fps; Blender plays .* to 32767 fps"),
        (
            dict(intrinsics=np.array([[1.0, 0, 320], [0, 1.0, 240], [0, 0, 1]])),
            r"Blender's shortest lens is 1 mm",
        ),
        (dict(intrinsics=np.array([[500.0, 0, 320], [0, 1.0, 240], [0, 0, 1]])), r"pixel aspect"),
    ],
    ids=["fps 1e9", "focal 1 px", "fx/fy 500"],
)
def test_values_blender_would_clamp_are_refused(addon, tmp_path, change, message):
    from anylift.io.motion import write_motion

    motion = build_motion(num_frames=6, objects=False)
    path = tmp_path / "r.npz"
    write_motion(path, type(motion)(**{**vars(motion), **change}))
    before = datablock_names()
    fps = bpy.context.scene.render.fps
    with pytest.raises(RuntimeError, match=message):
        bpy.ops.anylift.import_result(filepath=str(path))
    assert datablock_names() == before
    assert bpy.context.scene.render.fps == fps
