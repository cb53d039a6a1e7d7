"""Camera trajectories: the :class:`Camera` container, its readers and its writer.

Conventions: OpenCV camera frames (x right, y down, z forward); ``world_to_camera[t]`` maps
world points (the file's units, metres when known) into frame t's camera frame; pixels have
their origin at the image's top-left corner.

Read (``read_camera``):

- ``anylift.camera/1`` JSON (``docs/formats.md``), with its optional ``"image_size": [W, H]``,
  so a camera keeps its resolution through a file.
- MegaSaM-style ``.npz``: ``cam_c2w`` (T, 4, 4) camera-to-world and ``K`` (3, 3) (MegaSaM
  itself names it ``intrinsic``; both are accepted).
- COLMAP text model: a folder holding ``cameras.txt`` and ``images.txt``, or either file's
  path. Frames are the images in natural name order (``frame2`` before ``frame10``).
  Camera models PINHOLE, SIMPLE_PINHOLE, SIMPLE_RADIAL, RADIAL and OPENCV are read; their
  distortion coefficients are **ignored** (we keep fx, fy, cx, cy only), so undistort the
  keypoints or use a PINHOLE model when the lens distortion matters. All images must share
  one set of intrinsics.

Rotations must be proper (det +1) and orthonormal within
:data:`anylift.io.fields.ROTATION_TOLERANCE` (1e-4: float32 poses from SLAM pass); they are
kept as given, not re-orthonormalised, so results stay in the file's exact world.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from anylift.errors import InputError
from anylift.io.atomic import atomic_path
from anylift.io.fields import (
    MAX_FOCAL_PIXELS,
    MAX_JSON_BYTES,
    MAX_PIXEL_COORD,
    MIN_FOCAL_PIXELS,
    check_finite,
    check_format,
    check_frame_count,
    check_image_size,
    check_rigid,
    json_array,
    json_number,
    load_json,
    load_npz,
    natural_key,
    npz_array,
    require_exists,
    require_key,
    require_regular_file,
    safe_norm,
)

FORMAT = "anylift.camera/1"


def check_intrinsics(K: Any, *, path: str | os.PathLike | None, field: str = "K") -> np.ndarray:
    """Check a (3, 3) pinhole matrix ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``; return it as float64.

    Skew must be 0 (the camera format has no field for it); fx, fy > 0.
    """
    K = np.array(K, dtype=np.float64)
    if K.shape != (3, 3):
        raise InputError(f"has shape {K.shape}", path=path, field=field, expected="shape (3, 3)")
    check_finite(K, path=path, field=field)
    off = np.array([K[0, 1], K[1, 0], K[2, 0], K[2, 1], K[2, 2] - 1.0])
    if np.abs(off).max() > 1e-9:
        raise InputError(
            f"is {K.tolist()}",
            path=path,
            field=field,
            expected="[[fx, 0, cx], [0, fy, cy], [0, 0, 1]] (no skew)",
        )
    if not (
        MIN_FOCAL_PIXELS <= K[0, 0] <= MAX_FOCAL_PIXELS and MIN_FOCAL_PIXELS <= K[1, 1] <= MAX_FOCAL_PIXELS
    ):
        raise InputError(
            f"has fx = {K[0, 0]:.6g}, fy = {K[1, 1]:.6g}",
            path=path,
            field=field,
            expected=f"positive focal lengths, {MIN_FOCAL_PIXELS:g} to {MAX_FOCAL_PIXELS:g} pixels",
        )
    if max(abs(K[0, 2]), abs(K[1, 2])) > MAX_PIXEL_COORD:
        raise InputError(
            f"has cx = {K[0, 2]:.6g}, cy = {K[1, 2]:.6g}",
            path=path,
            field=field,
            expected=f"a principal point within +-{MAX_PIXEL_COORD:g} pixels",
        )
    K[0, 1] = K[1, 0] = K[2, 0] = K[2, 1] = 0.0
    K[2, 2] = 1.0
    return K


@dataclass(eq=False)
class Camera:
    """A pinhole camera over T frames, validated at construction.

    Attributes:
        K: (3, 3) float64 intrinsics, pixels.
        world_to_camera: (T, 4, 4) float64 rigid transforms (proper rotations).
        up: (3,) unit world up direction, or None (then frame 0's camera -y axis is up).
        image_size: (W, H) pixels, or None when unknown.
        path: the file it was read from (named in error messages), or None.
    """

    K: np.ndarray
    world_to_camera: np.ndarray
    up: np.ndarray | None = None
    image_size: tuple[int, int] | None = None
    path: str | None = None

    def __post_init__(self) -> None:
        self.path = None if self.path is None else os.fspath(self.path)
        self.K = check_intrinsics(self.K, path=self.path)
        w2c = np.array(self.world_to_camera, dtype=np.float64)
        check_rigid(w2c, path=self.path, field="world_to_camera")
        self.world_to_camera = w2c
        if self.up is not None:
            self.up = _check_up(self.up, path=self.path)
        self.image_size = check_image_size(self.image_size, path=self.path)

    @property
    def num_frames(self) -> int:
        """T."""
        return self.world_to_camera.shape[0]

    def camera_to_world(self) -> np.ndarray:
        """(T, 4, 4) float64 inverse of ``world_to_camera`` (camera poses in the world)."""
        return np.linalg.inv(self.world_to_camera)


def _check_up(up: Any, *, path) -> np.ndarray:
    up = np.array(up, dtype=np.float64)
    if up.shape != (3,):
        raise InputError(f"has shape {up.shape}", path=path, field="up", expected="3 numbers")
    check_finite(up, path=path, field="up")
    norm = safe_norm(up)
    if norm < 1e-9:
        raise InputError("is the zero vector", path=path, field="up", expected="a non-zero direction")
    return up / norm


def static_camera(num_frames: int, image_size: tuple[int, int]) -> Camera:
    """A camera that does not move: world = camera frame, fx = fy = max(W, H), centre (W/2, H/2).

    Args:
        num_frames: T >= 1.
        image_size: (W, H) pixels.
    """
    if isinstance(num_frames, bool) or not isinstance(num_frames, int | np.integer) or num_frames < 1:
        raise InputError(f"is {num_frames!r}", field="num_frames", expected="a whole number >= 1")
    size = check_image_size(image_size, path=None)
    if size is None:
        raise InputError("is None", field="image_size", expected="[width, height] in pixels")
    w, h = size
    f = float(max(w, h))
    K = np.array([[f, 0.0, w / 2.0], [0.0, f, h / 2.0], [0.0, 0.0, 1.0]])
    return Camera(K=K, world_to_camera=np.tile(np.eye(4), (int(num_frames), 1, 1)), image_size=size)


def check_frames_match(kp: Any, cam: Camera) -> None:
    """InputError naming both files when keypoints and camera have different frame counts.

    Args:
        kp: an :class:`anylift.io.keypoints.Keypoints2D`.
        cam: the camera for the same video.
    """
    if kp.num_frames != cam.num_frames:
        kp_name = kp.path or "the keypoints"
        cam_name = cam.path or "the camera"
        raise InputError(
            f"the camera has {cam.num_frames} frames but the keypoints {kp_name} have {kp.num_frames}",
            path=cam.path,
            field="world_to_camera",
            expected=f"one camera pose per keypoint frame ({kp.num_frames})",
            fix=f"Export {cam_name} and {kp_name} from the same frame range",
        )


# ---------------------------------------------------------------------------------------------
# Reading


def read_camera(path: str | os.PathLike) -> Camera:
    """Read a camera trajectory: anylift JSON, MegaSaM ``.npz`` or COLMAP text (folder or file).

    Raises:
        InputError: missing, unreadable or malformed file; the message names file and field.
    """
    path = Path(path)
    require_exists(path)
    if path.is_dir():
        if path.suffix.lower() in (".json", ".npz", ".txt"):
            raise InputError(
                f"is a folder, though its name ends in {path.suffix}",
                path=path,
                expected="a camera file, or a COLMAP folder holding cameras.txt and images.txt",
                fix="Pass the camera file inside it, or rename the folder",
            )
        if not (path / "cameras.txt").exists() and not (path / "images.txt").exists():
            found = sorted(p.name for p in path.glob("*camera*.json") if p.is_file())[:3]
            raise InputError(
                "cameras.txt not found in it (nor images.txt)",
                path=path,
                expected="a camera file, or a COLMAP folder holding cameras.txt and images.txt",
                fix=f"Pass the camera file itself (e.g. {found[0]})" if found else None,
            )
        return _read_colmap(path / "cameras.txt", path / "images.txt", path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _read_anylift(path)
    if suffix == ".npz":
        return _read_megasam(path)
    if path.name == "cameras.txt":
        return _read_colmap(path, path.with_name("images.txt"), path)
    if path.name == "images.txt":
        return _read_colmap(path.with_name("cameras.txt"), path, path)
    raise InputError(
        f"unknown camera file type {path.name!r}",
        path=path,
        expected="an anylift .json, a MegaSaM .npz, or COLMAP cameras.txt/images.txt (or their folder)",
    )


def _read_anylift(path: Path) -> Camera:
    data = load_json(path)
    check_format(data, FORMAT, path)
    intr = require_key(data, "intrinsics", path)
    fx, fy, cx, cy = (
        json_number(require_key(intr, k, path, "intrinsics."), path=path, field=f"intrinsics.{k}")
        for k in ("fx", "fy", "cx", "cy")
    )
    for k, v in (("fx", fx), ("fy", fy)):
        if not MIN_FOCAL_PIXELS <= v <= MAX_FOCAL_PIXELS:
            raise InputError(
                f"is {v:.6g}",
                path=path,
                field=f"intrinsics.{k}",
                expected=f"a positive focal length, {MIN_FOCAL_PIXELS:g} to {MAX_FOCAL_PIXELS:g} pixels",
            )
    for k, v in (("cx", cx), ("cy", cy)):
        if abs(v) > MAX_PIXEL_COORD:
            raise InputError(
                f"is {v:.6g}",
                path=path,
                field=f"intrinsics.{k}",
                expected=f"a principal point within +-{MAX_PIXEL_COORD:g} pixels",
            )
    raw_w2c = require_key(data, "world_to_camera", path)
    if isinstance(raw_w2c, list):
        check_frame_count(len(raw_w2c), path=path, field="world_to_camera")
    w2c = json_array(raw_w2c, path=path, field="world_to_camera", shape=(None, 4, 4))
    check_rigid(w2c, path=path, field="world_to_camera")
    up = data.get("up")
    if up is not None:
        up = _check_up(json_array(up, path=path, field="up", shape=(3,)), path=path)
    image_size = check_image_size(data.get("image_size"), path=path)
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    return Camera(K=K, world_to_camera=w2c, up=up, image_size=image_size, path=str(path))


def _read_megasam(path: Path) -> Camera:
    arrays = load_npz(path)
    c2w = npz_array(arrays, "cam_c2w", path=path, shape=(None, 4, 4))
    check_frame_count(c2w.shape[0], path=path, field="cam_c2w")
    check_rigid(c2w, path=path, field="cam_c2w")
    key = "K" if "K" in arrays or "intrinsic" not in arrays else "intrinsic"
    K = check_intrinsics(npz_array(arrays, key, path=path, shape=(3, 3)), path=path, field=key)
    return Camera(K=K, world_to_camera=np.linalg.inv(c2w), path=str(path))


_COLMAP_MODELS = {
    # model: (number of params, indices of fx, fy, cx, cy in params)
    "SIMPLE_PINHOLE": (3, (0, 0, 1, 2)),
    "PINHOLE": (4, (0, 1, 2, 3)),
    "SIMPLE_RADIAL": (4, (0, 0, 1, 2)),
    "RADIAL": (5, (0, 0, 1, 2)),
    "OPENCV": (8, (0, 1, 2, 3)),
}


def _quaternion_matrix(q: np.ndarray) -> np.ndarray:
    """(4,) w, x, y, z (normalised here) -> (3, 3). numpy only: the Blender add-on reads cameras
    inside Blender, whose Python has no scipy."""
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def _colmap_lines(path: Path) -> list[tuple[int, str]]:
    require_regular_file(path)
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise InputError(
                f"is {path.stat().st_size / 2**30:.1f} GiB",
                path=path,
                expected=f"a COLMAP text file of at most {MAX_JSON_BYTES >> 30} GiB",
            )
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError, MemoryError) as e:
        raise InputError(f"cannot read as text ({e})", path=path, expected="a COLMAP text file") from None
    return list(enumerate(text.splitlines(), start=1))


def _read_colmap(cameras_txt: Path, images_txt: Path, origin: Path) -> Camera:
    if not cameras_txt.exists() or not images_txt.exists():
        missing = cameras_txt if not cameras_txt.exists() else images_txt
        raise InputError(
            f"{missing.name} not found next to it",
            path=origin,
            expected="a COLMAP text model: cameras.txt and images.txt in the same folder",
        )
    cameras: dict[int, tuple[np.ndarray, tuple[int, int]]] = {}
    for n, line in _colmap_lines(cameras_txt):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        field = f"line {n}"
        parts = line.split()
        if len(parts) < 4:
            raise InputError(
                f"has {len(parts)} entries",
                path=cameras_txt,
                field=field,
                expected="CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]",
            )
        model = parts[1]
        if model not in _COLMAP_MODELS:
            raise InputError(
                f"camera model {model!r}",
                path=cameras_txt,
                field=field,
                expected="one of " + ", ".join(_COLMAP_MODELS),
            )
        count, (ifx, ify, icx, icy) = _COLMAP_MODELS[model]
        try:
            cam_id, width, height = int(parts[0]), int(parts[2]), int(parts[3])
            params = [float(p) for p in parts[4:]]
        except ValueError:
            raise InputError(
                f"is {line!r}",
                path=cameras_txt,
                field=field,
                expected="CAMERA_ID MODEL WIDTH HEIGHT PARAMS[] as numbers",
            ) from None
        if len(params) != count:
            raise InputError(
                f"{model} has {len(params)} parameters",
                path=cameras_txt,
                field=field,
                expected=f"{count} parameters for {model}",
            )
        K = np.array([[params[ifx], 0, params[icx]], [0, params[ify], params[icy]], [0, 0, 1.0]])
        K = check_intrinsics(K, path=cameras_txt, field=field)
        size = check_image_size([width, height], path=cameras_txt, field=f"{field} (width, height)")
        cameras[cam_id] = (K, size)

    entries: list[tuple[str, np.ndarray, int, int]] = []
    lines = _colmap_lines(images_txt)
    i = 0
    while i < len(lines):
        n, line = lines[i]
        i += 1
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        # Every image line is followed by its POINTS2D line, which may be empty.
        i += 1
        field = f"line {n}"
        parts = line.split(maxsplit=9)
        if len(parts) != 10:
            raise InputError(
                f"has {len(parts)} entries",
                path=images_txt,
                field=field,
                expected="IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME",
            )
        try:
            q = np.array([float(v) for v in parts[1:5]])
            t = np.array([float(v) for v in parts[5:8]])
            cam_id = int(parts[8])
        except ValueError:
            raise InputError(
                f"is {line!r}",
                path=images_txt,
                field=field,
                expected="IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME",
            ) from None
        check_finite(np.concatenate([q, t]), path=images_txt, field=f"{field} (QW..TZ)")
        if abs(safe_norm(q) - 1.0) > 1e-3:
            raise InputError(
                f"quaternion has norm {safe_norm(q):.4g}",
                path=images_txt,
                field=field,
                expected="a unit quaternion QW QX QY QZ",
            )
        if cam_id not in cameras:
            raise InputError(
                f"uses camera {cam_id}, which {cameras_txt.name} lacks",
                path=images_txt,
                field=field,
                expected="a CAMERA_ID listed in cameras.txt",
            )
        m = np.eye(4)
        m[:3, :3] = _quaternion_matrix(q)
        m[:3, 3] = t
        entries.append((parts[9].strip(), m, cam_id, n))

    if not entries:
        raise InputError("lists no images", path=images_txt, expected="at least one registered image")
    check_frame_count(len(entries), path=images_txt, field="images")
    entries.sort(key=lambda e: natural_key(e[0]))
    names = [e[0] for e in entries]
    if len(set(names)) != len(names):
        dup = next(nm for nm in names if names.count(nm) > 1)
        raise InputError(f"image {dup!r} is listed twice", path=images_txt, expected="unique image names")
    used = sorted({e[2] for e in entries})
    K, size = cameras[used[0]]
    for cid in used[1:]:
        K2, size2 = cameras[cid]
        if not np.allclose(K, K2) or size != size2:
            raise InputError(
                f"images use cameras {used[0]} and {cid}, whose intrinsics differ",
                path=cameras_txt,
                expected="one camera (shared intrinsics) for the whole video",
            )
    w2c = np.stack([e[1] for e in entries])
    return Camera(K=K, world_to_camera=w2c, image_size=size, path=str(origin))


# ---------------------------------------------------------------------------------------------
# Writing


def camera_to_json_text(cam: Camera) -> str:
    """The ``anylift.camera/1`` JSON text of ``cam`` (revalidated first)."""
    K = check_intrinsics(cam.K, path=cam.path)
    w2c = np.array(cam.world_to_camera, dtype=np.float64)
    check_rigid(w2c, path=cam.path, field="world_to_camera")
    intr = {"fx": K[0, 0], "fy": K[1, 1], "cx": K[0, 2], "cy": K[1, 2]}
    parts = [
        f'  "format": "{FORMAT}"',
        f'  "intrinsics": {json.dumps({k: float(v) for k, v in intr.items()})}',
    ]
    # One frame per line.
    frames = ",\n".join("    " + json.dumps(m.tolist(), allow_nan=False) for m in w2c)
    parts.append(f'  "world_to_camera": [\n{frames}\n  ]')
    if cam.up is not None:
        parts.append(f'  "up": {json.dumps(_check_up(cam.up, path=cam.path).tolist())}')
    size = check_image_size(cam.image_size, path=cam.path)
    if size is not None:
        parts.append(f'  "image_size": {json.dumps(list(size))}')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_camera(path: str | os.PathLike, cam: Camera) -> None:
    """Write ``cam`` as ``anylift.camera/1`` JSON (plus ``image_size`` when known). Atomic."""
    text = camera_to_json_text(cam)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
