#!/usr/bin/env bash
# Measures the gateway's footprint: a release lem-gateway reading a simulated meter,
# submitting to a `dev` node and trading for household 5, for $SLOTS slots of 30 s. Samples its RSS and CPU time every
# second from /proc and prints: peak RSS while idle and in the 5 s after each slot's end, CPU
# time per slot and on average, the binary's size and the journal's size. The figures go into
# gateway/box/README.md by hand.
#
#   scripts/gateway-footprint.sh            # 10 slots
#   SLOTS=40 scripts/gateway-footprint.sh
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

SLOTS=${SLOTS:-10}
cargo build --workspace --locked
cargo build --locked --release -p lem-gateway
BIN=$(dirname "$LEM_NODE")
GATEWAY="$TARGET_DIR/release/lem-gateway"

dir=$(mktemp -d /tmp/lem-footprint.XXXXXX)
pids=()
stop() {
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap stop EXIT

# The dev chain's one authority, with the first local node key (see start-local-network.sh).
"$LEM_NODE" --chain dev --alice --validator --base-path "$dir/node" --rpc-port 9990 \
	--node-key 8385145713074f6e35dfa5897825c24a7f56317985de0da9a350ce631d153426 \
	--listen-addr /ip4/127.0.0.1/tcp/30390 --no-prometheus --no-telemetry --no-mdns >"$dir/node.log" 2>&1 &
node=$!
pids+=($node)
"$BIN/lem-meter-sim" --household 5 --listen 127.0.0.1:5090 --speed 30 >/dev/null 2>&1 &
pids+=($!)
rpc() {
	curl -s -H 'Content-Type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":[$2]}" http://127.0.0.1:9990 || true
}
until rpc system_health "" | grep -q '"peers"'; do
	kill -0 "$node" 2>/dev/null || { tail "$dir/node.log" >&2; exit 1; }
	sleep 1
done
"$LEM_NODE" export-chain-spec --chain dev --raw >"$dir/chain-spec.json"
public=$("$GATEWAY" keygen --out "$dir/device.key")
"$BIN/lem-demo" --rpc http://127.0.0.1:9990 setup --gateway "1005=$public" >/dev/null
cat >"$dir/gateway.toml" <<-EOF
	metering_point = 1005
	chain_spec = "chain-spec.json"
	nodes = ["ws://127.0.0.1:9990"]
	key_file = "device.key"
	journal = "journal.redb"
	metrics = "127.0.0.1:9799"
	[meter]
	address = "127.0.0.1:5090"
	[meter.map]
	kind = "simulator"
	[owner]
	key_file = "owner.key"
	buy_limit_per_kwh = 250000
	sell_limit_per_kwh = 100000
	daily_budget = 20000000
EOF
"$LEM_NODE" key inspect //Household5 --output-type json |
	sed -n 's/.*"secretSeed": "\(0x[0-9a-f]*\)".*/\1/p' >"$dir/owner.key"
"$GATEWAY" --config "$dir/gateway.toml" 2>"$dir/gateway.log" &
gw=$!
pids+=($gw)

proof_bytes() { curl -s http://127.0.0.1:9799/metrics | awk '/^lem_gateway_proof_bytes_total/ {print $2}'; }
# Start sampling at a slot's start, for whole slots.
sleep $((30 - $(date +%s) % 30))
proof_bytes_start=$(proof_bytes)
ticks=$(getconf CLK_TCK)
samples="$dir/samples"
end=$(($(date +%s) + SLOTS * 30))
while [ "$(date +%s)" -lt "$end" ]; do
	read -r -a stat <"/proc/$gw/stat"
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$gw/status")
	echo "$(date +%s.%N) $((stat[13] + stat[14])) $rss" >>"$samples"
	sleep 1
done
proof_bytes_end=$(proof_bytes)

# CPU time is counted in ticks of 10 ms, so it is given per run and per slot, not per second.
awk -v ticks="$ticks" '
	NR == 1 { t0 = $1; c0 = $2 }
	{
		t = $1; c = $2
		if (($1 % 30) < 5) { if ($3 > brss) brss = $3 } else { if ($3 > irss) irss = $3 }
	}
	END {
		slots = (t - t0) / 30; cpu = (c - c0) / ticks
		printf "peak RSS idle: %.1f MiB; in the 5 s after a slot end: %.1f MiB\n", irss / 1024, brss / 1024
		printf "CPU: %.2f s in %.0f slots of 30 s: %.3f s per slot, %.3f %% of a core\n", cpu, slots, cpu / slots, 100 * cpu / (t - t0)
	}' "$samples"
final=$(grep -c "reading final" "$dir/gateway.log" || true)
echo "readings final during the run: $final; orders placed: $(grep -c "order placed" "$dir/gateway.log" || true)"
echo "proofs received (finality and storage): $((proof_bytes_end - proof_bytes_start)) bytes in $SLOTS slots, \
$(((proof_bytes_end - proof_bytes_start) / SLOTS)) bytes per slot"
kill -TERM "$gw"
wait "$gw" || true
entries=$("$GATEWAY" journal --config "$dir/gateway.toml" | grep -vc "^order " || true)
echo "journal: $(stat -c %s "$dir/journal.redb") bytes for $entries slots"
echo "binary: $(stat -c %s "$GATEWAY") bytes ($(uname -m), release)"
aarch64="$TARGET_DIR/aarch64-unknown-linux-gnu/release/lem-gateway"
[ -f "$aarch64" ] && echo "binary: $(stat -c %s "$aarch64") bytes (aarch64, release)"
