"""A person in only part of a clip: lift from their first to their last sighting.

In real footage people enter and leave: a walker crosses a courtyard in 120 of a video's 795
frames. Lifting every frame would make the model invent a motion where the person is not in the
footage (and spend most of the time on it). So the lift runs on the frames from the person's first
to their last sighting (:func:`crop`; gaps between sightings are occlusions the lift bridges), and
the result is written back over all T frames (:func:`restore`): the body holds its first lifted
frame before the span and its last after it, the camera is the input camera at every frame, and
the result's ``seen`` (T,) says which frames showed the person. The Blender add-on hides the
body outside the span.

A frame shows the person when :data:`MIN_SEEN_KEYPOINTS` or more keypoints have a score of at
least :data:`~anylift.representation.DEFAULT_SCORE_THRESHOLD` (the plausibility checks' rule).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from anylift.io.cameras import Camera
from anylift.io.keypoints import Keypoints2D
from anylift.io.motion import Motion, seen_span
from anylift.lifting.framerate import RatePlan, back_to_input, frame_times
from anylift.representation import visibility_mask

MIN_SEEN_KEYPOINTS = 4


def seen_frames(keypoints: np.ndarray) -> np.ndarray:
    """(T,) bool: frames with :data:`MIN_SEEN_KEYPOINTS` or more visible keypoints ((T, K, 3) input)."""
    return visibility_mask(keypoints).sum(axis=1) >= MIN_SEEN_KEYPOINTS


@dataclass(frozen=True)
class SpanPlan:
    """Where the person is in the clip: ``seen`` (T,), the ``first`` and ``last`` seen frames, every
    input frame's time (s, ``times``) and the whole input ``camera`` (None: no camera file)."""

    seen: np.ndarray
    first: int
    last: int
    times: np.ndarray
    camera: Camera | None

    @property
    def cropped(self) -> bool:
        return self.first > 0 or self.last < len(self.seen) - 1


def crop(
    keypoints: Keypoints2D, camera: Camera | None, times: np.ndarray | None = None
) -> tuple[Keypoints2D, Camera | None, np.ndarray | None, SpanPlan]:
    """The clip from the person's first to last seen frame: (keypoints, camera, frame times, plan);
    the inputs themselves when the person is seen in the first and last frames (or nowhere)."""
    seen = seen_frames(keypoints.keypoints)
    all_times = frame_times(keypoints.num_frames, keypoints.fps, times, path=keypoints.path)
    first, last = seen_span(seen)
    plan = SpanPlan(seen=seen, first=first, last=last, times=all_times, camera=camera)
    if not plan.cropped:
        return keypoints, camera, times, plan
    part = slice(first, last + 1)
    objects = [replace(o, keypoints=o.keypoints[part]) for o in keypoints.objects]
    kp = replace(keypoints, keypoints=keypoints.keypoints[part], objects=objects)
    cam = None
    if camera is not None:
        cam = replace(camera, world_to_camera=camera.world_to_camera[part])
    return kp, cam, None if times is None else all_times[part], plan


def restore(motion: Motion, plan: SpanPlan, scale: float = 1.0) -> Motion:
    """The ``motion`` lifted on the span, over every input frame, with ``seen``.

    Args:
        motion: the result of the cropped clip (``plan.last - plan.first + 1`` frames).
        plan: from :func:`crop`.
        scale: the result world's file units per metre (:attr:`ResultWorld.scale`).
    """
    if not plan.cropped:
        return replace(motion, seen=plan.seen)
    held = RatePlan(plan.times, plan.times[plan.first : plan.last + 1], float(motion.fps), True)
    out = back_to_input(motion, held)  # linear / slerp between equal times: exact; held at the ends
    if plan.camera is not None:
        out = replace(out, world_to_camera=_cameras_in_result(plan, motion.world_to_camera, scale))
    return replace(out, seen=plan.seen)


def _cameras_in_result(plan: SpanPlan, span_w2c: np.ndarray, scale: float) -> np.ndarray:
    """(T, 4, 4) the whole input camera in the result's world.

    A result point X is a file point X_f as X = Q^T X_f / s + d (the result world is the file's,
    turned, in metres, shifted to its floor), so a file camera [R_t | t_t] becomes
    [R_t Q | t_t / s - R_t Q d] in the result; Q and d are read off the span's frames.
    """
    w2c_in = plan.camera.world_to_camera
    r_in, t_in = w2c_in[:, :3, :3], w2c_in[:, :3, 3]
    span = slice(plan.first, plan.last + 1)
    r_span, t_span = r_in[span], t_in[span]
    q = np.einsum("tji,tjk->ik", r_span, span_w2c[:, :3, :3])  # sum of R_t^T B_t
    u, _, vt = np.linalg.svd(q)
    q = u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt
    resid = t_span / scale - span_w2c[:, :3, 3]  # R_t Q d
    d = np.mean(np.einsum("ji,tkj,tk->ti", q, r_span, resid), axis=0)
    out = np.zeros_like(w2c_in)
    out[:, :3, :3] = r_in @ q
    out[:, :3, 3] = t_in / scale - out[:, :3, :3] @ d
    out[:, 3, 3] = 1.0
    return out
