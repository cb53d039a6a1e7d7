#!/usr/bin/env bash
# Create (once) the project's virtual environment in .venv and install the project into it
# with the extras named in $1 (e.g. "dev,blender"). Re-installs only when pyproject.toml or
# the extras change. Used by the two README commands; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null 2>&1 || py=python3
if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade "pip>=24" "setuptools>=68" wheel
fi
stamp=".venv/.anylift-installed-$(cat pyproject.toml | sha1sum | cut -c1-12)-${extras//,/_}"
if [ ! -f "$stamp" ]; then
    # torch is pinned to the CPU build on disk (pip's find-links); any other spec would pull CUDA.
    .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
    if [[ ",$extras," == *",video,"* ]]; then
        # Without its declared dependencies (see the video extra in pyproject.toml).
        .venv/bin/python -m pip install -q --no-deps "mediapipe==0.10.14"
    fi
    rm -f .venv/.anylift-installed-*
    touch "$stamp"
fi
