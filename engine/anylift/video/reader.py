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
- Variable frame rate (phones drop and hold frames, change rate in low light; screen
  recordings): each frame's presentation time is read from the container as it is decoded, and
  after a complete pass :attr:`VideoReader.frame_times` gives them where the rate is not regular
  (the keypoints file's ``frame_times``, which the lift resamples by); None for steady footage.

The frame count a container reports is only an estimate (used for progress); the frames
actually read are what count. A file OpenCV cannot open, or one without a single decodable
frame, raises :class:`~anylift.errors.InputError` naming the file.
"""

from __future__ import annotations

import itertools
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
VARIABLE_RATE = 0.25
"""A frame interval this far (fraction) from the median one, or a mean rate over 1 % off the
container's, makes the footage variable-rate (:attr:`VideoReader.frame_times`); a steady 29.97 fps
file's millisecond timestamps vary by 3 %, a dropped or held frame by 100 %."""


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


def shrunk_size(size: tuple[int, int], scale: float) -> tuple[tuple[int, int], np.ndarray]:
    """A (W, H) image's size scaled by ``scale`` <= 1, and the (x, y) scale it gets (sizes round)."""
    w, h = size
    new = (w, h) if scale >= 1.0 else (max(round(w * scale), 1), max(round(h * scale), 1))
    return new, np.array(new, dtype=float) / (w, h)


def shrunk(image: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``image`` scaled by ``scale`` <= 1 and the (x, y) scale it got: halved by averaging while
    that is still at least the size asked for, then interpolated (averaging by a factor that is
    not whole took 19 ms for a 4K frame, this 3)."""
    size, got = shrunk_size((image.shape[1], image.shape[0]), scale)
    while image.shape[1] // 2 >= size[0] and image.shape[0] // 2 >= size[1]:
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if (image.shape[1], image.shape[0]) != size:
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    return image, got


class VideoReader:
    """Frames of a movie file or image folder, read one at a time (use :func:`open_video`).

    Iterating yields (H, W, 3) uint8 BGR upright frames; it can be iterated more than once
    (each pass reopens the source).
    """

    def __init__(self, path: str | os.PathLike, fps: float | None = None) -> None:
        self.path = Path(path)
        self._rate_given = fps is not None
        self._times: np.ndarray | None = None
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

    @property
    def frame_times(self) -> np.ndarray | None:
        """(T,) seconds from the first frame of the frames the last complete pass read, where the
        container's timestamps show a variable rate (:data:`VARIABLE_RATE`); None where frame t is
        at t / fps: steady footage, image folders, a rate given by the caller, or timestamps that
        are missing or not increasing (then the container's rate is all there is)."""
        t = self._times
        if self._rate_given or t is None or len(t) < 3 or not np.isfinite(t).all():
            return None
        t = t - t[0]
        dt = np.diff(t)
        if not (dt > 0).all():
            return None
        median = float(np.median(dt))
        steady = np.abs(dt - median).max() <= VARIABLE_RATE * median
        if steady and abs((len(t) - 1) / t[-1] / self.fps - 1.0) <= 0.01:
            return None
        return t

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
        times, self._times = [], None
        try:
            while True:
                ok, frame = cap.read()
                if not ok or frame is None:
                    break
                times.append(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
                yield upright(frame, rotation)
            self._times = np.asarray(times, dtype=np.float64)  # a complete pass only
        finally:
            cap.release()


class FrameRange:
    """Frames ``start`` to ``stop - 1`` of a :class:`VideoReader` (one shot of an edited video:
    :mod:`anylift.video.cuts`), read like a whole video; the frames before are decoded and
    dropped."""

    def __init__(self, reader: VideoReader, start: int, stop: int) -> None:
        self.reader, self.start, self.stop = reader, int(start), int(stop)
        self.path, self.info = reader.path, reader.info

    @property
    def image_size(self) -> tuple[int, int]:
        return self.reader.image_size

    @property
    def fps(self) -> float:
        return self.reader.fps

    def __len__(self) -> int:
        return max(min(self.stop, len(self.reader)) - self.start, 0)

    def __iter__(self) -> Iterator[np.ndarray]:
        return itertools.islice(iter(self.reader), self.start, self.stop)


def open_video(
    path: str | os.PathLike, fps: float | None = None, frames: tuple[int, int] | None = None
) -> VideoReader | FrameRange:
    """Open a movie file or image folder for streaming (``fps`` overrides the file's rate;
    ``frames``: only frames ``start`` to ``stop - 1``, :class:`FrameRange`)."""
    reader = VideoReader(path, fps)
    return reader if frames is None else FrameRange(reader, *frames)
