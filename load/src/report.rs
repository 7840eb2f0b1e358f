//! What a run measured, as the tables of docs/PERFORMANCE.md: per slot (readings final, blocks
//! of clearing and settlement, block weight) and per node (CPU, memory, database, block import
//! and authoring times from its Prometheus metrics).

use crate::{fault::Fault, Args, BlockSeen, SlotSeen, BLOCK_WEIGHT};
use lem_tests::{LocalNetwork, Metric, Node};
use std::{collections::BTreeMap, fmt::Write as _, path::Path};

/// Puts `report` between the load markers of the file at `path` (appended with them if it has
/// none), leaving the rest of the document as it is.
pub fn write_report(path: &Path, report: &str) {
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

/// A node's CPU time (user and system), resident memory, database size, and its Prometheus
/// histograms of the time it took to verify and import a block from a peer and to build one
/// of its own.
pub struct NodeSample {
	/// The process sampled: a restarted node's counters start again.
	pid: u32,
	cpu_seconds: f64,
	rss_mib: f64,
	db_mib: f64,
	import: Histogram,
	authoring: Histogram,
}

/// A Prometheus histogram: its sum, count and cumulative buckets (upper bound, count).
#[derive(Default)]
struct Histogram {
	sum: f64,
	count: f64,
	buckets: Vec<(f64, f64)>,
}

impl Histogram {
	fn of(metrics: &[Metric], name: &str) -> Histogram {
		let mut h = Histogram::default();
		for m in metrics {
			match m.name.strip_prefix(name) {
				Some("_sum") => h.sum = m.value,
				Some("_count") => h.count = m.value,
				Some("_bucket") => {
					let le = m.label("le").and_then(|le| le.parse().ok()).unwrap_or(f64::INFINITY);
					h.buckets.push((le, m.value));
				}
				_ => {}
			}
		}
		h
	}

	/// Of what was observed between `earlier` and `self`: the count, the mean in seconds and
	/// the least bucket bound every observation stayed under.
	fn since(&self, earlier: &Histogram) -> (f64, f64, f64) {
		let count = self.count - earlier.count;
		let mean = (self.sum - earlier.sum) / count;
		let bound = self
			.buckets
			.iter()
			.filter(|(le, n)| {
				let before = earlier.buckets.iter().find(|(e, _)| e == le).map_or(0.0, |b| b.1);
				n - before >= count
			})
			.map(|(le, _)| *le)
			.fold(f64::INFINITY, f64::min);
		(count, mean, bound)
	}
}

impl NodeSample {
	/// `None` while the node is down.
	pub fn of(node: &Node) -> Option<NodeSample> {
		let pid = node.pid()?;
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
		let metrics = node.metrics().unwrap_or_default();
		Some(NodeSample {
			pid,
			cpu_seconds: (ticks(11) + ticks(12)) / 100.0,
			rss_mib: rss_kib / 1024.0,
			db_mib: dir_bytes(&node.config.base_path) as f64 / (1 << 20) as f64,
			import: Histogram::of(&metrics, "substrate_block_verification_and_import_time"),
			authoring: Histogram::of(&metrics, "substrate_proposer_block_constructed"),
		})
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

pub fn report(
	a: &Args,
	measured: std::ops::RangeInclusive<u64>,
	slots: &BTreeMap<u64, SlotSeen>,
	blocks: &BTreeMap<u32, BlockSeen>,
	samples: &[(u64, Vec<Option<NodeSample>>)],
	net: &LocalNetwork,
	fault: Option<&Fault>,
	failures: &[String],
) -> String {
	let mut r = String::new();
	let _ = writeln!(
		r,
		"{} metering points, {} s slots (gate closure {} s ahead, settlement {} s after the slot's end), {} % of participants ordering per slot, 4 authorities{}\n",
		a.points,
		a.slot_seconds,
		a.gate_lead,
		a.grace,
		a.order_percent,
		fault.map(|f| format!(", fault: {:?}", f.kind).to_lowercase()).unwrap_or_default(),
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
		let due = (slot + 1) * a.slot_seconds + a.grace;
		let from =
			|secs: u64| blocks.iter().find(|(_, b)| b.timestamp_ms >= secs * 1000).map(|(n, _)| *n);
		let span = |start: Option<u32>, end: Option<u32>| match (start, end) {
			(Some(s), Some(e)) => (e + 1).saturating_sub(s).to_string(),
			_ => "-".into(),
		};
		let clearing = span(from(gate), s.cleared_at);
		let settlement = span(from(due), s.settled_at);
		let range = from(gate).unwrap_or(0)..=s.settled_at.unwrap_or(0);
		let measured =
			|| blocks.range(range.clone()).map(|(_, b)| b).filter(|b| !b.full_on_purpose);
		let heaviest = measured().map(|b| b.total).max().unwrap_or(0);
		let work = measured().map(|b| b.mandatory).max().unwrap_or(0);
		let _ = writeln!(
			r,
			"| {slot} | {}/{}{}{} | {after:.0} s | {:.0} | {clearing} | {settlement} | {:.0} % | {:.0} % of the share |",
			s.readings,
			a.points,
			if s.superseded > 0 { format!(" (+{} superseded)", s.superseded) } else { String::new() },
			if s.sent_again > 0 { format!(" ({} sent again)", s.sent_again) } else { String::new() },
			s.readings as f64 / after,
			heaviest as f64 * 100.0 / BLOCK_WEIGHT as f64,
			work as f64 * 100.0 / share as f64,
		);
	}
	let _ = writeln!(r, "\n| node | CPU per slot | RSS at the end | database at the end | database growth per slot | blocks imported from peers | import time, mean | every import under | blocks authored | authoring time, mean |");
	let _ = writeln!(r, "|---|---|---|---|---|---|---|---|---|---|");
	for (i, node) in net.nodes.iter().enumerate() {
		// From the first sample of the process that ran at the end: a restart starts its
		// counters again.
		let Some((s1, last)) = samples.last().and_then(|s| node_at(s, i)) else { continue };
		let Some((s0, first)) =
			samples.iter().filter_map(|s| node_at(s, i)).find(|(_, n)| n.pid == last.pid)
		else {
			continue;
		};
		if s0 == s1 {
			let _ = writeln!(
				r,
				"| {} | restarted since the last sample: no figures |",
				node.config.name
			);
			continue;
		}
		let n = (s1 - s0) as f64;
		let (imported, import_mean, import_bound) = last.import.since(&first.import);
		let (authored, authoring_mean, _) = last.authoring.since(&first.authoring);
		let _ = writeln!(
			r,
			"| {} | {:.1} s | {:.0} MiB | {:.0} MiB | {:.1} MiB | {imported:.0} | {:.0} ms | {import_bound} s | {authored:.0} | {:.0} ms |",
			node.config.name,
			(last.cpu_seconds - first.cpu_seconds) / n,
			last.rss_mib,
			last.db_mib,
			(last.db_mib - first.db_mib) / n,
			import_mean * 1000.0,
			authoring_mean * 1000.0,
		);
	}
	if let Some(f) = fault {
		let _ = writeln!(r, "\nFault: {}.", f.notes.join("; "));
	}
	if failures.is_empty() {
		let _ = writeln!(r, "\nEvery check held: each slot cleared and settled once, every reading final, every node finalized the same blocks.");
	} else {
		let _ = writeln!(r, "\nFailed checks:\n");
		for f in failures {
			let _ = writeln!(r, "- {f}");
		}
	}
	r
}

/// Node `i`'s sample of a round, with the slot it was taken at, if the node was up.
fn node_at((slot, nodes): &(u64, Vec<Option<NodeSample>>), i: usize) -> Option<(u64, &NodeSample)> {
	Some((*slot, nodes[i].as_ref()?))
}
