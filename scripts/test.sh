#!/usr/bin/env bash
# README command 2: install the project (engine + add-on + dev tools + bpy) into .venv and run the whole
# test suite, the add-on's tests inside real Blender (the bpy module). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh dev,blender,video,cluster
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# Keep torch to the 2 cores this machine has; tests are written for that.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec .venv/bin/python -m pytest "$@"
