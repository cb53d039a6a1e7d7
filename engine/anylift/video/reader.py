"""Streaming video frames with OpenCV: movie files and image folders, upright.

:func:`open_video` returns a :class:`VideoReader` whose iteration yields one frame at a time
(``(H, W, 3)`` uint8 BGR, OpenCV's order), so memory does not grow with the clip's length.

- Movie files (mp4, mov, avi, mkv, ...): read with ``cv2.VideoCapture``. Phone videos store
  their rotation as metadata (the track's display matrix); we turn OpenCV's automatic rotation
  off and rotate each frame ourselves by ``CAP_PROP_ORIENTATION_META`` (0/90/180/270 degrees
  clockwise), so the behaviour does not depend on the OpenCV build. Where the backend cannot
  turn automatic rotation off, its frames are taken as they come.
- Image folders: every ``.png/.jpg/.jpeg/.bmp/.tif/.tiff/.webp`` file in natural name order
  (``frame2`` before ``frame10``); frame rate 30 fps unless given.

The frame count a container reports is only an estimate (used for progress); the frames
actually read are what count. A file OpenCV cannot open, or one without a single decodable
frame, raises :class:`~anylift.errors.InputError` naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anylift.errors import InputError
from anylift.io.fields import natural_key

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
DEFAULT_FPS = 30.0
_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
_EXPECTED = "a video OpenCV can read (mp4, mov, avi, mkv, ...) or a folder of images"


@dataclass(frozen=True)
class VideoInfo:
    """What is known about a video before reading it.

    Attributes:
        path: the file or folder.
        image_size: (W, H) pixels of the upright frames.
        fps: frames per second.
        num_frames: frame count reported by the container (an estimate for some codecs).
        rotation: clockwise degrees applied to make frames upright (0, 90, 180, 270).
    """

    path: str
    image_size: tuple[int, int]
    fps: float
    num_frames: int
    rotation: int = 0


def upright(frame: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate a (H, W, C) frame clockwise by ``rotation`` degrees (0, 90, 180 or 270)."""
    rotation = int(rotation) % 360
    return frame if rotation == 0 else cv2.rotate(frame, _ROTATE[rotation])


class VideoReader:
    """Frames of a movie file or image folder, read one at a time (use :func:`open_video`).

    Iterating yields (H, W, 3) uint8 BGR upright frames; it can be iterated more than once
    (each pass reopens the source).
    """

    def __init__(self, path: str | os.PathLike, fps: float | None = None) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise InputError("file not found", path=self.path, expected=_EXPECTED)
        self._images: list[Path] | None = None
        if self.path.is_dir():
            self._images = sorted(
                (p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                key=lambda p: natural_key(p.name),
            )
            if not self._images:
                raise InputError(
                    "folder holds no images",
                    path=self.path,
                    expected="image files (" + ", ".join(IMAGE_SUFFIXES) + ") or a video file",
                )
            first = self._read_image(self._images[0])
            h, w = first.shape[:2]
            self.info = VideoInfo(os.fspath(self.path), (w, h), float(fps or DEFAULT_FPS), len(self._images))
            return
        cap, rotation = self._open()
        try:
            ok, frame = cap.read()
            if not ok or frame is None or frame.size == 0:
                raise InputError("no frame could be decoded (empty or corrupt video)", path=self.path,
                                 expected=_EXPECTED)  # fmt: skip
            frame = upright(frame, rotation)
            h, w = frame.shape[:2]
            rate = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        finally:
            cap.release()
        if fps is not None:
            rate = float(fps)
        if not np.isfinite(rate) or rate <= 0 or rate > 1000:
            rate = DEFAULT_FPS
        self.info = VideoInfo(os.fspath(self.path), (w, h), rate, max(count, 1), rotation)

    def _read_image(self, path: Path) -> np.ndarray:
        frame = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
        if frame is None:
            raise InputError("cannot be read as an image", path=path, expected="a PNG/JPEG/... image")
        return frame

    def _open(self) -> tuple[cv2.VideoCapture, int]:
        cap = cv2.VideoCapture(os.fspath(self.path))
        if not cap.isOpened():
            cap.release()
            raise InputError("cannot be opened as a video", path=self.path, expected=_EXPECTED)
        rotation = 0
        # Only rotate ourselves when OpenCV agreed not to: otherwise frames would turn twice.
        if cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0.0):
            rotation = round(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
            if rotation not in (0, 90, 180, 270):
                rotation = 0
        return cap, rotation

    @property
    def image_size(self) -> tuple[int, int]:
        return self.info.image_size

    @property
    def fps(self) -> float:
        return self.info.fps

    def __len__(self) -> int:
        """The container's frame count (an estimate for some codecs)."""
        return self.info.num_frames

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._images is not None:
            size = self.info.image_size
            for p in self._images:
                frame = self._read_image(p)
                if (frame.shape[1], frame.shape[0]) != size:
                    raise InputError(
                        f"is {frame.shape[1]}x{frame.shape[0]} pixels", path=p,
                        expected=f"{size[0]}x{size[1]} like the folder's first image",
                    )  # fmt: skip
                yield frame
            return
        cap, rotation = self._open()
        try:
            while True:
                ok, frame = cap.read()
                if not ok or frame is None:
                    break
                yield upright(frame, rotation)
        finally:
            cap.release()


def open_video(path: str | os.PathLike, fps: float | None = None) -> VideoReader:
    """Open a movie file or image folder for streaming (``fps`` overrides the file's rate)."""
    return VideoReader(path, fps)
