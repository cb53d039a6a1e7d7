"""The main job (README command 1): lift the bundled example and bake it into a Blender scene.

Run by ``bash scripts/main_job.sh`` (which installs ``.venv`` first), or directly::

    .venv/bin/python examples/main_job.py [--out-dir out] [--method auto|anylift|smplify]
                                          [--checkpoint PATH] [--steps N] [--no-preview]

Steps:

1. the example inputs (``examples/make_example.py``): the held-out cartwheel clip under a
   moving camera, as public-format keypoints JSON + camera JSON + truth ``.npz`` in
   ``examples/out/`` (built on the first run, ~30-70 s, then reused);
2. ``anylift lift`` (the real command line, in-process) with the default model - or, while no
   default checkpoint is installed (``anylift.pipeline.DEFAULT_CHECKPOINT``), with the SMPLify
   baseline (``--method smplify``) after saying so, so the job still ends in a scene;
3. ``anylift_blender/batch.py --motion`` under the ``bpy`` module (a subprocess): the ``.blend``
   with the animated ``SMPL`` armature, the ``SMPL Body`` mesh and the ``AnyLift Camera``;
4. ``examples/render_preview.py`` (another ``bpy`` subprocess): a PNG of Workbench renders
   through the ``AnyLift Camera`` under the 2D input, from the side and from above, the truth
   drawn in (cyan) so depth errors show;
5. ``anylift eval`` against the truth.

It prints where every file is. Exit code: the first failing step's (0 on success, 2 for a user
error, 1 for a bug).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from make_example import CLIP, DEFAULT_OUT, build_example  # noqa: E402

BATCH = REPO / "anylift_blender" / "batch.py"
PREVIEW = HERE / "render_preview.py"


def _run_bpy(script: Path, args: list[str], what: str) -> int:
    """Run ``script -- args`` with this Python (the bpy module); show its output only on failure."""
    done = subprocess.run([sys.executable, str(script), "--", *args], capture_output=True, text=True)
    if done.returncode != 0:
        noise = ("EGL Error", "Fra:", "Saved:")  # Blender's chatter, not the failure
        lines = [ln for ln in (done.stdout + done.stderr).splitlines() if not ln.startswith(noise)]
        print(f"main job: {what} failed (exit {done.returncode}):", file=sys.stderr)
        print("\n".join(lines[-25:]), file=sys.stderr)
    return done.returncode


def choose_method(method: str, checkpoint: Path | None) -> str:
    """``anylift`` when a checkpoint is given or the default one is installed, else ``smplify``."""
    if method != "auto":
        return method
    from anylift.pipeline import DEFAULT_CHECKPOINT

    if checkpoint is not None or DEFAULT_CHECKPOINT.is_file():
        return "anylift"
    print(
        f"main job: the default AnyLift checkpoint is not installed yet ({DEFAULT_CHECKPOINT}).\n"
        "          Lifting with the SMPLify baseline instead (--method smplify), so the job still\n"
        "          produces a scene; pass --checkpoint PATH to use a trained multi-view model."
    )
    return "smplify"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out-dir", type=Path, default=REPO / "out", help="folder for result, scene, preview"
    )
    parser.add_argument("--method", choices=("auto", "anylift", "smplify"), default="auto")
    parser.add_argument("--checkpoint", type=Path, help="multi-view checkpoint (default: the shipped one)")
    parser.add_argument("--steps", type=int, help="DDIM steps (default: the pipeline's)")
    parser.add_argument("--no-preview", action="store_true", help="skip the preview render")
    args = parser.parse_args(argv)
    from anylift.cli import main as anylift

    start = time.perf_counter()
    times: dict[str, float] = {}

    def lap(stage: str, since: float) -> float:
        now = time.perf_counter()
        times[stage] = now - since
        return now

    t = time.perf_counter()
    inputs = build_example(DEFAULT_OUT)
    t = lap("example", t)
    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    result, blend, preview = out / f"{CLIP}_result.npz", out / f"{CLIP}.blend", out / f"{CLIP}_preview.png"

    method = choose_method(args.method, args.checkpoint)
    lift_args = ["lift", str(inputs["keypoints"]), "--camera", str(inputs["camera"]), "--out", str(result)]
    lift_args += ["--method", method]
    if args.checkpoint is not None:
        lift_args += ["--checkpoint", str(args.checkpoint)]
    if args.steps is not None:
        lift_args += ["--steps", str(args.steps)]
    print(f"main job: anylift {' '.join(lift_args)}", flush=True)
    code = anylift(lift_args)
    if code != 0:
        return code
    t = lap("lift", t)

    if importlib.util.find_spec("bpy") is None:
        print(
            "main job: the bpy module is not installed, so no .blend was made "
            "(bash scripts/venv.sh dev,blender installs it)",
            file=sys.stderr,
        )
        return 2
    print("main job: baking the Blender scene ...", flush=True)
    code = _run_bpy(BATCH, ["--motion", str(result), "--out", str(blend)], "baking the scene")
    if code != 0:
        return code
    t = lap("bake", t)

    if not args.no_preview:
        print("main job: rendering the preview ...", flush=True)
        label = "AnyLift" if method == "anylift" else "SMPLify baseline"
        preview_args = ["--blend", str(blend), "--keypoints", str(inputs["keypoints"]), "--out", str(preview)]
        preview_args += ["--truth", str(inputs["truth"])]
        code = _run_bpy(PREVIEW, [*preview_args, "--label", label], "the preview render")
        if code != 0:
            return code
        t = lap("preview", t)

    print("\nfiles:")
    print(f"  2D keypoints (input)  {inputs['keypoints']}")
    print(f"  camera (input)        {inputs['camera']}")
    print(f"  truth                 {inputs['truth']}")
    print(f"  {'result (' + method + ')':22s}{result}")
    print(f"  Blender scene         {blend}")
    if not args.no_preview:
        print(f"  preview               {preview}")
    print(f"\nmetrics of the {method} result against the truth (anylift eval):")
    code = anylift(["eval", str(result), "--truth", str(inputs["truth"])])
    lap("eval", t)
    total = time.perf_counter() - start
    print("\ntime: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()) + f"; total {total:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
