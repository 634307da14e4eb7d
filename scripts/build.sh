#!/usr/bin/env bash
# Configures (once) and builds quorumkv into build/; binaries in build/bin/.
# With arguments, builds only those targets (e.g. kvnode kvctl).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build -j "${QKV_BUILD_JOBS:-$(nproc)}" "${targets[@]}"
