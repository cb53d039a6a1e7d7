"""Noise level 2 of the accuracy benchmark: the 2D MediaPipe detects on Blender renders of a case.

For a (clip, camera family, seed) case (``benchmarks/camera_families.py``):

1. render the proxy body performing the clip (``benchmarks/render_test_video.py``'s scene:
   textured floor, a ring of boxes, Workbench engine) through the family camera, at
   :data:`RENDER_SCALE` of the case's image size (640x360 or 360x640 for the 1920x1080 designs),
   in a subprocess (Blender's ``bpy`` stays out of the benchmark's process);
2. detect with :func:`anylift.video.people.detect_people` on the rendered frames, and take its
   default person: what ``anylift detect`` and the add-on's Detect Keypoints give a user
   (MediaPipe Pose on upscaled crops around each tracked person, then the tracks' cleaning).
   Whole-frame MediaPipe (:func:`anylift.video.detect.detect_keypoints`, used up to the eighth
   session) lost the person outright in some cases (walk under tripod_locked and handheld_walk)
   and so measured a detector no user gets;
3. scale the detections back to the case's pixels and cache them per (clip, family, seed,
   scale, :data:`CACHE_VERSION`) in ``out/benchmarks/detected_2d/`` (never committed). The
   rendered frames stay in its ``frames/`` (about 20 MB a case, :data:`RENDER_VERSION`), so a
   change of the detector costs the detection again (5-15 s a case), not the render.

The truth stays the case's (the mocap keypoints); the rendered body is the proxy SMPL body
fitted to them, so the detector error measured includes the body's own 1-2 cm fit error, as
a real person's skeleton differs from any keypoint definition.

    .venv/bin/python benchmarks/detected_2d.py --clip walk [--families orbit ...] [--seed S]

prints, per case, the share of frames where the person was found, the 2D error against the truth
(a share of the body's size) and the share of frames drawn upside down (:func:`detector_error`).

Building the cache took about 2 s per frame on this shared 2-core CPU (one Blender subprocess
per clip: body fit, render, then detection): 47 minutes for the benchmark's 28 cases.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import camera_families  # noqa: E402

RENDER_SCALE = 1.0 / 3.0
CACHE = REPO / "out" / "benchmarks" / "detected_2d"
CACHE_VERSION = 13
"""Part of every cache file's name: raise it whenever the render or the detector changes (a cache
built by an older render was found stale, with 2D errors of 71 instead of 11 px; 4: the tracker
joins broken tracks after the last frame; 5: the landmark model's region turns on with the body;
6: the legs' left/right swaps undone; 7: a track that overlaps the one it continues is stitched,
looking back 3 s instead of 1; 8: the default person by frames x sqrt(height); 9: stitching in
two passes (1 s, then 1.5 s), at each track's steady size, brief tracks left out; 10: a young
track looks back again with its newest box, dissolves end the tracks; 11: grey clothes told apart
by brightness, proposals from what sticks out of a tracked body; 12: the default person counts how
near the middle it stands, drawings spread over several smaller people refused; 13: drawings over
one person behind another refused, a run's edge frame on a body another track missed given back,
one body drawn twice by two tracks made one)."""
RENDER_VERSION = 4
"""Part of every rendered frames folder's name: raise it (and :data:`CACHE_VERSION`) whenever the
render changes."""
FRAMES = CACHE / "frames"
FPS = 30.0


def cache_path(clip: str, family: str, seed: int, scale: float = RENDER_SCALE) -> Path:
    return CACHE / f"{clip}_{family}_{int(seed)}_s{round(scale * 1000)}_v{CACHE_VERSION}.npz"


def frames_path(clip: str, family: str, seed: int, scale: float = RENDER_SCALE) -> Path:
    """The folder of the case's rendered frames (``frames/00000.png ...``; complete once it exists)."""
    return FRAMES / f"{clip}_{family}_{int(seed)}_s{round(scale * 1000)}_r{RENDER_VERSION}"


def scaled_camera(camera, scale: float):
    """``camera`` rendered at ``scale`` of its image size: K scaled, same poses."""
    from anylift.io.cameras import Camera

    w, h = camera.image_size
    size = (round(w * scale), round(h * scale))
    K = camera.K.copy()
    K[0] *= size[0] / w
    K[1] *= size[1] / h
    return Camera(K=K, world_to_camera=camera.world_to_camera, up=camera.up, image_size=size)


def _scaled_camera(clip: str, family: str, seed: int, scale: float):
    """(the case's Camera, the render camera: :func:`scaled_camera`)."""
    from anylift.data.mocap import load_clip

    motion = load_clip(clip, fps=FPS, allow_heldout=True)
    camera, _ = camera_families.build_family_camera(family, seed, motion.keypoints3d, FPS)
    return camera, scaled_camera(camera, scale)


def _render(clip: str, pairs: list[tuple[str, int]], scale: float, out: Path) -> None:
    """Render each (family, seed) of ``clip`` into ``out/<family>_<seed>/frames`` (the subprocess's job)."""
    import render_test_video

    for family, seed in pairs:
        _, render_camera = _scaled_camera(clip, family, seed, scale)
        render_test_video.render(
            out / f"{family}_{seed}", clip=clip, frames=render_camera.num_frames,
            size=render_camera.image_size, seed=seed, fps=FPS, write_mp4=False, camera=render_camera,
        )  # fmt: skip


def detect_frames(frames: Path, camera, render_camera) -> np.ndarray:
    """(T, 17, 3) the default person :func:`anylift.video.people.detect_people` finds in the
    rendered ``frames`` folder, ``[x px, y px, score]`` in ``camera``'s pixels (NaN, 0 where
    undetected)."""
    from anylift.errors import InputError
    from anylift.video.people import detect_people

    try:
        kp = detect_people(frames, fps=FPS).keypoints2d().keypoints.copy()
    except InputError:  # nobody found in any frame: every joint undetected
        kp = np.zeros((camera.num_frames, 17, 3))
    w, h = camera.image_size
    rw, rh = render_camera.image_size
    kp[..., 0] *= w / rw
    kp[..., 1] *= h / rh
    kp[kp[..., 2] <= 0, :2] = np.nan
    kp[kp[..., 2] <= 0, 2] = 0.0
    return kp


def build(clip: str, pairs: list[tuple[str, int]], scale: float = RENDER_SCALE) -> list[Path]:
    """Render (what is not rendered yet, in one Blender subprocess), detect and cache the detected
    2D of ``clip`` under each (family, seed) (module docs); returns the cache files."""
    import shutil
    import tempfile

    render_seconds = 0.0
    missing = [(f, s) for f, s in pairs if not frames_path(clip, f, s, scale).is_dir()]
    if missing:
        FRAMES.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=FRAMES) as tmp:  # renamed into place when complete
            start = time.perf_counter()
            cases = ",".join(f"{family}:{seed}" for family, seed in missing)
            argv = [sys.executable, str(Path(__file__).resolve()), "--render-into", tmp,
                    "--clip", clip, "--cases", cases, "--scale", repr(scale)]  # fmt: skip
            env = dict(os.environ, OMP_NUM_THREADS="1")
            done = subprocess.run(argv, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"rendering {clip} under {cases} failed:\n{done.stderr[-2000:]}")
            render_seconds = (time.perf_counter() - start) / len(missing)
            for family, seed in missing:
                shutil.move(Path(tmp) / f"{family}_{seed}" / "frames", frames_path(clip, family, seed, scale))
    paths = []
    for family, seed in pairs:
        camera, render_camera = _scaled_camera(clip, family, seed, scale)
        start = time.perf_counter()
        kp = detect_frames(frames_path(clip, family, seed, scale), camera, render_camera)
        detect_seconds = time.perf_counter() - start
        rw, rh = render_camera.image_size
        path = cache_path(clip, family, seed, scale)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            path, keypoints=kp, image_size=np.array(camera.image_size), render_size=np.array((rw, rh)),
            render_seconds=render_seconds, detect_seconds=detect_seconds,
        )  # fmt: skip
        paths.append(path)
    return paths


def ensure_cached(clip: str, pairs: list[tuple[str, int]], scale: float = RENDER_SCALE) -> None:
    """Build the missing cache entries of ``clip`` under ``pairs`` (one subprocess for all)."""
    missing = [(f, s) for f, s in pairs if not cache_path(clip, f, s, scale).is_file()]
    if missing:
        start = time.perf_counter()
        print(f"  detected 2D: {clip} under {len(missing)} cameras", file=sys.stderr, flush=True)
        build(clip, missing, scale)
        print(f"  ... cached in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


def detected_keypoints(clip: str, family: str, seed: int, scale: float = RENDER_SCALE) -> np.ndarray:
    """(T, 17, 3) detected ``[x px, y px, score]`` in the case's pixels (NaN, 0 where undetected);
    built and cached on first use."""
    path = cache_path(clip, family, seed, scale)
    ensure_cached(clip, [(family, seed)], scale)
    with np.load(path) as data:
        return data["keypoints"].copy()


def with_detected_keypoints(case, family: str, seed: int, scale: float = RENDER_SCALE):
    """The case with its 2D input replaced by the detections (noise level 2), or None when the
    detector found the person in fewer than a third of the frames."""
    from anylift.io.keypoints import Keypoints2D

    kp = detected_keypoints(case.clip, family, seed, scale)
    if kp.shape[0] != case.num_frames:
        raise RuntimeError(f"stale cache {cache_path(case.clip, family, seed, scale)}: delete it")
    dropped = kp[..., 2] <= 0
    if (~dropped).any(axis=1).mean() < 1 / 3:
        return None
    keypoints = Keypoints2D(
        keypoints=kp, fps=case.keypoints.fps, image_size=case.keypoints.image_size, detector="mediapipe"
    )
    return dataclasses.replace(
        case, name=f"{case.name}/detected", keypoints=keypoints, dropped=dropped,
        outliers=np.zeros_like(dropped), noise_px=float("nan"), dropout=float(dropped.mean()),
        outlier_rate=float("nan"),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", required=True)
    parser.add_argument("--families", nargs="+", default=list(camera_families.FAMILIES))
    parser.add_argument("--seed", type=int, help="default: the accuracy benchmark's seed of each family")
    parser.add_argument("--scale", type=float, default=RENDER_SCALE)
    parser.add_argument("--render-into", type=Path, help=argparse.SUPPRESS)  # the subprocess's job
    parser.add_argument("--cases", help=argparse.SUPPRESS)  # family:seed,... for the subprocess
    args = parser.parse_args(argv)
    if args.render_into is not None:
        pairs = [(c.split(":")[0], int(c.split(":")[1])) for c in args.cases.split(",")]
        _render(args.clip, pairs, args.scale, args.render_into)
        return 0
    import accuracy

    start = time.perf_counter()
    # The benchmark's seeds: its default clips' order (walk, kick, cartwheel, run) and families'.
    clips = list(accuracy.QUICK_CLIPS) if args.clip in accuracy.QUICK_CLIPS else [args.clip]
    plan = accuracy.case_plan(clips, list(camera_families.FAMILIES), 1)
    chosen = lambda s: s if args.seed is None else args.seed  # noqa: E731
    pairs = [(f, chosen(s)) for c, f, s in plan if c == args.clip and f in args.families]
    ensure_cached(args.clip, pairs, args.scale)
    for family, seed in pairs:
        print(f"{args.clip}/{family}/{seed}: {detector_error(args.clip, family, seed, args.scale)}")
    print(f"{time.perf_counter() - start:.0f} s")
    return 0


def detector_error(clip: str, family: str, seed: int, scale: float = RENDER_SCALE) -> str:
    """A line on the cached detections of a case against the truth's 2D: the share of frames with
    the person found, the keypoints' distance from the truth as a share of the body's size (its
    larger extent in the image: median and mean over detected keypoints) and the share of frames
    whose torso is drawn over 90 degrees off the truth's (head down, on a tumble)."""
    import accuracy

    from anylift.video.people import _wrap, torso_angle

    kp = detected_keypoints(clip, family, seed, scale)
    truth = accuracy.build_case(clip, family, seed, 1).clean_keypoints
    seen = kp[..., 2] > 0
    size = np.nanmax(np.ptp(truth, axis=1), axis=-1)
    err = (np.linalg.norm(kp[..., :2] - truth, axis=-1) / size[:, None])[seen]
    conf = np.concatenate([truth, np.ones_like(truth[..., :1])], axis=-1)
    angles = [(torso_angle(d), torso_angle(c)) for d, c in zip(kp, conf, strict=True)]
    off = [abs(_wrap(a - b)) > np.pi / 2 for a, b in angles if a is not None]
    return (f"found in {seen.any(axis=1).mean():.0%} of the frames; 2D error {100 * np.median(err):.1f} % of "
            f"the body's size (median), {100 * np.mean(err):.1f} % (mean); torso upside down in "
            f"{np.mean(off) if off else 0.0:.0%} of the frames")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
