"""Dataset-scale lifting: a folder of clips, sharded, resumable, with a JSONL manifest.

``anylift batch FOLDER --out DIR`` lifts every clip of FOLDER into ``DIR/<clip>.npz``. Lifting
parallelises per clip on an existing engine, never a home-made one: in sequence in this process
(``--executor local``), on a Dask cluster (``--executor dask``: a local cluster of ``--workers``
processes, or ``--scheduler ADDRESS`` for one started elsewhere), and across machines as a Slurm
job array where each task runs its own ``--shard I/N`` (README, "Lifting thousands of clips").
Baking into Blender scenes stays per clip in ``blender -b`` (``anylift_blender/batch.py``).

- :mod:`.clips`: finding the clips of a folder, shards, which outputs are already valid.
- :mod:`.manifest`: the JSONL manifest (one line per clip: status, seconds, warnings, outputs).
- :mod:`.run`: lifting one clip (what a worker runs) and the executors.

No bpy here.
"""

from anylift.lifting.options import LiftOptions

from .clips import Clip, find_clips, parse_shard, select_shard
from .run import lift_clip, run_batch

__all__ = ["Clip", "LiftOptions", "find_clips", "lift_clip", "parse_shard", "run_batch", "select_shard"]
