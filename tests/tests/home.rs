//! A home the box runs, on the `dev-fast` chain: household 5's PV roof and battery with an
//! electric car plugged in, simulated at the wall's pace (so that the devices' watts and the
//! chain's 10-second slots agree) by `lem-meter-sim`, the battery's storage inverter over
//! SunSpec Modbus and the wallbox over OCPP 1.6J, both driven by a `lem-gateway` that trades
//! for the household.
//!
//! The owner sets the car's charge and departure through the box's HTTP API; the box plans
//! every slot, holds the devices at the plan's set-points and orders what the plan draws or
//! feeds in. It is killed and restarted, and cut off from its node for three slots (it follows
//! its journaled plan and makes no new one on stale prices), and the car still has its charge
//! by the departure — what the plan asked, not the wallbox's own full-power charge.

use lem_tests::{boxes::*, *};
use pallet_market::demo;
use serde_json::{json, Value};
use std::{
	thread::sleep,
	time::{Duration, SystemTime, UNIX_EPOCH},
};

const HOUSEHOLD: u8 = 5;
const SLOT: Duration = Duration::from_secs(TEST_PACE.slot_seconds);
/// The charge the owner asks for, in Wh: ten slots of the wallbox's 11 kW. Before the box's
/// first plan the wallbox charges at full power, its own way, and that counts towards it.
const CAR_WH: u64 = 300;
/// 20 € a day, in micro-euros.
const DAILY_BUDGET: u128 = 20_000_000;

fn gauge(b: &GatewayBox, name: &str) -> Option<u64> {
	let text = b.get("/metrics");
	let line = text.lines().find(|l| l.starts_with(&format!("lem_gateway_{name} ")))?;
	line.rsplit(' ').next()?.parse().ok()
}

fn unix_seconds() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn a_box_runs_a_pv_home_with_a_battery_and_a_car_through_a_restart_and_an_outage() {
	let chain = DevChain::start();
	let node = &chain.node;
	let spec = raw_chain_spec_file(DEV, chain.dir.path());
	let wallbox = format!("127.0.0.1:{}", free_port()).parse().unwrap();
	let connect = format!("ws://{wallbox}/ocpp/wallbox");
	// The wallbox dials its central system until the box answers.
	let (sim, devices) = MeterSim::spawn(
		HOUSEHOLD,
		&[
			"--speed",
			"1",
			"--battery-listen",
			"127.0.0.1:0",
			"--car-home-at",
			"6",
			"--wallbox-connect",
			&connect,
		],
		1,
	);
	let proxy = Proxy::start(format!("127.0.0.1:{}", node.config.rpc_port).parse().unwrap());
	let point = demo::HOUSEHOLD_METERING_POINTS[HOUSEHOLD as usize - 1].id;
	let mut b = GatewayBox::new(
		&chain.dir.path().join("box"),
		point,
		&spec,
		&[format!("ws://{}", proxy.address)],
		sim.address,
	);
	b.trade_for(&format!("Household{HOUSEHOLD}"), DAILY_BUDGET);
	b.run_devices(Some(devices[0]), Some(wallbox), "goal = \"cheapest\"\nutc_offset_minutes = 0");
	GatewayBox::register_keys(node, std::slice::from_ref(&b));
	b.start();

	b.wait_for_log("planned", 0, SLOT * 9);
	b.wait_for_log("car plugged in", 0, SLOT * 3);
	// The wallbox's register as the box saw the car plugged in: what the car took since counts.
	let plugged_at: u64 = b
		.log()
		.lines()
		.find(|l| l.contains("car plugged in"))
		.and_then(|l| l.split("register_wh=Some(").nth(1)?.split(')').next()?.parse().ok())
		.unwrap_or(0);
	// Of what the wallbox gives, 90 % reaches the car (the box's `efficiency_percent`); a slot's
	// energy is within a few Wh of its plan.
	let reached = |register: u64| (register - plugged_at) * 9 / 10 + 10;
	assert!(gauge(&b, "battery_stored_permille").is_some(), "the battery is read");

	// The owner asks for the car's charge by a departure three to four minutes on.
	let departure = (unix_seconds() / 60 + 4) * 60;
	let hh_mm = format!("{:02}:{:02}", departure % 86_400 / 3_600, departure % 3_600 / 60);
	let asked = json!({
		"goal": "cheapest",
		"car_energy_wh": CAR_WH,
		"car_departure": hh_mm,
		"utc_offset_minutes": 0,
	});
	let (status, body) = b.put("/preferences", &asked.to_string());
	assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
	let kept: Value = serde_json::from_str(&b.get("/preferences")).unwrap();
	assert_eq!(
		(kept["car_energy_wh"].clone(), kept["car_departure"].clone()),
		(json!(CAR_WH), json!(hh_mm))
	);
	// Out of range: refused by name, the preferences unchanged.
	let (status, body) = b.put("/preferences", r#"{"battery_reserve_percent":120}"#);
	assert_eq!(status, "HTTP/1.1 400 Bad Request");
	assert!(body.contains("battery_reserve_percent"), "{body}");
	assert_eq!(b.put("/preferences", "{\"colour\":1}").0, "HTTP/1.1 400 Bad Request");
	assert_eq!(serde_json::from_str::<Value>(&b.get("/preferences")).unwrap(), kept);

	// The new plan gives the car what it asks by the departure, at less than full power.
	let planned = b.count("planned");
	b.wait_for_log("planned", planned, SLOT * 2);
	let plan: Vec<Value> = serde_json::from_str(&b.get("/plan.json")).unwrap();
	let slot_seconds = TEST_PACE.slot_seconds;
	let before_departure = |s: &Value| s["slot"].as_u64().unwrap() * slot_seconds < departure;
	let car_planned: u64 =
		plan.iter().filter(|s| before_departure(s)).map(|s| s["car_wh"].as_u64().unwrap()).sum();
	let charged = gauge(&b, "charger_energy_wh").expect("the wallbox's register");
	assert!(
		reached(charged + car_planned) >= CAR_WH,
		"the wallbox gave {} Wh and the plan gives {car_planned} Wh more: {plan:#?}",
		charged - plugged_at
	);
	b.wait_for_log("wallbox told", 0, SLOT * 2);
	assert!(b.log().contains("wallbox told command=Limit"), "{}", b.log());

	// Killed: the devices' watchdogs lapse; restarted, it takes up its journaled plan.
	sleep(SLOT * 2);
	b.kill();
	sleep(Duration::from_secs(8));
	let planned = b.count("planned");
	b.start();
	b.wait_for_log("planned", planned, SLOT * 4);

	// Cut off from its node: no plan on stale prices, the devices held to the plan it has.
	sleep(SLOT);
	proxy.cut();
	sleep(SLOT * 5 / 2);
	let planned = b.count("planned");
	let own = b.count("battery told mode=Own");
	sleep(SLOT);
	assert_eq!(b.count("planned"), planned, "planned on stale facts: {}", b.log());
	assert_eq!(b.count("battery told mode=Own"), own, "the plan was dropped: {}", b.log());
	proxy.restore();
	b.wait_for_log("planned", planned, SLOT * 4);

	// By the departure the car has its charge, and not the wallbox's own full-power hours.
	let wait = departure.saturating_sub(unix_seconds()) + 2;
	sleep(Duration::from_secs(wait));
	let charged = gauge(&b, "charger_energy_wh").expect("the wallbox's register");
	assert!(reached(charged) >= CAR_WH, "the wallbox gave {charged} Wh: {}", b.log());
	// At its own full power from the start it would have taken over 800 Wh.
	let given = charged - plugged_at;
	assert!(given < CAR_WH * 2, "the car charged at its own pace: {given} Wh: {}", b.log());
	// What the home did, as its owner reads it: the car's charge among the slots, and the
	// week's figures over them.
	let home: Value = serde_json::from_str(&b.get("/home.json")).unwrap();
	let slots = home["slots"].as_array().unwrap();
	assert!(slots.iter().any(|s| s["car_wh"].as_f64().unwrap() > 0.0), "{home}");
	assert!(home["week"]["slots"].as_u64().unwrap() > 0, "{home}");
	assert!(!home["days"].as_array().unwrap().is_empty(), "{home}");
	assert!(b.get("/home.csv").starts_with("slot,import_wh,export_wh,house_wh"));
	// The battery was held to the plan, not left to its own mode.
	let log = b.log();
	assert!(
		log.contains("battery told mode=Limited") || log.contains("battery told mode=Fixed"),
		"{log}"
	);
	b.stop();

	// Readings went on through it all, and orders followed the plan.
	let journal = b.journal();
	let finalized = journal.iter().filter(|l| l.state == "finalized").count();
	assert!(finalized >= 20, "{journal:#?}");
	let orders = b.orders();
	assert!(orders.iter().any(|o| o.state == "placed"), "{orders:#?}\n{}", b.log());
}
