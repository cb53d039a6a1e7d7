"""2D keypoints: the :class:`Keypoints2D` container, its readers and its writer.

Read (``read_keypoints``), each converted to COCO-17 (``anylift.skeletons``):

- ``anylift.keypoints/1`` JSON (``docs/formats.md``), with optional ``objects``.
- MMPose 1.x / RTMPose / ViTPose JSON, in the layouts those tools write:
  a list of per-frame ``{"frame_id", "instances": [{"keypoints": [[x, y], ...],
  "keypoint_scores": [...], "bbox_score"?...}]}``; the same list under ``"instance_info"``
  (MMPose's demo ``--save-predictions``); a single image's list of instances; and the COCO
  results layout ``[{"image_id", "keypoints": [x, y, s] * K, "score"}]``.
  K = 17 is COCO-17; K = 26 (Halpe) and K = 133 (COCO-WholeBody) start with COCO-17, which
  is what we keep. Scores above 1 are clipped to 1 (RTMPose's SimCC scores exceed 1).
  Integer frame ids that skip a number get an empty frame (all scores 0) in the gap.
- OpenPose: a folder of per-frame ``*_keypoints.json`` (BODY_25 or COCO-18
  ``pose_keypoints_2d``), frames in natural file-name order; or one such file.
- ``.npz`` with ``keypoints`` (T, K, 3), ``fps`` (), ``image_size`` (2,) and optional
  ``skeleton`` () str (otherwise inferred from K).

Several people in a frame (MMPose, COCO results, OpenPose): we follow one. The first frame
with anyone in it picks the most confident person (instance score, else mean keypoint
score); each later frame picks the person closest to the previous choice (mean pixel
distance over joints seen in both). A frame without anyone has all scores 0.

Formats without a frame rate get 30.0 fps, and without an image size get None, unless the
``fps=`` / ``image_size=`` arguments say otherwise (they override the file's values too).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from anylift.errors import InputError
from anylift.io.atomic import atomic_path
from anylift.io.fields import (
    MAX_PIXEL_COORD,
    check_finite,
    check_format,
    check_fps,
    check_frame_count,
    check_image_size,
    index_field,
    is_number,
    json_array,
    load_json,
    load_npz,
    natural_key,
    npz_array,
    npz_string,
    require_exists,
    require_key,
    shape_text,
    short_repr,
)
from anylift.skeletons import SKELETONS, get_skeleton, to_coco17

FORMAT = "anylift.keypoints/1"
DEFAULT_FPS = 30.0

# Joint count -> skeleton, for formats that do not name theirs.
_SKELETON_BY_COUNT = {s.num_joints: name for name, s in SKELETONS.items()}
# Joint sets whose first 17 joints are COCO-17 (Halpe-26, COCO-WholeBody-133).
_COCO_PREFIXED_COUNTS = (17, 26, 133)
# Integer frame ids must list at least 1 frame in this many of their span (else: image ids).
_MIN_ID_DENSITY = 10


def check_keypoint_values(
    kp: np.ndarray, *, path: str | os.PathLike | None, field: str, clip_scores: bool = False
) -> np.ndarray:
    """Check (T, K, 3) ``[x, y, score]`` values; return a float64 copy with x = y = NaN where score is 0.

    Scores must be finite and in [0, 1] (with ``clip_scores``, scores above 1 are clipped to 1
    instead: detectors whose scores are not probabilities). x and y must be finite where the
    score is positive.
    """
    kp = np.array(kp, dtype=np.float64)
    score = kp[..., 2]
    bad = ~np.isfinite(score) | (score < 0) | ((score > 1) & (not clip_scores))
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        raise InputError(
            f"score is {score[idx]}", path=path, field=index_field(field, idx), expected="a score in [0, 1]"
        )
    if clip_scores:
        np.minimum(score, 1.0, out=score)
    with np.errstate(invalid="ignore"):
        bad = (score > 0) & ~(np.abs(kp[..., :2]) <= MAX_PIXEL_COORD).all(axis=-1)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        raise InputError(
            f"x, y = {kp[idx][0]:.6g}, {kp[idx][1]:.6g} with score {score[idx]:.6g}",
            path=path,
            field=index_field(field, idx),
            expected=f"pixel coordinates within +-{MAX_PIXEL_COORD:g} for a joint with a positive score "
            "(score 0 if not detected)",
        )
    kp[score == 0, :2] = np.nan
    return kp


def _check_shape(a: np.ndarray, shape: tuple, *, path, field: str) -> None:
    if a.ndim != len(shape) or any(d is not None and d != s for d, s in zip(shape, a.shape)):
        raise InputError(
            f"has shape {a.shape}", path=path, field=field, expected=f"shape {shape_text(shape)}"
        )


@dataclass(eq=False)
class ObjectTrack:
    """Keypoints of one object (human-object interaction).

    Attributes:
        name: the object's name (unique in a file).
        category: its kind (``"box"``...).
        keypoints: (T, M, 3) float64 ``[x px, y px, score]``; x = y = NaN where score is 0.
        canonical: (M, 3) float64 keypoint positions in the object's own frame, metres; or None.
    """

    name: str
    category: str
    keypoints: np.ndarray
    canonical: np.ndarray | None = None

    def __post_init__(self) -> None:
        where = f"object {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise InputError(f"name is {self.name!r}", field="objects.name", expected="a non-empty string")
        if not isinstance(self.category, str):
            raise InputError(f"{where}: category is {self.category!r}", field="category", expected="a string")
        kp = np.asarray(self.keypoints, dtype=np.float64)
        _check_shape(kp, (None, None, 3), path=None, field=f"{where}.keypoints")
        if kp.shape[0] == 0 or kp.shape[1] == 0:
            raise InputError(
                f"has shape {kp.shape}",
                field=f"{where}.keypoints",
                expected="at least 1 frame and 1 keypoint",
            )
        self.keypoints = check_keypoint_values(kp, path=None, field=f"{where}.keypoints")
        if self.canonical is not None:
            can = np.array(self.canonical, dtype=np.float64)
            _check_shape(can, (kp.shape[1], 3), path=None, field=f"{where}.canonical")
            check_finite(can, path=None, field=f"{where}.canonical")
            self.canonical = can

    @property
    def num_frames(self) -> int:
        return self.keypoints.shape[0]


@dataclass(eq=False)
class Keypoints2D:
    """A person's 2D keypoints over a video, COCO-17, validated at construction.

    Attributes:
        keypoints: (T, 17, 3) float64 ``[x px, y px, score]``, origin at the image's top-left
            corner, x right, y down; score in [0, 1]; x = y = NaN where score is 0.
        fps: frames per second (> 0).
        image_size: (W, H) pixels, or None when the source format lacks it.
        objects: object tracks with the same T.
        source_skeleton: the joint set the file used before conversion to COCO-17.
        path: the file it was read from (named in error messages), or None.
    """

    keypoints: np.ndarray
    fps: float
    image_size: tuple[int, int] | None
    objects: list[ObjectTrack] = field(default_factory=list)
    source_skeleton: str = "coco17"
    path: str | None = None

    def __post_init__(self) -> None:
        self.path = None if self.path is None else os.fspath(self.path)
        path = self.path
        kp = np.asarray(self.keypoints, dtype=np.float64)
        _check_shape(kp, (None, 17, 3), path=path, field="keypoints")
        if kp.shape[0] == 0:
            raise InputError("is empty (0 frames)", path=path, field="keypoints", expected="at least 1 frame")
        self.keypoints = check_keypoint_values(kp, path=path, field="keypoints")
        self.fps = check_fps(self.fps, path=path)
        self.image_size = check_image_size(self.image_size, path=path)
        if self.source_skeleton not in SKELETONS:
            raise InputError(
                f"unknown skeleton {self.source_skeleton!r}",
                path=path,
                field="skeleton",
                expected="one of " + ", ".join(sorted(SKELETONS)),
            )
        self.objects = list(self.objects)
        names = set()
        for i, obj in enumerate(self.objects):
            if not isinstance(obj, ObjectTrack):
                raise InputError(
                    f"is a {type(obj).__name__}", path=path, field=f"objects[{i}]", expected="an ObjectTrack"
                )
            if obj.num_frames != kp.shape[0]:
                raise InputError(
                    f"has {obj.num_frames} frames but the body keypoints have {kp.shape[0]}",
                    path=path,
                    field=f"objects[{i}].keypoints",
                    expected=f"{kp.shape[0]} frames",
                )
            if obj.name in names:
                raise InputError(
                    f"name {obj.name!r} is used twice",
                    path=path,
                    field=f"objects[{i}].name",
                    expected="unique object names",
                )
            names.add(obj.name)

    @property
    def num_frames(self) -> int:
        """T."""
        return self.keypoints.shape[0]

    @property
    def scores(self) -> np.ndarray:
        """(T, 17) scores."""
        return self.keypoints[..., 2]

    def mask(self, threshold: float = 0.0) -> np.ndarray:
        """(T, 17) bool: joints whose score is above ``threshold``."""
        return self.keypoints[..., 2] > threshold


# ---------------------------------------------------------------------------------------------
# Reading


def read_keypoints(
    path: str | os.PathLike,
    *,
    fps: float | None = None,
    image_size: tuple[int, int] | None = None,
) -> Keypoints2D:
    """Read 2D keypoints from any supported format (see the module docstring), as COCO-17.

    Args:
        path: a ``.json`` file (anylift, MMPose/RTMPose/ViTPose, COCO results, one OpenPose
            frame), an OpenPose folder, or a ``.npz``.
        fps: frame rate to use instead of the file's (default 30.0 when the file has none).
        image_size: (W, H) pixels to use instead of the file's.

    Raises:
        InputError: missing, unreadable or malformed file; the message names file and field.
    """
    path = Path(path)
    require_exists(path)
    if fps is not None:
        fps = check_fps(fps, path=path, field="fps argument")
    if image_size is not None:
        image_size = check_image_size(image_size, path=path, field="image_size argument")
    if path.is_dir():
        return _read_openpose_folder(path, fps, image_size)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _read_npz(path, fps, image_size)
    if suffix != ".json":
        raise InputError(
            f"unknown keypoints file type {suffix!r}",
            path=path,
            expected="a .json file, a .npz file or an OpenPose folder of *_keypoints.json",
        )
    data = load_json(path)
    if isinstance(data, dict) and "people" in data and "format" not in data:
        return _from_people_frames(path, [(path, data)], fps, image_size)
    if isinstance(data, dict) and "instance_info" in data and "format" not in data:
        return _read_mmpose_frames(path, data["instance_info"], "instance_info", fps, image_size)
    if isinstance(data, list):
        return _read_list_layout(path, data, fps, image_size)
    return _read_anylift(path, data, fps, image_size)


def _read_anylift(path: Path, data: Any, fps, image_size) -> Keypoints2D:
    check_format(data, FORMAT, path)
    skeleton_name = require_key(data, "skeleton", path)
    try:
        skeleton = get_skeleton(skeleton_name)
    except InputError as e:
        raise InputError(e.reason, path=path, field="skeleton", expected=e.expected) from None
    if fps is None:
        fps = check_fps(require_key(data, "fps", path), path=path)
    if image_size is None:
        image_size = check_image_size(data.get("image_size"), path=path)
    raw_kp = require_key(data, "keypoints", path)
    if isinstance(raw_kp, list):
        check_frame_count(len(raw_kp), path=path, field="keypoints")
    raw = json_array(
        raw_kp, path=path, field="keypoints", shape=(None, skeleton.num_joints, 3), nullable=(0, 1)
    )
    if raw.shape[0] == 0:
        raise InputError("is empty (0 frames)", path=path, field="keypoints", expected="at least 1 frame")
    raw = check_keypoint_values(raw, path=path, field="keypoints")
    objects = []
    raw_objects = data.get("objects")
    if raw_objects is not None:
        if not isinstance(raw_objects, list):
            raise InputError(
                f"is a {type(raw_objects).__name__}", path=path, field="objects", expected="a list of objects"
            )
        for i, o in enumerate(raw_objects):
            objects.append(_read_object(path, o, i, raw.shape[0]))
    return Keypoints2D(
        keypoints=to_coco17(raw, skeleton.name),
        fps=fps,
        image_size=image_size,
        objects=objects,
        source_skeleton=skeleton.name,
        path=str(path),
    )


def _read_object(path: Path, o: Any, i: int, num_frames: int) -> ObjectTrack:
    where = f"objects[{i}]"
    if not isinstance(o, dict):
        raise InputError(f"is a {type(o).__name__}", path=path, field=where, expected="a JSON object")
    name = require_key(o, "name", path, where + ".")
    if not isinstance(name, str) or not name:
        raise InputError(f"is {name!r}", path=path, field=f"{where}.name", expected="a non-empty string")
    category = o.get("category", "")
    if not isinstance(category, str):
        raise InputError(f"is {category!r}", path=path, field=f"{where}.category", expected="a string")
    kp = json_array(
        require_key(o, "keypoints", path, where + "."),
        path=path,
        field=f"{where}.keypoints",
        shape=(None, None, 3),
        nullable=(0, 1),
    )
    if kp.shape[0] != num_frames:
        raise InputError(
            f"has {kp.shape[0]} frames but the body keypoints have {num_frames}",
            path=path,
            field=f"{where}.keypoints",
            expected=f"{num_frames} frames",
        )
    if kp.shape[1] == 0:
        raise InputError(
            "has 0 keypoints per frame", path=path, field=f"{where}.keypoints", expected="at least 1 keypoint"
        )
    kp = check_keypoint_values(kp, path=path, field=f"{where}.keypoints")
    canonical = None
    if o.get("canonical") is not None:
        canonical = json_array(o["canonical"], path=path, field=f"{where}.canonical", shape=(kp.shape[1], 3))
        check_finite(canonical, path=path, field=f"{where}.canonical")
    return ObjectTrack(name=name, category=category, keypoints=kp, canonical=canonical)


def _read_npz(path: Path, fps, image_size) -> Keypoints2D:
    arrays = load_npz(path)
    raw = npz_array(arrays, "keypoints", path=path, shape=(None, None, 3))
    check_frame_count(raw.shape[0], path=path, field="keypoints")
    if raw.shape[0] == 0:
        raise InputError("is empty (0 frames)", path=path, field="keypoints", expected="at least 1 frame")
    skeleton_name = npz_string(arrays, "skeleton", path=path, required=False)
    if skeleton_name is None:
        skeleton_name = _SKELETON_BY_COUNT.get(raw.shape[1])
        if skeleton_name is None:
            raise InputError(
                f"has {raw.shape[1]} joints and no 'skeleton' entry names them",
                path=path,
                field="keypoints",
                expected="K in " + ", ".join(f"{k} ({n})" for k, n in sorted(_SKELETON_BY_COUNT.items())),
            )
    try:
        skeleton = get_skeleton(skeleton_name)
    except InputError as e:
        raise InputError(e.reason, path=path, field="skeleton", expected=e.expected) from None
    if raw.shape[1] != skeleton.num_joints:
        raise InputError(
            f"has shape {raw.shape}",
            path=path,
            field="keypoints",
            expected=f"(T, {skeleton.num_joints}, 3) for skeleton {skeleton.name}",
        )
    raw = check_keypoint_values(raw, path=path, field="keypoints")
    if fps is None:
        fps = check_fps(npz_array(arrays, "fps", path=path, shape=()), path=path)
    if image_size is None:
        size = npz_array(arrays, "image_size", path=path, shape=(2,))
        image_size = check_image_size(size.tolist(), path=path)
    return Keypoints2D(
        keypoints=to_coco17(raw, skeleton.name),
        fps=fps,
        image_size=image_size,
        source_skeleton=skeleton.name,
        path=str(path),
    )


# --- several people per frame ----------------------------------------------------------------

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


def _read_mmpose_frames(path: Path, frames_data: Any, where: str, fps, image_size) -> Keypoints2D:
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


def _read_list_layout(path: Path, data: list, fps, image_size) -> Keypoints2D:
    if not data:
        raise InputError("is an empty list", path=path, expected="at least 1 frame")
    first = data[0]
    if isinstance(first, dict) and "instances" in first:
        return _read_mmpose_frames(path, data, "", fps, image_size)
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


def _read_openpose_folder(folder: Path, fps, image_size) -> Keypoints2D:
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
    return _from_people_frames(folder, pages, fps, image_size)


def _from_people_frames(path: Path, pages: list[tuple[Path, Any]], fps, image_size) -> Keypoints2D:
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


def _points_json(a: np.ndarray) -> list:
    """(..., 3) array -> nested lists with null where x/y are NaN."""
    return [[None if np.isnan(v) else v for v in row] for row in a.reshape(-1, a.shape[-1]).tolist()]


def _frames_text(a: np.ndarray, indent: str) -> str:
    # One frame per line keeps files diff-able without one number per line.
    k = a.shape[1]
    lines = []
    for frame in a:
        pts = _points_json(frame)
        assert len(pts) == k
        lines.append(indent + "  " + json.dumps(pts, allow_nan=False, separators=(",", ":")))
    return "[\n" + ",\n".join(lines) + "\n" + indent + "]"


def keypoints_to_json_text(kp: Keypoints2D) -> str:
    """The ``anylift.keypoints/1`` JSON text of ``kp`` (revalidated first)."""
    # Arrays are mutable: check again what is about to be written.
    body = check_keypoint_values(kp.keypoints, path=kp.path, field="keypoints")
    _check_shape(body, (None, 17, 3), path=kp.path, field="keypoints")
    head = {
        "format": FORMAT,
        "skeleton": "coco17",
        "fps": check_fps(kp.fps, path=kp.path),
        "image_size": None if kp.image_size is None else list(check_image_size(kp.image_size, path=kp.path)),
    }
    parts = [f'  "{k}": {json.dumps(v, allow_nan=False)}' for k, v in head.items()]
    parts.append(f'  "keypoints": {_frames_text(body, "  ")}')
    if kp.objects:
        objs = []
        for i, o in enumerate(kp.objects):
            okp = check_keypoint_values(o.keypoints, path=kp.path, field=f"objects[{i}].keypoints")
            if okp.shape[0] != body.shape[0]:
                raise InputError(
                    f"has {okp.shape[0]} frames",
                    path=kp.path,
                    field=f"objects[{i}].keypoints",
                    expected=f"{body.shape[0]} frames",
                )
            fields = [f'"name": {json.dumps(o.name)}', f'"category": {json.dumps(o.category)}']
            if o.canonical is not None:
                check_finite(o.canonical, path=kp.path, field=f"objects[{i}].canonical")
                fields.append(f'"canonical": {json.dumps(np.asarray(o.canonical).tolist())}')
            fields.append(f'"keypoints": {_frames_text(okp, "    ")}')
            objs.append("    {" + ", ".join(fields) + "}")
        parts.append('  "objects": [\n' + ",\n".join(objs) + "\n  ]")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_keypoints(path: str | os.PathLike, kp: Keypoints2D) -> None:
    """Write ``kp`` as ``anylift.keypoints/1`` JSON (skeleton coco17; null x/y where score is 0).

    Atomic: on any error the destination is left as it was.
    """
    text = keypoints_to_json_text(kp)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
