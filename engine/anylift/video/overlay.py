"""Tracks drawn over the footage: a box, the skeleton and the id of every person (for checking
which id is whom, in the README and as the camera background in Blender)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from anylift.io.people import People
from anylift.video.reader import open_video

# COCO-17 limbs drawn (pairs of joint indices).
LIMBS = ((5, 7), (7, 9), (6, 8), (8, 10), (5, 6), (11, 12), (5, 11), (6, 12), (11, 13), (13, 15), (12, 14),
         (14, 16), (0, 5), (0, 6))  # fmt: skip


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A distinct BGR colour per id (golden-angle hues)."""
    hue = int((track_id * 137.508) % 180)
    bgr = cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


def draw_tracks(frame: np.ndarray, people: People, t: int) -> np.ndarray:
    """(H, W, 3) BGR uint8 frame -> copy with frame ``t``'s boxes, skeletons and ids drawn."""
    out = frame.copy()
    for tr in people.tracks:
        if not tr.seen[t]:
            continue
        colour = track_colour(tr.id)
        kp = tr.keypoints[t]
        for a, b in LIMBS:
            if kp[a, 2] > 0 and kp[b, 2] > 0:
                cv2.line(out, tuple(int(v) for v in kp[a, :2]), tuple(int(v) for v in kp[b, :2]), colour, 2,
                         cv2.LINE_AA)  # fmt: skip
        box = tr.boxes[t]
        if np.isfinite(box).all():
            x0, y0, x1, y1 = (int(v) for v in box)
            cv2.rectangle(out, (x0, y0), (x1, y1), colour, 1, cv2.LINE_AA)
            label = f"{tr.id}" + ("*" if tr.id == people.default else "")
            (w, h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.6, 2)
            cv2.rectangle(out, (x0, max(y0 - h - 6, 0)), (x0 + w + 6, max(y0, h + 6)), colour, -1)
            cv2.putText(out, label, (x0 + 3, max(y0 - 4, h + 2)), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2,
                        cv2.LINE_AA)  # fmt: skip
    return out


def write_tracks_video(video: str | os.PathLike, people: People, out: str | os.PathLike) -> Path:
    """The footage with every frame's tracks drawn (:func:`draw_tracks`), as an mp4 at its rate."""
    reader = open_video(video)
    out = Path(out)
    writer = None
    try:
        for t, frame in enumerate(reader):
            if t >= len(people.tracks[0].keypoints):
                break
            if writer is None:
                h, w = frame.shape[:2]
                writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), reader.fps, (w, h))
            writer.write(draw_tracks(frame, people, t))
    finally:
        if writer is not None:
            writer.release()
    return out
