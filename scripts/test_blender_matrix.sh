#!/usr/bin/env bash
# Run the add-on's tests (tests/blender) inside every supported Blender: the bpy module 4.2 LTS,
# 4.5 LTS and 5.0 (all built for Python 3.11). Usage: scripts/test_blender_matrix.sh [VERSION...]
# (default: 4.2 4.5 5.0); extra pytest arguments after "--".
#
# 5.0 is the project's own .venv (made by scripts/venv.sh or scripts/test.sh, which must run first). Every other version gets .venv-bpyXY: a venv
# that holds only that bpy (no dependencies) and reads everything else (the engine, torch, numpy<2,
# pytest...) from .venv's site-packages through a .pth file, so a version costs one ~350 MB
# download and no second copy of torch. Prints one line per version: PASS/FAIL and seconds.
set -uo pipefail
cd "$(dirname "$0")/.."
versions=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do versions+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#versions[@]} -eq 0 ] && versions=(4.2 4.5 5.0)

if [ ! -x .venv/bin/python ]; then
    echo "test_blender_matrix: no .venv: run 'bash scripts/venv.sh dev,blender,video' (or scripts/test.sh) first" >&2
    exit 2
fi
base_site=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
base_bpy=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('bpy'))")
py="${PYTHON:-python3.11}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
export PYTHONPATH="$PWD/engine:$PWD${PYTHONPATH:+:$PYTHONPATH}"

summary=()
status=0
for v in "${versions[@]}"; do
    start=$(date +%s)
    if [[ "$base_bpy" == "$v".* ]]; then
        python=.venv/bin/python
    else
        venv=".venv-bpy${v//./}"
        if [ ! -f "$venv/.bpy-$v" ]; then
            rm -rf "$venv"
            "$py" -m venv "$venv" || exit 1
            "$venv/bin/python" -m pip install -q --no-deps "bpy==$v.*" || exit 1
            site=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
            # addsitedir (not a plain path line) so .venv's own .pth files (the editable engine) apply.
            echo "import site; site.addsitedir('$base_site')" >"$site/zz_anylift_base.pth"
            touch "$venv/.bpy-$v"
        fi
        python="$venv/bin/python"
    fi
    installed=$(( $(date +%s) - start ))
    echo "== bpy $v: $($python -c 'import bpy; print(bpy.app.version_string)' 2>/dev/null) (set-up ${installed} s)"
    log="out/blender-matrix-$v.log"
    mkdir -p out
    # --junitxml decides pass/fail: bpy 4.2's module can crash at interpreter exit after the run.
    xml="out/blender-matrix-$v.xml"
    rm -f "$xml"
    "$python" -m pytest tests/blender -q -p no:cacheprovider --junitxml="$xml" "$@" 2>&1 | tee "$log" | tail -3
    failed=$("$python" - "$xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
except (OSError, ET.ParseError):
    print("no report"); raise SystemExit
bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
print(bad if bad or int(suite.get("tests", 0)) else "no tests")
EOF
)
    seconds=$(( $(date +%s) - start ))
    if [ "$failed" = "0" ]; then
        summary+=("PASS bpy $v  ${seconds} s (set-up ${installed} s)")
    else
        summary+=("FAIL bpy $v  ${seconds} s: $failed failed (see $log)")
        status=1
    fi
done
echo
printf '%s\n' "${summary[@]}"
exit $status
