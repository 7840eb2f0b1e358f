#!/usr/bin/env bash
# Runs every test of lem: unit, property and pallet tests, the runtime on its real
# configuration, the end-to-end tests against real lem-node processes on loopback, and a
# bounded fuzz run of the clearing CLI's JSON input.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

scripts/setup.sh
cargo fmt --all --check
# One feature set for the whole workspace, so that the build and the tests share artifacts;
# the end-to-end tests start the lem-node binary built here.
cargo build --workspace --locked
cargo test --workspace --locked
FUZZ_SECONDS=${FUZZ_SECONDS:-30} cli/clear/fuzz/run.sh
