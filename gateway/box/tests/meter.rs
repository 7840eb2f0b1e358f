//! The meter input against real Modbus TCP servers on loopback: a bare meter whose registers
//! a test sets, for what a simulator never does. (`lem-sim`'s tests read `lem-meter-sim`.)

use lem_gateway::meter::{
	map::{MapConfig, Register, Table, Unit, WordOrder},
	modbus::{Modbus, Transport},
	Energy, Link, Meter, MeterError,
};
use std::{
	future,
	net::SocketAddr,
	sync::{Arc, Mutex},
	time::Duration,
};
use tokio::net::TcpListener;
use tokio_modbus::{
	server::tcp::{accept_tcp_connection, Server},
	ExceptionCode, Request, Response,
};

const WITHIN: Duration = Duration::from_millis(500);

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

/// The box's meter over Modbus TCP at `address`, unit 1, through `map`.
async fn modbus(address: SocketAddr, map: &MapConfig) -> Result<Meter, MeterError> {
	Ok(Link::Modbus(Modbus::connect(Transport::Tcp(address), 1, map, WITHIN).await?).into())
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
async fn a_register_the_meter_does_not_have_is_named() {
	let registers = Arc::new(Mutex::new(vec![0; 8]));
	let address = serve_bare(registers).await;
	let map = MapConfig::Registers { import: input(100, 2), export: input(4, 4) };
	let mut meter = modbus(address, &map).await.unwrap();
	let e = meter.read().await.unwrap_err();
	assert!(matches!(e, MeterError::Exception { field: "import", register: 100, .. }), "{e:?}");
	assert!(e.to_string().contains("import") && e.to_string().contains("register 100"));
	// And a device without SunSpec is told apart from one without a meter model.
	let e = modbus(address, &MapConfig::Sunspec {}).await.err().unwrap();
	assert_eq!(e, MeterError::NotSunspec);
	let bad = MapConfig::Registers { import: input(0, 3), export: input(4, 4) };
	let e = modbus(address, &bad).await.err().unwrap();
	assert!(matches!(e, MeterError::BadMap { field: "import", .. }), "{e:?}");
}

#[tokio::test]
async fn a_register_that_goes_backwards_is_refused_and_the_last_reading_stands() {
	let registers = Arc::new(Mutex::new(vec![0, 0, 0, 5_000, 0, 0, 0, 700]));
	let address = serve_bare(registers.clone()).await;
	let mut meter = modbus(address, &MapConfig::Simulator {}).await.unwrap();
	assert_eq!(meter.read().await.unwrap(), Energy { import_wh: 5_000, export_wh: 700 });
	registers.lock().unwrap()[7] = 699;
	assert_eq!(
		meter.read().await.unwrap_err(),
		MeterError::Backwards { field: "export", before: 700, now: 699 }
	);
	registers.lock().unwrap()[7] = 800;
	assert_eq!(meter.read().await.unwrap(), Energy { import_wh: 5_000, export_wh: 800 });
}

#[tokio::test]
async fn a_meter_that_does_not_answer_gives_no_reading() {
	// Nothing listens: unreachable.
	let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
	let mut meter = modbus(closed, &MapConfig::Simulator {}).await.unwrap();
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
	let mut meter = modbus(address, &MapConfig::Simulator {}).await.unwrap();
	assert_eq!(
		meter.read().await.unwrap_err(),
		MeterError::Timeout { meter: address.to_string(), field: "import", register: 0 }
	);
}

#[tokio::test]
async fn a_serial_line_that_is_not_there_is_unreachable() {
	let transport = Transport::Rtu { path: "/dev/lem-no-such-line".into(), baud: 9_600 };
	let meter = Modbus::connect(transport, 1, &MapConfig::Simulator {}, WITHIN).await.unwrap();
	let mut meter: Meter = Link::Modbus(meter).into();
	let e = meter.read().await.unwrap_err();
	assert!(
		matches!(&e, MeterError::Unreachable { meter, .. } if meter == "/dev/lem-no-such-line at 9600 Bd"),
		"{e:?}"
	);
}
