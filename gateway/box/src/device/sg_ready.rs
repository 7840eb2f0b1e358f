//! A heat pump's SG-Ready input, driven through a Modbus relay module whose two relays close
//! its two contacts. The module's communication watchdog (holding register 0, in seconds)
//! opens both relays when the box stops writing them: both contacts open is the heat pump's
//! own, normal operation.

use super::{write_due, DeviceError, HeatPump, Held};
use crate::modbus::{ModbusError, Transport, Unit};
use lem_gateway_core::device::SgReady;
use std::time::{Duration, Instant};

/// The module's watchdog register.
const WATCHDOG: u16 = 0;

pub struct RelayModule {
	unit: Unit,
	/// The relays at contacts 1 and 2.
	coils: [u16; 2],
	watchdog_s: u16,
	last: Option<Held<SgReady>>,
}

impl RelayModule {
	/// Connects to the module and sets its watchdog.
	pub async fn connect(
		transport: Transport,
		unit: u8,
		coils: [u16; 2],
		answer_within: Duration,
		watchdog_s: u16,
	) -> Result<Self, DeviceError> {
		let mut module = RelayModule {
			unit: Unit::new(transport, unit, answer_within),
			coils,
			watchdog_s,
			last: None,
		};
		let set = module.unit.write(WATCHDOG, &[watchdog_s]).await;
		set.map_err(|e| module.failed("setting the watchdog", WATCHDOG, e))?;
		Ok(module)
	}

	fn failed(&self, doing: &'static str, register: u16, error: ModbusError) -> DeviceError {
		DeviceError::Modbus { device: self.name(), doing, register, error }
	}
}

impl HeatPump for RelayModule {
	async fn hold(&mut self, state: SgReady, now: Instant) -> Result<(), DeviceError> {
		if !write_due(&self.last, &state, now, self.watchdog_s) {
			return Ok(());
		}
		// Both relays in one request where they are neighbours, so that the heat pump never
		// sees a state between the old and the new.
		let [c1, c2] = state.contacts();
		let written = if self.coils[1] == self.coils[0] + 1 {
			self.unit.write_coils(self.coils[0], &[c1, c2]).await.map_err(|e| (self.coils[0], e))
		} else {
			match self.unit.write_coils(self.coils[0], &[c1]).await {
				Ok(()) => self
					.unit
					.write_coils(self.coils[1], &[c2])
					.await
					.map_err(|e| (self.coils[1], e)),
				Err(e) => Err((self.coils[0], e)),
			}
		};
		written.map_err(|(coil, e)| self.failed("switching the relays", coil, e))?;
		self.last = Some(Held { command: state, written: now });
		Ok(())
	}

	async fn state(&mut self) -> Result<SgReady, DeviceError> {
		// Both relays in one request where they are neighbours, as they are written.
		let mut contacts = [false; 2];
		if self.coils[1] == self.coils[0] + 1 {
			let read = self.unit.read_coils(self.coils[0], 2).await;
			let both = read.map_err(|e| self.failed("reading the relays", self.coils[0], e))?;
			contacts.copy_from_slice(&both);
		} else {
			for (contact, coil) in contacts.iter_mut().zip(self.coils) {
				let read = self.unit.read_coils(coil, 1).await;
				*contact = read.map_err(|e| self.failed("reading the relays", coil, e))?[0];
			}
		}
		SgReady::from_contacts(contacts).ok_or_else(|| DeviceError::Nonsense {
			device: self.name(),
			what: "both contacts closed: the heat pump is ordered on, which the box never sets"
				.into(),
		})
	}

	fn name(&self) -> String {
		format!("SG-Ready relays {}", self.unit.name())
	}
}
