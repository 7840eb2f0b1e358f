//! One Modbus unit over TCP on the home network or RTU on a serial line: the meter and the
//! devices that speak Modbus share it. A connection is made at the first request and dropped
//! when a request fails, to be made again by the next; every request is answered within the
//! configured time or is an error.

use std::{fmt, net::SocketAddr, time::Duration};
use tokio::time::timeout;
use tokio_modbus::{
	client::{rtu, tcp, Context, Reader, Writer},
	Slave,
};

/// How the box reaches a Modbus unit.
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

/// The Modbus table a register is read from.
#[derive(serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Table {
	Holding,
	Input,
}

/// SunSpec's marker, "SunS", at the start of its register space.
pub const SUNSPEC_MARKER: [u16; 2] = [0x5375, 0x6e53];
/// Where SunSpec devices put the marker, in the order they are tried.
pub const SUNSPEC_BASES: [u16; 3] = [40_000, 0, 50_000];

/// What a walk through a SunSpec device's models found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sunspec {
	/// The model sought: its data's first register and its length.
	Model { data: u16, length: u16 },
	/// No marker at any of the usual bases: not a SunSpec device.
	NoMarker,
	/// A SunSpec device without the model sought.
	NoModel,
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ModbusError {
	/// No connection to the unit.
	Unreachable(String),
	/// No answer in time.
	Timeout,
	/// The unit answered with a Modbus exception (an address it does not have, a value it
	/// does not take).
	Exception(String),
	/// The connection broke, or the answer was not one to the request.
	Transport(String),
}

impl fmt::Display for ModbusError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Unreachable(reason) => write!(f, "unreachable: {reason}"),
			Self::Timeout => write!(f, "no answer in time"),
			Self::Exception(e) => write!(f, "refused: {e}"),
			Self::Transport(reason) => write!(f, "connection lost: {reason}"),
		}
	}
}

/// A Modbus unit, connected on demand.
pub struct Unit {
	pub transport: Transport,
	pub unit: u8,
	answer_within: Duration,
	context: Option<Context>,
}

impl Unit {
	pub fn new(transport: Transport, unit: u8, answer_within: Duration) -> Self {
		Unit { transport, unit, answer_within, context: None }
	}

	/// As the log names it.
	pub fn name(&self) -> String {
		match &self.transport {
			Transport::Tcp(_) => format!("Modbus TCP {}, unit {}", self.transport, self.unit),
			Transport::Rtu { .. } => format!("Modbus RTU {}, unit {}", self.transport, self.unit),
		}
	}

	async fn context(&mut self) -> Result<&mut Context, ModbusError> {
		if self.context.is_none() {
			let unreachable = |e: std::io::Error| ModbusError::Unreachable(e.to_string());
			let context = match &self.transport {
				Transport::Tcp(address) => {
					let connecting = tcp::connect_slave(*address, Slave(self.unit));
					timeout(self.answer_within, connecting)
						.await
						.map_err(|_| ModbusError::Timeout)?
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
		Ok(self.context.as_mut().expect("connected above"))
	}

	/// Runs one request; a failed one drops the connection.
	async fn request<T>(
		&mut self,
		request: impl for<'a> FnOnce(
			&'a mut Context,
		) -> std::pin::Pin<
			Box<dyn std::future::Future<Output = tokio_modbus::Result<T>> + 'a>,
		>,
	) -> Result<T, ModbusError> {
		let within = self.answer_within;
		let context = self.context().await?;
		let answer = match timeout(within, request(context)).await {
			Err(_) => Err(ModbusError::Timeout),
			Ok(Err(e)) => Err(ModbusError::Transport(e.to_string())),
			Ok(Ok(Err(exception))) => return Err(ModbusError::Exception(format!("{exception:?}"))),
			Ok(Ok(Ok(value))) => Ok(value),
		};
		if answer.is_err() {
			self.context = None;
		}
		answer
	}

	/// `count` registers of `table` from `register` on.
	pub async fn read(
		&mut self,
		table: Table,
		register: u16,
		count: u16,
	) -> Result<Vec<u16>, ModbusError> {
		let words = self
			.request(move |c| match table {
				Table::Holding => Box::pin(c.read_holding_registers(register, count)),
				Table::Input => Box::pin(c.read_input_registers(register, count)),
			})
			.await?;
		if words.len() != count as usize {
			self.context = None;
			return Err(ModbusError::Transport("an answer of the wrong length".into()));
		}
		Ok(words)
	}

	/// Writes holding registers from `register` on.
	pub async fn write(&mut self, register: u16, values: &[u16]) -> Result<(), ModbusError> {
		let values = values.to_vec();
		self.request(move |c| {
			Box::pin(async move { c.write_multiple_registers(register, &values).await })
		})
		.await
	}

	/// `count` coils from `coil` on.
	pub async fn read_coils(&mut self, coil: u16, count: u16) -> Result<Vec<bool>, ModbusError> {
		let coils = self.request(move |c| Box::pin(c.read_coils(coil, count))).await?;
		// The answer comes in whole bytes: the coils past `count` are padding.
		coils
			.get(..count as usize)
			.map(<[bool]>::to_vec)
			.ok_or_else(|| ModbusError::Transport("an answer of the wrong length".into()))
	}

	/// Switches coils from `coil` on.
	pub async fn write_coils(&mut self, coil: u16, on: &[bool]) -> Result<(), ModbusError> {
		let on = on.to_vec();
		self.request(move |c| Box::pin(async move { c.write_multiple_coils(coil, &on).await }))
			.await
	}

	/// Walks a SunSpec device's models to the first that is `wanted`. An error names the
	/// register whose request failed.
	pub async fn find_sunspec_model(
		&mut self,
		wanted: impl Fn(u16) -> bool,
	) -> Result<Sunspec, (u16, ModbusError)> {
		let mut base = None;
		for at in SUNSPEC_BASES {
			match self.read(Table::Holding, at, 2).await {
				Ok(words) if words == SUNSPEC_MARKER => {
					base = Some(at);
					break;
				}
				Ok(_) | Err(ModbusError::Exception(_)) => continue,
				Err(e) => return Err((at, e)),
			}
		}
		let Some(base) = base else { return Ok(Sunspec::NoMarker) };
		let mut at = base + 2;
		// A device has a handful of models; a chain longer than this is not a SunSpec device.
		for _ in 0..64 {
			let header = self.read(Table::Holding, at, 2).await.map_err(|e| (at, e))?;
			let (model, length) = (header[0], header[1]);
			if model == 0xffff {
				break;
			}
			if wanted(model) {
				return Ok(Sunspec::Model { data: at + 2, length });
			}
			let Some(next) = at.checked_add(2 + length) else { break };
			at = next;
		}
		Ok(Sunspec::NoModel)
	}
}
