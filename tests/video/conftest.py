"""Fixtures for the video front end: synthetic videos written with OpenCV, and (when bpy and
MediaPipe are installed) a short Blender render of the proxy body (cached outside the repo)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
os.environ.setdefault("OMP_NUM_THREADS", "2")


def textured_panorama(seed: int = 0, size: tuple[int, int] = (1600, 1000)) -> np.ndarray:
    """(H, W, 3) uint8 image with features everywhere (blurred noise + squares)."""
    rng = np.random.default_rng(seed)
    w, h = size
    img = cv2.GaussianBlur((rng.random((h, w)) * 255).astype(np.uint8), (0, 0), 2.0)
    for _ in range(300):
        x, y = rng.integers(0, w - 30), rng.integers(0, h - 30)
        s = int(rng.integers(8, 30))
        cv2.rectangle(img, (int(x), int(y)), (int(x) + s, int(y) + s), int(rng.integers(0, 255)), -1)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)


def timed_video(path: Path, frames: list[np.ndarray], times: list[float]) -> None:
    """An H.264 mp4 whose frame ``i`` (BGR) is shown at ``times[i]`` seconds (a variable rate, as
    phones write: OpenCV's writer only writes steady rates). Needs PyAV (the dev extra)."""
    import fractions

    av = pytest.importorskip("av")
    ms = fractions.Fraction(1, 1000)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=round(1 / float(np.median(np.diff(times)))))
        stream.codec_context.options = {"bf": "0"}  # no B-frames: packets in presentation order
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = stream.time_base = ms  # millisecond timestamps, as given
        for frame, t in zip(frames, times, strict=True):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[..., ::-1]), format="rgb24")
            vf.pts, vf.time_base = round(t * 1000), ms
            out.mux(stream.encode(vf))
        out.mux(stream.encode())


def rotation_video(path: Path, rotations: np.ndarray, focal: float, size=(320, 240), seed: int = 0,
                   burn=None) -> None:  # fmt: skip
    """A video of a far-away (infinitely distant) textured scene seen by a rotating camera.

    Frame t is the panorama warped by K R_t K0^-1 (pure rotation: no parallax), where the
    panorama is what a camera with focal ``focal`` sees at rotation identity, centred;
    ``burn(frame)`` draws on each frame (graphics laid over the picture).
    """
    pano = textured_panorama(seed)
    ph, pw = pano.shape[:2]
    w, h = size
    K = np.array([[focal, 0, w / 2], [0, focal, h / 2], [0, 0, 1.0]])
    Kp = np.array([[focal, 0, pw / 2], [0, focal, ph / 2], [0, 0, 1.0]])
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (w, h))
    for R in rotations:
        H = K @ R @ np.linalg.inv(Kp)
        frame = cv2.warpPerspective(pano, H, (w, h), flags=cv2.INTER_LINEAR)
        writer.write(frame if burn is None else burn(frame))
    writer.release()


@pytest.fixture(scope="session")
def rendered_clip():
    """A 16-frame 320x240 Blender render of the proxy body (held-out clip, moving camera)."""
    pytest.importorskip("bpy")
    pytest.importorskip("mediapipe")
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from render_test_video import cached_render
    finally:
        sys.path.pop(0)
    return cached_render(clip="dance_b", frames=16, size=(320, 240), seed=3, trajectory="real_like",
                         fit_iterations=40)  # fmt: skip
