"""The main job on the bundled default (README command 1).

Until the lifting pipeline lands this prints what the engine can already do.
"""

from __future__ import annotations

import sys


def main() -> int:
    from anylift.cli import main as cli_main

    return cli_main(["info"])


if __name__ == "__main__":
    sys.exit(main())
