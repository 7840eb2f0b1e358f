//! The boxes at the meters on a running network: four demo households, each with a
//! `lem-meter-sim` and a `lem-gateway` process, on the four authorities of the `local` chain
//! (6 s blocks) with a retention window of three slots and readings due one slot after their slot, so that
//! a gateway can be cut off past the window within a test. The households share the network and each lives through one thing:
//! 1. nothing: every slot's reading arrives, is final and settles;
//! 2. SIGKILL after signing, after submitting and after finality, each time restarted;
//! 3. cut off from its node for five slots: it catches up in batches, the slots past the
//!    window are refused `TooOld` (its journal says so), and the correction settles them;
//! 4. its meter stopped for over two slots: no reading is invented; the slots settle on
//!    estimates, which the next reading corrects.
//!
//! For each, the chain holds exactly the journal's readings, and the energy settled — metered,
//! estimated and corrected — adds up to what its meter's registers advanced by.
//!
//! Boxes 1 to 3 also trade for their households: they keep the standing order in place and
//! bid or ask for the next slots from their meters' forecasts; box 2's nonces go through its
//! kills. Box 4 holds the key of an account that does not own its metering point: its orders
//! are refused by the market's named error and cost nothing. Boxes 1 to 3 check every settled
//! slot's record against their own reckoning and serve the ledger: it matches the chain's
//! records, with ex-ante and ex-post trades and deviations among its slots. Box 3's bills of
//! slots the chain forgot while it was cut off say so, and those of slots settled on estimates
//! match though its late readings of them are on the chain.

use lem_runtime::AccountId;
use lem_tests::{boxes::*, *};
use pallet_market::{demo, runtime_api::SlotClock, Slot};
use pallet_settlement::{SettledSlot, SettlementRecord, SettlementsPage};
use serde_json::json;
use sp_core::{Pair, H256};
use std::{
	collections::{BTreeMap, BTreeSet},
	sync::{
		atomic::{AtomicBool, Ordering},
		Mutex,
	},
	thread::sleep,
	time::{Duration, Instant},
};

/// Production's 6-second blocks and the demo's 30-second slots: households 1 and 2 must have
/// every slot settled on its reading, and on the test pace's 2-second blocks a test machine
/// busy with builds beside the tests delayed readings past their window.
const SLOT: Duration = Duration::from_secs(30);
const RETENTION_SLOTS: u64 = 3;
/// Readings are due a slot after their slot's end (the window must be shorter than what the
/// chain keeps): slots settle a slot sooner than in the demo.
const GRACE_SECONDS: u64 = SLOT.as_secs();
const HOUSEHOLDS: [u8; 4] = [1, 2, 3, 4];
/// 20 € a day, in micro-euros.
const DAILY_BUDGET: u128 = 20_000_000;

fn point(h: u8) -> u64 {
	demo::HOUSEHOLD_METERING_POINTS[h as usize - 1].id
}

fn account(h: u8) -> AccountId {
	dev_pair(&format!("Household{h}")).public().into()
}

/// What the chain showed while it kept it: records of settled slots, readings of kept slots.
#[derive(Default)]
struct Seen {
	settled: BTreeSet<Slot>,
	records: BTreeMap<(Slot, u8), SettlementRecord>,
	readings: BTreeMap<(Slot, u8), (u64, u64)>,
	/// The ids of the orders each cleared slot took part in.
	cleared: BTreeMap<Slot, BTreeSet<u64>>,
}

/// Collects, at the finalized head, each slot's records as it settles and every reading
/// while its slot is kept: with a window of three slots, the chain forgets them soon.
fn watch(node: &Node, seen: &Mutex<Seen>, stop: &AtomicBool) {
	let mut next: Option<Slot> = None;
	while !stop.load(Ordering::SeqCst) {
		let fin: H256 =
			serde_json::from_value(node.rpc("chain_getFinalizedHead", json!([]))).unwrap();
		let cursor: Option<Slot> = node.runtime_call("SettlementApi_next_to_settle", (), Some(fin));
		let clock: SlotClock = node.runtime_call("MarketApi_clock", (), Some(fin));
		if let Some(cursor) = cursor {
			for slot in next.unwrap_or(cursor)..cursor {
				let summary: Option<SettledSlot> =
					node.runtime_call("SettlementApi_settled_slot", slot, Some(fin));
				assert!(summary.is_some(), "slot {slot} was forgotten before the test saw it");
				let page: SettlementsPage<AccountId> = node.runtime_call(
					"SettlementApi_settlements",
					(slot, slot, None::<AccountId>, None::<AccountId>),
					Some(fin),
				);
				let mut seen = seen.lock().unwrap();
				for (_, who, record) in page.records {
					if let Some(h) = HOUSEHOLDS.into_iter().find(|&h| account(h) == who) {
						seen.records.insert((slot, h), record);
					}
				}
				seen.settled.insert(slot);
			}
			next = Some(cursor);
			let cleared_to = clock.next_to_clear.unwrap_or(clock.current_slot);
			for slot in cleared_to.saturating_sub(RETENTION_SLOTS)..cleared_to {
				let ids = node.fills(slot, Some(fin)).iter().map(|f| f.order).collect();
				seen.lock().unwrap().cleared.entry(slot).or_insert(ids);
			}
			for slot in cursor.saturating_sub(RETENTION_SLOTS)..clock.current_slot {
				for h in HOUSEHOLDS {
					let reading: Option<(u64, u64)> =
						node.runtime_call("MeteringApi_reading", (point(h), slot), Some(fin));
					if let Some(r) = reading {
						seen.lock().unwrap().readings.insert((slot, h), r);
					}
				}
			}
		}
		sleep(Duration::from_secs(3));
	}
}

fn current_slot(node: &Node) -> Slot {
	node.runtime_call::<SlotClock>("MarketApi_clock", (), None).current_slot
}

#[test]
fn gateways_feed_the_market_through_kills_outages_and_a_stopped_meter() {
	let dir = tempfile::Builder::new().prefix("lem-gateways-").tempdir().unwrap();
	let spec = local_chain_spec("local", dir.path(), |patch| {
		patch["market"]["community"]["retentionSlots"] = json!(RETENTION_SLOTS);
		patch["metering"]["readingsGraceSeconds"] = json!(GRACE_SECONDS);
	});
	let net = LocalNetwork::start_on(spec.to_str().unwrap());
	let node = &net.nodes[0];
	wait_for("block #1", SLOT * 2, || (node.best_number() >= 1).then_some(()));
	let raw_spec = raw_chain_spec_file(spec.to_str().unwrap(), dir.path());

	// Household 3 reaches its node through a proxy the test can cut.
	let ws = |n: &Node| format!("ws://127.0.0.1:{}", n.config.rpc_port);
	let proxy =
		Proxy::start(format!("127.0.0.1:{}", net.nodes[2].config.rpc_port).parse().unwrap());
	let sims: Vec<MeterSim> =
		HOUSEHOLDS.iter().map(|&h| MeterSim::for_slots_of(h, SLOT.as_secs())).collect();
	let mut boxes: Vec<GatewayBox> = HOUSEHOLDS
		.iter()
		.zip(&sims)
		.map(|(&h, sim)| {
			let nodes = match h {
				3 => vec![format!("ws://{}", proxy.address)],
				_ => vec![ws(&net.nodes[h as usize - 1])],
			};
			GatewayBox::new(
				&dir.path().join(format!("box{h}")),
				point(h),
				&raw_spec,
				&nodes,
				sim.address,
			)
		})
		.collect();

	boxes[0].trade_for("Household1", DAILY_BUDGET);
	boxes[1].trade_for("Household2", DAILY_BUDGET);
	boxes[2].trade_for("Household3", DAILY_BUDGET);
	boxes[3].trade_for("Household5", DAILY_BUDGET);
	GatewayBox::register_keys(node, &boxes);
	boxes.iter_mut().for_each(GatewayBox::start);

	let seen = Mutex::new(Seen::default());
	let stop = AtomicBool::new(false);
	std::thread::scope(|s| {
		s.spawn(|| watch(node, &seen, &stop));
		// Each box's first slot has no start; its second is its first reading.
		for b in &boxes {
			b.wait_for_log("reading final", 0, SLOT * 4);
		}
		let two = &mut boxes[1];
		let restored = std::thread::scope(|s| {
			s.spawn(|| {
				for after in ["reading signed", "submitted", "reading final"] {
					two.wait_for_log(after, two.count(after), SLOT * 3);
					two.kill();
					two.start();
				}
			});
			s.spawn(|| {
				sims[3].pause();
				sleep(SLOT * 5 / 2);
				sims[3].resume();
			});
			proxy.cut();
			sleep(SLOT * 5);
			proxy.restore();
			current_slot(node)
		});
		// Settled through two slots after household 3 is back: their readings were on time.
		let through = restored + 2;
		wait_for("the slots after the outage to settle", SLOT * 8, || {
			seen.lock().unwrap().settled.contains(&through).then_some(())
		});
		stop.store(true, Ordering::SeqCst);
	});
	let seen = seen.into_inner().unwrap();
	let settled_through = *seen.settled.last().unwrap();
	// The trading boxes' ledgers, as their owners fetch them.
	let ledgers: Vec<(u8, String, String)> = [1u8, 2, 3]
		.into_iter()
		.map(|h| {
			let b = &boxes[h as usize - 1];
			(h, b.get("/ledger.json"), b.get("/ledger.csv"))
		})
		.collect();
	// A reading may be final on the chain a poll before its gateway looks: let each catch up
	// (the journals below show any that does not).
	let caught_up =
		|| boxes.iter().all(|b| b.open_slots().first().is_none_or(|&s| s > settled_through));
	let deadline = Instant::now() + SLOT * 2;
	while !caught_up() && Instant::now() < deadline {
		sleep(Duration::from_secs(1));
	}
	boxes.iter_mut().for_each(GatewayBox::stop);

	check_bills(&ledgers, &seen);
	for (&h, b) in HOUSEHOLDS.iter().zip(&boxes) {
		check_orders(h, b, &seen, settled_through);
		let journal = b.journal();
		let log = b.log();
		let context = format!("household {h}: journal {journal:#?}\n{log}");
		let readings: BTreeMap<Slot, (u64, u64)> =
			journal.iter().filter_map(|l| Some((l.slot, l.energy?))).collect();

		// The chain holds exactly the journal's readings that it took, with their values.
		let on_chain: BTreeMap<Slot, (u64, u64)> = seen
			.readings
			.iter()
			.filter(|((_, who), _)| *who == h)
			.map(|((s, _), r)| (*s, *r))
			.collect();
		for (slot, energy) in &on_chain {
			assert_eq!(readings.get(slot), Some(energy), "slot {slot}: {context}");
		}
		for line in &journal {
			match (line.state.as_str(), line.energy) {
				("finalized", Some(energy)) => {
					assert!(
						on_chain.get(&line.slot).is_none_or(|c| *c == energy),
						"slot {}: {context}",
						line.slot
					)
				}
				("taken", None) => {}
				// Stopped before its slot settled: it may still be on its way.
				("signed" | "submitted", Some(_)) if line.slot > settled_through => {}
				("refused", Some(_)) if h == 3 => {
					assert_eq!(line.reason.as_deref(), Some("TooOld"), "{context}")
				}
				_ => panic!("slot {} left {}: {context}", line.slot, line.state),
			}
		}

		// Settled energy adds up to the registers' advance, from the first slot settled on
		// its reading to the last such slot, corrections included.
		let records: BTreeMap<Slot, &SettlementRecord> = seen
			.records
			.iter()
			.filter(|((_, who), _)| *who == h)
			.map(|((s, _), r)| (*s, r))
			.collect();
		let on_time = |s: &Slot| {
			records.get(s).is_some_and(|r| r.estimated_readings == 0) && readings.contains_key(s)
		};
		let first = *records.keys().find(|s| on_time(s)).unwrap_or_else(|| panic!("{context}"));
		let last = *records.keys().rev().find(|s| on_time(s)).unwrap();
		let net = |(i, e): (u64, u64)| i as i64 - e as i64;
		let registers = |s: Slot| {
			let l = journal.iter().find(|l| l.slot == s).unwrap();
			net((l.import_register_wh, l.export_register_wh))
		};
		let settled: i64 = records
			.range(first + 1..=last)
			.map(|(_, r)| {
				net((r.metered.import_wh, r.metered.export_wh))
					+ net((r.estimated.import_wh, r.estimated.export_wh))
					+ r.corrected_wh
			})
			.sum();
		assert_eq!(settled, registers(last) - registers(first), "{context}");
		assert!(last >= first + 4, "household {h} settled on readings in too few slots: {context}");
		let estimated =
			records.range(first + 1..=last).filter(|(_, r)| r.estimated_readings > 0).count();
		let corrected =
			records.range(first + 1..=last).filter(|(_, r)| r.corrected_wh != 0).count();

		match h {
			// Every slot read, final and settled on its reading.
			1 | 2 => {
				assert_eq!(estimated, 0, "{context}");
				assert!((first..=last).all(|s| on_time(&s)), "{context}");
			}
			// Slots past the window refused as such, the rest caught up in a batch, the gap
			// estimated and corrected.
			3 => {
				assert!(journal.iter().any(|l| l.reason.as_deref() == Some("TooOld")), "{context}");
				assert!(
					log.lines().any(|l| l.contains("submitted") && !l.contains("readings=1")),
					"no batch: {context}"
				);
				assert!(estimated > 0 && corrected > 0, "{context}");
			}
			// No reading while the meter was stopped: the slots were estimated, then corrected.
			_ => {
				let missing = (first..=last).filter(|s| !readings.contains_key(s)).count();
				assert!(missing >= 2, "{context}");
				assert!(estimated >= missing && corrected > 0, "{context}");
			}
		}
	}
}

/// The orders a box placed for its owner took part in their slots' clearing; box 2's went
/// through its kills, box 3's through its outage; box 4's were refused by name.
fn check_orders(h: u8, b: &GatewayBox, seen: &Seen, settled_through: Slot) {
	let orders = b.orders();
	let log = b.log();
	let context = format!("household {h}: orders {orders:#?}\n{log}");
	match h {
		1..=3 => {
			assert!(log.contains("standing order in place"), "{context}");
			let mut cleared = 0;
			for o in &orders {
				match o.state.as_str() {
					"placed" => {
						if let Some(ids) = seen.cleared.get(&o.slot) {
							assert!(o.ids.iter().all(|id| ids.contains(id)), "{context}");
							cleared += 1;
						}
					}
					// Killed or cut off with an order on its way: its bytes went again after,
					// but a block may not have taken them before the gate closed.
					"lost" if h != 1 => {}
					// Stopped before it was seen final.
					"submitted" if o.slot > settled_through => {}
					_ => panic!("slot {}: order {}: {context}", o.slot, o.state),
				}
			}
			assert!(cleared >= 3, "only {cleared} orders seen cleared: {context}");
		}
		4 => {
			assert!(!orders.is_empty(), "{context}");
			for o in &orders {
				assert_eq!(o.state, "refused", "{context}");
				assert_eq!(o.reason.as_deref(), Some("NotYourMeteringPoint"), "{context}");
			}
			let sent =
				log.lines().any(|l| l.contains("order submitted") && !l.contains("standing"));
			assert!(!sent, "{context}");
		}
		_ => assert!(orders.is_empty(), "{context}"),
	}
}

/// The trading boxes checked their bills: every settled slot they checked matches, equals the
/// record the chain showed, and among them are ex-ante and ex-post trades and deviations left
/// for the utility. Box 3 came back after the chain forgot slots of its outage; it matched
/// slots settled on estimates whose late readings the chain holds. The CSV has a row per bill.
fn check_bills(ledgers: &[(u8, String, String)], seen: &Seen) {
	let (mut ex_ante, mut ex_post, mut deviations) = (0, 0, 0);
	for (h, json, csv) in ledgers {
		let bills: Vec<serde_json::Value> = serde_json::from_str(json).unwrap();
		let context = format!("household {h}: ledger {json}");
		let matched: Vec<&serde_json::Value> =
			bills.iter().filter(|b| b["state"] == "matches").collect();
		assert!(matched.len() >= 3, "{context}");
		assert!(bills.iter().all(|b| b["state"] != "differs"), "{context}");
		if *h == 3 {
			assert!(bills.iter().any(|b| b["state"] == "forgotten"), "{context}");
			let late = |slot: Slot| {
				let estimated =
					seen.records.get(&(slot, 3)).is_some_and(|r| r.estimated_readings > 0);
				estimated && seen.readings.contains_key(&(slot, 3))
			};
			assert!(matched.iter().any(|b| late(b["slot"].as_u64().unwrap())), "{context}");
		}
		for b in &matched {
			let slot = b["slot"].as_u64().unwrap();
			let r = &b["record"];
			if let Some(chain) = seen.records.get(&(slot, *h)) {
				assert_eq!(r["marketAmount"], chain.market_amount.to_string(), "{context}");
				assert_eq!(r["utilityAmount"], chain.utility_amount.to_string(), "{context}");
				assert_eq!(r["boughtWh"], chain.bought_wh, "{context}");
				assert_eq!(r["soldWh"], chain.sold_wh, "{context}");
				assert_eq!(r["exPostBoughtWh"], chain.ex_post_bought_wh, "{context}");
				assert_eq!(r["exPostSoldWh"], chain.ex_post_sold_wh, "{context}");
			}
			let wh = |k: &str| r[k].as_u64().unwrap();
			ex_ante += (wh("boughtWh") + wh("soldWh") > 0) as u32;
			ex_post += (wh("exPostBoughtWh") + wh("exPostSoldWh") > 0) as u32;
			deviations += (wh("fromUtilityWh") + wh("toUtilityWh") > 0) as u32;
		}
		let rows: Vec<&str> = csv.lines().collect();
		assert!(rows[0].starts_with("slot,state,bought_wh,"), "{csv}");
		assert_eq!(rows.len(), bills.len() + 1, "{csv}");
	}
	assert!(ex_ante > 0 && ex_post > 0 && deviations > 0, "{ledgers:#?}");
}

/// A configuration the gateway cannot run with stops it at start, with an error that names
/// what is wrong.
#[test]
fn a_bad_configuration_stops_the_gateway_with_a_named_error() {
	let dir = tempfile::Builder::new().prefix("lem-gateway-config-").tempdir().unwrap();
	let sim = MeterSim::start(1);
	let raw_spec = raw_chain_spec_file("dev", dir.path());
	let good =
		GatewayBox::new(dir.path(), 1001, &raw_spec, &["ws://127.0.0.1:9".into()], sim.address);
	let text = std::fs::read_to_string(&good.config).unwrap();
	let cases = [
		(
			"an unknown register",
			text.replace(
				"kind = \"simulator\"",
				"kind = \"registers\"\n\
				 import = { table = \"holding\", address = 9000, words = 2, unit = \"wh\" }\n\
				 export = { table = \"holding\", address = 9002, words = 2, unit = \"wh\" }",
			),
			"meter refused import: Holding register 9000",
		),
		(
			"an unreachable meter",
			text.replace(&sim.address.to_string(), &format!("127.0.0.1:{}", free_port())),
			"unreachable",
		),
		(
			"a missing key file",
			text.replace("device.key", "missing.key"),
			"missing.key does not exist",
		),
		("an unknown field", format!("{text}colour = \"red\"\n"), "unknown field `colour`"),
		(
			"a serial protocol given an address",
			text.replace("[meter]\n", "[meter]\nprotocol = \"modbus_rtu\"\n"),
			"modbus_rtu needs a serial device and a map, and no address",
		),
		(
			"a battery that does not answer",
			format!(
				"{text}\n[battery]\nprotocol = \"sunspec\"\naddress = \"127.0.0.1:{}\"\ncapacity_wh = 10000\n",
				free_port()
			),
			"storage inverter Modbus TCP 127.0.0.1:",
		),
		(
			"an OpenEMS battery given a Modbus address",
			format!(
				"{text}\n[battery]\nprotocol = \"openems_push\"\naddress = \"{}\"\ncapacity_wh = 10000\n",
				sim.address
			),
			"battery: openems_push needs listen, and no address or serial",
		),
		(
			"a heat pump's watchdog shorter than three polls",
			format!(
				"{text}\n[heat_pump]\nprotocol = \"sg_ready_relays\"\naddress = \"{}\"\nwatchdog_seconds = 2\n",
				sim.address
			),
			"heat_pump.watchdog_seconds: 2 is not between three polls",
		),
		(
			"a wallbox's charge point id with a space",
			format!(
				"{text}\n[charger]\nprotocol = \"ocpp16\"\nlisten = \"127.0.0.1:0\"\ncharge_point = \"wall box\"\n"
			),
			"charger.charge_point: \"wall box\" is not 1 to 48 letters",
		),
		(
			"a wallbox's authorization key too short for OCPP's security profile 1",
			format!(
				"{text}\n[charger]\nprotocol = \"ocpp16\"\nlisten = \"127.0.0.1:0\"\ncharge_point = \"wallbox\"\nauthorization_key_file = \"short.key\"\n"
			),
			"short.key does not hold 16 to 40 printable characters",
		),
		(
			"a car's departure that is no time of day",
			format!("{text}\n[plan]\ncar_departure = \"7:30\"\n"),
			"plan.car_departure: not a time of day as HH:MM",
		),
		(
			"an app origin with a path",
			text.replacen("metering_point", "app_origin = \"http://app.example/x\"\nmetering_point", 1),
			"app_origin: \"http://app.example/x\" is not an origin",
		),
		(
			"a chain spec that is not raw",
			text.replace("dev-raw.json", "dev.json"),
			"not a raw chain spec",
		),
	];
	std::fs::write(dir.path().join("short.key"), "0123456789\n").unwrap();
	std::fs::write(dir.path().join("dev.json"), export_chain_spec("dev", false)).unwrap();
	for (what, config, error) in cases {
		let path = dir.path().join("bad.toml");
		std::fs::write(&path, config).unwrap();
		let (ok, log) = GatewayBox::run_to_exit(&path, Duration::from_secs(30));
		assert!(!ok, "{what}: the gateway ran\n{log}");
		assert!(log.contains(error), "{what}: no {error:?} in\n{log}");
	}
}
