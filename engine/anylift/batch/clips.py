"""The clips of a batch folder, their shards, and which of them already have valid outputs.

A clip is a video (:data:`MOVIE_SUFFIXES`), a keypoints file (``*.json`` / ``*.npz``, any format
``read_keypoints`` reads) or an OpenPose folder (a sub-folder holding ``*_keypoints.json``) inside
the batch folder. Its name is the file's stem without a trailing ``_keypoints``; a video and a
keypoints file of the same name are one clip (its keypoints are not detected again). Its camera,
when there is one, is ``<name>_camera.(json|npz)`` beside it or ``<name>.(json|npz|txt)`` /
``<name>_camera.*`` in the ``--camera`` folder (the names ``anylift detect`` / ``anylift camera``
and the Blender batch write).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anylift.errors import InputError

KEYPOINT_SUFFIXES = (".json", ".npz")
CAMERA_SUFFIXES = (".json", ".npz", ".txt")
MOVIE_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".ogv")


@dataclass(frozen=True)
class Clip:
    """One clip: ``name``, its ``keypoints`` file or folder (None: detected from the video), its
    ``camera`` file or None, its ``video`` or None."""

    name: str
    keypoints: Path | None
    camera: Path | None
    video: Path | None = None


def _clip_name(path: Path) -> str:
    stem = path.name if path.is_dir() else path.stem
    return stem[: -len("_keypoints")] if stem.endswith("_keypoints") and len(stem) > 10 else stem


def _is_openpose_folder(path: Path) -> bool:
    """A folder of OpenPose per-frame ``*_keypoints.json`` files (not of anylift keypoints files)."""
    if not path.is_dir():
        return False
    frames = [p for p in path.iterdir() if p.name.endswith("_keypoints.json")]
    return bool(frames) and not any(_is_anylift_keypoints(p) for p in frames)


def _is_anylift_keypoints(path: Path) -> bool:
    with open(path, "rb") as f:
        return b"anylift.keypoints" in f.read(256)


def find_clips(folder: str | os.PathLike, camera: str | os.PathLike | None = None) -> list[Clip]:
    """The clips of ``folder``, sorted by name (the stable order shards are cut from).

    Args:
        folder: the batch folder.
        camera: a folder of cameras named after the clips, or None.

    Raises:
        InputError: the folder is missing, is itself one OpenPose clip, holds no clip, or two
            entries give the same clip name.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("is not a folder", path=folder, field="FOLDER", expected="a folder of clips")
    if _is_openpose_folder(folder):
        raise InputError(
            "is one OpenPose clip, not a folder of clips", path=folder, field="FOLDER",
            fix="Lift it with `anylift lift`, or give the folder that holds it",
        )  # fmt: skip
    cameras_dir = None if camera is None else Path(camera)
    if cameras_dir is not None and not cameras_dir.is_dir():
        raise InputError(
            "is not a folder", path=cameras_dir, field="--camera", expected="a folder of cameras"
        )
    entries = sorted(folder.iterdir())
    beside = {
        p.stem[: -len("_camera")]: p
        for p in entries
        if p.is_file() and p.suffix.lower() in CAMERA_SUFFIXES and p.stem.endswith("_camera")
    }
    keypoints: dict[str, Path] = {}
    videos: dict[str, Path] = {}
    for path in entries:
        if path.name.startswith("."):
            continue
        found = keypoints
        if path.is_file() and path.suffix.lower() in MOVIE_SUFFIXES:
            found = videos
        elif path.is_file():
            if path.suffix.lower() not in KEYPOINT_SUFFIXES or path.stem.endswith("_camera"):
                continue
        elif not _is_openpose_folder(path):
            continue
        name = path.stem if found is videos else _clip_name(path)
        if name in found:
            raise InputError(
                f"two clips are named '{name}' ({found[name].name}, {path.name})", path=folder,
                fix="Rename one of them",
            )  # fmt: skip
        found[name] = path
    if not keypoints and not videos:
        raise InputError(
            "holds no clip", path=folder, field="FOLDER",
            expected="videos (" + ", ".join(MOVIE_SUFFIXES) + "), keypoints files (*.json, *.npz) or "
            "OpenPose folders",
        )  # fmt: skip
    return [
        Clip(name, keypoints.get(name), _camera_for(name, cameras_dir) or beside.get(name), videos.get(name))
        for name in sorted({*keypoints, *videos})
    ]


def _camera_for(name: str, folder: Path | None) -> Path | None:
    if folder is None:
        return None
    for stem in (name, f"{name}_camera"):
        for suffix in CAMERA_SUFFIXES:
            path = folder / f"{stem}{suffix}"
            if path.is_file():
                return path
    return None


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 0 <= I < N.

    Raises:
        InputError: not of that form.
    """
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        index, count = -1, 0
    if count < 1 or not 0 <= index < count:
        raise InputError(f"is {text!r}", field="--shard", expected="I/N with 0 <= I < N, e.g. 0/4")
    return index, count


def select_shard(clips: list[Clip], shard: tuple[int, int] | None) -> list[Clip]:
    """This worker's share: every N-th clip from the I-th, in name order (all with ``None``)."""
    if shard is None:
        return list(clips)
    index, count = shard
    ordered = sorted(clips, key=lambda c: c.name)
    return ordered[index::count]


def valid_outputs(paths: list[Path] | None) -> bool:
    """Whether every one of ``paths`` holds a readable result (False for None or none)."""
    return bool(paths) and all(valid_output(p) for p in paths)


def valid_output(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds a readable ``anylift.motion/1`` result (resume skips its clip)."""
    from anylift.io.motion import read_motion

    return read_or_none(read_motion, path) is not None


def read_or_none(read: Callable[[Path], Any], path: str | os.PathLike) -> Any:
    """``read(path)``, or None where the file is missing or not valid (an earlier run's output)."""
    try:
        return read(path)
    except (InputError, OSError, ValueError):
        return None
