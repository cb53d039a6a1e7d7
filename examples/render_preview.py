"""Depth preview of a baked scene: the 2D input, then the lifted body seen through the input
camera, from the side and from above (:mod:`anylift_blender.preview`), the truth drawn in when known.

Runs under the ``bpy`` module (``.venv/bin/python examples/render_preview.py -- ...``) or
``blender -b --python examples/render_preview.py -- ...``::

    render_preview.py -- --blend SCENE.blend --keypoints KEYPOINTS.json --out PREVIEW.png
                         [--truth TRUTH.npz] [--frames 6] [--width 480] [--label TEXT]

For ``--frames`` frames spread over the clip it draws one column per frame and four rows:

1. the 2D input keypoints (COCO-17 skeleton, dropped joints left out, joints with a score
   below 0.5 drawn hollow) on a plain footage-sized canvas;
2. a Workbench render through the ``AnyLift Camera`` (the input camera): the ``SMPL Body``
   (orange) on a 1 m checkered floor at z = 0, the 2D input drawn thinly on top;
3. a side view across the input camera's line of sight (depth errors are horizontal offsets);
4. a top view, the input camera looking up the image, with the pelvis paths and the camera's
   line of sight.

With ``--truth`` (an ``anylift.motion/1`` file in the camera file's world, e.g. the example's
truth) the true COCO-17 skeleton is drawn in cyan in rows 2-4 and its pelvis path in row 4.
The .blend is not saved.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import bpy

from anylift.io.keypoints import read_keypoints
from anylift.io.motion import read_motion
from anylift.skeletons import COCO17
from anylift_blender.preview import render_preview, write_png


def script_args(argv: list[str]) -> list[str]:
    return argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="render_preview.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--blend", required=True, type=Path)
    parser.add_argument("--keypoints", required=True, type=Path, help="the 2D input of the lift")
    parser.add_argument("--truth", type=Path, help="anylift.motion/1 truth to draw in (cyan)")
    parser.add_argument("--out", required=True, type=Path, help="preview .png")
    parser.add_argument("--frames", type=int, default=6, help="columns (frames spread over the clip)")
    parser.add_argument("--width", type=int, default=480, help="pixels per column")
    parser.add_argument("--label", default="lifted", help="what the rendered body is")
    ns = parser.parse_args(script_args(sys.argv if argv is None else argv))
    bpy.ops.wm.open_mainfile(filepath=str(ns.blend))
    scene = bpy.context.scene
    keypoints = read_keypoints(ns.keypoints)
    truth = None if ns.truth is None else read_motion(ns.truth).keypoints3d
    count = scene.frame_end - scene.frame_start + 1
    if count != keypoints.num_frames:
        print(f"error: {ns.blend} has {count} frames, {ns.keypoints} {keypoints.num_frames}", file=sys.stderr)
        return 2
    if truth is not None and len(truth) != count:
        print(f"error: {ns.blend} has {count} frames, {ns.truth} {len(truth)}", file=sys.stderr)
        return 2
    image = render_preview(
        scene, frames=ns.frames, width=ns.width, keypoints=keypoints.keypoints, truth=truth,
        bones=COCO17.bones, caption=ns.label,
    )  # fmt: skip
    ns.out.parent.mkdir(parents=True, exist_ok=True)
    write_png(image, ns.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
