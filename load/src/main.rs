//! `lem-load`: a town's community on the four-authority local network under the load it would
//! carry. Every metering point is a participant with a gateway key; after each slot ends every
//! meter's reading goes in, signed and batched as the gateway does: a point's readings in slot
//! order, a later one held back while an earlier one is not final, and one long unanswered
//! sent again through the next node. Before each gate closure a share of the participants
//! place an order, signed with the gateway's owner code. The harness follows the finalized
//! chain and reports per slot: how long after its end all its readings were final, how many
//! blocks clearing and settlement took and at what weight; and per node its CPU time, resident
//! memory, database size and block import and authoring times. With `--fault` it puts the
//! network through a fault on the way (`fault.rs`). It checks that each slot was cleared and
//! settled once, every reading is final and every node finalized the same blocks, and exits
//! non-zero if not.
//!
//!   lem-load [--points N] [--slots K] [--slot-seconds S] [--gate-lead S] [--grace-seconds S]
//!            [--orders PERCENT] [--fault kill|partition|upgrade] [--report FILE]

mod fault;
mod report;
mod town;

use fault::{Fault, Kind};
use frame_support::dispatch::{DispatchClass, PerDispatchClass};
use lem_gateway_core::reading::{self, SignedReading};
use lem_runtime::{Runtime, RuntimeError, RuntimeEvent};
use lem_tests::{local_chain_spec, wait_for, LocalNetwork, Node};
use pallet_market::runtime_api::SlotClock;
use report::NodeSample;
use serde_json::json;
use std::{
	collections::BTreeMap,
	path::PathBuf,
	thread::sleep,
	time::{Duration, Instant},
};
use town::Meter;

/// The least time before a gate closure that a slot's orders are given to go in: on a loaded
/// network a block can be seconds late, and orders late for the gate leave their slot
/// uncleared.
const ORDERING_SECONDS: u64 = 45;
/// How many slots ahead the chain takes orders; the harness orders a slot as soon as every
/// node's clock is a slot inside that horizon.
const ORDER_HORIZON: u64 = 4;
/// How long a reading may stay unfinalized before it is sent again, through the next node.
const RESEND_AFTER: Duration = Duration::from_secs(60);
/// A block's weight limit (2 s); a quarter of it is the share for per-block work.
pub const BLOCK_WEIGHT: u64 = 2_000_000_000_000;

pub struct Args {
	pub points: u32,
	pub slots: u64,
	pub slot_seconds: u64,
	pub gate_lead: u64,
	pub order_percent: u32,
	pub grace: u64,
	fault: Option<Kind>,
	report: Option<PathBuf>,
}

fn args() -> Args {
	let mut a = Args {
		points: 10_000,
		slots: 3,
		slot_seconds: 900,
		gate_lead: 300,
		order_percent: 25,
		grace: 900,
		fault: None,
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
			"--grace-seconds" => a.grace = number(),
			"--fault" => {
				a.fault = Some(Kind::parse(&value).unwrap_or_else(|| panic!("--fault: {value}")))
			}
			"--report" => a.report = Some(value.into()),
			_ => panic!("unknown flag {flag}"),
		}
	}
	a
}

/// What the finalized chain showed of a slot.
#[derive(Default)]
pub struct SlotSeen {
	pub readings: u32,
	/// Readings refused because the point's reading of a later slot was in first: a reading
	/// lost with an abandoned fork and sent again too late. The later one settles its energy.
	pub superseded: u32,
	/// Readings sent again, not final a minute after they were sent: finality stopped, a fork
	/// took them back out, or a node's pool did not get them into a block.
	pub sent_again: u32,
	pub readings_final_at: Option<Instant>,
	pub submitted_at: Option<Instant>,
	pub cleared_at: Option<u32>,
	pub settled_at: Option<u32>,
	/// Orders a node took, and orders on the finalized chain.
	orders_sent: u32,
	orders_in: u32,
	cleared: u32,
	settled: u32,
}

/// A finalized block's figures.
pub struct BlockSeen {
	pub timestamp_ms: u64,
	pub mandatory: u64,
	pub total: u64,
	/// A session's rotation and a runtime upgrade mark their block full on purpose; their
	/// weight is not measured, and the report leaves them out.
	pub full_on_purpose: bool,
}

/// A metering point's readings not yet final, by slot; when they were last sent and the newest
/// slot sent then; and how many times any were sent.
#[derive(Default)]
pub struct Unfinal {
	readings: BTreeMap<u64, SignedReading>,
	sent: Option<(Instant, u64)>,
	sendings: usize,
}

impl Unfinal {
	/// The readings to send now, in slot order, and whether they were sent before; none if
	/// none is due. A reading is never sent ahead of an earlier one that is not final: once the
	/// later one were in, the earlier would be refused as out of order, and a fork's abandoned
	/// blocks can take a sent reading back out of the chain. So the readings sent last are sent
	/// again, alone, when they are long unanswered, and the later ones wait until those are
	/// final. Nor is a reading that may be in the node's best block already sent with new
	/// ones: the pool would refuse the batch as replayed.
	fn sending(&mut self) -> Option<(Vec<SignedReading>, bool)> {
		let oldest = *self.readings.keys().next()?;
		let again = match self.sent {
			Some((at, newest)) if oldest <= newest => {
				if at.elapsed() < RESEND_AFTER {
					return None;
				}
				Some(newest)
			}
			_ => None,
		};
		let batch: Vec<SignedReading> = self
			.readings
			.range(..=again.unwrap_or(u64::MAX))
			.map(|(_, r)| *r)
			.take(reading::MAX_BATCH)
			.collect();
		self.sent = Some((Instant::now(), batch.last()?.reading.slot));
		self.sendings += 1;
		Some((batch, again.is_some()))
	}
}

fn main() {
	let a = args();
	let dir = tempfile::Builder::new().prefix("lem-load-").tempdir().unwrap();
	let mut meters: Vec<Meter> = (0..a.points).map(Meter::new).collect();
	// Production's 6-second blocks: the load is what a town puts on them.
	let spec = local_chain_spec("local", dir.path(), |patch| {
		let community = &mut patch["market"]["community"];
		community["slotSeconds"] = json!(a.slot_seconds);
		community["gateClosureLeadSeconds"] = json!(a.gate_lead);
		community["orderHorizonSlots"] = json!(ORDER_HORIZON);
		community["maxMeteringPoints"] = json!(pallet_market::MAX_COMMUNITY_METERING_POINTS);
		community["maxOrdersPerSlot"] = json!(pallet_market::MAX_ORDERS_PER_SLOT);
		patch["metering"]["readingsGraceSeconds"] = json!(a.grace);
		// The town's meters only: with the demo's households a full town would be over the
		// limit.
		patch["market"]["participants"] = json!([]);
		for m in &meters {
			let point = json!({"id": m.point, "zone": m.zone, "ratedPowerW": 900_000});
			let participant = json!([m.account(), [point], 20_000_000u64]);
			patch["market"]["participants"].as_array_mut().unwrap().push(participant);
			let funds = json!([m.account(), 1_000_000_000_000u64]);
			patch["balances"]["balances"].as_array_mut().unwrap().push(funds);
		}
	});
	// litep2p, the default network backend, leaves the connection to a peer taken out of the
	// reserved set up (finality went on across the split): the partition runs on libp2p.
	let backend: &[&str] =
		if a.fault == Some(Kind::Partition) { &["--network-backend", "libp2p"] } else { &[] };
	let mut net = LocalNetwork::start_with(spec.to_str().unwrap(), backend);
	let pids: Vec<Option<u32>> = net.nodes.iter().map(Node::pid).collect();
	wait_for("block #1", Duration::from_secs(60), || {
		(net.nodes[0].best_number() >= 1).then_some(())
	});
	let genesis = net.nodes[0].genesis_hash();
	town::register_keys(&net.nodes[0], &meters, genesis);
	let mut signing = town::signing(&net.nodes[0], genesis);
	town::accept_keys(&net.nodes[0], &mut meters, &signing);
	let mut fault = a.fault.map(Fault::new);

	// The first slot measured is the first whose gate stays open long enough for its orders
	// all to go in.
	let now: SlotClock = net.nodes[0].runtime_call("MarketApi_clock", (), None);
	let gate = |slot: u64| slot * a.slot_seconds - a.gate_lead;
	let first =
		(now.first_open_slot..).find(|s| gate(*s) >= now.now_seconds + ORDERING_SECONDS).unwrap();
	let last = first + a.slots - 1;
	let mut slots: BTreeMap<u64, SlotSeen> = BTreeMap::new();
	let mut blocks: BTreeMap<u32, BlockSeen> = BTreeMap::new();
	let mut samples: Vec<(u64, Vec<Option<NodeSample>>)> = Vec::new();
	let mut unfinal: BTreeMap<u64, Unfinal> = BTreeMap::new();
	let (mut next_read, mut ordered_through, mut finalized) = (first, first - 1, 0);
	let within = Duration::from_secs((a.slots + 3) * a.slot_seconds * 2);
	let deadline = Instant::now() + within;
	let mut failures = Vec::new();
	// Until the last slot is settled and every reading final: a reading held back behind one
	// lost with a fork may be final only after its slot settled, and then corrects a later slot.
	while slots.get(&last).and_then(|s| s.settled_at).is_none()
		|| next_read <= last
		|| !unfinal.is_empty()
	{
		if Instant::now() >= deadline {
			failures.push(format!("the run not over within {} s", within.as_secs()));
			break;
		}
		if let Some(f) = fault.as_mut() {
			f.step(&mut net, &mut signing);
		}
		// A node that is down has no clock; the others go on.
		let clocks: Vec<SlotClock> = net
			.nodes
			.iter()
			.filter(|n| n.pid().is_some())
			.filter_map(|n| n.try_runtime_call("MarketApi_clock", (), None).ok())
			.collect();
		// Orders for each slot, from a rotating share of the participants, as early as every
		// node takes them.
		let reach = clocks.iter().map(|c| c.current_slot + ORDER_HORIZON - 1).min().unwrap_or(0);
		while ordered_through < reach.min(last) {
			ordered_through += 1;
			let sent =
				town::place_orders(&net, &mut meters, ordered_through, a.order_percent, &signing);
			slots.entry(ordered_through).or_default().orders_sent = sent;
		}
		// Every reading of a slot that has ended by every node's best block: a node takes a
		// reading only of a slot its own chain has seen end.
		let ended = clocks.iter().map(|c| c.current_slot).min().unwrap_or(0);
		if ended > next_read && next_read <= last {
			samples.push((next_read, net.nodes.iter().map(NodeSample::of).collect()));
			for r in town::read_all(&mut meters, next_read, genesis) {
				let point = unfinal.entry(r.reading.metering_point).or_default();
				point.readings.insert(next_read, r);
			}
			slots.entry(next_read).or_default().submitted_at = Some(Instant::now());
			if next_read == first {
				if let Some(f) = fault.as_mut() {
					f.begin(&mut net);
				}
			}
			next_read += 1;
		}
		// Through a node of its own for each point, and the next one each time: a gateway whose
		// readings do not become final tries the next node.
		let mut due: BTreeMap<usize, Vec<Vec<SignedReading>>> = BTreeMap::new();
		for (point, u) in &mut unfinal {
			let node = (*point as usize + u.sendings) % net.nodes.len();
			let Some((readings, again)) = u.sending() else { continue };
			if again {
				for r in &readings {
					slots.entry(r.reading.slot).or_default().sent_again += 1;
				}
			}
			due.entry(node).or_default().push(readings);
		}
		for (node, readings) in due {
			town::send_readings(&net.nodes[node], &readings);
		}
		let head = net.nodes[0].finalized_number();
		while finalized < head {
			finalized += 1;
			follow(&net.nodes[0], finalized, &mut slots, &mut blocks, &mut unfinal);
		}
		sleep(Duration::from_millis(500));
	}
	samples.push((last + 1, net.nodes.iter().map(NodeSample::of).collect()));

	if let Some(f) = fault.as_mut() {
		f.finish(&net);
		failures.extend(f.failures.iter().cloned());
	}
	failures.extend(check_slots(&a, first..=last, &slots));
	failures.extend(check_agreement(&net));
	if a.fault != Some(Kind::Kill) {
		let now: Vec<Option<u32>> = net.nodes.iter().map(Node::pid).collect();
		if now != pids {
			failures.push(format!(
				"a node restarted: processes {pids:?} at the start, {now:?} at the end"
			));
		}
	}
	let report = report::report(
		&a,
		first..=last,
		&slots,
		&blocks,
		&samples,
		&net,
		fault.as_ref(),
		&failures,
	);
	print!("{report}");
	if let Some(path) = &a.report {
		report::write_report(path, &report);
	}
	// Exiting runs no destructor: the nodes are stopped and their files removed first.
	drop(net);
	drop(dir);
	if !failures.is_empty() {
		std::process::exit(1);
	}
}

/// Every measured slot has every reading final (or superseded) and was cleared and settled
/// once; no slot on the finalized chain was cleared or settled twice.
fn check_slots(
	a: &Args,
	measured: std::ops::RangeInclusive<u64>,
	slots: &BTreeMap<u64, SlotSeen>,
) -> Vec<String> {
	let mut failures = Vec::new();
	for slot in measured.clone() {
		let s = slots.get(&slot);
		let (readings, superseded) = s.map_or((0, 0), |s| (s.readings, s.superseded));
		if readings + superseded < a.points {
			failures.push(format!("slot {slot}: {readings} of {} readings final", a.points));
		}
	}
	for (slot, s) in slots {
		let once = |n: u32| if measured.contains(slot) { n == 1 } else { n <= 1 };
		if !once(s.cleared) || !once(s.settled) {
			failures.push(format!(
				"slot {slot}: cleared {} times, settled {} times ({} of {} orders in)",
				s.cleared, s.settled, s.orders_in, s.orders_sent
			));
		}
	}
	failures
}

/// Every node finalizes the blocks node 1 finalized, the same ones: nothing conflicting was
/// finalized anywhere.
fn check_agreement(net: &LocalNetwork) -> Vec<String> {
	let head = net.nodes[0].finalized_number();
	let mut failures = Vec::new();
	for node in &net.nodes[1..] {
		let deadline = Instant::now() + Duration::from_secs(120);
		while node.finalized_number() < head && Instant::now() < deadline {
			sleep(Duration::from_millis(500));
		}
		if node.finalized_number() < head {
			failures.push(format!("{} did not finalize #{head}", node.config.name));
			continue;
		}
		if let Some(n) = (1..=head).find(|n| node.block_hash(*n) != net.nodes[0].block_hash(*n)) {
			failures.push(format!("{} finalized another block #{n} than node 1", node.config.name));
		}
	}
	failures
}

/// A reading final (or superseded) is sent no more.
fn settle_reading(unfinal: &mut BTreeMap<u64, Unfinal>, point: u64, slot: u64) {
	if let Some(p) = unfinal.get_mut(&point) {
		p.readings.remove(&slot);
		if p.readings.is_empty() {
			unfinal.remove(&point);
		}
	}
}

/// Takes finalized block `number`'s events and weight into what was seen.
fn follow(
	node: &Node,
	number: u32,
	slots: &mut BTreeMap<u64, SlotSeen>,
	blocks: &mut BTreeMap<u32, BlockSeen>,
	unfinal: &mut BTreeMap<u64, Unfinal>,
) {
	let hash = node.block_hash(number).expect("a finalized block");
	let mut upgraded = false;
	for record in node.events_at(hash) {
		match record.event {
			RuntimeEvent::Metering(pallet_metering::Event::ReadingAccepted {
				slot,
				metering_point,
				..
			}) => {
				let seen = slots.entry(slot).or_default();
				seen.readings += 1;
				seen.readings_final_at = Some(Instant::now());
				settle_reading(unfinal, metering_point, slot);
			}
			RuntimeEvent::Metering(pallet_metering::Event::ReadingRefused {
				slot,
				metering_point,
				error,
			}) if matches!(
				RuntimeError::from_dispatch_error(error),
				Some(RuntimeError::Metering(pallet_metering::Error::OutOfOrder))
			) =>
			{
				slots.entry(slot).or_default().superseded += 1;
				settle_reading(unfinal, metering_point, slot);
			}
			RuntimeEvent::Market(pallet_market::Event::OrderPlaced { slot, .. }) => {
				slots.entry(slot).or_default().orders_in += 1;
			}
			RuntimeEvent::Market(pallet_market::Event::SlotCleared { slot, .. }) => {
				let seen = slots.entry(slot).or_default();
				seen.cleared += 1;
				seen.cleared_at = Some(number);
			}
			RuntimeEvent::Settlement(pallet_settlement::Event::SlotSettled { slot, .. }) => {
				let seen = slots.entry(slot).or_default();
				seen.settled += 1;
				seen.settled_at = Some(number);
			}
			RuntimeEvent::System(frame_system::Event::CodeUpdated { .. }) => upgraded = true,
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
	let full_on_purpose = mandatory >= BLOCK_WEIGHT || upgraded;
	blocks.insert(number, BlockSeen { timestamp_ms, mandatory, total, full_on_purpose });
}
