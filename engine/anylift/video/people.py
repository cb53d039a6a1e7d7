"""Every person of a video, tracked, with top-down 2D keypoints on upscaled crops.

Only what ships in the installed wheels (nothing is downloaded):

1. **Proposals** per frame: MediaPipe's selfie segmentation (``mp.solutions.selfie_segmentation``,
   landscape model) gives a person mask for everyone in view; its connected blobs are boxes.
   Small and far people, which that mask misses, come from OpenCV's background subtractor
   (MOG2: moving blobs of a static camera; frames where more than ``max_foreground`` of the
   image moves - a moving camera - give none). Every ``hog_every`` frames OpenCV's built-in HOG
   people detector adds boxes (real pedestrians in clothes); overlapping boxes are merged.
2. **Tracks**: boxes are matched to the tracks' predicted boxes (constant velocity) by the
   Hungarian method on ``(1 - IoU) + colour distance`` (HSV histogram of the box, Bhattacharyya),
   gated. A track that finds no box coasts on its prediction for up to ``max_age`` frames
   (short occlusions, two people merging into one blob while crossing); a box that was merged
   from two people (much larger than the prediction) updates position only. New tracks are
   confirmed after ``min_hits`` frames.
3. **Keypoints** (top-down): for every confirmed track in a frame, the square crop around its box
   (1.5x, at least ``crop_size`` px after upscaling) goes through that track's own MediaPipe
   Pose in video mode; its 33 landmarks become COCO-17 pixels of the frame.
4. **Cleaning** per track (:mod:`anylift.video.tracking`): low scores dropped, short gaps
   filled, zero-lag One-Euro smoothing; tracks seen in fewer than ``min_frames`` frames dropped.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from anylift.errors import InputError
from anylift.io.people import People, PersonTrack
from anylift.progress import ProgressFn, check_cancel, report
from anylift.video import tracking
from anylift.video.detect import STAGE, DetectConfig, _mediapipe_pose, mediapipe_to_coco17
from anylift.video.native_logs import quiet_native_logs
from anylift.video.reader import open_video


@dataclass(frozen=True)
class PeopleConfig:
    """Settings of :func:`detect_people` (see the module doc); ``detect`` cleans each track."""

    detect: DetectConfig = field(default_factory=DetectConfig)
    mask_threshold: float = 0.5
    min_box_height: int = 24
    hog_every: int = 5
    motion_proposals: bool = True
    max_foreground: float = 0.15
    max_age: int = 12
    min_hits: int = 3
    gate: float = 0.75
    colour_weight: float = 0.6
    crop_size: int = 256
    min_frames: int = 5
    reid_colour: float = 0.3
    max_colour: float = 0.45
    reid_seconds: float = 2.0


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4) x (M, 4) boxes ``x0, y0, x1, y1`` -> (N, M) intersection over union."""
    a, b = np.asarray(a, float)[:, None], np.asarray(b, float)[None]
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


def mask_boxes(mask: np.ndarray, threshold: float, min_height: int) -> np.ndarray:
    """(H, W) person probability -> (N, 4) boxes of its connected blobs taller than ``min_height``."""
    binary = (mask > threshold).astype(np.uint8)
    # Close the gaps a thin mask leaves between torso and legs: one blob per person.
    k = max(3, min_height // 6) | 1
    binary = cv2.morphologyEx(
        binary, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, 2 * k + 1))
    )
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    boxes = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if h >= min_height and area >= 0.15 * w * h:
            boxes.append([x, y, x + w, y + h])
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def centre_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4) x (M, 4) boxes -> (N, M) distance of their centres over the mean of their heights."""
    ca = (a[:, None, :2] + a[:, None, 2:]) / 2
    cb = (b[None, :, :2] + b[None, :, 2:]) / 2
    h = 0.5 * ((a[:, None, 3] - a[:, None, 1]) + (b[None, :, 3] - b[None, :, 1]))
    return np.linalg.norm(ca - cb, axis=-1) / np.maximum(h, 1.0)


def covered(box: np.ndarray, others: np.ndarray) -> float:
    """Largest share of ``box`` (4,) lying inside one of ``others`` (N, 4); 0 when N = 0."""
    if len(others) == 0:
        return 0.0
    w = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    h = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    return float((w * h).max() / max((box[2] - box[0]) * (box[3] - box[1]), 1e-9))


def merge_boxes(boxes: np.ndarray, thresh: float = 0.5) -> np.ndarray:
    """Drop boxes overlapping an earlier (kept) one by more than ``thresh`` IoU."""
    keep: list[np.ndarray] = []
    for b in boxes:
        if not keep or iou(b[None], np.array(keep)).max() <= thresh:
            keep.append(b)
    return np.array(keep, dtype=np.float64).reshape(-1, 4)


def colour_histogram(frame: np.ndarray, box: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Normalised 8x4 hue-saturation histogram of the box (of the person mask inside it when given)."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = (round(v) for v in (max(box[0], 0), max(box[1], 0), min(box[2], w), min(box[3], h)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.full(32, 1 / 32)
    hsv = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2HSV)
    m = None if mask is None else (mask[y0:y1, x0:x1] > 0.5).astype(np.uint8)
    if m is not None and m.sum() < 20:  # the mask missed this person: the whole box
        m = None
    hist = cv2.calcHist([hsv], [0, 1], m, [8, 4], [0, 180, 0, 256]).ravel()
    return hist / max(hist.sum(), 1e-9)


def _bhattacharyya(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.sqrt(max(0.0, 1.0 - np.sqrt(p * q).sum())))


class _Track:
    def __init__(self, tid: int, box: np.ndarray, hist: np.ndarray, t: int) -> None:
        self.id, self.box, self.hist = tid, box.astype(float), hist
        self.velocity = np.zeros(4)
        self.hits, self.last_t, self.pose, self.anchored, self.duplicate = 1, t, None, True, False
        self.frames: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # t -> (box, (17, 3) keypoints)

    def predict(self, t: int) -> np.ndarray:
        return self.box + self.velocity * (t - self.last_t)

    def update(self, box: np.ndarray, hist: np.ndarray, t: int, size_only_from_prediction: bool) -> None:
        pred = self.predict(t)
        self.anchored = not size_only_from_prediction
        if size_only_from_prediction:  # a blob of two people, or a piece of one: keep the prediction
            box = pred
        self._move(box, t)
        self.hits += 1
        self.hist = 0.9 * self.hist + 0.1 * hist

    def _move(self, box: np.ndarray, t: int) -> None:
        dt = max(t - self.last_t, 1)
        shift = (
            ((box[:2] + box[2:]) - (self.box[:2] + self.box[2:])) / 2 / dt
        )  # centre only: sizes never flip
        self.velocity = 0.6 * self.velocity + 0.4 * np.concatenate([shift, shift])
        self.box, self.last_t = np.asarray(box, dtype=float), t

    def follow_pose(self, kp: np.ndarray, t: int) -> bool:
        """No proposal this frame but the pose model still sees the person: move the box (same
        size) onto the confident keypoints' centre, and stay alive."""
        ok = kp[:, 2] > 0.5
        if ok.sum() < 8 or (self.last_t == t and self.anchored):
            return False
        centre = 0.5 * (kp[ok, :2].min(0) + kp[ok, :2].max(0))
        half = (self.box[2:] - self.box[:2]) / 2
        self._move(np.concatenate([centre - half, centre + half]), t)
        return True


def _reidentify(box, hist, t, tracks, finished, cfg: PeopleConfig, fps: float) -> _Track | None:
    """A track lost a moment ago (coasting, or ended up to ``reid_seconds`` back) that looks like
    this new box (colour) and could have walked there: continue it instead of a new id."""
    best, best_cost = None, cfg.reid_colour
    for tr in [x for x in tracks if x.last_t < t] + [x for x in finished if not x.duplicate]:
        gap = t - tr.last_t
        if gap > cfg.reid_seconds * fps:
            continue
        h = max(tr.box[3] - tr.box[1], 1.0)
        reach = 0.75 + 2.0 * gap / fps  # body heights: a walker covers about one per second
        if centre_distance(tr.box[None], box[None])[0, 0] > reach or not 0.5 < (box[3] - box[1]) / h < 2.0:
            continue
        cost = _bhattacharyya(tr.hist, hist)
        if cost < best_cost:
            best, best_cost = tr, cost
    return best


def _on_box(kp: np.ndarray, box: np.ndarray, tolerance: float = 0.35) -> bool:
    """Whether confident keypoints (17, 3) are centred within ``tolerance`` box heights of ``box``."""
    ok = kp[:, 2] > 0.5
    if ok.sum() < 4:
        return True  # too little to judge; the score filter deals with it
    centre = 0.5 * (kp[ok, :2].min(0) + kp[ok, :2].max(0))
    h = max(box[3] - box[1], 1.0)
    return bool(np.linalg.norm(centre - 0.5 * (box[:2] + box[2:])) <= tolerance * h)


def _drop_duplicates(tracks: list[_Track], t: int, finished: list[_Track]) -> list[_Track]:
    """Two tracks on the same person (boxes overlapping > 0.6 IoU this frame): keep the older; the
    younger ends here (its earlier frames stay a track of their own, this frame is dropped)."""
    keep: list[_Track] = []
    for tr in sorted(tracks, key=lambda x: x.id):
        if tr.last_t == t and any(k.last_t == t and iou(tr.box[None], k.box[None])[0, 0] > 0.6 for k in keep):
            if tr.pose is not None:
                tr.pose.close()
                tr.pose = None
            tr.frames.pop(t, None)
            tr.duplicate = True
            finished.append(tr)
            continue
        keep.append(tr)
    return keep


def _crop(frame: np.ndarray, box: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    """Square crop 1.5x the box's larger side, scaled to ``size``; returns (crop, x0, y0, scale)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(box[2] - box[0], box[3] - box[1]) * 1.5 + 8
    x0, y0 = cx - side / 2, cy - side / 2
    s = size / side
    m = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]])
    crop = cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return crop, x0, y0, s


def detect_people(
    video: str | os.PathLike,
    *,
    fps: float | None = None,
    config: PeopleConfig | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> People:
    """Every person of a video (movie file or image folder), tracked, COCO-17 keypoints.

    Returns:
        :class:`~anylift.io.people.People`: one :class:`~anylift.io.people.PersonTrack` per person
        (ids 1, 2, ... in order of appearance), all T frames; the default is the most prominent.

    Raises:
        InputError: unreadable or empty video, MediaPipe missing, or nobody found.
    """
    cfg = config or PeopleConfig()
    try:
        from mediapipe.python.solutions import selfie_segmentation
    except ImportError:
        _mediapipe_pose(cfg.detect)  # raises the clear "install the video extra" error
        raise
    reader = open_video(video, fps=fps)
    size = reader.image_size
    total = len(reader)
    with quiet_native_logs():
        seg = selfie_segmentation.SelfieSegmentation(model_selection=1)
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    background = cv2.createBackgroundSubtractorMOG2(history=300, varThreshold=25, detectShadows=True)
    tracks: list[_Track] = []
    finished: list[_Track] = []
    next_id = 1
    t = -1
    try:
        report(progress, STAGE, 0, total)
        for t, frame in enumerate(reader):
            check_cancel(cancel)
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            with quiet_native_logs() if t == 0 else contextlib.nullcontext():
                mask = seg.process(rgb).segmentation_mask
            boxes = mask_boxes(mask, cfg.mask_threshold, cfg.min_box_height)
            if cfg.motion_proposals:
                moving = (background.apply(frame) > 200).astype(np.float32)  # 127: shadows
                if t >= 2 and moving.mean() < cfg.max_foreground:
                    fg = mask_boxes(moving, 0.5, cfg.min_box_height)
                    boxes = merge_boxes(np.concatenate([boxes, fg]), 0.3)
                    mask = np.maximum(mask, moving)
            if cfg.hog_every and t % cfg.hog_every == 0:
                found, weights = hog.detectMultiScale(frame, winStride=(8, 8), padding=(8, 8), scale=1.1)
                found = [f for f, wgt in zip(found, np.ravel(weights)) if wgt > 0.5]
                if len(found):
                    hb = np.array([[x, y, x + w, y + h] for x, y, w, h in found], dtype=np.float64)
                    boxes = merge_boxes(np.concatenate([boxes, hb]), 0.3)
            hists = [colour_histogram(frame, b, mask) for b in boxes]
            live = [tr for tr in tracks if t - tr.last_t <= cfg.max_age]
            for tr in tracks:
                if tr not in live:
                    finished.append(tr)
                    if tr.pose is not None:
                        tr.pose.close()
                        tr.pose = None
            tracks = live
            matched_boxes: set[int] = set()
            if tracks and len(boxes):
                pred = np.array([tr.predict(t) for tr in tracks])
                dist = centre_distance(pred, boxes)
                col = np.array([[_bhattacharyya(tr.hist, h) for h in hists] for tr in tracks])
                cost = dist + cfg.colour_weight * col
                cost[dist > cfg.gate] = 1e6
                # An established track never takes a box that looks like someone else.
                est = np.array([tr.hits > 5 for tr in tracks])
                cost[est[:, None] & (col > cfg.max_colour)] = 1e6
                rows, cols = linear_sum_assignment(cost)
                for r, c in zip(rows, cols):
                    if cost[r, c] >= 1e6:
                        continue
                    area_p = (pred[r, 2] - pred[r, 0]) * (pred[r, 3] - pred[r, 1])
                    area_b = (boxes[c, 2] - boxes[c, 0]) * (boxes[c, 3] - boxes[c, 1])
                    odd = not 0.55 < area_b / max(area_p, 1e-9) < 1.8 and tracks[r].hits > 3
                    tracks[r].update(boxes[c], hists[c], t, odd)
                    matched_boxes.add(c)
            for c in range(len(boxes)):
                pred = np.array([tr.predict(t) for tr in tracks]).reshape(-1, 4)
                if c not in matched_boxes and covered(boxes[c], pred) < 0.4:
                    back = _reidentify(boxes[c], hists[c], t, tracks, finished, cfg, reader.fps)
                    if back is not None:
                        if back not in tracks:
                            finished.remove(back)
                            tracks.append(back)
                        back.update(boxes[c], hists[c], t, False)
                        continue
                    tracks.append(_Track(next_id, boxes[c], hists[c], t))
                    next_id += 1
            for tr in tracks:
                if tr.hits < cfg.min_hits and tr.last_t != t:
                    continue
                box = tr.box if tr.last_t == t else tr.predict(t)
                crop, x0, y0, s = _crop(frame, box, cfg.crop_size)
                with quiet_native_logs() if tr.pose is None else contextlib.nullcontext():
                    if tr.pose is None:
                        tr.pose = _mediapipe_pose(cfg.detect)
                    res = tr.pose.process(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
                if res.pose_landmarks is None:
                    continue
                lm = np.array([(p.x, p.y, p.visibility) for p in res.pose_landmarks.landmark])
                kp = mediapipe_to_coco17(lm, (cfg.crop_size, cfg.crop_size))
                kp[:, 0] = kp[:, 0] / s + x0
                kp[:, 1] = kp[:, 1] / s + y0
                if not _on_box(kp, box):
                    # The crop's pose model locked onto someone else (a crossing): not ours, and
                    # restart it so it detects afresh in the next crop.
                    tr.pose.close()
                    tr.pose = None
                    continue
                if tr.follow_pose(kp, t):
                    box = tr.box
                if tr.hits >= cfg.min_hits:
                    tr.frames[t] = (np.array(box, dtype=np.float64), kp)
            tracks = _drop_duplicates(tracks, t, finished)
            report(progress, STAGE, t + 1, max(total, t + 1))
    finally:
        seg.close()
        for tr in tracks:
            if tr.pose is not None:
                tr.pose.close()
    t_len = t + 1
    if t_len <= 0:
        raise InputError("holds no frames", path=video, expected="a video with at least one frame")
    people = []
    for tr in finished + tracks:
        if len(tr.frames) < cfg.min_frames:
            continue
        kp = np.full((t_len, 17, 3), np.nan)
        kp[..., 2] = 0.0
        bx = np.full((t_len, 4), np.nan)
        for f, (b, k) in tr.frames.items():
            kp[f], bx[f] = k, b
        d = cfg.detect
        kp = tracking.drop_low_confidence(kp, d.min_score)
        kp = tracking.fill_gaps(kp, d.max_gap)
        if d.smoothing:
            kp = tracking.one_euro_smooth(kp, reader.fps, min_cutoff=d.min_cutoff, beta=d.beta)
        if (kp[..., 2] > 0).any():
            people.append(PersonTrack(tr.id, kp, bx))
    if not people:
        raise InputError(f"no person was found in any of its {t_len} frames", path=video,
                         expected="a video showing a person")  # fmt: skip
    people.sort(key=lambda p: p.id)
    return People(people, reader.fps, size, path=None)
