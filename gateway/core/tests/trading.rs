//! The trading policy: the forecast from the meter's past, the day's budget, the slots and
//! orders it asks for, and what a finalized block says of an order sent.

use lem_gateway_core::{
	chain::Community,
	entry::{OrderEntry, OrderState},
	owner::{Call, Side, StandingOrder},
	trading::{
		affordable_wh, budget_left, forecast, order_after_finality, order_for, order_slots,
		wants_order, worst_cost, NOT_PLACED,
	},
};
use std::collections::BTreeMap;

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

const COMMUNITY: Community =
	Community { slot_seconds: 10, gate_closure_lead_seconds: 4, order_horizon_slots: 6 };
const STANDING: StandingOrder =
	StandingOrder { buy_limit_per_kwh: 250_000, sell_limit_per_kwh: 90_000, daily_budget: 500_000 };

fn order(slot: u64, side: Side, energy_wh: u64, state: OrderState) -> OrderEntry {
	OrderEntry {
		slot,
		side,
		energy_wh,
		limit_per_kwh: 250_000,
		nonce: 3,
		extrinsic: vec![1],
		state,
	}
}

#[test]
fn orders_go_for_slots_whose_gate_a_block_can_still_make() {
	// At 1 000 s on 2 s blocks: slot 101's gate closes at 1 006 s, two blocks and more away;
	// slot 100's at 996 s has passed. The market takes orders up to slot 106.
	assert_eq!(order_slots(1_000, &COMMUNITY, 2_000, 4), 101..=104);
	assert_eq!(order_slots(1_000, &COMMUNITY, 2_000, 96), 101..=106);
	// On 6 s blocks the margin is 12 s: slot 101 (gate at 1 006 s) is too near.
	assert_eq!(order_slots(1_000, &COMMUNITY, 6_000, 4), 102..=105);
	// One order a slot, unless the one made was lost.
	assert!(wants_order(None));
	assert!(wants_order(Some(&order(101, Side::Bid, 1, OrderState::Lost))));
	assert!(!wants_order(Some(&order(101, Side::Bid, 1, OrderState::Submitted { at: 1 }))));
}

#[test]
fn a_forecast_import_is_a_bid_within_the_budget_and_an_export_an_ask() {
	let bid = order_for(1001, 101, 800, &STANDING, 1_000_000);
	let expected = Call::PlaceOrder {
		metering_point: 1001,
		slot: 101,
		side: Side::Bid,
		energy_wh: 800,
		limit_per_kwh: 250_000,
	};
	assert_eq!(bid, Some(expected));
	// 100 000 of budget left at 0.25 €/kWh: 400 Wh.
	let Some(Call::PlaceOrder { energy_wh, .. }) = order_for(1001, 101, 800, &STANDING, 100_000)
	else {
		panic!()
	};
	assert_eq!(energy_wh, 400);
	let ask = order_for(1001, 101, -300, &STANDING, 0);
	let expected = Call::PlaceOrder {
		metering_point: 1001,
		slot: 101,
		side: Side::Ask,
		energy_wh: 300,
		limit_per_kwh: 90_000,
	};
	assert_eq!(ask, Some(expected));
	// Nothing to trade, or no budget for a bid.
	assert_eq!(order_for(1001, 101, 0, &STANDING, 1_000_000), None);
	assert_eq!(order_for(1001, 101, 800, &STANDING, 0), None);
}

#[test]
fn the_days_budget_counts_the_days_bids_placed_or_on_their_way() {
	// 10 s slots: 8 640 a day; slots 8 640 and on are the next day.
	let mut orders = BTreeMap::new();
	orders.insert(100, order(100, Side::Bid, 1_000, OrderState::Placed { orders: vec![5] }));
	orders.insert(101, order(101, Side::Bid, 400, OrderState::Submitted { at: 1 }));
	orders.insert(102, order(102, Side::Bid, 4_000, OrderState::Lost));
	orders.insert(103, order(103, Side::Ask, 4_000, OrderState::Placed { orders: vec![6] }));
	orders.insert(8_640, order(8_640, Side::Bid, 1_000, OrderState::Placed { orders: vec![7] }));
	// 1 kWh and 0.4 kWh at 0.25 €/kWh.
	assert_eq!(budget_left(&orders, 104, 10, 500_000), 500_000 - 250_000 - 100_000);
	assert_eq!(budget_left(&orders, 8_641, 10, 500_000), 250_000);
	assert_eq!(budget_left(&orders, 104, 10, 100_000), 0);
}

#[test]
fn an_order_is_placed_only_as_proven_and_refused_when_its_nonce_went_without_it() {
	let sent = order(101, Side::Bid, 500, OrderState::Submitted { at: 990 });
	// Among the account's orders of its slot: placed, with their ids.
	assert_eq!(
		order_after_finality(&sent, vec![7], 4, 1_000, 10),
		Some(OrderState::Placed { orders: vec![7] })
	);
	// Its nonce not used yet: still on its way.
	assert_eq!(order_after_finality(&sent, vec![], 3, 1_000, 10), None);
	// The nonce used without the order, before the slot began: refused.
	assert_eq!(
		order_after_finality(&sent, vec![], 4, 1_000, 10),
		Some(OrderState::Refused { reason: NOT_PLACED.into() })
	);
	// After the slot began the chain may have forgotten its orders: lost, not refused.
	assert_eq!(order_after_finality(&sent, vec![], 4, 1_010, 10), Some(OrderState::Lost));
	// An order already decided stays.
	let placed = order(101, Side::Bid, 500, OrderState::Placed { orders: vec![7] });
	assert_eq!(order_after_finality(&placed, vec![], 9, 2_000, 10), None);
}
