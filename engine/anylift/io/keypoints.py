"""2D keypoints: the :class:`Keypoints2D` container, its readers and its writer.

Read (``read_keypoints``), each converted to COCO-17 (``anylift.skeletons``):

- ``anylift.keypoints/1`` JSON (``docs/formats.md``), with optional ``objects``;
- ``.npz`` with ``keypoints`` (T, K, 3), ``fps`` (), ``image_size`` (2,) and optional
  ``skeleton`` () str (otherwise inferred from K);
- the pose detectors' layouts (MMPose / RTMPose / ViTPose JSON, COCO results, OpenPose), read by
  :mod:`anylift.io.detector_keypoints`, which follows one person.

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
    json_array,
    load_json,
    load_npz,
    npz_array,
    npz_string,
    require_exists,
    require_key,
    shape_text,
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
        person: the track id of these keypoints in a several-people file (formats.md), or None.
        detector: the 2D detector that found them (``"mediapipe"`` from ``anylift detect``), or None
            when unknown; the placement allows for how that detector draws the body's bones
            (:data:`anylift.lifting.scale.DETECTOR_BONE_FACTORS`).
    """

    keypoints: np.ndarray
    fps: float
    image_size: tuple[int, int] | None
    objects: list[ObjectTrack] = field(default_factory=list)
    source_skeleton: str = "coco17"
    path: str | None = None
    person: int | None = None
    detector: str | None = None

    def __post_init__(self) -> None:
        self.path = None if self.path is None else os.fspath(self.path)
        path = self.path
        if self.detector is not None and (not isinstance(self.detector, str) or not self.detector):
            raise InputError(
                f"is {self.detector!r}",
                path=path,
                field="detector",
                expected='a name such as "mediapipe", or null',
            )
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
    from anylift.io.detector_keypoints import (  # the detectors' layouts (they import this module)
        from_people_frames,
        read_list_layout,
        read_mmpose_frames,
        read_openpose_folder,
    )

    path = Path(path)
    require_exists(path)
    if fps is not None:
        fps = check_fps(fps, path=path, field="fps argument")
    if image_size is not None:
        image_size = check_image_size(image_size, path=path, field="image_size argument")
    if path.is_dir():
        return read_openpose_folder(path, fps, image_size)
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
        return from_people_frames(path, [(path, data)], fps, image_size)
    if isinstance(data, dict) and "instance_info" in data and "format" not in data:
        return read_mmpose_frames(path, data["instance_info"], "instance_info", fps, image_size)
    if isinstance(data, list):
        return read_list_layout(path, data, fps, image_size)
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
        detector=data.get("detector"),
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
    if kp.detector is not None:
        head["detector"] = kp.detector
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
