"""HOI accuracy benchmark: AnyLift (an HOI checkpoint) vs an SMPLify-style fit of person and object.

Cases: synthetic HOI sequences (:func:`anylift.data.hoi.make_hoi_sequence`) built from the
HELD-OUT mocap clips (:data:`anylift.data.mocap.HELDOUT_CLIPS`, ``allow_heldout=True``; ``--clips``
of the training motions for choosing checkpoints), seen
through test-split camera trajectories (never used in training), one object of the checkpoint's
category (``extra["object_category"]``) carried or dragged, its keypoints partly masked
(independent drops + an occlusion burst), ``--seeds`` sequences per clip of ``--frames`` frames.

With ``--families`` the same sequences are seen instead through the accuracy benchmark's camera
families (``benchmarks/camera_families.py``, designed independently of the training cameras) at
its noise level 1: the body's 2D by :func:`anylift.data.evaluation.corrupt_keypoints` (3 px,
2% gross outliers, 5% dropped), the object's with 3 px Gaussian noise on its visible keypoints;
one row per family and an overall row.

Methods, on the same 2D input and true camera:

- ``anylift``: :func:`anylift.pipeline.lift_with_report` with ``--checkpoint`` (required: no HOI
  checkpoint ships yet; train one with ``training/configs/hoi_box_multi_view.toml``);
- ``smplify``: the body by :func:`anylift.baselines.smplify` (``method="smplify"``), then the
  object by :func:`anylift.baselines.fit_object_2d` (6D rotation, translation, scale prior from the
  category's canonical size, smoothness, contact with the fitted hands when near).

Metrics (millimetres; means over cases):

- ``MPJPE``: human, root-aligned per frame (:func:`anylift.metrics.mpjpe`);
- ``T_root``: human root trajectory after aligning the first frame's roots
  (:func:`anylift.metrics.t_root`);
- ``obj T_root``: mean object-centre (keypoint centroid) error after the same alignment - the
  prediction translated by the offset that makes the human roots meet at frame 0 (so the object's
  placement relative to the person and the world counts, as for the human's T_root);
- ``O-MPJPE``: mean object keypoint error after that alignment; for a symmetric object (a box)
  the smallest over the template's symmetries per frame (equivalent poses are not errors).

    .venv/bin/python benchmarks/hoi.py --checkpoint runs/hoi_box_multi_view/model.pt \\
        [--clips cartwheel run] [--seeds 2] [--frames 90] [--steps N] [--samples S] \\
        [--methods anylift smplify] [--families orbit ... | all] [--out out/benchmarks/hoi.json]

A checkpoint without a recorded training step (a freshly initialised model) is reported as
UNTRAINED: its numbers only prove that the harness runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import camera_families  # noqa: E402  (benchmarks/ is not a package: training cannot import it)

METHODS = ("anylift", "smplify")
LABELS = {"anylift": "AnyLift (HOI checkpoint)", "smplify": "SMPLify + object 2D fit"}
COLUMNS = (
    ("mpjpe_mm", "MPJPE mm"),
    ("t_root_mm", "T_root mm"),
    ("object_t_root_mm", "obj T_root mm"),
    ("o_mpjpe_mm", "O-MPJPE mm"),
)
HIPS = (11, 12)
HANDS = (9, 10)


def object_metrics(pred_obj, true_obj, pred_body, true_body, template) -> dict[str, float]:
    """Object T_root and O-MPJPE (metres -> mm) after the human's first-frame root alignment.

    Args:
        pred_obj, true_obj: (T, M, 3) object keypoints, world metres.
        pred_body, true_body: (T, 17, 3) COCO-17 keypoints (hips at 11, 12).
        template: the object's :class:`anylift.object_templates.ObjectTemplate` (its symmetries).
    """
    offset = true_body[0, list(HIPS)].mean(0) - pred_body[0, list(HIPS)].mean(0)
    p = pred_obj + offset
    centre = np.linalg.norm(p.mean(1) - true_obj.mean(1), axis=-1).mean()
    # Model keypoint i of the pose (R G, ...) sits where pose R put keypoint pi[i]: compare the
    # prediction's keypoint pi[i] with the truth's i for each symmetry, keep the best per frame.
    per_sym = [
        np.linalg.norm(p[:, perm] - true_obj, axis=-1).mean(-1) for perm in template.symmetry_permutations
    ]
    o_mpjpe = np.min(np.stack(per_sym), axis=0).mean()
    return {"object_t_root_mm": 1000.0 * float(centre), "o_mpjpe_mm": 1000.0 * float(o_mpjpe)}


def object_keypoints(motion, template) -> np.ndarray:
    """(T, M, 3) ``s R p + t`` of the motion's first object."""
    rot, trans, s = motion.object_rotation[0], motion.object_translation[0], float(motion.object_scale[0])
    return s * np.einsum("tij,mj->tmi", rot, template.canonical) + trans[:, None]


def run_method(seq, method: str, *, checkpoint, steps=None, samples=None) -> dict:
    """One case through one method: its metrics (mm) and seconds."""
    from anylift import metrics
    from anylift.baselines import fit_object_2d
    from anylift.io.cameras import Camera
    from anylift.pipeline import lift_with_report

    start = time.perf_counter()
    kp, cam = seq.keypoints2d, seq.camera
    if method == "anylift":
        given = {} if samples is None else {"samples": samples}
        motion = lift_with_report(kp, cam, checkpoint=checkpoint, steps=steps, **given).motion
        pred_obj = object_keypoints(motion, seq.template)
    else:
        import warnings

        from anylift.lifting.objects import ObjectsIgnoredWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ObjectsIgnoredWarning)  # the object is fitted below
            motion = lift_with_report(kp, cam, method="smplify").motion
        world_cam = Camera(K=motion.intrinsics, world_to_camera=motion.world_to_camera)
        fit = fit_object_2d(
            kp.objects[0].keypoints, world_cam, seq.template.canonical,
            hands=motion.keypoints3d[:, list(HANDS)],
        )  # fmt: skip
        pred_obj = fit.keypoints3d
    body, truth = motion.keypoints3d, seq.body_keypoints3d
    row = {
        "mpjpe_mm": 1000.0 * metrics.mpjpe(body, truth),
        "t_root_mm": 1000.0 * metrics.t_root(body, truth),
        **object_metrics(pred_obj, seq.object_keypoints3d, body, truth, seq.template),
    }
    return {"metrics": row, "seconds": time.perf_counter() - start}


def with_family_camera(seq, family: str, seed: int):
    """The sequence seen through a camera of ``family`` (module docs): new camera and 2D input."""
    import dataclasses

    from anylift.data.evaluation import DEFAULT_DROPOUT, DEFAULT_NOISE_PX, corrupt_keypoints
    from anylift.data.hoi import object_mask
    from anylift.geometry.camera import project
    from anylift.io.keypoints import Keypoints2D

    camera, _ = camera_families.build_family_camera(family, seed, seq.body_keypoints3d, seq.fps)
    rng = np.random.default_rng(camera_families.family_seed(family, seed))
    clean, depth = project(seq.body_keypoints3d, camera.K, camera.world_to_camera, return_depth=True)
    body2d, _, _ = corrupt_keypoints(
        clean, depth, camera.image_size, rng, noise_px=DEFAULT_NOISE_PX, dropout=DEFAULT_DROPOUT
    )
    px, depth = project(seq.object_keypoints3d, camera.K, camera.world_to_camera, return_depth=True)
    w, h = camera.image_size
    inside = (depth > 0.05) & (px[..., 0] >= 0) & (px[..., 0] < w) & (px[..., 1] >= 0) & (px[..., 1] < h)
    seen = inside & object_mask(len(px), px.shape[1], rng, fps=seq.fps)
    px = px + rng.standard_normal(px.shape) * DEFAULT_NOISE_PX
    score = np.where(seen, rng.uniform(0.6, 1.0, seen.shape), 0.0)
    obj2d = np.concatenate([np.where(seen[..., None], px, np.nan), score[..., None]], axis=-1)
    track = dataclasses.replace(seq.keypoints2d.objects[0], keypoints=obj2d)
    kp = Keypoints2D(keypoints=body2d, fps=seq.fps, image_size=camera.image_size, objects=[track])
    return dataclasses.replace(seq, camera=camera, keypoints2d=kp, object_visible=seen)


def markdown_table(header: list[str], rows: list[list]) -> str:
    def cell(v):
        return "n/a" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v))

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from anylift.data.hoi import make_hoi_sequence
    from anylift.data.mocap import HELDOUT_CLIPS, TRAIN_CLIPS
    from anylift.errors import InputError
    from anylift.models import load_checkpoint

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="HOI multi-view checkpoint")
    parser.add_argument(
        "--clips", nargs="+", default=list(HELDOUT_CLIPS), choices=[*TRAIN_CLIPS, *HELDOUT_CLIPS],
        help="default: the held-out clips (report); choose checkpoints on training clips",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=2, help="sequences per clip (seeds 0..N-1)")
    parser.add_argument("--frames", type=int, default=90, help="frames per sequence")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--steps", type=int, help="DDIM steps (default: the pipeline's)")
    parser.add_argument("--samples", type=int, default=None, help="default: the pipeline's")
    parser.add_argument(
        "--families", nargs="+", choices=[*camera_families.FAMILIES, "all"],
        help="camera families instead of the test-split trajectories ('all': every one)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=REPO / "out" / "benchmarks" / "hoi.json")
    args = parser.parse_args(argv)
    families = args.families or []
    if "all" in families:
        families = list(camera_families.FAMILIES)

    try:
        ckpt = load_checkpoint(args.checkpoint, kind="multi_view")
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    category = ckpt.extra.get("object_category")
    if not ckpt.config.num_object_keypoints or not category:
        print(f"error: {args.checkpoint} is not an HOI checkpoint (no object keypoints / object_category)",
              file=sys.stderr)  # fmt: skip
        return 2
    meaningful = "step" in ckpt.extra
    results: dict[str, list[dict]] = {m: [] for m in args.methods}
    for clip in args.clips:
        for seed in range(args.seeds):
            base = make_hoi_sequence(clip, seed, category=category, num_frames=args.frames,
                                     split="test", allow_heldout=True)  # fmt: skip
            for family in families or [None]:
                seq = base if family is None else with_family_camera(base, family, seed)
                name = f"{clip}/{seed}/{base.object.scenario}" + ("" if family is None else f"/{family}")
                for method in args.methods:
                    row = run_method(
                        seq, method, checkpoint=args.checkpoint, steps=args.steps, samples=args.samples
                    )
                    row.update(case=name, family=family or "test_split")
                    results[method].append(row)
                    m = row["metrics"]
                    print(f"  {name:36s} {method:8s} " + "  ".join(f"{t} {m[k]:7.1f}" for k, t in COLUMNS)
                          + f"  ({row['seconds']:.0f} s)", file=sys.stderr, flush=True)  # fmt: skip
    means = {
        method: {k: float(np.mean([r["metrics"][k] for r in rows])) for k, _ in COLUMNS}
        for method, rows in results.items()
    }
    title = f"HOI accuracy ({category})"
    if not meaningful:
        title += " - UNTRAINED CHECKPOINT: harness check only, the numbers are NOT meaningful"
    table = markdown_table(
        ["method", *(t for _, t in COLUMNS)],
        [[LABELS[m], *(means[m][k] for k, _ in COLUMNS)] for m in results],
    )
    group = (
        "held-out"
        if set(args.clips) <= set(HELDOUT_CLIPS)
        else "training"
        if set(args.clips) <= set(TRAIN_CLIPS)
        else "mixed"
    )
    cameras = f"camera families ({', '.join(families)}), noise level 1" if families else "test-split cameras"
    text = (
        f"### {title}\n\n{len(args.clips)} {group} clips x {args.seeds} sequences of {args.frames} frames, "
        f"{cameras}, steps {args.steps or 'default'}, samples {args.samples or 'default'}\n\n{table}\n"
    )
    if families:
        rows = []
        for family in families:
            for method in results:
                chosen = [r["metrics"] for r in results[method] if r["family"] == family]
                means_f = [float(np.mean([m[k] for m in chosen])) for k, _ in COLUMNS]
                rows.append([family, LABELS[method], *means_f])
        header = ["family", "method", *(t for _, t in COLUMNS)]
        text += "\nPer camera family:\n\n" + markdown_table(header, rows) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "meaningful": meaningful,
        "checkpoint": str(args.checkpoint),
        "category": category,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "means": means,
        "cases": results,
    }
    from anylift.io.atomic import write_text_atomic

    write_text_atomic(args.out, json.dumps(document, indent=2))
    write_text_atomic(args.out.with_suffix(".md"), text)
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
