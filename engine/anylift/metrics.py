"""Evaluation metrics for 3D (and 2D) human motion.

Inputs are numpy arrays: 3D joints (T, J, 3) in metres, 2D keypoints (T, J, 2) in pixels.
Outputs are Python floats in **metres** (or pixels for J2D), means over every valid
(frame, joint); multiply by 1000 for the millimetres papers report. ``mask`` is an optional
(T, J) boolean array of valid joints (or (T,) of valid frames); invalid entries are left out
of every mean and of every alignment. NaN joints in either input are treated as invalid.

Definitions (all means are over valid frames and joints):

- :func:`mpjpe`: root-relative per frame: both poses are translated so their root is at the
  origin, then the mean joint distance. The root (``root``) is ``"coco17"`` (hip midpoint,
  joints 11 and 12), ``"smpl24"`` (pelvis, joint 0), a joint index, or a tuple of indices
  (their mean).
- :func:`pa_mpjpe`: after a similarity (rotation, translation, uniform scale; Umeyama,
  :func:`anylift.geometry.transforms.similarity_align`) that best maps the prediction onto the
  truth. ``alignment="frame"``: one per frame (the usual PA-MPJPE); ``"sequence"``: one for the
  whole sequence (MVLift's variant, which keeps the motion's global shape).
- :func:`t_root`: root trajectory error. The predicted root track is translated so its frame-0
  root coincides with the true frame-0 root (``align="first"``; ``"none"``: no alignment), then
  the mean distance between the root tracks. A constant offset therefore scores 0 with
  ``"first"`` and the offset with ``"none"``; a drift scores its mean size.
- :func:`w_mpjpe`: world MPJPE as in WHAM (W-MPJPE100): the sequence is cut into chunks of
  ``chunk`` frames (default: one chunk); in each, a rigid transform (rotation + translation,
  scale fixed to 1) is fitted on the joints of the chunk's first ``align_frames`` frames (2,
  as WHAM) and applied to the whole chunk; then the mean joint distance without root
  centring. :func:`wa_mpjpe` fits one similarity on all frames (WA-MPJPE).
- :func:`j2d`: mean pixel distance between 2D keypoints.
- :func:`j2d_c`: the same after removing where and how big the person is: each frame's
  predicted and true keypoints are centred on their own bounding-box centres (of the valid
  joints), and both are divided by the true bounding box's longer side, then multiplied by
  ``crop_size`` (default 256: an error in pixels of a 256-pixel person crop; ``crop_size=1``
  gives a fraction of the person's size).
- :func:`foot_sliding`: mean horizontal (xy) displacement of the foot joints between
  consecutive frames over the pairs where the foot is in contact, i.e. its height above
  ``floor`` is below ``height_threshold`` in **both** frames. Metres per frame; multiply by the
  fps for m/s. Z is up.
- :func:`accel_error`: mean norm of the difference of second finite differences
  ``x[t-1] - 2 x[t] + x[t+1]`` (VIBE/HMR 2.0); metres / frame^2, or m/s^2 when ``fps`` is given.
- :func:`jitter`: mean norm of the third finite difference (jerk) of one motion, in m/s^3 with
  ``fps`` (GLAMR/WHAM report it in units of 10 m/s^3); metres / frame^3 without.

:func:`evaluate_motions` scores a result Motion against a truth Motion with all of these (what
``anylift eval``, the benchmarks and the main job report); :func:`format_table` prints it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from anylift.errors import InputError
from anylift.geometry.transforms import similarity_align

ROOTS: dict[str, tuple[int, ...]] = {"coco17": (11, 12), "smpl24": (0,)}
FEET: dict[str, tuple[int, ...]] = {"coco17": (15, 16), "smpl24": (10, 11)}
# Ankles (COCO-17) sit higher above the floor than SMPL's foot joints.
CONTACT_HEIGHT: dict[str, float] = {"coco17": 0.10, "smpl24": 0.05}

RootSpec = str | int | Sequence[int]


def _array(x, name: str, dims: int | None = 3) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 3 or (dims is not None and a.shape[-1] != dims):
        raise InputError(f"has shape {a.shape}", field=name, expected=f"(T, J, {dims or 'C'})")
    return a


def _pair(pred, gt, mask, dims: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p, g = _array(pred, "pred", dims), _array(gt, "gt", dims)
    if p.shape != g.shape:
        raise InputError(
            f"has shape {p.shape} but gt has {g.shape}", field="pred", expected="the shape of gt"
        )
    valid = np.isfinite(p).all(-1) & np.isfinite(g).all(-1)
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape == p.shape[:1]:
            m = np.repeat(m[:, None], p.shape[1], axis=1)
        if m.shape != p.shape[:2]:
            raise InputError(f"has shape {m.shape}", field="mask", expected=f"{p.shape[:2]} or {p.shape[:1]}")
        valid &= m
    return np.where(valid[..., None], p, 0.0), np.where(valid[..., None], g, 0.0), valid


def _mean(errors: np.ndarray, valid: np.ndarray) -> float:
    if not valid.any():
        raise InputError("no valid joints to evaluate", field="mask", expected="at least one valid joint")
    return float(errors[valid].mean())


def root_indices(root: RootSpec) -> tuple[int, ...]:
    """Joint indices whose mean is the root: ``"coco17"`` -> (11, 12), ``"smpl24"`` -> (0,)."""
    if isinstance(root, str):
        if root not in ROOTS:
            raise InputError(
                f"root = {root!r}", field="root", expected=f"one of {sorted(ROOTS)} or joint indices"
            )
        return ROOTS[root]
    if isinstance(root, int | np.integer):
        return (int(root),)
    return tuple(int(i) for i in root)


def _root(x: np.ndarray, valid: np.ndarray, root: RootSpec) -> tuple[np.ndarray, np.ndarray]:
    """(T, 3) root and (T,) validity (every root joint valid)."""
    idx = list(root_indices(root))
    return x[:, idx].mean(axis=1), valid[:, idx].all(axis=1)


def _aligned_error(p: np.ndarray, g: np.ndarray, valid: np.ndarray, scale: bool) -> np.ndarray:
    """(..., N) per-point error after fitting one transform per leading index on the valid points
    (``valid`` (..., N)) of (..., N, 3) arrays."""
    s, R, t = similarity_align(p, g, valid.astype(np.float64), scale=scale)
    moved = s[..., None, None] * np.einsum("...ij,...nj->...ni", R, p) + t[..., None, :]
    return np.linalg.norm(moved - g, axis=-1)


def mpjpe(pred, gt, root: RootSpec = "coco17", mask=None) -> float:
    """Root-relative mean per-joint position error, metres.

    Args:
        pred, gt: (T, J, 3) metres.
        root: root spec (module docs).
        mask: (T, J) or (T,) valid entries.
    """
    p, g, valid = _pair(pred, gt, mask)
    rp, vp = _root(p, valid, root)
    rg, _ = _root(g, valid, root)
    valid = valid & vp[:, None]
    return _mean(np.linalg.norm((p - rp[:, None]) - (g - rg[:, None]), axis=-1), valid)


def pa_mpjpe(pred, gt, mask=None, alignment: str = "frame") -> float:
    """MPJPE after Procrustes alignment with scale, metres.

    Args:
        pred, gt: (T, J, 3) metres.
        mask: (T, J) or (T,) valid entries.
        alignment: ``"frame"`` (a similarity per frame) or ``"sequence"`` (one for all frames).
    """
    p, g, valid = _pair(pred, gt, mask)
    if alignment == "sequence":
        errors = _aligned_error(p.reshape(-1, 3), g.reshape(-1, 3), valid.reshape(-1), True).reshape(
            valid.shape
        )
        return _mean(errors, valid)
    if alignment != "frame":
        raise InputError(f"alignment = {alignment!r}", field="alignment", expected="'frame' or 'sequence'")
    # A similarity needs 3 non-collinear points; frames with fewer valid joints are left out.
    frames = valid.sum(axis=1) >= 3
    return _mean(_aligned_error(p, g, valid, True), valid & frames[:, None])


def t_root(pred, gt, root: RootSpec = "coco17", mask=None, align: str = "first") -> float:
    """Root trajectory error, metres (module docs).

    Args:
        pred, gt: (T, J, 3) metres (or (T, 1, 3) root tracks with ``root=0``).
        align: ``"first"`` (translate the prediction so the first valid frame's roots meet) or
            ``"none"``.
    """
    p, g, valid = _pair(pred, gt, mask)
    rp, vr = _root(p, valid, root)
    rg, _ = _root(g, valid, root)
    if not vr.any():
        raise InputError("the root is never valid", field="mask", expected="a valid root in some frame")
    if align == "first":
        first = int(np.argmax(vr))
        rp = rp - rp[first] + rg[first]
    elif align != "none":
        raise InputError(f"align = {align!r}", field="align", expected="'first' or 'none'")
    return float(np.linalg.norm(rp - rg, axis=-1)[vr].mean())


def w_mpjpe(pred, gt, mask=None, align_frames: int = 2, chunk: int | None = None) -> float:
    """World MPJPE after rigid alignment on each chunk's first ``align_frames`` frames, metres.

    Args:
        pred, gt: (T, J, 3) metres.
        align_frames: frames whose joints define the alignment (WHAM: 2).
        chunk: chunk length in frames (WHAM: 100); None = the whole sequence.
    """
    p, g, valid = _pair(pred, gt, mask)
    n = len(p)
    chunk = n if chunk is None else int(chunk)
    if chunk < 1 or align_frames < 1:
        raise InputError("chunk and align_frames must be >= 1", field="chunk", expected="whole numbers >= 1")
    errors = np.zeros(valid.shape)
    used = np.zeros(valid.shape, dtype=bool)
    for start in range(0, n, chunk):
        sl = slice(start, min(start + chunk, n))
        head = slice(start, min(start + align_frames, n))
        if valid[head].sum() < 3:
            continue
        _, R, t = similarity_align(p[head][valid[head]], g[head][valid[head]], scale=False)
        errors[sl] = np.linalg.norm(p[sl] @ R.T + t - g[sl], axis=-1)
        used[sl] = valid[sl]
    return _mean(errors, used)


def wa_mpjpe(pred, gt, mask=None) -> float:
    """World MPJPE after one similarity fitted on all frames (WA-MPJPE), metres."""
    return pa_mpjpe(pred, gt, mask, alignment="sequence")


def j2d(pred, gt, mask=None) -> float:
    """Mean 2D keypoint distance, pixels. pred, gt: (T, J, 2) pixels."""
    p, g, valid = _pair(pred, gt, mask, dims=2)
    return _mean(np.linalg.norm(p - g, axis=-1), valid)


def _bbox(x: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo = np.where(valid[..., None], x, np.inf).min(axis=1)
    hi = np.where(valid[..., None], x, -np.inf).max(axis=1)
    return 0.5 * (lo + hi), hi - lo


def j2d_c(pred, gt, mask=None, crop_size: float = 256.0) -> float:
    """2D error in a person-centred, size-normalised crop (module docs), crop pixels.

    Args:
        pred, gt: (T, J, 2) pixels.
        crop_size: side of the reference crop in pixels (1 = fraction of the person's size).
    """
    p, g, valid = _pair(pred, gt, mask, dims=2)
    frames = valid.sum(axis=1) >= 2
    centre_p, _ = _bbox(p, valid)
    centre_g, size_g = _bbox(g, valid)
    side = size_g.max(axis=1)
    frames &= side > 0
    side = np.where(frames, side, 1.0)
    centre_p, centre_g = np.where(frames[:, None], centre_p, 0), np.where(frames[:, None], centre_g, 0)
    diff = (p - centre_p[:, None]) - (g - centre_g[:, None])
    errors = np.linalg.norm(diff, axis=-1) / side[:, None] * crop_size
    return _mean(errors, valid & frames[:, None])


def foot_sliding(
    joints,
    feet: str | Sequence[int] = "coco17",
    height_threshold: float | None = None,
    floor: float = 0.0,
    mask=None,
) -> float:
    """Mean horizontal foot displacement per frame while in contact, metres / frame.

    Args:
        joints: (T, J, 3) metres, Z-up.
        feet: ``"coco17"`` (ankles 15, 16), ``"smpl24"`` (feet 10, 11) or joint indices.
        height_threshold: contact when the height above ``floor`` is below this, metres;
            default 0.10 for COCO-17 ankles, 0.05 for SMPL feet (and for explicit indices).
        floor: floor height, metres.
        mask: (T, J) or (T,) valid entries.

    Returns 0.0 when no foot is ever in contact for two consecutive frames.
    """
    x, _, valid = _pair(joints, joints, mask)
    if isinstance(feet, str):
        if feet not in FEET:
            raise InputError(
                f"feet = {feet!r}", field="feet", expected=f"one of {sorted(FEET)} or joint indices"
            )
        idx = list(FEET[feet])
        threshold = CONTACT_HEIGHT[feet] if height_threshold is None else height_threshold
    else:
        idx = [int(i) for i in feet]
        threshold = 0.05 if height_threshold is None else height_threshold
    f, v = x[:, idx], valid[:, idx]
    contact = v & (f[..., 2] - floor < threshold)
    both = contact[1:] & contact[:-1]
    if not both.any():
        return 0.0
    step = np.linalg.norm(f[1:, :, :2] - f[:-1, :, :2], axis=-1)
    return float(step[both].mean())


def _second_difference(x: np.ndarray) -> np.ndarray:
    return x[:-2] - 2.0 * x[1:-1] + x[2:]


def accel_error(pred, gt, mask=None, fps: float | None = None) -> float:
    """Mean acceleration error (module docs): m/frame^2, or m/s^2 with ``fps``.

    Args:
        pred, gt: (T, J, 3) metres, T >= 3. An acceleration is valid when its three frames are.
    """
    p, g, valid = _pair(pred, gt, mask)
    if len(p) < 3:
        raise InputError(f"has {len(p)} frames", field="pred", expected="at least 3 frames")
    ok = valid[:-2] & valid[1:-1] & valid[2:]
    errors = np.linalg.norm(_second_difference(p) - _second_difference(g), axis=-1)
    return _mean(errors, ok) * (1.0 if fps is None else float(fps) ** 2)


def jitter(joints, mask=None, fps: float | None = 30.0) -> float:
    """Mean jerk norm of one motion: m/s^3 with ``fps`` (default 30), m/frame^3 with None.

    Args:
        joints: (T, J, 3) metres, T >= 4. A jerk is valid when its four frames are.
    """
    x, _, valid = _pair(joints, joints, mask)
    if len(x) < 4:
        raise InputError(f"has {len(x)} frames", field="joints", expected="at least 4 frames")
    ok = valid[:-3] & valid[1:-2] & valid[2:-1] & valid[3:]
    jerk = np.linalg.norm(np.diff(x, n=3, axis=0), axis=-1)
    return _mean(jerk, ok) * (1.0 if fps is None else float(fps) ** 3)


# (key, label, unit, factor from the metric's own unit)
EVAL_METRICS = (
    ("mpjpe", "MPJPE", "mm", 1000.0),
    ("pa_mpjpe", "PA-MPJPE", "mm", 1000.0),
    ("t_root", "T_root", "mm", 1000.0),
    ("root_abs", "root error (absolute)", "mm", 1000.0),
    ("w_mpjpe", "W-MPJPE", "mm", 1000.0),
    ("j2d", "J2D", "px", 1.0),
    ("foot_sliding", "foot sliding", "mm/frame", 1000.0),
    ("accel_error", "accel error", "mm/frame^2", 1000.0),
    ("jitter", "jitter", "m/s^3", 1.0),
)


def evaluate_motions(result, truth) -> dict[str, float | None]:
    """The metrics above of a result Motion against a truth Motion (same T).

    On COCO-17 ``keypoints3d``: MPJPE, PA-MPJPE (per frame), T_root (first frames' roots
    aligned), root error (absolute: mean pelvis distance in the files' world, no alignment),
    W-MPJPE (whole clip, two aligned frames); J2D: each motion's keypoints projected through
    its own camera (pixels), so it measures the result's 2D fit whatever its world; accel
    error; on the result's SMPL ``joints``: foot sliding (feet within 5 cm of the lowest foot
    level) and jitter.

    Returns:
        ``{"<key>_<unit>": value}`` (see :data:`EVAL_METRICS`; None where a clip is too short).
    """
    from anylift.geometry.camera import project  # torch: loaded only here

    if result.num_frames != truth.num_frames:
        raise InputError(
            f"the result has {result.num_frames} frames, the truth {truth.num_frames}",
            field="--truth",
            expected="a truth with as many frames as the result",
        )
    p, g = result.keypoints3d, truth.keypoints3d
    feet = result.joints[:, list(FEET["smpl24"])]
    floor = float(feet[..., 2].min())
    values = {
        "mpjpe": mpjpe(p, g),
        "pa_mpjpe": pa_mpjpe(p, g),
        "t_root": t_root(p, g),
        "root_abs": t_root(p, g, align="none"),
        "w_mpjpe": w_mpjpe(p, g),
        "j2d": j2d(
            project(p, result.intrinsics, result.world_to_camera),
            project(g, truth.intrinsics, truth.world_to_camera),
        ),
        "foot_sliding": foot_sliding(result.joints, "smpl24", floor=floor),
        "accel_error": accel_error(p, g) if len(p) >= 3 else None,
        "jitter": jitter(result.joints, fps=result.fps) if len(p) >= 4 else None,
    }
    return {
        f"{key}_{unit.replace('/', '_per_').replace('^', '')}": (
            None if values[key] is None else float(values[key]) * factor
        )
        for key, _, unit, factor in EVAL_METRICS
    }


def format_table(metrics: dict[str, float | None]) -> str:
    """The metrics of :func:`evaluate_motions` as a two-column text table."""
    rows = []
    for (_key, label, unit, _), value in zip(EVAL_METRICS, metrics.values()):
        text = "n/a" if value is None else f"{value:.2f}"
        rows.append(f"{label + ' (' + unit + ')':<26}{text:>12}")
    return "\n".join([f"{'metric':<26}{'value':>12}", "-" * 38, *rows])
