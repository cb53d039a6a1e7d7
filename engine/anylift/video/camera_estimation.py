"""Camera trajectory from a video: background feature tracks, person masked out.

A stand-in for a real SLAM / structure-from-motion system (MegaSaM, COLMAP: import their
output with :func:`anylift.io.cameras.read_camera` for a stronger estimate).

1. **Tracks** (one streaming pass, :func:`track_features`): Shi-Tomasi corners on the
   background (the person's keypoint box, enlarged, is masked out in every frame, and so is
   every other tracked person's where they are seen: a crowd's motion is not the camera's), followed
   frame to frame with pyramidal Lucas-Kanade and a forward-backward check; graphics laid over
   the picture (what stands still while the scene moves) are left out (:class:`StillOverlay`). Each frame is
   related to the current *keyframe*; a new keyframe starts when fewer than half of its
   features (or fewer than 60 of a keyframe that had more than 75) survive. Only the
   (keyframe, frame) point pairs are kept, never the frames. Where the camera changes its
   exposure (adapting to a dark hall, mains flicker), a frame whose levels moved
   (:func:`exposure_gain`) has its corners followed again at the previous frame's levels.
2. **Focal length** (when none is given, :func:`estimate_focal`): a search over
   f in [0.35, 3] x the long side, scoring each f by how well the best rotation-only model and
   the best essential matrix explain the pairs with the most motion (truncated squared
   errors, MSAC); a pair that a rotation explains within a pixel at one focal length (and twice as
   badly at both ends of the search) is scored by the rotation alone: a pan over a floor, the
   lens shaking a few cm, fits an essential matrix at every focal length (a plane is its
   degenerate case), and that flat cost's noise gave 224 px for a true 520 (footage render
   dutch60). The two interleaved halves of those pairs must agree on it within 25 %: a small
   handheld shake barely constrains it (its cost curve is flat within its noise), and the least
   cost must lie inside the search, not at its end (:func:`_focal_minimum`). A static camera
   does not constrain it either. Then the scene's vertical lines and a
   horizontal family of lines, perpendicular in the world, give it where they agree over a few
   frames (:func:`anylift.video.vanishing.focal_from_images`); else, for a camera that moves
   (general motion over at least three keyframes), the shortest focal length at which the frames
   between keyframes follow one rigid path (:func:`focal_from_path`); else it falls back to
   ``max(W, H)`` of the picture (``static_camera``'s choice; inside black bars,
   :func:`content_size`: a real backflip filmed with a phone and shown pillarboxed in 1920x1080
   lifted with the camera rolled 5 deg at the frame's 1920 px, 1.2 deg at the picture's 1220).
   Where several people stand or walk about, their ankles-to-shoulders axes (every frame,
   carried into frame 0 by the solved rotations) meet at the verticals' vanishing point
   (:func:`anylift.video.vanishing.people_vertical`); then that point is the only vertical the
   scene's lines are paired with: a floor's lines seen from above converge above the image as a
   building's verticals would (a concourse filmed from a balcony: 515 px from the floor's lines
   taken for verticals, 1309 px with the people's, 1346 px from the camera's motion once the
   crowd is masked out). But MediaPipe draws people's axes nearer the image's up than they are,
   so their verticals lie too far away (crowd25: 960 px for 800), and they are often too few or
   too scattered to meet at one point (a square seen steeply from above). So wherever the focal
   was only guessed or came from the people's verticals, two families of the scene's lines taken
   as perpendicular (a floor's tiles, a court) give it, unless the people's axes point clearly
   worse at the verticals it implies (:func:`_floor_focal`; footage render steep25: 1111 px for a
   true 1100, the pitch 50.3 deg for 50.9, where the guessed 640 px read 64.4; crowd25 799).
3. **Motion per keyframe** (:func:`solve_camera`): each keyframe's last frame, its longest
   baseline, decides the model of all the frames tracked from it (:func:`relative_pose`):
   static (median motion under 0.3 px) -> identity; else a rotation-only model (pan, tilt,
   roll, with a zoom factor) fitted by RANSAC on bearing vectors and an essential matrix
   (``cv2.findEssentialMat`` + ``recoverPose``, its inliers the points with at least
   :data:`PARALLAX_PX` of parallax); the rotation model wins when it explains
   at least 95% as many points (fewer parameters, and a pure rotation has no baseline for
   an essential matrix) or fits the typical point within the RANSAC threshold. The frames in
   between follow: a rotation's by their own rotation fit, a general motion's by PnP on the
   points triangulated from the last frame (one scale, one path: decided frame by frame, a
   camera walking down a street flipped between the models and its centre jumped 0.2-1 m from
   frame to frame); a static keyframe's frames, and any PnP cannot place, frame by frame as
   the last. A general motion's pose is the best of MAGSAC++, RANSAC and LMedS
   by their inliers (:func:`fit_essential`: over a drone's floor each alone now and then chose a
   pose 5-19 deg off), unless its turn would move the picture :data:`UNDONE_TURN` times more
   than its farther points moved (over a floor and a short step the essential matrix trades a
   turn for a translation: the rotation model stands). Zoom is represented as a dolly along the
   optical axis by the amount that scales the person's depth the same way (a Camera holds one K,
   like :mod:`anylift.data.trajectories`).
4. **Scale** of a translation (an essential matrix has none): from the person's size. The
   person's depth comes from its keypoints (limb lengths of a 1.7 m adult; the least
   foreshortened limb counts), and the background points triangulated nearest to the
   person's feet in the image are taken to be at that depth. With every tracked person
   (``people``), each one seen at the keyframe tells a scale so, and the median counts: a
   tumbling gymnast's limbs, foreshortened, put her too far, and the coaches standing round
   her do not. A keyframe no one anchors (no feet seen) moves at the anchored keyframes'
   median speed, or a unit baseline where none is.
5. **World**: frame 0's camera sits at the origin, upright, looking along +y of a Z-up
   world; translations in metres (as well as the person's size tells them).
6. **Up**: the vanishing points of the straight lines (:mod:`anylift.video.vanishing`) of the
   first frame lit as the rest (:func:`_lit_frame`: a camera adapting its exposure starts dark)
   give the world's up (``camera.up``) when at least ``min_up_support`` segments agree, so a
   camera looking down or held at a tilt is known as such; with the people's verticals, the
   lines' candidate within :data:`PEOPLE_UP_DEG` of theirs, else theirs; otherwise ``up`` is left
   unset and the lift estimates gravity from the body (:mod:`anylift.lifting.gravity`). No
   candidate may put the people's feet above the camera's horizon
   (:func:`anylift.video.vanishing.under_the_floor`).

Frames where tracking fails (too few points) keep the previous frame's pose.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import threading
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from anylift import representation as rep
from anylift.errors import InputError
from anylift.geometry.epipolar import fundamental_from_cameras
from anylift.geometry.transforms import intrinsics, similarity_align
from anylift.io.cameras import Camera
from anylift.io.keypoints import Keypoints2D
from anylift.progress import ProgressFn, check_cancel, report
from anylift.video.reader import open_video

STAGE_TRACK = "track features"
STAGE_SOLVE = "solve camera"

# World-from-camera-0: OpenCV axes (x right, y down, z forward) in a Z-up world looking along +y.
UPRIGHT_W2C = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


@dataclass(frozen=True)
class CameraConfig:
    """Settings of :func:`estimate_camera` (pixels are full-resolution pixels)."""

    max_features: int = 500
    min_up_support: int = 20  # line segments needed to take the up direction from the image
    min_features: int = 60
    min_distance: int = 10
    keyframe_survival: float = 0.5
    mask_margin: float = 0.15  # person box enlarged by this fraction of its size on each side
    static_px: float = 0.3
    ransac_px: float = 1.0
    rotation_preference: float = 0.95
    max_side: int = 960  # frames are downscaled to this long side for tracking
    focal_agreement: float = 1.25  # the two halves' focal estimates within this ratio, else unconstrained
    rotation_fit_px: float = 1.0  # a pair a rotation explains this well (RMS px) tells the focal as one
    focal_bracket: float = 0.02  # the motion's cost at both ends of the focal range at least this much
    # over its minimum, else the range's end, not the motion, chose it (_focal_minimum)
    still_overlay: bool = True  # what stands still in the picture while the scene moves is left out


@dataclass
class FeatureTracks:
    """Point pairs between each frame and its keyframe (full-resolution pixels).

    keyframe: (T,) int index of each frame's keyframe; pairs: T tuples (p_key (N, 2), p_t (N, 2)).
    """

    image_size: tuple[int, int]
    fps: float
    keyframe: np.ndarray
    pairs: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    content_size: tuple[int, int] | None = None  # the picture inside black bars (:func:`content_size`)

    @property
    def last_frames(self) -> dict[int, int]:
        """Each keyframe's last frame tracked from it (its longest baseline)."""
        return {int(k): t for t, k in enumerate(self.keyframe) if t > 0}

    @property
    def focal_guess(self) -> float:
        """``max(W, H)`` of the picture (inside black bars: a phone's portrait video shown in a
        landscape frame has the portrait camera's focal)."""
        return float(max(self.content_size or self.image_size))


@dataclass
class CameraEstimate:
    """What :func:`estimate_camera` found.

    camera: the trajectory (anylift world, see module docs); focal: fx = fy (px);
    focal_estimated: False when given; models: (T,) per-frame model, one of "first", "static",
    "rotation", "general", "lost"; person_depth: (T,) metres or None without keypoints;
    up_support: segments of the vanishing lines (or, with ``up_source`` "people", person axes)
    that gave ``camera.up`` (0: none, up unset);
    focal_source: "given", "camera motion", "scene lines" (vanishing points), "people and scene
    lines" (the people's verticals against the scene's horizontal lines), "floor lines" (two
    families of lines taken as perpendicular, where the people's axes accept it), "camera path"
    (:func:`focal_from_path`) or "guess" (the picture's max(W, H));
    up_source: "scene lines", "people" (their axes alone) or "" (up unset);
    shot: in a video with cuts (``people.cuts``), the (start, stop) frames of the person's shot,
    the only ones estimated: the others hold its first and last pose (models "other shot").
    """

    camera: Camera
    focal: float
    focal_estimated: bool
    models: list[str]
    person_depth: np.ndarray | None
    up_support: int = 0  # line segments behind ``camera.up`` (0: no up from the image)
    focal_source: str = "given"
    up_source: str = ""
    shot: tuple[int, int] | None = None  # (start, stop) frames estimated, in an edited video

    @property
    def scene_tilt(self) -> tuple[float, float] | None:
        """(pitch, roll) degrees of the first frame's camera in the world whose up the scene's
        lines (or people) gave (:func:`anylift.lifting.gravity.camera_tilt`), or None without that up."""
        if self.camera.up is None:
            return None
        from anylift.geometry.camera import rotate_world, world_zup_from_camera
        from anylift.lifting.gravity import camera_tilt

        return camera_tilt(
            rotate_world(self.camera.world_to_camera[:1], world_zup_from_camera(self.camera))[0]
        )

    @property
    def motion(self) -> str:
        """The clip's kind of motion: "static", "rotation" or "general" (the most general seen)."""
        kinds = set(self.models)
        if "general" in kinds:
            return "general"
        return "rotation" if "rotation" in kinds else "static"


# ---------------------------------------------------------------------------------------------
# Person


def person_boxes(keypoints: np.ndarray | None, num_frames: int, margin: float) -> np.ndarray:
    """(T, 4) [x0, y0, x1, y1] boxes around the person ((T, 17, 3) keypoints; NaN where unknown),
    enlarged by ``margin``. Frames without keypoints take the nearest frame's box.
    """
    boxes = np.full((num_frames, 4), np.nan)
    if keypoints is None:
        return boxes
    kp = np.asarray(keypoints, dtype=np.float64)[:num_frames]
    for t in range(len(kp)):
        boxes[t] = frame_box(kp[t], margin)
    known = np.flatnonzero(np.isfinite(boxes[:, 0]))
    if len(known):
        nearest = known[np.abs(np.arange(num_frames)[:, None] - known[None]).argmin(1)]
        boxes = boxes[nearest]
    return boxes


def frame_box(kp: np.ndarray, margin: float) -> np.ndarray:
    """(4,) [x0, y0, x1, y1] around one frame's (17, 3) keypoints, enlarged by ``margin`` of its
    size; NaN with fewer than two joints seen."""
    seen = kp[kp[:, 2] > 0, :2]
    if len(seen) < 2:
        return np.full(4, np.nan)
    lo, hi = seen.min(0), seen.max(0)
    size = hi - lo
    pad = margin * max(size.max(), 1.0)
    # The head reaches above the eyes and the feet below the ankles.
    return np.array([lo[0] - pad - 0.1 * size[1], lo[1] - pad - 0.15 * size[1],
                     hi[0] + pad + 0.1 * size[1], hi[1] + pad + 0.1 * size[1]])  # fmt: skip


def person_depth(keypoints: Keypoints2D, focal: float, window: int = 15) -> np.ndarray:
    """(T,) metres from the camera to the person, from limb lengths in pixels.

    Each limb gives ``f * L / l_px``, an upper bound (foreshortening only shortens); the
    smallest per frame, then the 20th percentile over +-``window`` frames. NaN where unknown.
    """
    return _limb_depth(keypoints.keypoints, focal, window)


def _limb_depth(kp: np.ndarray, focal: float, window: int = 15) -> np.ndarray:
    """:func:`person_depth` of (T, 17, 3) keypoints."""
    raw = rep.limb_depth(kp[..., :2] / focal, kp[..., 2] > 0, min_length=2.0 / focal)
    out = np.full(len(kp), np.nan)
    for t in range(len(kp)):
        seg = raw[max(0, t - window) : t + window + 1]
        seg = seg[np.isfinite(seg)]
        if len(seg):
            out[t] = np.percentile(seg, 20)
    known = np.flatnonzero(np.isfinite(out))
    if len(known):
        out = np.interp(np.arange(len(out)), known, out[known])
    return out


# ---------------------------------------------------------------------------------------------
# Tracks


class StillOverlay:
    """What stands still in the picture while the scene moves behind it: a broadcast's score box
    and logo burnt into the picture (a camera's own mount, a car's bonnet). Their corners, often
    more than the scene's, say "static camera", and they keep a keyframe alive while the scene's
    corners die: footage renders with a score box and a "LIVE" box laid over them, a camera
    circling a dancer came out static (34 deg off on average; now 2.3; with the boxes shown from
    its 41st frame on, 19.4 and now 7.8) and a phone carried sideways 3.6 deg (now 1.3, its focal
    length from the motion 346 px for 560). They are left out.

    Fed every frame's tracked corners and frames (:meth:`update`); only frames where the scene
    moves count: at least :data:`OVERLAY_MOVING` of the corners (and 8) move over
    :data:`OVERLAY_MOVING_PX`. An 8-px cell whose corners stood still (under
    :data:`OVERLAY_STILL_PX`: an overlay's pixels do not change, and its corners move by 0.001-0.004
    px where the scene's under 1 % of the time move that little) in :data:`OVERLAY_SECONDS` of those
    frames, and moved at all in under a tenth as many, is an overlay's (counts fade over
    :data:`OVERLAY_WINDOW_SECONDS` of such frames: a box that appears later, over a part of the
    scene that moved, is found a few seconds after; once found a cell stays left out). Grown to
    the cells near it whose corners stood still as often as they moved (a box's corners, the
    scene crossing their cells), to the cells joined to it whose pixels did not change (the box's
    blank part), and by a cell all round (its edges, where the tracker's window holds both box
    and scene).

    Graphics are compact blocks: where the still cells spread over more than
    :data:`OVERLAY_MAX_SPREAD` of the frame's 8 x 6 blocks, they are a static camera's background
    with something large moving in front of it, and nothing is left out for the rest of the video.
    A scene's points seldom stand still so long while it moves (a camera that turns moves them
    all); on the fourteen footage renders and five real clips nothing is left out."""

    CELL = 8  # px of the tracking scale

    def __init__(self, shape: tuple[int, int], fps: float) -> None:
        self.grid = (-(-shape[0] // self.CELL), -(-shape[1] // self.CELL))
        # Frames where the scene moved, each count fading over OVERLAY_WINDOW_SECONDS of them (a
        # score box that appears later, over a part of the scene that moved): the cell's corners
        # stood still, moved at all, moved over OVERLAY_MOVED_PX; its pixels did not change.
        self.keep = 1.0 - 1.0 / max(OVERLAY_WINDOW_SECONDS * fps, 2.0)
        self.still, self.slow, self.moved, self.unchanged = (np.zeros(self.grid, np.float32) for _ in "1234")
        self.frames = 0.0
        self.least = 0.85 * max(5, round(OVERLAY_SECONDS * fps))  # the window's fading allowed for
        self.off = False
        self.core = np.zeros(self.grid, bool)  # cells found an overlay's so far (they stay)
        self.mask = np.zeros(self.grid, bool)

    def cells(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) cell of each (N, 2) point (tracking scale), clipped to the grid."""
        c = np.floor(points / self.CELL).astype(int)
        return np.clip(c[:, 1], 0, self.grid[0] - 1), np.clip(c[:, 0], 0, self.grid[1] - 1)

    def update(self, before: np.ndarray, after: np.ndarray, frames: tuple[np.ndarray, np.ndarray]) -> None:
        """One frame's tracked corners (N, 2) before and after (tracking scale, all good), and the
        two grey frames (tracking scale)."""
        if self.off or len(before) == 0:
            return
        step = np.linalg.norm(after - before, axis=1)
        if (step > OVERLAY_MOVING_PX).sum() < max(8, OVERLAY_MOVING * len(step)):
            return
        for count in (self.still, self.slow, self.moved, self.unchanged):
            count *= self.keep
        self.frames = self.frames * self.keep + 1.0
        diff = np.zeros((self.grid[0] * self.CELL, self.grid[1] * self.CELL), np.uint8)
        h, w = frames[0].shape
        diff[:h, :w] = cv2.absdiff(*frames)
        cell_diff = diff.reshape(self.grid[0], self.CELL, self.grid[1], self.CELL).max(axis=(1, 3))
        self.unchanged += cell_diff <= OVERLAY_UNCHANGED
        rows, cols = self.cells(after)
        slow = step >= OVERLAY_STILL_PX
        for count, points in ((self.still, ~slow), (self.slow, slow), (self.moved, step > OVERLAY_MOVED_PX)):
            hit = np.zeros(self.grid, bool)
            hit[rows[points], cols[points]] = True
            count += hit
        self.core |= (self.still >= self.least) & (self.slow * 10 < self.still)
        core = self.core
        r, c = np.nonzero(core)
        blocks = {(int(a * 6 // self.grid[0]), int(b * 8 // self.grid[1])) for a, b in zip(r, c)}
        if len(blocks) > OVERLAY_MAX_SPREAD * 48:
            self.off, self.mask = True, np.zeros(self.grid, bool)
            return
        if not core.any():
            return
        # A corner that stood still as often near the core (a box's corner, its edge crossed by
        # the scene), and the plain cells that never changed joined to it (the box's blank part).
        near = cv2.dilate(core.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
        mask = core | (near & (2 * self.still >= self.least) & (self.moved * 4 < self.still))
        plain = self.unchanged * 10 >= 9 * self.frames
        _, label = cv2.connectedComponents((mask | plain).astype(np.uint8), connectivity=8)
        mask |= np.isin(label, np.unique(label[mask]))
        # ... and the cells around: the box's edge, whose cells the scene crosses too.
        self.mask |= cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)

    def covers(self, points: np.ndarray) -> np.ndarray:
        """(N,) whether each (N, 2) point (tracking scale) lies on the overlay."""
        if not self.mask.any() or len(points) == 0:
            return np.zeros(len(points), bool)
        return self.mask[self.cells(points)]

    def pixels(self) -> np.ndarray:
        """The overlay as a (H, W) bool mask at the tracking scale (grid cells blown up)."""
        return np.kron(self.mask, np.ones((self.CELL, self.CELL), bool))


OVERLAY_MOVING = 0.1
OVERLAY_MOVING_PX = 1.0
OVERLAY_STILL_PX = 0.05
OVERLAY_MOVED_PX = 0.5
OVERLAY_UNCHANGED = 6  # grey levels
OVERLAY_SECONDS = 0.5
OVERLAY_WINDOW_SECONDS = 1.0
OVERLAY_MAX_SPREAD = 0.25


def track_features(
    video: str | os.PathLike,
    keypoints: Keypoints2D | None = None,
    *,
    config: CameraConfig | None = None,
    fps: float | None = None,
    people=None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    frames: tuple[int, int] | None = None,
) -> FeatureTracks:
    """Stream the video once and collect background point pairs (frame, keyframe); see module docs.
    ``people``: every other person's (T, 17, 3) keypoints, masked out too (a crowd moves);
    ``frames``: (start, stop), one shot only (its frames counted from 0)."""
    cfg = config or CameraConfig()
    reader = open_video(video, fps=fps, frames=frames)
    w, h = reader.image_size
    scale = min(1.0, cfg.max_side / max(w, h))
    total = len(reader)
    n = max(total, keypoints.num_frames if keypoints else 0) + 1
    boxes = person_boxes(None if keypoints is None else keypoints.keypoints, n, cfg.mask_margin)
    others = [np.asarray(k) for k in people or ()]
    keyframes: list[int] = []
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    prev = key_pts = cur_pts = None
    n_key = 0
    lk = {"winSize": (21, 21), "maxLevel": 3,
          "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)}  # fmt: skip
    key_index = 0
    peak = None  # every pixel's brightest over the video: black bars stay black
    overlay = None
    report(progress, STAGE_TRACK, 0, total)
    for t, frame in enumerate(reader):
        check_cancel(cancel)
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        peak = gray.copy() if peak is None else np.maximum(peak, gray, out=peak)
        if overlay is None and cfg.still_overlay:
            overlay = StillOverlay(gray.shape, reader.fps)
        # Another person's box only where they are seen (someone who leaves frees the floor).
        box = np.array(
            [boxes[min(t, len(boxes) - 1)], *(frame_box(k[t], cfg.mask_margin) for k in others if t < len(k))]
        )
        box = box[np.isfinite(box).all(1)] * scale
        if prev is not None and cur_pts is not None and len(cur_pts):
            seen = gray
            nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, gray, cur_pts, None, **lk)
            gain = exposure_gain(prev, gray, cur_pts[st[:, 0] == 1, 0], nxt[st[:, 0] == 1, 0])
            if abs(gain - 1.0) > EXPOSURE_CHANGE:  # followed again at the previous frame's exposure
                seen = cv2.convertScaleAbs(gray, alpha=gain)
                nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, seen, cur_pts, None, **lk)
            back, st2, _ = cv2.calcOpticalFlowPyrLK(seen, prev, nxt, None, **lk)
            good = (st[:, 0] == 1) & (st2[:, 0] == 1) & (np.linalg.norm(back - cur_pts, axis=-1)[:, 0] < 0.5)
            p = nxt[:, 0]
            inside = (p[:, 0] >= 0) & (p[:, 1] >= 0) & (p[:, 0] < gray.shape[1]) & (p[:, 1] < gray.shape[0])
            for b in box:
                good &= ~((p[:, 0] > b[0]) & (p[:, 0] < b[2]) & (p[:, 1] > b[1]) & (p[:, 1] < b[3]))
            good &= inside
            if overlay is not None:
                overlay.update(cur_pts[good, 0], p[good], (prev, seen))
                good &= ~overlay.covers(p)
            key_pts, cur_pts = key_pts[good], nxt[good]
        n_alive = 0 if cur_pts is None else len(cur_pts)
        # Keep a keyframe as long as its points last: longer baselines show parallax that
        # frame-to-frame pairs hide (a rotation model would then absorb the translation).
        if t == 0 or n_alive < max(min(cfg.min_features, 0.8 * n_key), cfg.keyframe_survival * n_key, 8):
            if t > 0:
                pairs.append((key_pts[:, 0] / scale, cur_pts[:, 0] / scale))
                keyframes.append(key_index)
            mask = np.full(gray.shape, 255, np.uint8)
            for b in box:
                x0, y0, x1, y1 = (round(v) for v in b)
                mask[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = 0
            if overlay is not None and overlay.mask.any():
                mask[overlay.pixels()[: mask.shape[0], : mask.shape[1]]] = 0
            found = cv2.goodFeaturesToTrack(gray, cfg.max_features, 0.01, cfg.min_distance * scale, mask=mask)
            key_pts = np.zeros((0, 1, 2), np.float32) if found is None else found.astype(np.float32)
            cur_pts = key_pts.copy()
            n_key = len(key_pts)
            key_index = t
            # A new keyframe's own frame is related to the previous keyframe (pair added above).
            if t == 0:
                pairs.append((key_pts[:, 0] / scale, cur_pts[:, 0] / scale))
                keyframes.append(0)
        else:
            pairs.append((key_pts[:, 0] / scale, cur_pts[:, 0] / scale))
            keyframes.append(key_index)
        prev = gray
        report(progress, STAGE_TRACK, t + 1, max(total, t + 1))
    if not pairs:
        raise InputError("holds no frames", path=video, expected="a video with at least one frame")
    if overlay is not None and overlay.mask.any():  # the frames before it was known, too
        pairs = [(a[keep], b[keep]) for a, b in pairs for keep in [~overlay.covers(a * scale)]]
    return FeatureTracks((w, h), reader.fps, np.asarray(keyframes), pairs, content_size(peak, (w, h)))


EXPOSURE_CHANGE = 0.02
"""A frame whose levels differ from the previous frame's by more than this share
(:func:`exposure_gain`) has its corners followed again, scaled to the previous frame's levels.
Lucas-Kanade takes a change of levels for motion: a static camera brightening x1/5 -> x1 over
0.6 s (footage renders crowd25, steep25, judge30) had its corners drift 4 px and came out moving
("general"), and alternate frames 4 % brighter and darker (mains flicker) gave a static scene
0.5-1.1 px of motion ("rotation"). From 0.5 % on, the tracker's own noise (the 9-px means at the
corners it follows, 0.1-0.25 % in the median) changed footage whose exposure does not change
(orbit30's focal length 914 -> 847 px for 900, portrait30's 458 -> 501 for 470, 11 of 21 real
clips); from 2 % none of the 20 renders and 20 of those 21 clips change (PoseTrack 003747, a phone
swung from the sky to the grass, 3-7 % a frame: focal 1605 -> 600 px)."""

EXPOSURE_SURE = 5.0
"""... and only where the corners agree on it: by at least this many standard errors of their
median ratio (from the ratios' median absolute deviation). A render of a camera walking along
with a puncher (no exposure change; 47-78 blurred corners) read 2.2-3.8 % in four frames, 2-4
standard errors out, and its rotation came out 3.1 deg off instead of 2.2; a ramp's or a
flicker's change lies 50 or more out (``benchmarks/estimated_camera.py``'s 40 cases: all as
before)."""


def exposure_gain(prev: np.ndarray, gray: np.ndarray, before: np.ndarray, after: np.ndarray) -> float:
    """The factor taking grey frame ``gray``'s levels to ``prev``'s: the median ratio of their
    levels (9 x 9 px means) at the corners followed from ``before`` (N, 2) in ``prev`` to ``after``
    in ``gray``, where both are mid-tones (17-239: neither crushed nor clipped); 1.0 at fewer than
    20 such corners, or where they do not agree on a change (:data:`EXPOSURE_SURE`). A camera's
    exposure scales the levels it encodes alike (a gain in linear light stays a gain under the
    encoding's power law); the pixels at the same place in both frames would tell a camera
    panning over a sky or a lit floor's gradient as one."""
    levels = []
    for frame, points in ((prev, before), (gray, after)):
        mean = cv2.blur(frame.astype(np.float32), (9, 9))
        xy = np.clip(np.round(points).astype(int), 0, [frame.shape[1] - 1, frame.shape[0] - 1])
        levels.append(mean[xy[:, 1], xy[:, 0]].astype(np.float64))
    a, b = levels
    mid = (a > 16) & (a < 240) & (b > 16) & (b < 240)
    if mid.sum() < 20:
        return 1.0
    ratio = a[mid] / b[mid]
    gain = float(np.median(ratio))
    spread = 1.2533 * 1.4826 * float(np.median(np.abs(ratio - gain))) / np.sqrt(len(ratio))  # of the median
    return gain if abs(gain - 1.0) > EXPOSURE_SURE * spread else 1.0


BAR_LEVEL = 20
"""A black bar's rows or columns stay darker than this (of 255) in every frame."""


def content_size(peak: np.ndarray, image_size: tuple[int, int]) -> tuple[int, int] | None:
    """(W, H) of the picture inside black bars (letterbox, pillarbox: columns or rows that stay
    under :data:`BAR_LEVEL` in every frame, on both sides, each at least 5 % of the frame), or
    None without such bars. ``peak``: every pixel's brightest over the video (any scale)."""
    w, h = image_size
    size = []
    for axis, full in ((0, w), (1, h)):
        lit = np.flatnonzero(peak.max(axis=axis) >= BAR_LEVEL)  # columns (axis 0), then rows
        n = peak.shape[1 - axis]
        if len(lit) == 0:
            return None
        lo, hi = lit[0], n - 1 - lit[-1]
        bars = min(lo, hi) >= 0.05 * n
        size.append(round(full * (lit[-1] - lit[0] + 1) / n) if bars else full)
    return None if tuple(size) == (w, h) else (size[0], size[1])


# ---------------------------------------------------------------------------------------------
# Geometry


def _bearings(points: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(N, 2) pixels -> (N, 3) unit rays."""
    x = (points - K[:2, 2]) / np.diag(K)[:2]
    rays = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    return rays / np.linalg.norm(rays, axis=1, keepdims=True)


def _rotation_residuals(p1, p2, K, R, zoom=1.0) -> np.ndarray:
    """Pixel distance between p2 and p1 moved by rotation R and zoom (focal scale)."""
    rays = _bearings(p1, K) @ R.T
    with np.errstate(divide="ignore", invalid="ignore"):
        proj = rays[:, :2] / rays[:, 2:3] * zoom * np.diag(K)[:2] + K[:2, 2]
    err = np.linalg.norm(proj - p2, axis=1)
    return np.where(rays[:, 2] > 0, err, np.inf)


def fit_rotation(p1: np.ndarray, p2: np.ndarray, K: np.ndarray, threshold: float, rng: np.random.Generator,
                 iterations: int = 200) -> tuple[np.ndarray, float, np.ndarray]:  # fmt: skip
    """Rotation (+ zoom) taking p1's rays to p2's: RANSAC over 2-point Kabsch, then refined.

    Returns (R (3, 3), zoom, inlier mask (N,)).
    """
    n = len(p1)
    b1, b2 = _bearings(p1, K), _bearings(p2, K)
    idx = rng.integers(0, n, size=(iterations, 2))
    idx = idx[idx[:, 0] != idx[:, 1]]
    hyps = similarity_align(b1[idx], b2[idx], scale=False, centre=False)[1]
    best, best_zoom = np.eye(3), 1.0
    a_all = (p2 - K[:2, 2]) / np.diag(K)[:2]
    if len(hyps):
        # Every hypothesis scored at once: (H, N) rays, zooms and residuals.
        rays = b1[None] @ np.swapaxes(hyps, 1, 2)
        b = rays[..., :2] / np.maximum(rays[..., 2:3], 1e-9)
        # Each hypothesis gets its best zoom (closed form) so zooming shots are not all outliers.
        z = (a_all[None] * b).sum((1, 2)) / np.maximum((b * b).sum((1, 2)), 1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            proj = rays[..., :2] / rays[..., 2:3] * z[:, None, None] * np.diag(K)[:2] + K[:2, 2]
        err = np.where(rays[..., 2] > 0, np.linalg.norm(proj - p2, axis=-1), np.inf)
        first_best = int(np.argmax((err < threshold).sum(1)))
        best, best_zoom = hyps[first_best], float(z[first_best])
    inl = _rotation_residuals(p1, p2, K, best, best_zoom) < threshold
    R, zoom = best, best_zoom
    for _ in range(4):
        if inl.sum() < 3:
            break
        # A zoom scales the normalised image coordinates: solve it after each rotation update.
        bearings = _bearings((p2[inl] - K[:2, 2]) / zoom + K[:2, 2], K)
        R = similarity_align(b1[inl], bearings, scale=False, centre=False)[1]
        rays = b1[inl] @ R.T
        a = (p2[inl] - K[:2, 2]) / np.diag(K)[:2]
        b = rays[:, :2] / rays[:, 2:3]
        zoom = float((a * b).sum() / max((b * b).sum(), 1e-12))
        inl = _rotation_residuals(p1, p2, K, R, zoom) < threshold
    if abs(zoom - 1.0) < 1e-3:
        zoom = 1.0
    return R, zoom, inl


ESSENTIAL_METHODS = (cv2.USAC_MAGSAC, cv2.RANSAC, cv2.LMEDS)
"""The robust estimators :func:`fit_essential` tries where ``every`` is asked for."""


def _fundamental(K: np.ndarray, R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The fundamental matrix of a keyframe and a frame ``x_frame = R x_key + t`` (one ``K``)."""
    w2c = np.eye(4)
    w2c[:3, :3], w2c[:3, 3] = R, t
    return fundamental_from_cameras(K, np.eye(4), K, w2c)


PARALLAX_PX = 3.0
"""An essential matrix's inliers (its count against the rotation model's, :func:`relative_pose`)
are the points in front of both cameras whose parallax is at least this many pixels: nearer than
``focal / PARALLAX_PX`` baselines. OpenCV's own cut, 50 baselines (a degree of parallax, 26 px at a
1490 px lens), dropped nearly every point of a camera walking down a street 10-30 m deep (a
baseline of 0.2 m between keyframe and frame): 0-50 of 400 points left where 290 fitted, so the
rotation model won with a 10 px residual. A pure turn leaves no parallax, and its points stay
out. The pose among several estimators' (``every``) counts every point in front."""


def fit_essential(p1: np.ndarray, p2: np.ndarray, K: np.ndarray, threshold: float, every: bool = False,
                  found: tuple | None = None):  # fmt: skip
    """Essential matrix by RANSAC and the pose it implies: (R, t unit (3,), inlier mask) or None.

    MAGSAC++ with local optimisation (plain RANSAC keeps its best minimal sample unrefined); with
    ``every``, each of :data:`ESSENTIAL_METHODS` and the pose with the most inliers (Sampson
    distance under ``threshold``, in front of both cameras, :data:`PARALLAX_PX`). Over a floor seen
    from a drone each of them alone fell now and then into a pose that explains 70 % of the points
    where another explains 98 % (a floor is an essential matrix's degenerate case), and with
    MAGSAC++ alone the drone's camera jumped by up to 19 deg and a metre in those frames (footage
    render drone30). ``found``: with ``every``, MAGSAC++'s pose of these points from an earlier call (not
    estimated again).
    """
    if len(p1) < 8:
        return None
    best = None
    Kinv = np.linalg.inv(K)
    methods = ESSENTIAL_METHODS if every else ESSENTIAL_METHODS[:1]
    candidates = []  # (essential matrices (3k, 3), the estimator's inlier mask)
    if every and found is not None:
        methods = methods[1:]
        candidates.append((K.T @ _fundamental(K, found[0], found[1]) @ K, None))
    for method in methods:
        E, mask = cv2.findEssentialMat(p1, p2, K, method=method, prob=0.999, threshold=threshold)
        if E is not None and E.shape[1:] == (3,) and len(E) % 3 == 0:
            candidates.append((E, mask))
    for E, mask in candidates:
        for i in range(0, len(E), 3):  # the five-point solver may give several
            e = E[i : i + 3]
            near = _sampson(p1, p2, Kinv.T @ e @ Kinv) <= threshold if every else mask[:, 0] > 0
            if near.sum() < 5:
                continue
            far = 1e6 if every else K[0, 0] / PARALLAX_PX  # baselines
            mask = near.astype(np.uint8)[:, None] * 255
            _, R, t, pose_mask, _ = cv2.recoverPose(e, p1, p2, K, distanceThresh=far, mask=mask)
            inl = near & (pose_mask[:, 0] > 0)
            if best is None or inl.sum() > best[2].sum():
                best = (R, t[:, 0] / max(np.linalg.norm(t), 1e-12), inl)
    return best


def _sampson(p1, p2, F) -> np.ndarray:
    x1 = np.concatenate([p1, np.ones((len(p1), 1))], 1)
    x2 = np.concatenate([p2, np.ones((len(p2), 1))], 1)
    fx1, ftx2 = x1 @ F.T, x2 @ F
    num = np.einsum("ij,ij->i", x2, fx1) ** 2
    den = fx1[:, 0] ** 2 + fx1[:, 1] ** 2 + ftx2[:, 0] ** 2 + ftx2[:, 1] ** 2
    return np.sqrt(num / np.maximum(den, 1e-12))


def estimate_focal(tracks: FeatureTracks, config: CameraConfig | None = None, pairs: int = 10,
                   seed: int = 0) -> float | None:  # fmt: skip
    """Focal length (px) that best explains the largest-motion pairs, or None if unconstrained.

    The cost is a sum over the pairs, so the pairs are split in two interleaved halves and each
    half gives its own estimate for free: where the two disagree by more than
    ``config.focal_agreement`` the motion does not pin the focal length down (a handheld camera's
    small shake: measured, estimates of 270-780 px for a true 520 on one clip, depending on which
    background the person's mask left), and None lets the caller fall back to the scene's lines
    or the guess.
    """
    cfg = config or CameraConfig()
    long_side = max(tracks.image_size)
    motion = [
        float(np.median(np.linalg.norm(b - a, axis=1))) if len(a) >= 20 else 0.0 for a, b in tracks.pairs
    ]
    order = [i for i in np.argsort(motion)[::-1] if motion[i] > 3.0][: pairs * 3 : 3]
    if not order:
        return None
    rng = np.random.default_rng(seed)
    tau = 2.0 * cfg.ransac_px

    def costs(f: float) -> np.ndarray:
        """(2, len(order)) cost of each pair under focal f: the rotation's, the essential matrix's
        (inf where none is found)."""
        K = intrinsics(tracks.image_size, f)
        out = []
        for i in order:
            p1, p2 = (np.ascontiguousarray(p, dtype=np.float64) for p in tracks.pairs[i])
            R, zoom, _ = fit_rotation(p1, p2, K, cfg.ransac_px, np.random.default_rng(rng.integers(1 << 31)))
            rot = np.minimum(_rotation_residuals(p1, p2, K, R, zoom), tau) ** 2
            ess = fit_essential(p1, p2, K, cfg.ransac_px)
            ess_cost = np.inf
            if ess is not None:
                F = _fundamental(K, ess[0], ess[1])
                ess_cost = float((np.minimum(_sampson(p1, p2, F), tau) ** 2).mean())
            out.append((rot.mean(), ess_cost))
        return np.array(out).T

    grid = long_side * np.geomspace(0.35, 3.0, 22)
    both = np.array([costs(f) for f in grid])  # (F, 2, P)
    # A pair that a rotation explains within a pixel at one focal length, and at least twice as
    # badly at both ends of the grid, is a rotation (a pan, a shake), and only the rotation tells
    # its focal length: an essential matrix, its translation free, fits a rotation's points at
    # any focal length (their error lies along its epipolar lines). A rotation that fits ever
    # better the longer the lens is an image shift, which any long lens explains: it tells nothing.
    rot_min = both[:, 0].min(0)
    rotation = (rot_min <= cfg.rotation_fit_px**2) & (np.minimum(both[0, 0], both[-1, 0]) >= 2 * rot_min)

    def chosen(c: np.ndarray) -> np.ndarray:
        return np.where(rotation, c[..., 0, :], np.minimum(c[..., 0, :], c[..., 1, :]))

    best = _focal_minimum(grid, chosen(both), cfg)
    if best is None:
        return None
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    fine = np.geomspace(lo, hi, 9)
    fine_costs = np.array([chosen(costs(f)).sum() for f in fine])
    return float(fine[int(np.argmin(fine_costs))])


def _focal_minimum(grid: np.ndarray, per_pair: np.ndarray, cfg: CameraConfig) -> int | None:
    """The index into ``grid`` (focal lengths) of the least summed cost of the pairs ``per_pair``
    (F, P), or None where the costs do not pin it down (:func:`estimate_focal`): a flat curve; the
    two interleaved halves of the pairs (with 4 or more) apart by more than ``focal_agreement``; or
    either end of the range under ``1 + focal_bracket`` times the minimum (the curve goes on
    falling past it, and the range, not the motion, chose: footage render close24, a camera walked
    close to the people, 242 px for a true 600 at the lower end, so the up 5.4 deg off; now its
    floor's lines, 568 px)."""
    total = per_pair.sum(1)
    if total.max() - total.min() < 0.05 * max(total.min(), 1e-9):
        return None
    if per_pair.shape[1] >= 4:
        halves = [grid[int(np.argmin(per_pair[:, h::2].sum(1)))] for h in (0, 1)]
        if max(halves) / min(halves) > cfg.focal_agreement:
            return None
    best = int(np.argmin(total))
    if min(total[0], total[-1]) < (1.0 + cfg.focal_bracket) * total[best]:
        return None
    return best


PATH_FOCAL_SEGMENTS = 8
PATH_FOCAL_KNEE = 1.5
PATH_FOCAL_CONTRAST = 3.0


def focal_from_path(tracks: FeatureTracks, config: CameraConfig | None = None) -> float | None:
    """Focal length (px) from how well the frames between keyframes follow one rigid path, or None.

    For each focal length of a grid, each of the :data:`PATH_FOCAL_SEGMENTS` keyframes whose last
    frame moved most is reconstructed from that pair (essential matrix, triangulation), and the
    frames in between are placed by PnP on its points: their reprojection error (truncated at
    3 px) is small only where the focal length is right or longer. Two views alone fit nearly any
    focal length; the frames between do not. Too short a lens leaves 3-8 px^2 where the right one
    leaves 0.1-0.9, and a longer lens hardly more than the right one (a longer lens flattens the
    scene's depth and the path absorbs it). So the focal length is the shortest whose error is
    within :data:`PATH_FOCAL_KNEE` times the least, where those shorter ones err at least
    :data:`PATH_FOCAL_CONTRAST` times as much; else None (no general motion, or no clear knee).
    Measured on renders (a session script): an orbit 1227 px for a true 1232 where
    :func:`estimate_focal` had nothing (a guess, 640), a walk-along 1026 for 1388 (640).
    """
    cfg = config or CameraConfig()
    ends = tracks.last_frames
    segments = [(k, n) for k, n in ends.items() if n - k >= 3 and len(tracks.pairs[n][0]) >= 20]
    motion = [float(np.median(np.linalg.norm(np.subtract(*tracks.pairs[n]), axis=1))) for _, n in segments]
    order = [i for i in np.argsort(motion)[::-1] if motion[i] > 3.0][:PATH_FOCAL_SEGMENTS]
    if len(order) < 3:
        return None
    tau = 3.0 * cfg.ransac_px

    def cost(f: float) -> float:
        K = intrinsics(tracks.image_size, f)
        errors = []
        for i in order:
            k, n = segments[i]
            q1, q2 = (np.asarray(p, dtype=np.float64) for p in tracks.pairs[n])
            ess = fit_essential(q1, q2, K, cfg.ransac_px, every=True)
            if ess is None:
                continue
            X = cv2.triangulatePoints(*_projections(K, ess[0], ess[1]), q1.T, q2.T)
            with np.errstate(divide="ignore", invalid="ignore"):
                X = (X[:3] / X[3]).T
            points = {tuple(a): x for a, x in zip(q1, X) if np.isfinite(x).all()}
            for t in range(k + 1, n, max(1, (n - k) // 4)):
                p1, p2 = (np.asarray(p, dtype=np.float64) for p in tracks.pairs[t])
                Xs, xs = _seen_points(points, p1, p2)
                if len(xs) < SEGMENT_POINTS:
                    continue
                ok, rvec, tvec, _ = cv2.solvePnPRansac(
                    Xs, xs, K, None, reprojectionError=2 * cfg.ransac_px, iterationsCount=100,
                    flags=cv2.SOLVEPNP_EPNP,
                )  # fmt: skip
                e = np.full(len(xs), tau)
                if ok:
                    e = np.linalg.norm(cv2.projectPoints(Xs, rvec, tvec, K, None)[0][:, 0] - xs, axis=1)
                errors.append(float((np.minimum(e, tau) ** 2).mean()))
        return float(np.mean(errors)) if errors else math.nan

    grid = max(tracks.image_size) * np.geomspace(0.35, 3.0, 25)
    costs = np.array([cost(f) for f in grid])
    if not np.isfinite(costs).all():
        return None
    knee = int(np.flatnonzero(costs <= PATH_FOCAL_KNEE * costs.min())[0])
    if knee == 0 or costs[:knee].max() < PATH_FOCAL_CONTRAST * costs.min():
        return None
    return float(grid[knee])


def _nearest_depth(points3d: np.ndarray, p1: np.ndarray, anchor: np.ndarray, k: int = 20) -> float:
    """Median depth (z) of the k triangulated points whose image position is nearest ``anchor``."""
    ok = np.isfinite(points3d).all(1) & (points3d[:, 2] > 0)
    if ok.sum() < 5:
        return math.nan
    d = np.linalg.norm(p1[ok] - anchor, axis=1)
    near = np.argsort(d)[:k]
    return float(np.median(points3d[ok][near, 2]))


UNDONE_TURN = 3.5
"""A general motion's turn whose own image motion (px at the focal length) exceeds this many times
the points' 90th-percentile motion (plus two RANSAC thresholds) is taken for the essential
matrix's turn-for-translation trade (:func:`relative_pose`), not a pose. A translation undoes a
turn only at one depth: the scene's farther points still show the turn. Measured on the footage
renders' general motions: a phone walked over a floor (portrait30) traded in 15 frames, their
turns 4.2-9.4 times the 90th percentile, its true motions at most 1.8 times; an orbit round its
subject (orbit30), turning for real, at most 2.7 times (0.6-1.7 on four other moving cameras).
Against the median motion the orbit's turns were 98 of its 110 general frames over 3 times."""


def relative_pose(p1: np.ndarray, p2: np.ndarray, K: np.ndarray, cfg: CameraConfig, rng: np.random.Generator,
                  depth: float, anchors: tuple[np.ndarray, np.ndarray] | None = None,
                  ) -> tuple[str, np.ndarray, np.ndarray, float]:  # fmt: skip
    """Pose of a frame relative to its keyframe from point pairs.

    Args:
        p1, p2: (N, 2) pixels in the keyframe and the frame.
        depth: the person's depth at the keyframe, metres (a zoom's dolly is at this depth; NaN:
            unknown).
        anchors: the people seen at the keyframe, ((P, 2) feet px, (P,) depths m): a translation's
            scale is the median of what each tells; None or none of them: a unit baseline.

    Returns:
        (model, R (3, 3), t (3,) metres, zoom): x_frame = R x_key + t.
    """
    if len(p1) < 8:
        return "lost", np.eye(3), np.zeros(3), 1.0
    flow = np.linalg.norm(p2 - p1, axis=1)
    if np.median(flow) < cfg.static_px:
        return "static", np.eye(3), np.zeros(3), 1.0
    R_rot, zoom, inl_rot = fit_rotation(p1, p2, K, cfg.ransac_px, rng)
    t_rot = np.zeros(3)
    if zoom != 1.0 and np.isfinite(depth):
        t_rot = np.array([0.0, 0.0, -depth * (1.0 - 1.0 / zoom)])  # dolly with the same effect
    ess = fit_essential(p1, p2, K, cfg.ransac_px)
    if ess is None or inl_rot.sum() >= cfg.rotation_preference * ess[2].sum():
        return "rotation", R_rot, t_rot, zoom
    # A rotation that fits the typical point within the threshold leaves no translation to measure
    # (a tripod's pan whose tracks are noisy: the essential matrix's five degrees of freedom
    # absorbed the noise of a quarter of the points, and the camera slid a metre).
    if np.median(_rotation_residuals(p1, p2, K, R_rot, zoom)) < cfg.ransac_px:
        return "rotation", R_rot, t_rot, zoom
    # The pose of a general motion from the best of several estimators (the choice of model stays
    # MAGSAC's: a hand's shake over a floor is a rotation, and more general frames made its path
    # noisier - footage render dutch60, the walker's feet 5.3 cm off the floor instead of 3.1).
    R, t_dir, inl = fit_essential(p1, p2, K, cfg.ransac_px, every=True, found=ess)
    # A turn that would move the picture far more than it moved, undone by a translation: over a
    # floor (a plane) and a short baseline, the essential matrix trades one for the other (footage
    # render portrait30, a phone walked 1 cm a frame towards people 8 m off: the picture moved
    # 4 px, the pose said a 3.7 deg turn and 0.5 m up). The rotation model then stands.
    turn = np.arccos(np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)) * K[0, 0]
    if turn > UNDONE_TURN * np.percentile(flow, 90) + 2.0 * cfg.ransac_px:
        return "rotation", R_rot, t_rot, zoom
    scale = math.nan
    if anchors is not None and np.isfinite(anchors[1]).any():
        X = cv2.triangulatePoints(*_projections(K, R, t_dir), p1[inl].T, p2[inl].T)
        scale = anchor_scale((X[:3] / X[3]).T, p1[inl], anchors)
    return "general", R, t_dir * (scale if np.isfinite(scale) else 1.0), 1.0


def _projections(K: np.ndarray, R: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The keyframe's and the frame's 3x4 projection matrices (``x_frame = R x_key + t``)."""
    return K @ np.hstack([np.eye(3), np.zeros((3, 1))]), K @ np.hstack([R, np.reshape(t, (3, 1))])


def anchor_scale(points3d: np.ndarray, p1: np.ndarray, anchors: tuple[np.ndarray, np.ndarray]) -> float:
    """Metres per unit of a reconstruction (keyframe axes) from the people seen at the keyframe.

    Args:
        points3d: (N, 3) triangulated points; p1: (N, 2) their keyframe pixels.
        anchors: ((P, 2) feet px, (P,) depths m): each person's depth over the depth of the points
            nearest their feet tells a scale; the median counts.

    Returns:
        The scale, NaN where no person tells one.
    """
    ratios = []
    for at, d in zip(*anchors, strict=True):
        near = _nearest_depth(points3d, p1, at) if np.isfinite(d) else math.nan
        if np.isfinite(near) and near > 0:
            ratios.append(d / near)
    return float(np.median(ratios)) if ratios else math.nan


SEGMENT_POINTS = 12
"""A keyframe's general motion places the frames in between by PnP on the points triangulated
from its longest baseline when at least this many of them are seen (:func:`solve_camera`)."""


def _segment_points(p1, p2, K, R, t, threshold) -> tuple[np.ndarray, np.ndarray]:
    """(M, 3) points triangulated from a general pair (keyframe axes) and the (N,) mask of p1 they
    come from: in front of both cameras, reprojected within twice ``threshold`` in both."""
    X = cv2.triangulatePoints(*_projections(K, R, t), p1.T, p2.T)
    with np.errstate(divide="ignore", invalid="ignore"):
        X = (X[:3] / X[3]).T
        Y = X @ R.T + t
        e1 = np.linalg.norm(X[:, :2] / X[:, 2:] * np.diag(K)[:2] + K[:2, 2] - p1, axis=1)
        e2 = np.linalg.norm(Y[:, :2] / Y[:, 2:] * np.diag(K)[:2] + K[:2, 2] - p2, axis=1)
        ok = (
            np.isfinite(X).all(1)
            & (X[:, 2] > 0)
            & (Y[:, 2] > 0)
            & (e1 < 2 * threshold)
            & (e2 < 2 * threshold)
        )
    return X[ok], ok


def _seen_points(points: dict, p1: np.ndarray, p2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, 3) points of ``points`` ({keyframe pixel: 3D}) seen in a frame and (M, 2) where: ``p1``
    the pairs' keyframe pixels, ``p2`` the frame's."""
    pick = [i for i, a in enumerate(map(tuple, p1)) if a in points]
    return np.array([points[tuple(p1[i])] for i in pick]).reshape(-1, 3), p2[pick]


def _pnp(points: dict, p1: np.ndarray, p2: np.ndarray, K: np.ndarray, threshold: float):
    """(R, t) of a frame from its keyframe's triangulated points ({keyframe pixel: 3D}) seen in
    it (``p1`` keyframe pixels, ``p2`` the frame's), or None where too few are seen or agree."""
    X, x = _seen_points(points, p1, p2)
    if len(x) < SEGMENT_POINTS:
        return None
    ok, rvec, tvec, inl = cv2.solvePnPRansac(
        X, x, K, None, reprojectionError=2 * threshold, iterationsCount=200, flags=cv2.SOLVEPNP_EPNP
    )
    if not ok or inl is None or len(inl) < max(SEGMENT_POINTS, 0.5 * len(x)):
        return None
    rvec, tvec = cv2.solvePnPRefineLM(X[inl[:, 0]], x[inl[:, 0]], K, None, rvec, tvec)
    return cv2.Rodrigues(rvec)[0], tvec[:, 0]


ON_PATH = 1.0
"""A frame between a general segment's keyframe and its last frame may lie at most this many times
the segment's baseline from where moving along it at a steady pace would put it (:func:`_between`)."""


def _between(points, p1, p2, K, cfg, rng, frac: float, R_end: np.ndarray, t_end: np.ndarray):
    """(R, t) of a frame a fraction ``frac`` of the way from a general segment's keyframe to its
    last frame (pose ``R_end``, ``t_end``): by PnP on the segment's triangulated ``points``
    (:func:`_pnp`) where that puts its centre within :data:`ON_PATH` baselines of the steady pace's
    place; else its turn from its own pairs and its centre at that place.

    Where most points lie far off for the baseline, PnP's translation is loose: on a parkour clip
    filmed running (DAVIS ``parkour``) it put frames 0.5-0.9 m from a keyframe whose segment moved
    0.17 m in all, and two of them 255 m off, where the rotation is still well told."""
    end = -R_end.T @ t_end
    pace = frac * end
    pose = None if points is None else _pnp(points, p1, p2, K, cfg.ransac_px)
    if pose is not None and np.linalg.norm(-pose[0].T @ pose[1] - pace) <= ON_PATH * np.linalg.norm(end):
        return pose
    R = relative_pose(p1, p2, K, cfg, rng, math.nan)[1] if len(p1) >= 8 else _slerp(R_end, frac)
    return R, -R @ pace


def _slerp(R: np.ndarray, frac: float) -> np.ndarray:
    """The rotation ``frac`` of the way from the identity to ``R``."""
    rvec = cv2.Rodrigues(np.asarray(R, dtype=np.float64))[0]
    return cv2.Rodrigues(rvec * frac)[0]


def _feet(kp: np.ndarray) -> np.ndarray:
    """(T, 2) px: the middle of the seen ankles of (T, 17, 3) keypoints, NaN where none is seen."""
    seen = kp[:, 15:17, 2] > 0
    out = np.full((len(kp), 2), np.nan)
    some = seen.any(1)
    xy = np.where(seen[some, :, None], kp[some, 15:17, :2], 0.0)  # an unseen ankle may be NaN
    out[some] = xy.sum(1) / seen[some].sum(1, keepdims=True)
    return out


def solve_camera(
    tracks: FeatureTracks,
    keypoints: Keypoints2D | None,
    focal: float,
    *,
    config: CameraConfig | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    people: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """Per-frame world_to_camera (T, 4, 4) in the anylift world, models (T,), person depth (T,)|None.

    ``people``: every tracked person's (T, 17, 3) keypoints (``keypoints``' person among them), or
    None: the scale anchors (:func:`relative_pose`) are theirs, else the person's alone."""
    cfg = config or CameraConfig()
    K = intrinsics(tracks.image_size, focal)
    T = len(tracks.pairs)
    rng = np.random.default_rng(seed)
    depth = None
    if keypoints is not None:
        depth = person_depth(keypoints, focal)
    anchored = people if people else ([] if keypoints is None else [keypoints.keypoints])
    anchored = [kp for kp in (np.asarray(kp, dtype=np.float64)[:T] for kp in anchored) if len(kp) == T]
    depths = np.array([_limb_depth(kp, focal) for kp in anchored]).reshape(-1, T)
    feet = np.array([_feet(kp) for kp in anchored]).reshape(-1, T, 2)
    poses = np.tile(np.eye(4), (T, 1, 1))  # camera_t from camera_0
    models = ["first"] + [""] * (T - 1)

    def anchors(k: int):
        seen = np.isfinite(feet[:, k]).all(-1) & np.isfinite(depths[:, k])
        return feet[seen, k], depths[seen, k]

    def depth_at(k: int) -> float:
        return float(depth[k]) if depth is not None and k < len(depth) else math.nan

    # Each keyframe's segment (the frames tracked from it) takes one model, from its last frame:
    # the longest baseline. Deciding frame by frame, a camera walking down a street alternated
    # between a rotation and a general motion, its centre jumping 0.2-1 m from frame to frame.
    ends = tracks.last_frames
    segments = {}  # keyframe -> (model, R, t, {keyframe pixel: 3D point} or None)
    for k, n in ends.items():
        q1, q2 = (np.asarray(p, dtype=np.float64) for p in tracks.pairs[n])
        model, R, tvec, _ = relative_pose(q1, q2, K, cfg, rng, depth_at(k))
        points, scale = None, math.nan
        if model == "general":
            X, ok = _segment_points(q1, q2, K, R, tvec, cfg.ransac_px)
            scale = anchor_scale(X, q1[ok], anchors(k))
            points = (X, q1[ok])
        segments[k] = [model, R, tvec, points, scale]
    # A general segment no person anchors moves at the anchored ones' median speed.
    speeds = [s[4] / (ends[k] - k) for k, s in segments.items() if np.isfinite(s[4])]
    for k, seg in segments.items():
        if seg[0] == "general":
            if not np.isfinite(seg[4]):
                seg[4] = float(np.median(speeds)) * (ends[k] - k) if speeds else 1.0
            seg[2] = seg[2] * seg[4]
            X, q1 = seg[3]
            seg[3] = {tuple(a): x * seg[4] for a, x in zip(q1, X)} if len(X) >= SEGMENT_POINTS else None
    last_rel = np.eye(4)
    for t in range(1, T):
        check_cancel(cancel)
        k = int(tracks.keyframe[t])
        p1, p2 = (np.asarray(p, dtype=np.float64) for p in tracks.pairs[t])
        seg_model, seg_R, seg_t, points, _ = segments[k]
        model = None
        if t == ends[k]:
            model, R, tvec = seg_model, seg_R, seg_t
        elif seg_model == "general":
            frac = (t - k) / (ends[k] - k)
            model, (R, tvec) = "general", _between(points, p1, p2, K, cfg, rng, frac, seg_R, seg_t)
        elif seg_model == "rotation" and len(p1) >= 8:
            R, zoom, _ = fit_rotation(p1, p2, K, cfg.ransac_px, rng)
            tvec = np.zeros(3)
            if zoom != 1.0 and np.isfinite(depth_at(k)):
                tvec = np.array([0.0, 0.0, -depth_at(k) * (1.0 - 1.0 / zoom)])  # as relative_pose's dolly
            model = "rotation"
        if model is None:  # a static or lost segment, or a frame PnP could not place
            model, R, tvec, _ = relative_pose(p1, p2, K, cfg, rng, depth_at(k), anchors(k))
        if model == "lost":
            rel = last_rel if int(tracks.keyframe[t - 1]) == k else np.eye(4)
        else:
            rel = np.eye(4)
            rel[:3, :3], rel[:3, 3] = R, tvec
        poses[t] = rel @ poses[k]
        last_rel = rel
        models[t] = model
        report(progress, STAGE_SOLVE, t, T - 1)
    base = np.eye(4)
    base[:3, :3] = UPRIGHT_W2C
    return poses @ base, models, depth


def estimate_camera(
    video: str | os.PathLike,
    keypoints: Keypoints2D | None = None,
    *,
    focal: float | None = None,
    fps: float | None = None,
    config: CameraConfig | None = None,
    seed: int = 0,
    people=None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> CameraEstimate:
    """Estimate the camera trajectory of a video (see the module docs).

    Args:
        video: movie file or image folder.
        keypoints: the person's 2D keypoints (mask and metric scale); None: no mask, unit scale.
        people: every tracked person (:class:`anylift.io.people.People`, ``anylift detect``'s
            tracks), or None. They are masked out of the background with the person (a crowd
            moves), and where several stand upright in different places their axes give the
            verticals (:func:`anylift.video.vanishing.people_vertical`), which tell the scene's
            vertical lines from a floor's seen from above, for the up direction and the focal.
        focal: fx = fy in pixels when known; else estimated.
        fps: overrides the video's frame rate.
        seed: RANSAC sampling seed.
        progress, cancel: :mod:`anylift.progress` (stages "track features", "solve camera").

    Returns:
        :class:`CameraEstimate`; ``camera`` has T = the video's frame count; ``up`` from the
            image's vanishing lines, or None (gravity is then estimated when lifting).

    Raises:
        InputError: unreadable video, bad focal, or keypoints whose frame count differs.
    """
    cfg = config or CameraConfig()
    if focal is not None and not (np.isfinite(focal) and focal > 0):
        raise InputError(f"focal = {focal!r}", field="focal", expected="a focal length > 0 in pixels")
    others = None if people is None else [t.keypoints for t in people.tracks]
    shot = None if people is None else person_shot(people.cuts, keypoints, people.num_frames)
    if shot is not None:  # an edited video: the person's shot only, as a video of its own
        a, b = shot
        keypoints = None if keypoints is None else replace(keypoints, keypoints=keypoints.keypoints[a:b])
        others = [k[a:b] for k in others]
    tracks = track_features(
        video, keypoints, config=cfg, fps=fps, people=others, progress=progress, cancel=cancel, frames=shot
    )
    T = len(tracks.pairs)
    if keypoints is not None and keypoints.num_frames != T:
        raise InputError(
            f"has {keypoints.num_frames} frames but the video {os.fspath(video)} has {T}",
            path=keypoints.path,
            field="keypoints",
            expected=f"{T} frames (keypoints detected from this video)",
        )
    source = "given"
    scene = functools.cache(lambda: _scene_frames(video, fps, T, shot, seed))  # found once, when needed
    lit = functools.cache(lambda: _lit_frame(video, fps, shot))  # the frame whose lines give the up
    if focal is None:
        focal, source = estimate_focal(tracks, cfg, seed=seed), "camera motion"
    if focal is None:
        focal, source = _scene_focal(scene()), "scene lines"
    if focal is None:
        focal, source = focal_from_path(tracks, cfg), "camera path"
    if focal is None:
        focal, source = tracks.focal_guess, "guess"
    how = {"config": cfg, "seed": seed, "progress": progress, "cancel": cancel, "people": others}
    solve = functools.partial(solve_camera, tracks, keypoints, **how)
    w2c, models, depth = solve(float(focal))
    K = intrinsics(tracks.image_size, float(focal))
    vertical = _people_vertical(others, w2c, K, seed)
    if vertical is not None and source in ("scene lines", "guess"):
        # The scene's lines again, each family paired with the people's vertical only.
        new = _scene_focal(scene(), vertical, w2c, K)
        new, new_source = (new, "people and scene lines") if new else (tracks.focal_guess, "guess")
        if abs(new / focal - 1.0) > 0.02:
            focal, source = new, new_source
            w2c, models, depth = solve(float(focal))
            K = intrinsics(tracks.image_size, float(focal))
            vertical = _people_vertical(others, w2c, K, seed)
    # The people's verticals lie too far away; a camera path's focal length is only a lower bound.
    if source in ("guess", "people and scene lines", "camera path"):
        new = _floor_focal(scene(), lit(), others, w2c, K, cfg.min_up_support, seed)
        if new is not None and abs(new / focal - 1.0) > 0.02:
            focal, source = new, "floor lines"
            w2c, models, depth = solve(float(focal))
            K = intrinsics(tracks.image_size, float(focal))
            vertical = _people_vertical(others, w2c, K, seed)
    feet = _people_feet(others or ([keypoints.keypoints] if keypoints is not None else None), w2c, K)
    up, support, up_source = _image_up(lit(), K, w2c, cfg.min_up_support, seed, vertical, feet)
    if shot is not None:  # the frames of the other shots hold the shot's first and last pose
        before, after = shot[0], people.num_frames - shot[1]
        w2c = np.concatenate([np.repeat(w2c[:1], before, 0), w2c, np.repeat(w2c[-1:], after, 0)])
        models = ["other shot"] * before + list(models) + ["other shot"] * after
        if depth is not None:
            depth = np.concatenate([np.full(before, np.nan), depth, np.full(after, np.nan)])
    # Without vanishing lines frame 0 was only assumed level: the lift then estimates gravity.
    cam = Camera(K=K, world_to_camera=w2c, up=up, image_size=tracks.image_size)
    return CameraEstimate(cam, float(focal), source != "given", models, depth, support, source, up_source,
                          shot)  # fmt: skip


def person_shot(cuts, keypoints: Keypoints2D | None, num_frames: int) -> tuple[int, int] | None:
    """(start, stop) frames of the shot where ``keypoints``' person is seen most (the first shot
    without keypoints), or None when the video has no ``cuts`` (:mod:`anylift.video.cuts`)."""
    if not cuts:
        return None
    bounds = [0, *sorted(int(c) for c in cuts), int(num_frames)]
    seen = np.zeros(num_frames, bool) if keypoints is None else (keypoints.scores > 0).any(-1)
    return max(itertools.pairwise(bounds), key=lambda s: int(seen[s[0] : s[1]].sum()))


SCENE_FOCAL_FRAMES = 8
"""Frames (spread over the video) whose vanishing points give a static camera's focal length."""


def _scene_frames(video, fps, num_frames: int, shot=None, seed: int = 0):
    """(frame indices, BGR frames, their vanishing points
    (:func:`anylift.video.vanishing.scene_vanishing_points`)) of :data:`SCENE_FOCAL_FRAMES` frames
    spread over the video."""
    from anylift.video.vanishing import scene_vanishing_points

    wanted = set(np.linspace(0, max(num_frames - 1, 0), SCENE_FOCAL_FRAMES).round().astype(int).tolist())
    picked = [(t, f) for t, f in enumerate(open_video(video, fps=fps, frames=shot)) if t in wanted]
    frames = [f for _, f in picked]
    return [t for t, _ in picked], frames, scene_vanishing_points(frames, seed)


def _scene_focal(scene, vertical=None, w2c=None, K=None, floor=False) -> float | None:
    """A static camera's focal length from the scene's vertical and horizontal lines in the
    ``scene``'s frames (:func:`_scene_frames`; :func:`anylift.video.vanishing.focal_from_images`),
    or None when they do not tell it. ``vertical``: the people's, in frame 0
    (:func:`_people_vertical`); ``floor``: two horizontal families taken as perpendicular; with
    either, the solved ``w2c`` and ``K`` carry each frame's vanishing points into frame 0."""
    from anylift.video.vanishing import focal_from_vanishing_points

    times, _, found = scene
    to_first = None if w2c is None else [_to_first(w2c, K, t) for t in times]
    return focal_from_vanishing_points(found, vertical=vertical, to_first=to_first, floor=floor)


def _floor_focal(
    scene, lit, others, w2c: np.ndarray, K: np.ndarray, min_support: int, seed: int
) -> float | None:
    """The focal length from two floor families taken as perpendicular (:func:`_scene_focal`
    ``floor``), when the people's axes accept it in place of the current one, ``K``'s
    (:func:`anylift.video.vanishing.people_accept`, the up read as :func:`_image_up` reads it
    without the people's vertical: in ``lit``, the first frame lit as the rest, :func:`_lit_frame`),
    else None. A static camera brightening over its first 0.6 s (footage renders crowd25, steep25,
    judge30) read frame 0, too dark for lines: its focal length fell back to the guess, 640 px
    for 800, 1100 and 420, and steep25's pitch read 64.4 deg for 50.9."""
    from anylift.video import vanishing as va

    found = _people_axes(others, w2c, K)
    t, frame = lit
    if found is None or not scene[1] or frame is None:
        return None
    focal = _scene_focal(scene, w2c=w2c, K=K, floor=True)
    if focal is None:
        return None
    turn = w2c[t, :3, :3] @ w2c[0, :3, :3].T  # frame 0's camera axes -> frame t's
    vps = va.image_vanishing_points(frame, seed=seed)
    size = (frame.shape[1], frame.shape[0])

    def vertical_at(f: float):  # in frame 0's image, as the people's axes are
        k = intrinsics(size, float(f))
        feet = _people_feet(others, w2c, k)
        feet = None if feet is None else feet @ turn.T
        window = {"max_angle": va.STEEP_UP_DEG, "max_roll": va.LEVEL_UP_DEG}
        up, support = va.up_from_image(frame, k, feet=feet, vps=vps, **window)
        return None if up is None or support < min_support else k @ turn.T @ up

    return focal if va.people_accept(focal, float(K[0, 0]), vertical_at, *found) else None


def _to_first(w2c: np.ndarray, K: np.ndarray, t: int) -> np.ndarray:
    """(3, 3) homography taking frame ``t``'s points at infinity (vanishing points) into frame 0."""
    t = min(t, len(w2c) - 1)
    return K @ w2c[0, :3, :3] @ w2c[t, :3, :3].T @ np.linalg.inv(K)


def _people_axes(people, w2c: np.ndarray, K: np.ndarray):
    """(axes (N, 4) px, ids (N,)): every person's ankles-to-shoulders axis in every frame, carried
    into frame 0 (at most :data:`MAX_AXES`, evenly spread), or None with fewer than 8."""
    if people is None:
        return None
    axes, ids = [], []
    for i, kp in enumerate(people):
        kp = np.asarray(kp, dtype=np.float64)[: len(w2c)]
        ok = (kp[:, [5, 6, 15, 16], 2] > 0.5).all(1)
        for t in np.flatnonzero(ok):
            ends = np.c_[kp[t, [15, 16], :2].mean(0), kp[t, [5, 6], :2].mean(0)].T  # feet, shoulders
            if np.linalg.norm(ends[1] - ends[0]) < 10.0:
                continue
            h = _to_first(w2c, K, t) @ np.c_[ends, np.ones(2)].T
            axes.append((h[:2] / h[2]).T.ravel())
            ids.append(i)
    if len(axes) < 8:
        return None
    keep = np.linspace(0, len(axes) - 1, min(len(axes), MAX_AXES)).round().astype(int)  # memory
    return np.array(axes)[keep], np.array(ids)[keep]


def _people_vertical(people, w2c: np.ndarray, K: np.ndarray, seed: int):
    """The people's vertical vanishing point in frame 0 (:func:`anylift.video.vanishing.people_vertical`
    of :func:`_people_axes`) with its ``up`` (:func:`anylift.video.vanishing.people_up`), or None."""
    from anylift.video.vanishing import people_up, people_vertical

    found = _people_axes(people, w2c, K)
    if found is None:
        return None
    axes, ids = found
    w, h = 2 * K[0, 2], 2 * K[1, 2]
    found = people_vertical(axes, ids, K[:2, 2], float(max(w, h)), seed=seed)
    if found is None:
        return None
    return found._replace(up=people_up(found.point, K, axes))


MAX_AXES = 4000
"""People's axes (person-frames) the verticals are found from, evenly spread over them (a crowd
over minutes has hundreds of thousands; the RANSAC scores every axis against 100 points at once)."""


def _people_feet(people, w2c: np.ndarray, K: np.ndarray) -> np.ndarray | None:
    """(N, 2, 3) unit rays in frame 0's camera axes to every person's ankles in every frame (each
    frame's turned into frame 0's axes; NaN where an ankle is not seen), at most :data:`MAX_AXES`
    person-frames evenly spread; None with fewer than 3 person-frames showing an ankle (too few
    to tell the floor from, :func:`anylift.lifting.gravity.feet_elevation`)."""
    if not people:
        return None
    turn = w2c[0, :3, :3] @ np.transpose(w2c[:, :3, :3], (0, 2, 1))  # frame t's axes -> frame 0's
    rays = []
    for kp in people:
        ankles = np.asarray(kp, dtype=np.float64)[: len(w2c), [15, 16]]
        seen = ankles[..., 2] > 0.5
        t = np.flatnonzero(seen.any(1))
        r = np.linalg.solve(K, np.c_[ankles[t, :, :2].reshape(-1, 2), np.ones(2 * len(t))].T).T
        r = np.einsum("tij,tkj->tki", turn[t], r.reshape(-1, 2, 3))
        r /= np.linalg.norm(r, axis=-1, keepdims=True)
        r[~seen[t]] = np.nan
        rays.append(r)
    rays = np.concatenate(rays) if rays else np.zeros((0, 2, 3))
    if len(rays) < 3:
        return None
    return rays[np.linspace(0, len(rays) - 1, min(len(rays), MAX_AXES)).round().astype(int)]


LIT_SHARE = 0.8
"""The scene's lines are read in the first frame whose mean grey level is at least this share of
the median over the shot's first second (:func:`_lit_frame`)."""


def _lit_frame(video, fps, shot=None) -> tuple[int, np.ndarray | None]:
    """(index, BGR frame) of the shot's first frame lit as its first second mostly is (mean grey at
    least :data:`LIT_SHARE` of their median), else its first; (0, None) without frames. A camera
    adapting to a dark hall starts dark (PoseTrack 024158: a twentieth of its later levels, then a
    sixth), and a dark frame shows few lines (renders brightened that way lost their up from them)."""
    reader = open_video(video, fps=fps, frames=shot)
    levels = np.array([float(f.mean()) for f in itertools.islice(reader, max(1, round(reader.fps)))])
    if not len(levels):
        return 0, None
    t = int(np.argmax(levels >= LIT_SHARE * np.median(levels)))
    return t, next(itertools.islice(open_video(video, fps=fps, frames=shot), t, None))


def _image_up(lit, K: np.ndarray, w2c: np.ndarray, min_support: int, seed: int, vertical=None, feet=None):
    """(world up (3,) or None, support, source) from the vanishing lines of ``lit``, the first
    frame lit as the rest (:func:`_lit_frame`; ``w2c`` (T, 4, 4) the shot's cameras); with the people's
    ``vertical`` (:func:`_people_vertical`) the lines' candidate nearest it, else the people's own
    up. ``feet`` (:func:`_people_feet`): no candidate that puts them above the horizon, and without
    ``vertical`` one looked for up to :data:`anylift.video.vanishing.STEEP_UP_DEG` from the
    image's up. ``vertical`` and ``feet`` are frame 0's (turned into the frame read)."""
    from anylift.video.vanishing import LEVEL_UP_DEG, STEEP_UP_DEG, up_from_image

    t, frame = lit
    if frame is None:
        return None, 0, ""
    rotation = w2c[t, :3, :3]
    turn = rotation @ w2c[0, :3, :3].T  # frame 0's camera axes -> frame t's
    feet = None if feet is None else feet @ turn.T
    source = "scene lines"
    if vertical is None:
        window = {} if feet is None else {"max_angle": STEEP_UP_DEG, "max_roll": LEVEL_UP_DEG}
        up_cam, support = up_from_image(frame, K, seed=seed, feet=feet, **window)
    else:
        people_up = turn @ vertical.up
        up_cam, support = up_from_image(frame, K, people_up, max_angle=PEOPLE_UP_DEG, seed=seed, feet=feet)
        if up_cam is None or support < min_support:
            up_cam, support, source = people_up, vertical.support, "people"
    if up_cam is None or support < min_support:
        return None, 0, ""
    return rotation.T @ up_cam, support, source


PEOPLE_UP_DEG = 15.0
"""The scene's up (its lines) is taken within this angle of the people's, else the people's own."""
