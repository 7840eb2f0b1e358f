#!/usr/bin/env bash
# Fuzzes one cargo-fuzz target of a crate for a bounded time:
#   scripts/fuzz.sh cli/clear json_input                    # 60 s
#   FUZZ_SECONDS=600 scripts/fuzz.sh cli/audit node_answers
# Extra arguments go to libFuzzer. Installs cargo-fuzz if it is missing. Seeds are read from
# <crate>/fuzz/seeds/<target>/, a dictionary from <crate>/fuzz/<target>.dict if there is one.
# A crash leaves its input in <crate>/fuzz/artifacts/<target>/ and exits non-zero.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
crate=$1 target=$2
shift 2
cd "$ROOT/$crate"   # cargo fuzz looks for fuzz/ below the current directory

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# libFuzzer instrumentation and the address sanitizer need unstable compiler flags; the stable
# toolchain accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
# A target directory of its own, beside the workspace's and like it outside the clone: the
# instrumented build shares nothing with the workspace's and must not invalidate it.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$TARGET_DIR/fuzz}"

mkdir -p "fuzz/corpus/$target" "fuzz/seeds/$target"
options=(-max_total_time="${FUZZ_SECONDS:-60}")
[ -f "fuzz/$target.dict" ] && options+=(-dict="fuzz/$target.dict")
exec cargo fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- "${options[@]}" "$@"
