//! The load harness at a small size: `lem-load` starts the four authorities with 200
//! participants in 30-second slots, sends every meter's reading and a quarter of them orders,
//! and reports each slot with all its readings final, cleared and settled, and each node's
//! block import and authoring times — under a fault (load/src/fault.rs): from its first
//! measured slot's readings on it kills an authority, splits the network two against two, or
//! upgrades the runtime through the council. The upgrade restarts no node, so its run is also
//! the plain one whose every figure is checked (a run of its own would cost lane A 3 minutes).
//! Each run checks itself — each slot cleared and settled once, every reading final, every
//! node finalizing the same blocks, and the fault's own rules — and fails if any check fails;
//! these tests read its report.

use lem_tests::boxes::binary;
use std::process::Command;

/// Runs `lem-load` at the small size over `slots` slots, with `args` besides; returns its
/// report once every check held.
fn under_load(slots: u32, args: &[&str]) -> String {
	let report = tempfile::NamedTempFile::new().unwrap();
	let out = Command::new(binary("lem-load"))
		.env("LEM_NODE", lem_tests::node_binary())
		.args(["--points", "200", "--slot-seconds", "30", "--gate-lead", "10"])
		.args(["--grace-seconds", "30", "--slots", &slots.to_string()])
		.args(args)
		.arg("--report")
		.arg(report.path())
		.output()
		.expect("lem-load runs");
	let stdout = String::from_utf8_lossy(&out.stdout);
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(out.status.success(), "{stdout}\n{stderr}");
	let text = std::fs::read_to_string(report.path()).unwrap();
	assert!(text.contains("<!-- lem-load: begin -->") && text.contains("<!-- lem-load: end -->"));
	assert!(text.contains("Every check held"), "{text}");
	text
}

#[test]
fn an_authority_killed_under_load_restarts_and_catches_up() {
	let report = under_load(2, &["--fault", "kill"]);
	assert!(report.contains("killed; restarted after"), "{report}");
}

// The readings of the slot read during the split that only the losing side included go in on
// the winning side after it heals: the harness, as a gateway does, holds a point's later reading
// back until the earlier is final and sends the earlier again through the next node.
#[test]
fn a_two_two_partition_stops_finality_and_heals_with_every_slot_settled_once() {
	let report = under_load(3, &["--fault", "partition"]);
	assert!(
		report.contains("split [[0, 1], [2, 3]]") && report.contains("healed after"),
		"{report}"
	);
}

/// The plain run of the pipeline too: an upgrade restarts no node and leaves every figure.
#[test]
fn the_council_upgrades_the_runtime_of_the_running_network_and_every_slot_is_reported() {
	let text = under_load(2, &["--fault", "upgrade"]);
	assert!(text.contains("spec_version 101 in force"), "{text}");
	let rows: Vec<&str> = text.lines().filter(|l| l.contains(" 200/200")).collect();
	assert_eq!(rows.len(), 2, "{text}");
	for row in rows {
		let cells: Vec<&str> = row.split('|').map(str::trim).collect();
		// Clearing and settlement each took some blocks.
		assert!(cells[5].parse::<u32>().is_ok_and(|n| n >= 1), "{row}");
		assert!(cells[6].parse::<u32>().is_ok_and(|n| n >= 1), "{row}");
	}
	// Each node imported its peers' blocks and authored its own, timed by its Prometheus
	// metrics.
	let nodes: Vec<&str> =
		text.lines().filter(|l| l.starts_with("| node") && !l.starts_with("| node |")).collect();
	assert_eq!(nodes.len(), 4, "{text}");
	for row in nodes {
		let cells: Vec<&str> = row.split('|').map(str::trim).collect();
		assert!(cells[6].parse::<u32>().is_ok_and(|n| n >= 1), "{row}");
		assert!(cells[7].strip_suffix(" ms").is_some_and(|ms| ms.parse::<u32>().is_ok()), "{row}");
		assert!(cells[9].parse::<u32>().is_ok_and(|n| n >= 1), "{row}");
	}
}
