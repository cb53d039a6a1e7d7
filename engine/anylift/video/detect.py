"""2D keypoints of a video's main person, and the MediaPipe pieces the tracker shares.

:func:`detect_keypoints` is the default person (longest, largest, most central) of
:func:`anylift.video.people.detect_people`, the tracker ``anylift detect`` and the add-on run:
MediaPipe Pose (``mediapipe==0.10.14``, the "full" landmark model that ships inside the wheel:
nothing is downloaded) on an upscaled crop around each tracked person, its 33 landmarks as
COCO-17 (:func:`anylift.skeletons.to_coco17`; MediaPipe's per-landmark ``visibility`` is the
score), each track cleaned by :mod:`anylift.video.tracking`. Up to the eighth session this
function ran MediaPipe's own whole-frame detector and tracker instead: on fresh renders of the
accuracy benchmark's 28 noise-2 cases it found the person in under a third of the frames in 7
(a walker 150 px tall in a 640x360 frame among them), where the tracker finds 72-100 %.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np

from anylift.errors import InputError
from anylift.io.keypoints import Keypoints2D
from anylift.progress import ProgressFn
from anylift.skeletons import to_coco17

STAGE = "detect keypoints"


@dataclass(frozen=True)
class DetectConfig:
    """Settings of :func:`detect_keypoints`.

    unswap_legs: undo the detector's left/right swaps of the legs from how they move
        (:func:`anylift.video.tracking.unswap_legs`).
    min_score: joints below it are marked undetected (score 0).
    max_gap: longest dropout (frames) filled by interpolation.
    smoothing: run the One-Euro filter; ``min_cutoff`` (Hz) and ``beta`` (per px/s) tune it.
    min_detection_confidence: MediaPipe's person threshold (its pose detector finding new people).
    """

    unswap_legs: bool = True
    min_score: float = 0.3
    max_gap: int = 8
    smoothing: bool = True
    min_cutoff: float = 2.0
    beta: float = 0.02
    min_detection_confidence: float = 0.5


def mediapipe_missing(exc: ImportError) -> InputError:
    """The error to raise when MediaPipe does not import: what to install."""
    return InputError(
        f"MediaPipe is not installed ({exc})",
        field="mediapipe",
        expected="mediapipe 0.10.14",
        fix="Install the video extra: bash scripts/venv.sh dev,video "
        "(or pip install --no-deps mediapipe==0.10.14 plus absl-py attrs flatbuffers 'protobuf<5')",
    )


def mediapipe_to_coco17(landmarks: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(33, 3) MediaPipe ``[x, y, visibility]`` (x, y in [0, 1] of the image) -> (17, 3) COCO-17 pixels."""
    w, h = image_size
    lm = np.asarray(landmarks, dtype=np.float64)
    px = np.stack([lm[:, 0] * w, lm[:, 1] * h, np.clip(lm[:, 2], 0.0, 1.0)], axis=-1)
    return to_coco17(px, "mediapipe33")


def detect_keypoints(
    video: str | os.PathLike,
    *,
    fps: float | None = None,
    config: DetectConfig | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Keypoints2D:
    """COCO-17 keypoints of the main person of a video (movie file or image folder).

    Args:
        video: path of the video or image folder.
        fps: overrides the file's frame rate (image folders default to 30).
        config: detection and cleaning settings.
        progress, cancel: :mod:`anylift.progress` protocol (stage ``"detect keypoints"``).

    Returns:
        :class:`Keypoints2D` (T, 17, 3) pixels of the upright frames, ``source_skeleton``
        ``"mediapipe33"``. Frames where nobody was found have score 0 everywhere.

    Raises:
        InputError: unreadable or empty video, MediaPipe missing, or nobody found in any frame.
    """
    from anylift.video.people import PeopleConfig, detect_people

    people = detect_people(video, fps=fps, config=PeopleConfig(detect=config or DetectConfig()),
                           progress=progress, cancel=cancel)  # fmt: skip
    return people.keypoints2d()
