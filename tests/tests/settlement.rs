//! A slot from orders to an audited settlement on a running `dev-fast` chain: households place
//! orders and standing orders over RPC, the slot clears at gate closure, test gateways
//! (ed25519-dalek) sign and submit readings after it, the chain settles it in the first block
//! after the readings window, and the `lem-audit` binary exports the records as CSV checked
//! against the state root of a block whose finality it checked from the chain spec. A record
//! changed or dropped on the way fails the check.

use codec::Encode;
use lem_audit::{keys_to_prove, verify, AuditError, Auditor};
use lem_runtime::{AccountId, RuntimeCall};
use lem_tests::{
	gateway::{bare, reading, Gateway},
	*,
};
use pallet_market::{demo, runtime_api::SlotClock, Side, Slot};
use pallet_metering::Metered;
use pallet_settlement::{RetailChoice, SettledSlot, SettlementRecord, SettlementsPage};
use sp_core::{crypto::Ss58Codec, Pair, H256};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

fn household(i: usize) -> AccountId {
	dev_pair(&format!("Household{i}")).public().into()
}

fn point(i: usize) -> u64 {
	demo::HOUSEHOLD_METERING_POINTS[i - 1].id
}

/// An account's total balance (free and held) at block `at`.
fn balance(node: &Node, who: &AccountId, at: H256) -> i128 {
	let key = [
		frame_support::storage::storage_prefix(b"System", b"Account").to_vec(),
		sp_crypto_hashing::blake2_128(who.as_ref()).to_vec(),
		who.encode(),
	]
	.concat();
	let info: frame_system::AccountInfo<u32, pallet_balances::AccountData<u128>> =
		node.storage_decoded(&key, Some(at)).unwrap_or_default();
	(info.data.free + info.data.reserved) as i128
}

fn records(node: &Node, slot: Slot, at: H256) -> Vec<(Slot, AccountId, SettlementRecord)> {
	let page: SettlementsPage<AccountId> = node.runtime_call(
		"SettlementApi_settlements",
		(slot, slot, None::<AccountId>, None::<AccountId>),
		Some(at),
	);
	assert_eq!(page.next, None, "a slot's records fit one page");
	page.records
}

#[test]
fn a_slot_goes_from_orders_through_readings_to_an_audited_settlement() {
	let chain = DevChain::start();
	let node = &chain.node;
	wait_for("block #1", MINUTE, || (node.best_number() >= 1).then_some(()));
	let genesis = node.genesis_hash();

	// The technician registers the gateways of households 1 to 4.
	let gateways: Vec<Gateway> = (1..=4).map(|i| Gateway::new(i as u8, genesis)).collect();
	let keys: Vec<_> =
		gateways.iter().enumerate().map(|(i, g)| (point(i + 1), g.public())).collect();
	install_gateway_keys(node, &keys);

	// Orders for the slot after the first open one; standing orders; a green choice.
	let clock: SlotClock = node.runtime_call("MarketApi_clock", (), None);
	let slot = clock.first_open_slot + 1;
	let market = |call| RuntimeCall::Market(call);
	let place = |i: usize, side, energy_wh, limit_per_kwh| {
		market(pallet_market::Call::place_order {
			metering_point: point(i),
			slot,
			side,
			energy_wh,
			limit_per_kwh,
		})
	};
	let standing = |buy, sell| {
		market(pallet_market::Call::set_standing_order {
			buy_limit_per_kwh: buy,
			sell_limit_per_kwh: sell,
			daily_budget: 1_000_000,
		})
	};
	let calls = [
		(1, place(1, Side::Bid, 2_000, 250_000)),
		(3, place(3, Side::Ask, 1_500, 100_000)),
		(2, standing(200_000, 50_000)),
		(4, standing(100_000, 90_000)),
		(
			5,
			RuntimeCall::Settlement(pallet_settlement::Call::choose_retail {
				choice: RetailChoice::Green,
			}),
		),
	];
	let xts = calls
		.into_iter()
		.map(|(i, call)| {
			let who = dev_pair(&format!("Household{i}"));
			sign(&who, call, node.nonce(&who.public().into()), genesis)
		})
		.collect();
	node.submit_all(xts).into_iter().for_each(|o| {
		o.ok();
	});

	// Once the slot is over, the gateways sign and submit its readings; households 5 to 10
	// send none.
	let (opens, closes): (u64, u64) = node.runtime_call("MeteringApi_readings_window", slot, None);
	wait_for("the end of the slot", 3 * MINUTE, || {
		let clock: SlotClock = node.runtime_call("MarketApi_clock", (), None);
		(clock.now_seconds >= opens).then_some(())
	});
	let metered = [(3_000, 0), (800, 0), (0, 1_000), (0, 1_200)];
	let xts = gateways
		.iter()
		.zip(metered)
		.enumerate()
		.map(|(i, (g, (import, export)))| {
			let r = reading(point(i + 1), slot, import, export, 50_000 + import, 20_000 + export);
			bare(pallet_metering::Call::submit_reading { reading: g.sign(r) })
		})
		.collect();
	node.submit_all(xts).into_iter().for_each(|o| {
		o.ok();
	});

	// The slot settles in the first block at or after the window's end.
	let settled_at = |n: u32| -> Option<SettledSlot> {
		node.runtime_call("SettlementApi_settled_slot", slot, Some(node.block_hash(n)?))
	};
	let mut settled_in = wait_for("settlement", 3 * MINUTE, || {
		let best = node.best_number();
		settled_at(best).map(|_| best)
	});
	while settled_at(settled_in - 1).is_some() {
		settled_in -= 1;
	}
	let (block, parent) =
		(node.block_hash(settled_in).unwrap(), node.block_hash(settled_in - 1).unwrap());
	let settled = settled_at(settled_in).unwrap();
	let timestamp = |at| -> u64 {
		let key = frame_support::storage::storage_prefix(b"Timestamp", b"Now");
		node.storage_decoded::<u64>(&key, Some(at)).unwrap() / 1000
	};
	assert!(timestamp(parent) < closes && timestamp(block) >= closes);

	// Every balance change is the record's, and they sum to zero with the utility's, the
	// DSO's and the community account's.
	let rows = records(node, slot, block);
	assert_eq!(rows.len(), 10);
	let mut accounts: Vec<AccountId> = (1..=10).map(household).collect();
	accounts.extend([
		dev_pair("Utility").public().into(),
		dev_pair("Dso").public().into(),
		lem_runtime::CommunityAccount::get(),
	]);
	let change: Vec<i128> =
		accounts.iter().map(|a| balance(node, a, block) - balance(node, a, parent)).collect();
	assert_eq!(change.iter().sum::<i128>(), 0, "money is conserved to the unit");
	for (i, who) in accounts[..10].iter().enumerate() {
		let (_, _, r) = rows.iter().find(|(_, a, _)| a == who).unwrap();
		assert_eq!(change[i], r.balance_change(), "household {}", i + 1);
	}
	assert_eq!(
		(change[10], change[11], change[12]),
		(settled.utility, settled.dso, settled.community)
	);
	let record = |i: usize| rows.iter().find(|(_, a, _)| *a == household(i)).unwrap().2;
	// Household 3 sold only 1.5 kWh: household 1 bought that and the rest from the utility.
	assert_eq!((record(1).bought_wh, record(1).from_utility_wh), (1_500, 1_500));
	assert_eq!(record(1).price_per_kwh, Some(node.fills(slot, Some(block))[0].price_per_kwh));
	assert_eq!(
		(record(2).ex_post_bought_wh, record(4).ex_post_sold_wh, record(4).to_utility_wh),
		(800, 800, 400)
	);
	assert_eq!((record(3).sold_wh, record(3).from_utility_wh), (1_500, 500));
	assert_eq!(
		(record(5).metered, record(5).estimated_readings, record(5).retail),
		(Metered::default(), 1, RetailChoice::Green)
	);

	// The auditor's export, from the node's finalized state.
	wait_for("finality of the settlement", 2 * MINUTE, || {
		(node.finalized_number() >= settled_in).then_some(())
	});
	let ws = node.ws_url();
	let dir = tempfile::tempdir().unwrap();
	let spec = raw_chain_spec_file(DEV, dir.path());
	let spec = spec.to_str().unwrap();
	let csv_path = dir.path().join("settlements.csv");
	let (from, to) = ((slot - 2).to_string(), (slot + 1).to_string());
	let audit = |more: &[&str]| {
		let mut args = vec!["--chain-spec", spec, "--node", &ws, "--from", &from, "--to", &to];
		args.extend_from_slice(more);
		lem_audit(&args)
	};
	let (ok, _, stderr) = audit(&["--out", csv_path.to_str().unwrap()]);
	assert!(ok, "lem-audit: {stderr}");
	assert!(stderr.contains("verified"), "{stderr}");
	let csv = std::fs::read_to_string(&csv_path).unwrap();
	let lines: Vec<&str> = csv.lines().collect();
	assert_eq!(lines[0], lem_audit::CSV_HEADER);
	// Every line names the finalized block it was verified against.
	let mut verified_at = lines[1].rsplit(',');
	let hash = verified_at.next().unwrap().parse::<H256>().unwrap();
	let number: u32 = verified_at.next().unwrap().parse().unwrap();
	assert!(number >= settled_in && node.block_hash(number) == Some(hash));
	let ours: Vec<&str> =
		lines.iter().copied().filter(|l| l.starts_with(&format!("{slot},"))).collect();
	assert_eq!(ours.len(), 10);
	let h1 = household(1).to_ss58check();
	let column = |line: &str, name: &str| -> String {
		let at = lem_audit::CSV_HEADER.split(',').position(|c| c == name).unwrap();
		line.split(',').nth(at).unwrap().to_string()
	};
	let line = ours.iter().find(|l| l.contains(&h1)).unwrap();
	let h1_columns =
		["import_wh", "estimated_readings", "from_utility_wh", "retail", "retail_per_kwh"]
			.map(|name| column(line, name));
	assert_eq!(h1_columns, ["3000", "0", "1500", "Grey", "300000"], "{line}");
	let h5 = household(5).to_ss58check();
	let line = ours.iter().find(|l| l.contains(&h5)).unwrap();
	assert_eq!(column(line, "estimated_readings"), "1", "{line}");

	// One account's export.
	let (ok, stdout, stderr) = audit(&["--account", &h1]);
	assert!(ok, "{stderr}");
	assert_eq!(stdout.lines().filter(|l| l.starts_with(&format!("{slot},"))).count(), 1);

	// A block the node does not have is refused by name.
	let (ok, _, stderr) = audit(&["--at", &format!("{:?}", H256::repeat_byte(7))]);
	assert!(!ok && stderr.contains("is not on the finalized chain"), "{stderr}");

	// A witness that has not finalized the block refuses the export: here a node of its own,
	// unconnected chain from the same genesis, as a second utility would be if the audited
	// node had made its chain up.
	let dir = tempfile::tempdir().unwrap();
	let stranger = Node::start(NodeConfig {
		name: "dev-stranger".into(),
		chain: DEV.into(),
		base_path: dir.path().join("stranger"),
		node_key: NODE_KEYS[1].into(),
		dev_account: Some("alice"),
		validator: true,
		bootnodes: vec![],
		p2p_port: free_port(),
		rpc_port: free_port(),
		prometheus_port: free_port(),
		args: vec![],
	});
	let witness = stranger.ws_url();
	let (ok, _, stderr) = audit(&["--witness", &witness]);
	assert!(!ok && stderr.contains(&format!("not finalized: {witness}")), "{stderr}");
	drop(stranger);

	// A node that changes a record, or leaves one out, fails the check against the proof.
	let genesis = lem_light_client::chain_spec::genesis(&std::fs::read(spec).unwrap()).unwrap();
	let mut auditor = Auditor::new(vec![ws.clone()], genesis);
	let at = auditor.finalized(None).unwrap();
	let (s, to) = (slot, slot);
	let honest = auditor.settlements(s, to, None, &at).unwrap();
	let mut check = |rows: &[lem_audit::Row]| {
		let keys = keys_to_prove(s, to, None, rows);
		let proven = auditor.read(&keys, &at).unwrap();
		verify(s, to, None, rows, &proven)
	};
	assert!(check(&honest).is_ok());
	let mut forged = honest.clone();
	forged[0].2.market_amount += 1;
	assert_eq!(
		check(&forged),
		Err(AuditError::RecordMismatch { slot, account: forged[0].1.clone() })
	);
	let dropped = honest[1..].to_vec();
	assert_eq!(check(&dropped), Err(AuditError::MissingRecord { slot }));
}

/// On the `local` chain every utility runs a node. The auditor asks one of them for the
/// settlements and has the other three confirm the block they were checked against is
/// finalized, so one utility cannot pass off a chain of its own.
#[test]
fn every_utilitys_node_confirms_the_block_an_export_is_checked_against() {
	let net = LocalNetwork::start();
	let node = &net.nodes[0];
	// Every participant gets a record of every slot, traded or not.
	let next = wait_for("two settled slots", 4 * MINUTE, || {
		let next: Option<Slot> = node.runtime_call("SettlementApi_next_to_settle", (), None);
		let settled: Option<SettledSlot> =
			next.and_then(|n| node.runtime_call("SettlementApi_settled_slot", n - 2, None));
		settled.and(next)
	});
	let settled_in = node.best_number();
	for i in 0..net.nodes.len() {
		net.wait_finalized(i, settled_in, 2 * MINUTE);
	}
	let spec = raw_chain_spec_file(LOCAL, net.dir.path());
	// A block every node has finalized, older than the latest: linked to it by parent hashes.
	let at = format!("{:?}", node.block_hash(settled_in).unwrap());
	let (from, to) = ((next - 2).to_string(), (next - 1).to_string());
	let mut args = vec!["--chain-spec".to_string(), spec.to_str().unwrap().into()];
	args.extend(["--node".into(), node.ws_url(), "--from".into(), from, "--to".into(), to]);
	args.extend(["--at".to_string(), at]);
	for witness in &net.nodes[1..] {
		args.extend(["--witness".to_string(), witness.ws_url()]);
	}
	let args: Vec<&str> = args.iter().map(String::as_str).collect();
	let (ok, stdout, stderr) = lem_audit(&args);
	assert!(ok, "lem-audit: {stderr}");
	assert!(stderr.contains("verified 20 records of 2 settled slots"), "{stderr}");
	assert!(stderr.contains("and 3 witness(es)"), "{stderr}");
	assert_eq!(stdout.lines().count(), 21);
}
