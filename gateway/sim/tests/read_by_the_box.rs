//! `lem-meter-sim` as a process, read by the box's own adapters: over Modbus through both maps
//! it serves, over TCP and over RTU on a pseudo-terminal, and as an SML meter pushing
//! telegrams on one. What the box sees is what the simulator counts.

use lem_gateway::meter::{
	map::MapConfig,
	modbus::{Modbus, Transport},
	sml::Sml,
	Link, Meter, MeterError, Protocol,
};
use lem_sim::sml::frame;
use std::{
	io::{BufRead, BufReader},
	net::SocketAddr,
	process::{Child, Command, Stdio},
	time::Duration,
};
use tokio::io::AsyncWriteExt;
use tokio_serial::SerialPort;

const WITHIN: Duration = Duration::from_millis(500);

/// `lem-meter-sim` for `household`, its clock 600 times the wall's, with `args`; killed when
/// dropped. Where it listens: an address, or a pseudo-terminal's path.
struct Sim(Child, String);

impl Sim {
	fn start(household: u8, args: &[&str]) -> Self {
		let mut child = Command::new(env!("CARGO_BIN_EXE_lem-meter-sim"))
			.args(["--household", &household.to_string()])
			.args(["--speed", "600", "--start-hour", "18"])
			.args(args)
			.stdout(Stdio::piped())
			.spawn()
			.expect("lem-meter-sim starts");
		let mut line = String::new();
		BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
		let at = line.trim().strip_prefix("listening on ").expect(&line).to_owned();
		Self(child, at)
	}
}

impl Drop for Sim {
	fn drop(&mut self) {
		let _ = self.0.kill();
		let _ = self.0.wait();
	}
}

/// Both maps of one simulated meter over `transport` read the same registers, which advance.
/// One connection at a time, as a serial line takes one master.
async fn reads_the_same(transport: Transport) {
	let connect = |map| Modbus::connect(transport.clone(), 1, map, WITHIN);
	let first = connect(&MapConfig::Simulator {}).await.unwrap().read().await.unwrap();
	assert!(first.import_wh >= 1_000_000 && first.export_wh >= 1_000_000);
	tokio::time::sleep(Duration::from_millis(1_500)).await;
	let mut sunspec = connect(&MapConfig::Sunspec {}).await.unwrap();
	// Model 203 follows the marker and the common model (1, 66 registers).
	assert_eq!(sunspec.map().import.address, 40_000 + 2 + 68 + 2 + 44);
	let b = sunspec.read().await.unwrap();
	drop(sunspec);
	let a = connect(&MapConfig::Simulator {}).await.unwrap().read().await.unwrap();
	// Fifteen minutes of the household's time have passed: it drew energy.
	assert!(a.import_wh > first.import_wh, "{first:?} -> {a:?}");
	assert!(a.import_wh >= b.import_wh && a.import_wh - b.import_wh < 100, "{b:?} vs {a:?}");
}

#[tokio::test]
async fn over_tcp_the_simulator_reads_the_same_through_its_own_map_and_as_a_sunspec_meter() {
	let sim = Sim::start(3, &["--listen", "127.0.0.1:0"]);
	let address: SocketAddr = sim.1.parse().unwrap();
	reads_the_same(Transport::Tcp(address)).await;
}

#[tokio::test]
async fn over_rtu_on_a_serial_line_the_simulator_reads_the_same() {
	let sim = Sim::start(3, &["--serial"]);
	assert!(sim.1.starts_with("/dev/pts/"), "{}", sim.1);
	reads_the_same(Transport::Rtu { path: sim.1.clone(), baud: 9_600 }).await;
}

#[tokio::test]
async fn as_an_sml_meter_the_box_takes_its_newest_telegram() {
	let sim = Sim::start(3, &["--sml"]);
	// The simulator pushes a telegram every half second.
	let sml = Sml::new(sim.1.clone(), 9_600, Duration::from_millis(1_500));
	let mut meter: Meter = Link::Sml(sml).into();
	let first = meter.read().await.unwrap();
	assert!(first.import_wh >= 1_000_000 && first.export_wh >= 1_000_000);
	tokio::time::sleep(Duration::from_millis(1_500)).await;
	// Three telegrams arrived meanwhile: the newest counts.
	let later = meter.read().await.unwrap();
	assert!(later.import_wh > first.import_wh, "{first:?} -> {later:?}");
	let next = meter.read().await.unwrap();
	assert!(next.import_wh >= later.import_wh && next.import_wh - later.import_wh < 100);
}

#[tokio::test]
async fn an_sml_line_that_stays_silent_or_carries_no_telegram_is_named() {
	let (mut line, head) = tokio_serial::SerialStream::pair().unwrap();
	let path = head.name().unwrap();
	let mut meter: Meter = Link::Sml(Sml::new(path.clone(), 9_600, WITHIN)).into();
	assert_eq!(meter.read().await.unwrap_err(), MeterError::Silent { meter: path });
	// A well-framed telegram whose payload is no SML file.
	line.write_all(&frame(&[0x42; 12])).await.unwrap();
	let e = meter.read().await.unwrap_err();
	assert!(matches!(e, MeterError::Telegram(_)), "{e:?}");
}
