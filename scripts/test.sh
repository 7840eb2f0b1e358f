#!/usr/bin/env bash
# Runs every test of lem: unit, property and pallet tests, the runtime on its real
# configuration, the end-to-end tests against real lem-node processes on loopback (the app's
# among them, in Chromium), the app's type check and unit tests, and bounded
# fuzz runs of the decoders of untrusted bytes: the clearing CLI's JSON input, the auditor's
# reading of a node's answers, the gateway's journal entries, chain values and meters' SML telegrams, and the light
# client's reading of finality and storage proofs; and the gateway's aarch64 build.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

scripts/setup.sh
cargo fmt --all --check
# One feature set for the whole workspace, so that the build and the tests share artifacts;
# the end-to-end tests start the lem-node binary built here.
cargo build --workspace --locked
# The app's typed descriptors are made from the committed metadata: it must be the runtime's
# just built. Then its types check and its unit tests run; its browser suite is among the
# end-to-end tests (tests/tests/market_ui.rs).
(cd market-ui && npx papi add lem --wasm "$TARGET_DIR/debug/wbuild/lem-runtime/lem_runtime.wasm" --skip-codegen >/dev/null)
git diff --quiet -- market-ui/.papi || {
	echo "market-ui/.papi/metadata/lem.scale is not the runtime's metadata: commit the one just written (and npm install)" >&2
	exit 1
}
(cd market-ui && npm run --silent check && npm run --silent test)
# The gateway's binaries for the box at the meter (aarch64), the fuzz targets' build and the
# bounded fuzz runs go niced beside the tests, each build in its own target directory: the
# end-to-end tests mostly wait on blocks and leave a core idle. A cold build of both takes 6 to
# 14 minutes, the runs 30 s per target; the lanes take over 20.
side_log=$(mktemp -t lem-side-jobs-XXXXXX.log)
FUZZ_SECONDS=${FUZZ_SECONDS:-30} setsid nice -n 19 bash -c \
	'scripts/build-gateway-aarch64.sh && scripts/fuzz.sh' \
	>"$side_log" 2>&1 &
side_jobs=$! # its own process group, stopped with everything in it if a test fails
trap 'kill -- -$side_jobs 2>/dev/null || true' EXIT
# `cargo test --workspace`, with the end-to-end tests in two lanes side by side. (No crate has
# doc tests: its docs' examples are shell and JSON.)
scripts/test-binaries.sh
wait $side_jobs || {
	cat "$side_log" >&2
	echo "the aarch64 gateway build, the fuzz build or a fuzz run failed" >&2
	exit 1
}
# The gateway's sizes and each fuzz run's last status line.
grep -E '^lem-(gateway|meter-sim): |^Done [0-9]+ runs' "$side_log"
