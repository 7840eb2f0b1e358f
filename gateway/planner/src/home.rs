//! The box's problem for its home: the planner's [`Problem`] made from what the box knows at
//! a slot's start — its outlook for the slots ahead, the tariffs, its zone's traffic light,
//! its devices' states — and what the owner prefers.
//!
//! Prices: where the box's record of cleared prices expects a local price for the slot, a kWh
//! drawn costs that price (at most the retail tariff: what the market does not sell, the
//! supplier does) and a kWh fed in earns it (at least the feed-in tariff: what the market does
//! not take, the supplier does); elsewhere the tariffs. A red light for the home's zone caps
//! the home's import in the next [`RED_LIGHT_SLOTS`] to what the house itself is expected to
//! draw: its devices then take nothing more from the grid. A car plugged in is planned to have
//! what the owner asks of each charge by the departure; a departure beyond the horizon asks
//! of the horizon only what the slots after it could not give.

use crate::{BatteryModel, CarModel, Goal, PlanError, Problem, Slot};
use serde::{Deserialize, Serialize};

/// The slots ahead a red light caps: the DSO's light is read again at every slot, and a light
/// is set for the hour the grid is congested, not for the day.
pub const RED_LIGHT_SLOTS: usize = 4;

/// What the owner asks of the box: `[plan]` in `gateway.toml`, or the box's HTTP API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
	#[serde(default)]
	pub goal: Goal,
	/// What the battery keeps for an outage, in percent of its capacity.
	#[serde(default)]
	pub battery_reserve_percent: u8,
	/// Whether the battery may charge from the grid where that pays, not only from the PV.
	#[serde(default)]
	pub battery_grid_charge: bool,
	/// What the car is to get from each charge, in Wh, and when it leaves ("HH:MM", the
	/// owner's time: UTC plus `utc_offset_minutes`).
	#[serde(default = "default_car_energy_wh")]
	pub car_energy_wh: u32,
	#[serde(default = "default_car_departure")]
	pub car_departure: String,
	#[serde(default = "default_utc_offset_minutes")]
	pub utc_offset_minutes: i16,
}

/// A day's commute and back: about 20 kWh.
fn default_car_energy_wh() -> u32 {
	20_000
}
fn default_car_departure() -> String {
	"07:30".into()
}
/// Central European Time.
fn default_utc_offset_minutes() -> i16 {
	60
}

impl Default for Preferences {
	fn default() -> Self {
		Preferences {
			goal: Goal::default(),
			battery_reserve_percent: 0,
			battery_grid_charge: false,
			car_energy_wh: default_car_energy_wh(),
			car_departure: default_car_departure(),
			utc_offset_minutes: default_utc_offset_minutes(),
		}
	}
}

impl Preferences {
	/// Every value in range; the first that is not is named.
	pub fn check(&self) -> Result<(), PlanError> {
		let invalid = |field: &str, reason: &str| {
			Err(PlanError::Invalid { field: field.into(), reason: reason.into() })
		};
		if self.battery_reserve_percent > 100 {
			return invalid("battery_reserve_percent", "above 100");
		}
		if self.car_energy_wh > 1_000_000 {
			return invalid("car_energy_wh", "above 1 000 kWh");
		}
		if self.departure_minute().is_none() {
			return invalid("car_departure", "not a time of day as HH:MM");
		}
		if !(-14 * 60..=14 * 60).contains(&self.utc_offset_minutes) {
			return invalid("utc_offset_minutes", "not between -840 and 840");
		}
		Ok(())
	}

	/// The departure's minute of the owner's day.
	fn departure_minute(&self) -> Option<u64> {
		let (h, m) = self.car_departure.split_once(':')?;
		let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
		(h < 24 && m < 60 && self.car_departure.len() == 5).then_some(h * 60 + m)
	}

	/// The next departure at or after `unix_seconds`, as a unix time.
	pub fn next_departure(&self, unix_seconds: u64) -> Option<u64> {
		let offset = i64::from(self.utc_offset_minutes) * 60;
		let local = unix_seconds.checked_add_signed(offset)?;
		let day = local - local % 86_400;
		let at = day + self.departure_minute()? * 60;
		let at = if at < local { at + 86_400 } else { at };
		at.checked_add_signed(-offset)
	}
}

/// What the box expects of a slot ahead: the house's own net import (Wh; negative: its PV
/// feeds in) and the local price its record expects, if any.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Expected {
	pub house_net_wh: i64,
	pub local_per_kwh: Option<i64>,
}

/// A battery as the box reads it and its configuration describes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatteryNow {
	pub capacity_wh: f64,
	pub stored_wh: f64,
	pub power_w: f64,
	pub efficiency: f64,
}

/// A car plugged in: what its wallbox gave it since it was (the wallbox's register, of which
/// `efficiency` reached the car's battery), and its wallbox.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CarNow {
	pub charged_wh: f64,
	pub power_w: f64,
	pub efficiency: f64,
}

/// What the box knows of its home as the plan's first slot begins.
#[derive(Clone, Debug, PartialEq)]
pub struct Home {
	pub slot_seconds: u32,
	/// When the first slot began (unix seconds).
	pub start: u64,
	/// The slots to plan, from the first.
	pub expected: Vec<Expected>,
	pub retail_per_kwh: u64,
	pub feed_in_per_kwh: u64,
	/// The DSO's light for the home's zone is red.
	pub red_light: bool,
	pub battery: Option<BatteryNow>,
	/// `None` while no car is plugged in.
	pub car: Option<CarNow>,
}

/// The problem the box plans.
pub fn problem(home: &Home, preferences: &Preferences) -> Result<Problem, PlanError> {
	preferences.check()?;
	let slots = home
		.expected
		.iter()
		.enumerate()
		.map(|(t, e)| {
			let (buy, sell) = prices(e.local_per_kwh, home.retail_per_kwh, home.feed_in_per_kwh);
			let house = e.house_net_wh as f64;
			let cap = (home.red_light && t < RED_LIGHT_SLOTS).then_some(house.max(0.0));
			Slot { import_limit_wh: cap, ..Slot::of_house(house, buy, sell) }
		})
		.collect::<Vec<_>>();
	let battery = home.battery.map(|b| BatteryModel {
		capacity_wh: b.capacity_wh,
		stored_wh: b.stored_wh.clamp(0.0, b.capacity_wh),
		power_w: b.power_w,
		efficiency: b.efficiency,
		reserve_wh: b.capacity_wh * f64::from(preferences.battery_reserve_percent) / 100.0,
		grid_charge: preferences.battery_grid_charge,
	});
	let car = match home.car {
		None => None,
		Some(c) => {
			let slot = u64::from(home.slot_seconds.max(1));
			let departure = preferences.next_departure(home.start).unwrap_or(home.start);
			let departure_slot = (departure - home.start).div_ceil(slot) as usize;
			let reached = c.charged_wh * c.efficiency;
			let wanted = (f64::from(preferences.car_energy_wh) - reached).max(0.0);
			// What the slots between the horizon's end and the departure can still give.
			let after = departure_slot.saturating_sub(slots.len()) as f64;
			let later = after * c.power_w * slot as f64 / 3_600.0 * c.efficiency;
			Some(CarModel {
				arrival_slot: 0,
				departure_slot: departure_slot.min(slots.len()),
				needed_wh: (wanted - later).max(0.0),
				power_w: c.power_w,
				efficiency: c.efficiency,
			})
		}
	};
	let problem = Problem {
		slot_seconds: home.slot_seconds,
		slots,
		battery,
		car,
		heat_pump: None,
		goal: preferences.goal,
	};
	problem.check()?;
	Ok(problem)
}

/// What a kWh drawn costs and one fed in earns, at `local` expected and the tariffs. Never
/// below zero (the planner's prices are what a kWh is worth, and a negative price's pay is
/// the market's to give), and never fed in for more than drawn.
pub fn prices(local: Option<i64>, retail: u64, feed_in: u64) -> (u64, u64) {
	match local {
		None => (retail, feed_in.min(retail)),
		Some(p) => {
			let p = p.max(0) as u64;
			let buy = p.min(retail);
			(buy, p.max(feed_in).min(buy))
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const QUARTER: u32 = 900;
	/// 2026-12-07 06:00 UTC, 07:00 in Central Europe.
	const SIX_UTC: u64 = 1_796_623_200;

	fn home(expected: Vec<Expected>) -> Home {
		Home {
			slot_seconds: QUARTER,
			start: SIX_UTC,
			expected,
			retail_per_kwh: 300_000,
			feed_in_per_kwh: 80_000,
			red_light: false,
			battery: None,
			car: None,
		}
	}

	fn slots(n: usize, house_net_wh: i64, local_per_kwh: Option<i64>) -> Vec<Expected> {
		vec![Expected { house_net_wh, local_per_kwh }; n]
	}

	#[test]
	fn the_local_price_sits_between_the_tariffs() {
		assert_eq!(prices(None, 300_000, 80_000), (300_000, 80_000));
		assert_eq!(prices(Some(150_000), 300_000, 80_000), (150_000, 150_000));
		assert_eq!(prices(Some(400_000), 300_000, 80_000), (300_000, 300_000));
		assert_eq!(prices(Some(50_000), 300_000, 80_000), (50_000, 50_000));
		assert_eq!(prices(Some(-20_000), 300_000, 80_000), (0, 0));
		assert_eq!(prices(None, 70_000, 80_000), (70_000, 70_000));
	}

	#[test]
	fn the_house_net_is_its_load_or_its_pv_and_a_red_light_caps_the_next_hour() {
		let mut h = home([slots(3, 400, None), slots(3, -900, None)].concat());
		h.red_light = true;
		let p = problem(&h, &Preferences::default()).unwrap();
		assert_eq!((p.slots[0].load_wh, p.slots[0].pv_wh), (400.0, 0.0));
		assert_eq!((p.slots[5].load_wh, p.slots[5].pv_wh), (0.0, 900.0));
		let caps: Vec<_> = p.slots.iter().map(|s| s.import_limit_wh).collect();
		assert_eq!(caps, [Some(400.0), Some(400.0), Some(400.0), Some(0.0), None, None]);
	}

	#[test]
	fn a_car_leaving_within_the_horizon_needs_what_the_owner_asks_less_what_reached_it() {
		let mut h = home(slots(96, 300, Some(200_000)));
		h.car = Some(CarNow { charged_wh: 5_000.0, power_w: 11_000.0, efficiency: 0.9 });
		let prefs = Preferences { car_departure: "09:30".into(), ..Preferences::default() };
		let car = problem(&h, &prefs).unwrap().car.unwrap();
		// 07:00 to 09:30 local: ten slots. Of the 5 000 Wh the wallbox gave, 4 500 reached it.
		assert_eq!((car.arrival_slot, car.departure_slot), (0, 10));
		assert_eq!(car.needed_wh, 15_500.0);
	}

	#[test]
	fn a_departure_beyond_the_horizon_asks_only_what_later_slots_cannot_give() {
		let mut h = home(slots(8, 300, None));
		h.car = Some(CarNow { charged_wh: 0.0, power_w: 4_000.0, efficiency: 1.0 });
		// 07:00 to 12:00 local: 20 slots, 12 of them after the horizon's 8, each 1 kWh.
		let prefs = Preferences { car_departure: "12:00".into(), ..Preferences::default() };
		let car = problem(&h, &prefs).unwrap().car.unwrap();
		assert_eq!(car.departure_slot, 8);
		assert_eq!(car.needed_wh, 20_000.0 - 12_000.0);
		// Departing at 06:00 local is tomorrow's: all of it can wait.
		let prefs = Preferences { car_departure: "06:00".into(), ..Preferences::default() };
		assert_eq!(problem(&h, &prefs).unwrap().car.unwrap().needed_wh, 0.0);
	}

	#[test]
	fn the_battery_keeps_the_owners_reserve() {
		let mut h = home(slots(4, 300, None));
		h.battery = Some(BatteryNow {
			capacity_wh: 10_000.0,
			stored_wh: 10_200.0,
			power_w: 5_000.0,
			efficiency: 0.95,
		});
		let prefs = Preferences {
			battery_reserve_percent: 20,
			battery_grid_charge: true,
			..Preferences::default()
		};
		let b = problem(&h, &prefs).unwrap().battery.unwrap();
		assert_eq!((b.reserve_wh, b.stored_wh, b.grid_charge), (2_000.0, 10_000.0, true));
	}

	#[test]
	fn preferences_out_of_range_are_named() {
		let field = |p: Preferences| match p.check() {
			Err(PlanError::Invalid { field, .. }) => field,
			other => panic!("{other:?}"),
		};
		let d = Preferences::default;
		assert_eq!(
			field(Preferences { battery_reserve_percent: 101, ..d() }),
			"battery_reserve_percent"
		);
		assert_eq!(field(Preferences { car_departure: "7:30".into(), ..d() }), "car_departure");
		assert_eq!(field(Preferences { car_departure: "24:00".into(), ..d() }), "car_departure");
		assert_eq!(field(Preferences { utc_offset_minutes: 900, ..d() }), "utc_offset_minutes");
		assert!(problem(&home(Vec::new()), &d()).is_err(), "no slots to plan");
	}
}
