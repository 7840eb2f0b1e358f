#!/usr/bin/env bash
# Fuzzes lem's cargo-fuzz targets (fuzz/) for a bounded time each:
#   scripts/fuzz.sh                                  # builds all, then 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh audit_node_answers
# Extra arguments after a target go to libFuzzer. Installs cargo-fuzz if it is missing. Seeds
# are read from fuzz/seeds/<target>/, a dictionary from fuzz/<target>.dict if there is one.
# A crash leaves its input in fuzz/artifacts/<target>/ and exits non-zero.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"   # cargo fuzz looks for fuzz/ below the current directory

if ! cargo fuzz --version >/dev/null 2>&1; then
	cargo install cargo-fuzz --locked
fi

# libFuzzer instrumentation and the address sanitizer need unstable compiler flags; the stable
# toolchain accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
# A target directory of its own, beside the workspace's and like it outside the clone: the
# instrumented build shares nothing with the workspace's and must not invalidate it.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$TARGET_DIR/fuzz}"

fuzz() {
	local target=$1
	shift
	mkdir -p "fuzz/corpus/$target" "fuzz/seeds/$target"
	local options=(-max_total_time="${FUZZ_SECONDS:-60}")
	[ -f "fuzz/$target.dict" ] && options+=(-dict="fuzz/$target.dict")
	cargo fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- "${options[@]}" "$@"
}

if [ $# -gt 0 ]; then
	fuzz "$@"
else
	# One build of every target: their shared dependencies are compiled once, on both cores.
	cargo fuzz build
	for target in $(cargo fuzz list); do
		fuzz "$target"
	done
fi
