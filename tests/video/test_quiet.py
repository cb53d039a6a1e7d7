"""No numpy warning clutters the output when frames hold nobody (issue 16's 'All-NaN slice')."""

import warnings

import numpy as np

from anylift.io.keypoints import Keypoints2D
from anylift.video.camera_estimation import person_depth


def test_person_depth_with_empty_frames_warns_nothing():
    kp = np.zeros((6, 17, 3))
    kp[:, :, 0] = np.linspace(100, 140, 17)
    kp[:, :, 1] = np.linspace(100, 300, 17)
    kp[:, :, 2] = 0.9
    kp[2:4, :, 2] = 0.0  # nobody in frames 2 and 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        depth = person_depth(Keypoints2D(kp, fps=30.0, image_size=(640, 480)), focal=500.0)
    assert np.isfinite(depth).all()  # the empty frames are filled from their neighbours
    assert depth[2] == depth[1]
