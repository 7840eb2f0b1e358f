//! The load harness's pipeline at a small size: `lem-load` starts the four authorities with
//! 200 participants in 30-second slots, sends every meter's reading and a quarter of them
//! orders for two slots, and reports each slot with all its readings final, cleared and
//! settled.

use lem_tests::boxes::binary;
use std::process::Command;

#[test]
fn the_load_harness_runs_a_small_town_and_reports_every_slot() {
	let report = tempfile::NamedTempFile::new().unwrap();
	let out = Command::new(binary("lem-load"))
		.env("LEM_NODE", lem_tests::node_binary())
		.args(["--points", "200", "--slots", "2", "--slot-seconds", "30", "--gate-lead", "10"])
		.arg("--report")
		.arg(report.path())
		.output()
		.expect("lem-load runs");
	let stdout = String::from_utf8_lossy(&out.stdout);
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(out.status.success(), "{stdout}\n{stderr}");
	let text = std::fs::read_to_string(report.path()).unwrap();
	assert!(text.contains("<!-- lem-load: begin -->") && text.contains("<!-- lem-load: end -->"));
	let rows: Vec<&str> = text.lines().filter(|l| l.contains(" 200/200 ")).collect();
	assert_eq!(rows.len(), 2, "{text}");
	for row in rows {
		let cells: Vec<&str> = row.split('|').map(str::trim).collect();
		// Clearing and settlement each took some blocks.
		assert!(cells[5].parse::<u32>().is_ok_and(|n| n >= 1), "{row}");
		assert!(cells[6].parse::<u32>().is_ok_and(|n| n >= 1), "{row}");
	}
}
