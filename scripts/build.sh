#!/usr/bin/env bash
# Configures (once) and builds quorumkv into build/; binaries in build/bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
# Two compile jobs: this machine has two cores, and gRPC headers are heavy.
cmake --build build -j "${QKV_BUILD_JOBS:-$(nproc)}"
