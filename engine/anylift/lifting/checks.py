"""Checks of a lift: inputs valid and plausible before the long part, the result after it.

A file can be well-formed and still describe nothing liftable: every keypoint on one pixel, a
person seen in one frame of eighty, a frame rate of 1e-300, a camera that puts the person
behind it. Where the result would be meaningless these raise :class:`InputError` (exit 2);
where it is only doubtful they return warnings, one line each, which the command line prints
as ``anylift: warning: ...`` and ``LiftReport.warnings`` carries.
"""

from __future__ import annotations

import numpy as np

from anylift.errors import InputError
from anylift.io.cameras import Camera, check_frames_match
from anylift.io.keypoints import Keypoints2D
from anylift.io.motion import Motion, seen_span
from anylift.lifting.gravity import ANKLES
from anylift.lifting.span import seen_frames
from anylift.representation import BODY_SIZE_M, DEFAULT_SCORE_THRESHOLD, HIPS, visibility_mask

MIN_FPS, MAX_FPS = 1.0, 1000.0
"""Frame rates a lift accepts (frames per second)."""
MAX_SEED = 2**32 - 1
"""Largest ``seed``."""
MIN_BODY_PIXELS = 8.0
"""A person spanning fewer pixels (median over frames) is an error: nothing to lift."""
MAX_BODY_IMAGES = 10.0
"""A person spanning more than this many image sizes is an error: not pixels of this video."""
SEEN_FRACTION_WARNING = 0.5
"""Warn when the person is seen in fewer than this fraction of the frames."""
FEET_SEEN_WARNING = 0.5
"""Warn when an ankle is seen in fewer than this fraction of the frames the person is seen in: the
legs are out of the picture or hidden (people at a table, framed from the waist up), and the lift
guesses them, and the floor from them."""
NEAR_M, FAR_M = 0.3, 200.0
"""Warn when the person's size in pixels puts them nearer or farther than this (metres)."""
MAX_CAMERA_OFFSET = 1e4
"""Largest distance of a camera from the world origin (file units): the lift computes in 32-bit
floats, whose step at 1e4 is 1 mm; farther out results lose precision, then sense."""
OVERHEAD_DEG = 80.0
"""Warn when a camera with a known up looks down (or up) more steeply than this (median over frames):
the multi-view prior was trained up to 85 deg, and lifts from nearly overhead are among its least
accurate (camera-family benchmark, top_down at 84 deg: MPJPE 60-220 mm, on a par with or better than
the SMPLify baseline's, against 60-130 mm from level cameras)."""
HEIGHT_RANGE_M = (0.5, 2.6)
"""Warn when the lifted keypoints span less or more than this (longest side, metres)."""


def _image_extent(keypoints: Keypoints2D, camera: Camera | None) -> tuple[float, float] | None:
    size = keypoints.image_size or (camera.image_size if camera is not None else None)
    if size is None and camera is not None:
        size = (2 * camera.K[0, 2], 2 * camera.K[1, 2])
    if size is None or min(size) <= 0:
        return None
    return float(size[0]), float(size[1])


def check_inputs(keypoints: Keypoints2D, camera: Camera | None, *, seed: int = 0) -> list[str]:
    """Check that a lift of ``keypoints`` (with ``camera``) can mean something.

    Raises:
        InputError: ``seed`` outside 0..:data:`MAX_SEED`; a camera farther than
            :data:`MAX_CAMERA_OFFSET` from the world origin; fps outside
            [:data:`MIN_FPS`, :data:`MAX_FPS`]; a person seen in fewer than 2 frames of a longer
            clip; a person spanning under :data:`MIN_BODY_PIXELS` pixels or over
            :data:`MAX_BODY_IMAGES` image sizes.

    Returns:
        one-line warnings: a person seen in under half the frames from their first to their last
        sighting (the frames a lift covers, :mod:`anylift.lifting.span`); feet seen in under
        :data:`FEET_SEEN_WARNING` of those frames; a person whose size in
        pixels puts them under :data:`NEAR_M` or over :data:`FAR_M` metres from the camera;
        a person mostly outside the image; a camera looking almost straight down or up
        (:data:`OVERHEAD_DEG`).
    """
    path = keypoints.path
    name = path or "the keypoints"
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed <= MAX_SEED:
        raise InputError(
            f"is {str(seed)[:40]}", field="seed", expected=f"a whole number from 0 to {MAX_SEED}"
        )
    fps = float(keypoints.fps)
    if not MIN_FPS <= fps <= MAX_FPS:
        raise InputError(
            f"is {fps:.6g}",
            path=path,
            field="fps",
            expected=f"{MIN_FPS:g} to {MAX_FPS:g} frames per second",
            fix="Give the video's real frame rate",
        )
    if camera is not None:
        w2c = camera.world_to_camera
        centres = -np.einsum("tji,tj->ti", w2c[:, :3, :3], w2c[:, :3, 3])  # (T, 3) camera positions
        offset = float(np.abs(centres).max())
        if offset > MAX_CAMERA_OFFSET:
            raise InputError(
                f"the camera is {offset:.4g} units from the world origin",
                path=camera.path,
                field="world_to_camera",
                expected=f"cameras within {MAX_CAMERA_OFFSET:g} units of the origin (the lift computes in "
                "32-bit floats)",
                fix="Move the camera file's world origin near the footage (e.g. to the first camera)",
            )
    warnings: list[str] = []
    if camera is not None and camera.up is not None:
        up = np.asarray(camera.up, dtype=np.float64) / np.linalg.norm(camera.up)
        along = camera.world_to_camera[:, 2, :3] @ up  # the viewing direction's part along up
        steep = float(np.degrees(np.arcsin(np.clip(np.median(np.abs(along)), 0.0, 1.0))))
        if steep > OVERHEAD_DEG:
            way = "down" if np.median(along) < 0 else "up"
            who = f"{camera.path}: the camera" if camera.path else "the camera"
            warnings.append(
                f"{who} looks {way} {steep:.0f} deg, almost straight {way}: lifts from overhead are the "
                "least accurate (the model was trained up to 85 deg); check the result from the side"
            )
    kp = keypoints.keypoints
    total = kp.shape[0]
    seen = seen_frames(kp)
    count = int(seen.sum())
    if total > 1 and count < 2:
        raise InputError(
            f"a person is seen in only {count} of {total} frames",
            path=path,
            field="keypoints",
            expected="a person (4 or more keypoints) in at least 2 frames",
            fix="Trim the clip to the frames where the person is seen",
        )
    first, last = seen_span(seen)
    span = last - first + 1  # only these are lifted (anylift.lifting.span)
    if count < SEEN_FRACTION_WARNING * span:
        within = f" (frames {first} to {last})" if span < total else ""
        warnings.append(
            f"{name}: a person is seen in only {count} of {span} frames{within} "
            f"({100 * count / span:.0f} %); the model fills in the rest"
        )
    vis = visibility_mask(kp)[seen]  # (n, 17)
    feet = int(vis[:, list(ANKLES)].any(axis=1).sum())
    if feet < FEET_SEEN_WARNING * count:
        warnings.append(
            f"{name}: the feet are seen in only {feet} of the {count} frames the person is seen in "
            f"({100 * feet / count:.0f} %): out of the picture or hidden, the model guesses the legs, and "
            "the floor's height from them"
        )
    visible = np.where(vis[..., None], kp[seen, :, :2], np.nan)  # (n, 17, 2)
    with np.errstate(invalid="ignore"):
        lo, hi = np.fmin.reduce(visible, axis=1), np.fmax.reduce(visible, axis=1)  # (n, 2), NaN ignored
    extent = float(np.median((hi - lo).max(axis=1)))
    centre = np.median((hi + lo) / 2, axis=0)
    if extent < MIN_BODY_PIXELS:
        raise InputError(
            f"the person spans {extent:.3g} pixels (median over frames)",
            path=path,
            field="keypoints",
            expected=f"a person at least {MIN_BODY_PIXELS:g} pixels tall",
            fix="Check that the keypoints are pixel coordinates of this video",
        )
    image = _image_extent(keypoints, camera)
    if image is not None:
        w, h = image
        if extent > MAX_BODY_IMAGES * max(w, h):
            raise InputError(
                f"the person spans {extent:.4g} pixels in a {w:g} x {h:g} image",
                path=path,
                field="keypoints",
                expected=f"a person at most {MAX_BODY_IMAGES:g} times the image size",
                fix="Check that the keypoints are pixel coordinates of this video",
            )
        if not (-w <= centre[0] <= 2 * w and -h <= centre[1] <= 2 * h):
            warnings.append(
                f"{name}: the person's centre ({centre[0]:.0f}, {centre[1]:.0f}) px lies far outside "
                f"the {w:g} x {h:g} image"
            )
    focal = float(camera.K[0, 0]) if camera is not None else (max(image) if image is not None else None)
    if focal is not None:
        distance = focal * BODY_SIZE_M / extent
        if not NEAR_M <= distance <= FAR_M:
            warnings.append(
                f"{name}: the person spans {extent:.0f} px, which with a focal length of {focal:.4g} px "
                f"puts them {distance:.3g} m from the camera"
            )
    return warnings


def check_result(motion: Motion) -> list[str]:
    """One-line warnings about a lifted motion: a person behind the camera, kilometres away,
    or of a height no person has (:data:`HEIGHT_RANGE_M`)."""
    warnings: list[str] = []
    root = motion.keypoints3d[:, list(HIPS)].mean(axis=1)  # (T, 3) world
    w2c = motion.world_to_camera
    in_cam = np.einsum("tij,tj->ti", w2c[:, :3, :3], root) + w2c[:, :3, 3]  # (T, 3)
    behind = int((in_cam[:, 2] <= 0).sum())
    total = motion.num_frames
    if behind:
        warnings.append(f"the lifted person is behind the camera in {behind} of {total} frames")
    far = float(np.linalg.norm(in_cam, axis=1).max())
    if far > 1000.0:
        warnings.append(f"the lifted person is up to {far / 1000:.3g} km from the camera")
    # The longest side of the keypoints' bounding box: the height standing, the length lying.
    height = float(np.median(np.ptp(motion.keypoints3d, axis=1).max(axis=-1)))
    lo, hi = HEIGHT_RANGE_M
    if not lo <= height <= hi:
        warnings.append(
            f"the lifted person is {height:.2f} m tall (median over frames; people are {lo:g} to {hi:g} m)"
        )
    return warnings


def validate_inputs(keypoints: Keypoints2D, camera: Camera | None) -> None:
    """Raise InputError unless ``keypoints`` (and ``camera``) are what :func:`anylift.pipeline.lift` takes."""
    if not isinstance(keypoints, Keypoints2D):
        raise InputError(f"is a {type(keypoints).__name__}", field="keypoints", expected="a Keypoints2D")
    if camera is not None:
        if not isinstance(camera, Camera):
            raise InputError(f"is a {type(camera).__name__}", field="camera", expected="a Camera or None")
        check_frames_match(keypoints, camera)
    elif keypoints.image_size is None:
        raise InputError(
            "the image size is unknown and there is no camera file",
            path=keypoints.path,
            field="image_size",
            expected="[width, height] in the keypoints file",
            fix="Pass a camera file (--camera) or keypoints that state the image size",
        )
    mask = visibility_mask(keypoints.keypoints)
    if not (mask.sum(1) >= 4).any():
        raise InputError(
            f"no frame has 4 or more keypoints with a score >= {DEFAULT_SCORE_THRESHOLD}: no person to lift",
            path=keypoints.path,
            field="keypoints",
            expected="a detected person in at least one frame",
        )


def image_size_of(keypoints: Keypoints2D, camera: Camera | None) -> tuple[int, int]:
    """(W, H) pixels: the keypoints' image size, else the camera's, else twice the principal point."""
    if keypoints.image_size is not None:
        return tuple(keypoints.image_size)
    if camera is not None and camera.image_size is not None:
        return tuple(camera.image_size)
    k = camera.K  # principal point at the centre is the usual case
    return (max(1, round(2 * k[0, 2])), max(1, round(2 * k[1, 2])))
