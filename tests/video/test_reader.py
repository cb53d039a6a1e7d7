import struct

import cv2
import numpy as np
import pytest

from anylift.errors import InputError
from anylift.video.reader import open_video, upright

from .conftest import timed_video


def _pattern(t: int, size=(64, 48)) -> np.ndarray:
    w, h = size
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 4, : w // 4] = 255  # a bright block in the top-left corner
    img[h // 2, :, 1] = (t * 20) % 256
    return img


def _write(path, frames, fps=25.0, fourcc="MJPG"):
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()


def test_movie_streams_all_frames_with_size_and_fps(tmp_path):
    path = tmp_path / "clip.avi"
    _write(path, [_pattern(t) for t in range(7)])
    reader = open_video(path)
    assert reader.image_size == (64, 48)
    assert reader.fps == pytest.approx(25.0)
    frames = list(reader)
    assert len(frames) == 7
    assert frames[0].shape == (48, 64, 3)
    assert frames[0][:6, :8].mean() > 200 and frames[0][-6:, -8:].mean() < 50
    assert len(list(reader)) == 7  # a second pass reopens the file


def test_variable_rate_footage_keeps_its_frame_times(tmp_path):
    """A phone's variable rate (held frames, a drop from 30 to 15 fps) comes out as each frame's
    time; a steady file, or a rate the caller gives, has none (frame t at t / fps)."""
    times = [0.0, 1 / 30, 2 / 30, 3 / 30, 5 / 30, 6 / 30, 8 / 30, 10 / 30, 12 / 30, 14 / 30]
    path = tmp_path / "phone.mp4"
    timed_video(path, [_pattern(t) for t in range(len(times))], times)
    reader = open_video(path)
    assert reader.frame_times is None  # nothing read yet
    assert len(list(reader)) == len(times)
    np.testing.assert_allclose(reader.frame_times, times, atol=2e-3)
    given = open_video(path, fps=30.0)
    list(given)
    assert given.frame_times is None
    steady = tmp_path / "steady.mp4"
    timed_video(steady, [_pattern(t) for t in range(8)], [t / 30 for t in range(8)])
    reader = open_video(steady)
    list(reader)
    assert reader.frame_times is None
    avi = tmp_path / "clip.avi"
    _write(avi, [_pattern(t) for t in range(7)])
    reader = open_video(avi)
    list(reader)
    assert reader.frame_times is None


def test_image_folder_natural_order_and_default_fps(tmp_path):
    for t in (0, 1, 2, 10):
        cv2.imwrite(str(tmp_path / f"frame{t}.png"), _pattern(t))
    (tmp_path / "notes.txt").write_text("not an image")
    reader = open_video(tmp_path)
    assert reader.fps == 30.0 and len(reader) == 4
    greens = [int(f[24, 0, 1]) for f in reader]
    assert greens == [0, 20, 40, 200]  # frame10 last, not after frame1


def _patch_rotation(path, degrees):
    """Write a display matrix for a clockwise rotation into the mp4's track header (tkhd)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"tkhd")
    assert at > 0
    version = data[at + 4]
    matrix_at = at + 4 + 4 + (32 if version == 1 else 20) + 8 + 8
    one, zero = 0x10000, 0
    c, s = {90: (0, 1), 180: (-1, 0), 270: (0, -1)}[degrees]
    values = [c * one, s * one, zero, -s * one, c * one, zero, zero, zero, 0x40000000]
    data[matrix_at : matrix_at + 36] = struct.pack(">9i", *values)
    path.write_bytes(bytes(data))


def test_phone_rotation_metadata_comes_out_upright(tmp_path):
    path = tmp_path / "phone.mp4"
    frames = [_pattern(t) for t in range(5)]
    _write(path, frames, fourcc="mp4v")
    _patch_rotation(path, 90)
    reader = open_video(path)
    if reader.info.rotation == 0:
        pytest.skip("this OpenCV build does not expose the rotation metadata")
    assert reader.info.rotation == 90
    assert reader.image_size == (48, 64)
    first = next(iter(reader))
    expected = upright(frames[0], 90)
    assert first.shape == expected.shape
    # The bright block moved with the rotation: top-left -> top-right for 90 degrees clockwise.
    assert first[:6, -6:].mean() > 200 and first[:6, :6].mean() < 50


def test_upright_rotates_clockwise():
    img = _pattern(0)
    r = upright(img, 90)
    assert r.shape == (64, 48, 3) and r[:6, -6:].mean() > 200
    assert np.array_equal(upright(img, 0), img)


def test_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        open_video(tmp_path / "missing.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video")
    with pytest.raises(InputError, match=r"bad\.mp4"):
        open_video(bad)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no images"):
        open_video(empty)
