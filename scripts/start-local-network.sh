#!/usr/bin/env bash
# Starts the four authority nodes of the `local` chain — one per utility (Alice, Bob, Charlie,
# Dave) — on loopback, each with its own ports, base path, session keys (--alice ...) and node
# key, prints their endpoints, and stops them all on Ctrl-C or SIGTERM.
#
#   node i (1..4): p2p 3033(2+i), JSON-RPC/WebSocket 994(3+i), Prometheus 961(4+i)
#   base paths and logs under $LEM_NET_DIR (default /tmp/lem-local); data survives restarts.
#
# The node keys are fixed development keys (secret i = blake2b-256("lem-local-node-i")); the
# `local` genesis admits exactly these four peer ids.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

NET_DIR=${LEM_NET_DIR:-/tmp/lem-local}
NAMES=(alice bob charlie dave)
NODE_KEYS=(
	8385145713074f6e35dfa5897825c24a7f56317985de0da9a350ce631d153426
	552462ba8665db81c556efe6d3793a7d0dfb7d1b3a81e51f768687b374edd1a9
	8b2d2f1a12aeba8abaf119b1d0c3584c85ef96c275ccb834cc60cb9e74f6e969
	08b4e205cd19d06f89b3b63bdb44f42e45e6ba1238c0502baeca057147515cfb
)

[ -x "$LEM_NODE" ] || { echo "no lem-node at $LEM_NODE: build it with 'cargo build -p lem-node'" >&2; exit 1; }
mkdir -p "$NET_DIR"
boot_peer=$(printf %s "${NODE_KEYS[0]}" | "$LEM_NODE" key inspect-node-key)

pids=()
stop() {
	trap - INT TERM EXIT
	echo "stopping the local network"
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait
}
trap stop INT TERM EXIT

for i in 0 1 2 3; do
	n=$((i + 1))
	p2p=$((30332 + n)) rpc=$((9943 + n)) prom=$((9614 + n))
	args=(
		--chain local --base-path "$NET_DIR/node$n" --name "node$n-${NAMES[$i]}"
		"--${NAMES[$i]}" --validator --node-key "${NODE_KEYS[$i]}"
		--listen-addr "/ip4/127.0.0.1/tcp/$p2p"
		--rpc-port "$rpc" --prometheus-port "$prom"
		--no-mdns --no-telemetry --offchain-worker always
	)
	[ "$n" -eq 1 ] || args+=(--bootnodes "/ip4/127.0.0.1/tcp/30333/p2p/$boot_peer")
	"$LEM_NODE" "${args[@]}" >>"$NET_DIR/node$n.log" 2>&1 &
	pids+=($!)
	echo "node$n (${NAMES[$i]}): ws://127.0.0.1:$rpc  http://127.0.0.1:$rpc  metrics http://127.0.0.1:$prom/metrics  log $NET_DIR/node$n.log"
done

# Runs until a node dies or we are told to stop.
wait -n "${pids[@]}"
echo "a node exited; see the logs in $NET_DIR" >&2
exit 1
