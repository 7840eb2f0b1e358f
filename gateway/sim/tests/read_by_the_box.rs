//! `lem-meter-sim` as a process, read by the box's own Modbus TCP adapter through both maps it
//! serves: what the box sees is what the simulator counts.

use lem_gateway::meter::{map::MapConfig, modbus_tcp::ModbusTcp, Protocol};
use std::{
	io::{BufRead, BufReader},
	net::SocketAddr,
	process::{Child, Command, Stdio},
	time::Duration,
};

const WITHIN: Duration = Duration::from_millis(500);

/// `lem-meter-sim` for `household`, its clock 600 times the wall's; killed when dropped.
struct Sim(Child, SocketAddr);

impl Sim {
	fn start(household: u8) -> Self {
		let mut child = Command::new(env!("CARGO_BIN_EXE_lem-meter-sim"))
			.args(["--household", &household.to_string(), "--listen", "127.0.0.1:0"])
			.args(["--speed", "600", "--start-hour", "18"])
			.stdout(Stdio::piped())
			.spawn()
			.expect("lem-meter-sim starts");
		let mut line = String::new();
		BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
		let address = line.trim().strip_prefix("listening on ").expect(&line).parse().unwrap();
		Self(child, address)
	}
}

impl Drop for Sim {
	fn drop(&mut self) {
		let _ = self.0.kill();
		let _ = self.0.wait();
	}
}

#[tokio::test]
async fn the_simulator_reads_the_same_through_its_own_map_and_as_a_sunspec_meter() {
	let sim = Sim::start(3);
	let mut own = ModbusTcp::connect(sim.1, 1, &MapConfig::Simulator {}, WITHIN).await.unwrap();
	let mut sunspec = ModbusTcp::connect(sim.1, 1, &MapConfig::Sunspec {}, WITHIN).await.unwrap();
	// Model 203 follows the marker and the common model (1, 66 registers).
	assert_eq!(sunspec.map().import.address, 40_000 + 2 + 68 + 2 + 44);
	let first = own.read().await.unwrap();
	assert!(first.import_wh >= 1_000_000 && first.export_wh >= 1_000_000);
	tokio::time::sleep(Duration::from_millis(1_500)).await;
	let (a, b) = (own.read().await.unwrap(), sunspec.read().await.unwrap());
	// Fifteen minutes of the household's time have passed: it drew energy.
	assert!(a.import_wh > first.import_wh, "{first:?} -> {a:?}");
	assert!(b.import_wh >= a.import_wh && b.import_wh - a.import_wh < 100, "{a:?} vs {b:?}");
}
