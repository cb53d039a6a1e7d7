"""fit_object_2d (the SMPLify-style HOI baseline's object part) on exact 2D keypoints."""

import numpy as np
import pytest

from anylift.baselines import ObjectFit2DConfig, fit_object_2d
from anylift.errors import InputError


def test_recovers_pose_when_the_size_prior_is_right(hoi_walk):
    seq = hoi_walk
    track = seq.keypoints2d.objects[0].keypoints
    # The prior is the canonical size: give it the true size, so only the pose is unknown.
    canonical = seq.template.canonical * seq.object.scale
    hands = seq.body_keypoints3d[:, [9, 10]]
    fit = fit_object_2d(track, seq.camera, canonical, hands=hands, config=ObjectFit2DConfig(iterations=150))
    err = np.linalg.norm(fit.keypoints3d - seq.object_keypoints3d, axis=-1)
    assert fit.reprojection_px < 3.0
    assert np.median(err) < 0.03 and abs(fit.scale - 1) < 0.02
    assert fit.contact.any()  # the box is carried: the hands are near it
    # A wrong size prior (x 1.3) moves the object along the camera rays, not across them.
    far = fit_object_2d(track, seq.camera, canonical * 1.3, config=ObjectFit2DConfig(iterations=150))
    assert far.reprojection_px < 5.0
    depth = lambda k: np.linalg.norm(k.mean(1) - seq.camera.camera_to_world()[:, :3, 3], axis=-1)  # noqa: E731
    assert np.median(depth(far.keypoints3d) / depth(seq.object_keypoints3d)) > 1.1


def test_rejects_mismatched_shapes(hoi_walk):
    seq = hoi_walk
    with pytest.raises(InputError, match="canonical"):
        fit_object_2d(seq.keypoints2d.objects[0].keypoints, seq.camera, np.zeros((5, 3)))
