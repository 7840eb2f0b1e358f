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

/// A slot of the plan, as the devices are to carry it out: energies in Wh over the slot on
/// the home's AC side, the battery's positive when it charges.
#[derive(codec::Encode, codec::Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlannedSlot {
	pub battery_wh: i64,
	pub car_wh: u64,
	pub heat_pump_wh: u64,
	pub import_wh: u64,
	pub export_wh: u64,
}

/// What the devices are told for a slot of `slot_ms` the plan gives `p`, the car's wallbox
/// rated `car_w` and the heat pump `heat_pump_w`.
///
/// The battery charges from the grid or discharges into it at the planned power only where
/// the plan moves its energy across the meter; otherwise it self-consumes within the planned
/// charge and discharge, so that a cloud or a kettle the forecast missed is still met from
/// it. The wallbox is limited to the planned power, or left at full power where the plan
/// uses it all. SG-Ready's three states are coarse: the heat pump is boosted where the plan
/// runs it most of the slot, blocked where it runs it hardly at all, normal between.
pub fn setpoints(
	p: &PlannedSlot,
	slot_ms: u64,
	car_w: u32,
	heat_pump_w: u32,
) -> (BatteryMode, Charging, SgReady) {
	let watts =
		|wh: u64| (wh.saturating_mul(3_600_000) / slot_ms.max(1)).min(u32::MAX as u64) as u32;
	let battery_w = watts(p.battery_wh.unsigned_abs());
	let battery = if p.battery_wh > 0 && p.import_wh > 0 {
		BatteryMode::Fixed { power_w: battery_w as i32 }
	} else if p.battery_wh < 0 && p.export_wh > 0 {
		BatteryMode::Fixed { power_w: -(battery_w as i32) }
	} else if p.battery_wh >= 0 {
		BatteryMode::Limited { charge_w: battery_w, discharge_w: 0 }
	} else {
		BatteryMode::Limited { charge_w: 0, discharge_w: battery_w }
	};
	let car_planned = watts(p.car_wh);
	// Within a watt of its rating: the plan uses it all, which is its own way.
	let charging = if car_planned + 1 >= car_w {
		Charging::Own
	} else {
		Charging::Limit { power_w: car_planned }
	};
	let heat_pump_share = u64::from(watts(p.heat_pump_wh)) * 10 / u64::from(heat_pump_w.max(1));
	let heat_pump = match heat_pump_share {
		0 => SgReady::Blocked,
		9.. => SgReady::Boosted,
		_ => SgReady::Normal,
	};
	(battery, charging, heat_pump)
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

	const QUARTER_HOUR: u64 = 900_000;

	fn slot(battery_wh: i64, import_wh: u64, export_wh: u64) -> PlannedSlot {
		PlannedSlot { battery_wh, car_wh: 0, heat_pump_wh: 0, import_wh, export_wh }
	}

	#[test]
	fn the_battery_is_fixed_only_where_the_plan_moves_its_energy_across_the_meter() {
		let mode = |p| setpoints(&p, QUARTER_HOUR, 11_000, 2_000).0;
		assert_eq!(mode(slot(750, 900, 0)), BatteryMode::Fixed { power_w: 3_000 }, "from the grid");
		assert_eq!(
			mode(slot(-500, 0, 200)),
			BatteryMode::Fixed { power_w: -2_000 },
			"into the grid"
		);
		assert_eq!(
			mode(slot(250, 0, 300)),
			BatteryMode::Limited { charge_w: 1_000, discharge_w: 0 },
			"PV only"
		);
		assert_eq!(
			mode(slot(-250, 0, 0)),
			BatteryMode::Limited { charge_w: 0, discharge_w: 1_000 }
		);
		assert_eq!(
			mode(slot(0, 400, 0)),
			BatteryMode::Limited { charge_w: 0, discharge_w: 0 },
			"held"
		);
	}

	#[test]
	fn the_wallbox_and_the_heat_pump_follow_the_planned_power() {
		let at = |car_wh, heat_pump_wh| {
			let p = PlannedSlot { car_wh, heat_pump_wh, ..slot(0, 0, 0) };
			let (_, charging, heat_pump) = setpoints(&p, QUARTER_HOUR, 11_000, 2_000);
			(charging, heat_pump)
		};
		assert_eq!(at(2_750, 500), (Charging::Own, SgReady::Boosted));
		assert_eq!(at(1_050, 250), (Charging::Limit { power_w: 4_200 }, SgReady::Normal));
		assert_eq!(at(0, 20), (Charging::Limit { power_w: 0 }, SgReady::Blocked));
	}

	#[test]
	fn stored_energy_is_the_share_of_the_capacity() {
		let state = BatteryState { stored_permille: 455, power_w: 5_000 };
		assert_eq!(state.stored_wh(10_000), 4_550);
		assert_eq!(BatteryState { stored_permille: 1_200, ..state }.stored_wh(10_000), 10_000);
	}
}
