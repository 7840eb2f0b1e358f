//! `lem-meter-sim`: a demo household's meter, for demos and tests: a Modbus server over TCP, or
//! over RTU on a serial line, or a modern meter pushing SML telegrams on its optical D0
//! interface — each serial line a pseudo-terminal whose other end a box opens as it would the
//! RS-485 adapter or the reading head at a meter.
//!
//! It prints `listening on <address>` (port 0 picks a free one), or `listening on <path>` of
//! the pseudo-terminal, once it takes requests.

use clap::Parser;
use lem_sim::{sml, Household, Service, SimMeter};
use std::{
	net::SocketAddr,
	sync::{Arc, Mutex},
	time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::{io::AsyncWriteExt, net::TcpListener};
use tokio_modbus::server::{
	rtu,
	tcp::{accept_tcp_connection, Server},
};
use tokio_serial::SerialPort;

#[derive(Parser)]
#[command(about = "A demo household's meter: Modbus TCP or RTU, or SML telegrams")]
struct Args {
	/// The demo household, 1 to 10 (PV on 2, 3, 5, 6 and 9; a battery on 5).
	#[arg(long, value_parser = clap::value_parser!(u8).range(1..=10))]
	household: u8,
	#[arg(long, default_value = "127.0.0.1:5020")]
	listen: SocketAddr,
	/// Serve Modbus RTU on a new pseudo-terminal instead of TCP.
	#[arg(long, conflicts_with = "sml")]
	serial: bool,
	/// Push SML telegrams on a new pseudo-terminal, as a modern meter's D0 interface does,
	/// instead of serving Modbus.
	#[arg(long)]
	sml: bool,
	/// How much faster than the wall's the household's clock runs: 30 makes a 30 s chain slot
	/// a 15-minute slot of the household's day.
	#[arg(long, default_value_t = 1.0)]
	speed: f64,
	#[arg(long, default_value_t = 0)]
	seed: u64,
	/// The hour of the day (UTC, 0-23) the household's clock starts at, today; the wall's time
	/// if absent. A demo started at night can begin in the morning, when the sun rises.
	#[arg(long, value_parser = clap::value_parser!(u8).range(0..=23))]
	start_hour: Option<u8>,
	/// What the registers show when the simulation starts, each way.
	#[arg(long, default_value_t = 1_000_000)]
	start_wh: u64,
}

/// How often the registers advance, in wall time.
const TICK: Duration = Duration::from_millis(200);
/// How often an SML meter pushes a telegram: real ones every one to four seconds.
const PUSH: Duration = Duration::from_millis(500);

fn unix_now() -> f64 {
	SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs_f64()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
	let args = Args::parse();
	if !(args.speed.is_finite() && args.speed > 0.0) {
		return Err(format!("--speed must be a positive number, not {}", args.speed).into());
	}
	let household = Household::demo(args.household, args.seed);
	let meter = Arc::new(Mutex::new(SimMeter::new(household, args.start_wh)));

	// The household's time starts at the wall's and runs `speed` times as fast.
	let wall_start = unix_now();
	let start = match args.start_hour {
		Some(hour) => (wall_start / 86_400.0).floor() * 86_400.0 + f64::from(hour) * 3_600.0,
		None => wall_start,
	};
	let ticking = meter.clone();
	tokio::spawn(async move {
		let mut interval = tokio::time::interval(TICK);
		let mut simulated = start;
		loop {
			interval.tick().await;
			let now = start + (unix_now() - wall_start) * args.speed;
			let seconds = now - simulated;
			if seconds > 0.0 {
				ticking.lock().expect("not poisoned").advance(simulated as u64, seconds);
				simulated = now;
			}
		}
	});

	if args.sml {
		// The box opens the other end by its path; the simulator keeps it open too, so that
		// the line stays up between the box's reads.
		let (mut line, other_end) = tokio_serial::SerialStream::pair()?;
		let path = other_end.name().ok_or("the pseudo-terminal has no path")?;
		println!("listening on {path}");
		let server_id = [0x0a, 0x01, b'L', b'E', b'M', 0, 0, 0, 0, args.household];
		let mut interval = tokio::time::interval(PUSH);
		for number in 0u32.. {
			tokio::select! {
				_ = interval.tick() => {}
				_ = tokio::signal::ctrl_c() => break,
			}
			let (import, export) = meter.lock().expect("not poisoned").registers_tenths();
			line.write_all(&sml::telegram(&server_id, number, import, export)).await?;
		}
		return Ok(());
	}
	let service = Service(meter);
	if args.serial {
		// The box opens the other end by its path; the simulator keeps it open too, so that the
		// line stays up between the box's connections.
		let (line, other_end) = tokio_serial::SerialStream::pair()?;
		let path = other_end.name().ok_or("the pseudo-terminal has no path")?;
		println!("listening on {path}");
		tokio::select! {
			served = rtu::Server::new(line).serve_forever(service) => served?,
			_ = tokio::signal::ctrl_c() => {}
		}
		return Ok(());
	}
	let listener = TcpListener::bind(args.listen).await?;
	println!("listening on {}", listener.local_addr()?);
	let server = Server::new(listener);
	let new_service = move |_| Ok(Some(service.clone()));
	let on_connected = |stream, address| {
		let new_service = new_service.clone();
		async move { accept_tcp_connection(stream, address, new_service) }
	};
	let on_process_error = |e| eprintln!("modbus connection: {e}");
	tokio::select! {
		served = server.serve(&on_connected, on_process_error) => served?,
		_ = tokio::signal::ctrl_c() => {}
	}
	Ok(())
}
