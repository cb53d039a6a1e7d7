"""The batch manifest: JSON lines, one per clip and run, appended as each clip finishes.

Each line: ``clip``, ``status`` (``ok``, ``skipped`` (resume: a valid output exists), ``failed``
(a user error: the clip's input), ``error`` (a bug or a lost worker)), ``seconds`` (wall time of
the clip), ``timings`` (seconds per lifting stage, and ``detect`` / ``camera`` for a video),
``warnings`` (list of messages; ``person N: ...`` with ``--all``), ``outputs`` (files written or
found: a video's keypoints and cameras, then the results), ``people`` (the track ids lifted, for
keypoints of several people), ``set_aside`` (a video's tracks of no one set aside: ``frames``
first and last, ``height`` px, ``why``: ``rider`` on what a person carries, or ``still`` with
``--set-aside-still``), ``frames`` (of the result),
``error`` (the one-line message when not ok), ``shard`` (``I/N``), ``worker`` (host:pid),
``finished`` (UTC, ISO 8601). Only the process that runs the batch writes it (workers return
records), so no two writers share a file; a sharded run writes one manifest per shard by default.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

STATUSES = ("ok", "skipped", "failed", "error")


def default_manifest(out: Path, shard: tuple[int, int] | None) -> Path:
    """``OUT/manifest.jsonl``, or ``OUT/manifest.shard-I-of-N.jsonl`` for a shard."""
    if shard is None:
        return out / "manifest.jsonl"
    return out / f"manifest.shard-{shard[0]}-of-{shard[1]}.jsonl"


class ManifestWriter:
    """Appends records to a JSONL file, one flushed line each (a crash loses no finished clip)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")  # closed by close()

    def write(self, record: dict[str, Any]) -> None:
        if record.get("status") not in STATUSES:
            raise ValueError(f"manifest record status {record.get('status')!r} (expected one of {STATUSES})")
        line = dict(record)
        line.setdefault("finished", datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))
        self._file.write(json.dumps(line, sort_keys=True) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ManifestWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_manifest(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Every record of a manifest, in order (a later line for a clip supersedes an earlier one)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
