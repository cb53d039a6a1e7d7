"""Lifting one clip (what a worker runs) and the executors that run many.

:func:`lift_clip` is a plain function of picklable arguments returning a manifest record, so
any engine can run it: :func:`run_batch` runs it in sequence here (``local``) or on Dask
(``dask``: ``distributed.LocalCluster`` of worker processes, or an existing scheduler). The
process that calls :func:`run_batch` collects the records, writes the manifest and prints the
summary.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from anylift.errors import InputError
from anylift.lifting.options import LiftOptions

from .clips import Clip, read_or_none, select_shard, valid_outputs
from .manifest import ManifestWriter

EXECUTORS = ("local", "dask")


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lift_clip(
    clip: Clip,
    out: str,
    options: LiftOptions,
    shard: str | None = None,
    threads: int = 1,
    people: PeopleChoice | None = None,
) -> dict[str, Any]:
    """Lift ``clip`` into ``out`` (``.npz``, written atomically) with ``threads`` torch threads;
    return its manifest record.

    A video without keypoints is first detected (every person, ``<clip>_keypoints.json`` beside
    ``out``), and a video without a camera file gets its camera estimated (``<clip>_camera.json``;
    in an edited video one per shot lifted, ``<clip>_camera_shot<k>.json``), as ``anylift detect``
    and ``anylift camera`` do. ``people`` (:class:`PeopleChoice`) says who is lifted: the default
    person into ``out``, or with ``all_people`` every person seen long enough into
    ``<clip>_<id>.npz``; ``reuse`` takes keypoints and cameras written by an earlier run.

    Never raises for a clip's problem: a user error gives status ``failed``, anything else
    ``error``, each with a one-line ``error`` message (a person whose lift is refused fails the
    clip; the other people's results are still written).
    """
    import torch

    choice = people or PeopleChoice()
    start = time.perf_counter()
    record: dict[str, Any] = {"clip": clip.name, "shard": shard, "worker": _worker(), "outputs": []}
    torch.set_num_threads(max(1, int(threads)))
    timings: dict[str, float] = {}
    try:
        from anylift.io.cameras import read_camera
        from anylift.io.motion import write_motion
        from anylift.io.people import select_person
        from anylift.pipeline import lift_with_report

        folder = Path(out).parent
        source = clip.keypoints or _detected(clip, folder, choice, record, timings, threads)
        keypoints, person, found = select_person(source)
        given = read_camera(clip.camera) if clip.camera is not None else None
        cameras: dict[Any, Any] = {}
        messages: list[str] = []
        refused: list[str] = []
        ids = chosen_people(found, choice)
        if not ids:
            raise InputError(
                f"no person is seen for {choice.min_seconds:g} s or more", path=source, field="--all",
                fix="Give a lower --min-seconds",
            )  # fmt: skip
        for pid in ids:
            kp = keypoints if pid is None or pid == found.default else found.keypoints2d(pid)
            camera = given
            if camera is None and clip.video is not None:
                camera = _estimated(clip, found, kp, folder, choice.reuse, cameras, record, timings)
            target = Path(out) if not choice.all_people else _person_output(Path(out), pid)
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    report = lift_with_report(kp, camera, options, frame_times=found.frame_times)
            except InputError as exc:
                if not choice.all_people:
                    raise
                refused.append(f"person {pid}: {' '.join(str(exc).split())}")
                continue
            write_motion(target, report.motion)
            record["outputs"].append(str(target))
            lifted = pid if pid is not None else person
            if lifted is not None:
                record.setdefault("people", []).append(int(lifted))
            said = list(report.warnings) + [str(w.message) for w in caught]
            who = f"person {pid}: " if pid is not None else ""
            messages += [who + m for m in said if who + m not in messages]
            for k, v in report.timings.items():
                timings[k] = timings.get(k, 0.0) + v
            record["frames"] = report.motion.num_frames
        record.update(status="ok", warnings=messages, timings={k: round(v, 4) for k, v in timings.items()})
        if refused:
            record.update(status="failed", error="; ".join(refused))
    except InputError as exc:
        record.update(status="failed", error=" ".join(str(exc).split()), warnings=[])
    except Exception as exc:
        record.update(
            status="error", error=f"internal error: {type(exc).__name__}: {exc}", warnings=[],
            traceback=traceback.format_exc(),
        )  # fmt: skip
    record["seconds"] = round(time.perf_counter() - start, 3)
    return record


@dataclass(frozen=True)
class PeopleChoice:
    """Who of a clip is lifted: the default person (longest, largest, most central), or with ``all_people``
    every person seen at least ``min_seconds`` (as ``anylift lift --all``); ``reuse``: keypoints and
    cameras an earlier run wrote beside the results are taken, not detected again (``--resume``);
    ``set_aside_still``: a video's tracks of still things that look like no one are set aside
    (:mod:`anylift.video.ghosts`)."""

    all_people: bool = False
    min_seconds: float = 1.0
    reuse: bool = False
    set_aside_still: bool = False  # detecting a video: anylift detect --set-aside-still


def chosen_people(people, choice: PeopleChoice) -> list[int | None]:
    """The ids lifted from ``people`` (:class:`~anylift.io.people.People`): ``[None]`` for the
    default person, else every id seen at least ``choice.min_seconds``, the default first (its
    shot's camera is estimated with its size, as ``anylift camera`` does)."""
    if not choice.all_people:
        return [None]
    return sorted(people.seen_for(choice.min_seconds), key=lambda pid: pid != people.default)


def _person_output(out: Path, pid: int | None) -> Path:
    return out if pid is None else out.with_name(f"{out.stem}_{pid}{out.suffix}")


def keypoints_beside(clip: Clip, folder: Path) -> Path:
    """Where a video clip's detected keypoints are written: ``<folder>/<clip>_keypoints.json``."""
    return folder / f"{clip.name}_keypoints.json"


def expected_outputs(clip: Clip, out: Path, choice: PeopleChoice) -> list[Path] | None:
    """The results a finished run of ``clip`` leaves (``out`` the default person's), or None when
    that is not known yet (every person of a video not detected yet)."""
    if not choice.all_people:
        return [out]
    from anylift.io.people import read_people

    people = read_or_none(read_people, clip.keypoints or keypoints_beside(clip, out.parent))
    if people is None:
        return None
    return [_person_output(out, pid) for pid in chosen_people(people, choice)]


def _detected(clip: Clip, folder: Path, choice: PeopleChoice, record: dict, timings: dict,
              threads: int) -> Path:  # fmt: skip
    """Every person of ``clip.video`` (``anylift detect``, its landmark model in ``threads`` threads:
    the clip's share of the machine) in ``<folder>/<clip>_keypoints.json``."""
    from anylift.io.people import read_people, write_people
    from anylift.video.people import PeopleConfig, detect_people

    path = keypoints_beside(clip, folder)
    if not choice.reuse or read_or_none(read_people, path) is None:
        tick = time.perf_counter()
        gone: list = []
        config = PeopleConfig(set_aside_still=choice.set_aside_still, pose_threads=max(1, int(threads)))
        people = detect_people(clip.video, config=config, set_aside=gone)
        folder.mkdir(parents=True, exist_ok=True)
        write_people(path, people)
        timings["detect"] = time.perf_counter() - tick
        if gone:
            record["set_aside"] = [
                {"frames": [a, b], "height": round(h, 1), "why": why} for a, b, _, h, why in gone
            ]
    record["outputs"].append(str(path))
    return path


def _estimated(clip: Clip, people, keypoints, folder: Path, reuse: bool, cameras: dict, record: dict,
               timings: dict):  # fmt: skip
    """The camera of ``keypoints``' person's shot of ``clip.video`` (``anylift camera``), estimated
    once per shot and written beside the results."""
    from anylift.io.cameras import read_camera, write_camera
    from anylift.video.camera_estimation import estimate_camera, person_shot

    shot = person_shot(people.cuts, keypoints, people.num_frames)
    if shot not in cameras:
        name = f"{clip.name}_camera.json"
        if shot is not None:
            name = f"{clip.name}_camera_shot{[0, *sorted(people.cuts)].index(shot[0]) + 1}.json"
        path = folder / name
        camera = read_or_none(read_camera, path) if reuse else None
        if camera is None:
            tick = time.perf_counter()
            camera = estimate_camera(clip.video, keypoints, people=people).camera
            write_camera(path, camera)
            timings["camera"] = timings.get("camera", 0.0) + time.perf_counter() - tick
        cameras[shot] = camera
        record["outputs"].append(str(path))
    return cameras[shot]


def _local(
    jobs: list[tuple[Clip, str]], options: LiftOptions, shard: str | None, threads: int = 1,
    people: PeopleChoice | None = None, **_,
) -> Iterable[dict]:  # fmt: skip
    for clip, out in jobs:
        yield lift_clip(clip, out, options, shard, threads, people)


def _dask(
    jobs: list[tuple[Clip, str]],
    options: LiftOptions,
    shard: str | None,
    threads: int = 1,
    people: PeopleChoice | None = None,
    *,
    workers: int = 2,
    scheduler: str | None = None,
) -> Iterable[dict]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise InputError(
            f"Dask is not installed ({exc})", field="--executor",
            fix="Install it: pip install 'anylift[cluster]' (dask[distributed]); or use --executor local",
        ) from exc  # fmt: skip
    if scheduler:
        cluster, client = None, Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=None,
            silence_logs=logging.ERROR,
        )  # fmt: skip
        client = Client(cluster)
    try:
        futures = {
            client.submit(
                lift_clip, clip, out, options, shard, threads, people, pure=False, key=f"lift-{clip.name}-{i}"
            ): clip
            for i, (clip, out) in enumerate(jobs)
        }
        for future in as_completed(futures):
            clip = futures[future]
            if future.status == "finished":
                yield future.result()
            else:  # the worker died (killed, out of memory): the clip is not lost silently
                yield {
                    "clip": clip.name, "status": "error", "shard": shard, "outputs": [], "warnings": [],
                    "error": f"worker lost: {' '.join(str(future.exception()).split())}", "seconds": None,
                }  # fmt: skip
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_batch(
    clips: list[Clip],
    out: str | os.PathLike,
    *,
    options: LiftOptions | None = None,
    threads: int = 1,
    shard: tuple[int, int] | None = None,
    resume: bool = False,
    manifest: str | os.PathLike,
    executor: str = "local",
    workers: int = 2,
    scheduler: str | None = None,
    on_record: Callable[[dict], None] | None = None,
    people: PeopleChoice | None = None,
) -> list[dict[str, Any]]:
    """Lift this shard's clips into ``out/<clip>.npz`` (every person: ``out/<clip>_<id>.npz``);
    append one manifest record per clip.

    Args:
        clips: every clip of the batch (:func:`~anylift.batch.clips.find_clips`).
        out: output folder (created).
        options: how to lift (:class:`anylift.lifting.options.LiftOptions`).
        threads: torch threads per clip.
        shard: (I, N): lift only this share (:func:`~anylift.batch.clips.select_shard`).
        resume: skip clips whose outputs already hold valid results (status ``skipped``); a video's
            keypoints and cameras written by an earlier run are taken, not detected again.
        manifest: the JSONL manifest to append to.
        executor: ``"local"`` (in sequence, here) or ``"dask"``.
        workers: worker processes of the local Dask cluster.
        scheduler: address of a running Dask scheduler (instead of a local cluster).
        on_record: called with each record as it arrives (progress lines).
        people: who is lifted (:class:`PeopleChoice`; default: the default person of each clip).

    Returns:
        The records, in the order the clips finished.
    """
    options = options or LiftOptions()
    choice = replace(people or PeopleChoice(), reuse=resume)
    if executor not in EXECUTORS:
        raise InputError(f"is {executor!r}", field="--executor", expected=" or ".join(EXECUTORS))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    label = None if shard is None else f"{shard[0]}/{shard[1]}"
    records: list[dict[str, Any]] = []
    with ManifestWriter(manifest) as writer:

        def keep(record: dict) -> None:
            writer.write(record)
            records.append(record)
            if on_record is not None:
                on_record(record)

        jobs = []
        for clip in select_shard(clips, shard):
            target = out / f"{clip.name}.npz"
            done = expected_outputs(clip, target, choice) if resume else None
            if valid_outputs(done):
                keep({"clip": clip.name, "status": "skipped", "shard": label, "warnings": [], "seconds": 0.0,
                      "outputs": [str(p) for p in done], "worker": _worker()})  # fmt: skip
            else:
                jobs.append((clip, str(target)))
        if jobs:
            run = _dask if executor == "dask" else _local
            for record in run(jobs, options, label, threads, choice, workers=workers, scheduler=scheduler):
                keep(record)
    return records


def summary(records: list[dict[str, Any]], seconds: float) -> str:
    """One line: how many clips lifted, skipped, failed, in how long."""
    counts = {s: sum(r["status"] == s for r in records) for s in ("ok", "skipped", "failed", "error")}
    return (
        f"{len(records)} clips: {counts['ok']} lifted, {counts['skipped']} skipped (valid output), "
        f"{counts['failed']} failed, {counts['error']} errors, in {seconds:.1f} s"
    )
