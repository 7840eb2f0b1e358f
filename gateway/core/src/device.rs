//! What the box asks of the home's devices, whatever protocol carries it, and what it reads
//! back. The planner decides these; the box's device adapters say them in each device's
//! protocol and renew them before the device's watchdog lapses, so that a box that stops
//! leaves every device in its own mode.

/// What a battery is to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatteryMode {
	/// Its own mode, as if no box were there (a home battery's is self-consumption).
	Own,
	/// Its own mode within limits: charge at most `charge_w`, discharge at most
	/// `discharge_w` (0: hold what is stored).
	Limited { charge_w: u32, discharge_w: u32 },
	/// Charge (positive) or discharge (negative) at `power_w` whatever the house does,
	/// from or into the grid as needed.
	Fixed { power_w: i32 },
}

/// What a battery reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatteryState {
	/// What it holds, in tenths of a percent of its capacity.
	pub stored_permille: u16,
	/// Its rated power, charging or discharging.
	pub power_w: u32,
}

impl BatteryState {
	/// What it holds of `capacity_wh`.
	pub fn stored_wh(&self, capacity_wh: u32) -> u32 {
		(u64::from(capacity_wh) * u64::from(self.stored_permille.min(1_000)) / 1_000) as u32
	}
}

/// A heat pump's SG-Ready operating state, as the box sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SgReady {
	/// The utility's lock: it does not run.
	Blocked,
	/// Its own operation.
	Normal,
	/// Asked to run more: it stores heat to a higher set point.
	Boosted,
}

impl SgReady {
	/// Contacts 1 and 2 as SG-Ready closes them for this state.
	pub fn contacts(self) -> [bool; 2] {
		match self {
			Self::Blocked => [true, false],
			Self::Normal => [false, false],
			Self::Boosted => [false, true],
		}
	}

	/// The state two contacts make, if it is one the box sets (both closed, "on", is not).
	pub fn from_contacts(contacts: [bool; 2]) -> Option<Self> {
		[Self::Blocked, Self::Normal, Self::Boosted].into_iter().find(|s| s.contacts() == contacts)
	}
}

/// What an EV's wallbox is to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charging {
	/// Its own way: full power while a car takes it.
	Own,
	/// At most `power_w` (0: paused).
	Limit { power_w: u32 },
}

/// What a wallbox reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChargerState {
	/// A car is plugged in.
	pub plugged: bool,
	pub charging: bool,
	pub power_w: u32,
	/// Its energy register, once it sent one.
	pub energy_wh: Option<u64>,
}

/// Whether a command written `since_ms` ago to a device whose watchdog lapses after
/// `watchdog_ms` must be written again now. At a third of the watchdog, so that two writes
/// may fail before the device returns to its own mode.
pub fn renew_due(since_ms: u64, watchdog_ms: u64) -> bool {
	since_ms >= watchdog_ms / 3
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn each_state_has_its_contacts_and_back() {
		for state in [SgReady::Blocked, SgReady::Normal, SgReady::Boosted] {
			assert_eq!(SgReady::from_contacts(state.contacts()), Some(state));
		}
		assert_eq!(SgReady::from_contacts([true, true]), None);
	}

	#[test]
	fn a_command_is_renewed_at_a_third_of_the_watchdog() {
		assert!(!renew_due(19_999, 60_000));
		assert!(renew_due(20_000, 60_000));
	}

	#[test]
	fn stored_energy_is_the_share_of_the_capacity() {
		let state = BatteryState { stored_permille: 455, power_w: 5_000 };
		assert_eq!(state.stored_wh(10_000), 4_550);
		assert_eq!(BatteryState { stored_permille: 1_200, ..state }.stored_wh(10_000), 10_000);
	}
}
