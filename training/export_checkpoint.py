"""Write the shipping copy of a trained checkpoint (EMA weights, float16, no optimiser state).

    python training/export_checkpoint.py runs/multi_view/model.pt engine/anylift/checkpoints/multiview.pt

The copy loads with ``anylift.models.load_checkpoint`` like the original and is what
``anylift lift`` uses by default (see ``engine/anylift/checkpoints/README.md``).
"""

from __future__ import annotations

import argparse
import sys

from anylift.errors import InputError
from anylift.models import export_checkpoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="checkpoint written by training (e.g. runs/multi_view/model.pt)")
    parser.add_argument("destination", help="the shipping file to write")
    parser.add_argument("--float32", action="store_true", help="keep float32 weights")
    args = parser.parse_args(argv)
    import torch

    try:
        out = export_checkpoint(
            args.source, args.destination, dtype=torch.float32 if args.float32 else torch.float16
        )
    except InputError as exc:
        print(f"export_checkpoint: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
