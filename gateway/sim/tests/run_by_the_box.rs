//! The household's devices in `lem-meter-sim`, run by the box's own device adapters over Modbus
//! TCP: what the box asks, the device does, and the meter sees it; when the box stops
//! renewing, the device returns to its own mode.

use lem_gateway::{
	device::{
		ocpp::CentralSystem, sg_ready::RelayModule, sunspec::StorageInverter, Battery, Charger,
		DeviceError, HeatPump,
	},
	meter::{map::MapConfig, modbus::Modbus, Protocol},
	modbus::{ModbusError, Transport},
};
use lem_gateway_core::device::{BatteryMode, ChargerState, Charging, SgReady};
use std::{
	io::{BufRead, BufReader},
	net::{SocketAddr, TcpListener},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

const WITHIN: Duration = Duration::from_millis(500);
/// The simulator's clock runs 600 times the wall's: a wall second is ten minutes of the home.
const SPEED: f64 = 600.0;

/// `lem-meter-sim` for `household` with `args`, from 18:00 of its day; killed when dropped.
/// The addresses it announced: the meter's first, then its devices'.
struct Sim(Child, Vec<SocketAddr>);

impl Sim {
	fn start(household: u8, args: &[&str]) -> Self {
		let mut child = Command::new(env!("CARGO_BIN_EXE_lem-meter-sim"))
			.args(["--household", &household.to_string(), "--listen", "127.0.0.1:0"])
			.args(["--speed", &SPEED.to_string(), "--start-hour", "18"])
			.args(args)
			.stdout(Stdio::piped())
			.spawn()
			.expect("lem-meter-sim starts");
		let mut out = BufReader::new(child.stdout.take().unwrap());
		let mut addresses = Vec::new();
		let devices = args.iter().filter(|a| a.ends_with("-listen")).count();
		for _ in 0..1 + devices {
			let mut line = String::new();
			out.read_line(&mut line).unwrap();
			let (_, at) = line.trim().split_once("listening on ").expect(&line);
			addresses.push(at.parse().unwrap());
		}
		Self(child, addresses)
	}
}

impl Sim {
	/// The household's meter, read through the simulator's map.
	async fn meter(&self) -> Modbus {
		Modbus::connect(Transport::Tcp(self.1[0]), 1, &MapConfig::Simulator {}, WITHIN)
			.await
			.unwrap()
	}
}

impl Drop for Sim {
	fn drop(&mut self) {
		let _ = self.0.kill();
		let _ = self.0.wait();
	}
}

/// What the meter's import register gains over about `wall`, in Wh per second of the wall's
/// time as measured between the two reads: a busy machine's late read does not skew it.
async fn imported_over(meter: &mut Modbus, wall: Duration) -> f64 {
	let before = meter.read().await.unwrap().import_wh;
	let start = Instant::now();
	tokio::time::sleep(wall).await;
	let after = meter.read().await.unwrap().import_wh;
	(after - before) as f64 / start.elapsed().as_secs_f64()
}

/// Wh per second of the wall's time the meter counts for `watts`.
fn wh(watts: f64) -> f64 {
	watts * SPEED / 3_600.0
}

#[tokio::test]
async fn a_storage_inverter_charges_from_the_grid_when_told_and_returns_to_its_own_mode() {
	let sim = Sim::start(5, &["--battery-listen", "127.0.0.1:0"]);
	let battery_at = sim.1[1];
	let mut meter = sim.meter().await;
	// A revert time of two seconds: twenty minutes of the home's.
	let mut battery =
		StorageInverter::connect(Transport::Tcp(battery_at), 1, WITHIN, 2).await.unwrap();
	let state = battery.state().await.unwrap();
	assert_eq!(state.power_w, 5_000);
	assert!((400..=600).contains(&state.stored_permille), "{state:?}");

	// In its own mode the battery covers the evening's load: little comes from the grid.
	let second = Duration::from_secs(1);
	let own = imported_over(&mut meter, second).await;
	assert!(own < wh(300.0), "{own} Wh/s");

	// Charging at 3 kW, it draws that from the grid beside the load.
	battery.hold(BatteryMode::Fixed { power_w: 3_000 }, Instant::now()).await.unwrap();
	let before = battery.state().await.unwrap().stored_permille;
	let charging = imported_over(&mut meter, second).await;
	assert!(charging > wh(3_000.0) * 0.9, "{charging} Wh/s");
	assert!(battery.state().await.unwrap().stored_permille > before);

	// Held, not renewed, the command lapses with the revert time: its own mode again.
	tokio::time::sleep(Duration::from_millis(2_100)).await;
	let lapsed = imported_over(&mut meter, second).await;
	assert!(lapsed < wh(300.0), "{lapsed} Wh/s after the revert time");

	// Renewed, it holds: no discharge keeps the evening's load on the grid.
	let start = Instant::now();
	battery.hold(BatteryMode::Limited { charge_w: 5_000, discharge_w: 0 }, start).await.unwrap();
	let before = meter.read().await.unwrap().import_wh;
	while start.elapsed() < Duration::from_secs(3) {
		tokio::time::sleep(Duration::from_millis(500)).await;
		let no_discharge = BatteryMode::Limited { charge_w: 5_000, discharge_w: 0 };
		battery.hold(no_discharge, Instant::now()).await.unwrap();
	}
	let imported = (meter.read().await.unwrap().import_wh - before) as f64;
	// The house's evening load, at least its 200 W of base load, all from the grid.
	let rate = imported / start.elapsed().as_secs_f64();
	assert!(rate > wh(150.0), "{rate} Wh/s with no discharge");
}

#[tokio::test]
async fn sg_ready_relays_block_and_boost_the_heat_pump_and_open_when_the_box_stops() {
	let sim = Sim::start(8, &["--heat-pump-listen", "127.0.0.1:0"]);
	let relays_at = sim.1[1];
	let mut meter = sim.meter().await;
	let mut heat_pump =
		RelayModule::connect(Transport::Tcp(relays_at), 1, [0, 1], WITHIN, 2).await.unwrap();
	assert_eq!(heat_pump.state().await.unwrap(), SgReady::Normal);

	let second = Duration::from_secs(1);
	heat_pump.hold(SgReady::Blocked, Instant::now()).await.unwrap();
	assert_eq!(heat_pump.state().await.unwrap(), SgReady::Blocked);
	let blocked = imported_over(&mut meter, second).await;
	heat_pump.hold(SgReady::Boosted, Instant::now()).await.unwrap();
	assert_eq!(heat_pump.state().await.unwrap(), SgReady::Boosted);
	let boosted = imported_over(&mut meter, second).await;
	// Boosted, the 2 kW compressor runs: the meter sees it above the blocked household's load.
	assert!(boosted - blocked > wh(2_000.0) * 0.8, "{blocked} Wh/s, then {boosted} Wh/s");

	tokio::time::sleep(Duration::from_millis(2_100)).await;
	assert_eq!(heat_pump.state().await.unwrap(), SgReady::Normal, "the watchdog opened the relays");
}

#[tokio::test]
async fn a_device_without_the_model_or_not_there_is_named() {
	let sim = Sim::start(5, &["--battery-listen", "127.0.0.1:0"]);
	// The meter is a SunSpec device too, but with no storage model.
	let error = StorageInverter::connect(Transport::Tcp(sim.1[0]), 1, WITHIN, 60).await.err();
	assert!(
		matches!(&error, Some(DeviceError::Missing { what, .. }) if what.contains("124")),
		"{error:?}"
	);
	let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
	let error = RelayModule::connect(Transport::Tcp(closed), 1, [0, 1], WITHIN, 60).await.err();
	assert!(
		matches!(&error, Some(DeviceError::Modbus { error: ModbusError::Unreachable(_), .. })),
		"{error:?}"
	);
	// A household without a heat pump serves no relays.
	let without = Command::new(env!("CARGO_BIN_EXE_lem-meter-sim"))
		.args(["--household", "5", "--heat-pump-listen", "127.0.0.1:0"])
		.output()
		.unwrap();
	assert!(!without.status.success());
	assert!(String::from_utf8_lossy(&without.stderr).contains("household 5 has no heat pump"));
}

/// Waits until the wallbox reports a state that `done` takes, within ten seconds.
async fn wallbox_until(
	box_: &mut CentralSystem,
	done: impl Fn(&ChargerState) -> bool,
) -> ChargerState {
	let start = Instant::now();
	loop {
		match box_.state().await {
			Ok(state) if done(&state) => return state,
			other if start.elapsed() > Duration::from_secs(10) => panic!("{other:?}"),
			_ => tokio::time::sleep(Duration::from_millis(100)).await,
		}
	}
}

#[tokio::test]
async fn a_wallbox_on_ocpp_charges_at_the_box_s_limit_until_the_profile_runs_out() {
	let listen = "127.0.0.1:0".parse().unwrap();
	// A profile lasts four seconds: forty minutes of the home's. The wallbox presents its key.
	let key = Some(WALLBOX_KEY.into());
	let mut central =
		CentralSystem::listen(listen, "wallbox-7".into(), key, WITHIN * 4, 4).await.unwrap();
	// Not connected yet: the box says so by name.
	let error = central.hold(Charging::Limit { power_w: 4_200 }, Instant::now()).await.err();
	assert!(
		matches!(&error, Some(DeviceError::Missing { what, .. }) if what.contains("wallbox")),
		"{error:?}"
	);
	let url = format!("ws://{}/ocpp/wallbox-7", central.local_addr());
	let sim = Sim::start(7, &["--wallbox-connect", &url, "--wallbox-key", WALLBOX_KEY]);
	let mut meter = sim.meter().await;

	// Booted, the car plugged in at 19:00: it charges at the wallbox's full 11 kW (its
	// transaction starts before its first meter values tell the power).
	let state = wallbox_until(&mut central, |s| s.charging && s.power_w > 0).await;
	assert!(state.plugged && state.power_w == 11_000, "{state:?}");
	// The registers advance every 200 ms: over two seconds, a tenth of the window at most.
	let window = Duration::from_secs(2);
	let full = imported_over(&mut meter, window).await;

	central.hold(Charging::Limit { power_w: 4_200 }, Instant::now()).await.unwrap();
	wallbox_until(&mut central, |s| s.power_w == 4_200).await;
	let limited = imported_over(&mut meter, window).await;
	let less = full - limited;
	let expected = wh(6_800.0);
	assert!((less - expected).abs() < 0.4 * expected, "{full} Wh/s, then {limited} Wh/s");
	let energy = central.state().await.unwrap().energy_wh.unwrap();

	// Not renewed, the profile runs out: full power again.
	let state = wallbox_until(&mut central, |s| s.power_w == 11_000).await;
	assert!(state.energy_wh.unwrap() > energy, "the register counts on: {state:?}");

	// Paused, then back to its own way.
	central.hold(Charging::Limit { power_w: 0 }, Instant::now()).await.unwrap();
	let paused = wallbox_until(&mut central, |s| !s.charging && s.power_w == 0).await;
	assert!(paused.plugged && paused.power_w == 0, "{paused:?}");
	central.hold(Charging::Own, Instant::now()).await.unwrap();
	wallbox_until(&mut central, |s| s.power_w == 11_000).await;
}

/// The wallbox's authorization key (OCPP security profile 1).
const WALLBOX_KEY: &str = "0123456789abcdef0123";

#[tokio::test]
async fn a_wallbox_that_is_not_ours_or_speaks_no_ocpp_is_refused() {
	use lem_gateway_core::ocpp::basic_authorization;
	let listen = "127.0.0.1:0".parse().unwrap();
	let key = Some(WALLBOX_KEY.into());
	let central = CentralSystem::listen(listen, "wallbox-7".into(), key, WITHIN, 60).await.unwrap();
	let at = central.local_addr();
	let ours = basic_authorization("wallbox-7", WALLBOX_KEY);
	let sent = |url: String, protocol: Option<&'static str>, credentials: Option<String>| async move {
		use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};
		let mut request = url.into_client_request().unwrap();
		if let Some(p) = protocol {
			request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(p));
		}
		if let Some(c) = credentials {
			request.headers_mut().insert("Authorization", HeaderValue::from_str(&c).unwrap());
		}
		tokio_tungstenite::connect_async(request).await.err().map(|e| e.to_string())
	};
	// Without the key, or with another, a device on the home network is not the wallbox.
	let anyone = sent(format!("ws://{at}/ocpp/wallbox-7"), Some("ocpp1.6"), None).await;
	assert!(anyone.as_deref().is_some_and(|e| e.contains("401")), "{anyone:?}");
	let guessed = basic_authorization("wallbox-7", "0123456789abcdef0124");
	let wrong = sent(format!("ws://{at}/ocpp/wallbox-7"), Some("ocpp1.6"), Some(guessed)).await;
	assert!(wrong.as_deref().is_some_and(|e| e.contains("401")), "{wrong:?}");
	let refused =
		|url: String, protocol: Option<&'static str>| sent(url, protocol, Some(ours.clone()));
	let other = refused(format!("ws://{at}/ocpp/wallbox-8"), Some("ocpp1.6")).await;
	assert!(other.as_deref().is_some_and(|e| e.contains("404")), "{other:?}");
	let no_ocpp = refused(format!("ws://{at}/ocpp/wallbox-7"), None).await;
	assert!(no_ocpp.as_deref().is_some_and(|e| e.contains("400")), "{no_ocpp:?}");
	let ocpp2 = refused(format!("ws://{at}/ocpp/wallbox-7"), Some("ocpp2.0.1")).await;
	assert!(ocpp2.is_some(), "only 1.6J");
	assert_eq!(
		refused(format!("ws://{at}/ocpp/wallbox-7"), Some("ocpp2.0.1, ocpp1.6")).await,
		None
	);
}

#[tokio::test]
async fn an_openems_edge_takes_the_box_s_answer_to_each_push_and_its_own_mode_without_one() {
	use lem_gateway::device::openems::RemoteEms;
	let listen = "127.0.0.1:0".parse().unwrap();
	let mut ems = RemoteEms::listen(listen, Duration::from_millis(200)).await.unwrap();
	let url = format!("http://{}/push", ems.local_addr());
	// The Edge pushes every 200 ms: two minutes of the home's.
	let sim = Sim::start(5, &["--openems-push", &url, "--openems-push-ms", "200"]);
	let mut meter = sim.meter().await;
	let start = Instant::now();
	let state = loop {
		match ems.state().await {
			Ok(state) => break state,
			Err(e) if start.elapsed() > Duration::from_secs(5) => panic!("{e}"),
			Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
		}
	};
	assert!((40..=60).contains(&(state.stored_permille / 10)), "{state:?}");
	assert_eq!(state.power_w, 5_000, "what the Edge offers to charge at");

	// Its own mode covers the evening's load; charging from the grid at 3 kW draws it.
	let second = Duration::from_secs(1);
	assert!(imported_over(&mut meter, second).await < wh(300.0));
	ems.hold(BatteryMode::Fixed { power_w: 3_000 }, Instant::now()).await.unwrap();
	tokio::time::sleep(Duration::from_millis(300)).await;
	let charging = imported_over(&mut meter, second).await;
	assert!(charging > wh(3_000.0) * 0.9, "{charging} Wh/s");
	// A discharge on command is no mode OpenEMS has: refused, and the battery in its own mode.
	let refused = ems.hold(BatteryMode::Fixed { power_w: -3_000 }, Instant::now()).await;
	assert!(matches!(refused, Err(DeviceError::Refused { .. })), "{refused:?}");
	ems.hold(BatteryMode::Fixed { power_w: 3_000 }, Instant::now()).await.unwrap();
	tokio::time::sleep(Duration::from_millis(300)).await;

	// The box stops: the Edge's next push fails and the battery is in its own mode again.
	drop(ems);
	tokio::time::sleep(Duration::from_millis(500)).await;
	let own = imported_over(&mut meter, second).await;
	assert!(own < wh(300.0), "{own} Wh/s once the box is gone");
}
