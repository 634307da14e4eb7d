#!/usr/bin/env bash
# Quick start 1: set up, build, start a local 3-node cluster and run the
# siblings demo against it. The cluster keeps running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh kvnode kvctl kvharness shopping_cart
bin=build/bin
"$bin/kvharness" down >/dev/null 2>&1 || true
"$bin/kvharness" up --nodes 3 --replicas 3
"$bin/kvharness" demo siblings
cat <<'TXT'

The cluster is still running (state in .kvharness/). Try:
  build/bin/kvctl put colour blue
  build/bin/kvctl get colour --json
  build/bin/kvctl where colour
  build/bin/kvharness kill n2 && build/bin/kvctl status
  build/bin/kvharness restart n2
  build/bin/kvharness partition n1 / n2,n3 && build/bin/kvctl put colour red --strict
  build/bin/kvharness status && build/bin/kvharness heal
  build/bin/kvharness demo --list
Stop it with: build/bin/kvharness down
A scenario (its own fresh cluster, faults while clients run, checks, an HTML report):
  build/bin/kvharness --dir /tmp/mp run tests/scenarios/majority_partition.textproto
TXT
