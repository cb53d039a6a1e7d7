"""Reader limits: sizes checked before allocating, clear errors for look-alike inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anylift.errors import InputError
from anylift.io.fields import MAX_FRAMES
from anylift.io.keypoints import read_keypoints, write_keypoints


def _instance(x: float) -> dict:
    return {"keypoints": [[x + j, 100.0 + 10 * j] for j in range(17)], "keypoint_scores": [0.9] * 17}


def test_small_frame_id_gaps_are_filled_and_huge_spans_refused(tmp_path):
    path = tmp_path / "kp.json"
    path.write_text(json.dumps([{"frame_id": i, "instances": [_instance(i)]} for i in (3, 4, 7)]))
    kp = read_keypoints(path)
    assert kp.num_frames == 5  # ids 3..7, frames 5 and 6 empty
    np.testing.assert_array_equal(kp.scores[:, 0], [0.9, 0.9, 0.0, 0.0, 0.9])

    dense = [{"frame_id": i, "instances": [_instance(i)]} for i in range(0, 2 * MAX_FRAMES, 1000)]
    path.write_text(json.dumps([*dense[:1], {"frame_id": MAX_FRAMES + 5, "instances": [_instance(0)]}]))
    with pytest.raises(InputError, match="not image ids"):
        read_keypoints(path)


def test_coco_image_ids_are_not_frame_numbers(tmp_path):
    flat = [v for j in range(17) for v in (100.0 + j, 100.0 + 10 * j, 0.9)]
    path = tmp_path / "results.json"
    path.write_text(
        json.dumps([{"image_id": i, "keypoints": flat, "score": 0.9} for i in (397133, 37777, 252219)])
    )
    with pytest.raises(InputError) as e:
        read_keypoints(path)
    assert "ids run from 37777 to 397133" in str(e.value) and "image ids" in str(e.value)


def test_clip_longer_than_the_limit_is_refused_before_reading_it_all(tmp_path):
    path = tmp_path / "long.npz"
    np.savez(path, keypoints=np.zeros((MAX_FRAMES + 1, 17, 3), dtype=np.float32), fps=np.array(30.0))
    with pytest.raises(InputError, match=f"has {MAX_FRAMES + 1} frames.*Split the clip"):
        read_keypoints(path)


def test_folder_holding_an_anylift_file_says_to_pass_the_file(tmp_path):
    from anylift.io.keypoints import Keypoints2D

    folder = tmp_path / "clip"
    folder.mkdir()
    kp = np.concatenate([np.full((3, 17, 2), 50.0), np.full((3, 17, 1), 0.9)], -1)
    write_keypoints(folder / "a_keypoints.json", Keypoints2D(kp, fps=30.0, image_size=(64, 64)))
    with pytest.raises(InputError) as e:
        read_keypoints(folder)
    assert "anylift.keypoints/1" in str(e.value) and "Pass a_keypoints.json itself" in str(e.value)


def test_error_lines_are_bounded(tmp_path):
    path = tmp_path / "kp.json"
    doc = {"format": "anylift.keypoints/1", "skeleton": "x" * 5000, "fps": 30, "keypoints": []}
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as e:
        read_keypoints(path)
    assert 100 < len(str(e.value)) < 600


def test_a_byte_order_mark_is_accepted(tmp_path):
    from anylift.io.keypoints import Keypoints2D

    kp = np.concatenate([np.full((2, 17, 2), 50.0), np.full((2, 17, 1), 0.9)], -1)
    write_keypoints(tmp_path / "kp.json", Keypoints2D(kp, fps=25.0, image_size=(64, 64)))
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "kp.json").read_bytes())
    assert read_keypoints(tmp_path / "bom.json").fps == 25.0
