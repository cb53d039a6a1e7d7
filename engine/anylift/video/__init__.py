"""Video front end: streaming frames, 2D keypoints (MediaPipe Pose) and a camera estimate.

- :mod:`anylift.video.reader`: frames of movie files and image folders, upright, one at a time.
- :mod:`anylift.video.people`: :func:`~anylift.video.people.detect_people`: every person, tracked.
- :mod:`anylift.video.detect`: :func:`~anylift.video.detect.detect_keypoints` -> Keypoints2D (the
  main person).
- :mod:`anylift.video.tracking`: a track's dropouts, confidences, smoothing.
- :mod:`anylift.video.camera_estimation`: :func:`~anylift.video.camera_estimation.estimate_camera`.
- :mod:`anylift.video.cli`: ``anylift detect`` and ``anylift camera``.

MediaPipe is imported only when detecting (the ``video`` extra).
"""
