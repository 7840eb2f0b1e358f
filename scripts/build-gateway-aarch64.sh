#!/usr/bin/env bash
# Builds the gateway for the box at the meter (aarch64-unknown-linux-gnu, a Raspberry Pi class
# computer) and checks that it is an aarch64 executable. Prints its size. (The simulators,
# lem-sim, are not for the box.)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

scripts/setup.sh
target=aarch64-unknown-linux-gnu
cargo build --locked --release -p lem-gateway --target "$target"
for bin in lem-gateway; do
	path=$TARGET_DIR/$target/release/$bin
	file "$path" | grep -q "ELF 64-bit LSB.*ARM aarch64" || {
		echo "$path is not an aarch64 executable" >&2
		exit 1
	}
	echo "$bin: $(stat -c %s "$path") bytes"
done
