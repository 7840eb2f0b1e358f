# Shared by the scripts: where cargo puts the build and where the node binary is.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# .cargo/config.toml keeps the target directory outside the clone; CARGO_TARGET_DIR overrides.
TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/lem-target}
LEM_NODE=${LEM_NODE:-$TARGET_DIR/debug/lem-node}
