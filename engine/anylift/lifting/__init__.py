"""The pieces of :func:`anylift.pipeline.lift`, one concept per module.

- :mod:`.windows`: overlapping windows over a clip and their seamless (raised-cosine) blend.
- :mod:`.world`: the result's world frame (formats.md) and ``--ground``.
- :mod:`.scale`: metric scale of up-to-scale cameras (root depth from body size; body proportions).
- :mod:`.views`: the input view and the virtual ring views of one window, as the model sees them.
- :mod:`.consistency`: the sampling hook that triangulates all views, projects observed joints
  onto their camera rays (VideoMDM) and reprojects (Mocap-2-to-3, MAS).
- :mod:`.objects`: HOI object keypoints appended to the body, and their pose fit.
- :mod:`.spread`: the samples' spread, of the body's placement and of its pose, apart.
"""
