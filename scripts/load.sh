#!/usr/bin/env bash
# The load harness: a town's community on the four authorities of the local network, every
# meter's reading and a share of orders each slot, measured (load/README.md). By hand, at full
# size — 10,000 metering points in production slots, release binaries as utilities run them —
# it writes its figures into docs/PERFORMANCE.md:
#   scripts/load.sh
# Any lem-load flag goes through, e.g. a quick look at the pipeline:
#   LEM_LOAD_PROFILE=debug scripts/load.sh --points 200 --slots 2 --slot-seconds 30 --gate-lead 10 --report /tmp/load.md
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

scripts/setup.sh
profile=${LEM_LOAD_PROFILE:-release}
flag=()
[ "$profile" = debug ] || flag=(--release)
cargo build --locked "${flag[@]}" -p lem-node -p lem-load
args=("$@")
# Readings due 5 minutes after their slot rather than 15: the same work, settled sooner, so a
# run of three slots ends sooner.
[ ${#args[@]} -gt 0 ] || args=(--grace-seconds 300 --report docs/PERFORMANCE.md)
LEM_NODE=$TARGET_DIR/$profile/lem-node exec "$TARGET_DIR/$profile/lem-load" "${args[@]}"
