#!/usr/bin/env bash
# Writes chain-specs/dev.json and chain-specs/local.json from the runtime's genesis presets,
# with the runtime's Wasm built into them. Run after changing a preset or the runtime; the
# test `chain_specs_are_fresh` fails while they are stale.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
for chain in dev local; do
	"$LEM_NODE" export-chain-spec --chain "$chain" >"$ROOT/chain-specs/$chain.json"
	echo "chain-specs/$chain.json"
done
