//! What the box orders for its owner, and what a finalized block says of an order it sent.
//!
//! For each of the next slots whose gate is open, the box bids for what its meter is forecast
//! to import or asks for what it is forecast to export, at the owner's limits and within the
//! day's budget. The forecast is the meter's own past: the mean net import of the same slot on
//! the last seven days the journal holds, or, while it holds no such day (a new box), of its
//! last four readings. The standing order settles what the forecast misses, after the slot, on
//! metered energy.

use crate::{
	bill,
	chain::{blocks_seconds, Community},
	entry::{OrderEntry, OrderState},
	owner::{Call, Side, StandingOrder},
};
use alloc::{collections::BTreeMap, string::String, vec::Vec};
use core::ops::RangeInclusive;

/// Days of the same slot the forecast averages, and the readings it falls back on.
pub const FORECAST_DAYS: u64 = 7;
pub const FORECAST_RECENT: usize = 4;
/// An order is only made for a slot whose gate closes at least this many blocks after the
/// best block, to be included before it.
pub const GATE_MARGIN_BLOCKS: u64 = 2;

/// The forecast net import (Wh; negative: export) of `slot`: the mean of the same slot on the
/// last [`FORECAST_DAYS`] days `net_import` knows, else of `recent` readings' net imports.
pub fn forecast(
	slot: u64,
	slots_per_day: u64,
	net_import: impl Fn(u64) -> Option<i64>,
	recent: &[i64],
) -> Option<i64> {
	let days: Vec<i64> = forecast_days(slot, slots_per_day).filter_map(net_import).collect();
	let sample = if days.is_empty() { recent } else { &days };
	(!sample.is_empty()).then(|| sample.iter().sum::<i64>() / sample.len() as i64)
}

/// The same slot on each of the last [`FORECAST_DAYS`] days, newest first.
pub fn forecast_days(slot: u64, slots_per_day: u64) -> impl Iterator<Item = u64> {
	(1..=FORECAST_DAYS).filter_map(move |d| slot.checked_sub(d * slots_per_day))
}

/// What `energy_wh` at `limit_per_kwh` could cost at most: the market's rounding up.
pub fn worst_cost(energy_wh: u64, limit_per_kwh: u64) -> u128 {
	bill::cost_up(energy_wh, limit_per_kwh.into()) as u128
}

/// The most a bid at `limit_per_kwh` may be for, with `left` of the day's budget.
pub fn affordable_wh(left: u128, limit_per_kwh: u64) -> u64 {
	match limit_per_kwh {
		0 => u64::MAX,
		l => (left.saturating_mul(1000) / l as u128).min(u64::MAX as u128) as u64,
	}
}

/// The slots the box may order for at `now` (the best block's time): from the first whose
/// gate closes late enough for a block to take the order, to the last the market takes
/// orders for, at most `horizon_slots` of them.
pub fn order_slots(
	now: u64,
	community: &Community,
	block_ms: u64,
	horizon_slots: u64,
) -> RangeInclusive<u64> {
	let slot_seconds = community.slot_seconds;
	let first =
		(now + community.gate_closure_lead_seconds + blocks_seconds(GATE_MARGIN_BLOCKS, block_ms))
			.div_ceil(slot_seconds);
	let last =
		(now / slot_seconds + community.order_horizon_slots as u64).min(first + horizon_slots - 1);
	first..=last
}

/// Whether the box still has to order for a slot it holds `order` of: none, or one lost.
pub fn wants_order(order: Option<&OrderEntry>) -> bool {
	order.is_none_or(|o| o.state == OrderState::Lost)
}

/// What is left of the daily budget for bids in `slot`'s UTC day: the budget less what the
/// day's bids placed or on their way (`orders`, by slot) could cost at most.
pub fn budget_left(
	orders: &BTreeMap<u64, OrderEntry>,
	slot: u64,
	slot_seconds: u64,
	daily_budget: u128,
) -> u128 {
	let day = |s: u64| s * slot_seconds / 86_400;
	let committed: u128 = orders
		.values()
		.filter(|o| day(o.slot) == day(slot) && o.side == Side::Bid)
		.filter(|o| matches!(o.state, OrderState::Submitted { .. } | OrderState::Placed { .. }))
		.map(|o| worst_cost(o.energy_wh, o.limit_per_kwh))
		.sum();
	daily_budget.saturating_sub(committed)
}

/// The order for `slot` a forecast net import of `net_import` Wh asks for: a bid at the
/// standing order's buy limit, as much as `budget_left` affords, or an ask at its sell
/// limit; none for no energy or a spent budget.
pub fn order_for(
	metering_point: u64,
	slot: u64,
	net_import: i64,
	standing: &StandingOrder,
	budget_left: u128,
) -> Option<Call> {
	let (side, energy_wh, limit_per_kwh) = match net_import {
		0 => return None,
		n if n > 0 => {
			let energy = (n as u64).min(affordable_wh(budget_left, standing.buy_limit_per_kwh));
			(Side::Bid, energy, standing.buy_limit_per_kwh)
		}
		n => (Side::Ask, n.unsigned_abs(), standing.sell_limit_per_kwh),
	};
	(energy_wh > 0).then_some(Call::PlaceOrder {
		metering_point,
		slot,
		side,
		energy_wh,
		limit_per_kwh,
	})
}

/// The state of an order sent with `order.nonce` once a finalized block shows `ids` among the
/// account's orders of its slot and `chain_nonce` as the account's next nonce; `None` while
/// it is still on its way. `now` is the box's clock, in unix seconds.
pub fn order_after_finality(
	order: &OrderEntry,
	ids: Vec<u64>,
	chain_nonce: u32,
	now: u64,
	slot_seconds: u64,
) -> Option<OrderState> {
	if !matches!(order.state, OrderState::Submitted { .. }) {
		return None;
	}
	if !ids.is_empty() {
		Some(OrderState::Placed { orders: ids })
	} else if chain_nonce > order.nonce && now < order.slot * slot_seconds {
		// The chain used its nonce without placing it.
		Some(OrderState::Refused { reason: String::from(NOT_PLACED) })
	} else if chain_nonce > order.nonce {
		// Its slot began, so it may have been settled and its orders forgotten: whether it was
		// placed, the chain no longer says. The bill shows what it traded.
		Some(OrderState::Lost)
	} else {
		None
	}
}

/// Why an order whose nonce the chain used without placing it is refused.
pub const NOT_PLACED: &str = "NotPlaced";
