//! What running the devices did for the household over a day or a week, as it happened: the
//! three figures a household asks of an energy manager, against the same home with its
//! devices in their own modes.
//!
//! The own modes are reckoned on the slots as they happened: the house's own load and PV, the
//! prices, and the car's sessions. The car, plugged in, takes at full power from its arrival
//! the energy it really took in that session; the battery self-consumes from the period's
//! first store ([`own_modes`], the planner's own-mode model). Both are priced alike, each slot
//! at what a kWh drawn cost and one fed in earned, and what the battery holds at the end is
//! worth what the planner values it at.
//!
//! - **saved**: what the own modes cost less what the slots cost, each less what its battery
//!   holds at the end is worth;
//! - **shifted**: the energy the devices took in slots where their own modes would not have;
//! - **CO₂ avoided**: the grid energy not drawn, at the grid's emission factor.

use crate::{
	home::BatteryNow, own_modes, value_per_wh as value_per_wh_of, BatteryModel, Goal, PlanError,
	Problem, Slot, MAX_SLOTS,
};
use serde::Serialize;

/// One slot as it happened, energies in Wh.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Happened {
	/// What the house itself drew (negative: its PV fed in), without the devices.
	pub house_net_wh: f64,
	/// AC energy into the battery (negative: out of it), and into the car.
	pub battery_wh: f64,
	pub car_wh: f64,
	pub car_plugged: bool,
	/// What crossed the meter.
	pub import_wh: f64,
	pub export_wh: f64,
	/// What a kWh drawn cost and one fed in earned, micro-euros.
	pub buy_per_kwh: u64,
	pub sell_per_kwh: u64,
}

/// A period's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
	pub slots: usize,
	/// Micro-euros.
	pub cost: f64,
	pub own_modes_cost: f64,
	pub saved: f64,
	pub shifted_wh: f64,
	pub co2_avoided_g: f64,
}

/// What the period's devices were.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Devices {
	/// The battery as the period began (its store then), and the reserve its own mode keeps.
	pub battery: Option<BatteryNow>,
	pub battery_reserve_wh: f64,
	/// The battery's store as the period ended.
	pub battery_end_wh: f64,
	pub car_power_w: f64,
}

/// The figures of `slots` of `slot_seconds` each, with `devices`, the grid's emission factor
/// `co2_g_per_kwh`.
pub fn figures(
	slot_seconds: u32,
	slots: &[Happened],
	devices: &Devices,
	co2_g_per_kwh: f64,
) -> Result<Figures, PlanError> {
	if slots.is_empty() {
		return Ok(Figures::default());
	}
	let hours = f64::from(slot_seconds) / 3_600.0;
	// The car at full power from each arrival until it has what that session took.
	let mut own_car = vec![0.0; slots.len()];
	let mut left = 0.0;
	for (t, s) in slots.iter().enumerate() {
		let arrived = s.car_plugged && (t == 0 || !slots[t - 1].car_plugged);
		if arrived {
			left = slots[t..].iter().take_while(|s| s.car_plugged).map(|s| s.car_wh).sum();
		}
		if s.car_plugged {
			own_car[t] = left.min(devices.car_power_w * hours);
			left -= own_car[t];
		}
	}
	// The own modes a problem's most slots at a time, the battery's store carried over.
	let (mut own_cost, mut own_imported, mut shifted_wh) = (0.0, 0.0, 0.0);
	let (mut own_value_left, mut value_per_wh) = (0.0, 0.0);
	let mut stored = devices.battery.map_or(0.0, |b| b.stored_wh);
	for (slots, own_car) in slots.chunks(MAX_SLOTS).zip(own_car.chunks(MAX_SLOTS)) {
		let problem = Problem {
			slot_seconds,
			slots: slots
				.iter()
				.zip(own_car)
				.map(|(s, car)| {
					let sell = s.sell_per_kwh.min(s.buy_per_kwh);
					Slot::of_house(s.house_net_wh + car, s.buy_per_kwh, sell)
				})
				.collect(),
			battery: devices.battery.map(|b| BatteryModel {
				capacity_wh: b.capacity_wh,
				stored_wh: stored.clamp(0.0, b.capacity_wh),
				power_w: b.power_w,
				efficiency: b.efficiency,
				reserve_wh: devices.battery_reserve_wh.min(b.capacity_wh),
				grid_charge: false,
			}),
			car: None,
			heat_pump: None,
			goal: Goal::Cheapest,
		};
		let own = own_modes(&problem)?;
		own_cost += own.cost;
		own_imported += own.slots.iter().map(|s| s.import_wh).sum::<f64>();
		shifted_wh += slots
			.iter()
			.zip(&own.slots)
			.zip(own_car)
			.map(|((s, o), own_car)| {
				let took = s.battery_wh.max(0.0) + s.car_wh;
				let would = o.battery_wh.max(0.0) + own_car;
				(took - would).max(0.0)
			})
			.sum::<f64>();
		stored = own.slots.last().map_or(stored, |l| l.battery_stored_wh);
		own_value_left = own.value_left;
		value_per_wh = problem.battery.as_ref().map_or(0.0, |b| value_per_wh_of(&problem, b));
	}
	let cost: f64 = slots
		.iter()
		.map(|s| {
			(s.import_wh * s.buy_per_kwh as f64 - s.export_wh * s.sell_per_kwh as f64) / 1_000.0
		})
		.sum();
	let imported: f64 = slots.iter().map(|s| s.import_wh).sum();
	Ok(Figures {
		slots: slots.len(),
		cost,
		own_modes_cost: own_cost,
		saved: (own_cost - own_value_left) - (cost - devices.battery_end_wh * value_per_wh),
		shifted_wh,
		co2_avoided_g: (own_imported - imported) * co2_g_per_kwh / 1_000.0,
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	const QUARTER: u32 = 900;

	fn slot(house_net_wh: f64, buy: u64) -> Happened {
		Happened {
			house_net_wh,
			import_wh: house_net_wh.max(0.0),
			export_wh: (-house_net_wh).max(0.0),
			buy_per_kwh: buy,
			sell_per_kwh: 80_000,
			..Happened::default()
		}
	}

	fn no_devices() -> Devices {
		Devices {
			battery: None,
			battery_reserve_wh: 0.0,
			battery_end_wh: 0.0,
			car_power_w: 11_000.0,
		}
	}

	#[test]
	fn a_home_whose_devices_did_what_their_own_modes_do_saved_nothing() {
		let slots = [slot(500.0, 300_000), slot(-800.0, 300_000), slot(200.0, 100_000)];
		let f = figures(QUARTER, &slots, &no_devices(), 380.0).unwrap();
		assert_eq!(f.cost, f.own_modes_cost);
		assert_eq!((f.saved, f.shifted_wh, f.co2_avoided_g), (0.0, 0.0, 0.0));
	}

	#[test]
	fn a_car_charged_in_the_cheap_night_instead_of_on_arrival_saved_the_difference() {
		// Plugged in for three slots; it took 2 750 Wh, in the cheap third one.
		let mut slots = [slot(0.0, 300_000), slot(0.0, 300_000), slot(0.0, 100_000)];
		for s in &mut slots {
			s.car_plugged = true;
		}
		slots[2].car_wh = 2_750.0;
		slots[2].import_wh = 2_750.0;
		let f = figures(QUARTER, &slots, &no_devices(), 380.0).unwrap();
		// Its own mode takes the same 2 750 Wh in the first slot at 0.30 EUR/kWh.
		assert_eq!(f.own_modes_cost, 825_000.0);
		assert_eq!(f.cost, 275_000.0);
		assert_eq!(f.saved, 550_000.0);
		assert_eq!(f.shifted_wh, 2_750.0);
		assert_eq!(f.co2_avoided_g, 0.0, "the same energy from the grid");
	}

	#[test]
	fn pv_stored_instead_of_fed_in_avoids_the_evenings_grid_energy() {
		let battery =
			BatteryNow { capacity_wh: 10_000.0, stored_wh: 0.0, power_w: 5_000.0, efficiency: 1.0 };
		// Noon's 1 000 Wh surplus stored, the evening's 1 000 Wh drawn from the battery: as
		// its own mode does too, so nothing saved or shifted, and as much avoided.
		let mut slots = [slot(-1_000.0, 300_000), slot(1_000.0, 300_000)];
		slots[0].battery_wh = 1_000.0;
		slots[0].export_wh = 0.0;
		slots[1].battery_wh = -1_000.0;
		slots[1].import_wh = 0.0;
		let devices = Devices { battery: Some(battery), ..no_devices() };
		let f = figures(QUARTER, &slots, &devices, 380.0).unwrap();
		assert_eq!((f.cost, f.own_modes_cost, f.saved, f.shifted_wh), (0.0, 0.0, 0.0, 0.0));
		// Held back at noon and fed in: the own modes would have avoided the evening's draw.
		let mut held = slots;
		held[0].battery_wh = 0.0;
		held[0].export_wh = 1_000.0;
		held[1].battery_wh = 0.0;
		held[1].import_wh = 1_000.0;
		let f = figures(QUARTER, &held, &devices, 380.0).unwrap();
		assert_eq!(f.saved, 80_000.0 - 300_000.0);
		assert_eq!(f.co2_avoided_g, -380.0);
	}
}
