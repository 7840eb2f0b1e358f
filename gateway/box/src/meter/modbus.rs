//! A meter over Modbus, its registers found through a register map ([`super::map`]): over TCP
//! on the home network, or over RTU on a serial line (an RS-485 adapter at the meter). The
//! application layer — registers, maps, SunSpec's model walk — is the same on both; only how
//! a connection is made differs.

use super::{
	map::{self, MapConfig, Register, RegisterMap, Table},
	Energy, MeterError, Protocol,
};
pub use crate::modbus::Transport;
use crate::modbus::{ModbusError, Sunspec, Unit};
use std::time::Duration;

/// A connection to one meter, with its resolved map.
pub struct Modbus {
	unit: Unit,
	map: RegisterMap,
}

impl Modbus {
	/// Connects to the meter's Modbus unit `unit` over `transport` and resolves `map` on it.
	/// Each request must be answered within `answer_within`.
	pub async fn connect(
		transport: Transport,
		unit: u8,
		map: &MapConfig,
		answer_within: Duration,
	) -> Result<Self, MeterError> {
		let mut meter =
			Self { unit: Unit::new(transport, unit, answer_within), map: map::simulator() };
		meter.map = match *map {
			MapConfig::Simulator {} => map::simulator(),
			MapConfig::Registers { import, export } => RegisterMap { import, export },
			MapConfig::Sunspec {} => meter.find_sunspec_meter().await?,
		};
		for (field, register) in [("import", &meter.map.import), ("export", &meter.map.export)] {
			register.check().map_err(|reason| MeterError::BadMap { field, reason })?;
		}
		Ok(meter)
	}

	/// The map in use.
	pub fn map(&self) -> &RegisterMap {
		&self.map
	}

	async fn energy(&mut self, field: &'static str, r: &Register) -> Result<u64, MeterError> {
		let words = self.words(field, r.table, r.address, r.words as u16).await?;
		let scale_factor = match r.scale_factor {
			None => None,
			Some(at) => {
				let value = self.words(field, r.table, at, 1).await?[0] as i16;
				if value == i16::MIN || !(-10..=10).contains(&value) {
					return Err(MeterError::BadScaleFactor { field, register: at, value });
				}
				Some(value)
			}
		};
		let raw = r.raw(&words);
		r.watt_hours(raw, scale_factor).ok_or(MeterError::OutOfRange {
			field,
			register: r.address,
			raw,
		})
	}

	/// Reads `count` registers from `register` on, each error named by the field read.
	async fn words(
		&mut self,
		field: &'static str,
		table: Table,
		register: u16,
		count: u16,
	) -> Result<Vec<u16>, MeterError> {
		let read = self.unit.read(table, register, count).await;
		read.map_err(|e| self.named(field, table, register, e))
	}

	fn named(
		&self,
		field: &'static str,
		table: Table,
		register: u16,
		e: ModbusError,
	) -> MeterError {
		match e {
			ModbusError::Unreachable(reason) => {
				MeterError::Unreachable { meter: self.unit.transport.to_string(), reason }
			}
			ModbusError::Timeout => {
				MeterError::Timeout { meter: self.unit.transport.to_string(), field, register }
			}
			ModbusError::Exception(exception) => {
				MeterError::Exception { field, table, register, exception }
			}
			ModbusError::Transport(reason) => MeterError::Transport { field, register, reason },
		}
	}

	/// Walks the SunSpec models to the first meter model.
	async fn find_sunspec_meter(&mut self) -> Result<RegisterMap, MeterError> {
		match self.unit.find_sunspec_model(map::is_sunspec_meter).await {
			Ok(Sunspec::Model { data, .. }) => Ok(map::sunspec_meter(data)),
			Ok(Sunspec::NoMarker) => Err(MeterError::NotSunspec),
			Ok(Sunspec::NoModel) => Err(MeterError::NoSunspecMeter),
			Err((register, e)) => Err(self.named("SunSpec model", Table::Holding, register, e)),
		}
	}
}

impl Protocol for Modbus {
	async fn read(&mut self) -> Result<Energy, MeterError> {
		let (import, export) = (self.map.import, self.map.export);
		Ok(Energy {
			import_wh: self.energy("import", &import).await?,
			export_wh: self.energy("export", &export).await?,
		})
	}

	fn name(&self) -> String {
		self.unit.name()
	}
}
