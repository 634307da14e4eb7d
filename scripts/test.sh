#!/usr/bin/env bash
# Quick start 2 (and CI): set up, build, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j 2 --timeout 600
echo "test.sh: done in $(( $(date +%s) - start )) s"
