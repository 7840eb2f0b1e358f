#!/usr/bin/env bash
# Builds every test of the workspace with its one feature set and runs the test binaries:
# lem-tests' end-to-end tests — real lem-node networks, gateways and meters on loopback — in
# two lanes side by side, and beside them, niced, the unit, property and runtime tests, one
# binary after the other as `cargo test` does, and every FRAME benchmark once. The e2e tests
# mostly wait on blocks (2 s on the test presets, 6 s where the block time is the subject; see
# docs/BUILD.md): two networks at a time fit two cores and halve the wait. Within a lane, and
# within a test binary, one network at a time.
#   scripts/test-binaries.sh                # all
#   scripts/test-binaries.sh gateway ...    # these e2e binaries only, in one lane
# Each e2e binary's output goes to $E2E_LOG_DIR/<name>.log (default: a temporary directory)
# and is printed if it fails. The e2e tests start the workspace's built binaries.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# The lanes (docs/BUILD.md), about as long as each other: the binaries on 6 s blocks and the
# fast network tests with the short ones in the first, the rest in the second, which an e2e
# binary in neither joins.
LANE_A=(local_network load metering market chain_specs)
LANE_B=(gateway settlement market_ui home light_client operations)

# Built first, not inside the loop's process substitution: a test target that fails to compile
# must fail the run, not leave its tests out of it.
artifacts=$(mktemp -t lem-test-artifacts-XXXXXX)
trap 'rm -f "$artifacts" "${benchmarks_log:-}"; [ -z "${benchmarks:-}" ] || kill -- -"$benchmarks" 2>/dev/null || true' EXIT
if ! cargo test --workspace --locked --no-run --message-format=json >"$artifacts"; then
	# The JSON holds the compiler's messages; show them as a person reads them.
	cargo test --workspace --locked --no-run >&2 || true
	echo "tests failed: a test target does not compile" >&2
	exit 1
fi

declare -A e2e e2e_dir
units=()
while read -r line; do
	exe=$(sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' <<<"$line")
	dir=$(dirname "$(sed -n 's/.*"manifest_path":"\([^"]*\)".*/\1/p' <<<"$line")")
	name=$(sed -n 's/.*"target":{[^}]*"name":"\([^"]*\)".*/\1/p' <<<"$line")
	if [ "$dir" = "$ROOT/tests" ] && [ "$name" != lem_tests ]; then
		e2e[$name]=$exe e2e_dir[$name]=$dir
	else
		units+=("$dir $exe")
	fi
done < <(grep '"reason":"compiler-artifact"' "$artifacts" | grep '"profile":{[^}]*"test":true' |
	grep '"executable":"/')

# The unit, property and runtime tests, one binary after another: beside the lanes, which mostly
# wait on blocks, niced below them and above the side builds.
run_units() {
	local units_start=$SECONDS start unit
	for unit in "${units[@]}"; do
		start=$SECONDS
		(cd "${unit%% *}" && nice -n 10 "${unit#* }" -q) || { echo "tests failed: ${unit#* }" >&2; return 1; }
		# The slow ones by name, for docs/BUILD.md.
		[ $((SECONDS - start)) -lt 10 ] || echo "unit $(basename "${unit#* }"): $((SECONDS - start)) s"
	done
	echo "unit tests: $((SECONDS - units_start)) s"
}

benchmarks=
pids=()
if [ $# -eq 0 ]; then
	run_units &
	pids+=($!)
	# Every FRAME benchmark once, verified, on the runtime built with them (its own feature
	# set: a second build of the runtime's dependencies, native only): niced beside the lanes,
	# which mostly wait on blocks. Nothing else runs cargo until it is done.
	benchmarks_log=$(mktemp -t lem-benchmarks-XXXXXX.log)
	SKIP_WASM_BUILD=1 setsid nice -n 19 cargo test --locked -p lem-runtime \
		--features runtime-benchmarks --test benchmarks >"$benchmarks_log" 2>&1 &
	benchmarks=$!
	for name in "${!e2e[@]}"; do
		[[ " ${LANE_A[*]} ${LANE_B[*]} " == *" $name "* ]] || LANE_B+=("$name")
	done
	lanes=("${LANE_A[*]}" "${LANE_B[*]}")
else
	lanes=("$*")
fi

LOG_DIR=${E2E_LOG_DIR:-$(mktemp -d -t lem-e2e-XXXXXX)}
mkdir -p "$LOG_DIR"

run_lane() {
	for name in "$@"; do
		[ -n "${e2e[$name]:-}" ] || { echo "e2e: no test binary $name" >&2; return 1; }
		local start=$SECONDS
		if ! (cd "${e2e_dir[$name]}" && "${e2e[$name]}" --test-threads=1 >"$LOG_DIR/$name.log" 2>&1); then
			echo "e2e $name: FAILED after $((SECONDS - start)) s; its output:" >&2
			cat "$LOG_DIR/$name.log" >&2
			return 1
		fi
		echo "e2e $name: passed in $((SECONDS - start)) s ($(grep -h '^test result' "$LOG_DIR/$name.log" | tail -1))"
	done
}

for lane in "${lanes[@]}"; do
	# shellcheck disable=SC2086 # a lane is a list of names
	run_lane $lane &
	pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
if [ -n "$benchmarks" ]; then
	if wait "$benchmarks"; then
		echo "benchmarks: $(grep -h '^test result' "$benchmarks_log" | tail -1)"
	else
		cat "$benchmarks_log" >&2
		echo "tests failed: a FRAME benchmark (runtime/tests/benchmarks.rs)" >&2
		failed=1
	fi
fi
exit $failed
