#!/usr/bin/env bash
# Fuzzes lem-clear's JSON input (target json_input) for a bounded time:
#   cli/clear/fuzz/run.sh                 # 60 s
#   FUZZ_SECONDS=600 cli/clear/fuzz/run.sh
# Extra arguments go to libFuzzer. Installs cargo-fuzz if it is missing. A crash leaves its
# input in fuzz/artifacts/json_input/ and exits non-zero.
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir/.."   # cargo fuzz looks for fuzz/ below the current directory

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# libFuzzer instrumentation and the address sanitizer need unstable compiler flags; the stable
# toolchain accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
# A target directory of its own, beside the workspace's and like it outside the clone: the
# instrumented build shares nothing with the workspace's and must not invalidate it.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-/var/tmp/lem-target}/fuzz}"

mkdir -p fuzz/corpus/json_input
exec cargo fuzz run json_input fuzz/corpus/json_input fuzz/seeds/json_input -- \
    -dict=fuzz/json.dict -max_total_time="${FUZZ_SECONDS:-60}" "$@"
