#!/usr/bin/env bash
# The main job: installs what is missing, builds rtmem (RelWithDebInfo, in
# build-release) and runs the demo: the `demo` target, every program in
# examples/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh demo
cmake --preset release
cmake --build --preset release -j "$(nproc)" --target demo
