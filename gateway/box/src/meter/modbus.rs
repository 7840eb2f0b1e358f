//! A meter over Modbus, its registers found through a register map ([`super::map`]): over TCP
//! on the home network, or over RTU on a serial line (an RS-485 adapter at the meter). The
//! application layer — registers, maps, SunSpec's model walk — is the same on both; only how
//! a connection is made differs.

use super::{
	map::{self, MapConfig, Register, RegisterMap, Table},
	Energy, MeterError, Protocol,
};
use std::{fmt, net::SocketAddr, time::Duration};
use tokio::time::timeout;
use tokio_modbus::{
	client::{rtu, tcp, Context, Reader},
	Slave,
};

/// How the box reaches the meter's Modbus unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
	Tcp(SocketAddr),
	/// A serial line at `baud`, 8 data bits, no parity, one stop bit.
	Rtu {
		path: String,
		baud: u32,
	},
}

impl fmt::Display for Transport {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Tcp(address) => write!(f, "{address}"),
			Self::Rtu { path, baud } => write!(f, "{path} at {baud} Bd"),
		}
	}
}

/// A connection to one meter, with its resolved map.
pub struct Modbus {
	transport: Transport,
	unit: u8,
	map: RegisterMap,
	answer_within: Duration,
	context: Option<Context>,
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
			Self { transport, unit, map: map::simulator(), answer_within, context: None };
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

	/// Reads `count` registers from `register` on, connecting first if needed. A broken
	/// connection is dropped, to be made again by the next read.
	async fn words(
		&mut self,
		field: &'static str,
		table: Table,
		register: u16,
		count: u16,
	) -> Result<Vec<u16>, MeterError> {
		let meter = self.transport.to_string();
		let late = || MeterError::Timeout { meter: meter.clone(), field, register };
		if self.context.is_none() {
			let unreachable = |e: std::io::Error| MeterError::Unreachable {
				meter: meter.clone(),
				reason: e.to_string(),
			};
			let context = match &self.transport {
				Transport::Tcp(address) => {
					let connecting = tcp::connect_slave(*address, Slave(self.unit));
					timeout(self.answer_within, connecting)
						.await
						.map_err(|_| late())?
						.map_err(unreachable)?
				}
				Transport::Rtu { path, baud } => {
					let line = tokio_serial::new(path, *baud);
					let port = tokio_serial::SerialStream::open(&line)
						.map_err(|e| unreachable(e.into()))?;
					rtu::attach_slave(port, Slave(self.unit))
				}
			};
			self.context = Some(context);
		}
		let context = self.context.as_mut().expect("connected above");
		let answer = match table {
			Table::Holding => {
				timeout(self.answer_within, context.read_holding_registers(register, count)).await
			}
			Table::Input => {
				timeout(self.answer_within, context.read_input_registers(register, count)).await
			}
		};
		let answer = match answer {
			Err(_) => Err(late()),
			Ok(Err(e)) => Err(MeterError::Transport { field, register, reason: e.to_string() }),
			Ok(Ok(Err(exception))) => {
				return Err(MeterError::Exception {
					field,
					table,
					register,
					exception: format!("{exception:?}"),
				})
			}
			Ok(Ok(Ok(words))) if words.len() == count as usize => Ok(words),
			Ok(Ok(Ok(_))) => Err(MeterError::Transport {
				field,
				register,
				reason: "an answer of the wrong length".into(),
			}),
		};
		if answer.is_err() {
			self.context = None;
		}
		answer
	}

	/// Walks the SunSpec models to the first meter model.
	async fn find_sunspec_meter(&mut self) -> Result<RegisterMap, MeterError> {
		const FIELD: &str = "SunSpec model";
		let mut base = None;
		for at in map::SUNSPEC_BASES {
			match self.words(FIELD, Table::Holding, at, 2).await {
				Ok(words) if words == map::SUNSPEC_MARKER => {
					base = Some(at);
					break;
				}
				Ok(_) | Err(MeterError::Exception { .. }) => continue,
				Err(e) => return Err(e),
			}
		}
		let mut at = base.ok_or(MeterError::NotSunspec)? + 2;
		// A device has a handful of models; a chain longer than this is not a SunSpec device.
		for _ in 0..64 {
			let header = self.words(FIELD, Table::Holding, at, 2).await?;
			let (model, length) = (header[0], header[1]);
			if model == 0xffff {
				break;
			}
			if map::is_sunspec_meter(model) {
				return Ok(map::sunspec_meter(at + 2));
			}
			at = at.checked_add(2 + length).ok_or(MeterError::NoSunspecMeter)?;
		}
		Err(MeterError::NoSunspecMeter)
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
		match &self.transport {
			Transport::Tcp(_) => format!("Modbus TCP {}, unit {}", self.transport, self.unit),
			Transport::Rtu { .. } => format!("Modbus RTU {}, unit {}", self.transport, self.unit),
		}
	}
}
