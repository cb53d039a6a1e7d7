"""Training and evaluation data, one concept per module.

- :mod:`.mocap`: the DeepMimic clips in the pybullet wheel and the train / held-out split.
- :mod:`.trajectories`: seeded camera trajectories (AnyLift's six modes, real-like, rings,
  Internet-like; disjoint train and test parameters).
- :mod:`.augment`: looping, speed, mirror, yaw and body-shape augmentation of 3D keypoints.
- :mod:`.windows`: single-view training windows (hybrid video-like : projected-local = 2 : 1).
- :mod:`.multiview`: multi-view windows and the virtual-view geometry inference shares.
- :mod:`.synthesis`: SDS multi-view synthesis (the "2D only" path) and its dataset file.
- :mod:`.hoi`: synthetic human-object interaction sequences.
- :mod:`.evaluation`: held-out evaluation cases (example, benchmarks).
"""
