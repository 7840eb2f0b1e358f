//! A modern meter's optical D0 interface, read by a head on its window: the meter pushes an SML
//! telegram every second or few, unasked (`lem_gateway_core::sml` reads the registers out of
//! one). A read takes the newest telegram on the line: what has arrived since the last read,
//! else the next one within the answer time.

use super::{Energy, MeterError, Protocol};
use lem_gateway_core::sml::{SmlError, Telegrams};
use std::time::Duration;
use tokio::{
	io::AsyncReadExt,
	time::{timeout, Instant},
};
use tokio_serial::SerialStream;

/// Once a telegram is in, bytes that follow within this long are still the line's backlog.
const BACKLOG_GAP: Duration = Duration::from_millis(20);

pub struct Sml {
	path: String,
	baud: u32,
	answer_within: Duration,
	line: Option<SerialStream>,
	telegrams: Telegrams,
}

impl Sml {
	/// The meter whose reading head is on the serial device `path` at `baud` (D0: 9600 Bd, 8N1);
	/// a telegram must arrive within `answer_within` of a read. The line opens at the first.
	pub fn new(path: String, baud: u32, answer_within: Duration) -> Sml {
		Sml { path, baud, answer_within, line: None, telegrams: Telegrams::default() }
	}

	fn unreachable(&mut self, reason: String) -> MeterError {
		self.line = None;
		self.telegrams = Telegrams::default();
		MeterError::Unreachable { meter: self.path.clone(), reason }
	}
}

impl Protocol for Sml {
	async fn read(&mut self) -> Result<Energy, MeterError> {
		if self.line.is_none() {
			let line = SerialStream::open(&tokio_serial::new(&self.path, self.baud))
				.map_err(|e| self.unreachable(e.to_string()))?;
			self.line = Some(line);
		}
		let deadline = Instant::now() + self.answer_within;
		let mut newest: Option<Result<Energy, SmlError>> = None;
		let mut bytes = [0u8; 512];
		loop {
			let wait = match newest {
				Some(Ok(_)) => BACKLOG_GAP,
				_ => deadline.saturating_duration_since(Instant::now()),
			};
			let line = self.line.as_mut().expect("opened above");
			let read = timeout(wait, line.read(&mut bytes)).await;
			let n = match read {
				Err(_) => break,
				Ok(Ok(0)) => return Err(self.unreachable("the line closed".into())),
				Ok(Ok(n)) => n,
				Ok(Err(e)) => return Err(self.unreachable(e.to_string())),
			};
			for &b in &bytes[..n] {
				let Some(telegram) = self.telegrams.push(b) else { continue };
				let telegram =
					telegram.map(|r| Energy { import_wh: r.import_wh, export_wh: r.export_wh });
				// A good telegram stands against a broken one after it.
				if telegram.is_ok() || !matches!(newest, Some(Ok(_))) {
					newest = Some(telegram);
				}
			}
		}
		match newest {
			Some(Ok(energy)) => Ok(energy),
			Some(Err(e)) => Err(MeterError::Telegram(e)),
			None => Err(MeterError::Silent { meter: self.path.clone() }),
		}
	}

	fn name(&self) -> String {
		format!("SML on {} at {} Bd", self.path, self.baud)
	}
}
