"""Video front end: streaming frames, 2D keypoints (MediaPipe Pose) and a camera estimate.

- :mod:`anylift.video.reader`: frames of movie files and image folders, upright, one at a time.
- :mod:`anylift.video.detect`: :func:`~anylift.video.detect.detect_keypoints` -> Keypoints2D.
- :mod:`anylift.video.tracking`: one person through a clip; dropouts, confidences, smoothing.
- :mod:`anylift.video.camera_estimation`: :func:`~anylift.video.camera_estimation.estimate_camera`.
- :mod:`anylift.video.cli`: ``anylift detect`` and ``anylift camera``.

MediaPipe is imported only when detecting (the ``video`` extra).
"""
