"""Several people in one keypoints file (``anylift.keypoints/1``, formats.md "Several people").

A multi-person file is a single-person file (``keypoints`` = the default person, so every
single-person reader keeps working) plus ``person`` (that person's id), ``people`` (every
track: ``id``, ``keypoints`` (T, K, 3), ``boxes`` (T, 4) or null per frame), optional
``frame_times`` (T,) seconds and optional ``cuts`` (frames where an edited video starts a new
shot). :func:`read_people` reads both kinds (a single-person file is one track, id 0);
:func:`select_person` gives the :class:`~anylift.io.keypoints.Keypoints2D` of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from anylift.errors import InputError
from anylift.io.atomic import atomic_path
from anylift.io.fields import json_array, load_json
from anylift.io.keypoints import Keypoints2D, check_keypoint_values, keypoints_to_json_text, read_keypoints


@dataclass(eq=False)
class PersonTrack:
    """One tracked person: ``id`` (int), ``keypoints`` (T, 17, 3) COCO-17 ``[x px, y px, score]``
    (score 0, NaN x/y where unseen), ``boxes`` (T, 4) ``x0, y0, x1, y1`` pixels (NaN where unseen)."""

    id: int
    keypoints: np.ndarray
    boxes: np.ndarray

    @property
    def seen(self) -> np.ndarray:
        """(T,) bool: frames where any joint was detected."""
        return (self.keypoints[..., 2] > 0).any(-1)

    @property
    def first_last(self) -> tuple[int, int]:
        idx = np.flatnonzero(self.seen)
        return (int(idx[0]), int(idx[-1])) if len(idx) else (-1, -1)

    @property
    def mean_height(self) -> float:
        """Mean box height (px) over the frames seen."""
        h = self.boxes[:, 3] - self.boxes[:, 1]
        ok = self.seen & np.isfinite(h)
        return float(h[ok].mean()) if ok.any() else 0.0

    def centrality(self, image_size: tuple[int, int] | None) -> float:
        """How near the frame's vertical centre line the person is, over the frames seen: the mean
        of 1 - u^2 / 2, u the box centre's horizontal offset from the centre in half-widths (1 in
        the middle, 0.5 at either edge; 1 without an image size). Whoever films a performer keeps
        them in the middle; onlookers, coaches and judges stand at the sides. Only the horizontal
        offset counts: how high a person stands in the frame says how far away they are, which
        their height already tells."""
        if image_size is None:
            return 1.0
        cx = (self.boxes[:, 0] + self.boxes[:, 2]) / 2
        ok = self.seen & np.isfinite(cx)
        if not ok.any():
            return 1.0
        half = image_size[0] / 2
        u = np.clip((cx[ok] - half) / half, -1.0, 1.0)
        return float(np.mean(1.0 - 0.5 * u**2))

    def prominence(self, image_size: tuple[int, int] | None = None) -> float:
        """Frames seen x the square root of the mean height x :meth:`centrality`: the longest and
        largest person in the middle of the picture wins, and how long counts more than how large.
        A detector's ghost (the pose model drawing a body several times too large over a small,
        crawling or folded person, its legs on the floor beyond the frame) is large but brief;
        scored by frames x height it was the default in 2 of the camera-family benchmark's 120
        training-motion cases (a crawl and a backflip, the person tracked in every frame by
        another track), by frames x sqrt(height) in neither. An onlooker at the frame's edge, as
        long seen as the dancer in the middle and larger, was the default of a real clip before
        the centrality counted (README, "Who is lifted")."""
        return float(self.seen.sum()) * float(np.sqrt(self.mean_height)) * self.centrality(image_size)


@dataclass(eq=False)
class People:
    """Every tracked person of a clip (same T), with the default person's id."""

    tracks: list[PersonTrack]
    fps: float
    image_size: tuple[int, int] | None
    default: int | None = None
    frame_times: np.ndarray | None = None
    path: str | None = None
    source_skeleton: str = field(default="coco17")
    detector: str | None = None
    cuts: tuple[int, ...] = ()  # frames where the video jumps to another shot (anylift.video.cuts)

    def __post_init__(self) -> None:
        if self.default is None and self.tracks:
            self.default = self.by_prominence()[0].id

    def by_prominence(self) -> list[PersonTrack]:
        """The tracks, most prominent first (:meth:`PersonTrack.prominence`)."""
        return sorted(self.tracks, key=lambda t: -t.prominence(self.image_size))

    def ids(self) -> list[int]:
        return [t.id for t in self.tracks]

    def seen_for(self, seconds: float) -> list[int]:
        """The ids of the tracks seen in at least ``seconds`` worth of frames (``--all``'s people)."""
        return [t.id for t in self.tracks if t.seen.sum() >= seconds * self.fps]

    @property
    def num_frames(self) -> int:
        return len(self.tracks[0].keypoints) if self.tracks else 0

    def track(self, person: int) -> PersonTrack:
        for t in self.tracks:
            if t.id == person:
                return t
        raise InputError(f"has no person {person}", path=self.path, field="people",
                         expected="one of the ids " + ", ".join(map(str, self.ids())),
                         fix="Pick an id from the table 'anylift detect' printed")  # fmt: skip

    def keypoints2d(self, person: int | None = None) -> Keypoints2D:
        """The :class:`Keypoints2D` of ``person`` (default: the default person)."""
        pid = self.default if person is None else int(person)
        return Keypoints2D(keypoints=self.track(pid).keypoints, fps=self.fps, image_size=self.image_size,
                           source_skeleton=self.source_skeleton, path=self.path, person=pid,
                           detector=self.detector)  # fmt: skip

    def table(self) -> str:
        """id, first-last frame, frames seen, mean height (px): one line per track."""
        lines = [f"{'id':>4}  {'frames':>11}  {'seen':>5}  {'height px':>9}"]
        for t in self.by_prominence():
            a, b = t.first_last
            mark = "  (default)" if t.id == self.default else ""
            lines.append(f"{t.id:>4}  {f'{a}-{b}':>11}  {int(t.seen.sum()):>5}  {t.mean_height:>9.0f}{mark}")
        return "\n".join(lines)


def read_people(path: str | os.PathLike) -> People:
    """Every person of a keypoints file; a single-person file (any format) is one track, id 0."""
    path = Path(path)
    kp = read_keypoints(path)
    data = load_json(path) if path.suffix.lower() == ".json" and path.is_file() else None
    if not isinstance(data, dict) or "people" not in data or "format" not in data:
        track = PersonTrack(0, kp.keypoints, _boxes_of(kp.keypoints))
        return People([track], kp.fps, kp.image_size, 0, None, str(path), kp.source_skeleton, kp.detector)
    raw = data["people"]
    if not isinstance(raw, list) or not raw:
        raise InputError(f"is {type(raw).__name__}", path=path, field="people", expected="a non-empty list")
    tracks, seen_ids = [], set()
    t_len = kp.num_frames
    for i, p in enumerate(raw):
        where = f"people[{i}]"
        if not isinstance(p, dict) or not isinstance(p.get("id"), int) or isinstance(p.get("id"), bool):
            raise InputError(
                "has no integer 'id'", path=path, field=where, expected='{"id": 3, "keypoints": ...}'
            )
        if p["id"] in seen_ids:
            raise InputError(
                f"id {p['id']} is used twice", path=path, field=f"{where}.id", expected="unique ids"
            )
        seen_ids.add(p["id"])
        arr = json_array(p.get("keypoints"), path=path, field=f"{where}.keypoints", shape=(t_len, 17, 3),
                         nullable=(0, 1))  # fmt: skip
        arr = check_keypoint_values(arr, path=path, field=f"{where}.keypoints")
        boxes = p.get("boxes")
        if boxes is None:
            b = _boxes_of(arr)
        else:
            if not isinstance(boxes, list) or len(boxes) != t_len:
                raise InputError("is not one box (or null) per frame", path=path, field=f"{where}.boxes",
                                 expected=f"{t_len} entries [x0, y0, x1, y1] or null")  # fmt: skip
            b = np.array([[np.nan] * 4 if v is None else v for v in boxes], dtype=np.float64)
            if b.shape != (t_len, 4):
                raise InputError(
                    f"has shape {b.shape}", path=path, field=f"{where}.boxes", expected=f"({t_len}, 4)"
                )
        tracks.append(PersonTrack(p["id"], arr, b))
    default = data.get("person")
    if default is not None and default not in seen_ids:
        raise InputError(f"is {default!r}, not an id in 'people'", path=path, field="person",
                         expected="one of " + ", ".join(map(str, sorted(seen_ids))))  # fmt: skip
    times = data.get("frame_times")
    if times is not None:
        from anylift.lifting.framerate import frame_times

        times = frame_times(t_len, kp.fps, json_array(times, path=path, field="frame_times", shape=(t_len,)),
                            path=path)  # fmt: skip
    cuts = data.get("cuts") or []
    if not isinstance(cuts, list) or not all(type(c) is int and 0 < c < t_len for c in cuts):
        raise InputError(f"is {cuts!r}", path=path, field="cuts",
                         expected=f"frame indices 1-{t_len - 1}, where new shots start")  # fmt: skip
    return People(tracks, kp.fps, kp.image_size, default, times, str(path), detector=kp.detector,
                  cuts=tuple(sorted(set(cuts))))  # fmt: skip


def _boxes_of(keypoints: np.ndarray) -> np.ndarray:
    """(T, 4) box of the detected joints per frame (NaN where none)."""
    xy = np.where(keypoints[..., 2:3] > 0, keypoints[..., :2], np.nan)
    out = np.full((len(xy), 4), np.nan)
    ok = np.isfinite(xy).any(axis=(1, 2))
    out[ok, :2] = np.nanmin(xy[ok], axis=1)
    out[ok, 2:] = np.nanmax(xy[ok], axis=1)
    return out


def select_person(
    path: str | os.PathLike, person: int | None = None
) -> tuple[Keypoints2D, int | None, People]:
    """(keypoints of ``person`` or of the default person, the id taken or None for single-person
    files, all people)."""
    people = read_people(path)
    multi = len(people.tracks) > 1 or people.default != 0 or person is not None
    kp = people.keypoints2d(person)
    if not multi:
        kp = read_keypoints(path)  # keep objects and everything else of a single-person file
    return kp, kp.person, people


def write_people(path: str | os.PathLike, people: People) -> None:
    """Write every track, ``person`` = the default, ``keypoints`` = the default's. Atomic."""
    if not people.tracks:
        raise InputError("no person to write", path=path, field="people", expected="at least one track")
    kp = replace(people.keypoints2d(), path=None, source_skeleton="coco17")
    text = keypoints_to_json_text(kp).rstrip()
    assert text.endswith("}")
    parts = [f'  "person": {int(people.default)}']
    tracks = []
    for t in people.tracks:
        k = check_keypoint_values(t.keypoints, path=path, field=f"people[{t.id}].keypoints")
        boxes = [None if not np.isfinite(b).all() else [round(float(v), 2) for v in b] for b in t.boxes]
        rows = [[[None if np.isnan(v) else round(float(v), 3) for v in j] for j in f] for f in k]
        frames = ",\n".join("      " + json.dumps(r, separators=(",", ":")) for r in rows)
        tracks.append(f'    {{"id": {int(t.id)}, "boxes": {json.dumps(boxes, separators=(",", ":"))},\n'
                      f'     "keypoints": [\n{frames}\n     ]}}')  # fmt: skip
    parts.append('  "people": [\n' + ",\n".join(tracks) + "\n  ]")
    if people.frame_times is not None:
        parts.append(f'  "frame_times": {json.dumps([round(float(v), 6) for v in people.frame_times])}')
    if people.cuts:
        parts.append(f'  "cuts": {json.dumps([int(c) for c in people.cuts])}')
    text = text[:-1].rstrip() + ",\n" + ",\n".join(parts) + "\n}\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
