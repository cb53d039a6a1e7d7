"""Render a multi-person test video with Blender (the ``bpy`` module): mannequins of different
sizes and colours performing DeepMimic TRAINING clips at once, crossing each other, entering and
leaving the view, filmed by an elevated static camera or a handheld one.

    .venv/bin/python benchmarks/render_people_video.py --scene elevated25 --out DIR

Scenes (:data:`SCENES`): ``elevated25`` (static camera 5.2 m up looking down ~28 deg, 25 fps, 4 s,
four people, two of them walking across the whole view in opposite directions), ``handheld10``
(a hand-held phone at chest height, tilted, shaking and panning, 10 fps, 5 s, three people),
``elevated60`` (another elevated camera, 60 fps, 1.5 s, three people) and ``single25`` (one
person, elevated camera, 25 fps, 3 s: the end-to-end timing clip). Six more camera designs, made
after the tracker and the lift were tuned on those four and never tuned on: ``tripod30`` (a stand
at shoulder height off to one side, rolled 3 deg, 700 px lens, 30 fps: a backflip, a roll, a
walker entering), ``phone24`` (a phone held high and carried sideways, rolled -11 deg, 24 fps:
a spin, a punch and a walker crossing them), ``steep50`` (high on a building looking 51 deg down
at a tiled square through a 1100 px lens, 50 fps: a crawl, a get-up, a walker, a dancer;
``steep25`` the same camera at 25 fps over two walkers, a puncher and a dancer, all upright),
``orbit30`` (a 900 px lens circling a dancer by 70 deg, 30 fps, a jumper beside her), and
``close24`` (a phone 3.6 m from two people at chest height, drifting, 24 fps: a puncher passing
close behind a jumper, both 150-220 px tall). Four more, made in the thirty-seventh session before
any was run: ``tele25`` (an 1800 px lens 30 m off, people about 100 px tall), ``dutch60`` (a phone
rolled 28 deg following a walker, 60 fps), ``low30`` (on the ground looking up) and ``drone30``
(7 m up, flying sideways at 1 m/s, looking 37 deg down: a walker, a roll, a dancer, a get-up).
Four more, made in the fortieth session before any was run: ``portrait30`` (a phone held upright,
360x640, walked towards a dancer and a puncher, 470 px lens), ``pan50`` (a broadcast camera 12 m
off panning with a walker through a 1400 px lens, a backflip and a jump, 50 fps), ``crowd25`` (a
stand 3 m up looking diagonally across a square at six people, a child, a black and a white
walker among them, 800 px lens) and ``judge30`` (a 420 px lens 1 m up at a tumbling floor's edge:
a backflip, a roll, a walker leaving the view). Two more, made in the forty-second session:
``courtyard10`` (the issue's courtyard, 768x576, 10 fps) and ``enter25`` (a coach walking in
front of a backflip). Two more, made in the fifty-third session before either was run:
``follow30`` (a phone carried alongside a walker at 1 m/s, bobbing with the steps, rolled 4 deg,
a kick, a spin, a dancer and a jump behind him) and ``balcony24`` (a phone on a balcony 5.5 m up,
looking 38 deg down through a wide lens, rolled -6 deg, 960x540: a get-up from the floor, a jump,
a punch, a walker and a child 75 px tall). Two more, made in the fifty-seventh session before
either was run: ``toward30`` (a phone held still at chest height, rolled 3 deg: a walker coming
straight at it from 10 to 6 m, another walking away from 4 to 8 m, a jumper) and ``chase30`` (a
gimbal walked 4 m behind a walker at his pace, 600 px lens: his back all along, a puncher and a
dancer ahead growing as the camera nears and leaving the view). And ``zoom25`` (a broadcast
camera on a stand 13 m off panning with a tumbler's backflips and zooming in twofold on him from 1 s
to 4 s, a walker crossing, a puncher leaving the view), made in the same session before it was run.

Writes into DIR: ``video.mp4`` (mp4v) and ``truth.npz``:

- ``fps`` (), ``image_size`` (2,), ``K`` (3, 3), ``world_to_camera`` (T, 4, 4) OpenCV, Z-up world,
  floor at z = 0; ``frame_times`` (T,) seconds; a zooming camera's ``frame_K`` (T, 3, 3) too
  (``K`` its first frame's);
- ``keypoints2d`` (P, T, 17, 2) pixels, ``keypoints3d`` (P, T, 17, 3) world metres (COCO-17 of
  the posed body), ``boxes`` (P, T, 4) ``x0, y0, x1, y1`` of the projected body (clipped to the
  image), ``height_px`` (P, T) the unclipped projected body height;
- ``visible`` (P, T, 17) bool: in the image, in front of the camera and not inside the box of a
  nearer person; ``contact`` (P, T, 2) bool: left/right ankle within 5 cm of its lowest level
  in the clip and slower than 0.2 m/s (feet on the floor);
- ``clips`` (P,) str, ``scales`` (P,) body scale factors.

Bodies: SMPL fitted once per clip and rate (:func:`render_test_video.body_fit`), looped with the
clip's own displacement to the scene's length, turned, scaled about the floor and placed.
Workbench engine: about a second per frame on the shared 2-core machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
for _p in (_REPO, _REPO / "engine", _REPO / "benchmarks"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import numpy as np  # noqa: E402

from anylift.data.mocap import TRAIN_CLIPS as TRAIN_ONLY  # noqa: E402  (renders use training clips only)

# person: clip, start position (x, y) of its pelvis at frame 0, heading (deg, 0 = +x), scale,
# colour (RGB), first frame shown (None: from the start).
SCENES: dict[str, dict] = {
    "elevated25": {
        "fps": 25.0, "seconds": 4.0, "camera": "elevated", "seed": 0,
        "people": [
            ("walk", (-5.5, 0.0), 0.0, 1.0, (0.85, 0.25, 0.2)),
            ("walk", (4.5, 1.2), 180.0, 0.85, (0.2, 0.45, 0.9)),
            ("dance_a", (1.5, -1.6), 90.0, 1.08, (0.95, 0.8, 0.2)),
            ("punch", (-1.5, 2.8), -60.0, 0.95, (0.3, 0.75, 0.35)),
        ],
    },
    "handheld10": {
        "fps": 10.0, "seconds": 5.0, "camera": "handheld", "seed": 1,
        "people": [
            ("walk", (-4.0, 0.5), 10.0, 0.95, (0.8, 0.3, 0.7)),
            ("kick", (0.8, -0.6), 120.0, 1.05, (0.2, 0.7, 0.8)),
            ("walk", (3.5, 2.0), 190.0, 0.9, (0.9, 0.55, 0.2)),
        ],
    },
    "elevated60": {
        "fps": 60.0, "seconds": 1.5, "camera": "elevated_side", "seed": 2,
        "people": [
            ("walk", (-3.0, 0.3), 0.0, 1.0, (0.3, 0.3, 0.85)),
            ("jump", (1.0, -1.0), 200.0, 0.9, (0.85, 0.3, 0.3)),
            ("spin", (-0.5, 2.2), 0.0, 1.05, (0.4, 0.8, 0.3)),
        ],
    },
    "single25": {
        "fps": 25.0, "seconds": 3.0, "camera": "elevated", "seed": 3,
        "people": [("walk", (-2.0, 0.0), 0.0, 1.0, (0.85, 0.25, 0.2))],
    },
    "tripod30": {
        "fps": 30.0, "seconds": 4.0, "camera": "tripod", "seed": 4,
        "people": [
            ("backflip", (0.8, 0.2), 100.0, 1.0, (0.9, 0.35, 0.25)),
            ("roll", (-2.6, 1.4), 10.0, 0.95, (0.25, 0.5, 0.9)),
            ("walk", (4.5, 3.0), 185.0, 1.05, (0.35, 0.75, 0.4)),
        ],
    },
    "phone24": {
        "fps": 24.0, "seconds": 3.0, "camera": "phone", "seed": 5,
        "people": [
            ("spin", (-1.2, 0.2), 30.0, 1.0, (0.85, 0.3, 0.6)),
            ("punch", (1.3, 0.6), 200.0, 0.92, (0.3, 0.7, 0.85)),
            ("walk", (-4.0, 2.4), -5.0, 1.0, (0.9, 0.6, 0.25)),
        ],
    },
    "steep50": {
        "fps": 50.0, "seconds": 2.5, "camera": "steep", "seed": 6,
        "people": [
            ("crawl", (-1.0, 0.5), 20.0, 1.0, (0.8, 0.3, 0.3)),
            ("getup_facedown", (1.6, -0.4), 150.0, 0.95, (0.3, 0.4, 0.9)),
            ("walk", (-2.6, -1.2), 25.0, 1.0, (0.85, 0.75, 0.3)),
            ("dance_a", (0.6, 1.9), -90.0, 0.9, (0.35, 0.8, 0.5)),
        ],
    },
    "orbit30": {
        "fps": 30.0, "seconds": 4.0, "camera": "orbit", "seed": 7,
        "people": [
            ("dance_a", (0.0, 0.0), 0.0, 1.0, (0.9, 0.4, 0.3)),
            ("jump", (1.8, 1.5), 240.0, 0.9, (0.3, 0.6, 0.9)),
        ],
    },
    "close24": {
        "fps": 24.0, "seconds": 3.0, "camera": "close", "seed": 8,
        "people": [
            ("jump", (-0.6, 0.0), 80.0, 1.0, (0.8, 0.35, 0.3)),
            ("punch", (1.2, 1.6), 160.0, 0.95, (0.3, 0.55, 0.85)),
        ],
    },
    "steep25": {
        "fps": 25.0, "seconds": 3.0, "camera": "steep", "seed": 9,
        "people": [
            ("walk", (-2.6, -1.2), 25.0, 1.0, (0.85, 0.75, 0.3)),
            ("walk", (2.0, 1.5), 200.0, 0.95, (0.3, 0.4, 0.9)),
            ("punch", (-0.5, 1.8), -60.0, 1.0, (0.8, 0.3, 0.3)),
            ("dance_a", (1.2, -0.6), 90.0, 0.9, (0.35, 0.8, 0.5)),
        ],
    },
    # Four more, made in the thirty-seventh session before any was run (never tuned on):
    "tele25": {  # a long lens from the stands across a field, people about 100 px tall
        "fps": 25.0, "seconds": 4.0, "camera": "tele", "seed": 10,
        "people": [
            ("walk", (-4.5, -0.5), 5.0, 1.0, (0.9, 0.9, 0.9)),
            ("kick", (0.5, 0.8), 250.0, 1.0, (0.8, 0.2, 0.2)),
            ("jump", (-1.5, 2.5), 30.0, 0.9, (0.2, 0.3, 0.8)),
            ("walk", (3.5, 3.5), 175.0, 1.05, (0.3, 0.7, 0.3)),
        ],
    },
    "dutch60": {
        "fps": 60.0, "seconds": 2.0, "camera": "dutch", "seed": 11,
        "people": [
            ("walk", (-3.0, 0.5), 0.0, 1.0, (0.95, 0.6, 0.2)),
            ("spin", (0.5, 1.8), 0.0, 0.95, (0.5, 0.3, 0.8)),
            ("punch", (1.6, -0.2), 200.0, 1.0, (0.2, 0.7, 0.6)),
        ],
    },
    "low30": {
        "fps": 30.0, "seconds": 3.5, "camera": "low", "seed": 12,
        "people": [
            ("backflip", (-0.8, 0.5), 70.0, 1.0, (0.85, 0.3, 0.3)),
            ("punch", (1.4, 1.8), 230.0, 0.95, (0.3, 0.6, 0.9)),
            ("walk", (5.0, 3.0), 190.0, 1.0, (0.9, 0.8, 0.3)),
        ],
    },
    "drone30": {
        "fps": 30.0, "seconds": 4.0, "camera": "drone", "seed": 13,
        "people": [
            ("walk", (-4.0, -0.5), 10.0, 1.0, (0.9, 0.3, 0.3)),
            ("roll", (0.5, 1.0), 100.0, 0.95, (0.3, 0.4, 0.9)),
            ("dance_a", (2.0, -1.0), 0.0, 0.9, (0.9, 0.8, 0.2)),
            ("getup_facedown", (-1.5, 2.2), 200.0, 1.0, (0.3, 0.8, 0.4)),
        ],
    },
    # Four more, made in the fortieth session before any was run (never tuned on):
    "portrait30": {  # a phone held upright (360x640), walked slowly towards two people
        "fps": 30.0, "seconds": 3.5, "camera": "portrait", "seed": 14, "size": (360, 640),
        "people": [
            ("dance_a", (0.0, 0.5), 200.0, 0.95, (0.75, 0.2, 0.45)),
            ("punch", (1.1, 2.0), 240.0, 1.0, (0.25, 0.65, 0.3)),
        ],
    },
    "pan50": {  # a broadcast camera on a tripod 12 m off panning with a walker, 1400 px lens
        "fps": 50.0, "seconds": 3.0, "camera": "pan", "seed": 15,
        "people": [
            ("walk", (-3.2, 0.0), 0.0, 1.0, (0.95, 0.95, 0.95)),
            ("backflip", (0.2, 1.5), 180.0, 0.9, (0.9, 0.45, 0.1)),
            ("jump", (2.0, 0.8), 250.0, 1.0, (0.2, 0.3, 0.75)),
        ],
    },
    "crowd25": {  # a stand 3 m up looking across a square diagonally: six people, a child
        "fps": 25.0, "seconds": 4.0, "camera": "crowd", "seed": 16,
        "people": [
            ("walk", (-4.0, -1.0), 20.0, 1.0, (0.12, 0.12, 0.14)),
            ("walk", (3.5, 1.5), 200.0, 0.75, (0.95, 0.9, 0.3)),
            ("kick", (-0.5, 1.0), 90.0, 1.05, (0.8, 0.25, 0.25)),
            ("spin", (1.5, -0.8), 0.0, 0.95, (0.3, 0.55, 0.9)),
            ("walk", (0.5, 4.5), -100.0, 1.1, (0.9, 0.9, 0.9)),
            ("jump", (-2.5, 3.0), 45.0, 0.9, (0.45, 0.75, 0.4)),
        ],
    },
    "judge30": {  # a wide lens at a tumbling floor's edge, 1 m up; a walker leaves the view
        "fps": 30.0, "seconds": 4.0, "camera": "judge", "seed": 17,
        "people": [
            ("backflip", (0.0, 0.5), 90.0, 1.0, (0.85, 0.3, 0.3)),
            ("roll", (-1.8, 1.6), 0.0, 0.95, (0.3, 0.45, 0.85)),
            ("walk", (1.0, -0.8), 10.0, 1.0, (0.35, 0.35, 0.4)),
        ],
    },
    # Two more, made in the forty-second session before any was run (never tuned on):
    "courtyard10": {  # as the courtyard: 10 fps, 768x576, 7.5 m up, people about 90 px
        "fps": 10.0, "seconds": 6.0, "camera": "courtyard", "seed": 18, "size": (768, 576),
        "people": [
            ("walk", (-5.0, 0.0), 0.0, 1.0, (0.2, 0.2, 0.22)),
            ("walk", (4.5, 1.0), 180.0, 0.95, (0.25, 0.3, 0.5)),
            ("walk", (-3.0, 3.5), -20.0, 1.05, (0.6, 0.55, 0.5)),
            ("walk", (2.5, -2.5), 120.0, 0.9, (0.15, 0.15, 0.15)),
            ("punch", (0.5, 2.0), 200.0, 1.0, (0.7, 0.2, 0.2)),
        ],
    },
    "enter25": {  # a tripod at a gym's floor; a coach walks in from the side, in front of a backflip
        "fps": 25.0, "seconds": 5.0, "camera": "gym", "seed": 19,
        "people": [
            ("backflip", (2.0, 0.5), 0.0, 0.95, (0.85, 0.2, 0.5)),
            ("walk", (4.0, -1.5), 180.0, 1.05, (0.2, 0.25, 0.3)),
            ("punch", (-1.6, 1.8), 60.0, 1.0, (0.9, 0.85, 0.8)),
        ],
    },
    # Two more, made in the fifty-third session before any was run (never tuned on):
    "follow30": {  # a phone carried alongside a walker (a tracking shot), other people behind
        "fps": 30.0, "seconds": 4.0, "camera": "follow", "seed": 20,
        "people": [
            ("walk", (-2.2, 0.3), 0.0, 1.0, (0.85, 0.55, 0.2)),
            ("kick", (-0.5, 1.8), 200.0, 1.0, (0.25, 0.35, 0.8)),
            ("spin", (1.2, 2.6), 90.0, 0.95, (0.8, 0.25, 0.5)),
            ("dance_a", (0.6, 1.2), -90.0, 0.9, (0.3, 0.7, 0.35)),
            ("jump", (-3.2, 2.4), 0.0, 1.05, (0.6, 0.6, 0.62)),
        ],
    },
    "balcony24": {  # a phone on a balcony 5.5 m up, rolled, wide lens, 960x540; a child walks by
        "fps": 24.0, "seconds": 4.0, "camera": "balcony", "seed": 21, "size": (960, 540),
        "people": [
            ("walk", (4.0, -0.8), 175.0, 1.0, (0.9, 0.9, 0.85)),
            ("jump", (-1.5, 1.2), 20.0, 0.95, (0.8, 0.3, 0.25)),
            ("getup_facedown", (1.5, 0.8), 60.0, 1.0, (0.25, 0.5, 0.85)),
            ("punch", (-0.5, 3.0), -80.0, 1.0, (0.2, 0.2, 0.25)),
            ("walk", (-4.5, 3.2), -5.0, 0.7, (0.95, 0.75, 0.3)),
        ],
    },
    # Two more, made in the fifty-seventh session before either was run (never tuned on):
    "toward30": {  # a phone at chest height; one walker comes straight at it, one walks away
        "fps": 30.0, "seconds": 4.0, "camera": "approach", "seed": 22,
        "people": [
            ("walk", (0.9, 4.0), -90.0, 1.0, (0.2, 0.6, 0.65)),
            ("walk", (-1.0, -2.0), 90.0, 0.95, (0.9, 0.5, 0.2)),
            ("jump", (2.6, 2.5), 200.0, 0.9, (0.6, 0.3, 0.75)),
        ],
    },
    "chase30": {  # a gimbal carried 4 m behind a walker at his pace; people ahead grow and pass
        "fps": 30.0, "seconds": 4.0, "camera": "chase", "seed": 23,
        "people": [
            ("walk", (0.0, -1.5), 90.0, 1.0, (0.3, 0.3, 0.7)),
            ("punch", (1.8, 2.5), 180.0, 1.0, (0.85, 0.3, 0.3)),
            ("dance_a", (-2.2, 5.0), -90.0, 0.95, (0.4, 0.75, 0.3)),
        ],
    },
    # One more, made in the fifty-seventh session before it was run (never tuned on):
    "zoom25": {  # a broadcast camera on a stand zooming in twofold on a tumbler as it pans with him
        "fps": 25.0, "seconds": 5.0, "camera": "zoom", "seed": 24,
        "people": [
            ("backflip", (1.8, 0.6), 10.0, 1.0, (0.9, 0.9, 0.3)),  # tumbles back 3.3 m
            ("walk", (-4.5, 2.0), 0.0, 1.0, (0.3, 0.45, 0.85)),
            ("punch", (3.6, 1.6), 200.0, 1.05, (0.8, 0.3, 0.35)),
        ],
    },
}  # fmt: skip
RENDER_VERSION = 1


def _looped(verts, kp3d, frames: int):
    """Repeat a clip's (n, V, 3) vertices / (n, 17, 3) keypoints to ``frames``, each repetition moved
    by the clip's own horizontal displacement (plus one frame's step) so walks keep walking."""
    n = len(kp3d)
    pelvis = kp3d[:, 11:13].mean(1)
    step = (pelvis[-1] - pelvis[0]) * np.array([1.0, 1.0, 0.0])
    step = step + step / max(n - 1, 1)
    idx = np.arange(frames)
    rep = (idx // n)[:, None, None] * step
    return verts[idx % n] + rep, kp3d[idx % n] + rep


def _place(points, origin, heading_deg: float, scale: float, start):
    """Turn about the clip's frame-0 pelvis (z kept), scale about the floor, move to ``start``."""
    a = np.radians(heading_deg)
    rot = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
    local = (points - np.array([origin[0], origin[1], 0.0])) @ rot.T
    return local * scale + np.array([start[0], start[1], 0.0])


# Static cameras: eye, target (world, m), roll (deg), own focal length (px).
STATIC_CAMERAS = {
    "elevated": ((0.0, -8.0, 5.2), (0.0, 0.6, 0.6), 0.0, 640.0),
    "elevated_side": ((-5.5, -6.0, 4.5), (0.0, 0.6, 0.6), 0.0, 640.0),
    "steep": ((1.0, -6.5, 9.0), (0.0, 0.5, 0.3), 0.0, 1100.0),  # high on a building, steeply down
    "tripod": ((2.5, -7.0, 1.5), (0.0, 0.8, 0.7), -3.0, 700.0),  # shoulder height, off to one side
    "tele": ((4.0, -30.0, 2.5), (0.0, 0.8, 0.9), 0.0, 1800.0),  # a 1800 px lens 30 m off
    "low": ((-1.0, -5.5, 0.35), (0.0, 0.8, 1.3), 2.0, 600.0),  # on the ground, looking up
    "crowd": ((-7.0, -6.5, 3.0), (0.0, 1.0, 0.8), 0.0, 800.0),  # a stand, diagonally, 15 deg down
    "judge": ((1.5, -4.5, 1.0), (0.0, 0.8, 0.9), 1.5, 420.0),  # a wide lens at the floor's edge
    "courtyard": ((1.0, -10.0, 7.5), (0.0, 1.0, 0.3), 0.0, 700.0),  # a first floor, 33 deg down
    "gym": ((0.3, -6.3, 1.4), (0.0, 0.5, 1.0), -1.0, 900.0),  # a tripod at the floor, a 900 px lens
    "balcony": ((-2.0, -4.5, 5.0), (0.3, 1.0, 0.4), -6.0, 700.0),  # 37 deg down, 960 px wide: 69 deg
}  # fmt: skip


def make_camera(kind: str, frames: int, fps: float, size, seed: int, focal: float | None = None):
    """(K (3, 3), world_to_camera (T, 4, 4)) of the scene's camera; world Z-up, people around the
    origin. ``focal``: fx = fy in pixels instead of the scene's own (another lens, the same poses;
    a zooming camera's at its first frame). A zooming camera's K is (T, 3, 3)."""
    from anylift.data.trajectories import intrinsics, look_at

    rng = np.random.default_rng(seed)
    t = np.arange(frames) / fps
    if kind in STATIC_CAMERAS:
        eye, target, roll_deg, own = STATIC_CAMERAS[kind]
        w2c = look_at(np.array(eye), np.array(target), roll=np.radians(roll_deg))
        return intrinsics(size, focal or own), np.repeat(w2c[None], frames, axis=0)
    if kind == "orbit":  # a long lens circling the dancer at head height, 70 degrees in the clip
        a = np.radians(-90.0 + 70.0 * t / t[-1])
        eye = np.stack([7.5 * np.cos(a), 7.5 * np.sin(a), np.full(frames, 1.7)], -1)
        w2c = look_at(eye, np.repeat([[0.3, 0.3, 0.9]], frames, axis=0))
        return intrinsics(size, focal or 900.0), w2c
    if kind == "close":  # a phone close to two people at chest height, drifting
        eye = np.stack([np.linspace(-0.3, 0.3, frames), np.full(frames, -3.6), np.full(frames, 1.3)], -1)
        eye = eye + 0.02 * rng.normal(size=(frames, 3)).cumsum(0) / np.sqrt(frames)
        w2c = look_at(eye, np.repeat([[0.1, 0.4, 0.95]], frames, axis=0))
        return intrinsics(size, focal or 600.0), w2c

    # Handheld: chest height, a slow pan following the group, a tilt (roll) and a hand's shake.
    def smooth_noise(scale, cutoff_hz):
        from scipy.ndimage import gaussian_filter1d

        raw = rng.normal(size=(frames, 3))
        out = gaussian_filter1d(raw, sigma=max(fps / (2 * np.pi * cutoff_hz), 0.5), axis=0, mode="nearest")
        return scale * out / max(out.std(), 1e-9)

    if kind == "phone":  # a phone held high by someone walking sideways, tilted the other way
        eye = np.stack([np.linspace(-0.8, 0.8, frames), np.full(frames, -5.5), np.full(frames, 1.9)], -1)
        eye = eye + smooth_noise(0.03, 1.5)
        target = np.stack([np.linspace(-0.5, 0.5, frames), np.full(frames, 0.8), np.full(frames, 0.7)], -1)
        target = target + smooth_noise(0.05, 2.0)
        roll = np.radians(-11.0) + 0.02 * np.sin(2 * np.pi * 0.4 * t)
        return intrinsics(size, focal or 560.0), look_at(eye, target, roll=roll)
    if kind == "dutch":  # a phone rolled 28 deg following the walker, shaking
        eye = np.array([0.4, -5.0, 1.4]) + smooth_noise(0.02, 1.5)
        target = np.stack([np.linspace(-1.8, 0.8, frames), np.full(frames, 0.6), np.full(frames, 0.9)], -1)
        target = target + smooth_noise(0.05, 2.0)
        roll = np.full(frames, np.radians(28.0))
        return intrinsics(size, focal or 520.0), look_at(eye, target, roll=roll)
    if kind == "portrait":  # held upright, walked 1.2 m towards the people at 1.5 m
        path = np.linspace(0.0, 1.0, frames)
        eye = np.stack([0.3 + 0.2 * path, -5.5 + 1.2 * path, np.full(frames, 1.5)], -1)
        eye = eye + smooth_noise(0.02, 1.5)
        target = np.stack([np.full(frames, 0.4), np.full(frames, 1.0), np.full(frames, 1.0)], -1)
        target = target + smooth_noise(0.04, 2.0)
        roll = np.radians(4.0) + 0.02 * np.sin(2 * np.pi * 0.5 * t)
        return intrinsics(size, focal or 470.0), look_at(eye, target, roll=roll)
    if kind == "pan":  # a tripod (no shake) panning with the walker, lagging a little
        eye = np.repeat([[0.5, -12.0, 1.6]], frames, axis=0)
        target = np.stack([np.linspace(-2.6, 1.2, frames), np.full(frames, 0.3), np.full(frames, 0.95)], -1)
        target[:, 0] += 0.15 * np.sin(2 * np.pi * 0.3 * t)
        return intrinsics(size, focal or 1400.0), look_at(eye, target)
    if kind == "drone":  # flying sideways 1 m/s, 7 m up, looking about 40 deg down
        path = np.linspace(0.0, 1.0, frames)
        eye = np.stack([-2.5 + 4.0 * path, -8.5 + 0.5 * path, np.full(frames, 7.0)], -1)
        eye = eye + smooth_noise(0.03, 1.0)
        target = np.stack([np.linspace(-1.5, 1.0, frames), np.full(frames, 0.5), np.zeros(frames)], -1)
        return intrinsics(size, focal or 700.0), look_at(eye, target)
    if kind == "follow":  # carried alongside the walker at 1 m/s, the hand bobbing with the steps
        eye = np.stack([np.linspace(-2.4, 1.5, frames), np.full(frames, -3.8), np.full(frames, 1.6)], -1)
        eye[:, 2] += 0.025 * np.sin(2 * np.pi * 1.8 * t)
        eye = eye + smooth_noise(0.02, 1.5)
        lagged = np.clip(t - 0.3, 0.0, None) / t[-1]
        target = np.stack([-2.2 + 3.9 * lagged, np.full(frames, 0.6), np.full(frames, 0.9)], -1)
        target = target + smooth_noise(0.05, 2.0)
        roll = np.radians(4.0) + 0.03 * np.sin(2 * np.pi * 0.9 * t)
        return intrinsics(size, focal or 560.0), look_at(eye, target, roll=roll)
    if kind == "zoom":  # a stand 13 m off, 2 m up, panning with the tumbler; twofold zoom in from 1 s to 4 s
        eye = np.repeat([[1.0, -13.0, 2.0]], frames, axis=0)
        target = np.stack([np.linspace(1.5, -1.2, frames), np.full(frames, 0.5), np.full(frames, 0.9)], -1)
        ease = np.clip((t - 1.0) / 3.0, 0.0, 1.0)
        zoom = 1.0 + ease * ease * (3.0 - 2.0 * ease)  # 1 -> 2, smoothly
        K = intrinsics(size, focal or 800.0)
        Ks = np.repeat(K[None], frames, axis=0)
        Ks[:, 0, 0] *= zoom
        Ks[:, 1, 1] *= zoom
        return Ks, look_at(eye, target)
    if kind == "approach":  # held still by someone standing: a hand's shake, rolled 3 deg
        eye = np.array([0.0, -6.0, 1.4]) + smooth_noise(0.015, 1.5)
        target = np.array([0.2, 1.0, 0.9]) + smooth_noise(0.04, 2.0)
        roll = np.radians(3.0) + 0.01 * np.sin(2 * np.pi * 0.6 * t)
        return intrinsics(size, focal or 560.0), look_at(eye, target, roll=roll)
    if kind == "chase":  # walked behind a walker at 1 m/s, bobbing with the steps, 6 m ahead aimed
        eye = np.stack([np.full(frames, 0.2), -5.5 + 1.0 * t, np.full(frames, 1.5)], -1)
        eye[:, 2] += 0.03 * np.sin(2 * np.pi * 1.8 * t)
        eye = eye + smooth_noise(0.02, 1.5)
        target = np.stack([np.zeros(frames), 0.5 + 1.0 * t, np.full(frames, 0.8)], -1)
        target = target + smooth_noise(0.05, 2.0)
        roll = np.radians(-2.0) + 0.02 * np.sin(2 * np.pi * 0.9 * t)
        return intrinsics(size, focal or 600.0), look_at(eye, target, roll=roll)
    eye = np.array([0.3, -6.5, 1.5]) + smooth_noise(0.02, 1.5)
    target = np.stack([np.linspace(-1.0, 1.0, frames), np.full(frames, 0.6), np.full(frames, 0.9)], -1)
    target = target + smooth_noise(0.06, 2.0)
    roll = np.radians(7.0) + 0.01 * np.sin(2 * np.pi * 0.7 * t)
    return intrinsics(size, focal or 520.0), look_at(eye, target, roll=roll)


def _visibility(kp2d, depth, boxes, size):
    """(P, T, 17) joints in the image, in front, and not inside the box of a nearer person."""
    w, h = size
    x, y = kp2d[..., 0], kp2d[..., 1]
    vis = (depth > 0) & (x >= 0) & (x < w) & (y >= 0) & (y < h)
    pelvis_depth = depth[..., 11:13].mean(-1)  # (P, T)
    for p in range(len(kp2d)):
        for q in range(len(kp2d)):
            if p == q:
                continue
            nearer = pelvis_depth[q] < pelvis_depth[p]  # (T,)
            b = boxes[q]
            inside = (
                (x[p] > b[:, None, 0])
                & (x[p] < b[:, None, 2])
                & (y[p] > b[:, None, 1])
                & (y[p] < b[:, None, 3])
            )
            vis[p] &= ~(inside & nearer[:, None])
    return vis


def _contacts(kp3d, fps):
    """(P, T, 2) bool: ankles (15, 16) near their lowest level and nearly still."""
    ankles = kp3d[:, :, 15:17]  # (P, T, 2, 3)
    low = ankles[..., 2] - ankles[..., 2].min(axis=1, keepdims=True)
    speed = np.zeros(ankles.shape[:3])
    speed[:, 1:] = np.linalg.norm(np.diff(ankles, axis=1), axis=-1) * fps
    speed[:, 0] = speed[:, 1]
    return (low < 0.05) & (speed < 0.2 * max(1.0, 30.0 / fps))


def render(
    out: Path, scene_name: str, size=(640, 360), fit_iterations: int = 80, focal: float | None = None
) -> dict:
    """Render ``scene_name`` into ``out`` (``focal``: :func:`make_camera`); the truth dict (module doc)."""
    import bpy
    import cv2
    from mathutils import Matrix
    from render_test_video import (
        _box_uv_object,
        _cuboid,
        _image_material,
        _texture,
        body_fit,
        camera_and_render,
    )

    from anylift.geometry.camera import project
    from anylift_blender.baking.camera import blender_camera_matrices, set_intrinsics

    spec = SCENES[scene_name]
    fps, frames = float(spec["fps"]), round(spec["fps"] * spec["seconds"])
    out = Path(out)
    tmp_frames = out / "frames"
    tmp_frames.mkdir(parents=True, exist_ok=True)
    fits: dict[str, tuple] = {}
    all_verts, all_kp, faces = [], [], None
    for clip, start, heading, scale, _colour in spec["people"]:
        if clip not in TRAIN_ONLY:
            raise SystemExit(f"{clip}: render only the training clips {TRAIN_ONLY}")
        if clip not in fits:
            from anylift.data.mocap import load_clip

            n = load_clip(clip, fps=fps).num_frames
            fits[clip] = body_fit(clip, 0, n, fps, fit_iterations)[:3]
        verts, kp3d, faces = fits[clip]
        v, k = _looped(verts, kp3d, frames)
        origin = kp3d[0, 11:13].mean(0)
        all_verts.append(_place(v, origin, heading, scale, start))
        all_kp.append(_place(k, origin, heading, scale, start))
    verts_p, kp3d_p = np.stack(all_verts), np.stack(all_kp)  # (P, T, V, 3), (P, T, 17, 3)
    K, w2c = make_camera(spec["camera"], frames, fps, size, spec["seed"], focal)
    frame_K = K if K.ndim == 3 else np.repeat(K[None], frames, axis=0)
    K = frame_K[0]
    kp2d, depth = project(kp3d_p, frame_K, w2c[None].repeat(len(kp3d_p), 0), return_depth=True)
    boxes = np.zeros((len(verts_p), frames, 4))
    height = np.zeros((len(verts_p), frames))
    for p in range(len(verts_p)):
        vp = project(verts_p[p][:, ::7], frame_K, w2c)  # every 7th vertex is plenty for a box
        lo, hi = vp.min(1), vp.max(1)
        height[p] = hi[:, 1] - lo[:, 1]
        boxes[p] = np.concatenate([np.clip(lo, 0, size), np.clip(hi, 0, size)], -1)
    visible = _visibility(kp2d, depth, boxes, size)

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    rng = np.random.default_rng(spec["seed"] + 1000)
    floor = _image_material("floor", _texture(rng, 1024, 16, (0.95, 0.85, 0.7), 0.9))
    half = 20.0
    _box_uv_object("Floor", [(-half, -half, 0), (half, -half, 0), (half, half, 0), (-half, half, 0)],
                   [(0, 1, 2, 3)], 0.125, floor)  # fmt: skip
    for i in range(10):
        ang = 2 * np.pi * i / 10 + rng.uniform(-0.2, 0.2)
        radius = rng.uniform(11.0, 16.0)
        mat = _image_material(f"box{i}", _texture(rng, 256, 4, rng.uniform(0.4, 1.0, 3), 1.0))
        v, f = _cuboid(radius * np.array([np.cos(ang), np.sin(ang), 0]), rng.uniform([1, 1, 1], [3, 3, 4]),
                       rng.uniform(0, np.pi))  # fmt: skip
        _box_uv_object(f"Box{i}", v, f, 0.5, mat)
    meshes = []
    for p, (_clip, _s, _h, _sc, colour) in enumerate(spec["people"]):
        # No texture node: Workbench's texture mode then shows the material's own colour.
        mat = bpy.data.materials.new(f"skin{p}")
        mat.diffuse_color = (*colour, 1.0)
        mesh = bpy.data.meshes.new(f"Person{p}")
        mesh.from_pydata([tuple(q) for q in verts_p[p, 0]], [], [tuple(int(i) for i in f) for f in faces])
        mesh.materials.append(mat)
        mesh.shade_smooth()
        scene.collection.objects.link(bpy.data.objects.new(f"Person{p}", mesh))
        meshes.append(mesh)
    cam_obj = camera_and_render(scene, K, size, fps)
    zooms = not np.allclose(frame_K, K)
    mats = blender_camera_matrices(w2c)
    started = time.time()
    writer = cv2.VideoWriter(str(out / "video.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps, tuple(size))
    for t in range(frames):
        for p, mesh in enumerate(meshes):
            mesh.vertices.foreach_set("co", verts_p[p, t].ravel())
            mesh.update()
        cam_obj.matrix_world = Matrix(mats[t].tolist())
        if zooms:
            set_intrinsics(cam_obj, scene, frame_K[t], size)
        png = tmp_frames / f"{t:05d}.png"
        scene.render.filepath = str(png)
        bpy.ops.render.render(write_still=True)
        writer.write(cv2.imread(str(png)))
        if t > 0:
            (tmp_frames / f"{t - 1:05d}.png").unlink()  # keep only the last frame (for pictures)
    writer.release()
    truth = {
        "fps": np.float64(fps), "image_size": np.array(size), "K": K, "world_to_camera": w2c,
        "frame_times": np.arange(frames) / fps, "keypoints2d": kp2d, "keypoints3d": kp3d_p,
        "boxes": boxes, "height_px": height, "visible": visible, "contact": _contacts(kp3d_p, fps),
        "clips": np.array([p[0] for p in spec["people"]]), "scales": np.array([p[3] for p in spec["people"]]),
        "scene": np.str_(scene_name), "render_seconds": np.float64(time.time() - started),
    }  # fmt: skip
    if zooms:
        truth["frame_K"] = frame_K
    np.savez(out / "truth.npz", **truth)
    return truth


def scene_size(scene: str) -> tuple[int, int]:
    """(W, H) of ``scene``'s video: its own ``size`` (portrait30: 360x640), else 640x360."""
    return tuple(SCENES[scene].get("size", (640, 360)))


def cached_people_render(scene: str, size=None, focal: float | None = None) -> Path:
    """Render ``scene`` once (in a subprocess) into ``out/test_videos/<scene>-<key>``; returns the
    folder. ``size``: None, the scene's own (:func:`scene_size`); ``focal``: :func:`make_camera`
    (part of the key only when given)."""
    size = size or scene_size(scene)
    spec = [SCENES[scene], list(size), RENDER_VERSION] + ([float(focal)] if focal else [])
    key = hashlib.sha1(json.dumps(spec).encode()).hexdigest()[:10]
    folder = _REPO / "out" / "test_videos" / f"{scene}-{key}"
    if (folder / "truth.npz").exists() and (folder / "video.mp4").exists():
        return folder
    argv = [sys.executable, str(Path(__file__).resolve()), "--scene", scene, "--out", str(folder),
            "--size", f"{size[0]}x{size[1]}"]  # fmt: skip
    argv += ["--focal", repr(float(focal))] if focal else []
    subprocess.run(argv, check=True, env=dict(os.environ, OMP_NUM_THREADS="2"), stdout=subprocess.DEVNULL)
    return folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scene", choices=sorted(SCENES), required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--size", help="WxH (default: the scene's own, 640x360 for most)")
    parser.add_argument("--focal", type=float, help="fx = fy in pixels instead of the scene's own")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x")) if args.size else scene_size(args.scene)
    truth = render(Path(args.out), args.scene, size=size, focal=args.focal)
    print(json.dumps({"out": args.out, "frames": len(truth["frame_times"]),
                      "render_seconds": round(float(truth["render_seconds"]), 1)}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
