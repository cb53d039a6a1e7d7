#!/usr/bin/env bash
# Install the Khronos glTF validator (npm package gltf-validator) into .tools/gltf-validator
# (git-ignored), once; the export tests and CI call this. Prints the folder. Exit 3 without npm.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.tools/gltf-validator
version=2.0.0-dev.3.10
if [ ! -f "$dest/node_modules/gltf-validator/package.json" ] || \
   ! grep -q "\"version\": \"$version\"" "$dest/node_modules/gltf-validator/package.json"; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "install_gltf_validator: npm not found (install Node.js to run the glTF validator)" >&2
        exit 3
    fi
    mkdir -p "$dest"
    npm install --prefix "$dest" --no-audit --no-fund --silent "gltf-validator@$version" >&2
fi
echo "$PWD/$dest"
