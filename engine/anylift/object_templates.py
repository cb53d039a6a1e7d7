"""Object categories for human-object interaction: mesh-free keypoint templates.

An :class:`ObjectTemplate` is what the engine knows about one kind of object: M named keypoints
in the object's own frame (``canonical``, metres, Z-up when the object stands on the floor as
intended), the object's proper rotational symmetries, an optional left/right mirror, and the
reference keypoint pair whose distance gives the object's scale.

Built-in categories (:data:`CATEGORIES`), frames chosen so every proper symmetry is a rotation
about the keypoints' centroid:

- ``box``: the 8 corners of a ``length x width x height`` box (x, y, z), origin at its centre.
  Its proper symmetries follow from the dimensions: 3 distinct sides give the 4 rotations of
  D2 (identity and 180 degrees about x, y, z); two equal sides add the 90-degree turns about the
  third axis (D4, 8 rotations); a cube has all 24.
- ``chair``: 4 feet, 4 seat corners, 2 backrest top corners; the back is at -x, the seat faces
  +x; origin on the floor below the seat's centre. A left/right mirror (y -> -y), but no proper
  rotational symmetry: a rotation cannot swap the back and the front.
- ``table``: 4 feet and 4 top corners of a ``length x width x height`` table, origin on the floor
  below the top's centre. Rectangular: 180 degrees about z; square: the 4 turns about z. Chair
  and table symmetries are looked for among rotations about z only: their 8 or 10 keypoints
  alone would allow turning a table upside down, which its appearance does not.

Corner names read ``<bottom|top>_<back|front>_<right|left>``: x forward (front = +x),
y to the left, z up, as for a person facing +x.

User-defined objects (:func:`user_template`) come from their canonical keypoints
(``objects[].canonical`` in the keypoints JSON, or the Blender add-on's "Define Object
Keypoints"); their symmetries are detected among the 24 axis-aligned rotations about the
centroid (``symmetries="auto"``), which finds the symmetries of boxes and tables modelled
axis-aligned and none for a scanned, irregular object.

Symmetry convention: symmetry ``g`` (rotation ``G``, offset ``d``, permutation ``pi``) maps the
keypoint set onto itself, ``G @ p_i + d == p_pi[i]``. An object pose ``(R, t, s)`` (keypoint ``i``
at ``s R p_i + t``) and the pose ``(R G, t + s R d, s)`` put the same physical points at the same
places; in the second, model keypoint ``i`` is where the first put ``pi[i]``. Object pose fitting
(:mod:`anylift.fitting.object_fit`) uses this to keep a symmetric object from flipping between
equivalent poses.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from anylift.errors import InputError
from anylift.geometry.transforms import spans_plane

CATEGORIES: tuple[str, ...] = ("box", "chair", "table")

DEFAULT_BOX_SIZE = (0.45, 0.35, 0.30)
"""Length (x), width (y), height (z) of the default box, metres (a moving box)."""
DEFAULT_CHAIR_SIZE = (0.45, 0.45, 0.45, 0.90)
"""Seat depth (x), seat width (y), seat height, backrest top height, metres."""
DEFAULT_TABLE_SIZE = (1.20, 0.70, 0.75)
"""Length (x), width (y), height (z) of the default table top above the floor, metres."""

# Relative tolerance (of the object's size) for two keypoints to count as the same point when
# looking for symmetries: modelling noise, not measurement noise.
SYMMETRY_TOLERANCE = 1e-3


@dataclass(frozen=True, eq=False)
class ObjectTemplate:
    """One object kind's keypoints and symmetries (see the module docstring).

    Attributes:
        category: ``"box"``, ``"chair"``, ``"table"`` or a user category.
        names: M keypoint names.
        canonical: (M, 3) float64 keypoint positions in the object frame, metres.
        symmetry_rotations: (G, 3, 3) proper rotations ``G``; the identity first.
        symmetry_offsets: (G, 3) offsets ``d`` (metres): ``G @ p_i + d == p_pi[i]``.
        symmetry_permutations: (G, M) int64 ``pi`` for each symmetry.
        mirror: (M,) int64 permutation of a left/right mirror (y -> -y about the centroid) that maps
            the keypoints onto themselves, or None. Not a pose ambiguity (a rotation cannot mirror);
            it relabels keypoints when images are flipped for augmentation.
        reference_pair: (i, j): the two keypoints whose distance sets the scale at initialisation
            (the pair farthest apart, so the ratio is least sensitive to noise).
    """

    category: str
    names: tuple[str, ...]
    canonical: np.ndarray
    symmetry_rotations: np.ndarray
    symmetry_offsets: np.ndarray
    symmetry_permutations: np.ndarray
    mirror: np.ndarray | None
    reference_pair: tuple[int, int]

    @property
    def num_keypoints(self) -> int:
        """M."""
        return int(self.canonical.shape[0])

    @property
    def num_symmetries(self) -> int:
        """G (1: no symmetry but the identity)."""
        return int(self.symmetry_rotations.shape[0])

    @property
    def size(self) -> float:
        """Diagonal of the keypoints' bounding box, metres."""
        return float(np.linalg.norm(np.ptp(self.canonical, axis=0)))


def axis_aligned_rotations() -> np.ndarray:
    """(24, 3, 3) the proper rotations that permute the axes with signs (the cube's group), identity first."""
    mats = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            m = np.zeros((3, 3))
            m[np.arange(3), perm] = signs
            if np.linalg.det(m) > 0:
                mats.append(m)
    mats.sort(key=lambda m: -np.trace(m))  # identity (trace 3) first
    return np.stack(mats)


def _match(moved: np.ndarray, canonical: np.ndarray, tol: float) -> np.ndarray | None:
    """Permutation pi with moved[i] == canonical[pi[i]] within ``tol``, or None."""
    dist = np.linalg.norm(moved[:, None] - canonical[None], axis=-1)
    perm = np.argmin(dist, axis=1)
    if np.all(dist[np.arange(len(moved)), perm] <= tol) and len(set(perm.tolist())) == len(perm):
        return perm.astype(np.int64)
    return None


def find_symmetries(canonical: np.ndarray, tolerance: float = SYMMETRY_TOLERANCE, upright: bool = False):
    """Proper symmetries of a keypoint set among the 24 axis-aligned rotations about its centroid.

    Args:
        canonical: (M, 3) metres.
        tolerance: fraction of the set's size within which moved keypoints must land on keypoints.
        upright: only rotations about z (objects whose top and bottom look different, such as a
            table, whose 8 keypoints alone would also allow turning it upside down).

    Returns:
        ``(rotations (G, 3, 3), offsets (G, 3), permutations (G, M))``, the identity first.
    """
    canonical = np.asarray(canonical, dtype=np.float64)
    centre = canonical.mean(axis=0)
    tol = tolerance * max(float(np.linalg.norm(np.ptp(canonical, axis=0))), 1e-9)
    rots, offsets, perms = [], [], []
    for g in axis_aligned_rotations():
        if upright and g[2, 2] != 1.0:
            continue
        d = centre - g @ centre
        perm = _match(canonical @ g.T + d, canonical, tol)
        if perm is not None:
            rots.append(g)
            offsets.append(d)
            perms.append(perm)
    return np.stack(rots), np.stack(offsets), np.stack(perms)


def find_mirror(canonical: np.ndarray, tolerance: float = SYMMETRY_TOLERANCE) -> np.ndarray | None:
    """(M,) permutation of the mirror y -> -y about the centroid, if it maps the set onto itself."""
    canonical = np.asarray(canonical, dtype=np.float64)
    centre = canonical.mean(axis=0)
    tol = tolerance * max(float(np.linalg.norm(np.ptp(canonical, axis=0))), 1e-9)
    flip = np.diag([1.0, -1.0, 1.0])
    return _match((canonical - centre) @ flip + centre, canonical, tol)


def _farthest_pair(canonical: np.ndarray) -> tuple[int, int]:
    dist = np.linalg.norm(canonical[:, None] - canonical[None], axis=-1)
    i, j = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return (int(min(i, j)), int(max(i, j)))


def _template(category, names, canonical, symmetries: bool, upright: bool = False) -> ObjectTemplate:
    canonical = np.array(canonical, dtype=np.float64)
    if symmetries:
        rots, offsets, perms = find_symmetries(canonical, upright=upright)
    else:
        m = len(canonical)
        rots, offsets, perms = np.eye(3)[None], np.zeros((1, 3)), np.arange(m, dtype=np.int64)[None]
    return ObjectTemplate(
        category=category,
        names=tuple(names),
        canonical=canonical,
        symmetry_rotations=rots,
        symmetry_offsets=offsets,
        symmetry_permutations=perms,
        mirror=find_mirror(canonical),
        reference_pair=_farthest_pair(canonical),
    )


def _corner_name(x: float, y: float, z: float) -> str:
    return f"{'top' if z > 0 else 'bottom'}_{'front' if x > 0 else 'back'}_{'left' if y > 0 else 'right'}"


def _positive_sizes(size, count: int, field: str) -> tuple[float, ...]:
    values = tuple(float(v) for v in np.asarray(size, dtype=np.float64).reshape(-1))
    if len(values) != count or not all(np.isfinite(v) and v > 0 for v in values):
        raise InputError(f"is {size!r}", field=field, expected=f"{count} positive sizes in metres")
    return values


def box_template(size=DEFAULT_BOX_SIZE) -> ObjectTemplate:
    """The ``box`` category: 8 corners of a box of (length x, width y, height z) metres, centred."""
    lx, ly, lz = _positive_sizes(size, 3, "box size")
    corners = [(sx * lx / 2, sy * ly / 2, sz * lz / 2) for sz in (-1, 1) for sx in (-1, 1) for sy in (-1, 1)]
    return _template("box", [_corner_name(*c) for c in corners], corners, symmetries=True)


def chair_template(size=DEFAULT_CHAIR_SIZE) -> ObjectTemplate:
    """The ``chair`` category: (seat depth x, seat width y, seat height, back height) metres.

    Keypoints: 4 feet (z = 0), 4 seat corners, the 2 top corners of the backrest (at the back, -x).
    """
    dx, dy, seat, back = _positive_sizes(size, 4, "chair size")
    if back <= seat:
        raise InputError(
            f"back height {back} <= seat height {seat}",
            field="chair size",
            expected="a backrest higher than the seat",
        )
    names, points = [], []
    for level, z in (("foot", 0.0), ("seat", seat)):
        for sx in (-1, 1):
            for sy in (-1, 1):
                names.append(f"{level}_{'front' if sx > 0 else 'back'}_{'left' if sy > 0 else 'right'}")
                points.append((sx * dx / 2, sy * dy / 2, z))
    for sy in (-1, 1):
        names.append(f"backrest_{'left' if sy > 0 else 'right'}")
        points.append((-dx / 2, sy * dy / 2, back))
    return _template("chair", names, points, symmetries=True, upright=True)


def table_template(size=DEFAULT_TABLE_SIZE) -> ObjectTemplate:
    """The ``table`` category: 4 feet and 4 top corners of a (length x, width y, height z) metre table."""
    lx, ly, lz = _positive_sizes(size, 3, "table size")
    names, points = [], []
    for level, z in (("foot", 0.0), ("top", lz)):
        for sx in (-1, 1):
            for sy in (-1, 1):
                names.append(f"{level}_{'front' if sx > 0 else 'back'}_{'left' if sy > 0 else 'right'}")
                points.append((sx * lx / 2, sy * ly / 2, z))
    return _template("table", names, points, symmetries=True, upright=True)


_BUILDERS = {"box": box_template, "chair": chair_template, "table": table_template}


def get_template(category: str) -> ObjectTemplate:
    """The default template of a built-in category (see :data:`CATEGORIES`).

    Raises:
        InputError: unknown category.
    """
    builder = _BUILDERS.get(category)
    if builder is None:
        raise InputError(
            f"unknown object category {category!r}",
            field="category",
            expected="one of " + ", ".join(CATEGORIES) + ", or canonical keypoints for a user-defined object",
        )
    return builder()


def user_template(
    canonical,
    names=None,
    category: str = "custom",
    symmetries: str = "auto",
    *,
    path=None,
    field: str = "canonical",
) -> ObjectTemplate:
    """A user-defined object from its canonical keypoints.

    Args:
        canonical: (M, 3) keypoints in the object's frame, metres (any origin and orientation).
        names: M names (default ``kp0``, ``kp1``, ...).
        category: a free label.
        symmetries: ``"auto"`` (detect among axis-aligned rotations, see :func:`find_symmetries`)
            or ``"none"``.
        path, field: named in error messages (the keypoints file and its field).

    Raises:
        InputError: not (M, 3) finite with M >= 3, keypoints all on one line, or bad names.
    """
    can = np.asarray(canonical, dtype=np.float64)
    if can.ndim != 2 or can.shape[1] != 3 or can.shape[0] < 3 or not np.all(np.isfinite(can)):
        raise InputError(
            f"has shape {can.shape}", path=path, field=field, expected="(M, 3) finite metres with M >= 3"
        )
    if not spans_plane(can):
        raise InputError(
            "has all its keypoints on one line",
            path=path,
            field=field,
            expected="at least 3 keypoints not on one line (else the rotation is undetermined)",
        )
    if names is None:
        names = [f"kp{i}" for i in range(len(can))]
    names = tuple(str(n) for n in names)
    if len(names) != len(can) or len(set(names)) != len(names):
        raise InputError(
            f"has {len(names)} names for {len(can)} keypoints",
            path=path,
            field="names",
            expected="one unique name per keypoint",
        )
    if symmetries not in ("auto", "none"):
        raise InputError(f"is {symmetries!r}", field="symmetries", expected="'auto' or 'none'")
    return _template(category, names, can, symmetries=symmetries == "auto")


def template_for_track(track, *, path=None, index: int | None = None) -> ObjectTemplate:
    """The template of an :class:`anylift.io.keypoints.ObjectTrack`.

    Its ``canonical`` wins when given (a user-defined object; category kept as a label);
    otherwise its ``category`` must be built-in with as many keypoints as the track has.

    Raises:
        InputError: naming ``objects[index]`` of ``path``.
    """
    where = f"objects[{index}]" if index is not None else f"object {track.name!r}"
    m = track.keypoints.shape[1]
    if track.canonical is not None:
        return user_template(
            track.canonical, category=track.category or "custom", path=path, field=f"{where}.canonical"
        )
    if track.category not in _BUILDERS:
        raise InputError(
            f"category {track.category!r} is not built in and no canonical keypoints are given",
            path=path,
            field=f"{where}.category",
            expected="one of " + ", ".join(CATEGORIES) + f", or {where}.canonical (M x 3 metres)",
        )
    template = get_template(track.category)
    if template.num_keypoints != m:
        raise InputError(
            f"has {m} keypoints per frame but category {track.category!r} has {template.num_keypoints}",
            path=path,
            field=f"{where}.keypoints",
            expected=f"{template.num_keypoints} keypoints in the order " + ", ".join(template.names),
        )
    return template
