"""Opening user files and checking their fields, with errors that say where and what.

Shared by the keypoint, camera and motion readers. Every check raises
:class:`anylift.errors.InputError` naming the file, the field (``keypoints[12][5]``) and what
was expected.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from anylift.errors import InputError

# A rotation read from a file counts as orthonormal when max |R R^T - I| <= this. Poses from
# SLAM / structure-from-motion systems are often stored as float32 (about 1e-7 relative) and
# drift a little further after chained products; 1e-4 accepts those and still rejects any
# matrix with a real scale or shear in it.
ROTATION_TOLERANCE = 1e-4
# The bottom row of a 4x4 rigid transform must be [0, 0, 0, 1] within this.
BOTTOM_ROW_TOLERANCE = 1e-6


def shape_text(shape: Sequence[int | None]) -> str:
    """``(None, 17, 3)`` -> ``"(N, 17, 3)"``; ``(10,)`` -> ``"(10,)"``."""
    items = ["N" if d is None else str(d) for d in shape]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def require_exists(path: Path) -> None:
    """InputError when ``path`` does not exist."""
    if not path.exists():
        raise InputError("file not found", path=path, expected="an existing file or folder")


def load_json(path: Path) -> Any:
    """Parse the JSON file at ``path``; InputError when missing, unreadable or not valid JSON."""
    require_exists(path)
    if path.is_dir():
        raise InputError("is a folder", path=path, expected="a JSON file")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text ({e.reason})", path=path, expected="a JSON file") from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(
            f"not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); the file may be cut short",
            path=path,
            expected="a complete JSON document",
        ) from None


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, loaded without pickle.

    InputError when missing, not an npz archive, corrupt or truncated, or when it holds
    Python objects (which need pickle; we never unpickle user files).
    """
    require_exists(path)
    if path.is_dir():
        raise InputError("is a folder", path=path, expected="an .npz file")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path=path) from None
    # np.load would try to unpickle anything that is neither zip nor .npy: look first.
    if magic.startswith(b"\x93NUMPY"):
        raise InputError("is a single .npy array", path=path, expected="an .npz archive (numpy.savez)")
    if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise InputError(
            "is not an .npz archive (not a zip file); it may be corrupt",
            path=path,
            expected="an .npz archive",
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except ValueError as e:
        if "pickle" in str(e):
            raise InputError(
                "holds Python objects (pickled arrays)",
                path=path,
                expected="plain numeric and string arrays (savez without object dtype)",
            ) from None
        raise InputError(f"cannot read .npz: {e}", path=path, expected="a valid .npz archive") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as e:
        raise InputError(
            f"corrupt or truncated .npz ({type(e).__name__}: {e})",
            path=path,
            expected="a valid .npz archive",
        ) from None


def require_key(mapping: dict, key: str, path: Path | str | None, where: str = "") -> Any:
    """``mapping[key]``, or InputError naming the missing field."""
    if not isinstance(mapping, dict):
        raise InputError(f"{where or 'top level'} is not an object", path=path, expected="a JSON object")
    if key not in mapping:
        raise InputError("missing", path=path, field=f"{where}{key}", expected=f"a '{key}' entry")
    return mapping[key]


def check_format(data: Any, expected: str, path: Path) -> None:
    """InputError unless ``data`` is a JSON object whose ``"format"`` is ``expected``."""
    if not isinstance(data, dict):
        raise InputError(
            f"top level is a {type(data).__name__}", path=path, expected=f"a JSON object of '{expected}'"
        )
    if "format" not in data:
        raise InputError("missing", path=path, field="format", expected=f'"{expected}"')
    if data["format"] != expected:
        raise InputError(f"is {data['format']!r}", path=path, field="format", expected=f'"{expected}"')


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_number(value: Any, *, path: Path | str | None, field: str, positive: bool = False) -> float:
    """A finite JSON number as float (strictly positive when ``positive``)."""
    if not is_number(value):
        raise InputError(f"is {value!r}", path=path, field=field, expected="a number")
    value = float(value)
    if not np.isfinite(value) or (positive and value <= 0):
        raise InputError(
            f"is {value}",
            path=path,
            field=field,
            expected="a positive number" if positive else "a finite number",
        )
    return value


def json_array(
    value: Any,
    *,
    path: Path | str | None,
    field: str,
    shape: Sequence[int | None],
    nullable: Sequence[int] = (),
) -> np.ndarray:
    """Nested JSON lists of numbers as a float64 array, checked entry by entry.

    Args:
        shape: expected shape; None for a free length (every entry at that depth must then
            have the same length as the first).
        nullable: indices along the last axis that may be ``null`` (they become NaN).

    Returns:
        float64 array of ``shape``.
    """
    dims = list(shape)
    expected_shape = shape_text(dims)
    nullable = frozenset(nullable)

    def fail(name: str, what: str, expected: str) -> None:
        raise InputError(what, path=path, field=name, expected=expected)

    def walk(v: Any, depth: int, name: str, last_index: int) -> None:
        if depth == len(dims):
            if v is None:
                if last_index not in nullable:
                    fail(name, "is null", "a number")
            elif not is_number(v):
                fail(name, f"is {v!r}", "a number")
            return
        if not isinstance(v, list):
            fail(name, f"is {type(v).__name__} {_short(v)}", f"a list (array of shape {expected_shape})")
        if dims[depth] is None:
            dims[depth] = len(v)
        elif len(v) != dims[depth]:
            fail(name, f"has {len(v)} entries", f"{dims[depth]} (array of shape {expected_shape})")
        for i, x in enumerate(v):
            walk(x, depth + 1, f"{name}[{i}]", i)

    walk(value, 0, field, -1)
    if 0 in dims:
        return np.zeros([0 if d is None else d for d in dims], dtype=np.float64)
    return np.array(value, dtype=np.float64)


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def npz_array(
    arrays: dict[str, np.ndarray],
    key: str,
    *,
    path: Path,
    shape: Sequence[int | None],
    required: bool = True,
) -> np.ndarray | None:
    """``arrays[key]`` as float64 of ``shape`` (None = free), checked numeric and finite."""
    if key not in arrays:
        if required:
            raise InputError("missing", path=path, field=key, expected=f"an array '{key}'")
        return None
    a = arrays[key]
    if a.dtype.kind not in "biuf":
        raise InputError(f"has dtype {a.dtype}", path=path, field=key, expected="a numeric array")
    if a.ndim != len(shape) or any(d is not None and d != s for d, s in zip(shape, a.shape)):
        raise InputError(f"has shape {a.shape}", path=path, field=key, expected=f"shape {shape_text(shape)}")
    return a.astype(np.float64)


def npz_string(arrays: dict[str, np.ndarray], key: str, *, path: Path, required: bool = True) -> str | None:
    """A 0-d string array ``arrays[key]`` as str."""
    if key not in arrays:
        if required:
            raise InputError("missing", path=path, field=key, expected="a string")
        return None
    a = arrays[key]
    if a.dtype.kind not in "US" or a.ndim != 0:
        raise InputError(
            f"is a {a.dtype} array of shape {a.shape}", path=path, field=key, expected="a string"
        )
    value = a.item()
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def index_field(field: str, index: Sequence[int]) -> str:
    """``keypoints`` + (12, 5) -> ``keypoints[12][5]``."""
    return field + "".join(f"[{int(i)}]" for i in index)


def check_finite(a: np.ndarray, *, path: Path | str | None, field: str) -> None:
    """InputError naming the first NaN/inf entry of ``a``."""
    bad = ~np.isfinite(a)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        raise InputError(f"is {a[idx]}", path=path, field=index_field(field, idx), expected="a finite number")


def check_image_size(
    value: Any, *, path: Path | str | None, field: str = "image_size"
) -> tuple[int, int] | None:
    """``(W, H)`` as two positive ints, or None."""
    if value is None:
        return None
    try:
        items = [value[0], value[1]] if len(value) == 2 else None
    except TypeError:
        items = None
    if items is None:
        raise InputError(f"is {_short(value)}", path=path, field=field, expected="[width, height] in pixels")
    out = []
    for i, v in enumerate(items):
        if isinstance(v, np.generic):
            v = v.item()
        if not is_number(v) or not np.isfinite(v) or v != int(v) or v <= 0:
            raise InputError(
                f"is {v!r}", path=path, field=f"{field}[{i}]", expected="a positive whole number"
            )
        out.append(int(v))
    return out[0], out[1]


def check_fps(value: Any, *, path: Path | str | None, field: str = "fps") -> float:
    """A positive finite frame rate as float."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    return json_number(value, path=path, field=field, positive=True)


def check_rigid(m: np.ndarray, *, path: Path | str | None, field: str) -> None:
    """Check (T, 4, 4) rigid transforms: finite, bottom row [0,0,0,1], proper rotation.

    The rotation block must be orthonormal within :data:`ROTATION_TOLERANCE` and have
    determinant +1 (a determinant of -1 is a reflection: a mirrored, left-handed frame).
    """
    if m.ndim != 3 or m.shape[1:] != (4, 4):
        raise InputError(f"has shape {m.shape}", path=path, field=field, expected="shape (T, 4, 4)")
    if m.shape[0] == 0:
        raise InputError("is empty (0 frames)", path=path, field=field, expected="at least one frame")
    check_finite(m, path=path, field=field)
    bottom_err = np.abs(m[:, 3, :] - np.array([0.0, 0.0, 0.0, 1.0])).max(axis=1)
    bad = np.flatnonzero(bottom_err > BOTTOM_ROW_TOLERANCE)
    if bad.size:
        t = bad[0]
        raise InputError(
            f"bottom row is {m[t, 3].tolist()}", path=path, field=f"{field}[{t}][3]", expected="[0, 0, 0, 1]"
        )
    r = m[:, :3, :3]
    ortho_err = np.abs(r @ np.swapaxes(r, 1, 2) - np.eye(3)).max(axis=(1, 2))
    bad = np.flatnonzero(ortho_err > ROTATION_TOLERANCE)
    if bad.size:
        t = bad[0]
        raise InputError(
            f"rotation is not orthonormal (max |R R^T - I| = {ortho_err[t]:.3g})",
            path=path,
            field=f"{field}[{t}]",
            expected=f"a rotation matrix, orthonormal within {ROTATION_TOLERANCE:g}",
        )
    det = np.linalg.det(r)
    bad = np.flatnonzero(det <= 0)
    if bad.size:
        t = bad[0]
        raise InputError(
            f"rotation has determinant {det[t]:.3g} (a reflection)",
            path=path,
            field=f"{field}[{t}]",
            expected="a proper rotation (determinant +1, right-handed)",
        )


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key putting ``frame2`` before ``frame10``."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in _DIGITS.split(name))


def fspath_or_none(path: str | os.PathLike | None) -> str | None:
    return None if path is None else os.fspath(path)
