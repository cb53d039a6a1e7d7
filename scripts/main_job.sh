#!/usr/bin/env bash
# README command 1: install the project into .venv and run the main job on the bundled default:
# the held-out cartwheel example under a moving camera -> lift with the default model and the
# proxy body -> out/cartwheel.blend (+ preview, metrics against the truth).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh dev,blender,video
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec .venv/bin/python examples/main_job.py "$@"
