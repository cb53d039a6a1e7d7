"""Retarget the baked SMPL motion onto an artist's armature.

Bone maps are ``{source bone: target bone}`` with the source bones named as SMPL joints
(``formats.md``: each SMPL bone is named after the joint at its head, so ``left_elbow`` is the
forearm). The presets and name tables are data, in :mod:`.bone_maps`: Mixamo, Rigify (a
generated rig's FK controls, a deform-only copy, or the metarig); :func:`auto_map` matches any
other humanoid by normalised bone names (prefixes stripped, side tokens such as ``.L``/``_l``/
``Left`` read, synonyms such as thigh/upleg, shin/calf/leg, upper_arm/arm, forearm/lowerarm).

What the target should do is computed in world space, for all frames at once, in numpy:

- ``D_b(t) = R_src_b(t) · R_src_rest_b⁻¹`` is how far the source bone turned from its rest
  orientation, in world space;
- the target's *follower* (the bone that shows the mapped bone: itself on a plain rig, the
  deform bone behind a Rigify control) should have ``R_tgt_b(t) = D_b(t) · A_b · R_tgt_rest_b``,
  where ``A_b`` first turns the whole target rest body to face like the source rest body (frames
  built from the hips and the spine), then swings the bone so it points like the source bone at
  rest. ``A_b`` is what makes an A-pose rig follow a T-pose source: the target bone then points
  exactly where the source bone points. (The pelvis keeps only the body-facing part.)
- the target's hips follow ``p_tgt(t) = p_tgt_rest + k · (p_src(t) - p_src_rest)`` with ``k``
  the ratio of leg lengths (hip-knee-ankle, both sides averaged): root motion kept, scaled to
  the target's proportions, so a smaller rig takes smaller steps and keeps its feet on the floor.

How to get there is solved through Blender's own evaluation of the rig (constraints, drivers,
IK/FK switches), frame by frame (:func:`_solve`), so rigs whose deform bones follow controls
work; the preset's switches are set first (Rigify limbs to FK). The keyed bones' local
``rotation_quaternion`` (and hips ``location``) are written in bulk with
:mod:`anylift_blender.baking.keys` into a new action on the target; unmapped bones keep their
current local pose. A retarget that leaves a core limb (upper arms, forearms, thighs, shins)
unmapped or more than :data:`MAX_LIMB_ERROR_DEG` off the source raises :class:`RetargetError`
and leaves the target as it was. Keyed target bones are switched to the ``QUATERNION`` rotation
mode. An action already on the target is kept (given a fake user), not deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import bpy
import numpy as np
from mathutils import Matrix, Vector

from anylift.geometry.transforms import (
    blender_axis_angle_to_matrix,
    continuous_quaternions,
    euler_to_matrix,
    matrix_to_quaternion,
    quaternion_to_matrix,
    rotation_part,
    swing,
)

from . import bone_maps
from .baking import keys
from .baking.armature import SMPL_BONES, SMPL_PARENTS  # SMPL_BONES re-exported: the operator's rows

PRESETS = bone_maps.PRESETS  # re-exported: presets by name


def preset_map(preset: str, target_bones: Iterable[str]) -> dict[str, str]:
    """``{SMPL bone: target bone}`` for ``preset`` restricted to bones present on the target.

    Raises:
        KeyError: unknown preset (names: :data:`PRESETS`).
    """
    if preset not in PRESETS:
        raise KeyError(f"unknown retarget preset {preset!r} (expected one of {sorted(PRESETS)})")
    names = list(target_bones)
    lookup = {name: name for name in names}
    if preset == "mixamo":
        lookup = {bone_maps.MIXAMO_PREFIX.sub("", name): name for name in names}
    mapping = {}
    for smpl, candidates in PRESETS[preset].bones.items():
        for candidate in candidates:
            if candidate in lookup:
                mapping[smpl] = lookup[candidate]
                break
    return mapping


def detect_preset(target_bones: Iterable[str]) -> str | None:
    """``"mixamo"``, ``"rigify"`` or None, from the target's bone names."""
    names = set(target_bones)
    if any(bone_maps.MIXAMO_PREFIX.match(n) for n in names) or {"Hips", "LeftUpLeg", "RightUpLeg"} <= names:
        return "mixamo"
    if {"DEF-spine", "DEF-thigh.L"} <= names or {"ORG-spine", "ORG-thigh.L"} <= names:
        return "rigify"
    if {"spine", "spine.001", "thigh.L", "shin.L"} <= names:
        return "rigify"
    return None


# --- automatic mapping by normalised names -------------------------------------------------


def normalize_bone_name(name: str) -> tuple[str | None, str | None]:
    """``(part, side)`` of a bone name: part a key of the synonym table or None, side ``"l"``,
    ``"r"`` or None. E.g. ``"mixamorig:LeftForeArm"`` -> ``("forearm", "l")``,
    ``"DEF-thigh.R"`` -> ``("thigh", "r")``, ``"Calf_L"`` -> ``("shin", "l")``."""
    text = bone_maps.NAME_PREFIXES.sub("", name)
    side = None
    for pattern, value in bone_maps.SIDE_PATTERNS:
        if pattern.search(text):
            side = value
            text = pattern.sub(" ", text, count=1)
            break
    # CamelCase -> words, then drop separators and digits: "UpperArm" -> "upperarm".
    words = [w for w in re.split(r"[^a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower()) if w]
    if bone_maps.SKIP_WORDS.intersection(words):
        return None, side
    key = "".join(words)
    if not key:
        return None, side
    for part, names in bone_maps.SYNONYMS.items():
        if key in names:
            # "hip"/"shoulder" with a side name the thigh/clavicle, without one the hips/...
            if part == "hips" and key == "hip" and side is not None:
                return "thigh", side
            if part == "thigh" and side is None:
                continue
            return part, side
    return None, side


def auto_map(target_armature: bpy.types.Object, source_bones: Iterable[str] = SMPL_BONES) -> dict[str, str]:
    """``{SMPL bone: target bone}`` found by bone names (see :func:`normalize_bone_name`).

    Spine bones of the target (names normalising to ``spine``), in hierarchy order, are
    spread over SMPL's spine1..spine3: first, middle, last. When several bones give the same
    part and side, the one closest to the root wins.
    """
    bones = target_armature.data.bones
    by_part: dict[tuple[str, str | None], str] = {}
    spine: list[str] = []
    for bone in sorted(bones, key=_depth):
        part, side = normalize_bone_name(bone.name)
        if part is None:
            continue
        if part == "spine":
            spine.append(bone.name)
        elif (part, side) not in by_part:
            by_part[(part, side)] = bone.name
    mapping = {}
    wanted = set(source_bones)
    for smpl, (part, side) in bone_maps.SMPL_PART.items():
        if smpl in wanted and (part, side) in by_part:
            mapping[smpl] = by_part[(part, side)]
    if spine:
        picks = {"spine1": spine[0], "spine3": spine[-1]}
        if len(spine) >= 3:
            picks["spine2"] = spine[len(spine) // 2]
        if "hips" not in {p for p, _ in by_part} and len(spine) >= 2 and "pelvis" in wanted:
            # A chain with no hip bone: its first spine bone is the root.
            mapping["pelvis"] = spine[0]
            picks = {"spine1": spine[1], "spine3": spine[-1]} if len(spine) >= 3 else {"spine3": spine[-1]}
        mapping.update({k: v for k, v in picks.items() if k in wanted and v not in mapping.values()})
    return mapping


def bone_map_for(target_armature: bpy.types.Object, preset: str | None = None) -> dict[str, str]:
    """The bone map to use: ``preset`` (a :data:`PRESETS` name), or with ``None``/``"auto"``
    the detected preset (:func:`detect_preset`), else :func:`auto_map`."""
    names = [b.name for b in target_armature.data.bones]
    if preset in (None, "", "auto"):
        preset = detect_preset(names)
        if preset is None:
            return auto_map(target_armature)
    return preset_map(preset, names)


def _depth(bone: bpy.types.Bone) -> int:
    depth = 0
    while bone.parent is not None:
        bone = bone.parent
        depth += 1
    return depth


# --- poses ---------------------------------------------------------------------------------


def _ordered_bones(armature: bpy.types.Object) -> list[bpy.types.Bone]:
    return sorted(armature.data.bones, key=_depth)


def _rest(armature: bpy.types.Object) -> dict[str, np.ndarray]:
    return {b.name: np.array(b.matrix_local, dtype=np.float64) for b in armature.data.bones}


def sample_basis(armature: bpy.types.Object, frames: np.ndarray) -> dict[str, np.ndarray]:
    """Each pose bone's local ``matrix_basis`` at ``frames``: ``{bone: (T, 4, 4)}``.

    Read from the armature's action without changing the scene frame: F-curves keyed on every
    requested frame give their keys exactly; others are evaluated. Channels that are not
    animated keep the pose bone's current value. Drivers and constraints are not evaluated.
    """
    frames = np.asarray(frames, dtype=np.float64)
    channels: dict[tuple[str, int], np.ndarray] = {}
    bag = keys.channelbag_of(armature)
    for fc in bag.fcurves if bag is not None else ():
        if fc.mute or not fc.data_path.startswith("pose.bones["):
            continue
        n = len(fc.keyframe_points)
        co = np.empty(2 * n, dtype=np.float32)
        fc.keyframe_points.foreach_get("co", co)
        at, values = co[0::2].astype(np.float64), co[1::2].astype(np.float64)
        idx = np.clip(np.searchsorted(at, frames), 0, max(n - 1, 0))
        if n and np.all(np.abs(at[idx] - frames) < 1e-4):
            channels[(fc.data_path, fc.array_index)] = values[idx]
        else:
            channels[(fc.data_path, fc.array_index)] = np.array([fc.evaluate(f) for f in frames])
    count = len(frames)

    def channel(pb: bpy.types.PoseBone, prop: str, size: int) -> np.ndarray:
        path = f'pose.bones["{bpy.utils.escape_identifier(pb.name)}"].{prop}'
        current = np.array(getattr(pb, prop), dtype=np.float64)
        out = np.tile(current, (count, 1))
        for i in range(size):
            if (path, i) in channels:
                out[:, i] = channels[(path, i)]
        return out

    basis = {}
    for pb in armature.pose.bones:
        m = np.tile(np.eye(4), (count, 1, 1))
        mode = pb.rotation_mode
        if mode == "QUATERNION":
            r = quaternion_to_matrix(channel(pb, "rotation_quaternion", 4))
        elif mode == "AXIS_ANGLE":
            r = blender_axis_angle_to_matrix(channel(pb, "rotation_axis_angle", 4))
        else:
            r = euler_to_matrix(channel(pb, "rotation_euler", 3), mode)
        scale = channel(pb, "scale", 3)
        m[:, :3, :3] = r * scale[:, None, :]
        m[:, :3, 3] = channel(pb, "location", 3)
        basis[pb.name] = m
    return basis


def pose_matrices(armature: bpy.types.Object, basis: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Forward kinematics: ``{bone: (T, 4, 4)}`` armature-space pose matrices (what
    ``pose_bone.matrix`` would be) from local ``matrix_basis`` per bone ((T, 4, 4) or (4, 4);
    missing bones use the identity)."""
    rest = _rest(armature)
    count = max((np.asarray(v).shape[0] for v in basis.values() if np.ndim(v) == 3), default=1)
    out: dict[str, np.ndarray] = {}
    for bone in _ordered_bones(armature):
        b = np.broadcast_to(basis.get(bone.name, np.eye(4)), (count, 4, 4))
        if bone.parent is None:
            out[bone.name] = rest[bone.name] @ b
        else:
            rel = np.linalg.inv(rest[bone.parent.name]) @ rest[bone.name]
            out[bone.name] = out[bone.parent.name] @ rel @ b
    return out


def action_frames(armature: bpy.types.Object) -> np.ndarray:
    """(T,) integer frames covered by the armature's action (its keyed range)."""
    anim = armature.animation_data
    if anim is None or anim.action is None:
        raise ValueError(f"armature '{armature.name}' has no animation to retarget")
    start, end = anim.action.frame_range
    return np.arange(round(start), round(end) + 1, dtype=np.float64)


def _body_frame(heads: Mapping[str, np.ndarray], mapping: Mapping[str, str] | None) -> np.ndarray | None:
    """(3, 3) columns (lateral left->right, forward, up) of a rest body from SMPL-named joints
    (``mapping`` renames them to the rig's bones), None when hips or spine are missing."""

    def head(smpl: str) -> np.ndarray | None:
        name = smpl if mapping is None else mapping.get(smpl)
        return None if name is None or name not in heads else heads[name]

    hips = [head(n) for n in ("left_hip", "right_hip")]
    top = next((p for p in (head(n) for n in ("neck", "head", "spine3", "spine2")) if p is not None), None)
    low = head("pelvis")
    if low is None and all(h is not None for h in hips):
        low = (hips[0] + hips[1]) / 2
    if any(h is None for h in hips) or top is None or low is None:
        return None
    up = top - low
    lateral = hips[1] - hips[0]
    lateral = lateral - up * np.dot(lateral, up) / np.dot(up, up)
    if np.linalg.norm(up) < 1e-9 or np.linalg.norm(lateral) < 1e-9:
        return None
    up /= np.linalg.norm(up)
    lateral /= np.linalg.norm(lateral)
    return np.stack([lateral, np.cross(up, lateral), up], axis=1)


def _hip_centre(heads: Mapping[str, np.ndarray], mapping: Mapping[str, str] | None, fallback: str):
    """Mid-point of the hip joints ((3,) or (T, 3)), else the head of ``fallback``."""
    names = ["left_hip", "right_hip"]
    if mapping is not None:
        names = [mapping.get(n) for n in names]
    if all(n is not None and n in heads for n in names):
        return (heads[names[0]] + heads[names[1]]) / 2
    return heads[fallback]


def _leg_length(heads: Mapping[str, np.ndarray], mapping: Mapping[str, str] | None) -> float | None:
    lengths = []
    for side in ("left", "right"):
        names = [f"{side}_hip", f"{side}_knee", f"{side}_ankle"]
        if mapping is not None:
            names = [mapping.get(n) for n in names]
        if all(n is not None and n in heads for n in names):
            p = [heads[n] for n in names]
            lengths.append(np.linalg.norm(p[1] - p[0]) + np.linalg.norm(p[2] - p[1]))
    return float(np.mean(lengths)) if lengths else None


def _normalise_map(bone_map: Mapping[str, str] | Iterable[tuple[str, str]] | str | None, target) -> dict:
    if bone_map is None or isinstance(bone_map, str):
        return bone_map_for(target, bone_map)
    pairs = bone_map.items() if isinstance(bone_map, Mapping) else bone_map
    return {str(s): str(t) for s, t in pairs if s and t}


class Retargeted(dict):
    """The mapping used, ``{SMPL bone: keyed target bone}``, with what the rig then did:
    ``followers`` ``{SMPL bone: deform bone checked}`` and ``errors`` ``{SMPL bone: worst
    direction error over the frames, degrees}``."""

    followers: dict[str, str]
    errors: dict[str, float]


class RetargetError(ValueError):
    """The rig cannot follow: too few bones map, or its deform bones do not move with the source."""


#: A core limb further off than this (degrees, worst frame) fails the retarget.
MAX_LIMB_ERROR_DEG = 10.0
_MAX_PASSES = 8
#: A frame is solved when every follower points this close to its target (and the hips are there).
_TOLERANCE_DEG, _TOLERANCE_M = 0.1, 1e-3


def _followers(target: bpy.types.Object, mapping: Mapping[str, str]) -> dict[str, str]:
    """``{SMPL bone: bone whose pose shows it}``: a preset's deform bone for a control, else itself."""
    names = target.data.bones
    out = {}
    for smpl, keyed in mapping.items():
        follower = next((p.followers[keyed] for p in PRESETS.values() if keyed in p.followers), None)
        out[smpl] = follower if follower is not None and follower in names else keyed
    return out


def _mover(target: bpy.types.Object, keyed: str) -> str:
    """The bone that carries ``keyed``'s location: a preset's mover when the rig has it, else itself."""
    mover = next((p.movers[keyed] for p in PRESETS.values() if keyed in p.movers), None)
    return mover if mover is not None and mover in target.data.bones else keyed


def _switches(target: bpy.types.Object, mapping: Mapping[str, str]) -> dict[tuple[str, str], float]:
    """``{(pose bone, property): value}`` of the presets whose controls are keyed."""
    keyed = set(mapping.values())
    out = {}
    for preset in PRESETS.values():
        if keyed.isdisjoint(preset.followers):
            continue
        for bone, props in preset.switches.items():
            pb = target.pose.bones.get(bone)
            for prop, value in props.items():
                if pb is not None and prop in pb.keys():
                    out[(bone, prop)] = value
    return out


def _smpl_ancestor(smpl: str, mapping: Mapping[str, str]) -> str | None:
    """The nearest SMPL ancestor of ``smpl`` that is mapped, or None."""
    k = SMPL_BONES.index(smpl)
    while SMPL_PARENTS[k] >= 0:
        k = SMPL_PARENTS[k]
        if SMPL_BONES[k] in mapping:
            return SMPL_BONES[k]
    return None


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(...) angle in degrees between the y axes (bone directions) of (..., 3, 3) rotations."""
    cos = np.sum(a[..., :, 1] * b[..., :, 1], axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def retarget(
    source_armature: bpy.types.Object,
    target_armature: bpy.types.Object,
    bone_map: Mapping[str, str] | Iterable[tuple[str, str]] | str | None = None,
    *,
    frames: np.ndarray | None = None,
    action_name: str | None = None,
) -> Retargeted:
    """Key ``target_armature`` so its mapped bones follow ``source_armature``'s motion.

    Args:
        source_armature: the animated armature (normally ``SMPL``), with an action.
        target_armature: the artist's rig: plain (metarig, Mixamo, any humanoid) or driven by
            constraints (a generated Rigify rig: its FK controls are keyed, limbs switched to FK).
        bone_map: ``{source bone: target bone}`` (or (source, target) pairs), a preset name
            (:data:`PRESETS`), or None for the detected preset / :func:`auto_map`. Pairs naming a
            bone missing on either side are ignored.
        frames: (T,) scene frames to key; default: the source action's frame range.
        action_name: name of the new target action (default ``"<target>_AnyLift"``).

    Returns:
        The mapping used, ``{source bone: target bone}`` (a :class:`Retargeted`).

    Raises:
        ValueError: the source has no animation, no pair of the map exists on both rigs, or
            (:class:`RetargetError`) a core limb (:data:`bone_maps.CORE_LIMBS`) is unmapped or
            its deform bone ends up more than :data:`MAX_LIMB_ERROR_DEG` off the source. The
            target is then left as it was.
    """
    src_bones = {b.name for b in source_armature.data.bones}
    tgt_bones = {b.name for b in target_armature.data.bones}
    mapping = {
        s: t
        for s, t in _normalise_map(bone_map, target_armature).items()
        if s in src_bones and t in tgt_bones and s in SMPL_BONES
    }
    if not mapping:
        raise ValueError(
            f"no bone of '{target_armature.name}' maps onto '{source_armature.name}' "
            "(pick a preset or fill the bone map)"
        )
    missing = [s for s in bone_maps.CORE_LIMBS if s not in mapping]
    if missing:
        raise RetargetError(
            f"'{target_armature.name}': the limbs {', '.join(missing)} map to no bone, so the rig would "
            f"not follow ({len(mapping)} bones mapped); fill those rows of the bone map or pick a preset"
        )
    if frames is None:
        frames = action_frames(source_armature)
    frames = np.asarray(frames, dtype=np.float64)
    followers = _followers(target_armature, mapping)

    src_world = np.array(source_armature.matrix_world, dtype=np.float64)
    tgt_world = np.array(target_armature.matrix_world, dtype=np.float64)
    src_rest = {n: src_world @ m for n, m in _rest(source_armature).items()}
    tgt_rest_arm = _rest(target_armature)
    tgt_rest = {n: tgt_world @ m for n, m in tgt_rest_arm.items()}
    src_pose = {
        n: src_world @ m
        for n, m in pose_matrices(source_armature, sample_basis(source_armature, frames)).items()
    }

    src_heads = {n: m[:3, 3] for n, m in src_rest.items()}
    tgt_heads = {n: m[:3, 3] for n, m in tgt_rest.items()}
    frame_src = _body_frame(src_heads, None)
    frame_tgt = _body_frame(tgt_heads, followers)
    facing = frame_src @ frame_tgt.T if frame_src is not None and frame_tgt is not None else np.eye(3)

    # Desired world rotation of every follower, (T, 3, 3): see the module docstring.
    inv_world = np.linalg.inv(tgt_world)
    desired: dict[str, np.ndarray] = {}
    for s, f in followers.items():
        turn = rotation_part(src_pose[s]) @ rotation_part(src_rest[s]).T
        align = facing
        if s != "pelvis":
            t_dir = facing @ rotation_part(tgt_rest[f])[:, 1]
            s_dir = rotation_part(src_rest[s])[:, 1]
            align = swing(t_dir / np.linalg.norm(t_dir), s_dir / np.linalg.norm(s_dir)) @ facing
        world = np.tile(np.eye(4), (len(frames), 1, 1))
        world[:, :3, :3] = turn @ align @ rotation_part(tgt_rest[f])
        world[:, :3, 3] = tgt_heads[f]
        desired[s] = inv_world @ world  # armature space
    mover = _mover(target_armature, mapping["pelvis"]) if "pelvis" in mapping else None
    root = "pelvis" if mover is not None and not target_armature.data.bones[mover].use_connect else None
    if root is not None:
        src_len = _leg_length(src_heads, None)
        tgt_len = _leg_length(tgt_heads, followers)
        scale = tgt_len / src_len if src_len and tgt_len else 1.0
        # Root motion of the hip centre (the same point on any rig; a rig's pelvis bone may start
        # above or below it), scaled; the pelvis follower carries it at its desired rotation.
        src_hip = _hip_centre(src_heads, None, "pelvis")
        tgt_hip = _hip_centre(tgt_heads, followers, followers[root])
        src_hip_t = _hip_centre({n: m[:, :3, 3] for n, m in src_pose.items()}, None, "pelvis")
        hip_t = tgt_hip + scale * (src_hip_t - src_hip)  # (T, 3) world
        f = followers[root]
        lever = tgt_hip - tgt_heads[f]  # (3,) rest offset of the hip centre from the follower's head
        turned = rotation_part(tgt_world)[None] @ rotation_part(desired[root]) @ rotation_part(tgt_rest[f]).T
        pos = hip_t - np.einsum("tij,j->ti", turned, lever)
        desired[root][:, :3, 3] = (inv_world[:3, :3] @ pos.T).T + inv_world[:3, 3]

    solved = _solve(target_armature, mapping, followers, desired, mover if root else None)
    result = Retargeted(mapping)
    result.followers = followers
    result.errors = {s: float(e.max()) for s, e in solved.errors.items()}
    bad = {s: result.errors[s] for s in bone_maps.CORE_LIMBS if result.errors[s] > MAX_LIMB_ERROR_DEG}
    if bad:
        solved.restore()
        worst = ", ".join(f"{followers[s]} {e:.0f}°" for s, e in bad.items())
        raise RetargetError(
            f"'{target_armature.name}': its deform bones do not follow the source ({worst} off); "
            "its keyed bones may be overridden by constraints or IK: map the bones the rig animates "
            "(for a generated Rigify rig, the rigify preset keys its FK controls)"
        )
    _write_keys(target_armature, frames, solved, action_name)
    return result


class _Solution:
    """Per-frame bases of the keyed bones found by :func:`_solve`, and how to undo the solve."""

    def __init__(self, target: bpy.types.Object, keyed: list[str], switches: dict[tuple[str, str], float]):
        self.target = target
        self.keyed = keyed
        self.switches = switches
        anim = target.animation_data
        self.action = anim.action if anim is not None else None
        # Blender 4.4+ binds an action through a slot; 4.2/4.3 have no slots.
        bound = anim is not None and self.action is not None
        self.slot = getattr(anim, "action_slot", None) if bound else None
        pose = target.pose.bones
        self.saved_basis = {n: pose[n].matrix_basis.copy() for n in keyed}
        self.saved_modes = {n: pose[n].rotation_mode for n in keyed}
        self.saved_props = {key: pose[key[0]][key[1]] for key in switches}
        self.rotations: dict[str, np.ndarray] = {}
        self.locations: dict[str, np.ndarray] = {}
        self.errors: dict[str, np.ndarray] = {}

    def restore(self) -> None:
        pose = self.target.pose.bones
        for name, basis in self.saved_basis.items():
            pose[name].rotation_mode = self.saved_modes[name]
            pose[name].matrix_basis = basis
        for (bone, prop), value in self.saved_props.items():
            pose[bone][prop] = value
        if self.action is not None:
            anim = self.target.animation_data
            anim.action = self.action
            if self.slot is not None and hasattr(anim, "action_slot"):
                anim.action_slot = self.slot
        self.target.update_tag()


def _upstream(
    target: bpy.types.Object, mapping: Mapping[str, str], order: list[str]
) -> dict[str, tuple[str | None, set[str]]]:
    """``{SMPL bone: (nearest upstream SMPL bone or None, all upstream SMPL bones)}`` on this rig.

    Upstream of a keyed bone are the mapped bones whose turning turns its parent, found by turning
    each in turn and letting Blender evaluate (constraints may hang a rig's hips from its spine).
    The nearest is the upstream bone with the most upstream bones of its own.
    """
    pose = target.pose.bones
    view_layer = bpy.context.view_layer

    def parents() -> dict[str, np.ndarray]:
        view_layer.update()
        out = {}
        for s in order:
            parent = pose[mapping[s]].parent
            out[s] = rotation_part(np.array(parent.matrix)) if parent is not None else np.eye(3)
        return out

    base = parents()
    moved: dict[str, set[str]] = {s: set() for s in order}
    for d in order:
        pb = pose[mapping[d]]
        saved = pb.matrix_basis.copy()
        pb.matrix_basis = saved @ Matrix.Rotation(0.5, 4, Vector((1.0, 1.0, 1.0)).normalized())
        target.update_tag()
        now = parents()
        pb.matrix_basis = saved
        for s in order:
            if s != d and np.abs(now[s] - base[s]).max() > 1e-5:
                moved[s].add(d)
    target.update_tag()
    view_layer.update()
    return {s: (max(moved[s], key=lambda d: len(moved[d]), default=None), moved[s]) for s in order}


def _solve(
    target: bpy.types.Object,
    mapping: Mapping[str, str],
    followers: Mapping[str, str],
    desired: Mapping[str, np.ndarray],
    mover: str | None,
) -> _Solution:
    """Bases of the keyed bones that put every follower at ``desired`` (armature space, (T, 4, 4)).

    Blender evaluates the rig (its constraints, drivers and switches) after each pass; each pass
    turns every keyed bone by its follower's remaining error, in the SMPL hierarchy's order, and
    predicts that its descendants turn with it, so a plain rig converges in one pass per frame and
    a generated Rigify rig in a few (warm-started from the previous frame). ``mover`` (the bone
    carrying the root motion, or None) is shifted by the pelvis follower's remaining offset.
    Unmapped bones keep their current pose.
    """
    order = [s for s in SMPL_BONES if s in mapping]
    keyed = [mapping[s] for s in order]
    switches = _switches(target, mapping)
    solution = _Solution(target, list(dict.fromkeys([*keyed, *([mover] if mover else [])])), switches)
    pose = target.pose.bones
    rest = _rest(target)

    def rest_rel(name: str) -> np.ndarray:
        bone = target.data.bones[name]
        parent = rest[bone.parent.name] if bone.parent is not None else np.eye(4)
        return np.linalg.inv(parent) @ rest[name]

    rel = {s: rest_rel(mapping[s]) for s in order}
    # The control's turn relative to its follower at rest: where the control goes when the
    # follower follows it rigidly (exactly so on a plain rig, where both are one bone).
    offset = {s: rotation_part(rest[followers[s]]).T @ rotation_part(rest[mapping[s]]) for s in order}
    anim = target.animation_data
    if anim is not None:
        anim.action = None  # the artist's action would override the pose on every evaluation
    for (bone, prop), value in switches.items():
        pose[bone][prop] = value
    for name in keyed:
        pose[name].rotation_mode = "QUATERNION"
    view_layer = bpy.context.view_layer
    count = len(next(iter(desired.values())))
    basis = {name: np.array(pose[name].matrix_basis) for name in solution.keyed}
    try:
        upstream = _upstream(target, mapping, order)
    except BaseException:
        solution.restore()
        raise
    order.sort(key=lambda s: len(upstream[s][1]))
    rotations = {name: np.zeros((count, 3, 3)) for name in keyed}
    locations = np.zeros((count, 3))
    errors = {s: np.zeros(count) for s in order}
    try:
        for t in range(count):
            for k in range(_MAX_PASSES):
                for name, m in basis.items():
                    pose[name].matrix_basis = Matrix(m.tolist())
                target.update_tag()
                view_layer.update()
                current = {s: rotation_part(np.array(pose[followers[s]].matrix)) for s in order}
                want = {s: rotation_part(desired[s][t]) for s in order}
                for s in order:
                    errors[s][t] = _angle_deg(current[s], want[s])
                shift = 0.0
                if mover:
                    shift = desired["pelvis"][t][:3, 3] - np.array(pose[followers["pelvis"]].head)
                if max(errors[s][t] for s in order) < _TOLERANCE_DEG and np.linalg.norm(shift) < _TOLERANCE_M:
                    break
                correction: dict[str, np.ndarray] = {}
                for s in order:
                    pb = pose[mapping[s]]
                    control = rotation_part(np.array(pb.matrix))
                    if k == 0:  # the control where a rigidly following follower would be right
                        new_rot = want[s] @ offset[s]
                    else:  # then only swing: a follower's twist need not follow its control's
                        new_rot = swing(current[s][:, 1], want[s][:, 1]) @ control
                    correction[s] = new_rot @ control.T
                    up = correction[upstream[s][0]] if upstream[s][0] else np.eye(3)
                    parent = np.array(pb.parent.matrix) if pb.parent is not None else np.eye(4)
                    frame_rot = up @ rotation_part(parent) @ rotation_part(rel[s])
                    basis[mapping[s]][:3, :3] = frame_rot.T @ new_rot
                if mover:
                    pb = pose[mover]
                    parent = np.array(pb.parent.matrix) if pb.parent is not None else np.eye(4)
                    new_pos = np.array(pb.matrix)[:3, 3] + shift
                    chain = np.linalg.inv(parent @ rest_rel(mover))
                    basis[mover][:3, 3] = chain[:3, :3] @ new_pos + chain[:3, 3]
            for name in keyed:
                rotations[name][t] = rotation_part(basis[name])
            if mover:
                locations[t] = basis[mover][:3, 3]
    except BaseException:
        solution.restore()
        raise
    solution.errors = errors
    solution.rotations = {name: matrix_to_quaternion(r) for name, r in rotations.items()}
    if mover:
        solution.locations = {mover: locations}
    return solution


def _write_keys(
    target: bpy.types.Object,
    frames: np.ndarray,
    solution: _Solution,
    action_name: str | None,
) -> None:
    action = solution.action
    if action is not None:
        anim = target.animation_data
        anim.action = action  # so keys.new_action sees it, and replaces it
        if action.users <= 1:
            # keys.new_action deletes an action left without users; the artist's must survive.
            action.use_fake_user = True
    bag = keys.new_action(target, name=action_name or f"{target.name}_AnyLift")
    for name, quats in solution.rotations.items():
        path = f'pose.bones["{bpy.utils.escape_identifier(name)}"].rotation_quaternion'
        keys.write_channels(bag, path, frames, continuous_quaternions(quats), group=name)
    for name, loc in solution.locations.items():
        path = f'pose.bones["{bpy.utils.escape_identifier(name)}"].location'
        keys.write_channels(bag, path, frames, loc, group=name)
    for (bone, prop), value in solution.switches.items():
        path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"]["{prop}"]'
        keys.write_fcurve(bag, path, 0, frames[:1], np.array([value]), group=bone)
