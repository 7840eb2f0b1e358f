//! The meter input against real Modbus TCP servers on loopback: `lem-meter-sim` as a process,
//! and a bare meter whose registers a test sets, for what a simulator never does.

use lem_gateway::meter::{
	map::{MapConfig, Register, Table, Unit, WordOrder},
	Energy, Meter, MeterError,
};
use std::{
	future,
	io::{BufRead, BufReader},
	net::SocketAddr,
	process::{Child, Command, Stdio},
	sync::{Arc, Mutex},
	time::Duration,
};
use tokio::net::TcpListener;
use tokio_modbus::{
	server::tcp::{accept_tcp_connection, Server},
	ExceptionCode, Request, Response,
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

/// A meter with eight input registers that the test sets; it has no holding registers.
#[derive(Clone)]
struct Bare(Arc<Mutex<Vec<u16>>>);

impl tokio_modbus::server::Service for Bare {
	type Request = Request<'static>;
	type Response = Response;
	type Exception = ExceptionCode;
	type Future = future::Ready<Result<Response, ExceptionCode>>;

	fn call(&self, request: Self::Request) -> Self::Future {
		let registers = self.0.lock().unwrap();
		future::ready(match request {
			Request::ReadInputRegisters(at, n) => registers
				.get(at as usize..at as usize + n as usize)
				.map(|r| Response::ReadInputRegisters(r.to_vec()))
				.ok_or(ExceptionCode::IllegalDataAddress),
			_ => Err(ExceptionCode::IllegalDataAddress),
		})
	}
}

async fn serve_bare(registers: Arc<Mutex<Vec<u16>>>) -> SocketAddr {
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let address = listener.local_addr().unwrap();
	let service = Bare(registers);
	tokio::spawn(async move {
		let new_service = move |_| Ok(Some(service.clone()));
		let on_connected = |stream, address| {
			let new_service = new_service.clone();
			async move { accept_tcp_connection(stream, address, new_service) }
		};
		Server::new(listener).serve(&on_connected, |_| {}).await
	});
	address
}

fn input(address: u16, words: u8) -> Register {
	Register {
		table: Table::Input,
		address,
		words,
		word_order: WordOrder::HighFirst,
		scale: 1.0,
		scale_factor: None,
		unit: Unit::Wh,
	}
}

#[tokio::test]
async fn the_simulator_reads_the_same_through_its_own_map_and_as_a_sunspec_meter() {
	let sim = Sim::start(3);
	let mut own = Meter::connect(sim.1, 1, &MapConfig::Simulator {}, WITHIN).await.unwrap();
	let mut sunspec = Meter::connect(sim.1, 1, &MapConfig::Sunspec {}, WITHIN).await.unwrap();
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

#[tokio::test]
async fn a_register_the_meter_does_not_have_is_named() {
	let registers = Arc::new(Mutex::new(vec![0; 8]));
	let address = serve_bare(registers).await;
	let map = MapConfig::Registers { import: input(100, 2), export: input(4, 4) };
	let mut meter = Meter::connect(address, 1, &map, WITHIN).await.unwrap();
	let e = meter.read().await.unwrap_err();
	assert!(matches!(e, MeterError::Exception { field: "import", register: 100, .. }), "{e:?}");
	assert!(e.to_string().contains("import") && e.to_string().contains("register 100"));
	// And a device without SunSpec is told apart from one without a meter model.
	let e = Meter::connect(address, 1, &MapConfig::Sunspec {}, WITHIN).await.err().unwrap();
	assert_eq!(e, MeterError::NotSunspec);
	let bad = MapConfig::Registers { import: input(0, 3), export: input(4, 4) };
	let e = Meter::connect(address, 1, &bad, WITHIN).await.err().unwrap();
	assert!(matches!(e, MeterError::BadMap { field: "import", .. }), "{e:?}");
}

#[tokio::test]
async fn a_register_that_goes_backwards_is_refused_and_the_last_reading_stands() {
	let registers = Arc::new(Mutex::new(vec![0, 0, 0, 5_000, 0, 0, 0, 700]));
	let address = serve_bare(registers.clone()).await;
	let mut meter = Meter::connect(address, 1, &MapConfig::Simulator {}, WITHIN).await.unwrap();
	assert_eq!(meter.read().await.unwrap(), Energy { import_wh: 5_000, export_wh: 700 });
	registers.lock().unwrap()[7] = 699;
	assert_eq!(
		meter.read().await.unwrap_err(),
		MeterError::Backwards { field: "export", register: 4, before: 700, now: 699 }
	);
	registers.lock().unwrap()[7] = 800;
	assert_eq!(meter.read().await.unwrap(), Energy { import_wh: 5_000, export_wh: 800 });
}

#[tokio::test]
async fn a_meter_that_does_not_answer_gives_no_reading() {
	// Nothing listens: unreachable.
	let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
	let mut meter = Meter::connect(closed, 1, &MapConfig::Simulator {}, WITHIN).await.unwrap();
	assert!(matches!(meter.read().await, Err(MeterError::Unreachable { .. })));
	// Something takes the connection and never answers: a timeout naming the register.
	let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let address = silent.local_addr().unwrap();
	tokio::spawn(async move {
		let mut held = Vec::new();
		while let Ok((stream, _)) = silent.accept().await {
			held.push(stream);
		}
	});
	let mut meter = Meter::connect(address, 1, &MapConfig::Simulator {}, WITHIN).await.unwrap();
	assert_eq!(
		meter.read().await.unwrap_err(),
		MeterError::Timeout { meter: address, field: "import", register: 0 }
	);
}
