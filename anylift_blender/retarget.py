"""Retarget the baked SMPL motion onto an artist's armature.

Bone maps are ``{source bone: target bone}`` with the source bones named as SMPL joints
(``formats.md``: each SMPL bone is named after the joint at its head, so ``left_elbow`` is the
forearm). :data:`PRESETS` cover Mixamo and Rigify; :func:`auto_map` matches any other rig by
normalised bone names (prefixes stripped, side tokens such as ``.L``/``_l``/``Left`` read,
synonyms such as thigh/upleg, shin/calf/leg, upper_arm/arm, forearm/lowerarm merged).

The transfer is done in world space, frame by frame, in numpy (no ``frame_set``):

- ``D_b(t) = R_src_b(t) · R_src_rest_b⁻¹`` is how far the source bone turned from its rest
  orientation, in world space;
- the target bone's world orientation is ``R_tgt_b(t) = D_b(t) · A_b · R_tgt_rest_b`` where
  ``A_b`` first turns the whole target rest body to face like the source rest body (frames
  built from the hips and the spine), then swings the bone so it points like the source bone
  at rest. ``A_b`` is what makes an A-pose rig follow a T-pose source: the target bone then
  points exactly where the source bone points, frame by frame. (The pelvis keeps only the
  body-facing part, so a rig whose hip bone points down or sideways is not flipped.)
- the target's hips follow ``p_tgt(t) = p_tgt_rest + k · (p_src(t) - p_src_rest)`` with
  ``k`` the ratio of leg lengths (hip-knee-ankle, both sides averaged), so a smaller rig takes
  smaller steps and keeps its feet on the floor;
- these world poses become local ``rotation_quaternion`` (and hips ``location``) keys by
  walking the target hierarchy from the root (unmapped bones keep their current local pose),
  written in bulk with :mod:`anylift_blender.baking.keys` into a new action on the target.

Assumptions (documented limits): pose bones inherit rotation and scale (the defaults), bones
are not scaled in pose mode, and keyed bones carry no constraints that override them (on a
generated Rigify rig, retarget onto a deform-only copy or the metarig; its DEF bones follow
constraints). Keyed target bones are switched to the ``QUATERNION`` rotation mode. An action
already on the target is kept (given a fake user), not deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import bpy
import numpy as np

from .baking import keys
from .baking.armature import SMPL_BONES  # re-exported: the retarget operator's source bones
from .rotations import (
    blender_axis_angle_to_matrix,
    continuous_quaternions,
    euler_to_matrix,
    matrix_to_quaternion,
    quaternion_to_matrix,
    rotation_part,
    swing,
)

_SIDED = {
    # SMPL bone (left side) -> (Mixamo name without side/prefix, Rigify stem)
    "collar": ("Shoulder", "shoulder"),
    "shoulder": ("Arm", "upper_arm"),
    "elbow": ("ForeArm", "forearm"),
    "wrist": ("Hand", "hand"),
    "hip": ("UpLeg", "thigh"),
    "knee": ("Leg", "shin"),
    "ankle": ("Foot", "foot"),
    "foot": ("ToeBase", "toe"),
}


def _mixamo() -> dict[str, tuple[str, ...]]:
    m = {
        "pelvis": ("Hips",),
        "spine1": ("Spine",),
        "spine2": ("Spine1",),
        "spine3": ("Spine2",),
        "neck": ("Neck",),
        "head": ("Head",),
    }
    for smpl, (mixamo, _) in _SIDED.items():
        m[f"left_{smpl}"] = (f"Left{mixamo}",)
        m[f"right_{smpl}"] = (f"Right{mixamo}",)
    return m


def _rigify() -> dict[str, tuple[str, ...]]:
    # Candidates in order: deform bones of a generated rig, its ORG bones, then the metarig.
    def variants(name: str) -> tuple[str, ...]:
        return (f"DEF-{name}", f"ORG-{name}", name)

    m = {
        "pelvis": variants("spine"),
        "spine1": variants("spine.001"),
        "spine2": variants("spine.002"),
        "spine3": variants("spine.003"),
        "neck": variants("spine.004"),
        "head": variants("spine.006"),
    }
    for smpl, (_, stem) in _SIDED.items():
        m[f"left_{smpl}"] = variants(f"{stem}.L")
        m[f"right_{smpl}"] = variants(f"{stem}.R")
    return m


#: Presets: SMPL bone -> candidate target bone names, the first one present is used. Mixamo
#: names match with any ``mixamorig:``/``mixamorig1:``... prefix or none.
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {"mixamo": _mixamo(), "rigify": _rigify()}

_MIXAMO_PREFIX = re.compile(r"^mixamorig\d*[:_]", re.IGNORECASE)


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
        lookup = {_MIXAMO_PREFIX.sub("", name): name for name in names}
    mapping = {}
    for smpl, candidates in PRESETS[preset].items():
        for candidate in candidates:
            if candidate in lookup:
                mapping[smpl] = lookup[candidate]
                break
    return mapping


def detect_preset(target_bones: Iterable[str]) -> str | None:
    """``"mixamo"``, ``"rigify"`` or None, from the target's bone names."""
    names = set(target_bones)
    if any(_MIXAMO_PREFIX.match(n) for n in names) or {"Hips", "LeftUpLeg", "RightUpLeg"} <= names:
        return "mixamo"
    if {"DEF-spine", "DEF-thigh.L"} <= names or {"ORG-spine", "ORG-thigh.L"} <= names:
        return "rigify"
    if {"spine", "spine.001", "thigh.L", "shin.L"} <= names:
        return "rigify"
    return None


# --- automatic mapping by normalised names -------------------------------------------------

_PREFIXES = re.compile(
    r"^(?:.*:|def[-_.]|org[-_.]|mch[-_.]|bip0*1[ _]?|cc_base_|j_bip_[lrc]_|b_|jnt_|bn_|bone_|rig_|"
    r"valvebiped\.bip01_)",
    re.IGNORECASE,
)
_SIDE_PATTERNS = (
    (re.compile(r"(?:^|[._\- ])(l|left)(?=$|[._\- \d])", re.IGNORECASE), "l"),
    (re.compile(r"(?:^|[._\- ])(r|right)(?=$|[._\- \d])", re.IGNORECASE), "r"),
    (re.compile(r"^left(?=[A-Z_])|left$", re.IGNORECASE), "l"),
    (re.compile(r"^right(?=[A-Z_])|right$", re.IGNORECASE), "r"),
)
# Parts of a body, each with the words that name it (after lower-casing, digits kept apart).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "hips": ("hips", "pelvis", "hip"),
    "spine": ("spine", "chest", "upperchest", "torso", "abdomen", "back"),
    "neck": ("neck",),
    "head": ("head",),
    "collar": ("clavicle", "collar", "collarbone", "shoulder"),
    "upperarm": ("upperarm", "uparm", "arm", "humerus"),
    "forearm": ("forearm", "lowerarm", "elbow", "lowarm"),
    "hand": ("hand", "wrist"),
    "thigh": ("thigh", "upleg", "upperleg", "femur", "hip"),
    "shin": ("shin", "calf", "leg", "lowerleg", "lowleg", "knee", "crus"),
    "foot": ("foot", "ankle"),
    "toe": ("toe", "toes", "toebase", "ball"),
}
_SKIP_WORDS = frozenset(
    "thumb index middle ring pinky finger fingers twist roll ik pole target end nub tip top eye jaw "
    "tongue breast hair ear nose brow lip teeth tweak prop weapon helper corrective mch".split()
)
_SMPL_PART = {
    "pelvis": ("hips", None),
    "neck": ("neck", None),
    "head": ("head", None),
    **{f"{side}_{smpl}": (part, side[0]) for side in ("left", "right") for smpl, part in (
        ("collar", "collar"), ("shoulder", "upperarm"), ("elbow", "forearm"), ("wrist", "hand"),
        ("hip", "thigh"), ("knee", "shin"), ("ankle", "foot"), ("foot", "toe"))},
}  # fmt: skip


def normalize_bone_name(name: str) -> tuple[str | None, str | None]:
    """``(part, side)`` of a bone name: part a key of the synonym table or None, side ``"l"``,
    ``"r"`` or None. E.g. ``"mixamorig:LeftForeArm"`` -> ``("forearm", "l")``,
    ``"DEF-thigh.R"`` -> ``("thigh", "r")``, ``"Calf_L"`` -> ``("shin", "l")``."""
    text = _PREFIXES.sub("", name)
    side = None
    for pattern, value in _SIDE_PATTERNS:
        if pattern.search(text):
            side = value
            text = pattern.sub(" ", text, count=1)
            break
    # CamelCase -> words, then drop separators and digits: "UpperArm" -> "upperarm".
    words = [w for w in re.split(r"[^a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower()) if w]
    if _SKIP_WORDS.intersection(words):
        return None, side
    key = "".join(words)
    if not key:
        return None, side
    for part, names in _SYNONYMS.items():
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
    for smpl, (part, side) in _SMPL_PART.items():
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


def retarget(
    source_armature: bpy.types.Object,
    target_armature: bpy.types.Object,
    bone_map: Mapping[str, str] | Iterable[tuple[str, str]] | str | None = None,
    *,
    frames: np.ndarray | None = None,
    action_name: str | None = None,
) -> dict[str, str]:
    """Key ``target_armature`` so its mapped bones follow ``source_armature``'s motion.

    Args:
        source_armature: the animated armature (normally ``SMPL``), with an action.
        target_armature: the artist's rig.
        bone_map: ``{source bone: target bone}`` (or (source, target) pairs), a preset name
            (:data:`PRESETS`), or None for the detected preset / :func:`auto_map`. Pairs naming a
            bone missing on either side are ignored.
        frames: (T,) scene frames to key; default: the source action's frame range.
        action_name: name of the new target action (default ``"<target>_AnyLift"``).

    Returns:
        The mapping actually used, ``{source bone: target bone}``.

    Raises:
        ValueError: the source has no animation, or no pair of the map exists on both rigs.
    """
    src_bones = {b.name for b in source_armature.data.bones}
    tgt_bones = {b.name for b in target_armature.data.bones}
    mapping = {
        s: t
        for s, t in _normalise_map(bone_map, target_armature).items()
        if s in src_bones and t in tgt_bones
    }
    if not mapping:
        raise ValueError(
            f"no bone of '{target_armature.name}' maps onto '{source_armature.name}' "
            "(pick a preset or fill the bone map)"
        )
    if frames is None:
        frames = action_frames(source_armature)
    frames = np.asarray(frames, dtype=np.float64)

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
    frame_tgt = _body_frame(tgt_heads, mapping)
    facing = frame_src @ frame_tgt.T if frame_src is not None and frame_tgt is not None else np.eye(3)

    # Desired world rotation of every mapped target bone, (T, 3, 3).
    desired_rot: dict[str, np.ndarray] = {}
    for s, t in mapping.items():
        turn = rotation_part(src_pose[s]) @ rotation_part(src_rest[s]).T
        align = facing
        if s != "pelvis":
            t_dir = facing @ rotation_part(tgt_rest[t])[:, 1]
            s_dir = rotation_part(src_rest[s])[:, 1]
            align = swing(t_dir / np.linalg.norm(t_dir), s_dir / np.linalg.norm(s_dir)) @ facing
        desired_rot[t] = turn @ align @ rotation_part(tgt_rest[t])

    hips_target = mapping.get("pelvis")
    desired_pos = None
    if hips_target is not None:
        src_len = _leg_length(src_heads, None)
        tgt_len = _leg_length(tgt_heads, mapping)
        scale = tgt_len / src_len if src_len and tgt_len else 1.0
        offset = src_pose["pelvis"][:, :3, 3] - src_rest["pelvis"][:3, 3]
        desired_pos = tgt_rest[hips_target][:3, 3] + scale * offset

    # Walk the target hierarchy: local basis of mapped bones from their world targets.
    inv_world_rot = rotation_part(tgt_world).T
    inv_world = np.linalg.inv(tgt_world)
    count = len(frames)
    posed: dict[str, np.ndarray] = {}
    keyed_rot: dict[str, np.ndarray] = {}
    keyed_loc: dict[str, np.ndarray] = {}
    for bone in _ordered_bones(target_armature):
        name = bone.name
        if bone.parent is None:
            chain = np.broadcast_to(tgt_rest_arm[name], (count, 4, 4))
        else:
            rel = np.linalg.inv(tgt_rest_arm[bone.parent.name]) @ tgt_rest_arm[name]
            chain = posed[bone.parent.name] @ rel
        if name in desired_rot:
            basis = np.tile(np.eye(4), (count, 1, 1))
            rot_arm = inv_world_rot @ desired_rot[name]
            basis[:, :3, :3] = np.swapaxes(rotation_part(chain), -1, -2) @ rot_arm
            if name == hips_target and desired_pos is not None and not bone.use_connect:
                p_arm = (inv_world[:3, :3] @ desired_pos.T).T + inv_world[:3, 3]
                inv_chain = np.linalg.inv(chain)
                loc = np.einsum("tij,tj->ti", inv_chain[:, :3, :3], p_arm) + inv_chain[:, :3, 3]
                basis[:, :3, 3] = loc
                keyed_loc[name] = loc
            keyed_rot[name] = matrix_to_quaternion(basis[:, :3, :3])
        else:
            basis = np.broadcast_to(np.array(target_armature.pose.bones[name].matrix_basis), (count, 4, 4))
        posed[name] = chain @ basis

    _write_keys(target_armature, frames, keyed_rot, keyed_loc, action_name)
    return mapping


def _write_keys(
    target: bpy.types.Object,
    frames: np.ndarray,
    rotations: Mapping[str, np.ndarray],
    locations: Mapping[str, np.ndarray],
    action_name: str | None,
) -> None:
    anim = target.animation_data
    if anim is not None and anim.action is not None and anim.action.users <= 1:
        # keys.new_action deletes an action left without users; the artist's must survive.
        anim.action.use_fake_user = True
    bag = keys.new_action(target, name=action_name or f"{target.name}_AnyLift")
    for name, quats in rotations.items():
        target.pose.bones[name].rotation_mode = "QUATERNION"
        path = f'pose.bones["{bpy.utils.escape_identifier(name)}"].rotation_quaternion'
        keys.write_channels(bag, path, frames, continuous_quaternions(quats), group=name)
    for name, loc in locations.items():
        path = f'pose.bones["{bpy.utils.escape_identifier(name)}"].location'
        keys.write_channels(bag, path, frames, loc, group=name)
