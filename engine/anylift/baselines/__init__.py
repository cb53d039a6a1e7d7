"""The baselines every accuracy figure is compared with.

- :mod:`anylift.baselines.body_2d`: the body, SMPLify-style single-view fitting
  (``anylift lift --method smplify``).
- :mod:`anylift.baselines.object_2d`: the object part of the SMPLify-style HOI baseline
  (``benchmarks/hoi.py``): a per-frame pose and one scale fitted to the object's 2D keypoints.
"""

from anylift.baselines.body_2d import STAGE, SmplifyConfig, smplify
from anylift.baselines.object_2d import OBJECT_STAGE, ObjectFit2D, ObjectFit2DConfig, fit_object_2d

__all__ = [
    "OBJECT_STAGE",
    "STAGE",
    "ObjectFit2D",
    "ObjectFit2DConfig",
    "SmplifyConfig",
    "fit_object_2d",
    "smplify",
]
