"""2D keypoints from a video: MediaPipe Pose on every frame, one person, cleaned tracks.

MediaPipe Pose (``mediapipe==0.10.14``, the "full" landmark model that ships inside the wheel:
nothing is downloaded) runs in its video mode (its own detector + landmark tracker) on every
frame, streamed from :mod:`anylift.video.reader`. Its 33 landmarks become COCO-17 with
:func:`anylift.skeletons.to_coco17` (MediaPipe's per-landmark ``visibility`` is the score);
then :mod:`anylift.video.tracking` keeps one consistent person, drops low-confidence joints,
fills short dropouts and smooths with a confidence-weighted One-Euro filter.

MediaPipe's own landmark smoothing is off: it ignores confidences and is causal (it lags).
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from anylift.errors import InputError
from anylift.io.keypoints import Keypoints2D
from anylift.progress import ProgressFn, check_cancel, report
from anylift.skeletons import to_coco17
from anylift.video import tracking
from anylift.video.native_logs import quiet_native_logs
from anylift.video.reader import open_video

STAGE = "detect keypoints"


@dataclass(frozen=True)
class DetectConfig:
    """Settings of :func:`detect_keypoints`.

    min_score: joints below it are marked undetected (score 0).
    max_gap: longest dropout (frames) filled by interpolation.
    smoothing: run the One-Euro filter; ``min_cutoff`` (Hz) and ``beta`` (per px/s) tune it.
    min_detection_confidence, min_tracking_confidence: MediaPipe's person thresholds.
    """

    min_score: float = 0.3
    max_gap: int = 8
    smoothing: bool = True
    min_cutoff: float = 2.0
    beta: float = 0.02
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


def _mediapipe_pose(cfg: DetectConfig):
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ log chatter
    try:
        from mediapipe.python.solutions import pose as mp_pose
    except ImportError as exc:
        raise InputError(
            f"MediaPipe is not installed ({exc})",
            field="mediapipe",
            expected="mediapipe 0.10.14",
            fix="Install the video extra: bash scripts/venv.sh dev,video "
            "(or pip install --no-deps mediapipe==0.10.14 plus absl-py attrs flatbuffers 'protobuf<5')",
        ) from exc
    return mp_pose.Pose(
        static_image_mode=False,
        model_complexity=1,  # the only landmark model shipped in the wheel
        smooth_landmarks=False,
        enable_segmentation=False,
        min_detection_confidence=cfg.min_detection_confidence,
        min_tracking_confidence=cfg.min_tracking_confidence,
    )


def mediapipe_to_coco17(landmarks: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(33, 3) MediaPipe ``[x, y, visibility]`` (x, y in [0, 1] of the image) -> (17, 3) COCO-17 pixels."""
    w, h = image_size
    lm = np.asarray(landmarks, dtype=np.float64)
    px = np.stack([lm[:, 0] * w, lm[:, 1] * h, np.clip(lm[:, 2], 0.0, 1.0)], axis=-1)
    return to_coco17(px, "mediapipe33")


def raw_detections(
    video: str | os.PathLike,
    *,
    fps: float | None = None,
    config: DetectConfig | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> tuple[list[list[np.ndarray]], float, tuple[int, int]]:
    """MediaPipe on every frame, before any cleaning.

    Returns:
        (detections, fps, image_size): T lists of (17, 3) COCO-17 ``[x px, y px, score]``
        (empty where nobody was found), the frame rate and the upright (W, H).
    """
    cfg = config or DetectConfig()
    reader = open_video(video, fps=fps)
    size = reader.image_size
    total = len(reader)
    detections: list[list[np.ndarray]] = []
    with quiet_native_logs():
        pose = _mediapipe_pose(cfg)
    try:
        report(progress, STAGE, 0, total)
        for i, frame in enumerate(reader):
            check_cancel(cancel)
            with quiet_native_logs() if i == 0 else contextlib.nullcontext():  # TFLite's first-run lines
                result = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            people = []
            if result.pose_landmarks is not None:
                lm = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark])
                people.append(mediapipe_to_coco17(lm, size))
            detections.append(people)
            # The container's count is an estimate: never report past it.
            report(progress, STAGE, i + 1, max(total, i + 1))
    finally:
        pose.close()
    if not detections:
        raise InputError("holds no frames", path=video, expected="a video with at least one frame")
    return detections, reader.fps, size


def clean_track(
    detections: list[list[np.ndarray]], fps: float, config: DetectConfig | None = None
) -> np.ndarray:
    """Per-frame detections -> one cleaned (T, 17, 3) track (see :mod:`anylift.video.tracking`)."""
    cfg = config or DetectConfig()
    kp = tracking.follow_person(detections)
    kp = tracking.drop_low_confidence(kp, cfg.min_score)
    kp = tracking.fill_gaps(kp, cfg.max_gap)
    if cfg.smoothing:
        kp = tracking.one_euro_smooth(kp, fps, min_cutoff=cfg.min_cutoff, beta=cfg.beta)
    return kp


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
    detections, rate, size = raw_detections(video, fps=fps, config=config, progress=progress, cancel=cancel)
    kp = clean_track(detections, rate, config)
    if not (kp[..., 2] > 0).any():
        raise InputError(
            f"no person was found in any of its {len(detections)} frames",
            path=video,
            expected="a video showing a person",
        )
    return Keypoints2D(
        keypoints=kp, fps=rate, image_size=size, source_skeleton="mediapipe33", detector="mediapipe"
    )
