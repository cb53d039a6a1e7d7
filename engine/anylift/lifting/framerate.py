"""Any input frame rate: lift at the model's rate, answer at the input's frame times.

The models are trained on 30 fps windows (:data:`MODEL_FPS`). Footage at 10-60 fps, or at a
variable rate (``frame_times`` of the keypoints file, seconds), is resampled onto a regular
30 fps time line before lifting (:func:`to_model_rate`): keypoints by linear interpolation
between detected neighbours (a joint missing on either side stays missing; its score is the
lower neighbour's), cameras by slerp of the rotation and linear interpolation of the centre.
The lifted :class:`~anylift.io.motion.Motion` is then sampled back at the input's own frame
times (:func:`back_to_input`): positions linearly, rotations (SMPL pose, root, cameras,
objects) by slerp. Input already at the model's rate (within 1 %, regular) passes unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial.transform import Rotation

from anylift.errors import InputError
from anylift.io.cameras import Camera
from anylift.io.keypoints import Keypoints2D, ObjectTrack
from anylift.io.motion import Motion

MODEL_FPS = 30.0
"""Frame rate of the shipped models' training windows."""


@dataclass(frozen=True)
class RatePlan:
    """How a clip was resampled: ``input_times`` (T,) and ``model_times`` (T',) seconds from the
    first frame; ``input_fps`` the input's (mean) rate. ``resampled`` False: nothing was done."""

    input_times: np.ndarray
    model_times: np.ndarray
    input_fps: float
    resampled: bool


def frame_times(num_frames: int, fps: float, times=None, *, path=None) -> np.ndarray:
    """(T,) seconds from the first frame: ``times`` checked (finite, increasing, length T), else t / fps."""
    if times is None:
        return np.arange(num_frames) / float(fps)
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    if t.shape[0] != num_frames:
        raise InputError(f"has {t.shape[0]} values", path=path, field="frame_times",
                         expected=f"one time per frame ({num_frames})")  # fmt: skip
    if not np.isfinite(t).all() or (num_frames > 1 and not (np.diff(t) > 0).all()):
        raise InputError("is not finite and strictly increasing", path=path, field="frame_times",
                         expected="seconds from the first frame, increasing")  # fmt: skip
    return t - t[0]


def _bracket(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each time in ``dst``: index i of the source interval [src[i], src[i+1]] and weight in [0, 1]."""
    if len(src) == 1:
        return np.zeros(len(dst), dtype=int), np.zeros(len(dst))
    i = np.clip(np.searchsorted(src, dst, side="right") - 1, 0, len(src) - 2)
    w = np.clip((dst - src[i]) / (src[i + 1] - src[i]), 0.0, 1.0)
    return i, w


def resample_linear(values: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(T, ...) values at times ``src`` -> (T', ...) at ``dst`` (linear; held at the ends)."""
    v = np.asarray(values, dtype=np.float64)
    i, w = _bracket(src, dst)
    w = w.reshape(-1, *([1] * (v.ndim - 1)))
    j = np.minimum(i + 1, len(v) - 1)
    return (1 - w) * v[i] + w * v[j]


def resample_rotations(matrices: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(T, ..., 3, 3) rotation matrices at ``src`` -> (T', ..., 3, 3) at ``dst`` by slerp."""
    m = np.asarray(matrices, dtype=np.float64)
    i, w = _bracket(src, dst)
    j = np.minimum(i + 1, len(m) - 1)
    inner = m.shape[1:-2]
    a = Rotation.from_matrix(m[i].reshape(-1, 3, 3))
    b = Rotation.from_matrix(m[j].reshape(-1, 3, 3))
    ww = np.repeat(w, int(np.prod(inner, dtype=int)))
    out = a * Rotation.from_rotvec((a.inv() * b).as_rotvec() * ww[:, None])
    return out.as_matrix().reshape(len(dst), *inner, 3, 3)


def _resample_axis_angle(aa: np.ndarray, src, dst) -> np.ndarray:
    """(T, 3J) axis-angle -> (T', 3J) by slerp per joint."""
    t, n = aa.shape
    mats = Rotation.from_rotvec(aa.reshape(-1, 3)).as_matrix().reshape(t, n // 3, 3, 3)
    out = resample_rotations(mats, src, dst)
    return Rotation.from_matrix(out.reshape(-1, 3, 3)).as_rotvec().reshape(len(dst), n)


def resample_keypoints(keypoints: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(T, K, 3) ``[x, y, score]`` at ``src`` -> (T', K, 3) at ``dst``.

    Positions interpolate linearly between the two neighbouring input frames; a joint undetected
    (score 0) in either neighbour is undetected (NaN, score 0) unless the output time falls on
    the detected one; the score is the lower of the two used.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    i, w = _bracket(src, dst)
    j = np.minimum(i + 1, len(kp) - 1)
    a, b = kp[i], kp[j]
    w3 = w[:, None]
    on_a, on_b = w3 <= 1e-9, w3 >= 1 - 1e-9
    ok_a, ok_b = a[..., 2] > 0, b[..., 2] > 0
    ok = (ok_a & ok_b) | (on_a & ok_a) | (on_b & ok_b)
    xy = np.where(on_a[..., None], a[..., :2], np.where(on_b[..., None], b[..., :2],
                  (1 - w3[..., None]) * a[..., :2] + w3[..., None] * b[..., :2]))  # fmt: skip
    score = np.where(on_a, a[..., 2], np.where(on_b, b[..., 2], np.minimum(a[..., 2], b[..., 2])))
    out = np.concatenate([xy, score[..., None]], axis=-1)
    out[~ok] = [np.nan, np.nan, 0.0]
    return out


def resample_cameras(world_to_camera: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(T, 4, 4) cameras -> (T', 4, 4): rotation by slerp, camera centre linear."""
    w2c = np.asarray(world_to_camera, dtype=np.float64)
    rot = resample_rotations(w2c[:, :3, :3], src, dst)
    centre = -np.einsum("tji,tj->ti", w2c[:, :3, :3], w2c[:, :3, 3])
    c = resample_linear(centre, src, dst)
    out = np.zeros((len(dst), 4, 4))
    out[:, :3, :3] = rot
    out[:, :3, 3] = -np.einsum("tij,tj->ti", rot, c)
    out[:, 3, 3] = 1.0
    return out


def to_model_rate(
    keypoints: Keypoints2D,
    camera: Camera | None,
    *,
    times: np.ndarray | None = None,
    model_fps: float = MODEL_FPS,
) -> tuple[Keypoints2D, Camera | None, RatePlan]:
    """Resample keypoints (and the camera, same T) onto a regular ``model_fps`` time line.

    Args:
        keypoints: (T, 17, 3) at ``keypoints.fps``, or at ``times`` when given.
        camera: the camera of the same T frames, or None.
        times: (T,) seconds of each frame (variable-rate footage), or None.

    Returns:
        (keypoints at model_fps, camera at model_fps, :class:`RatePlan`); the inputs themselves
        when they are already regular at the model's rate.
    """
    t_len = keypoints.num_frames
    src = frame_times(t_len, keypoints.fps, times, path=keypoints.path)
    regular = times is None or np.allclose(np.diff(src), 1.0 / keypoints.fps, rtol=0.01, atol=0)
    input_fps = keypoints.fps if times is None or t_len < 2 else (t_len - 1) / max(src[-1], 1e-9)
    if regular and abs(keypoints.fps / model_fps - 1.0) <= 0.01:
        return keypoints, camera, RatePlan(src, src, float(keypoints.fps), False)
    n_out = int(np.floor(src[-1] * model_fps + 1e-6)) + 1
    dst = np.arange(n_out) / model_fps
    objects = [
        ObjectTrack(name=o.name, category=o.category, keypoints=resample_keypoints(o.keypoints, src, dst),
                    canonical=o.canonical)
        for o in keypoints.objects
    ]  # fmt: skip
    kp = replace(keypoints, keypoints=resample_keypoints(keypoints.keypoints, src, dst), fps=float(model_fps),
                 objects=objects)  # fmt: skip
    cam = None
    if camera is not None:
        cam = replace(camera, world_to_camera=resample_cameras(camera.world_to_camera, src, dst))
    return kp, cam, RatePlan(src, dst, float(input_fps), True)


def back_to_input(motion: Motion, plan: RatePlan, body=None) -> Motion:
    """The ``motion`` lifted at the model's rate, sampled at the input's frame times (T frames).

    Positions are interpolated linearly and rotations by slerp; with ``body`` (the
    :class:`~anylift.body.model.BodyModel` the motion was fitted with) the joints are then the
    body's forward kinematics of the resampled parameters, as in every result (a linear blend of
    joints would leave them centimetres off the rotations' skeleton).
    """
    if not plan.resampled:
        return motion
    src, dst = plan.model_times, plan.input_times

    def lin(a):
        return None if a is None else resample_linear(a, src, dst)

    samples = motion.samples_keypoints3d
    if samples is not None:
        samples = np.moveaxis(resample_linear(np.moveaxis(samples, 1, 0), src, dst), 0, 1)
    obj_rot = obj_tr = None
    if motion.object_names is not None:
        obj_rot = np.moveaxis(resample_rotations(np.moveaxis(motion.object_rotation, 1, 0), src, dst), 0, 1)
        obj_tr = np.moveaxis(resample_linear(np.moveaxis(motion.object_translation, 1, 0), src, dst), 0, 1)
    out = replace(
        motion,
        fps=float(plan.input_fps),
        joints=lin(motion.joints),
        keypoints3d=lin(motion.keypoints3d),
        global_orient=_resample_axis_angle(motion.global_orient, src, dst),
        body_pose=_resample_axis_angle(motion.body_pose, src, dst),
        transl=lin(motion.transl),
        world_to_camera=resample_cameras(motion.world_to_camera, src, dst),
        keypoints3d_std=lin(motion.keypoints3d_std),
        root_std=lin(motion.root_std),
        keypoints3d_pose_std=lin(motion.keypoints3d_pose_std),
        samples_keypoints3d=samples,
        object_rotation=obj_rot,
        object_translation=obj_tr,
    )
    if body is not None:
        from anylift.fitting.smpl_fit import posed_joints

        out.joints = posed_joints(body, out.betas, out.global_orient, out.body_pose, out.transl)
    return out
