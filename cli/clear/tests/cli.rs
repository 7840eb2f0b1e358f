//! The `lem-clear` binary as a DSO or auditor runs it: JSON in on stdin or as a file, JSON out,
//! and a message naming the offending field (with a non-zero exit) for bad input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

fn lem_clear(args: &[&str], stdin: &[u8]) -> Output {
	let mut child = Command::new(env!("CARGO_BIN_EXE_lem-clear"))
		.args(args)
		.stdin(Stdio::piped())
		.stdout(Stdio::piped())
		.stderr(Stdio::piped())
		.spawn()
		.expect("lem-clear starts");
	child.stdin.take().unwrap().write_all(stdin).expect("stdin accepts the instance");
	child.wait_with_output().expect("lem-clear ends")
}

/// Runs on `input` and returns the parsed result, failing on a non-zero exit.
fn cleared(input: &Value) -> Value {
	let out = lem_clear(&[], input.to_string().as_bytes());
	assert!(
		out.status.success(),
		"exit {:?}: {}",
		out.status,
		String::from_utf8_lossy(&out.stderr)
	);
	serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Runs on `input`, expects exit status 1 and returns stderr.
fn refused(input: &[u8]) -> String {
	let out = lem_clear(&[], input);
	assert_eq!(out.status.code(), Some(1), "stdout: {}", String::from_utf8_lossy(&out.stdout));
	assert!(out.stdout.is_empty(), "nothing on stdout when refused");
	String::from_utf8(out.stderr).unwrap()
}

#[test]
fn issue_example_clears_to_the_documented_shape() {
	let input = json!({
		"zones": [{"id": 0}, {"id": 1, "parent": 0, "fee_per_kwh": 20000, "capacity_wh": 50000}],
		"orders": [{"id": 7, "side": "bid", "zone": 1, "energy_wh": 1500, "limit_per_kwh": 300000}],
		"pricing": "pay-as-clear"
	});
	// A lone bid finds no seller: nothing trades, and the prices are where supply would start
	// to pay off (the bid's limit in zone 1, minus the fee at the substation).
	assert_eq!(
		cleared(&input),
		json!({
			"zone_prices": [{"zone": 0, "price_per_kwh": 280000}, {"zone": 1, "price_per_kwh": 300000}],
			"fills": [{"id": 7, "energy_wh": 0, "price_per_kwh": 300000}],
			"flows": [{"zone": 1, "energy_wh": 0}],
			"welfare": 0, "dso_revenue": 0, "remainder": 0
		})
	);
}

#[test]
fn trade_across_a_congested_edge() {
	let input = json!({
		"zones": [{"id": 0}, {"id": 1, "parent": 0, "fee_per_kwh": 20000, "capacity_wh": 200}],
		"orders": [
			{"id": 1, "side": "ask", "zone": 0, "energy_wh": 1000, "limit_per_kwh": 100000},
			{"id": 2, "side": "bid", "zone": 1, "energy_wh": 500, "limit_per_kwh": 300000}
		]
	});
	assert_eq!(
		cleared(&input),
		json!({
			"zone_prices": [{"zone": 0, "price_per_kwh": 100000}, {"zone": 1, "price_per_kwh": 300000}],
			"fills": [
				{"id": 1, "energy_wh": 200, "price_per_kwh": 100000},
				{"id": 2, "energy_wh": 200, "price_per_kwh": 300000}
			],
			"flows": [{"zone": 1, "energy_wh": -200}],
			"welfare": 36000, "dso_revenue": 40000, "remainder": 0
		})
	);

	let mut pay_as_bid = input.clone();
	pay_as_bid["pricing"] = json!("pay-as-bid");
	let out = cleared(&pay_as_bid);
	assert_eq!(out["dso_revenue"], json!(4000), "fees only");
	assert_eq!(out["remainder"], json!(36000), "spread to the community");
}

#[test]
fn zone_without_any_order_in_reach_has_a_null_price() {
	let out = cleared(&json!({"zones": [{"id": 3}], "orders": []}));
	assert_eq!(out["zone_prices"], json!([{"zone": 3, "price_per_kwh": null}]));
	assert_eq!(out["fills"], json!([]));
	assert_eq!(out["flows"], json!([]));
}

#[test]
fn reads_a_file_argument_and_dash_for_stdin() {
	let input = json!({"zones": [{"id": 0}], "orders": [
        {"id": 1, "side": "bid", "zone": 0, "energy_wh": 10, "limit_per_kwh": 300},
        {"id": 2, "side": "ask", "zone": 0, "energy_wh": 10, "limit_per_kwh": 100}]});
	let path = std::env::temp_dir().join(format!("lem-clear-test-{}.json", std::process::id()));
	std::fs::write(&path, input.to_string()).unwrap();
	let from_file = lem_clear(&[path.to_str().unwrap()], b"");
	std::fs::remove_file(&path).unwrap();
	assert!(from_file.status.success());
	let from_dash = lem_clear(&["-"], input.to_string().as_bytes());
	assert_eq!(from_file.stdout, from_dash.stdout);
	let out: Value = serde_json::from_slice(&from_file.stdout).unwrap();
	assert_eq!(out["zone_prices"][0]["price_per_kwh"], json!(200));
}

#[test]
fn same_instance_listed_otherwise_gives_identical_bytes() {
	let a = json!({"zones": [{"id": 0}, {"id": 1, "parent": 0, "fee_per_kwh": 10}],
        "orders": [{"id": 1, "side": "bid", "zone": 1, "energy_wh": 10, "limit_per_kwh": 300},
                   {"id": 2, "side": "ask", "zone": 0, "energy_wh": 10, "limit_per_kwh": 100}]});
	let b = json!({"orders": [{"limit_per_kwh": 100, "id": 2, "side": "ask", "zone": 0, "energy_wh": 10},
                              {"id": 1, "side": "bid", "zone": 1, "energy_wh": 10, "limit_per_kwh": 300}],
        "zones": [{"id": 1, "parent": 0, "fee_per_kwh": 10}, {"id": 0}]});
	let (ra, rb) =
		(lem_clear(&[], a.to_string().as_bytes()), lem_clear(&[], b.to_string().as_bytes()));
	assert!(ra.status.success());
	assert_eq!(ra.stdout, rb.stdout);
}

#[test]
fn bad_input_names_the_field_and_value() {
	let zones = r#"[{"id": 0}, {"id": 1, "parent": 0}]"#;
	let order = |fields: &str| {
		format!(
			r#"{{"zones": {zones}, "orders": [{{"id": 1, "side": "bid", "zone": 0, "energy_wh": 5, "limit_per_kwh": 1}}, {{{fields}}}]}}"#
		)
	};
	let cases: Vec<(String, &str)> = vec![
        (
            order(r#""id": 3, "side": "bid", "zone": 9, "energy_wh": 5, "limit_per_kwh": 1"#),
            "orders[1].zone: unknown zone 9",
        ),
        (
            order(r#""id": 3, "side": "bid", "zone": 1, "energy_wh": -5, "limit_per_kwh": 1"#),
            "orders[1].energy_wh: negative energy -5",
        ),
        (
            order(r#""id": 3, "side": "bid", "zone": 1, "energy_wh": 0, "limit_per_kwh": 1"#),
            "orders[1].energy_wh: zero energy",
        ),
        (
            order(r#""id": 1, "side": "ask", "zone": 1, "energy_wh": 5, "limit_per_kwh": 1"#),
            "orders[1].id: duplicate order id 1",
        ),
        (
            order(r#""id": 3, "side": "ask", "zone": 1, "energy_wh": 281474976710657, "limit_per_kwh": 1"#),
            "orders[1].energy_wh: energy 281474976710657 out of range",
        ),
        (
            order(r#""id": 3, "side": "ask", "zone": 1, "energy_wh": 18446744073709551616, "limit_per_kwh": 1"#),
            "orders[1].energy_wh: energy 18446744073709551616 out of range",
        ),
        (
            order(r#""id": 3, "side": "ask", "zone": 1, "energy_wh": 5, "limit_per_kwh": -9223372036854775808"#),
            "orders[1].limit_per_kwh: limit -9223372036854775808 out of range",
        ),
        (
            order(r#""id": 3, "side": "sell", "zone": 1, "energy_wh": 5, "limit_per_kwh": 1"#),
            "orders[1].side: unknown variant `sell`",
        ),
        (
            order(r#""id": 3, "side": "ask", "zone": 1, "energy_wh": 5"#),
            "orders[1]: missing field `limit_per_kwh`",
        ),
        (
            order(r#""id": 3, "side": "ask", "zone": 1, "energy_wh": 5, "limit_per_kwh": 1, "price": 2"#),
            "unknown field `price`",
        ),
        (
            order(r#""id": 3, "side": "ask", "zone": 1, "energy_wh": 2.5, "limit_per_kwh": 1"#),
            "orders[1].energy_wh: expected an integer, got 2.5",
        ),
        (
            order(r#""id": 3, "side": "ask", "zone": "1", "energy_wh": 5, "limit_per_kwh": 1"#),
            "orders[1].zone: expected an integer, got \"1\"",
        ),
        (
            order(r#""id": 3, "side": "ask", "zone": 1, "energy_wh": 5, "limit_per_kwh": 12345678901234567890123456789012345678901"#),
            "orders[1].limit_per_kwh: integer 12345678901234567890123456789012345678901 out of range",
        ),
        (
            r#"{"zones": [{"id": 0}, {"id": 1, "parent": 7}], "orders": []}"#.into(),
            "zones[1].parent: unknown zone 7",
        ),
        (
            r#"{"zones": [{"id": 0}, {"id": 1}], "orders": []}"#.into(),
            "zones[1].parent: missing: zone 1 would be a second root besides zone 0",
        ),
        (
            r#"{"zones": [{"id": 0}, {"id": 1, "parent": 2}, {"id": 2, "parent": 1}], "orders": []}"#.into(),
            "zones[1].parent: parent cycle through zone 1",
        ),
        (
            r#"{"zones": [{"id": 0}, {"id": 0, "parent": 0}], "orders": []}"#.into(),
            "zones[1].id: duplicate zone id 0",
        ),
        (
            r#"{"zones": [{"id": 0}, {"id": 1, "parent": 0, "fee_per_kwh": -3}], "orders": []}"#.into(),
            "zones[1].fee_per_kwh: negative fee -3",
        ),
        (
            r#"{"zones": [{"id": 0}, {"id": 1, "parent": 0, "capacity_wh": -3}], "orders": []}"#.into(),
            "zones[1].capacity_wh: negative capacity -3",
        ),
        (
            r#"{"zones": [{"id": 0, "fee_per_kwh": 5}], "orders": []}"#.into(),
            "zones[0].fee_per_kwh: 5 on root zone 0",
        ),
        (
            r#"{"zones": [{"id": 4294967296}], "orders": []}"#.into(),
            "zones[0].id: zone id 4294967296 out of range (0..=4294967295)",
        ),
        (
            r#"{"zones": [], "orders": []}"#.into(),
            "zones: no root zone",
        ),
        (
            r#"{"zones": [{"id": 0}], "orders": [], "pricing": "pay-as-you-like"}"#.into(),
            "pricing: unknown variant `pay-as-you-like`",
        ),
        (r#"{"zones": [{"id": 0}]}"#.into(), "missing field `orders`"),
        (
            r#"{"zones": [{"id": 0, "": 1}], "orders": []}"#.into(),
            "zones[0][\"\"]: unknown field ``",
        ),
        (r#"{"": 1, "zones": [], "orders": []}"#.into(), "[\"\"]: unknown field ``"),
        (r#"{"zones": [{"id": 0}], "orders": []} x"#.into(), "input: trailing characters"),
        ("garbage".into(), "input: expected value at line 1 column 1"),
    ];
	for (input, expected) in cases {
		let stderr = refused(input.as_bytes());
		assert!(
			stderr.contains(expected),
			"input {input}\nexpected message containing {expected:?}\ngot {stderr:?}"
		);
	}
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
	let out = lem_clear(&["a.json", "b.json"], b"");
	assert_eq!(out.status.code(), Some(2));
	let out = lem_clear(&["/nonexistent/lem/slot.json"], b"");
	assert_eq!(out.status.code(), Some(2));
	assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/lem/slot.json"));
	let out = lem_clear(&["--help"], b"");
	assert_eq!(out.status.code(), Some(0));
	assert!(String::from_utf8_lossy(&out.stdout).contains("usage: lem-clear"));
}

#[test]
fn library_and_binary_agree() {
	let input = json!({"zones": [{"id": 0}], "orders": [
        {"id": 1, "side": "bid", "zone": 0, "energy_wh": 10, "limit_per_kwh": 300},
        {"id": 2, "side": "ask", "zone": 0, "energy_wh": 4, "limit_per_kwh": 100}]})
	.to_string();
	let out = lem_clear(&[], input.as_bytes());
	let lib = lem_clear::run(input.as_bytes()).unwrap();
	assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{lib}\n"));
	let err = lem_clear::run(br#"{"zones": [], "orders": []}"#).unwrap_err();
	assert_eq!(err.field, "zones");
}
