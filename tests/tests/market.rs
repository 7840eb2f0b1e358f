//! The market on a running `dev-fast` chain: the DSO changes the grid and households place orders
//! over RPC, the slot clears by itself in the first block at or after its gate closure, and the
//! stored result equals what the `lem-clear` CLI computes from the same instance.

use lem_runtime::{AccountId, RuntimeCall, RuntimeError, RuntimeEvent};
use lem_tests::*;
use pallet_market::{demo, runtime_api::SlotClock, ClearedSlot, Error, Side, Slot, TrafficLight};
use serde_json::{json, Value};
use sp_core::{Pair, H256};
use std::{
	io::Write,
	process::{Command, Stdio},
	time::Duration,
};

const MINUTE: Duration = Duration::from_secs(60);

fn market(call: pallet_market::Call<lem_runtime::Runtime>) -> RuntimeCall {
	RuntimeCall::Market(call)
}

fn place(point: u64, slot: Slot, side: Side, energy_wh: u64, limit_per_kwh: u64) -> RuntimeCall {
	market(pallet_market::Call::place_order {
		metering_point: point,
		slot,
		side,
		energy_wh,
		limit_per_kwh,
	})
}

fn timestamp_ms(node: &Node, at: H256) -> u64 {
	let key = frame_support::storage::storage_prefix(b"Timestamp", b"Now");
	node.storage_decoded(&key, Some(at)).expect("a timestamp")
}

/// Runs the `lem-clear` binary the workspace built on `input`.
fn lem_clear(input: &Value) -> Value {
	let bin = node_binary().with_file_name("lem-clear");
	let mut child = Command::new(&bin)
		.stdin(Stdio::piped())
		.stdout(Stdio::piped())
		.stderr(Stdio::piped())
		.spawn()
		.unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
	child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
	let out = child.wait_with_output().unwrap();
	assert!(out.status.success(), "lem-clear: {}", String::from_utf8_lossy(&out.stderr));
	serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn orders_placed_over_rpc_clear_at_gate_closure_like_the_cli() {
	let chain = DevChain::start();
	let node = &chain.node;
	wait_for("block #1", MINUTE, || (node.best_number() >= 1).then_some(()));
	let genesis = node.genesis_hash();

	// The DSO congests the southern feeder and turns street 22 yellow.
	let dso = dev_pair("Dso");
	for outcome in node.submit_all(vec![
		sign(
			&dso,
			market(pallet_market::Call::set_edge {
				zone: 2,
				fee_per_kwh: 10_000,
				capacity_wh: Some(3_000),
			}),
			0,
			genesis,
		),
		sign(
			&dso,
			market(pallet_market::Call::set_traffic_light {
				zone: 22,
				light: TrafficLight::Yellow,
			}),
			1,
			genesis,
		),
	]) {
		outcome.ok();
	}

	// Households order two slots after the first open one: its gate is over ten blocks away.
	let clock: SlotClock = node.runtime_call("MarketApi_clock", (), None);
	let slot = clock.first_open_slot + 2;
	let orders = [
		(1, Side::Ask, 3_000, 80_000),
		(3, Side::Ask, 2_000, 120_000),
		(4, Side::Ask, 1_500, 60_000),
		(2, Side::Bid, 500, 100_000),
		(6, Side::Bid, 2_500, 300_000),
		(7, Side::Bid, 1_000, 70_000),
		(8, Side::Bid, 2_000, 250_000),
		(9, Side::Bid, 1_500, 200_000),
	];
	let xts = orders
		.iter()
		.map(|&(h, side, energy, limit)| {
			let point = demo::HOUSEHOLD_METERING_POINTS[h - 1].id;
			sign(
				&dev_pair(&format!("Household{h}")),
				place(point, slot, side, energy, limit),
				0,
				genesis,
			)
		})
		.collect();
	let mut placed = Vec::new();
	for outcome in node.submit_all(xts) {
		let outcome = outcome.ok();
		placed.extend(outcome.events.iter().filter_map(|e| match e {
			RuntimeEvent::Market(pallet_market::Event::OrderPlaced {
				order,
				side,
				zone,
				energy_wh,
				limit_per_kwh,
				..
			}) => Some((*order, *side, *zone, *energy_wh, *limit_per_kwh)),
			_ => None,
		}));
	}
	assert_eq!(placed.len(), orders.len());

	// Refusals arrive as named errors.
	let ferdie = sp_keyring::Sr25519Keyring::Ferdie.pair();
	let stranger = node.submit(&ferdie, place(1001, slot, Side::Bid, 1_000, 100_000));
	assert!(matches!(stranger.runtime_error(), Some(RuntimeError::Market(Error::NotParticipant))));
	let h5 = dev_pair("Household5");
	let late = node.submit(&h5, place(1005, clock.current_slot, Side::Bid, 1_000, 100_000));
	assert!(matches!(late.runtime_error(), Some(RuntimeError::Market(Error::GateClosed))));
	let book: Vec<(u64, pallet_market::Order<AccountId, u128>)> =
		node.runtime_call("MarketApi_order_book", slot, None);
	assert_eq!(book.len(), orders.len());

	let cleared: ClearedSlot = wait_for("the slot to clear", 3 * MINUTE, || {
		node.runtime_call::<Option<ClearedSlot>>("MarketApi_cleared_slot", slot, None)
	});

	// It cleared in the first block at or after gate closure, with no transaction for it.
	let community: pallet_market::Community = node.runtime_call("MarketApi_community", (), None);
	let gate_ms = community.gate_closure(slot) * 1000;
	let mut number = node.best_number();
	let block = loop {
		let hash = node.block_hash(number).unwrap();
		let cleared_here = node.events_at(hash).iter().any(|r| {
			matches!(r.event,
				RuntimeEvent::Market(pallet_market::Event::SlotCleared { slot: s, .. }) if s == slot)
		});
		if cleared_here {
			break hash;
		}
		number -= 1;
	};
	assert!(timestamp_ms(node, block) >= gate_ms);
	assert!(timestamp_ms(node, node.block_hash(number - 1).unwrap()) < gate_ms);
	let no_book: Vec<(u64, pallet_market::Order<AccountId, u128>)> =
		node.runtime_call("MarketApi_order_book", slot, None);
	assert!(no_book.is_empty());

	// The CLI on the same instance: the grid the slot was cleared with and its orders.
	let zones: Vec<Value> = cleared
		.grid
		.engine_zones()
		.iter()
		.map(|z| {
			let mut v = json!({"id": z.id, "fee_per_kwh": z.fee_per_kwh});
			if let Some(p) = z.parent {
				v["parent"] = json!(p);
			}
			if let Some(c) = z.capacity_wh {
				v["capacity_wh"] = json!(c);
			}
			v
		})
		.collect();
	let cli_orders: Vec<Value> = placed
		.iter()
		.map(|&(id, side, zone, energy, limit)| {
			json!({"id": id, "side": if side == Side::Bid { "bid" } else { "ask" },
				"zone": zone, "energy_wh": energy, "limit_per_kwh": limit})
		})
		.collect();
	let cli = lem_clear(&json!({"zones": zones, "orders": cli_orders, "pricing": "pay-as-clear"}));

	let chain_prices: Vec<Value> = cleared
		.zone_prices
		.iter()
		.map(|p| json!({"zone": p.zone, "price_per_kwh": p.price_per_kwh}))
		.collect();
	assert_eq!(cli["zone_prices"], json!(chain_prices));
	let fills = node.fills(slot, None);
	let chain_fills: Vec<Value> = fills
		.iter()
		.map(|f| json!({"id": f.order, "energy_wh": f.energy_wh, "price_per_kwh": f.price_per_kwh}))
		.collect();
	assert_eq!(cli["fills"], json!(chain_fills));
	let chain_flows: Vec<Value> =
		cleared.flows.iter().map(|f| json!({"zone": f.zone, "energy_wh": f.energy_wh})).collect();
	assert_eq!(cli["flows"], json!(chain_flows));
	assert_eq!(cli["welfare"], json!(cleared.welfare as i64));
	assert_eq!(cli["dso_revenue"], json!(cleared.dso_revenue as i64));
	assert_eq!(cli["remainder"], json!(cleared.remainder as i64));

	// The DSO's changes were in force: the feeder edge is full and street 22 pays the surcharge.
	assert_eq!(cleared.flows.iter().find(|f| f.zone == 2).unwrap().energy_wh, -3_000);
	assert_eq!(cleared.grid.zone(22).unwrap().light, TrafficLight::Yellow);
	assert!(fills.iter().any(|f| f.energy_wh > 0));
	assert_eq!(cleared.filled as usize, fills.iter().filter(|f| f.energy_wh > 0).count());

	// A household sees its order with its fill.
	let h6: AccountId = dev_pair("Household6").public().into();
	let mine: Vec<(u64, pallet_market::Order<AccountId, u128>, Option<pallet_market::Fill>)> =
		node.runtime_call("MarketApi_orders_of", (h6, slot, slot), None);
	assert_eq!(mine.len(), 1);
	let fill = mine[0].2.expect("a fill once cleared");
	assert_eq!(Some(&fill), fills.iter().find(|f| f.order == mine[0].0));
}
