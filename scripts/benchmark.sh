#!/usr/bin/env bash
# Runs the FRAME benchmarks of lem's own pallets on this machine and writes their weights into
# runtime/src/weights/<pallet>.rs. Usage: scripts/benchmark.sh [pallet_name ...]
#
# The node is built with `runtime-benchmarks` in a target directory of its own: the feature
# changes much of the dependency graph, and sharing the test build's directory would rebuild it
# twice over.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

scripts/setup.sh
bench_target=${BENCH_TARGET_DIR:-$TARGET_DIR-bench}
# frame-benchmarking-cli brings a test runtime for `benchmark storage`, which lem does not use;
# its Wasm build cannot find itself in this workspace's metadata (the CLI is an optional
# dependency), so it is skipped.
SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1 \
	CARGO_TARGET_DIR=$bench_target cargo build --locked --release -p lem-node --features runtime-benchmarks
node=$bench_target/release/lem-node

pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(pallet_authority_set pallet_market pallet_metering pallet_settlement)
for pallet in "${pallets[@]}"; do
	# Each run of settlement's benchmarks sets up a page of up to 512 participants with their
	# orders cleared, standing orders and readings: a few seconds, so fewer, still linear, runs.
	steps=50 repeat=20
	[ "$pallet" != pallet_settlement ] || { steps=20 repeat=5; }
	"$node" benchmark pallet --chain dev --pallet "$pallet" --extrinsic '*' \
		--steps $steps --repeat $repeat --wasm-execution compiled \
		--output "runtime/src/weights/$pallet.rs"
	echo "$pallet -> runtime/src/weights/$pallet.rs"
done
