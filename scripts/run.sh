#!/usr/bin/env bash
# Runs lem: builds lem-node, starts the four authority nodes of the `local` chain on loopback
# and shows the blocks they produce and finalize. Ctrl-C stops everything.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

scripts/setup.sh
cargo build --workspace --locked

scripts/start-local-network.sh &
net=$!
trap 'kill -TERM $net 2>/dev/null || true; wait $net 2>/dev/null || true' INT TERM EXIT

rpc() {
	curl -s -H 'Content-Type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":[$2]}" http://127.0.0.1:9944 || true
}
number() { sed -n 's/.*"number":"0x\([0-9a-f]*\)".*/\1/p'; }

echo "waiting for node1's RPC at http://127.0.0.1:9944 ..."
while kill -0 $net 2>/dev/null; do
	best=$(rpc chain_getHeader "" | number)
	fin_hash=$(rpc chain_getFinalizedHead "" | sed -n 's/.*"result":"\(0x[0-9a-f]*\)".*/\1/p')
	if [ -n "$best" ] && [ -n "$fin_hash" ]; then
		fin=$(rpc chain_getHeader "\"$fin_hash\"" | number)
		peers=$(rpc system_health "" | sed -n 's/.*"peers":\([0-9]*\).*/\1/p')
		echo "$(date +%T)  best #$((16#$best))  finalized #$((16#$fin))  peers $peers"
	fi
	sleep 6
done
