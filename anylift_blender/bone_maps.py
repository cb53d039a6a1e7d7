"""Bone maps and retarget presets: data only (the logic that uses them is :mod:`.retarget`).

A preset names, for each SMPL bone (formats.md: each SMPL bone is named after the joint at its
head, so ``left_elbow`` is the forearm), the target bones that may carry it, the first one
present on the rig wins. On rigs whose deform bones follow constraints (a generated Rigify rig)
the keyed bone is a *control*; :attr:`Preset.followers` names the deform bone that shows it, so
the retarget can aim the deform bone and check that it really moved. :attr:`Preset.switches`
sets the rig's own switches first (Rigify's limbs to FK, so the FK controls drive them).

The tables for automatic mapping (any humanoid, by normalised bone names) are here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: SMPL bones whose target must follow for a retarget to count: upper arms, forearms, thighs, shins.
CORE_LIMBS: tuple[str, ...] = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_hip", "right_hip", "left_knee", "right_knee",
)  # fmt: skip


@dataclass(frozen=True)
class Preset:
    """A named bone map. ``bones``: SMPL bone -> candidate target bones (first present wins);
    ``followers``: keyed control -> the deform bone that follows it; ``movers``: keyed control ->
    the bone that carries its location (root motion) when it cannot itself; ``switches``: pose
    bone -> ``{custom property: value}`` set (and keyed) before retargeting."""

    name: str
    bones: dict[str, tuple[str, ...]]
    followers: dict[str, str] = field(default_factory=dict)
    movers: dict[str, str] = field(default_factory=dict)
    switches: dict[str, dict[str, float]] = field(default_factory=dict)


_SIDED = {
    # SMPL bone (left side) -> (Mixamo name without side/prefix, Rigify stem, Rigify FK control stem)
    "collar": ("Shoulder", "shoulder", "shoulder"),
    "shoulder": ("Arm", "upper_arm", "upper_arm_fk"),
    "elbow": ("ForeArm", "forearm", "forearm_fk"),
    "wrist": ("Hand", "hand", "hand_fk"),
    "hip": ("UpLeg", "thigh", "thigh_fk"),
    "knee": ("Leg", "shin", "shin_fk"),
    "ankle": ("Foot", "foot", "foot_fk"),
    "foot": ("ToeBase", "toe", "toe_fk"),
}


def _mixamo() -> Preset:
    m = {
        "pelvis": ("Hips",),
        "spine1": ("Spine",),
        "spine2": ("Spine1",),
        "spine3": ("Spine2",),
        "neck": ("Neck",),
        "head": ("Head",),
    }
    for smpl, (mixamo, _, _) in _SIDED.items():
        m[f"left_{smpl}"] = (f"Left{mixamo}",)
        m[f"right_{smpl}"] = (f"Right{mixamo}",)
    return Preset("mixamo", m)


# A generated Rigify rig (rigify's human metarig): SMPL spine -> (FK control, metarig/deform stem).
# Its FK spine hangs the hips (spine_fk) from the lower back (spine_fk.001); the whole trunk moves
# with ``torso``, which carries the root motion.
_RIGIFY_SPINE = {
    "pelvis": ("spine_fk", "spine"),
    "spine1": ("spine_fk.001", "spine.001"),
    "spine2": ("spine_fk.002", "spine.002"),
    "spine3": ("spine_fk.003", "spine.003"),
    "neck": ("neck", "spine.004"),
    "head": ("head", "spine.006"),
}


def _rigify() -> Preset:
    # Candidates in order: the generated rig's controls, then the deform bones of a deform-only
    # copy, its ORG bones, then the metarig itself (all plain bones).
    bones: dict[str, tuple[str, ...]] = {}
    followers: dict[str, str] = {}

    def add(smpl: str, control: str, stem: str) -> None:
        bones[smpl] = (control, f"DEF-{stem}", f"ORG-{stem}", stem)
        followers[control] = f"DEF-{stem}"

    for smpl, (control, stem) in _RIGIFY_SPINE.items():
        add(smpl, control, stem)
    for smpl, (_, stem, control) in _SIDED.items():
        for side in ("L", "R"):
            add(f"{'left' if side == 'L' else 'right'}_{smpl}", f"{control}.{side}", f"{stem}.{side}")
    # Limbs to FK (1.0; 0.0 is IK) so the FK controls drive the deform bones.
    switches = {f"{limb}_parent.{side}": {"IK_FK": 1.0} for limb in ("upper_arm", "thigh") for side in "LR"}
    return Preset("rigify", bones, followers, {"spine_fk": "torso"}, switches)


#: Presets by name. Mixamo names match with any ``mixamorig:``/``mixamorig1:``... prefix or none.
PRESETS: dict[str, Preset] = {p.name: p for p in (_mixamo(), _rigify())}

MIXAMO_PREFIX = re.compile(r"^mixamorig\d*[:_]", re.IGNORECASE)

# --- automatic mapping by normalised names -------------------------------------------------

NAME_PREFIXES = re.compile(
    r"^(?:.*:|def[-_.]|org[-_.]|mch[-_.]|bip0*1[ _]?|cc_base_|j_bip_[lrc]_|b_|jnt_|bn_|bone_|rig_|"
    r"valvebiped\.bip01_)",
    re.IGNORECASE,
)
SIDE_PATTERNS = (
    (re.compile(r"(?:^|[._\- ])(l|left)(?=$|[._\- \d])", re.IGNORECASE), "l"),
    (re.compile(r"(?:^|[._\- ])(r|right)(?=$|[._\- \d])", re.IGNORECASE), "r"),
    (re.compile(r"^left(?=[A-Z_])|left$", re.IGNORECASE), "l"),
    (re.compile(r"^right(?=[A-Z_])|right$", re.IGNORECASE), "r"),
)
#: Parts of a body, each with the words that name it (after lower-casing, digits kept apart).
SYNONYMS: dict[str, tuple[str, ...]] = {
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
#: A bone whose name holds one of these words is never mapped automatically.
SKIP_WORDS = frozenset(
    "thumb index middle ring pinky finger fingers twist roll ik pole target end nub tip top eye jaw "
    "tongue breast hair ear nose brow lip teeth tweak prop weapon helper corrective mch".split()
)
#: SMPL bone -> (part, side) in the synonym table's terms.
SMPL_PART: dict[str, tuple[str, str | None]] = {
    "pelvis": ("hips", None),
    "neck": ("neck", None),
    "head": ("head", None),
    **{f"{side}_{smpl}": (part, side[0]) for side in ("left", "right") for smpl, part in (
        ("collar", "collar"), ("shoulder", "upperarm"), ("elbow", "forearm"), ("wrist", "hand"),
        ("hip", "thigh"), ("knee", "shin"), ("ankle", "foot"), ("foot", "toe"))},
}  # fmt: skip
