//! What the box keeps of its home slot by slot, and what it expects of the slots ahead.
//!
//! At each slot's end the box journals a [`HomeSlot`]: what its battery holds and its
//! wallbox's register, the price its zone cleared at and the tariffs, and what the plan asked
//! of the slot.
//! From these and the meter's readings it knows what the house itself drew — the meter's net
//! import less what the battery and the car took ([`house_net_wh`]) — so that a plan that
//! shifts the devices does not teach the forecast a load the house never had. The
//! [`outlook`] for each slot ahead is the mean of the same slot on the days the journal holds,
//! as the trader's forecast is ([`crate::trading::forecast`]), for the house's net import and
//! for the local price alike.

use crate::{device::PlannedSlot, trading};
use alloc::vec::Vec;
use codec::{Decode, Encode};

/// What the journal keeps of the home for a slot, at its end.
#[derive(Encode, Decode, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HomeSlot {
	/// What the battery held at the slot's end, in Wh, as it reported it.
	pub battery_stored_wh: Option<u32>,
	/// The wallbox's energy register at the slot's end, and whether a car was plugged in.
	pub car_register_wh: Option<u64>,
	pub car_plugged: bool,
	/// The price the box's zone cleared at for the slot (`None`: it traded nothing, or the box
	/// did not read it).
	pub cleared_per_kwh: Option<i64>,
	/// The retail and feed-in tariffs the box last proved, as the slot ended.
	pub tariffs: Option<Tariffs>,
	/// What the plan asked of the slot when it began; `None`: the devices were in their own
	/// modes.
	pub planned: Option<PlannedSlot>,
}

/// What went into the battery and the car over a slot (negative: came out of the battery), in
/// Wh on the meter's side, between the records `before` and `after` it. The battery's change is
/// in its store; on the meter's side a charge took more, by its one-way efficiency
/// (`efficiency_permille`), and a discharge gave less. `None` if a device the home has
/// (`battery`, `car`) was not read at either end.
pub fn devices_wh(
	before: &HomeSlot,
	after: &HomeSlot,
	battery: bool,
	car: bool,
	efficiency_permille: u32,
) -> Option<(i64, i64)> {
	let battery_wh = match (battery, before.battery_stored_wh, after.battery_stored_wh) {
		(false, ..) => 0,
		(true, Some(b), Some(a)) => {
			let stored = i64::from(a) - i64::from(b);
			let efficiency = i64::from(efficiency_permille.clamp(1, 1_000));
			if stored > 0 {
				stored * 1_000 / efficiency
			} else {
				stored * efficiency / 1_000
			}
		}
		(true, ..) => return None,
	};
	let car_wh = match (car, before.car_register_wh, after.car_register_wh) {
		(false, ..) => 0,
		// A register that went back is a new wallbox or a reset: nothing known of the slot.
		(true, Some(b), Some(a)) if a >= b => (a - b) as i64,
		(true, ..) => return None,
	};
	Some((battery_wh, car_wh))
}

/// What a kWh drawn from the supplier costs the household and one fed in earns.
#[derive(Encode, Decode, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tariffs {
	pub retail_per_kwh: u64,
	pub feed_in_per_kwh: u64,
}

/// What the house itself drew over a slot (negative: fed in), in Wh: the meter's net import
/// `net_wh` less what went into the battery and the car ([`devices_wh`]).
pub fn house_net_wh(
	net_wh: i64,
	before: &HomeSlot,
	after: &HomeSlot,
	battery: bool,
	car: bool,
	efficiency_permille: u32,
) -> Option<i64> {
	let (battery_wh, car_wh) = devices_wh(before, after, battery, car, efficiency_permille)?;
	Some(net_wh - battery_wh - car_wh)
}

/// What the box expects of one slot ahead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expected {
	/// The house's own net import, in Wh (negative: its PV feeds in).
	pub house_net_wh: i64,
	/// The local price its zone is expected to clear at; `None` where the record has none.
	pub local_per_kwh: Option<i64>,
}

/// The outlook for `slots` slots from `first` on: each slot's house net import and local
/// price as the mean of the same slot on the last days `house_net` and `cleared` know, else
/// of the `recent` values of each (newest first); a slot already cleared has its own price.
/// `None` if nothing forecasts the house: the box has no plan until it has a reading.
pub fn outlook(
	first: u64,
	slots: usize,
	slots_per_day: u64,
	house_net: impl Fn(u64) -> Option<i64>,
	recent_house_net: &[i64],
	cleared: impl Fn(u64) -> Option<i64>,
	recent_cleared: &[i64],
) -> Option<Vec<Expected>> {
	(first..first + slots as u64)
		.map(|slot| {
			let house_net_wh =
				trading::forecast(slot, slots_per_day, &house_net, recent_house_net)?;
			let local_per_kwh = cleared(slot)
				.or_else(|| trading::forecast(slot, slots_per_day, &cleared, recent_cleared));
			Some(Expected { house_net_wh, local_per_kwh })
		})
		.collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	fn at(battery_stored_wh: u32, car_register_wh: u64) -> HomeSlot {
		HomeSlot {
			battery_stored_wh: Some(battery_stored_wh),
			car_register_wh: Some(car_register_wh),
			..HomeSlot::default()
		}
	}

	#[test]
	fn the_house_drew_what_the_meter_saw_less_what_the_devices_took() {
		// The meter drew 3 000 Wh: 2 000 for the car, 950 stored (1 000 taken at 95 %).
		assert_eq!(
			house_net_wh(3_000, &at(5_000, 100), &at(5_950, 2_100), true, true, 950),
			Some(0)
		);
		// Fed in 200 Wh while the battery gave 950 out of its store, 902 on the meter's side:
		// the house itself drew 702.
		assert_eq!(house_net_wh(-200, &at(5_950, 0), &at(5_000, 0), true, false, 950), Some(702));
		assert_eq!(
			house_net_wh(400, &HomeSlot::default(), &HomeSlot::default(), false, false, 950),
			Some(400)
		);
	}

	#[test]
	fn a_device_not_read_at_either_end_leaves_the_house_unknown() {
		let unread = HomeSlot::default();
		assert_eq!(house_net_wh(300, &unread, &at(5_000, 0), true, false, 950), None);
		assert_eq!(
			house_net_wh(300, &at(5_000, 50), &at(5_000, 10), false, true, 950),
			None,
			"a register that went back"
		);
	}

	#[test]
	fn the_outlook_is_the_same_slot_on_past_days_else_the_recent_slots() {
		let per_day = 96;
		let history = |s: u64| (100..200).contains(&s).then_some(s as i64);
		let out = outlook(200, 2, per_day, history, &[7], |_| None, &[]).unwrap();
		// 200 − 96 = 104 is the one past day the history knows.
		assert_eq!(out[0], Expected { house_net_wh: 104, local_per_kwh: None });
		assert_eq!(out[1].house_net_wh, 105);
		let out = outlook(300, 1, per_day, |_| None, &[10, 20], |_| Some(150_000), &[]).unwrap();
		assert_eq!(out[0], Expected { house_net_wh: 15, local_per_kwh: Some(150_000) });
		// Slot 301 cleared at 90 000: its own price, not the days before.
		let cleared = |s: u64| Some(if s == 301 { 90_000 } else { 150_000 });
		let out = outlook(300, 2, per_day, |_| None, &[10], cleared, &[]).unwrap();
		assert_eq!((out[0].local_per_kwh, out[1].local_per_kwh), (Some(150_000), Some(90_000)));
		assert_eq!(outlook(300, 1, per_day, |_| None, &[], |_| None, &[]), None);
	}
}
