"""The stages of :func:`anylift.pipeline.lift`, one concept per module (no training code: importing
them loads nothing from :mod:`anylift.data` or :mod:`anylift.training`).

- :mod:`.options`: :class:`~anylift.lifting.options.LiftOptions`, the one options object.
- :mod:`.checks`: inputs valid and plausible before the long part; the result after it.
- :mod:`.framerate`: any input frame rate to the model's and back.
- :mod:`.gravity`: the up direction (camera file, ``--up`` or estimated) and the floor.
- :mod:`.world`: the result's world frame (formats.md) and ``--ground``.
- :mod:`.scale`: metric scale of up-to-scale cameras (root depth from body size; body proportions).
- :mod:`.denoiser`: the checkpoint's model (or an injected one), timed, and its conditions.
- :mod:`.windows`: overlapping windows over a clip and their seamless (raised-cosine) blend.
- :mod:`.view_geometry`: the virtual ring views, model coordinates and multi-view condition
  (shared with the training windows).
- :mod:`.views`: the input view and the virtual ring views of one window, as the model sees them.
- :mod:`.sampling`: DDIM over the windows in chunks, triangulation, window blend.
- :mod:`.consistency`: the sampling hook that triangulates all views, projects observed joints
  onto their camera rays (VideoMDM) and reprojects (Mocap-2-to-3, MAS); optionally keeps bone lengths.
- :mod:`.placement`: each frame's depth from the body's known size; the floor shift.
- :mod:`.spread`: the samples' fusion and spread, of the body's placement and of its pose, apart.
- :mod:`.objects`: HOI object keypoints appended to the body, and their pose fit.
"""
