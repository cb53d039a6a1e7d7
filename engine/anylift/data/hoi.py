"""Synthetic human-object interaction (HOI) sequences from mocap clips.

An object (a template of :mod:`anylift.object_templates`, at a random plausible scale) is added to a body
motion (T, 17, 3) with a scripted interaction whose timing comes from the hands:

- ``carry``: the object rests on the floor; the pick-up frame is where the wrists are lowest in
  the first part of the clip (reaching down), the put-down frame where they are lowest in the
  last part. Pick-up and put-down blend (smoothstep; slerp for rotations, over about 0.4 s)
  between the resting pose and the held pose; in between the object is carried: its centre at
  the wrists' midpoint (pushed out to clear the pelvis), its y axis across the hands, z as close
  to up as that allows, smoothed over time, never below the floor.
- ``drag``: the object stays on the floor; between two random frames it moves rigidly with the
  body's horizontal position and heading (dragged or pushed), then rests again.

The resting poses stand the object upright on the floor (lowest keypoint at z = 0), beside the
body in the direction of the hands at the contact frame, turned like the held pose.

:func:`make_hoi_sequence` builds an evaluation or training sequence from a named clip: the body
and object are projected through the same camera trajectory (:mod:`anylift.data.trajectories`),
object keypoints are masked at random (independent drops plus occlusion bursts), and both the 2D
input (:class:`anylift.io.keypoints.Keypoints2D` with an :class:`~anylift.io.keypoints.ObjectTrack`)
and the 3D truth come back. Held-out clips need ``allow_heldout=True`` (evaluation only).

:class:`HoiMotionBank` is the training side: a :class:`anylift.data.windows.MotionBank` whose
windows carry an object, returned as (T, 17 + M, 3) points with the M object keypoints after the
17 body joints (the layout of HOI models, ``DenoiserConfig.num_object_keypoints = M``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation, Slerp

from anylift.data import trajectories
from anylift.data.augment import AugmentConfig, heading, hip_mid, loop_sequence
from anylift.data.mocap import HELDOUT_CLIPS, TRAIN_CLIPS, load_clip
from anylift.data.windows import MotionBank
from anylift.errors import InputError
from anylift.geometry.camera import project
from anylift.io.cameras import Camera
from anylift.io.keypoints import Keypoints2D, ObjectTrack
from anylift.object_templates import ObjectTemplate, get_template

SCENARIOS: tuple[str, ...] = ("carry", "drag")
PHASES: tuple[str, ...] = ("rest", "lift", "carry", "place", "drag")
"""Phase names; :attr:`ObjectMotion.phase` holds indices into this tuple."""
REST, LIFT, CARRY, PLACE, DRAG = range(5)

SCALE_RANGES: dict[str, tuple[float, float]] = {"box": (0.6, 1.4), "chair": (0.85, 1.15), "table": (0.6, 1.1)}
"""Uniform scale range of each category's template (the default box is 45 x 35 x 30 cm)."""
DEFAULT_SCENARIOS: dict[str, tuple[str, ...]] = {"box": SCENARIOS, "chair": SCENARIOS, "table": ("drag",)}
"""Scenarios drawn for a category when none is asked (nobody carries a table in one hand-span)."""

L_WRIST, R_WRIST = 9, 10
TRANSITION_S = 0.4  # seconds of a pick-up or put-down
CLEARANCE = 0.15  # metres between the pelvis and the near side of an object


@dataclass
class ObjectMotion:
    """An object's 3D truth over T frames (world metres).

    Attributes:
        rotation: (T, 3, 3) object frame -> world. translation: (T, 3) object origin.
        scale: uniform scale of the template's canonical keypoints.
        phase: (T,) int8 indices into :data:`PHASES`.
        scenario: ``"carry"`` or ``"drag"``.
    """

    rotation: np.ndarray
    translation: np.ndarray
    scale: float
    phase: np.ndarray
    scenario: str

    @property
    def contact(self) -> np.ndarray:
        """(T,) bool: frames where the person moves the object."""
        return self.phase != REST

    def keypoints(self, template: ObjectTemplate) -> np.ndarray:
        """(T, M, 3) world keypoints ``s R p + t``."""
        return (
            self.scale * np.einsum("tij,mj->tmi", self.rotation, template.canonical)
            + self.translation[:, None]
        )


def _rot_z(yaw) -> np.ndarray:
    yaw = np.asarray(yaw, dtype=np.float64)
    return Rotation.from_euler("z", yaw[..., None] if yaw.ndim else yaw).as_matrix()


def _rest_translation(
    rotation: np.ndarray, xy: np.ndarray, scale: float, template: ObjectTemplate
) -> np.ndarray:
    """(3,) origin that puts the object's lowest keypoint on the floor at horizontal centre ``xy``."""
    pts = scale * template.canonical @ rotation.T
    centre = 0.5 * (pts.min(0) + pts.max(0))
    return np.array([xy[0] - centre[0], xy[1] - centre[1], -pts[:, 2].min()])


def _half_extent(template: ObjectTemplate, scale: float) -> float:
    return 0.5 * scale * float(np.linalg.norm(np.ptp(template.canonical[:, :2], axis=0)))


def _outward(body: np.ndarray, point: np.ndarray, min_distance: float) -> np.ndarray:
    """(T, 2) horizontal positions at least ``min_distance`` from the pelvis, towards ``point``."""
    pelvis = hip_mid(body)[:, :2]
    offset = point[:, :2] - pelvis
    dist = np.linalg.norm(offset, axis=-1, keepdims=True)
    facing = heading(body)
    forward = np.stack([np.cos(facing), np.sin(facing)], -1)
    direction = np.where(dist > 1e-3, offset / np.maximum(dist, 1e-9), forward)
    return pelvis + direction * np.maximum(dist, min_distance)


def _smooth_rotations(rotation: np.ndarray, sigma: float) -> np.ndarray:
    quat = Rotation.from_matrix(rotation).as_quat()
    # Sign-continuous quaternions, so averaging neighbours averages rotations.
    flips = np.cumprod(np.where(np.sum(quat[1:] * quat[:-1], -1) < 0, -1.0, 1.0))
    quat[1:] *= flips[:, None]
    quat = gaussian_filter1d(quat, sigma, axis=0, mode="nearest")
    return Rotation.from_quat(quat / np.linalg.norm(quat, axis=-1, keepdims=True)).as_matrix()


def _held_poses(body: np.ndarray, template: ObjectTemplate, scale: float, fps: float):
    """(T, 3, 3), (T, 3): the object held between the wrists (see the module docstring)."""
    lw, rw = body[:, L_WRIST], body[:, R_WRIST]
    across = lw - rw
    facing = heading(body)
    left = np.stack([-np.sin(facing), np.cos(facing), np.zeros_like(facing)], -1)
    across = np.where(np.linalg.norm(across, axis=-1, keepdims=True) > 0.05, across, left)
    y = across / np.linalg.norm(across, axis=-1, keepdims=True)
    up = np.array([0.0, 0.0, 1.0])
    z = up - np.sum(y * up, -1, keepdims=True) * y
    bad = np.linalg.norm(z, axis=-1) < 1e-3  # hands one above the other: keep the heading's frame
    z[bad] = up
    y[bad] = left[bad]
    z /= np.linalg.norm(z, axis=-1, keepdims=True)
    x = np.cross(y, z)
    rotation = _smooth_rotations(np.stack([x, y, z], -1), sigma=0.1 * fps)
    hands = 0.5 * (lw + rw)
    centre = np.empty_like(hands)
    centre[:, :2] = _outward(body, hands, _half_extent(template, scale) + CLEARANCE)
    centre[:, 2] = hands[:, 2]
    centre = gaussian_filter1d(centre, 0.05 * fps, axis=0, mode="nearest")
    pts_centre = scale * template.canonical.mean(0)
    translation = centre - rotation @ pts_centre
    pts = scale * np.einsum("tij,mj->tmi", rotation, template.canonical) + translation[:, None]
    translation[:, 2] -= np.minimum(pts[..., 2].min(-1), 0.0)  # never through the floor
    return rotation, translation


def _yaw_of(rotation: np.ndarray) -> float:
    x = rotation[:, 0]
    return float(math.atan2(x[1], x[0])) if np.hypot(x[0], x[1]) > 1e-6 else 0.0


def _blend(r0, t0, r1, t1, weight: np.ndarray):
    """Per-frame slerp / lerp from (r0 (T,3,3), t0 (T,3)) to (r1, t1) with weight (T,) in [0, 1]."""
    out_r = np.empty_like(r0)
    for k, a in enumerate(weight):
        pair = Rotation.from_matrix(np.stack([r0[k], r1[k]]))
        out_r[k] = Slerp([0.0, 1.0], pair)(float(a)).as_matrix()
    return out_r, (1 - weight)[:, None] * t0 + weight[:, None] * t1


def _smoothstep(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def _contact_frames(body: np.ndarray, rng: np.random.Generator, by_hands: bool) -> tuple[int, int]:
    t = len(body)
    a_lo, a_hi = int(0.1 * t), max(int(0.35 * t), int(0.1 * t) + 1)
    b_lo, b_hi = int(0.65 * t), max(int(0.9 * t), int(0.65 * t) + 1)
    if by_hands:
        hands_z = np.minimum(body[:, L_WRIST, 2], body[:, R_WRIST, 2])
        return a_lo + int(np.argmin(hands_z[a_lo:a_hi])), b_lo + int(np.argmin(hands_z[b_lo:b_hi]))
    return int(rng.integers(a_lo, a_hi)), int(rng.integers(b_lo, b_hi))


def attach_object(
    body: np.ndarray,
    template: ObjectTemplate,
    rng: np.random.Generator,
    *,
    scenario: str | None = None,
    scale: float | None = None,
    fps: float = 30.0,
) -> ObjectMotion:
    """Script an object interacting with a body motion (module docstring).

    Args:
        body: (T, 17, 3) COCO-17 keypoints, Z-up world metres, feet on z = 0 (T >= 10).
        template: the object's template.
        rng: randomness (scale, scenario, drag timing).
        scenario: ``"carry"`` or ``"drag"``; default drawn from :data:`DEFAULT_SCENARIOS`.
        scale: the template's scale; default uniform in :data:`SCALE_RANGES` (0.8-1.2 for others).
        fps: frame rate of ``body`` (transition lengths are in seconds).

    Returns:
        :class:`ObjectMotion`.
    """
    body = np.asarray(body, dtype=np.float64)
    t = len(body)
    if body.ndim != 3 or body.shape[1:] != (17, 3) or t < 10:
        raise InputError(f"has shape {body.shape}", field="body", expected="(T, 17, 3) with T >= 10")
    if scenario is None:
        options = DEFAULT_SCENARIOS.get(template.category, SCENARIOS)
        scenario = options[int(rng.integers(len(options)))]
    if scenario not in SCENARIOS:
        raise InputError(f"is {scenario!r}", field="scenario", expected="one of " + ", ".join(SCENARIOS))
    if scale is None:
        scale = float(rng.uniform(*SCALE_RANGES.get(template.category, (0.8, 1.2))))
    t_a, t_b = _contact_frames(body, rng, by_hands=scenario == "carry")
    phase = np.full(t, REST, dtype=np.int8)
    if scenario == "carry":
        held_r, held_t = _held_poses(body, template, scale, fps)
        rest = []
        for k in (t_a, t_b):
            r = _rot_z(_yaw_of(held_r[k]))
            xy = held_t[k, :2] + (held_r[k] @ (scale * template.canonical.mean(0)))[:2]
            rest.append((r, _rest_translation(r, xy, scale, template)))
        n = max(1, min(round(TRANSITION_S * fps), (t_b - t_a) // 3))
        frames = np.arange(t)
        lift_w = _smoothstep((frames - t_a) / n)  # 0 before the pick-up, 1 once held
        place_w = _smoothstep((t_b - frames) / n)  # 1 while held, 0 once put down
        r0 = np.broadcast_to(rest[0][0], (t, 3, 3))
        r1 = np.broadcast_to(rest[1][0], (t, 3, 3))
        rot, trans = _blend(r0, np.broadcast_to(rest[0][1], (t, 3)), held_r, held_t, lift_w)
        late = frames >= (t_a + t_b) / 2
        rot_p, trans_p = _blend(r1, np.broadcast_to(rest[1][1], (t, 3)), held_r, held_t, place_w)
        rot[late], trans[late] = rot_p[late], trans_p[late]
        # Slerping between resting and held can tip a corner below the floor: lift it back.
        lowest = (scale * np.einsum("tij,mj->tmi", rot, template.canonical) + trans[:, None])[..., 2].min(-1)
        trans[:, 2] -= np.minimum(lowest, 0.0)
        phase[(frames >= t_a) & (frames < t_a + n)] = LIFT
        phase[(frames >= t_a + n) & (frames < t_b - n)] = CARRY
        phase[(frames >= t_b - n) & (frames < t_b)] = PLACE
    else:
        pelvis = hip_mid(body)
        facing = gaussian_filter1d(np.unwrap(heading(body)), 0.1 * fps, mode="nearest")
        hands = 0.5 * (body[:, L_WRIST] + body[:, R_WRIST])
        start_xy = _outward(
            body[t_a : t_a + 1], hands[t_a : t_a + 1], _half_extent(template, scale) + CLEARANCE
        )[0]
        yaw0 = facing[t_a] + float(rng.uniform(-0.5, 0.5))
        local = _rot_z(-facing[t_a])[:2, :2] @ (start_xy - pelvis[t_a, :2])
        k = np.clip(np.arange(t), t_a, t_b)  # held still before t_a and after t_b
        yaw = yaw0 + facing[k] - facing[t_a]
        rz = _rot_z(facing[k])
        xy = pelvis[k, :2] + np.einsum("tij,j->ti", rz[:, :2, :2], local)
        rot = _rot_z(yaw)
        trans = np.stack([_rest_translation(rot[i], xy[i], scale, template) for i in range(t)])
        phase[(np.arange(t) >= t_a) & (np.arange(t) < t_b)] = DRAG
    return ObjectMotion(rotation=rot, translation=trans, scale=float(scale), phase=phase, scenario=scenario)


@dataclass
class HoiSequence:
    """A synthetic HOI clip: 2D input and 3D truth.

    Attributes:
        clip: mocap clip name. fps: frame rate.
        body_keypoints3d: (T, 17, 3) world metres.
        template: the object's template; object: its :class:`ObjectMotion` (truth).
        object_keypoints3d: (T, M, 3) world metres (truth, every keypoint).
        camera: the camera trajectory (:class:`anylift.io.cameras.Camera`).
        keypoints2d: :class:`Keypoints2D` with one :class:`ObjectTrack` (the lift's input).
        object_visible: (T, M) bool, object keypoints given a positive score in ``keypoints2d``.
    """

    clip: str
    fps: float
    body_keypoints3d: np.ndarray
    template: ObjectTemplate
    object: ObjectMotion
    object_keypoints3d: np.ndarray
    camera: Camera
    keypoints2d: Keypoints2D
    object_visible: np.ndarray

    @property
    def keypoints3d(self) -> np.ndarray:
        """(T, 17 + M, 3): body joints then object keypoints (the HOI model layout)."""
        return np.concatenate([self.body_keypoints3d, self.object_keypoints3d], axis=1)


def object_mask(
    num_frames: int,
    num_keypoints: int,
    rng: np.random.Generator,
    *,
    drop: float = 0.15,
    burst_prob: float = 0.5,
    burst_s: tuple[float, float] = (0.2, 0.8),
    fps: float = 30.0,
) -> np.ndarray:
    """(T, M) bool visibility: each keypoint dropped with ``drop``; with ``burst_prob`` one occlusion
    burst (``burst_s`` seconds) hiding a random half of the keypoints."""
    visible = rng.random((num_frames, num_keypoints)) >= drop
    if rng.random() < burst_prob:
        length = max(1, round(rng.uniform(*burst_s) * fps))
        start = int(rng.integers(0, max(1, num_frames - length)))
        hidden = rng.permutation(num_keypoints)[: max(1, num_keypoints // 2)]
        visible[start : start + length, hidden] = False
    return visible


def _observe(points: np.ndarray, camera: Camera, visible: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(T, N, 3) [x, y, score]: score in [0.6, 1] where visible, in front and inside the image."""
    px, depth = project(points, camera.K, camera.world_to_camera, return_depth=True)
    w, h = camera.image_size
    inside = (depth > 0.05) & (px[..., 0] >= 0) & (px[..., 0] < w) & (px[..., 1] >= 0) & (px[..., 1] < h)
    seen = visible & inside
    score = np.where(seen, rng.uniform(0.6, 1.0, size=seen.shape), 0.0)
    return np.concatenate([np.where(seen[..., None], px, np.nan), score[..., None]], axis=-1)


def make_hoi_sequence(
    clip: str,
    seed: int | np.random.Generator = 0,
    *,
    category: str = "box",
    template: ObjectTemplate | None = None,
    scenario: str | None = None,
    fps: float = 30.0,
    num_frames: int | None = None,
    split: str | None = None,
    allow_heldout: bool = False,
    drop: float = 0.15,
    name: str | None = None,
    include_canonical: bool = False,
) -> HoiSequence:
    """A synthetic HOI sequence from one mocap clip (module docstring).

    Args:
        clip: a :data:`~anylift.data.mocap.TRAIN_CLIPS` name, or a held-out one with ``allow_heldout``.
        seed: seed or generator (scale, scenario, camera, masking).
        category: built-in category (ignored when ``template`` is given).
        template: a template to use instead (e.g. a user-defined object).
        scenario: ``"carry"`` / ``"drag"`` (default: drawn).
        fps: frame rate. num_frames: default the whole clip; fewer keeps the first frames, more
            plays the clip on (:func:`anylift.data.augment.loop_sequence`: wrap clips repeat and
            travel on, the others hold their last pose).
        split: camera trajectory split, default ``"test"`` for held-out clips, else ``"train"``.
        allow_heldout: evaluation code only.
        drop: per-keypoint drop probability of object keypoints (plus an occlusion burst).
        name: the object's name (default the category).
        include_canonical: write the template's canonical keypoints into the ObjectTrack
            (always for a template that is not a built-in category's default).
    """
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
    mocap = load_clip(clip, fps=fps, allow_heldout=allow_heldout)
    body = mocap.keypoints3d
    if num_frames is not None and num_frames > len(body):
        body = loop_sequence(body, num_frames, mocap.loop, np.random.default_rng(0))
    elif num_frames is not None:
        body = body[:num_frames]
    if template is None:
        template = get_template(category)
        builtin = True
    else:
        builtin = False
    if split is None:
        split = "test" if clip in HELDOUT_CLIPS else "train"
    motion = attach_object(body, template, rng, scenario=scenario, fps=fps)
    obj3d = motion.keypoints(template)
    t = len(body)
    camera = trajectories.sample_trajectory(rng, t, hip_mid(body), split=split, fps=fps)
    body2d = _observe(body, camera, np.ones((t, 17), bool), rng)
    visible = object_mask(t, template.num_keypoints, rng, drop=drop, fps=fps)
    obj2d = _observe(obj3d, camera, visible, rng)
    track = ObjectTrack(
        name=name or template.category,
        category=template.category,
        keypoints=obj2d,
        canonical=template.canonical.copy() if (include_canonical or not builtin) else None,
    )
    kp = Keypoints2D(keypoints=body2d, fps=fps, image_size=camera.image_size, objects=[track])
    return HoiSequence(
        clip=clip,
        fps=float(fps),
        body_keypoints3d=body,
        template=template,
        object=motion,
        object_keypoints3d=obj3d,
        camera=camera,
        keypoints2d=kp,
        object_visible=obj2d[..., 2] > 0,
    )


class HoiMotionBank(MotionBank):
    """Training windows with an object: (T, 17 + M, 3) body joints then object keypoints.

    Only training clips (the parent refuses held-out ones). Each window is an augmented body
    window (:meth:`MotionBank.window`) with an object attached by :func:`attach_object`; masking of
    object keypoints happens where the window is observed (e.g.
    :func:`anylift.models.random_observation_mask` with ``num_joints=17``).

    Args:
        category: built-in category, or pass ``template``.
        clips, fps: as :class:`MotionBank`.
        scenario: fixed scenario, default drawn per window.
    """

    def __init__(
        self,
        category: str = "box",
        clips: tuple[str, ...] | list[str] = TRAIN_CLIPS,
        fps: float = 30.0,
        *,
        template: ObjectTemplate | None = None,
        scenario: str | None = None,
    ) -> None:
        super().__init__(clips, fps)
        self.template = template if template is not None else get_template(category)
        self.scenario = scenario

    @property
    def num_object_keypoints(self) -> int:
        """M (``DenoiserConfig.num_object_keypoints``)."""
        return self.template.num_keypoints

    def window_with_object(
        self, rng: np.random.Generator, num_frames: int, augment: AugmentConfig
    ) -> tuple[np.ndarray, ObjectMotion]:
        """An augmented (T, 17, 3) body window and the :class:`ObjectMotion` attached to it."""
        body = super().window(rng, num_frames, augment)
        return body, attach_object(body, self.template, rng, scenario=self.scenario, fps=self.fps)

    def window(self, rng: np.random.Generator, num_frames: int, augment: AugmentConfig) -> np.ndarray:
        """(num_frames, 17 + M, 3) Z-up metres: body joints then the object's keypoints."""
        body, motion = self.window_with_object(rng, num_frames, augment)
        return np.concatenate([body, motion.keypoints(self.template)], axis=1)
