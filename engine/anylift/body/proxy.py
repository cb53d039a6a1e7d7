"""The bundled proxy body: a deterministic SMPL-format model that ships with the engine.

The official SMPL model cannot be redistributed, so the engine generates its own body the
first time it is needed: a simple mannequin (one closed, rounded tube per body part: torso,
neck, head with nose and ears, collars, upper arms, forearms, hands with thumbs, thighs,
shins, feet) with exactly SMPL's interface, so that ``smplx.create(path, model_type="smpl")``
loads it and every piece of code written for SMPL runs unchanged:

- 6890 vertices in SMPL's own frame: Y up, facing +Z, T-pose, metres, left side at +x,
  pelvis near the origin; about 1.72 m tall (sole at y = -1.165, top of the head at y = 0.555).
- The 24-joint SMPL kinematic tree (``kintree_table``) with SMPL-like rest joints
  (:data:`REST_JOINTS`), a sparse non-negative ``J_regressor`` (rows sum to 1) that
  returns exactly those joints from the template and follows shape changes.
- Skinning ``weights`` rigid per part with smooth blends across each joint.
- 10 shape directions (``shapedirs``, unit scale like SMPL's betas in [-3, 3]); see
  :data:`SHAPE_DIRECTIONS`. ``posedirs`` is all zeros (no pose-corrective shapes).
- The vertices smplx reads as extra keypoints (``smplx.vertex_ids.vertex_ids["smplh"]``:
  nose, eyes, ears, toes, heels, fingertips) sit on the matching body parts, so COCO face
  keypoints and foot keypoints computed the SMPL way land in the right place.

The pickle holds plain numpy arrays and a ``scipy.sparse.csc_matrix`` (no chumpy), with the
same keys, shapes and dtypes as the official ``SMPL_NEUTRAL.pkl``, plus ``J`` (rest joints)
and ``anylift_proxy_version``.

Cache: :func:`proxy_model_path` writes it once to
``$ANYLIFT_CACHE/body/smpl-proxy-v{PROXY_VERSION}/smpl/SMPL_NEUTRAL.pkl`` (default cache
``~/.cache/anylift``), atomically; the generator version is part of the path, so a new
generator never reuses an old file. The folder two levels up
(:func:`proxy_model_dir`) is what ``smplx.create(folder, model_type="smpl")`` expects.
"""

from __future__ import annotations

import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.optimize
import scipy.sparse

from anylift.io.atomic import atomic_path

PROXY_VERSION = 1
NUM_VERTICES = 6890
NUM_JOINTS = 24
NUM_BETAS = 10
NUM_POSE_BASIS = 207  # 23 joints x 9 rotation-matrix entries, as in SMPL

JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
)  # fmt: skip
PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

_J = {name: i for i, name in enumerate(JOINT_NAMES)}

# SMPL frame (Y up, facing +Z, left at +x), metres; close to the official neutral model's
# rest joints, made exactly left/right symmetric.
_LEFT_REST = {
    "left_hip": (0.070, -0.320, 0.015),
    "left_knee": (0.105, -0.700, 0.020),
    "left_ankle": (0.090, -1.100, -0.020),
    "left_foot": (0.120, -1.155, 0.100),
    "left_collar": (0.075, 0.200, -0.010),
    "left_shoulder": (0.175, 0.225, -0.020),
    "left_elbow": (0.430, 0.215, -0.035),
    "left_wrist": (0.685, 0.220, -0.045),
    "left_hand": (0.770, 0.210, -0.055),
}
_CENTRE_REST = {
    "pelvis": (0.0, -0.230, 0.020),
    "spine1": (0.0, -0.110, 0.010),
    "spine2": (0.0, 0.025, 0.030),
    "spine3": (0.0, 0.080, 0.030),
    "neck": (0.0, 0.290, -0.010),
    "head": (0.0, 0.370, 0.040),
}


def _rest_joints() -> np.ndarray:
    joints = np.zeros((NUM_JOINTS, 3))
    for name, xyz in _CENTRE_REST.items():
        joints[_J[name]] = xyz
    for name, (x, y, z) in _LEFT_REST.items():
        joints[_J[name]] = (x, y, z)
        joints[_J["right" + name[4:]]] = (-x, y, z)
    return joints


REST_JOINTS: np.ndarray = _rest_joints()
"""(24, 3) rest joint positions of the proxy (SMPL frame, metres, betas = 0)."""

SOLE_Y = -1.165
"""Height of the soles in the rest pose (SMPL frame, metres)."""

SHAPE_DIRECTIONS = (
    "height (uniform scale about the pelvis, +3.5 % per unit)",
    "torso girth / weight",
    "leg length",
    "torso length",
    "arm length",
    "shoulder width (same arm span)",
    "hip width",
    "head size",
    "chest depth versus belly",
    "limb thickness",
)
"""What each of the 10 betas does (positive = more of it)."""


# ----------------------------------------------------------------------------------------
# Parts: rounded tubes around an axis, with cross-section and offset profiles along it.


@dataclass(frozen=True)
class _Part:
    """One closed surface: rings of ``segments`` vertices around an axis, plus two poles.

    The axis starts at ``origin`` and runs along ``direction``; ``s`` is the distance along
    it. ``profile`` rows are ``(s, r1, r2, ox, oy, oz)``: half-widths along ``side`` and
    along ``direction x side``, and a world offset of the ring centre. The surface ends at
    ``s0`` and ``s1`` with elliptic caps ``cap0`` / ``cap1`` long. ``chain`` lists the
    joints that move the part, root first: ``(joint, blend_axis, half_width)``; the weight
    passes from one joint to the next across the plane through the next joint,
    perpendicular to ``blend_axis``, over ``+-half_width``.
    """

    name: str
    origin: tuple[float, float, float]
    direction: tuple[float, float, float]
    side: tuple[float, float, float]
    s0: float
    s1: float
    cap0: float
    cap1: float
    profile: tuple[tuple[float, ...], ...]
    rings: int
    segments: int
    chain: tuple[tuple[str, tuple[float, float, float], float], ...]
    exponent: float = 2.0  # superellipse exponent of the cross-section (2 = ellipse)
    girth: str = ""  # which shape direction thickens it: "torso", "limb" or ""


def _unit(v) -> tuple[float, float, float]:
    v = np.asarray(v, dtype=np.float64)
    v = v / np.linalg.norm(v)
    return (float(v[0]), float(v[1]), float(v[2]))


def _sub(a: str, b: str) -> np.ndarray:
    return REST_JOINTS[_J[a]] - REST_JOINTS[_J[b]]


def _limb(
    name: str,
    start: str,
    end: str,
    *,
    side,
    before: float,
    after: float,
    cap0: float,
    cap1: float,
    radii: tuple[tuple[float, float, float], ...],
    rings: int,
    segments: int,
    chain,
    exponent: float = 2.0,
    girth: str = "limb",
) -> _Part:
    """A tube along the bone ``start -> end``; ``radii`` rows are (fraction of the bone, r1, r2)."""
    a = REST_JOINTS[_J[start]]
    d = _sub(end, start)
    length = float(np.linalg.norm(d))
    d = _unit(d)
    side_v = np.asarray(side, dtype=np.float64)
    side_v = side_v - np.dot(side_v, d) * np.asarray(d)
    profile = tuple((f * length, r1, r2, 0.0, 0.0, 0.0) for f, r1, r2 in radii)
    return _Part(
        name=name,
        origin=tuple(float(x) for x in a),
        direction=d,
        side=_unit(side_v),
        s0=-before,
        s1=length + after,
        cap0=cap0,
        cap1=cap1,
        profile=profile,
        rings=rings,
        segments=segments,
        chain=tuple((j, d if ax is None else ax, w) for j, ax, w in chain),
        exponent=exponent,
        girth=girth,
    )


_X, _Y, _Z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)


def _left_parts() -> list[_Part]:
    """The parts of the left side (x > 0); the right side is their mirror image."""
    wrist = REST_JOINTS[_J["left_wrist"]]
    ankle = REST_JOINTS[_J["left_ankle"]]
    shoulder = REST_JOINTS[_J["left_shoulder"]]
    return [
        _Part(
            name="left_collar",
            origin=(0.03, 0.225, -0.015),
            direction=_unit(shoulder + np.array((0.0, 0.01, 0.0)) - (0.03, 0.225, -0.015)),
            side=_Y,
            s0=-0.02,
            s1=0.175,
            cap0=0.04,
            cap1=0.06,
            profile=((0.0, 0.04, 0.055, 0, 0, 0), (0.17, 0.05, 0.06, 0, 0, 0)),
            rings=8,
            segments=16,
            chain=(("spine3", None, 0), ("left_collar", _X, 0.025), ("left_shoulder", _X, 0.04)),
        ),
        _limb(
            "left_upper_arm", "left_shoulder", "left_elbow",
            side=_Y, before=0.055, after=0.04, cap0=0.055, cap1=0.04,
            radii=((0.0, 0.052, 0.055), (0.3, 0.05, 0.05), (0.8, 0.041, 0.043), (1.0, 0.038, 0.04)),
            rings=18, segments=18,
            chain=(("left_collar", None, 0), ("left_shoulder", None, 0.05), ("left_elbow", None, 0.04)),
        ),
        _limb(
            "left_forearm", "left_elbow", "left_wrist",
            side=_Y, before=0.035, after=0.02, cap0=0.035, cap1=0.025,
            radii=((0.0, 0.038, 0.04), (0.25, 0.04, 0.043), (1.0, 0.026, 0.034)),
            rings=16, segments=16,
            chain=(("left_shoulder", None, 0), ("left_elbow", None, 0.04), ("left_wrist", None, 0.025)),
        ),
        _limb(
            "left_hand", "left_wrist", "left_hand",
            side=_Z, before=0.02, after=0.095, cap0=0.02, cap1=0.035,
            radii=((0.0, 0.032, 0.02), (0.6, 0.046, 0.018), (1.4, 0.046, 0.014), (2.0, 0.038, 0.01)),
            rings=14, segments=16, exponent=2.6, girth="",
            chain=(("left_elbow", None, 0), ("left_wrist", None, 0.025), ("left_hand", None, 0.02)),
        ),
        _Part(
            name="left_thumb",
            origin=tuple(float(x) for x in wrist + np.array((0.025, -0.008, 0.03))),
            direction=_unit((1.0, -0.15, 0.9)),
            side=_Y,
            s0=-0.01,
            s1=0.075,
            cap0=0.014,
            cap1=0.012,
            profile=((0.0, 0.014, 0.015, 0, 0, 0), (0.075, 0.011, 0.012, 0, 0, 0)),
            rings=6,
            segments=8,
            chain=(("left_wrist", None, 0),),
        ),
        _limb(
            "left_thigh", "left_hip", "left_knee",
            side=_X, before=0.09, after=0.05, cap0=0.085, cap1=0.05,
            radii=((0.0, 0.085, 0.085), (0.25, 0.08, 0.08), (0.85, 0.058, 0.06), (1.0, 0.053, 0.056)),
            rings=20, segments=22,
            chain=(("pelvis", None, 0), ("left_hip", None, 0.06), ("left_knee", None, 0.05)),
        ),
        _limb(
            "left_shin", "left_knee", "left_ankle",
            side=_X, before=0.05, after=0.03, cap0=0.05, cap1=0.03,
            radii=((0.0, 0.05, 0.052), (0.3, 0.05, 0.056), (0.85, 0.036, 0.038), (1.0, 0.034, 0.036)),
            rings=20, segments=18,
            chain=(("left_hip", None, 0), ("left_knee", None, 0.05), ("left_ankle", None, 0.03)),
        ),
        _Part(
            name="left_foot",
            origin=(float(ankle[0]), -1.11, float(ankle[2])),
            direction=_Z,
            side=_X,
            s0=-0.085,
            s1=0.205,
            cap0=0.035,
            cap1=0.04,
            # r1 across the foot, r2 vertical (direction x side = +y); offsets put the
            # sole flat at SOLE_Y and turn the toes slightly outwards.
            profile=(
                (-0.06, 0.034, 0.045, -0.002, -0.005, 0),
                (0.00, 0.040, 0.050, 0.000, 0.000, 0),
                (0.08, 0.047, 0.040, 0.010, -0.015, 0),
                (0.14, 0.048, 0.026, 0.018, -0.029, 0),
                (0.19, 0.042, 0.020, 0.024, -0.035, 0),
            ),
            rings=14,
            segments=16,
            exponent=2.4,
            chain=(("left_knee", None, 0), ("left_ankle", (0.0, -1.0, 0.0), 0.03), ("left_foot", _Z, 0.025)),
        ),
        _Part(
            name="left_ear",
            origin=(0.055, 0.425, 0.03),
            direction=_X,
            side=_Y,
            s0=0.0,
            s1=0.04,
            cap0=0.018,
            cap1=0.012,
            profile=((0.0, 0.03, 0.02, 0, 0, 0), (0.04, 0.03, 0.02, 0, 0, 0)),
            rings=5,
            segments=8,
            chain=(("head", None, 0),),
        ),
    ]  # fmt: skip


def _centre_parts() -> list[_Part]:
    head = REST_JOINTS[_J["head"]]
    neck = REST_JOINTS[_J["neck"]]
    return [
        _Part(
            name="torso",
            origin=(0.0, 0.0, 0.0),
            direction=_Y,
            side=_X,
            s0=-0.43,
            s1=0.325,
            cap0=0.07,
            cap1=0.085,
            # (y, half-width, half-depth, 0, 0, z of the centre); r2 runs along -z.
            profile=(
                (-0.40, 0.125, 0.085, 0, 0, 0.000),
                (-0.34, 0.160, 0.105, 0, 0, 0.005),
                (-0.26, 0.168, 0.112, 0, 0, 0.010),
                (-0.18, 0.158, 0.108, 0, 0, 0.015),
                (-0.10, 0.140, 0.100, 0, 0, 0.020),
                (0.00, 0.145, 0.104, 0, 0, 0.022),
                (0.10, 0.160, 0.112, 0, 0, 0.020),
                (0.18, 0.172, 0.104, 0, 0, 0.005),
                (0.25, 0.172, 0.085, 0, 0, -0.010),
                (0.30, 0.120, 0.065, 0, 0, -0.012),
            ),
            rings=37,
            segments=48,
            exponent=2.5,
            chain=(("pelvis", None, 0), ("spine1", _Y, 0.05), ("spine2", _Y, 0.025), ("spine3", _Y, 0.025)),
            girth="torso",
        ),
        _Part(
            name="neck",
            origin=tuple(float(x) for x in neck),
            direction=_unit(head - neck),
            side=_X,
            s0=-0.08,
            s1=float(np.linalg.norm(head - neck)) + 0.03,
            cap0=0.04,
            cap1=0.04,
            profile=((0.0, 0.055, 0.055, 0, 0, 0),),
            rings=8,
            segments=20,
            chain=(("spine3", None, 0), ("neck", _Y, 0.03), ("head", _Y, 0.03)),
            girth="torso",
        ),
        _Part(
            name="head",
            origin=tuple(float(x) for x in head * (1, 1, 0)),
            direction=_Y,
            side=_X,
            s0=-0.07,
            s1=0.185,
            cap0=0.04,
            cap1=0.06,
            profile=(
                (-0.04, 0.050, 0.060, 0, 0, 0.070),
                (0.00, 0.068, 0.085, 0, 0, 0.052),
                (0.06, 0.078, 0.100, 0, 0, 0.036),
                (0.11, 0.080, 0.100, 0, 0, 0.030),
                (0.16, 0.062, 0.082, 0, 0, 0.026),
            ),
            rings=23,
            segments=34,
            chain=(("neck", None, 0), ("head", _Y, 0.03)),
        ),
        _Part(
            name="nose",
            origin=(0.0, 0.44, 0.115),
            direction=_unit((0.0, -0.35, 1.0)),
            side=_X,
            s0=0.0,
            s1=0.045,
            cap0=0.02,
            cap1=0.015,
            profile=((0.0, 0.013, 0.02, 0, 0, 0), (0.045, 0.013, 0.016, 0, 0, 0)),
            rings=5,
            segments=8,
            chain=(("head", None, 0),),
        ),
    ]


def _mirror(part: _Part) -> _Part:
    """The same part on the other side of the body (x -> -x, left_* joints -> right_*)."""

    def flip(v):
        return (-v[0], v[1], v[2])

    def other(name: str) -> str:
        return "right" + name[4:] if name.startswith("left") else name

    return _Part(
        name=other(part.name),
        origin=flip(part.origin),
        direction=flip(part.direction),
        side=flip(part.side),
        s0=part.s0,
        s1=part.s1,
        cap0=part.cap0,
        cap1=part.cap1,
        profile=tuple((s, r1, r2, -ox, oy, oz) for s, r1, r2, ox, oy, oz in part.profile),
        rings=part.rings,
        segments=part.segments,
        chain=tuple((other(j), None if ax is None else flip(ax), w) for j, ax, w in part.chain),
        exponent=part.exponent,
        girth=part.girth,
    )


def _parts() -> list[_Part]:
    left = _left_parts()
    return _centre_parts() + left + [_mirror(p) for p in left]


# ----------------------------------------------------------------------------------------
# Tessellation.


def _profile_at(part: _Part, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Half-widths (r1, r2) and centre offsets (N, 3) at axis positions ``s`` (N,)."""
    prof = np.asarray(part.profile, dtype=np.float64)
    r1 = np.interp(s, prof[:, 0], prof[:, 1])
    r2 = np.interp(s, prof[:, 0], prof[:, 2])
    off = np.stack([np.interp(s, prof[:, 0], prof[:, k]) for k in (3, 4, 5)], axis=-1)
    # Elliptic caps so each end closes smoothly onto its pole.
    u0 = np.clip((part.s0 + part.cap0 - s) / part.cap0, 0.0, 1.0)
    u1 = np.clip((s - (part.s1 - part.cap1)) / part.cap1, 0.0, 1.0)
    cap = np.sqrt(np.clip(1.0 - u0**2, 0.0, 1.0)) * np.sqrt(np.clip(1.0 - u1**2, 0.0, 1.0))
    return r1 * cap, r2 * cap, off


def _ring_positions(part: _Part) -> np.ndarray:
    """``rings`` axis positions spread evenly along the outline's arc length.

    Even spacing along (s, radius) puts rings close together on the caps, where the outline
    turns, and keeps the mesh round at the ends.
    """
    s = np.linspace(part.s0, part.s1, 4001)
    r1, r2, _ = _profile_at(part, s)
    r = 0.5 * (r1 + r2)
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(s), np.diff(r)))])
    targets = arc[-1] * (np.arange(1, part.rings + 1) / (part.rings + 1))
    return np.interp(targets, arc, s)


def _tessellate(part: _Part) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices (N, 3), outward triangles (F, 3) and axis points (N, 3) of one part."""
    d = np.asarray(part.direction)
    e1 = np.asarray(part.side)
    e2 = np.cross(d, e1)
    o = np.asarray(part.origin)
    s = _ring_positions(part)
    r1, r2, off = _profile_at(part, s)
    theta = 2.0 * np.pi * np.arange(part.segments) / part.segments
    p = 2.0 / part.exponent
    c, sn = np.cos(theta), np.sin(theta)
    cu = np.sign(c) * np.abs(c) ** p
    su = np.sign(sn) * np.abs(sn) ** p
    centre = o + s[:, None] * d + off  # (R, 3)
    ring = (
        centre[:, None, :]
        + (r1[:, None] * cu[None, :])[..., None] * e1
        + (r2[:, None] * su[None, :])[..., None] * e2
    )  # (R, S, 3)
    _, _, end_off = _profile_at(part, np.array([part.s0, part.s1]))
    pole0 = o + part.s0 * d + end_off[0]
    pole1 = o + part.s1 * d + end_off[1]
    verts = np.concatenate([pole0[None], ring.reshape(-1, 3), pole1[None]])
    axis = np.concatenate([pole0[None], np.repeat(centre, part.segments, axis=0), pole1[None]])

    R, S = part.rings, part.segments
    idx = 1 + np.arange(R * S).reshape(R, S)
    nxt = np.roll(idx, -1, axis=1)
    quads_a = np.stack([idx[:-1], nxt[:-1], nxt[1:]], axis=-1).reshape(-1, 3)
    quads_b = np.stack([idx[:-1], nxt[1:], idx[1:]], axis=-1).reshape(-1, 3)
    fan0 = np.stack([np.zeros(S, dtype=np.int64), nxt[0], idx[0]], axis=-1)
    last = R * S + 1
    fan1 = np.stack([np.full(S, last), idx[-1], nxt[-1]], axis=-1)
    faces = np.concatenate([fan0, quads_a, quads_b, fan1]).astype(np.int64)
    if _signed_volume(verts, faces) < 0:  # mirrored parts come out inside-out
        faces = faces[:, ::-1].copy()
    return verts, faces, axis


def _signed_volume(verts: np.ndarray, faces: np.ndarray) -> float:
    a, b, c = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    t = np.clip(x, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _part_weights(part: _Part, verts: np.ndarray) -> np.ndarray:
    """(N, 24) skinning weights: the chain's joints, blended across each joint's plane."""
    weights = np.zeros((len(verts), NUM_JOINTS))
    carried = np.ones(len(verts))  # weight still to hand down the chain
    for k, (joint, _, _) in enumerate(part.chain):
        if k + 1 < len(part.chain):
            nxt_joint, nxt_axis, nxt_half = part.chain[k + 1]
            ax = np.asarray(nxt_axis if nxt_axis is not None else part.direction)
            signed = (verts - REST_JOINTS[_J[nxt_joint]]) @ ax
            t = _smoothstep((signed + nxt_half) / (2.0 * nxt_half))
        else:
            t = np.zeros(len(verts))
        weights[:, _J[joint]] += carried * (1.0 - t)
        carried = carried * t
    return weights


# ----------------------------------------------------------------------------------------
# Special vertices: where smplx (and the COCO face keypoints) read the mesh.

# smplx.vertex_ids.vertex_ids["smplh"], copied so generation does not depend on smplx.
_SPECIAL_IDS = {
    "nose": 332, "reye": 6260, "leye": 2800, "rear": 4071, "lear": 583,
    "rthumb": 6191, "rindex": 5782, "rmiddle": 5905, "rring": 6016, "rpinky": 6133,
    "lthumb": 2746, "lindex": 2319, "lmiddle": 2445, "lring": 2556, "lpinky": 2673,
    "LBigToe": 3216, "LSmallToe": 3226, "LHeel": 3387,
    "RBigToe": 6617, "RSmallToe": 6624, "RHeel": 6787,
}  # fmt: skip


def _special_targets() -> dict[str, tuple[str, np.ndarray]]:
    """smplx keypoint name -> (part it lies on, point it is the nearest vertex to)."""
    hand = REST_JOINTS[_J["left_hand"]]
    wrist = REST_JOINTS[_J["left_wrist"]]
    tip = wrist + (hand - wrist) / np.linalg.norm(hand - wrist) * 0.19
    left = {
        "eye": ("head", np.array([0.035, 0.455, 0.15])),
        "ear": ("left_ear", np.array([0.10, 0.425, 0.03])),
        "thumb": ("left_thumb", REST_JOINTS[_J["left_wrist"]] + (0.1, -0.02, 0.1)),
        "index": ("left_hand", tip + np.array((0.0, 0.0, 0.04))),
        "middle": ("left_hand", tip + np.array((0.01, 0.0, 0.012))),
        "ring": ("left_hand", tip + np.array((0.0, 0.0, -0.015))),
        "pinky": ("left_hand", tip + np.array((-0.01, 0.0, -0.04))),
        "BigToe": ("left_foot", np.array([0.10, SOLE_Y + 0.01, 0.25])),
        "SmallToe": ("left_foot", np.array([0.16, SOLE_Y + 0.01, 0.2])),
        "Heel": ("left_foot", np.array([0.088, SOLE_Y - 0.01, -0.12])),
    }
    out = {"nose": ("nose", np.array([0.0, 0.40, 0.25]))}
    for key, (part, p) in left.items():
        mirrored = p * (-1.0, 1.0, 1.0)
        other = "right" + part[4:] if part.startswith("left") else part
        if key[0].isupper():
            out["L" + key], out["R" + key] = (part, p), (other, mirrored)
        else:
            out["l" + key], out["r" + key] = (part, p), (other, mirrored)
    return out


# ----------------------------------------------------------------------------------------
# Shape space.


def _shape_directions(verts: np.ndarray, axis: np.ndarray, part_girth: np.ndarray, head_part: np.ndarray):
    """(N, 3, 10) displacement per unit beta, each a smooth field over the rest body."""
    x, y, z = verts[:, 0], verts[:, 1], verts[:, 2]
    sgn = np.sign(x)
    j = REST_JOINTS
    pelvis, hip_y, ankle_y = j[_J["pelvis"]], j[_J["left_hip"], 1], j[_J["left_ankle"], 1]
    neck_y, sh_x, wr_x = j[_J["neck"], 1], j[_J["left_shoulder"], 0], j[_J["left_wrist"], 0]
    radial = verts - axis
    dirs = np.zeros((len(verts), 3, NUM_BETAS))
    # 0 height: uniform scale about the pelvis.
    dirs[:, :, 0] = 0.035 * (verts - pelvis)
    # 1 torso girth: torso and neck grow around their axis, the belly more.
    belly = 1.0 + 0.8 * np.exp(-(((y + 0.08) / 0.12) ** 2)) * (z > axis[:, 2])
    dirs[:, :, 1] = (part_girth == 1)[:, None] * 0.09 * radial * belly[:, None]
    # 2 leg length: stretch below the hips by 4 % of the leg; the feet move as a block.
    leg = hip_y - ankle_y
    dirs[:, 1, 2] = -0.04 * leg * np.clip((hip_y - y) / leg, 0.0, 1.0)
    # 3 torso length: stretch between pelvis and neck by 5 %; all above moves with it.
    trunk = neck_y - pelvis[1]
    dirs[:, 1, 3] = 0.05 * trunk * np.clip((y - pelvis[1]) / trunk, 0.0, 1.0)
    # 4 arm length: stretch from shoulder to wrist by 6 %; hands move as a block.
    arm = wr_x - sh_x
    dirs[:, 0, 4] = sgn * 0.06 * arm * np.clip((np.abs(x) - sh_x) / arm, 0.0, 1.0)
    # 5 shoulder width at the same arm span: the shoulders move out, the hands stay (a pure
    # shift of the arms would nearly repeat direction 4).
    out = _smoothstep((np.abs(x) - 0.03) / 0.14) * (1.0 - _smoothstep((np.abs(x) - 0.25) / 0.2))
    dirs[:, 0, 5] = sgn * 0.02 * out * _smoothstep(y / 0.15)
    # 6 hip width: hips and legs move out.
    dirs[:, 0, 6] = sgn * 0.015 * _smoothstep(np.abs(x) / 0.09) * (1.0 - _smoothstep((y + 0.2) / 0.15))
    # 7 head size: scale about the middle of the head.
    centre = np.array([0.0, 0.43, 0.04])
    dirs[:, :, 7] = (head_part[:, None] * 0.06) * (verts - centre)
    # 8 chest depth versus belly: front-back growth, positive at the chest, negative at the belly.
    chest = np.exp(-(((y - 0.12) / 0.08) ** 2)) - np.exp(-(((y + 0.12) / 0.08) ** 2))
    dirs[:, 2, 8] = (part_girth == 1) * 0.15 * radial[:, 2] * chest
    # 9 limb thickness: arms and legs grow around their bones.
    dirs[:, :, 9] = (part_girth == 2)[:, None] * 0.08 * radial
    return dirs


# ----------------------------------------------------------------------------------------
# Joint regressor.


def _joint_regressor(verts: np.ndarray, part_of: np.ndarray, parts: list[_Part]) -> scipy.sparse.csc_matrix:
    """(24, N) sparse non-negative regressor, rows summing to 1, giving REST_JOINTS exactly.

    Each joint is a weighted mean of the vertices of the parts it moves that lie in a thin
    slab across the bone through the joint (rings around it), so it moves with those rings
    when the shape changes, and stays put when only girth changes.
    """
    rows, cols, vals = [], [], []
    for j in range(NUM_JOINTS):
        name = JOINT_NAMES[j]
        cand = []
        for pi, part in enumerate(parts):
            for joint, axis, _ in part.chain:
                if joint != name:
                    continue
                ax = np.asarray(axis if axis is not None else part.direction)
                members = np.flatnonzero(part_of == pi)
                dist = (verts[members] - REST_JOINTS[j]) @ ax
                close = np.linalg.norm(verts[members] - REST_JOINTS[j], axis=1) < 0.2
                cand.append(members[(np.abs(dist) < 0.025) & close])
        cand = np.unique(np.concatenate(cand))
        n = len(cand)
        big = 100.0
        a = np.concatenate([big * verts[cand].T, big * np.ones((1, n)), np.eye(n)])
        b = np.concatenate([big * REST_JOINTS[j], [big], np.full(n, 1.0 / n)])
        w, _ = scipy.optimize.nnls(a, b, maxiter=50 * n)
        w /= w.sum()
        keep = w > 1e-6
        rows += [j] * int(keep.sum())
        cols += cand[keep].tolist()
        vals += w[keep].tolist()
    reg = scipy.sparse.csc_matrix((vals, (rows, cols)), shape=(NUM_JOINTS, len(verts)))
    reg.sort_indices()
    return reg


# ----------------------------------------------------------------------------------------
# The model.


def build_proxy_model() -> dict:
    """Build the proxy body's arrays, as in an SMPL ``.pkl`` (deterministic).

    Returns:
        dict with ``v_template`` (6890, 3) float64, ``shapedirs`` (6890, 3, 10) float64,
        ``posedirs`` (6890, 3, 207) float32 zeros, ``J_regressor`` (24, 6890)
        ``scipy.sparse.csc_matrix``, ``weights`` (6890, 24) float64, ``kintree_table``
        (2, 24) int64 (row 0 parents, -1 for the pelvis), ``f`` (F, 3) uint32,
        ``J`` (24, 3) float64, ``anylift_proxy_version`` int. SMPL frame, metres.
    """
    parts = _parts()
    verts, faces, axes, part_of, weights = [], [], [], [], []
    offset = 0
    for pi, part in enumerate(parts):
        v, f, a = _tessellate(part)
        verts.append(v)
        faces.append(f + offset)
        axes.append(a)
        part_of.append(np.full(len(v), pi))
        weights.append(_part_weights(part, v))
        offset += len(v)
    verts = np.concatenate(verts)
    faces = np.concatenate(faces)
    axes = np.concatenate(axes)
    part_of = np.concatenate(part_of)
    weights = np.concatenate(weights)
    if len(verts) != NUM_VERTICES:
        raise AssertionError(f"proxy body has {len(verts)} vertices, SMPL has {NUM_VERTICES}")

    # Put the vertices smplx reads at SMPL's indices: each goes to the vertex of its part
    # nearest its target, and the displaced vertices fill the remaining slots in order.
    names = [p.name for p in parts]
    chosen: dict[int, int] = {}
    for key, (part_name, target) in _special_targets().items():
        members = np.flatnonzero(part_of == names.index(part_name))
        members = members[~np.isin(members, list(chosen.values()))]
        nearest = members[np.argmin(np.linalg.norm(verts[members] - target, axis=1))]
        chosen[_SPECIAL_IDS[key]] = int(nearest)
    order = np.full(NUM_VERTICES, -1)
    for new, old in chosen.items():
        order[new] = old
    rest = np.setdiff1d(np.arange(NUM_VERTICES), list(chosen.values()))
    order[order < 0] = rest  # both ascending: stable, deterministic
    new_index = np.empty(NUM_VERTICES, dtype=np.int64)
    new_index[order] = np.arange(NUM_VERTICES)
    verts, axes, part_of, weights = verts[order], axes[order], part_of[order], weights[order]
    faces = new_index[faces]

    girth_code = np.array([{"torso": 1, "limb": 2}.get(p.girth, 0) for p in parts])[part_of]
    head_parts = [names.index(n) for n in ("head", "nose", "left_ear", "right_ear")]
    shapedirs = _shape_directions(verts, axes, girth_code, np.isin(part_of, head_parts).astype(float))
    regressor = _joint_regressor(verts, part_of, parts)

    kintree = np.stack([np.asarray(PARENTS, dtype=np.int64), np.arange(NUM_JOINTS, dtype=np.int64)])
    return {
        "v_template": verts,
        "shapedirs": shapedirs,
        "posedirs": np.zeros((NUM_VERTICES, 3, NUM_POSE_BASIS), dtype=np.float32),
        "J_regressor": regressor,
        "weights": weights,
        "kintree_table": kintree,
        "f": faces.astype(np.uint32),
        "J": np.asarray(regressor @ verts),
        "anylift_proxy_version": PROXY_VERSION,
        "part_names": tuple(names),
        "vertex_part": part_of.astype(np.int16),
    }


def proxy_model_bytes() -> bytes:
    """The proxy body as the bytes of an SMPL-format pickle (same bytes every call)."""
    buf = io.BytesIO()
    pickle.dump(build_proxy_model(), buf, protocol=4)
    return buf.getvalue()


def cache_dir() -> Path:
    """The engine's cache folder: ``$ANYLIFT_CACHE``, else ``~/.cache/anylift``."""
    env = os.environ.get("ANYLIFT_CACHE", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "anylift"


def proxy_model_dir() -> Path:
    """Folder for ``smplx.create(folder, model_type="smpl", gender="neutral")`` (not created)."""
    return cache_dir() / "body" / f"smpl-proxy-v{PROXY_VERSION}"


def write_proxy_model(path: str | os.PathLike) -> Path:
    """Generate the proxy body and write it to ``path`` atomically; returns ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(proxy_model_bytes())
    return path


def proxy_model_path() -> Path:
    """Path of the proxy ``SMPL_NEUTRAL.pkl``, generated on first use (about 20 MB, ~0.3 s)."""
    path = proxy_model_dir() / "smpl" / "SMPL_NEUTRAL.pkl"
    if not path.is_file():
        write_proxy_model(path)
    return path
