"""DeepMimic motion clips (shipped in the ``pybullet`` wheel) as 3D joints and COCO-17 keypoints.

Source: ``pybullet_data/data/motions/humanoid3d_<name>.txt`` (JSON: ``{"Loop": ..., "Frames":
[[duration, root xyz (3), root quat (4), chest (4), neck (4), right hip (4), right knee (1),
right ankle (4), right shoulder (4), right elbow (1), left hip (4), left knee (1), left ankle (4),
left shoulder (4), left elbow (1)], ...]}`` - 44 numbers a frame, quaternions ``w, x, y, z``,
each frame's first number the time to the next frame) and the character
``pybullet_data/humanoid/humanoid.urdf``.

Conventions of the source, and what :func:`load_clip` does with them:

- The clips are Y-up, the character faces its local +x with its right side at local +z. The
  root position is already in metres; the URDF's offsets are in units that DeepMimic scales by
  :data:`URDF_SCALE` (``globalScaling=0.25`` when it loads the URDF). Joint offsets, the head
  sphere and the foot boxes are read from the URDF with ``xml.etree``.
- The clips mix frame rates (16, 24, 30 and 60 fps, and ``roll`` has irregular frame times).
  :func:`load_clip` resamples to the requested fps on the clip's own time line: rotations by
  slerp (scipy), the root position and the knee/elbow angles by PCHIP (smooth, no overshoot).
  Output frame ``k`` is at ``k / fps`` seconds, for every ``k / fps <= duration``.
- Output world: Z-up, metres, right-handed; a source point ``(x, y, z)`` goes to ``(x, -z, y)``
  (a +90 degree rotation about x), so the character's forward is world +x and its left +y
  when its root rotation is the identity. Then the clip is lifted so the lowest foot point
  (a corner of the URDF foot boxes) over the whole clip is at z = 0.

COCO-17 keypoints: shoulders, elbows, hips, knees, ankles at the URDF joints of those names;
wrists at the ``*_wrist`` fixed joints (the end of the forearm links); nose, eyes and ears
placed on the URDF head sphere (collision sphere of the ``neck`` link) in the neck link's frame
at fixed fractions of its radius (:data:`_FACE_POINTS`).

Data split (from DEVELOPERS): :data:`TRAIN_CLIPS` may be used for training;
:data:`HELDOUT_CLIPS` only for evaluation, and :func:`load_clip` refuses them unless the caller
says ``allow_heldout=True``.
"""

from __future__ import annotations

import functools
import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.spatial.transform import Rotation, Slerp

from anylift.errors import InputError
from anylift.skeletons import COCO17_JOINTS

TRAIN_CLIPS: tuple[str, ...] = (
    "walk",
    "jump",
    "dance_a",
    "punch",
    "kick",
    "roll",
    "crawl",
    "getup_facedown",
    "spin",
    "backflip",
)
HELDOUT_CLIPS: tuple[str, ...] = ("cartwheel", "spinkick", "dance_b", "getup_faceup", "run")
ALL_CLIPS: tuple[str, ...] = TRAIN_CLIPS + HELDOUT_CLIPS

# DeepMimic loads humanoid.urdf with globalScaling=0.25; the clips' root positions are in the
# scaled (metre) units already.
URDF_SCALE = 0.25

# Layout of one source frame after the duration: (joint name, number of values).
_FRAME_LAYOUT: tuple[tuple[str, int], ...] = (
    ("root_position", 3),
    ("root", 4),
    ("chest", 4),
    ("neck", 4),
    ("right_hip", 4),
    ("right_knee", 1),
    ("right_ankle", 4),
    ("right_shoulder", 4),
    ("right_elbow", 1),
    ("left_hip", 4),
    ("left_knee", 1),
    ("left_ankle", 4),
    ("left_shoulder", 4),
    ("left_elbow", 1),
)
_FRAME_WIDTH = 1 + sum(n for _, n in _FRAME_LAYOUT)

# Source (Y-up) -> output (Z-up): (x, y, z) -> (x, -z, y).
_Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])

# Face points on the head sphere, as fractions of its radius in the neck link frame
# (x forward, y up, z to the character's right). A real head is ~20 cm deep and ~15 cm wide;
# the URDF sphere has a 10 cm radius, so the nose sits on its front and the ears at +-7.5 cm.
_FACE_POINTS: dict[str, tuple[float, float, float]] = {
    "nose": (0.95, -0.15, 0.0),
    "left_eye": (0.80, 0.15, -0.35),
    "right_eye": (0.80, 0.15, 0.35),
    "left_ear": (-0.05, 0.05, -0.75),
    "right_ear": (-0.05, 0.05, 0.75),
}

# COCO-17 name -> URDF joint (frame origin) for the body points.
_COCO_FROM_URDF: dict[str, str] = {
    "left_shoulder": "left_shoulder",
    "right_shoulder": "right_shoulder",
    "left_elbow": "left_elbow",
    "right_elbow": "right_elbow",
    "left_wrist": "left_wrist",
    "right_wrist": "right_wrist",
    "left_hip": "left_hip",
    "right_hip": "right_hip",
    "left_knee": "left_knee",
    "right_knee": "right_knee",
    "left_ankle": "left_ankle",
    "right_ankle": "right_ankle",
}


@dataclass(frozen=True)
class _UrdfJoint:
    name: str
    kind: str  # "fixed" | "spherical" | "revolute"
    parent: str  # parent joint name ("" for the root)
    offset: np.ndarray  # (3,) in the parent joint's frame, metres (scaled)
    axis: np.ndarray | None  # (3,) revolute axis


@dataclass(frozen=True)
class _UrdfCharacter:
    joints: tuple[_UrdfJoint, ...]  # topological order, root first
    head_centre: np.ndarray  # (3,) in the neck frame, metres
    head_radius: float  # metres
    foot_corners: np.ndarray  # (4, 3) bottom corners of the foot box in the ankle frame, metres
    foot_heel_toe: np.ndarray  # (2, 3) heel and toe (bottom, mid-width) in the ankle frame


@dataclass
class MocapClip:
    """One resampled DeepMimic clip in the engine's world (Z-up, metres, feet on z = 0).

    Attributes:
        name: clip name (e.g. ``"walk"``).
        fps: frames per second of the arrays below.
        keypoints3d: (T, 17, 3) COCO-17 keypoints, metres.
        joints: (T, J, 3) the URDF joint origins plus ``head`` (head sphere centre) and the heel
            and toe points of each foot, metres; names in ``joint_names``.
        joint_names: J names.
        heading: (T,) radians, the direction the body faces (perpendicular to the hip line,
            horizontal), measured from world +x towards +y.
        root_rotation: (T, 3, 3) root (pelvis) link frame -> world rotation; the link's local
            axes are DeepMimic's (x forward, y up, z right).
        source_fps: the clip's mean frame rate in the file.
        loop: the file's ``Loop`` field (``"wrap"`` or ``"none"``).
    """

    name: str
    fps: float
    keypoints3d: np.ndarray
    joints: np.ndarray
    joint_names: tuple[str, ...]
    heading: np.ndarray
    root_rotation: np.ndarray
    source_fps: float
    loop: str

    @property
    def num_frames(self) -> int:
        return int(self.keypoints3d.shape[0])

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame."""
        return (self.num_frames - 1) / self.fps

    def joint(self, name: str) -> np.ndarray:
        """(T, 3) track of one joint of :attr:`joints` by name."""
        return self.joints[:, self.joint_names.index(name)]


def data_dir() -> Path:
    """The ``pybullet_data`` folder (from the installed ``pybullet`` wheel)."""
    try:
        import pybullet_data
    except ImportError as error:  # pragma: no cover - pybullet is a dev dependency
        raise InputError(
            "the DeepMimic clips come with the pybullet package, which is not installed",
            field="pybullet_data",
            expected="an importable pybullet_data module",
            fix="pip install 'anylift[dev]' (or pybullet==3.2.7)",
        ) from error
    return Path(pybullet_data.getDataPath())


def clip_path(name: str) -> Path:
    """Path of ``humanoid3d_<name>.txt``."""
    return data_dir() / "data" / "motions" / f"humanoid3d_{name}.txt"


def urdf_path() -> Path:
    return data_dir() / "humanoid" / "humanoid.urdf"


def _floats(text: str | None, path: Path, field: str) -> np.ndarray:
    try:
        values = np.array([float(v) for v in (text or "").split()])
    except ValueError as error:
        raise InputError("not a list of numbers", path=path, field=field, expected="'x y z'") from error
    if values.shape != (3,):
        raise InputError(f"got {values.size} numbers", path=path, field=field, expected="3 numbers")
    return values


@functools.lru_cache(maxsize=4)
def _read_urdf(path: str) -> _UrdfCharacter:
    file = Path(path)
    try:
        # The URDF in the pybullet wheel ends with a NUL byte, which expat rejects.
        root = ET.fromstring(file.read_bytes().rstrip(b"\0 \r\n\t"))
    except (OSError, ET.ParseError) as error:
        raise InputError(f"cannot read the character: {error}", path=file) from error

    links = {link.get("name"): link for link in root.iter("link")}
    by_child: dict[str, ET.Element] = {}
    for joint in root.iter("joint"):
        by_child[joint.find("child").get("link")] = joint
    # A joint's frame is its child link's frame; name joints by their child link.
    joints: list[_UrdfJoint] = []
    order = ["root"]
    while order:
        link = order.pop(0)
        joint = by_child.get(link)
        if joint is None:
            raise InputError("link has no parent joint", path=file, field=f"link {link}")
        parent_link = joint.find("parent").get("link")
        parent = "" if link == "root" else parent_link
        origin = joint.find("origin")
        offset = _floats(origin.get("xyz"), file, f"joint {joint.get('name')}.origin.xyz") * URDF_SCALE
        if link == "root":
            offset = np.zeros(3)  # the base->root joint: the clip gives the root pose itself
        axis_el = joint.find("axis")
        axis = None if axis_el is None else _floats(axis_el.get("xyz"), file, f"joint {link}.axis.xyz")
        joints.append(_UrdfJoint(link, joint.get("type"), parent, offset, axis))
        order.extend(
            j.find("child").get("link") for j in root.iter("joint") if j.find("parent").get("link") == link
        )

    def collision(link: str, shape: str) -> tuple[np.ndarray, ET.Element]:
        element = links[link].find("collision")
        geometry = None if element is None else element.find(f"geometry/{shape}")
        if geometry is None:
            raise InputError(
                "missing collision shape", path=file, field=f"link {link}.collision", expected=shape
            )
        return _floats(element.find("origin").get("xyz"), file, f"link {link}.collision.origin"), geometry

    head_centre, sphere = collision("neck", "sphere")
    head_radius = float(sphere.get("radius")) * URDF_SCALE
    box_centre, box = collision("left_ankle", "box")
    size = _floats(box.get("size"), file, "link left_ankle.collision.box.size")
    lo = (box_centre - size / 2) * URDF_SCALE
    hi = (box_centre + size / 2) * URDF_SCALE
    mid = (box_centre * URDF_SCALE)[2]
    corners = np.array([[x, lo[1], z] for x in (lo[0], hi[0]) for z in (lo[2], hi[2])])
    heel_toe = np.array([[lo[0], lo[1], mid], [hi[0], lo[1], mid]])
    return _UrdfCharacter(tuple(joints), head_centre * URDF_SCALE, head_radius, corners, heel_toe)


def _read_frames(path: Path) -> tuple[np.ndarray, str]:
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"cannot read the clip: {error}", path=path) from error
    try:
        frames = np.asarray(document["Frames"], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as error:
        raise InputError("no numeric frame table", path=path, field="Frames") from error
    if frames.ndim != 2 or frames.shape[1] != _FRAME_WIDTH or frames.shape[0] < 2:
        raise InputError(
            f"frame table of shape {frames.shape}",
            path=path,
            field="Frames",
            expected=f"at least 2 frames of {_FRAME_WIDTH} numbers",
        )
    if not np.all(np.isfinite(frames)) or np.any(frames[:-1, 0] <= 0):
        raise InputError(
            "non-finite values or non-positive frame durations",
            path=path,
            field="Frames",
            expected="finite numbers, durations > 0",
        )
    return frames, str(document.get("Loop", "none"))


def _split_frame(frames: np.ndarray) -> dict[str, np.ndarray]:
    out, start = {}, 1
    for name, width in _FRAME_LAYOUT:
        out[name] = frames[:, start : start + width]
        start += width
    return out


def _quaternions_to_matrices(wxyz: np.ndarray) -> np.ndarray:
    """(N, 4) quaternions w, x, y, z (normalised here) -> (N, 3, 3)."""
    # scipy wants (x, y, z, w).
    return Rotation.from_quat(np.roll(wxyz, -1, axis=1)).as_matrix()


def _resample(frames: np.ndarray, fps: float) -> dict[str, np.ndarray]:
    """The pose at ``k / fps`` seconds: root position (T,3), rotations (T,3,3), angles (T,1)."""
    times = np.concatenate([[0.0], np.cumsum(frames[:-1, 0])])
    duration = times[-1]
    # Source durations are rounded (walk: 0.033332 s for 1/30 s), so allow 1% of a frame.
    count = int(np.floor(duration * fps + 1e-2)) + 1
    target = np.minimum(np.arange(count) / fps, duration)
    parts = _split_frame(frames)
    out: dict[str, np.ndarray] = {}
    for name, values in parts.items():
        if values.shape[1] == 4:
            rotations = Rotation.from_matrix(_quaternions_to_matrices(values))
            out[name] = Slerp(times, rotations)(target).as_matrix()
        else:
            out[name] = PchipInterpolator(times, values, axis=0)(target)
    return out


def _forward_kinematics(
    character: _UrdfCharacter, pose: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """World (source, Y-up) positions (T,3) and rotations (T,3,3) of every joint frame."""
    positions: dict[str, np.ndarray] = {}
    rotations: dict[str, np.ndarray] = {}
    for joint in character.joints:
        if joint.parent == "":
            positions[joint.name] = pose["root_position"]
            rotations[joint.name] = pose["root"]
            continue
        parent_r = rotations[joint.parent]
        positions[joint.name] = positions[joint.parent] + parent_r @ joint.offset
        if joint.kind == "spherical":
            local = pose[joint.name]
        elif joint.kind == "revolute":
            local = Rotation.from_rotvec(pose[joint.name] * joint.axis).as_matrix()
        else:
            local = np.eye(3)
        rotations[joint.name] = parent_r @ local
    return positions, rotations


def _points(
    character: _UrdfCharacter, positions: dict[str, np.ndarray], rotations: dict[str, np.ndarray]
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]:
    """Joint names, joints (T,J,3), COCO-17 (T,17,3) and foot-box corners (T,8,3), Z-up, unlifted."""

    def local_points(joint: str, offsets: np.ndarray) -> np.ndarray:
        """(T, N, 3) points given in a joint's frame (metres)."""
        return positions[joint][:, None] + np.einsum("tij,nj->tni", rotations[joint], offsets)

    joint_names = [j.name for j in character.joints]
    named = {n: positions[n] for n in joint_names}
    named["head"] = local_points("neck", character.head_centre[None])[:, 0]
    corners = []
    for side in ("left", "right"):
        heel_toe = local_points(f"{side}_ankle", character.foot_heel_toe)
        named[f"{side}_heel"], named[f"{side}_toe"] = heel_toe[:, 0], heel_toe[:, 1]
        corners.append(local_points(f"{side}_ankle", character.foot_corners))
    names = (*joint_names, "head", "left_heel", "left_toe", "right_heel", "right_toe")
    face = {
        key: local_points("neck", (character.head_centre + character.head_radius * np.asarray(frac))[None])[
            :, 0
        ]
        for key, frac in _FACE_POINTS.items()
    }
    coco = [face[j] if j in face else positions[_COCO_FROM_URDF[j]] for j in COCO17_JOINTS]
    return (
        names,
        np.stack([named[n] for n in names], axis=1) @ _Y_UP_TO_Z_UP.T,
        np.stack(coco, axis=1) @ _Y_UP_TO_Z_UP.T,
        np.concatenate(corners, axis=1) @ _Y_UP_TO_Z_UP.T,
    )


def heading_from_keypoints(keypoints3d: np.ndarray) -> np.ndarray:
    """(T,) facing direction in radians from world +x towards +y, from COCO-17 hips.

    Args:
        keypoints3d: (T, 17, 3) Z-up world keypoints.

    The body faces ``left_hip_direction x up`` (for a body whose left is +y, that is +x).
    """
    left = keypoints3d[:, COCO17_JOINTS.index("left_hip")] - keypoints3d[:, COCO17_JOINTS.index("right_hip")]
    forward = np.cross(left, np.array([0.0, 0.0, 1.0]))
    return np.arctan2(forward[:, 1], forward[:, 0])


def load_clip(name: str, fps: float = 30.0, allow_heldout: bool = False) -> MocapClip:
    """Load a DeepMimic clip resampled to ``fps``, in a Z-up metre world with the feet on z = 0.

    Args:
        name: one of :data:`TRAIN_CLIPS` or :data:`HELDOUT_CLIPS`.
        fps: output frame rate (frames per second, > 0).
        allow_heldout: evaluation code only: allow a clip of :data:`HELDOUT_CLIPS`.

    Returns:
        A :class:`MocapClip` with ``floor(duration * fps) + 1`` frames (a 1% frame tolerance absorbs the
        files' rounded frame durations).

    Raises:
        InputError: unknown clip name, held-out clip without ``allow_heldout``, bad fps, or an
            unreadable clip / character file.
    """
    if name in HELDOUT_CLIPS and not allow_heldout:
        raise InputError(
            f"clip '{name}' is held out for evaluation",
            field="name",
            expected=f"one of the training clips {', '.join(TRAIN_CLIPS)}",
            fix="evaluation code may pass allow_heldout=True",
        )
    if name not in ALL_CLIPS:
        raise InputError(f"unknown clip '{name}'", field="name", expected=f"one of {', '.join(ALL_CLIPS)}")
    if not (isinstance(fps, int | float) and np.isfinite(fps) and fps > 0):
        raise InputError(f"fps = {fps!r}", field="fps", expected="a finite number > 0")
    path = clip_path(name)
    frames, loop = _read_frames(path)
    character = _read_urdf(os.fspath(urdf_path()))
    frame_pose = {
        part: _quaternions_to_matrices(values) if values.shape[1] == 4 else values
        for part, values in _split_frame(frames).items()
    }
    # The floor comes from the file's own frames so that it does not depend on the output fps.
    _, _, _, source_feet = _points(character, *_forward_kinematics(character, frame_pose))
    floor = float(source_feet[..., 2].min())
    positions, rotations = _forward_kinematics(character, _resample(frames, float(fps)))
    names, joints, keypoints3d, _ = _points(character, positions, rotations)
    joints[..., 2] -= floor
    keypoints3d[..., 2] -= floor
    root_rotation = _Y_UP_TO_Z_UP @ rotations["root"]
    source_fps = (len(frames) - 1) / float(frames[:-1, 0].sum())
    return MocapClip(
        name=name,
        fps=float(fps),
        keypoints3d=keypoints3d,
        joints=joints,
        joint_names=names,
        heading=heading_from_keypoints(keypoints3d),
        root_rotation=root_rotation,
        source_fps=source_fps,
        loop=loop,
    )
