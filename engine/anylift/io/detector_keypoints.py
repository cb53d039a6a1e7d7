"""2D keypoints from pose detectors, as COCO-17 :class:`~anylift.io.keypoints.Keypoints2D`.

The layouts :func:`anylift.io.keypoints.read_keypoints` hands over here (``docs/formats.md``,
"Other layouts read"):

- MMPose 1.x / RTMPose / ViTPose JSON: a list of per-frame ``{"frame_id", "instances": [...]}``,
  the same under ``"instance_info"``, or a single image's list of instances;
- COCO results ``[{"image_id", "keypoints": [x, y, s] * K, "score"}]``;
- OpenPose per-frame ``*_keypoints.json`` (a folder of them, or one), BODY_25 or COCO-18.

K = 17 is COCO-17; K = 26 (Halpe) and K = 133 (COCO-WholeBody) start with COCO-17, which is what
we keep. Scores above 1 are clipped to 1. Integer frame ids that skip a number get an empty frame.

Several people in a frame: :func:`track_person` follows one. The first frame with anyone in it
picks the most confident person (instance score, else mean keypoint score); each later frame
picks the person closest to the previous choice (mean pixel distance over joints seen in both).
(Every person, tracked, is :mod:`anylift.io.people` / :mod:`anylift.video.people`.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from anylift.errors import InputError
from anylift.io.fields import (
    check_frame_count,
    is_number,
    json_array,
    load_json,
    natural_key,
    require_key,
    short_repr,
)
from anylift.io.keypoints import (
    _COCO_PREFIXED_COUNTS,
    _MIN_ID_DENSITY,
    DEFAULT_FPS,
    Keypoints2D,
    check_keypoint_values,
)
from anylift.skeletons import to_coco17

# One candidate person: (K, 3) keypoints [x, y, score] (x = y = NaN where score is 0) and a
# confidence used to pick the first person.
Candidate = tuple[np.ndarray, float]


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean pixel distance between two (K, 3) people over joints seen in both (centroids otherwise)."""
    va, vb = a[:, 2] > 0, b[:, 2] > 0
    both = va & vb
    if both.any():
        return float(np.linalg.norm(a[both, :2] - b[both, :2], axis=1).mean())
    if va.any() and vb.any():
        return float(np.linalg.norm(a[va, :2].mean(axis=0) - b[vb, :2].mean(axis=0)))
    return float("inf")


def track_person(frames: list[list[Candidate]], num_joints: int) -> np.ndarray:
    """Follow one person through frames holding any number of candidates.

    Args:
        frames: per frame, the candidates ((K, 3) keypoints, confidence).
        num_joints: K, for frames without anyone.

    Returns:
        (T, K, 3): the chosen person per frame; all scores 0 (x = y = NaN) where nobody was seen.
        The first chosen is the most confident; later ones are the closest to the last choice.
    """
    out = np.full((len(frames), num_joints, 3), np.nan)
    out[..., 2] = 0.0
    previous = None
    for t, candidates in enumerate(frames):
        if not candidates:
            continue
        if previous is None:
            best = max(range(len(candidates)), key=lambda i: candidates[i][1])
        else:
            dists = [_distance(previous, c[0]) for c in candidates]
            if np.isfinite(min(dists)):
                # Ties (rare) go to the more confident person.
                best = min(range(len(candidates)), key=lambda i: (dists[i], -candidates[i][1]))
            else:
                best = max(range(len(candidates)), key=lambda i: candidates[i][1])
        out[t] = candidates[best][0]
        previous = candidates[best][0]
    return out


def _candidate(kp: np.ndarray, score: float | None) -> Candidate:
    conf = float(kp[:, 2].mean()) if score is None or not np.isfinite(score) else float(score)
    return kp, conf


def _coco_prefix(raw: np.ndarray, *, path: Path, field: str) -> np.ndarray:
    """(T, K, 3) with K in 17/26/133 -> (T, 17, 3) (those joint sets start with COCO-17)."""
    if raw.shape[1] not in _COCO_PREFIXED_COUNTS:
        raise InputError(
            f"people have {raw.shape[1]} keypoints",
            path=path,
            field=field,
            expected="17 (COCO), 26 (Halpe) or 133 (COCO-WholeBody) keypoints per person",
        )
    return raw[:, :17]


def _finish_tracked(
    path: Path, frames: list[list[Candidate]], num_joints: int | None, fps, image_size, *, field: str
) -> Keypoints2D:
    if not frames:
        raise InputError("holds no frames", path=path, expected="at least 1 frame")
    check_frame_count(len(frames), path=path, field=field)
    if num_joints is None:
        raise InputError(
            "no person detected in any frame", path=path, field=field, expected="at least one detected person"
        )
    raw = track_person(frames, num_joints)
    return Keypoints2D(
        keypoints=_coco_prefix(raw, path=path, field=field),
        fps=DEFAULT_FPS if fps is None else fps,
        image_size=image_size,
        source_skeleton="coco17",
        path=str(path),
    )


def _fill_frame_gaps(
    ids: list[Any], frames: list[list[Candidate]], *, path: Path, field: str
) -> list[list[Candidate]]:
    """Order frames by id; with integer ids, put empty frames where ids skip numbers.

    ``field`` names entry k's id with ``{}`` for k (``"instance_info[{}].frame_id"``).

    The span of integer ids is checked before anything is filled: more than
    :data:`MAX_FRAMES` frames, or ids that leave most of their span empty (image ids of a
    photo collection, not frame numbers), are an InputError.
    """
    if not ids:
        return []
    for k, i in enumerate(ids):
        if not (isinstance(i, str | float) or (isinstance(i, int) and not isinstance(i, bool))):
            raise InputError(
                f"is {short_repr(i)}", path=path, field=field.format(k), expected="a frame number or a string"
            )
    if all(isinstance(i, int) for i in ids):
        by_id: dict[int, list[Candidate]] = {}
        for i, f in zip(ids, frames):
            by_id.setdefault(i, []).extend(f)
        first, last = min(by_id), max(by_id)
        span = last - first + 1
        if span > 100 and len(by_id) * _MIN_ID_DENSITY < span:
            raise InputError(
                f"ids run from {first} to {last} ({span} frames) but only {len(by_id)} are listed",
                path=path,
                field=field.format(""),
                expected="frame numbers (0, 1, 2... with few gaps), not image ids",
                fix="Number the frames of the video in order, or write one entry per frame",
            )
        check_frame_count(span, path=path, field=f"{field.format('')} (ids {first} to {last})")
        return [by_id.get(i, []) for i in range(first, last + 1)]
    order = sorted(range(len(ids)), key=lambda k: natural_key(str(ids[k])))
    merged: dict[str, list[Candidate]] = {}
    for k in order:
        merged.setdefault(str(ids[k]), []).extend(frames[k])
    return list(merged.values())


def _mmpose_instance(path: Path, inst: Any, where: str, num_joints: int | None) -> tuple[Candidate, int]:
    if not isinstance(inst, dict):
        raise InputError(f"is a {type(inst).__name__}", path=path, field=where, expected="a JSON object")
    kp_raw = require_key(inst, "keypoints", path, where + ".")
    if isinstance(kp_raw, list) and kp_raw and isinstance(kp_raw[0], list) and len(kp_raw[0]) == 3:
        kp = json_array(kp_raw, path=path, field=f"{where}.keypoints", shape=(num_joints, 3))
    else:
        xy = json_array(kp_raw, path=path, field=f"{where}.keypoints", shape=(num_joints, 2))
        scores = json_array(
            require_key(inst, "keypoint_scores", path, where + "."),
            path=path,
            field=f"{where}.keypoint_scores",
            shape=(xy.shape[0],),
        )
        kp = np.concatenate([xy, scores[:, None]], axis=1)
    kp = check_keypoint_values(kp[None], path=path, field=f"{where}.keypoints", clip_scores=True)[0]
    score = inst.get("bbox_score", inst.get("score"))
    if isinstance(score, list) and len(score) == 1:
        score = score[0]
    return _candidate(kp, float(score) if is_number(score) else None), kp.shape[0]


def read_mmpose_frames(path: Path, frames_data: Any, where: str, fps, image_size) -> Keypoints2D:
    if not isinstance(frames_data, list):
        raise InputError(
            f"is a {type(frames_data).__name__}",
            path=path,
            field=where,
            expected="a list of per-frame entries",
        )
    check_frame_count(len(frames_data), path=path, field=where or "frames")
    ids, frames = [], []
    num_joints = None
    for t, entry in enumerate(frames_data):
        name = f"{where}[{t}]"
        if not isinstance(entry, dict):
            raise InputError(
                f"is a {type(entry).__name__}",
                path=path,
                field=name,
                expected='a JSON object {"frame_id", "instances"}',
            )
        instances = require_key(entry, "instances", path, name + ".")
        if not isinstance(instances, list):
            raise InputError(
                f"is a {type(instances).__name__}",
                path=path,
                field=f"{name}.instances",
                expected="a list of people",
            )
        people = []
        for i, inst in enumerate(instances):
            cand, num_joints = _mmpose_instance(path, inst, f"{name}.instances[{i}]", num_joints)
            people.append(cand)
        ids.append(entry.get("frame_id", t))
        frames.append(people)
    frames = _fill_frame_gaps(ids, frames, path=path, field=where + "[{}].frame_id")
    return _finish_tracked(path, frames, num_joints, fps, image_size, field=where)


def read_list_layout(path: Path, data: list, fps, image_size) -> Keypoints2D:
    if not data:
        raise InputError("is an empty list", path=path, expected="at least 1 frame")
    first = data[0]
    if isinstance(first, dict) and "instances" in first:
        return read_mmpose_frames(path, data, "", fps, image_size)
    if isinstance(first, dict) and "image_id" in first:
        return _read_coco_results(path, data, fps, image_size)
    if isinstance(first, dict) and "keypoints" in first:
        # One image's predictions (MMPoseInferencer's per-image file): a single frame.
        people, num_joints = [], None
        for i, inst in enumerate(data):
            cand, num_joints = _mmpose_instance(path, inst, f"[{i}]", num_joints)
            people.append(cand)
        return _finish_tracked(path, [people], num_joints, fps, image_size, field="[0].keypoints")
    raise InputError(
        f"is a list of {type(first).__name__}",
        path=path,
        field="[0]",
        expected='MMPose frames {"frame_id", "instances"}, COCO results {"image_id", "keypoints", '
        '"score"}, or an anylift.keypoints/1 object',
    )


def _read_coco_results(path: Path, data: list, fps, image_size) -> Keypoints2D:
    ids, frames = [], []
    num_joints = None
    for n, det in enumerate(data):
        where = f"[{n}]"
        if not isinstance(det, dict):
            raise InputError(f"is a {type(det).__name__}", path=path, field=where, expected="a JSON object")
        image_id = require_key(det, "image_id", path, where + ".")
        if not (isinstance(image_id, str) or (isinstance(image_id, int) and not isinstance(image_id, bool))):
            raise InputError(
                f"is {image_id!r}", path=path, field=f"{where}.image_id", expected="an integer or a string"
            )
        flat = json_array(
            require_key(det, "keypoints", path, where + "."),
            path=path,
            field=f"{where}.keypoints",
            shape=(None,),
        )
        if flat.size == 0 or flat.size % 3:
            raise InputError(
                f"has {flat.size} numbers",
                path=path,
                field=f"{where}.keypoints",
                expected="3 numbers (x, y, score) per keypoint",
            )
        if num_joints is not None and flat.size // 3 != num_joints:
            raise InputError(
                f"has {flat.size // 3} keypoints",
                path=path,
                field=f"{where}.keypoints",
                expected=f"{num_joints} like the first detection",
            )
        kp = check_keypoint_values(
            flat.reshape(1, -1, 3), path=path, field=f"{where}.keypoints", clip_scores=True
        )[0]
        num_joints = kp.shape[0]
        score = det.get("score")
        ids.append(image_id)
        frames.append([_candidate(kp, float(score) if is_number(score) else None)])
    frames = _fill_frame_gaps(ids, frames, path=path, field="[{}].image_id")
    return _finish_tracked(path, frames, num_joints, fps, image_size, field="keypoints")


def read_openpose_folder(folder: Path, fps, image_size) -> Keypoints2D:
    if folder.suffix.lower() in (".json", ".npz"):
        raise InputError(
            f"is a folder, though its name ends in {folder.suffix}",
            path=folder,
            expected="a keypoints file, or an OpenPose folder of *_keypoints.json files",
            fix="Pass the keypoints file inside it, or rename the folder",
        )
    files = sorted(
        (f for f in folder.glob("*_keypoints.json") if f.is_file()), key=lambda p: natural_key(p.name)
    )
    if not files:
        raise InputError(
            "holds no OpenPose files",
            path=folder,
            expected="a folder of per-frame *_keypoints.json files (OpenPose --write_json)",
        )
    check_frame_count(len(files), path=folder, field="*_keypoints.json files")
    pages = []
    for f in files:
        page = load_json(f)
        if not (isinstance(page, dict) and "people" in page):
            fmt = page.get("format") if isinstance(page, dict) else None
            if isinstance(fmt, str):
                raise InputError(
                    f"is an {fmt[:40]!r} file, in a folder read as OpenPose frames",
                    path=f,
                    expected='OpenPose --write_json frames {"people": [...]}',
                    fix=f"Pass {f.name} itself instead of its folder",
                )
            raise InputError(
                "is not an OpenPose frame, in a folder read as OpenPose frames",
                path=f,
                expected='OpenPose --write_json frames {"people": [...]}',
            )
        pages.append((f, page))
    return from_people_frames(folder, pages, fps, image_size)


def from_people_frames(path: Path, pages: list[tuple[Path, Any]], fps, image_size) -> Keypoints2D:
    """OpenPose frames: each page is (file, {"people": [{"pose_keypoints_2d": [...]}, ...]})."""
    frames: list[list[Candidate]] = []
    num_joints = None
    for file, page in pages:
        people_raw = require_key(page, "people", file)
        if not isinstance(people_raw, list):
            raise InputError(
                f"is a {type(people_raw).__name__}", path=file, field="people", expected="a list of people"
            )
        people = []
        for i, person in enumerate(people_raw):
            where = f"people[{i}]"
            if not isinstance(person, dict):
                raise InputError(
                    f"is a {type(person).__name__}", path=file, field=where, expected="a JSON object"
                )
            flat = json_array(
                require_key(person, "pose_keypoints_2d", file, where + "."),
                path=file,
                field=f"{where}.pose_keypoints_2d",
                shape=(None,),
            )
            k = flat.size // 3
            if flat.size % 3 or k not in (18, 25) or (num_joints is not None and k != num_joints):
                raise InputError(
                    f"has {flat.size} numbers",
                    path=file,
                    field=f"{where}.pose_keypoints_2d",
                    expected=(
                        f"{3 * num_joints} numbers like earlier frames"
                        if num_joints
                        else "75 (BODY_25) or 54 (COCO-18) numbers: x, y, score per joint"
                    ),
                )
            num_joints = k
            kp = check_keypoint_values(
                flat.reshape(1, k, 3), path=file, field=f"{where}.pose_keypoints_2d", clip_scores=True
            )[0]
            people.append(_candidate(kp, None))
        frames.append(people)
    if num_joints is None:
        raise InputError(
            "no person detected in any frame", path=path, expected="at least one detected person"
        )
    raw = track_person(frames, num_joints)
    skeleton = "body25" if num_joints == 25 else "openpose18"
    return Keypoints2D(
        keypoints=to_coco17(raw, skeleton),
        fps=DEFAULT_FPS if fps is None else fps,
        image_size=image_size,
        source_skeleton=skeleton,
        path=str(path),
    )


# ---------------------------------------------------------------------------------------------
# Writing
