//! `lem-load`: a town's community on the four-authority local network under the load it would
//! carry. Every metering point is a participant with a gateway key; after each slot ends every
//! meter's reading goes in, signed and batched as the gateway does, and before each gate
//! closure a share of the participants place an order, signed with the gateway's owner code.
//! The harness follows the finalized chain and reports per slot: how long after its end all
//! its readings were final, how many blocks clearing and settlement took and at what weight,
//! and each node's CPU time, resident memory and database size.
//!
//!   lem-load [--points N] [--slots K] [--slot-seconds S] [--gate-lead S] [--orders PERCENT]
//!            [--report FILE]

use ed25519_dalek::SigningKey;
use frame_support::dispatch::DispatchClass;
use frame_support::dispatch::PerDispatchClass;
use lem_gateway::{
	owner::{Call, Owner, Side, Signing},
	reading::{self, Reading},
};
use lem_runtime::{Runtime, RuntimeCall, RuntimeEvent};
use lem_tests::{dev_pair, local_chain_spec, sign, wait_for, LocalNetwork, Node};
use pallet_market::runtime_api::SlotClock;
use serde_json::json;
use sp_core::{crypto::Ss58Codec, Pair, H256};
use std::{
	collections::BTreeMap,
	fmt::Write as _,
	path::{Path, PathBuf},
	thread::sleep,
	time::{Duration, Instant},
};

/// Gateway keys registered per batch call of the technician.
const KEYS_PER_CALL: usize = 500;
/// A block's weight limit (2 s); a quarter of it is the share for per-block work.
const BLOCK_WEIGHT: u64 = 2_000_000_000_000;

struct Args {
	points: u32,
	slots: u64,
	slot_seconds: u64,
	gate_lead: u64,
	order_percent: u32,
	report: Option<PathBuf>,
}

fn args() -> Args {
	let mut a = Args {
		points: 10_000,
		slots: 3,
		slot_seconds: 900,
		gate_lead: 300,
		order_percent: 25,
		report: None,
	};
	let mut it = std::env::args().skip(1);
	while let Some(flag) = it.next() {
		let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
		let number = || value.parse::<u64>().unwrap_or_else(|_| panic!("{flag}: {value}"));
		match flag.as_str() {
			"--points" => a.points = number() as u32,
			"--slots" => a.slots = number(),
			"--slot-seconds" => a.slot_seconds = number(),
			"--gate-lead" => a.gate_lead = number(),
			"--orders" => a.order_percent = number() as u32,
			"--report" => a.report = Some(value.into()),
			_ => panic!("unknown flag {flag}"),
		}
	}
	a
}

/// One metering point of the town, its participant and its gateway.
struct Meter {
	point: u64,
	zone: u32,
	owner: Owner,
	nonce: u32,
	gateway: SigningKey,
	registers: (u64, u64),
}

impl Meter {
	fn new(i: u32) -> Meter {
		let seed =
			|what: &str| sp_crypto_hashing::blake2_256(format!("lem-load/{what}/{i}").as_bytes());
		Meter {
			point: 1_000_000 + i as u64,
			zone: pallet_market::demo::STREETS[i as usize % pallet_market::demo::STREETS.len()],
			owner: Owner::from_seed(&seed("owner")),
			nonce: 0,
			gateway: SigningKey::from_bytes(&seed("gateway")),
			registers: (0, 0),
		}
	}

	fn account(&self) -> String {
		sp_core::crypto::AccountId32::new(self.owner.account()).to_ss58check()
	}

	/// Its reading of `slot`: a household's few hundred Wh either way.
	fn read(&mut self, slot: u64) -> Reading {
		let mix = (self.point ^ slot.wrapping_mul(0x9e37_79b9)) % 1_000;
		let (import_wh, export_wh) = if mix.is_multiple_of(3) { (0, mix / 2) } else { (mix, 0) };
		self.registers.0 += import_wh;
		self.registers.1 += export_wh;
		Reading {
			metering_point: self.point,
			slot,
			import_wh,
			export_wh,
			import_register_wh: self.registers.0,
			export_register_wh: self.registers.1,
		}
	}
}

/// What the finalized chain showed of a slot.
#[derive(Default)]
struct SlotSeen {
	readings: u32,
	readings_final_at: Option<Instant>,
	submitted_at: Option<Instant>,
	cleared_at: Option<u32>,
	settled_at: Option<u32>,
}

/// A finalized block's figures.
struct BlockSeen {
	timestamp_ms: u64,
	mandatory: u64,
	total: u64,
}

fn main() {
	let a = args();
	let dir = tempfile::Builder::new().prefix("lem-load-").tempdir().unwrap();
	let mut meters: Vec<Meter> = (0..a.points).map(Meter::new).collect();
	let spec = local_chain_spec(dir.path(), |patch| {
		let community = &mut patch["market"]["community"];
		community["slotSeconds"] = json!(a.slot_seconds);
		community["gateClosureLeadSeconds"] = json!(a.gate_lead);
		community["orderHorizonSlots"] = json!(4);
		community["maxMeteringPoints"] = json!(pallet_market::MAX_COMMUNITY_METERING_POINTS);
		community["maxOrdersPerSlot"] = json!(pallet_market::MAX_ORDERS_PER_SLOT);
		patch["metering"]["readingsGraceSeconds"] = json!(a.slot_seconds);
		for m in &meters {
			let point = json!({"id": m.point, "zone": m.zone, "ratedPowerW": 900_000});
			let participant = json!([m.account(), [point], 20_000_000u64]);
			patch["market"]["participants"].as_array_mut().unwrap().push(participant);
			let funds = json!([m.account(), 1_000_000_000_000u64]);
			patch["balances"]["balances"].as_array_mut().unwrap().push(funds);
		}
	});
	let net = LocalNetwork::start_on(spec.to_str().unwrap());
	let node = &net.nodes[0];
	wait_for("block #1", Duration::from_secs(60), || (node.best_number() >= 1).then_some(()));
	let genesis = node.genesis_hash();
	register_keys(node, &meters, genesis);
	let signing = signing(node, genesis);

	let clock = |n: &Node| n.runtime_call::<SlotClock>("MarketApi_clock", (), None);
	// The first slot measured is one whose gate stays open for a whole slot yet once every key
	// is in place, so that its orders all go in.
	let first = clock(node).first_open_slot + 1;
	let last = first + a.slots - 1;
	let mut slots: BTreeMap<u64, SlotSeen> = BTreeMap::new();
	let mut blocks: BTreeMap<u32, BlockSeen> = BTreeMap::new();
	let mut samples: Vec<(u64, Vec<NodeSample>)> = Vec::new();
	let (mut next_read, mut ordered_through, mut finalized) = (first, first - 1, 0);
	let deadline = Instant::now() + Duration::from_secs((a.slots + 3) * a.slot_seconds * 2);
	while slots.get(&last).and_then(|s| s.settled_at).is_none() {
		assert!(Instant::now() < deadline, "slot {last} not settled in time");
		let clocks: Vec<SlotClock> = net.nodes.iter().map(clock).collect();
		// Orders for the next slot still open, from a rotating share of the participants.
		let open = clocks[0].first_open_slot;
		if open > ordered_through && open <= last {
			place_orders(&net, &mut meters, open, a.order_percent, &signing);
			ordered_through = open;
		}
		// Every reading of a slot that has ended by every node's best block: a node takes a
		// reading only of a slot its own chain has seen end.
		let ended = clocks.iter().map(|c| c.current_slot).min().unwrap_or(0);
		if ended > next_read && next_read <= last {
			samples.push((next_read, net.nodes.iter().map(NodeSample::of).collect()));
			submit_readings(&net, &mut meters, next_read, genesis);
			slots.entry(next_read).or_default().submitted_at = Some(Instant::now());
			next_read += 1;
		}
		let head = node.finalized_number();
		while finalized < head {
			finalized += 1;
			follow(node, finalized, &mut slots, &mut blocks);
		}
		sleep(Duration::from_millis(500));
	}
	samples.push((last + 1, net.nodes.iter().map(NodeSample::of).collect()));
	let report = report(&a, first..=last, &slots, &blocks, &samples, &net);
	print!("{report}");
	if let Some(path) = &a.report {
		write_report(path, &report);
	}
	let short = (first..=last).filter(|s| slots.get(s).is_none_or(|s| s.readings < a.points));
	let short: Vec<u64> = short.collect();
	// Exiting runs no destructor: the nodes are stopped and their files removed first.
	drop(net);
	drop(dir);
	if !short.is_empty() {
		eprintln!("slots {short:?}: not every reading final");
		std::process::exit(1);
	}
}

/// Puts `report` between the load markers of the file at `path` (appended with them if it has
/// none), leaving the rest of the document as it is.
fn write_report(path: &Path, report: &str) {
	const BEGIN: &str = "<!-- lem-load: begin -->\n";
	const END: &str = "<!-- lem-load: end -->\n";
	let text = std::fs::read_to_string(path).unwrap_or_default();
	let section = format!("{BEGIN}{report}{END}");
	let text = match (text.find(BEGIN), text.find(END)) {
		(Some(b), Some(e)) if b < e => format!("{}{section}{}", &text[..b], &text[e + END.len()..]),
		_ => format!("{text}\n{section}"),
	};
	std::fs::write(path, text).unwrap();
}

fn signing(node: &Node, genesis: H256) -> Signing {
	let version = node.rpc("state_getRuntimeVersion", json!([]));
	Signing {
		genesis: genesis.0,
		spec_version: version["specVersion"].as_u64().unwrap() as u32,
		transaction_version: version["transactionVersion"].as_u64().unwrap() as u32,
	}
}

/// The demo's technician, assigned every genesis metering point, registers each gateway's key.
fn register_keys(node: &Node, meters: &[Meter], genesis: H256) {
	let technician = dev_pair("Technician");
	let who = technician.public().into();
	let nonce = node.nonce(&who);
	let xts = meters
		.chunks(KEYS_PER_CALL)
		.enumerate()
		.map(|(i, chunk)| {
			let calls = chunk
				.iter()
				.map(|m| {
					let key =
						sp_core::ed25519::Public::from_raw(m.gateway.verifying_key().to_bytes());
					RuntimeCall::Metering(pallet_metering::Call::register_key {
						metering_point: m.point,
						key,
					})
				})
				.collect();
			let batch = RuntimeCall::Utility(pallet_utility::Call::batch_all { calls });
			sign(&technician, batch, nonce + i as u32, genesis)
		})
		.collect();
	for outcome in node.submit_all(xts) {
		outcome.ok();
	}
}

/// A share of the participants, rotating with the slot, each place an order for `slot`: bids
/// and asks at limits that cross. Spread over the nodes, as gateways would be.
fn place_orders(net: &LocalNetwork, meters: &mut [Meter], slot: u64, percent: u32, s: &Signing) {
	let every = (100 / percent.clamp(1, 100)) as u64;
	for (i, m) in meters.iter_mut().enumerate() {
		if !(i as u64 + slot).is_multiple_of(every) {
			continue;
		}
		let side = if i % 2 == 0 { Side::Bid } else { Side::Ask };
		let call = Call::PlaceOrder {
			metering_point: m.point,
			slot,
			side,
			energy_wh: 200 + (i as u64 * 37) % 800,
			limit_per_kwh: 80_000 + (i as u64 * 331) % 150_000,
		};
		let xt = m.owner.sign(&call, m.nonce, s);
		let node = &net.nodes[i % net.nodes.len()];
		if node.try_rpc("author_submitExtrinsic", json!([hex(&xt)])).is_ok() {
			m.nonce += 1;
		}
	}
}

/// Every meter's reading of `slot`, batched and spread over the nodes.
fn submit_readings(net: &LocalNetwork, meters: &mut [Meter], slot: u64, genesis: H256) {
	let signed: Vec<_> =
		meters.iter_mut().map(|m| m.read(slot).sign(&m.gateway, &genesis.0)).collect();
	for (i, batch) in signed.chunks(reading::MAX_BATCH).enumerate() {
		let xt = reading::extrinsic(batch).expect("a batch within the bound");
		let node = &net.nodes[i % net.nodes.len()];
		if let Err(e) = node.try_rpc("author_submitExtrinsic", json!([hex(&xt)])) {
			eprintln!("slot {slot}: a batch of readings refused: {e}");
		}
	}
}

fn hex(bytes: &[u8]) -> String {
	sp_core::bytes::to_hex(bytes, false)
}

/// Takes finalized block `number`'s events and weight into what was seen.
fn follow(
	node: &Node,
	number: u32,
	slots: &mut BTreeMap<u64, SlotSeen>,
	blocks: &mut BTreeMap<u32, BlockSeen>,
) {
	let hash = node.block_hash(number).expect("a finalized block");
	for record in node.events_at(hash) {
		match record.event {
			RuntimeEvent::Metering(pallet_metering::Event::ReadingAccepted { slot, .. }) => {
				let seen = slots.entry(slot).or_default();
				seen.readings += 1;
				seen.readings_final_at = Some(Instant::now());
			}
			RuntimeEvent::Market(pallet_market::Event::SlotCleared { slot, .. }) => {
				slots.entry(slot).or_default().cleared_at = Some(number);
			}
			RuntimeEvent::Settlement(pallet_settlement::Event::SlotSettled { slot, .. }) => {
				slots.entry(slot).or_default().settled_at = Some(number);
			}
			_ => {}
		}
	}
	let weight: PerDispatchClass<frame_support::weights::Weight> = node
		.storage_decoded(&frame_system::BlockWeight::<Runtime>::hashed_key(), Some(hash))
		.unwrap_or_default();
	let timestamp_ms: u64 = node
		.storage_decoded(&pallet_timestamp::Now::<Runtime>::hashed_key(), Some(hash))
		.unwrap_or_default();
	let class = |c| weight.get(c).ref_time();
	let mandatory = class(DispatchClass::Mandatory);
	let total = mandatory + class(DispatchClass::Normal) + class(DispatchClass::Operational);
	blocks.insert(number, BlockSeen { timestamp_ms, mandatory, total });
}

/// A node's CPU time (user and system), resident memory and database size.
struct NodeSample {
	cpu_seconds: f64,
	rss_mib: f64,
	db_mib: f64,
}

impl NodeSample {
	fn of(node: &Node) -> NodeSample {
		let pid = node.pid().expect("a running node");
		let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
		// Fields after the command's closing parenthesis; utime and stime are the 14th and 15th.
		let fields: Vec<&str> =
			stat.rsplit_once(')').map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
		let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
		let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
		let rss_kib = status
			.lines()
			.find_map(|l| l.strip_prefix("VmRSS:"))
			.and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
			.unwrap_or(0.0);
		NodeSample {
			cpu_seconds: (ticks(11) + ticks(12)) / 100.0,
			rss_mib: rss_kib / 1024.0,
			db_mib: dir_bytes(&node.config.base_path) as f64 / (1 << 20) as f64,
		}
	}
}

fn dir_bytes(path: &Path) -> u64 {
	let Ok(entries) = std::fs::read_dir(path) else { return 0 };
	entries
		.flatten()
		.map(|e| match e.file_type() {
			Ok(t) if t.is_dir() => dir_bytes(&e.path()),
			_ => e.metadata().map_or(0, |m| m.len()),
		})
		.sum()
}

fn report(
	a: &Args,
	measured: std::ops::RangeInclusive<u64>,
	slots: &BTreeMap<u64, SlotSeen>,
	blocks: &BTreeMap<u32, BlockSeen>,
	samples: &[(u64, Vec<NodeSample>)],
	net: &LocalNetwork,
) -> String {
	let mut r = String::new();
	let _ = writeln!(
		r,
		"{} metering points, {} s slots (gate closure {} s ahead), {} % of participants ordering per slot, 4 authorities\n",
		a.points, a.slot_seconds, a.gate_lead, a.order_percent
	);
	let _ = writeln!(r, "| slot | readings final | after submitting | readings/s | clearing blocks | settlement blocks | heaviest block | heaviest per-block work and inherents |");
	let _ = writeln!(r, "|---|---|---|---|---|---|---|---|");
	let share = BLOCK_WEIGHT / 4;
	for slot in measured {
		let Some(s) = slots.get(&slot) else { continue };
		let after = match (s.submitted_at, s.readings_final_at) {
			(Some(a), Some(f)) => f.saturating_duration_since(a).as_secs_f64(),
			_ => f64::NAN,
		};
		let gate = slot * a.slot_seconds - a.gate_lead;
		let due = (slot + 1) * a.slot_seconds + a.slot_seconds;
		let from =
			|secs: u64| blocks.iter().find(|(_, b)| b.timestamp_ms >= secs * 1000).map(|(n, _)| *n);
		let span = |start: Option<u32>, end: Option<u32>| match (start, end) {
			(Some(s), Some(e)) => (e + 1).saturating_sub(s).to_string(),
			_ => "-".into(),
		};
		let clearing = span(from(gate), s.cleared_at);
		let settlement = span(from(due), s.settled_at);
		// A session's rotation marks its block full on purpose (its weight is not measured);
		// those blocks are left out.
		let range = from(gate).unwrap_or(0)..=s.settled_at.unwrap_or(0);
		let measured =
			|| blocks.range(range.clone()).map(|(_, b)| b).filter(|b| b.mandatory < BLOCK_WEIGHT);
		let heaviest = measured().map(|b| b.total).max().unwrap_or(0);
		let work = measured().map(|b| b.mandatory).max().unwrap_or(0);
		let _ = writeln!(
			r,
			"| {slot} | {}/{} | {after:.0} s | {:.0} | {clearing} | {settlement} | {:.0} % | {:.0} % of the share |",
			s.readings,
			a.points,
			s.readings as f64 / after,
			heaviest as f64 * 100.0 / BLOCK_WEIGHT as f64,
			work as f64 * 100.0 / share as f64,
		);
	}
	let _ = writeln!(r, "\n| node | CPU per slot | RSS at the end | database at the end | database growth per slot |");
	let _ = writeln!(r, "|---|---|---|---|---|");
	if let (Some((s0, first)), Some((s1, last))) = (samples.first(), samples.last()) {
		let n = (s1 - s0).max(1) as f64;
		for (i, node) in net.nodes.iter().enumerate() {
			let _ = writeln!(
				r,
				"| {} | {:.1} s | {:.0} MiB | {:.0} MiB | {:.1} MiB |",
				node.config.name,
				(last[i].cpu_seconds - first[i].cpu_seconds) / n,
				last[i].rss_mib,
				last[i].db_mib,
				(last[i].db_mib - first[i].db_mib) / n,
			);
		}
	}
	r
}
