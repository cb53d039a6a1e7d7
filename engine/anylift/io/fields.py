"""Opening user files and checking their fields, with errors that say where and what.

Shared by the keypoint, camera and motion readers. Every check raises
:class:`anylift.errors.InputError` naming the file, the field (``keypoints[12][5]``) and what
was expected.
"""

from __future__ import annotations

import json
import os
import re
import reprlib
import zipfile
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

# Limits on what a file may hold (docs/formats.md, "Limits"). They keep a small malformed file
# from asking for gigabytes and keep the arithmetic downstream far from float overflow.
MAX_FRAMES = 216_000
"""Longest clip read: one hour at 60 fps. Split longer footage into parts."""
MAX_IMAGE_SIDE = 100_000
"""Largest image width or height, pixels."""
MAX_PIXEL_COORD = 1e6
"""Largest |x| or |y| of a detected keypoint, pixels (points may lie outside the image)."""
MAX_FOCAL_PIXELS = 1e7
"""Largest focal length, pixels (a 190 m lens on a full-frame 1920-pixel-wide camera)."""
MIN_FOCAL_PIXELS = 1.0
"""Smallest focal length, pixels (below this the pinhole model is meaningless)."""
MAX_TRANSLATION = 1e7
"""Largest |translation| of a camera or a result, in the file's units (10,000 km in metres)."""
MAX_JSON_BYTES = 1 << 30
"""Largest JSON file read (1 GiB)."""
MAX_NPZ_BYTES = 4 << 30
"""Largest total of the arrays in an .npz, uncompressed (4 GiB)."""
# Integers longer than this are read as floats (inf beyond 1e308) instead of exact ints, so a
# 400-digit "fps" is an out-of-range value, not an OverflowError.
_MAX_INT_DIGITS = 18
_NPZ_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}


def shape_text(shape: Sequence[int | None]) -> str:
    """``(None, 17, 3)`` -> ``"(N, 17, 3)"``; ``(10,)`` -> ``"(10,)"``."""
    items = ["N" if d is None else str(d) for d in shape]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def require_exists(path: Path) -> None:
    """InputError when ``path`` does not exist."""
    if not path.exists():
        raise InputError("file not found", path=path, expected="an existing file or folder")


def require_regular_file(path: Path) -> None:
    """InputError unless ``path`` is a regular file (not a folder, FIFO or device like /dev/zero)."""
    require_exists(path)
    if path.is_dir():
        raise InputError(
            "is a folder", path=path, expected="a file", fix="Pass the file itself, not a folder"
        )
    if not path.is_file():
        raise InputError("is not a regular file (a pipe or a device?)", path=path, expected="a file")


def _parse_int(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else float(text)


def load_json(path: Path) -> Any:
    """Parse the JSON file at ``path``; InputError when missing, unreadable or not valid JSON.

    Integers of more than 18 digits come back as floats (``inf`` when beyond float range);
    nesting too deep for the parser is an InputError, like every other parse failure.
    """
    require_regular_file(path)
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise InputError(
                f"is {size / 2**30:.1f} GiB",
                path=path,
                expected=f"a JSON file of at most {MAX_JSON_BYTES >> 30} GiB",
                fix="Split the clip into shorter parts, or use the .npz layout",
            )
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark (Windows tools) is fine
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text ({e.reason})", path=path, expected="a JSON file") from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path=path) from None
    except MemoryError:
        raise InputError(
            "is too large to read into memory", path=path, expected="a smaller JSON file"
        ) from None
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as e:
        raise InputError(
            f"not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); the file may be cut short",
            path=path,
            expected="a complete JSON document",
        ) from None
    except RecursionError:
        raise InputError(
            "not valid JSON: nested too deeply", path=path, expected="a JSON document as formats.md shows"
        ) from None
    except (ValueError, MemoryError) as e:
        raise InputError(
            f"not valid JSON ({type(e).__name__}: {e})", path=path, expected="a complete JSON document"
        ) from None


def _npz_fail(path: Path, what: str, member: str | None = None) -> InputError:
    return InputError(
        what,
        path=path,
        field=None if member is None else member.removesuffix(".npy"),
        expected="a valid .npz archive (numpy.savez)",
    )


def _npz_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> tuple[np.ndarray | None, int]:
    """Read one ``.npy`` member after checking its header against the bytes it holds.

    Returns (the array or None when the member is not an array, declared bytes).
    """
    name = info.filename
    if info.flag_bits & 0x1:
        raise _npz_fail(path, "is encrypted (password-protected zip member)", name)
    if info.compress_type not in _NPZ_METHODS:
        raise _npz_fail(
            path, f"uses zip compression method {info.compress_type}, which numpy never writes", name
        )
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
        except ValueError:
            return None, 0  # not a .npy member: np.load would hand back raw bytes; we skip it
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        if dtype.hasobject:
            raise InputError(
                "holds Python objects (pickled arrays)",
                path=path,
                field=name.removesuffix(".npy"),
                expected="plain numeric and string arrays (savez without object dtype)",
            )
        count = 1
        for d in shape:
            count *= int(d)
        declared = count * dtype.itemsize
        header_end = f.tell()
        if declared != info.file_size - header_end:
            raise _npz_fail(
                path,
                f"header says shape {tuple(shape)} ({declared} bytes) but the member holds "
                f"{info.file_size - header_end} bytes; the file is corrupt",
                name,
            )
        if declared > MAX_NPZ_BYTES:
            raise _npz_fail(path, f"has shape {tuple(shape)}, {declared / 2**30:.1f} GiB", name)
        data = f.read(declared)
    if len(data) != declared:
        raise _npz_fail(path, "is cut short", name)
    a = np.frombuffer(data, dtype=dtype)
    return a.reshape(shape, order="F" if fortran else "C").copy(), declared


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, loaded without pickle.

    Each member's ``.npy`` header is checked against the bytes the member holds before
    anything is allocated, so a header claiming a huge shape costs nothing. InputError when
    missing, not an npz archive, corrupt, truncated, encrypted, larger than
    :data:`MAX_NPZ_BYTES`, or when it holds Python objects (we never unpickle user files).
    Members that are not ``.npy`` arrays are skipped.
    """
    require_regular_file(path)
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
    out: dict[str, np.ndarray] = {}
    total = 0
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                total += info.file_size
                if total > MAX_NPZ_BYTES:
                    raise _npz_fail(path, f"holds more than {MAX_NPZ_BYTES >> 30} GiB uncompressed")
                array, _ = _npz_member(zf, info, path)
                if array is not None:
                    out[info.filename.removesuffix(".npy")] = array
    except InputError:
        raise
    except MemoryError:
        raise _npz_fail(path, "is too large to load into memory") from None
    except Exception as e:  # zipfile, zlib, bz2, lzma and numpy's header parser raise many kinds
        raise _npz_fail(path, f"corrupt or truncated .npz ({type(e).__name__}: {e})") from None
    return out


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
        raise InputError(f"is {short_repr(value)}", path=path, field=field, expected="a number")
    try:
        value = float(value)
    except OverflowError:  # a Python int beyond float range
        value = float("inf") if value > 0 else float("-inf")
    if not np.isfinite(value) or (positive and value <= 0):
        raise InputError(
            f"is {value}" + (" (a number too large for a float)" if np.isinf(value) else ""),
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
                fail(name, f"is {short_repr(v)}", "a number")
            return
        if not isinstance(v, list):
            fail(name, f"is {type(v).__name__} {short_repr(v)}", f"a list (array of shape {expected_shape})")
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


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict = 3, 4, 4
_REPR.maxstring = _REPR.maxlong = _REPR.maxother = 30


def short_repr(v: Any) -> str:
    """A short repr of any JSON value (bounded depth and length: nested input stays cheap)."""
    text = _REPR.repr(v)
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
    with np.errstate(over="ignore"):  # float128 beyond float64's range becomes inf, refused later
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
    return decode_string(a.item(), path=path, field=key)


def decode_string(value: Any, *, path: Path | str | None, field: str) -> str:
    """A string read from an ``.npz`` (``str`` or UTF-8 ``bytes``) as str; InputError otherwise."""
    try:
        text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
        text.encode("utf-8")  # numpy's UCS4 strings may hold lone surrogates
    except (UnicodeError, ValueError):
        raise InputError("is not UTF-8 text", path=path, field=field, expected="a UTF-8 string") from None
    return text


def safe_norm(v: np.ndarray) -> float:
    """Euclidean norm of a finite vector without overflow (``[1e308, 1e308]`` -> 1.4e308)."""
    v = np.asarray(v, dtype=np.float64)
    top = float(np.abs(v).max()) if v.size else 0.0
    return 0.0 if top == 0.0 else top * float(np.linalg.norm(v / top))


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
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InputError(
            f"is {short_repr(value)}", path=path, field=field, expected="[width, height] in pixels"
        )
    out = []
    for i, v in enumerate(value):
        if isinstance(v, np.generic):
            v = v.item()
        if not is_number(v) or not (0 < v <= MAX_IMAGE_SIDE) or v != int(v):
            raise InputError(
                f"is {short_repr(v)}",
                path=path,
                field=f"{field}[{i}]",
                expected=f"a whole number of pixels from 1 to {MAX_IMAGE_SIDE}",
            )
        out.append(int(v))
    return out[0], out[1]


def check_frame_count(count: int, *, path: Path | str | None, field: str) -> None:
    """InputError when a clip has more than :data:`MAX_FRAMES` frames (checked before allocating)."""
    if count > MAX_FRAMES:
        raise InputError(
            f"has {count} frames",
            path=path,
            field=field,
            expected=f"at most {MAX_FRAMES} frames (one hour at 60 fps)",
            fix="Split the clip into parts of at most that length and lift each",
        )


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
    far = np.abs(m[:, :3, 3]).max(axis=1) > MAX_TRANSLATION
    if far.any():
        t = int(np.argmax(far))
        raise InputError(
            f"translation is {_REPR.repr(m[t, :3, 3].tolist())}",
            path=path,
            field=f"{field}[{t}]",
            expected=f"translations within +-{MAX_TRANSLATION:g} (the file's units, metres when known)",
        )
    bottom_err = np.abs(m[:, 3, :] - np.array([0.0, 0.0, 0.0, 1.0])).max(axis=1)
    bad = np.flatnonzero(bottom_err > BOTTOM_ROW_TOLERANCE)
    if bad.size:
        t = bad[0]
        raise InputError(
            f"bottom row is {m[t, 3].tolist()}", path=path, field=f"{field}[{t}][3]", expected="[0, 0, 0, 1]"
        )
    r = m[:, :3, :3]
    # Entries of a rotation lie in [-1, 1]; clipping keeps R R^T finite (and still far from I).
    rc = np.clip(m[:, :3, :3], -2.0, 2.0)
    ortho_err = np.abs(rc @ np.swapaxes(rc, 1, 2) - np.eye(3)).max(axis=(1, 2))
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
    """Sort key putting ``frame2`` before ``frame10``.

    A run of digits sorts by its value, compared as (number of digits, digits) without leading
    zeros rather than through ``int``, which refuses strings of more than 4300 digits (a name in a
    damaged file must not crash the sort)."""
    key = []
    for p in _DIGITS.split(name):
        if p.isdigit():
            value = p.lstrip("0") or "0"
            key.append((0, (len(value), value), ""))
        else:
            key.append((1, (0, ""), p))
    return tuple(key)


def fspath_or_none(path: str | os.PathLike | None) -> str | None:
    return None if path is None else os.fspath(path)
