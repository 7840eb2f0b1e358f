#!/usr/bin/env bash
# Runs lem's demo community on this machine: the four authority nodes of the `local` chain,
# and for each of the ten demo households a meter (lem-meter-sim, its day 30 times as fast,
# so a 30 s slot is 15 minutes of it) and a gateway (lem-gateway) that reads it and signs every
# slot's reading. The gateways of households 2 to 10 also trade for their households with the
# households' account keys: they keep the standing orders in place and bid or ask for the next
# slots from their meters' forecasts. Household 1 trades through the app (market-ui/), served
# at http://127.0.0.1:5173 with the auditor's verifying service (lem-audit --serve) it asks, so
# that its orders and nonces are a person's alone. The demo's technician registers the
# gateways' keys; then it shows each slot being read, cleared and settled. Ctrl-C stops
# everything. Every run starts a fresh chain in $LEM_RUN_DIR (default /tmp/lem-run).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

scripts/setup.sh
cargo build --workspace --locked
BIN=$(dirname "$LEM_NODE")

RUN_DIR=${LEM_RUN_DIR:-/tmp/lem-run}
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
export LEM_NET_DIR="$RUN_DIR/net"

pids=()
stop() {
	trap - INT TERM EXIT
	echo "stopping"
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap stop INT TERM EXIT

scripts/start-local-network.sh &
pids+=($!)

rpc() {
	curl -s -H 'Content-Type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":[$2]}" http://127.0.0.1:9944 || true
}
echo "waiting for node1's RPC at http://127.0.0.1:9944 ..."
until rpc system_health "" | grep -q '"peers"'; do sleep 1; done
genesis=$(rpc chain_getBlockHash 0 | sed -n 's/.*"result":"\(0x[0-9a-f]*\)".*/\1/p')
echo "chain genesis $genesis"
# What every gateway trusts: the raw chain spec; from it each checks finality and values itself.
"$LEM_NODE" export-chain-spec --chain local --raw >"$RUN_DIR/chain-spec.json"

gateways=()
for h in $(seq 1 10); do
	box="$RUN_DIR/box$h" point=$((1000 + h)) meter="127.0.0.1:$((5020 + h))"
	mkdir -p "$box"
	# The households' day starts at 08:00, so the sun soon shines on the PV roofs.
	"$BIN/lem-meter-sim" --household "$h" --listen "$meter" --speed 30 --start-hour 8 >"$box/meter.log" 2>&1 &
	pids+=($!)
	public=$("$BIN/lem-gateway" keygen --out "$box/device.key")
	gateways+=(--gateway "$point=$public")
	# Each box prefers one node and falls back on the others.
	first=$((9944 + (h - 1) % 4))
	nodes="\"ws://127.0.0.1:$first\""
	for port in 9944 9945 9946 9947; do
		[ "$port" = "$first" ] || nodes+=", \"ws://127.0.0.1:$port\""
	done
	cat >"$box/gateway.toml" <<-EOF
		metering_point = $point
		chain_spec = "$RUN_DIR/chain-spec.json"
		nodes = [$nodes]
		key_file = "device.key"
		journal = "journal.redb"
		metrics = "127.0.0.1:$((9700 + h))"
		[meter]
		address = "$meter"
		[meter.map]
		kind = "simulator"
	EOF
	[ "$h" = 1 ] && continue
	# The household's account key (a development key): the box trades for it, buying below
	# the utility's retail price (0.30 EUR/kWh) and selling above its feed-in (0.08 EUR/kWh),
	# at most 20 EUR a day.
	"$LEM_NODE" key inspect "//Household$h" --output-type json |
		sed -n 's/.*"secretSeed": "\(0x[0-9a-f]*\)".*/\1/p' >"$box/owner.key"
	chmod 600 "$box/owner.key"
	cat >>"$box/gateway.toml" <<-EOF
		[owner]
		key_file = "owner.key"
		buy_limit_per_kwh = 250000
		sell_limit_per_kwh = 100000
		daily_budget = 20000000
	EOF
done

echo "the technician registers the ten gateways' keys ..."
"$BIN/lem-demo" setup "${gateways[@]}"

for h in $(seq 1 10); do
	"$BIN/lem-gateway" --config "$RUN_DIR/box$h/gateway.toml" 2>>"$RUN_DIR/box$h/gateway.log" &
	pids+=($!)
done
# The app, as built, and the auditor's verifying service its auditor view asks.
(cd market-ui && node_modules/.bin/vite build --logLevel warn)
market-ui/node_modules/.bin/vite preview --config market-ui/vite.config.ts market-ui \
	--host 127.0.0.1 --port 5173 --strictPort >"$RUN_DIR/app.log" 2>&1 &
pids+=($!)
"$BIN/lem-audit" --chain-spec "$RUN_DIR/chain-spec.json" --node ws://127.0.0.1:9944 \
	--node ws://127.0.0.1:9945 --serve 127.0.0.1:9800 2>"$RUN_DIR/audit.log" &
pids+=($!)

cat <<EOF

The market runs. Slots are 30 s; a slot is cleared at gate closure, 10 s before it starts;
each gateway signs its reading right after the slot ends; the chain settles the slot once
the readings window (60 s) is over, with the households' standing orders trading the
metered energy locally. The gateways of households 2 to 10 place their households' orders
ahead of the slots (log lines "order placed"), keep the standing orders in place, and check
each settled slot's record against their own reckoning ("bill matches"); a household's
ledger: http://127.0.0.1:9702/ledger.json (or .csv) ... 9710. Gateway logs and journals: $RUN_DIR/box<h>/; metrics:
http://127.0.0.1:9701/metrics ... 9710; node logs: $LEM_NET_DIR/.

The app: http://127.0.0.1:5173/?dev#household
Act as Household1 (its box leaves trading to you): place a bid for the next slots, watch it
in the order book and filled at gate closure, and see each settled slot in your day view. The
other views are the market, the DSO, the manager and technician, the utility and the auditor
(whose checks lem-audit --serve makes at http://127.0.0.1:9800). Ctrl-C stops.

EOF
"$BIN/lem-demo" watch &
pids+=($!)
wait -n "${pids[@]}"
echo "a process exited; see the logs in $RUN_DIR" >&2
exit 1
