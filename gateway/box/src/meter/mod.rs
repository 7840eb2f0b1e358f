//! The meter: its cumulative import and export registers, in whole Wh, over the protocol
//! `gateway.toml` names (`[meter] protocol`). Each protocol is a file here with a type that
//! implements [`Protocol`], and a variant of [`Link`] that [`Meter::connect`] makes from the
//! configuration; a new one is that file, that variant and its configuration's fields.
//!
//! A reading is either right or an error that names what went wrong (the field, the register),
//! never a guess: a map that does not resolve, a meter that does not answer, a register that
//! goes backwards.

pub mod map;
pub mod modbus;
pub mod sml;

use crate::config::{MeterConfig, MeterProtocol};
use lem_gateway_core::sml::SmlError;
use map::Table;
use modbus::Modbus;
use sml::Sml;
use std::fmt;

/// One protocol's way to a meter.
#[allow(async_fn_in_trait)] // the box runs one meter on one thread: no `Send` bound needed
pub trait Protocol {
	/// The cumulative registers now, as the meter shows them.
	async fn read(&mut self) -> Result<Energy, MeterError>;
	/// The meter as the log names it.
	fn name(&self) -> String;
}

/// A meter's cumulative registers, in whole watt-hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Energy {
	pub import_wh: u64,
	pub export_wh: u64,
}

/// Why the meter gave no reading.
#[derive(Debug, Clone, PartialEq)]
pub enum MeterError {
	/// No connection to the meter.
	Unreachable { meter: String, reason: String },
	/// The meter did not answer in time.
	Timeout { meter: String, field: &'static str, register: u16 },
	/// The meter answered a read with a Modbus exception (e.g. an address it does not have).
	Exception { field: &'static str, table: Table, register: u16, exception: String },
	/// The connection broke during a read.
	Transport { field: &'static str, register: u16, reason: String },
	/// The map in the configuration cannot be read (see `Register::check`).
	BadMap { field: &'static str, reason: String },
	/// No SunSpec marker at any of the usual base addresses.
	NotSunspec,
	/// The SunSpec device has no meter model (201–204).
	NoSunspecMeter,
	/// A scale factor the meter does not implement (SunSpec's 0x8000) or that is out of range.
	BadScaleFactor { field: &'static str, register: u16, value: i16 },
	/// A value that is not a number of watt-hours a register holds.
	OutOfRange { field: &'static str, register: u16, raw: u64 },
	/// A telegram the meter pushed gave no registers.
	Telegram(SmlError),
	/// The meter pushed no telegram within the answer time.
	Silent { meter: String },
	/// A cumulative register is below what it showed before.
	Backwards { field: &'static str, before: u64, now: u64 },
}

impl fmt::Display for MeterError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Unreachable { meter, reason } => write!(f, "meter {meter} unreachable: {reason}"),
			Self::Timeout { meter, field, register } => {
				write!(f, "meter {meter} did not answer reading {field} (register {register})")
			}
			Self::Exception { field, table, register, exception } => {
				write!(f, "meter refused {field}: {table:?} register {register}: {exception}")
			}
			Self::Transport { field, register, reason } => {
				write!(f, "connection lost reading {field} (register {register}): {reason}")
			}
			Self::BadMap { field, reason } => write!(f, "register map, {field}: {reason}"),
			Self::NotSunspec => write!(f, "no SunSpec marker at registers 40000, 0 or 50000"),
			Self::NoSunspecMeter => write!(f, "the SunSpec device has no meter model (201-204)"),
			Self::BadScaleFactor { field, register, value } => {
				write!(f, "{field}: scale factor register {register} holds {value}")
			}
			Self::OutOfRange { field, register, raw } => {
				write!(f, "{field}: register {register} holds {raw}, not a meter's energy")
			}
			Self::Telegram(e) => write!(f, "{e}"),
			Self::Silent { meter } => write!(f, "meter {meter} sent no telegram in time"),
			Self::Backwards { field, before, now } => {
				write!(f, "{field} went backwards from {before} Wh to {now} Wh")
			}
		}
	}
}

impl std::error::Error for MeterError {}

/// The protocols a box speaks, one variant each.
pub enum Link {
	Modbus(Modbus),
	Sml(Sml),
}

/// The box's meter: its link, and what its registers last showed.
pub struct Meter {
	link: Link,
	last: Option<Energy>,
}

impl From<Link> for Meter {
	fn from(link: Link) -> Meter {
		Meter { link, last: None }
	}
}

impl Meter {
	/// Connects to the meter `config` names, over its protocol.
	pub async fn connect(config: &MeterConfig) -> Result<Meter, MeterError> {
		let link = match &config.protocol {
			MeterProtocol::Modbus { transport, unit, map } => Link::Modbus(
				Modbus::connect(transport.clone(), *unit, map, config.answer_within).await?,
			),
			MeterProtocol::Sml { path, baud } => {
				Link::Sml(Sml::new(path.clone(), *baud, config.answer_within))
			}
		};
		Ok(link.into())
	}

	/// The registers now. A value below the last one read is refused; the last one stands.
	pub async fn read(&mut self) -> Result<Energy, MeterError> {
		let now = match &mut self.link {
			Link::Modbus(m) => m.read().await?,
			Link::Sml(m) => m.read().await?,
		};
		if let Some(before) = self.last {
			for (field, before, now) in [
				("import", before.import_wh, now.import_wh),
				("export", before.export_wh, now.export_wh),
			] {
				if now < before {
					return Err(MeterError::Backwards { field, before, now });
				}
			}
		}
		self.last = Some(now);
		Ok(now)
	}

	pub fn name(&self) -> String {
		match &self.link {
			Link::Modbus(m) => m.name(),
			Link::Sml(m) => m.name(),
		}
	}
}
