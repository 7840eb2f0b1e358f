#!/usr/bin/env bash
# Measures what one settled slot of a community of 512 metering points leaves in the
# chain's state, item by item, on the real runtime, and what that makes over the retention
# window and over a year without it. The settlement README quotes its figures; the test command
# runs the same test as a check that a slot leaves at most 700 bytes per metering point.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

scripts/setup.sh
# The test build's own feature set (docs/BUILD.md): no second build of the dependencies.
cargo test --locked --workspace --test settlement -- --nocapture state_per_slot_of_a_full_community
