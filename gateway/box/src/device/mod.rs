//! The home's devices the box runs: a trait per kind ([`Battery`], [`HeatPump`], [`Charger`]),
//! a file per protocol that implements it, and a variant of the kind's enum that
//! [`connect_battery`], [`connect_heat_pump`] or [`connect_charger`] makes from `gateway.toml`. A new protocol is that file, that variant
//! and its configuration's fields.
//!
//! What a device is asked ([`lem_gateway_core::device`]) is held: the box calls `hold` every
//! poll and the adapter writes when the command changed or its renewal is due, before the
//! device's own watchdog returns it to its own mode. A box that stops thus leaves every
//! device in its own mode within one watchdog.

pub mod ocpp;
pub mod openems;
pub mod sg_ready;
pub mod sunspec;

use crate::{
	config::{
		BatteryConfig, BatteryProtocol, ChargerConfig, ChargerProtocol, HeatPumpConfig,
		HeatPumpProtocol,
	},
	modbus::ModbusError,
};
use lem_gateway_core::device::{
	renew_due, BatteryMode, BatteryState, ChargerState, Charging, SgReady,
};
use std::{
	fmt,
	future::Future,
	net::SocketAddr,
	time::{Duration, Instant},
};
use tokio::net::{TcpListener, TcpStream};
use tracing::warn;

/// Why a device was not run as asked.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceError {
	/// A Modbus request failed: what the box was doing, at which register.
	Modbus { device: String, doing: &'static str, register: u16, error: ModbusError },
	/// The device does not have what the protocol needs (a SunSpec model, a register).
	Missing { device: String, what: String },
	/// The device reports a value the protocol does not allow.
	Nonsense { device: String, what: String },
	/// The device refused what it was asked.
	Refused { device: String, what: String },
	/// The box cannot take connections from a device that connects to it.
	Listen { device: String, reason: String },
	/// An OCPP exchange failed: what the box was doing, and why.
	Ocpp { device: String, doing: &'static str, reason: String },
}

impl fmt::Display for DeviceError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Modbus { device, doing, register, error } => {
				write!(f, "{device}: {doing} (register {register}): {error}")
			}
			Self::Missing { device, what } => write!(f, "{device}: no {what}"),
			Self::Nonsense { device, what } => write!(f, "{device}: {what}"),
			Self::Refused { device, what } => write!(f, "{device} refused {what}"),
			Self::Listen { device, reason } => write!(f, "{device}: listening: {reason}"),
			Self::Ocpp { device, doing, reason } => write!(f, "{device}: {doing}: {reason}"),
		}
	}
}

impl std::error::Error for DeviceError {}

/// A battery, over one protocol.
#[allow(async_fn_in_trait)] // the box runs its devices on one thread: no `Send` bound needed
pub trait Battery {
	/// Keeps the battery in `mode`: writes it if it changed or its renewal is due at `now`.
	async fn hold(&mut self, mode: BatteryMode, now: Instant) -> Result<(), DeviceError>;
	async fn state(&mut self) -> Result<BatteryState, DeviceError>;
	fn name(&self) -> String;
}

/// A heat pump, over one protocol.
#[allow(async_fn_in_trait)]
pub trait HeatPump {
	/// Keeps the heat pump in `state`: writes it if it changed or its renewal is due at `now`.
	async fn hold(&mut self, state: SgReady, now: Instant) -> Result<(), DeviceError>;
	/// The state the device is in now, as it reports it.
	async fn state(&mut self) -> Result<SgReady, DeviceError>;
	fn name(&self) -> String;
}

/// An EV's wallbox, over one protocol.
#[allow(async_fn_in_trait)]
pub trait Charger {
	/// Keeps the wallbox at `command`: sends it if it changed or its renewal is due at `now`.
	async fn hold(&mut self, command: Charging, now: Instant) -> Result<(), DeviceError>;
	async fn state(&mut self) -> Result<ChargerState, DeviceError>;
	fn name(&self) -> String;
}

/// The box's end for a device that connects to the box (a wallbox, an OpenEMS Edge).
async fn listen(at: SocketAddr, device: &str) -> Result<(TcpListener, SocketAddr), DeviceError> {
	let refused = |e: std::io::Error| DeviceError::Listen {
		device: format!("{device} at {at}"),
		reason: e.to_string(),
	};
	let listener = TcpListener::bind(at).await.map_err(refused)?;
	let at = listener.local_addr().map_err(refused)?;
	Ok((listener, at))
}

/// Takes connections on `listener` until the end, each handled on a task of its own; a
/// failed accept is tried again a second later.
async fn accept_each<F, H>(listener: TcpListener, device: &'static str, handle: H)
where
	H: Fn(TcpStream, SocketAddr) -> F,
	F: Future<Output = ()> + Send + 'static,
{
	loop {
		match listener.accept().await {
			Ok((stream, peer)) => {
				tokio::spawn(handle(stream, peer));
			}
			Err(e) => {
				warn!(error = %e, device, "accepting a connection failed");
				tokio::time::sleep(Duration::from_secs(1)).await;
			}
		}
	}
}

/// The last command written to a device, and when.
#[derive(Clone, Copy, Debug)]
pub struct Held<T> {
	pub command: T,
	pub written: Instant,
}

/// Whether `command` must be written at `now`, given what was written last and the device's
/// watchdog in seconds.
pub fn write_due<T: PartialEq>(
	last: &Option<Held<T>>,
	command: &T,
	now: Instant,
	watchdog_s: u16,
) -> bool {
	match last {
		None => true,
		Some(held) => {
			let since = now.saturating_duration_since(held.written).as_millis() as u64;
			held.command != *command || renew_due(since, u64::from(watchdog_s) * 1_000)
		}
	}
}

/// The batteries a box runs, one variant per protocol.
pub enum BatteryLink {
	Sunspec(sunspec::StorageInverter),
	Openems(openems::RemoteEms),
}

impl Battery for BatteryLink {
	async fn hold(&mut self, mode: BatteryMode, now: Instant) -> Result<(), DeviceError> {
		match self {
			Self::Sunspec(b) => b.hold(mode, now).await,
			Self::Openems(b) => b.hold(mode, now).await,
		}
	}
	async fn state(&mut self) -> Result<BatteryState, DeviceError> {
		match self {
			Self::Sunspec(b) => b.state().await,
			Self::Openems(b) => b.state().await,
		}
	}
	fn name(&self) -> String {
		match self {
			Self::Sunspec(b) => b.name(),
			Self::Openems(b) => b.name(),
		}
	}
}

/// The heat pumps a box runs, one variant per protocol.
pub enum HeatPumpLink {
	SgReady(sg_ready::RelayModule),
}

impl HeatPump for HeatPumpLink {
	async fn hold(&mut self, state: SgReady, now: Instant) -> Result<(), DeviceError> {
		match self {
			Self::SgReady(h) => h.hold(state, now).await,
		}
	}
	async fn state(&mut self) -> Result<SgReady, DeviceError> {
		match self {
			Self::SgReady(h) => h.state().await,
		}
	}
	fn name(&self) -> String {
		match self {
			Self::SgReady(h) => h.name(),
		}
	}
}

/// The wallboxes a box runs, one variant per protocol.
pub enum ChargerLink {
	Ocpp(ocpp::CentralSystem),
}

impl Charger for ChargerLink {
	async fn hold(&mut self, command: Charging, now: Instant) -> Result<(), DeviceError> {
		match self {
			Self::Ocpp(c) => c.hold(command, now).await,
		}
	}
	async fn state(&mut self) -> Result<ChargerState, DeviceError> {
		match self {
			Self::Ocpp(c) => c.state().await,
		}
	}
	fn name(&self) -> String {
		match self {
			Self::Ocpp(c) => c.name(),
		}
	}
}

/// Opens the way the wallbox `config` names comes in by.
pub async fn connect_charger(config: &ChargerConfig) -> Result<ChargerLink, DeviceError> {
	match &config.protocol {
		ChargerProtocol::Ocpp16 { listen, charge_point, authorization_key } => {
			Ok(ChargerLink::Ocpp(
				ocpp::CentralSystem::listen(
					*listen,
					charge_point.clone(),
					authorization_key.clone(),
					config.answer_within,
					config.watchdog_s,
				)
				.await?,
			))
		}
	}
}

/// Connects to the battery `config` names.
pub async fn connect_battery(config: &BatteryConfig) -> Result<BatteryLink, DeviceError> {
	match &config.protocol {
		BatteryProtocol::Sunspec { transport, unit } => Ok(BatteryLink::Sunspec(
			sunspec::StorageInverter::connect(
				transport.clone(),
				*unit,
				config.answer_within,
				config.watchdog_s,
			)
			.await?,
		)),
		BatteryProtocol::OpenemsPush { listen } => Ok(BatteryLink::Openems(
			openems::RemoteEms::listen(*listen, config.answer_within).await?,
		)),
	}
}

/// Connects to the heat pump `config` names.
pub async fn connect_heat_pump(config: &HeatPumpConfig) -> Result<HeatPumpLink, DeviceError> {
	match &config.protocol {
		HeatPumpProtocol::SgReadyRelays { transport, unit, coils } => Ok(HeatPumpLink::SgReady(
			sg_ready::RelayModule::connect(
				transport.clone(),
				*unit,
				*coils,
				config.answer_within,
				config.watchdog_s,
			)
			.await?,
		)),
	}
}
