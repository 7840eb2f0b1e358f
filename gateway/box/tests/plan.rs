//! `lem-gateway plan`: the planner run off the box on a home's JSON, as a household or an
//! installer runs it.

use std::{io::Write, process::Command};

fn plan(problem: &str) -> (bool, String, String) {
	let mut file = tempfile::NamedTempFile::new().unwrap();
	file.write_all(problem.as_bytes()).unwrap();
	let out = Command::new(env!("CARGO_BIN_EXE_lem-gateway"))
		.args(["plan", "--problem"])
		.arg(file.path())
		.output()
		.unwrap();
	let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
	(out.status.success(), text(out.stdout), text(out.stderr))
}

#[test]
fn a_home_s_plan_and_its_saving_come_out_as_json() {
	// Two cheap night slots, two dear evening ones; a battery that may charge from the grid.
	let slot = |buy: u64| {
		format!(r#"{{"load_wh":500,"pv_wh":0,"buy_per_kwh":{buy},"sell_per_kwh":50000}}"#)
	};
	let problem = format!(
		r#"{{"slot_seconds":900,"slots":[{},{},{},{}],
		"battery":{{"capacity_wh":4000,"stored_wh":0,"power_w":4000,"efficiency":1.0,"grid_charge":true}}}}"#,
		slot(100_000),
		slot(100_000),
		slot(400_000),
		slot(400_000),
	);
	let (ok, out, err) = plan(&problem);
	assert!(ok, "{err}");
	let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
	let slots = answer["plan"]["slots"].as_array().unwrap();
	assert_eq!(slots.len(), 4);
	// The evening's 1000 Wh come from the battery, charged at night at a quarter of the
	// price: 0.30 EUR (300 000 micro-euros) saved.
	assert!(slots[2]["import_wh"].as_f64().unwrap() < 1e-3, "{out}");
	let saving = answer["saving"].as_f64().unwrap();
	assert!((saving - 300_000.0).abs() < 1.0, "{out}");
}

#[test]
fn a_problem_no_home_has_is_refused_by_its_field() {
	let (ok, _, err) = plan(
		r#"{"slot_seconds":900,"slots":[{"load_wh":-5,"pv_wh":0,"buy_per_kwh":1,"sell_per_kwh":0}]}"#,
	);
	assert!(!ok);
	assert!(err.contains("slots[0].load_wh"), "{err}");
	let (ok, _, err) = plan(r#"{"slot_seconds":900,"slots":[],"colour":"red"}"#);
	assert!(!ok);
	assert!(err.contains("unknown field `colour`"), "{err}");
}
