//! The trader's arithmetic: the forecast from the meter's past and the day's budget.

use lem_gateway::trading::{affordable_wh, forecast, worst_cost};

#[test]
fn the_forecast_is_the_same_slot_on_recent_days_else_the_last_readings() {
	let per_day = 96;
	let slot = 10 * per_day + 40;
	// Days 1 and 3 back are known: their mean; the recent readings do not count.
	let known = |s: u64| match (slot - s) / per_day {
		1 if (slot - s) % per_day == 0 => Some(300),
		3 if (slot - s) % per_day == 0 => Some(-100),
		_ => None,
	};
	assert_eq!(forecast(slot, per_day, known, &[5_000]), Some(100));
	// A new box: no day known, the mean of the last readings.
	assert_eq!(forecast(slot, per_day, |_| None, &[10, -40]), Some(-15));
	assert_eq!(forecast(slot, per_day, |_| None, &[]), None);
	// Near genesis there are no days before.
	assert_eq!(forecast(3, per_day, |_| Some(1), &[]), None);
}

#[test]
fn bids_stay_within_the_days_budget() {
	// 0.25 €/kWh: 1 kWh costs 250 000; rounding is up, so 1 Wh costs 250.
	assert_eq!(worst_cost(1_000, 250_000), 250_000);
	assert_eq!(worst_cost(1, 250_001), 251);
	assert_eq!(affordable_wh(250_000, 250_000), 1_000);
	assert!(worst_cost(affordable_wh(1_234_567, 333_333), 333_333) <= 1_234_567);
	assert_eq!(affordable_wh(0, 250_000), 0);
	assert_eq!(affordable_wh(0, 0), u64::MAX);
}
