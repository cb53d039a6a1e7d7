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
from pathlib import Path
from typing import Any

from anylift.errors import InputError
from anylift.lifting.options import LiftOptions

from .clips import Clip, select_shard, valid_output
from .manifest import ManifestWriter

EXECUTORS = ("local", "dask")


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lift_clip(
    clip: Clip, out: str, options: LiftOptions, shard: str | None = None, threads: int = 1
) -> dict[str, Any]:
    """Lift ``clip`` into ``out`` (``.npz``, written atomically) with ``threads`` torch threads;
    return its manifest record.

    Never raises for a clip's problem: a user error gives status ``failed``, anything else
    ``error``, each with a one-line ``error`` message.
    """
    import torch

    start = time.perf_counter()
    record: dict[str, Any] = {"clip": clip.name, "shard": shard, "worker": _worker(), "outputs": []}
    torch.set_num_threads(max(1, int(threads)))
    try:
        from anylift.io.cameras import read_camera
        from anylift.io.keypoints import read_keypoints
        from anylift.io.motion import write_motion
        from anylift.pipeline import lift_with_report

        keypoints = read_keypoints(clip.keypoints)
        camera = read_camera(clip.camera) if clip.camera is not None else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = lift_with_report(keypoints, camera, options)
        write_motion(out, report.motion)
        messages = list(report.warnings)
        messages += [str(w.message) for w in caught if str(w.message) not in messages]
        record.update(
            status="ok",
            outputs=[str(out)],
            warnings=messages,
            timings={k: round(v, 4) for k, v in report.timings.items()},
            frames=report.motion.num_frames,
        )
    except InputError as exc:
        record.update(status="failed", error=" ".join(str(exc).split()), warnings=[])
    except Exception as exc:
        record.update(
            status="error", error=f"internal error: {type(exc).__name__}: {exc}", warnings=[],
            traceback=traceback.format_exc(),
        )  # fmt: skip
    record["seconds"] = round(time.perf_counter() - start, 3)
    return record


def _local(
    jobs: list[tuple[Clip, str]], options: LiftOptions, shard: str | None, threads: int = 1, **_
) -> Iterable[dict]:
    for clip, out in jobs:
        yield lift_clip(clip, out, options, shard, threads)


def _dask(
    jobs: list[tuple[Clip, str]],
    options: LiftOptions,
    shard: str | None,
    threads: int = 1,
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
                lift_clip, clip, out, options, shard, threads, pure=False, key=f"lift-{clip.name}-{i}"
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
) -> list[dict[str, Any]]:
    """Lift this shard's clips into ``out/<clip>.npz``; append one manifest record per clip.

    Args:
        clips: every clip of the batch (:func:`~anylift.batch.clips.find_clips`).
        out: output folder (created).
        options: how to lift (:class:`anylift.lifting.options.LiftOptions`).
        threads: torch threads per clip.
        shard: (I, N): lift only this share (:func:`~anylift.batch.clips.select_shard`).
        resume: skip clips whose output already holds a valid result (status ``skipped``).
        manifest: the JSONL manifest to append to.
        executor: ``"local"`` (in sequence, here) or ``"dask"``.
        workers: worker processes of the local Dask cluster.
        scheduler: address of a running Dask scheduler (instead of a local cluster).
        on_record: called with each record as it arrives (progress lines).

    Returns:
        The records, in the order the clips finished.
    """
    options = options or LiftOptions()
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
            if resume and valid_output(target):
                keep({"clip": clip.name, "status": "skipped", "shard": label, "outputs": [str(target)],
                      "warnings": [], "seconds": 0.0, "worker": _worker()})  # fmt: skip
            else:
                jobs.append((clip, str(target)))
        if jobs:
            run = _dask if executor == "dask" else _local
            for record in run(jobs, options, label, threads, workers=workers, scheduler=scheduler):
                keep(record)
    return records


def summary(records: list[dict[str, Any]], seconds: float) -> str:
    """One line: how many clips lifted, skipped, failed, in how long."""
    counts = {s: sum(r["status"] == s for r in records) for s in ("ok", "skipped", "failed", "error")}
    return (
        f"{len(records)} clips: {counts['ok']} lifted, {counts['skipped']} skipped (valid output), "
        f"{counts['failed']} failed, {counts['error']} errors, in {seconds:.1f} s"
    )
