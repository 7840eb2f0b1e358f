//! `lem-meter-sim`: a demo household's meter, for demos and tests: a Modbus server over TCP, or
//! over RTU on a serial line, or a modern meter pushing SML telegrams on its optical D0
//! interface — each serial line a pseudo-terminal whose other end a box opens as it would the
//! RS-485 adapter or the reading head at a meter.
//!
//! The household's devices, where it has them, are Modbus TCP servers of their own on the home
//! network, as real ones are: the battery's storage inverter (SunSpec model 124) with
//! `--battery-listen`, the relay module at the heat pump's SG-Ready contacts with
//! `--heat-pump-listen`. The wallbox, OCPP's way, connects to its central system instead
//! (`--wallbox-connect`), and so does a battery run by OpenEMS Edge, which pushes to its
//! remote EMS (`--openems-push`).
//!
//! It prints `listening on <address>` (port 0 picks a free one), or `listening on <path>` of
//! the pseudo-terminal, once the meter takes requests, then `battery listening on <address>`
//! and `heat pump listening on <address>` for the devices it serves.

use clap::Parser;
use lem_sim::{ev::Ev, sml, Device, Household, Service, SimMeter};
use std::{
	net::SocketAddr,
	sync::{Arc, Mutex},
	time::{Duration, Instant, SystemTime, UNIX_EPOCH},
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
	/// Serve the battery's storage inverter here (households with a battery: 5).
	#[arg(long)]
	battery_listen: Option<SocketAddr>,
	/// Serve the relay module at the heat pump's SG-Ready contacts here (households with a
	/// heat pump: 8).
	#[arg(long)]
	heat_pump_listen: Option<SocketAddr>,
	/// Connect the wallbox to its OCPP 1.6J central system at this URL, e.g.
	/// ws://127.0.0.1:8887/ocpp/wallbox-7 (households with a car: 7).
	#[arg(long)]
	wallbox_connect: Option<String>,
	/// The wallbox's authorization key, which it presents with its identity (the URL's last
	/// part) by HTTP Basic authentication: OCPP's security profile 1.
	#[arg(long, requires = "wallbox_connect")]
	wallbox_key: Option<String>,
	/// Give the household the demo car (its own, if it has one) coming home at this hour of
	/// its day, Central European, instead of at 18: a PV household's car home at noon.
	#[arg(long, value_parser = clap::value_parser!(u8).range(0..=23))]
	car_home_at: Option<u8>,
	/// Run the battery as OpenEMS Edge with a remote EMS: push to this URL, e.g.
	/// http://127.0.0.1:8090/ (households with a battery: 5), instead of serving model 124.
	#[arg(long, conflicts_with = "battery_listen")]
	openems_push: Option<String>,
	/// How often the Edge pushes, in milliseconds (OpenEMS: 5 s after the last push).
	#[arg(long, default_value_t = 5_000)]
	openems_push_ms: u64,
}

/// Serves `service` over Modbus TCP on `listener` until the end.
async fn serve_tcp(listener: TcpListener, service: Service) -> std::io::Result<()> {
	let server = Server::new(listener);
	let new_service = move |_| Ok(Some(service.clone()));
	let on_connected = |stream, address| {
		let new_service = new_service.clone();
		async move { accept_tcp_connection(stream, address, new_service) }
	};
	let on_process_error = |e| eprintln!("modbus connection: {e}");
	server.serve(&on_connected, on_process_error).await
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
	let mut household = Household::demo(args.household, args.seed);
	if let Some(hour) = args.car_home_at {
		household.ev.get_or_insert_with(Ev::new).arrives_h = f64::from(hour);
	}
	let devices = [
		(args.battery_listen, Device::Battery, "battery", household.battery.is_some()),
		(args.heat_pump_listen, Device::Relays, "heat pump", household.heat_pump.is_some()),
	];
	if let Some((_, _, name, _)) = devices.iter().find(|(at, _, _, has)| at.is_some() && !has) {
		return Err(format!("household {} has no {name}", args.household).into());
	}
	if args.wallbox_connect.is_some() && household.ev.is_none() {
		return Err(format!("household {} has no car", args.household).into());
	}
	let meter = Arc::new(Mutex::new(SimMeter::new(household, args.start_wh)));
	if let Some(url) = args.wallbox_connect.clone() {
		tokio::spawn(lem_sim::wallbox::run(url, args.wallbox_key.clone(), meter.clone()));
	}
	if let Some(url) = args.openems_push.clone() {
		if meter.lock().expect("not poisoned").household().battery.is_none() {
			return Err(format!("household {} has no battery", args.household).into());
		}
		let every = Duration::from_millis(args.openems_push_ms);
		tokio::spawn(lem_sim::openems::run(url, every, meter.clone()));
	}

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
				let wall = Instant::now();
				ticking.lock().expect("not poisoned").advance(simulated as u64, seconds, wall);
				simulated = now;
			}
		}
	});

	// The devices' listeners are bound first and announced after the meter's line.
	let mut announced = Vec::new();
	for (at, device, name, _) in devices {
		if let Some(at) = at {
			let listener = TcpListener::bind(at).await?;
			announced.push(format!("{name} listening on {}", listener.local_addr()?));
			let service = Service { home: meter.clone(), device };
			tokio::spawn(async move {
				if let Err(e) = serve_tcp(listener, service).await {
					eprintln!("{name}: {e}");
				}
			});
		}
	}
	let announce = |meter_at: &dyn std::fmt::Display| {
		println!("listening on {meter_at}");
		for line in &announced {
			println!("{line}");
		}
	};

	if args.sml {
		// The box opens the other end by its path; the simulator keeps it open too, so that
		// the line stays up between the box's reads.
		let (mut line, other_end) = tokio_serial::SerialStream::pair()?;
		let path = other_end.name().ok_or("the pseudo-terminal has no path")?;
		announce(&path);
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
	let service = Service { home: meter, device: Device::Meter };
	if args.serial {
		// The box opens the other end by its path; the simulator keeps it open too, so that the
		// line stays up between the box's connections.
		let (line, other_end) = tokio_serial::SerialStream::pair()?;
		let path = other_end.name().ok_or("the pseudo-terminal has no path")?;
		announce(&path);
		tokio::select! {
			served = rtu::Server::new(line).serve_forever(service) => served?,
			_ = tokio::signal::ctrl_c() => {}
		}
		return Ok(());
	}
	let listener = TcpListener::bind(args.listen).await?;
	announce(&listener.local_addr()?);
	tokio::select! {
		served = serve_tcp(listener, service) => served?,
		_ = tokio::signal::ctrl_c() => {}
	}
	Ok(())
}
