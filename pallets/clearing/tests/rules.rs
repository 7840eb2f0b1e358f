//! Hand-worked slots, one per rule of DESIGN.md "Clearing", and every refusal.
//!
//! Prices are in µEUR per kWh (the demo asset: 250000 = 0.25 EUR/kWh), energy in Wh.

mod common;

use common::*;
use lem_clearing::{clear, Error, Instance, Outcome, Pricing, MAX_ENERGY_WH, MAX_PRICE_PER_KWH};

/// Clears, checks every rule with the independent verifier and the LP, and returns the result.
fn cleared(inst: &Instance) -> Outcome {
	let out = clear(inst).expect("valid instance clears");
	check_rules(inst, &out);
	let lp = lp_optimum(inst);
	let ours = gains(inst, &out) as f64;
	assert!((ours - lp).abs() <= 1e-6 * lp.abs().max(1.0), "welfare {ours} vs LP {lp}");
	out
}

fn price(out: &Outcome, zone: u32) -> Option<i64> {
	out.zone_prices.iter().find(|z| z.zone == zone).unwrap().price_per_kwh
}

fn filled(out: &Outcome, order: u64) -> u64 {
	out.fills.iter().find(|f| f.order == order).unwrap().energy_wh
}

fn flow(out: &Outcome, zone: u32) -> i64 {
	out.flows.iter().find(|f| f.zone == zone).unwrap().energy_wh
}

#[test]
fn single_zone_clears_at_one_uniform_price() {
	let inst = instance(
		vec![root(0)],
		vec![
			bid(1, 0, 100, 300_000),
			bid(2, 0, 50, 200_000),
			ask(3, 0, 80, 100_000),
			ask(4, 0, 100, 250_000),
		],
	);
	let out = cleared(&inst);
	// Net supply: −150, +80 at 0.10 → −70, +50 at 0.20 → −20, +100 at 0.25 → 80: it crosses
	// zero inside the 0.25 ask, which is marginal and sells 20 Wh.
	assert_eq!(price(&out, 0), Some(250_000));
	assert_eq!(
		[1, 2, 3, 4].map(|o| filled(&out, o)),
		[100, 0, 80, 20],
		"bid at 0.30 full, bid at 0.20 out, cheap ask full, marginal ask the rest"
	);
	assert_eq!(out.welfare, (100 * 300_000 - 80 * 100_000 - 20 * 250_000) / 1000);
	assert_eq!((out.payments, out.receipts), (25_000, 25_000));
	assert_eq!((out.dso_revenue, out.remainder), (0, 0));
}

#[test]
fn price_between_the_last_bid_and_ask_is_the_midpoint() {
	let inst = instance(vec![root(0)], vec![bid(1, 0, 100, 300_000), ask(2, 0, 100, 100_000)]);
	let out = cleared(&inst);
	assert_eq!(price(&out, 0), Some(200_000));
	assert_eq!((filled(&out, 1), filled(&out, 2)), (100, 100));
	assert_eq!(out.welfare, 20_000);
}

#[test]
fn fee_separates_zone_prices_by_exactly_the_fee() {
	let inst = instance(
		vec![root(0), zone(1, Some(0), 20_000, None)],
		vec![ask(1, 0, 1000, 100_000), bid(2, 1, 500, 300_000)],
	);
	let out = cleared(&inst);
	assert_eq!(price(&out, 0), Some(100_000));
	assert_eq!(price(&out, 1), Some(120_000), "child buys at parent price + fee");
	assert_eq!(flow(&out, 1), -500, "energy flows down into zone 1");
	assert_eq!((filled(&out, 1), filled(&out, 2)), (500, 500));
	// (500·0.30 − 500·0.10 − 500·0.02) EUR/kWh × 0.5 kWh
	assert_eq!(out.welfare, 90_000);
	assert_eq!(out.dso_revenue, 10_000, "the fee on 500 Wh");
	assert_eq!((out.payments, out.receipts, out.remainder), (60_000, 50_000, 0));
}

#[test]
fn fee_higher_than_the_spread_stops_trade_across_the_edge() {
	let inst = instance(
		vec![root(0), zone(1, Some(0), 250_000, None)],
		vec![ask(1, 0, 1000, 100_000), bid(2, 1, 500, 300_000)],
	);
	let out = cleared(&inst);
	assert_eq!(flow(&out, 1), 0);
	assert_eq!(out.welfare, 0);
	let (p0, p1) = (price(&out, 0).unwrap(), price(&out, 1).unwrap());
	assert!((p1 - p0).abs() <= 250_000);
}

#[test]
fn full_edge_lets_prices_differ_by_congestion_rent() {
	let inst = instance(
		vec![root(0), zone(1, Some(0), 20_000, Some(200))],
		vec![ask(1, 0, 1000, 100_000), bid(2, 1, 500, 300_000)],
	);
	let out = cleared(&inst);
	assert_eq!(flow(&out, 1), -200, "the edge carries its capacity");
	assert_eq!(price(&out, 0), Some(100_000));
	// The bid is the only demand behind the full edge: it sets the price there.
	assert_eq!(price(&out, 1), Some(300_000));
	assert_eq!((filled(&out, 1), filled(&out, 2)), (200, 200));
	// DSO: 200 Wh × (0.30 − 0.10): fee 4000 plus congestion rent 36000.
	assert_eq!(out.dso_revenue, 40_000);
	assert_eq!(out.welfare, 36_000);
	assert_eq!(out.remainder, 0);
}

#[test]
fn export_over_a_full_edge_lowers_the_child_price() {
	// PV surplus in zone 1, demand at the substation, the line up carries 300 Wh.
	let inst = instance(
		vec![root(0), zone(1, Some(0), 10_000, Some(300))],
		vec![ask(1, 1, 1000, 50_000), bid(2, 0, 800, 280_000), bid(3, 1, 100, 60_000)],
	);
	let out = cleared(&inst);
	assert_eq!(flow(&out, 1), 300);
	// Zone 1 has 1000 Wh for sale at 0.05 and 100 + 300 Wh of use: the ask is marginal.
	assert_eq!(price(&out, 1), Some(50_000));
	assert_eq!(price(&out, 0), Some(280_000), "root price set by its unmet bid");
	assert_eq!(filled(&out, 1), 400);
	assert_eq!(filled(&out, 2), 300);
	assert_eq!(filled(&out, 3), 100);
}

#[test]
fn red_edge_isolates_the_child() {
	let inst = instance(
		vec![root(0), zone(1, Some(0), 0, Some(0))],
		vec![ask(1, 0, 1000, 100_000), bid(2, 1, 500, 300_000), ask(3, 1, 100, 50_000)],
	);
	let out = cleared(&inst);
	assert_eq!(flow(&out, 1), 0);
	// Zone 1 clears on its own: 100 Wh of local supply against 500 Wh of demand.
	assert_eq!(price(&out, 1), Some(300_000));
	assert_eq!((filled(&out, 2), filled(&out, 3)), (100, 100));
	// The substation has a seller and nobody to sell to; its price is the ask's limit.
	assert_eq!(price(&out, 0), Some(100_000));
	assert_eq!(filled(&out, 1), 0);
}

#[test]
fn zone_without_orders_takes_its_parent_price_within_the_fee() {
	let inst = instance(
		vec![root(0), zone(1, Some(0), 5_000, None)],
		vec![bid(1, 0, 100, 300_000), ask(2, 0, 100, 100_000)],
	);
	let out = cleared(&inst);
	assert_eq!(price(&out, 1), price(&out, 0));
	assert_eq!(flow(&out, 1), 0);
}

#[test]
fn slot_without_orders_has_no_prices() {
	let inst = instance(vec![root(0), zone(1, Some(0), 5_000, None)], vec![]);
	let out = cleared(&inst);
	assert_eq!((price(&out, 0), price(&out, 1)), (None, None));
	assert!(out.fills.is_empty());
	assert_eq!((out.welfare, out.dso_revenue, out.remainder), (0, 0, 0));
}

#[test]
fn tie_at_the_margin_is_pro_rata_with_leftover_by_order_id() {
	// Three equal bids want 9 Wh at the price, 7 Wh are for sale: 7·3/9 = 2.33 each, so 2 each
	// and the one leftover Wh goes to the lowest id.
	let inst = instance(
		vec![root(0)],
		vec![
			bid(5, 0, 3, 200_000),
			bid(2, 0, 3, 200_000),
			bid(9, 0, 3, 200_000),
			ask(1, 0, 7, 100_000),
		],
	);
	let out = cleared(&inst);
	assert_eq!(price(&out, 0), Some(200_000));
	assert_eq!([2, 5, 9, 1].map(|o| filled(&out, o)), [3, 2, 2, 7]);

	// Unequal sizes: 11 Wh among 10 + 5 + 5 → 5.5, 2.75, 2.75 → 5, 2, 2 and the two leftover
	// Wh to ids 1 and 3.
	let inst = instance(
		vec![root(0)],
		vec![
			bid(4, 0, 10, 200_000),
			bid(1, 0, 5, 200_000),
			bid(3, 0, 5, 200_000),
			ask(2, 0, 11, 100_000),
		],
	);
	let out = cleared(&inst);
	assert_eq!([1, 3, 4].map(|o| filled(&out, o)), [3, 3, 5]);
}

#[test]
fn tie_between_sellers_is_pro_rata() {
	let inst = instance(
		vec![root(0)],
		vec![ask(8, 0, 6, 100_000), ask(3, 0, 2, 100_000), bid(1, 0, 5, 300_000)],
	);
	let out = cleared(&inst);
	assert_eq!(price(&out, 0), Some(100_000));
	// 5 of 8: 3.75 and 1.25 → 3 and 1, the leftover Wh to id 3.
	assert_eq!([3, 8, 1].map(|o| filled(&out, o)), [2, 3, 5]);
}

#[test]
fn pay_as_bid_keeps_the_fills_and_gives_the_spread_to_the_community() {
	let mut inst = instance(
		vec![root(0), zone(1, Some(0), 20_000, None)],
		vec![ask(1, 0, 1000, 100_000), bid(2, 1, 500, 300_000)],
	);
	let clear_out = cleared(&inst);
	inst.pricing = Pricing::PayAsBid;
	let out = cleared(&inst);
	assert_eq!(
		out.fills.iter().map(|f| f.energy_wh).collect::<Vec<_>>(),
		clear_out.fills.iter().map(|f| f.energy_wh).collect::<Vec<_>>()
	);
	assert_eq!(out.flows, clear_out.flows);
	assert_eq!(out.zone_prices, clear_out.zone_prices);
	assert_eq!(out.fills[0].price_per_kwh, 100_000);
	assert_eq!(out.fills[1].price_per_kwh, 300_000);
	assert_eq!(out.payments, 150_000);
	assert_eq!(out.receipts, 50_000);
	assert_eq!(out.dso_revenue, 10_000, "fees only");
	assert_eq!(out.remainder, 90_000, "the spread");
	assert_eq!(out.welfare, clear_out.welfare);
}

#[test]
fn negative_limits_clear_at_a_negative_price() {
	// Midday PV surplus: sellers pay up to 0.05 to get rid of energy, a battery takes 40 Wh if
	// paid at least 0.02.
	let inst = instance(vec![root(0)], vec![ask(1, 0, 100, -50_000), bid(2, 0, 40, -20_000)]);
	let out = cleared(&inst);
	assert_eq!(price(&out, 0), Some(-50_000));
	assert_eq!((filled(&out, 1), filled(&out, 2)), (40, 40));
	assert_eq!(out.payments, -2_000, "the bid is paid");
	assert_eq!(out.receipts, -2_000, "the ask pays");
	assert_eq!(out.welfare, 1_200);
}

#[test]
fn rounding_favours_the_community_at_negative_prices_too() {
	// 1 Wh at −1500 per kWh is −1.5 units: the bid is paid ceil(−1.5) = −1, the ask pays
	// floor(−1.5) = −2, and the unit in between stays with the community.
	let inst = instance(vec![root(0)], vec![ask(1, 0, 1, -1_500), bid(2, 0, 1, -1_500)]);
	let out = cleared(&inst);
	assert_eq!(price(&out, 0), Some(-1_500));
	assert_eq!((out.fills[0].amount, out.fills[1].amount), (-2, -1));
	assert_eq!(out.remainder, 1);
}

#[test]
fn deeper_tree_routes_through_the_cheapest_path() {
	// Substation 0 with feeders 1 and 2, street 3 under feeder 1. Cheap PV in 3, demand in 2:
	// energy goes 3 → 1 → 0 → 2 and pays three fees.
	let inst = instance(
		vec![
			root(0),
			zone(1, Some(0), 1_000, None),
			zone(2, Some(0), 2_000, Some(40)),
			zone(3, Some(1), 3_000, None),
		],
		vec![
			ask(1, 3, 100, 50_000),
			bid(2, 2, 60, 200_000),
			bid(3, 0, 30, 60_000),
			ask(4, 0, 10, 190_000),
		],
	);
	let out = cleared(&inst);
	assert_eq!(flow(&out, 2), -40, "feeder 2 is full");
	assert_eq!(flow(&out, 3), 70);
	assert_eq!(flow(&out, 1), 70);
	assert_eq!(filled(&out, 3), 30);
	assert_eq!(filled(&out, 4), 0);
	// Supply in 3 is marginal, so 3 prices at the ask's limit, 1 and 0 add their fees.
	assert_eq!(price(&out, 3), Some(50_000));
	assert_eq!(price(&out, 1), Some(53_000));
	assert_eq!(price(&out, 0), Some(54_000));
}

#[test]
fn same_instance_listed_in_another_order_gives_the_same_result() {
	let zones = vec![
		root(10),
		zone(4, Some(10), 1_000, Some(50)),
		zone(7, Some(10), 0, None),
		zone(2, Some(4), 500, None),
	];
	let orders = vec![
		bid(1, 2, 30, 150_000),
		ask(2, 7, 80, 90_000),
		bid(3, 10, 20, 150_000),
		ask(4, 2, 10, 150_000),
		bid(5, 4, 25, 150_000),
		ask(6, 10, 40, 150_000),
	];
	let a = cleared(&instance(zones.clone(), orders.clone()));
	let mut zones_rev = zones;
	zones_rev.reverse();
	let mut orders_rot = orders;
	orders_rot.rotate_left(4);
	let b = cleared(&instance(zones_rev, orders_rot));
	assert_eq!(a, b);
}

fn refused(zones: Vec<lem_clearing::Zone>, orders: Vec<lem_clearing::Order>) -> Error {
	clear(&instance(zones, orders)).expect_err("instance is refused")
}

#[test]
fn every_broken_rule_is_a_named_error() {
	let ok_zones = || vec![root(0), zone(1, Some(0), 10, None)];
	assert_eq!(refused(vec![], vec![]), Error::NoRoot);
	assert_eq!(
		refused(vec![zone(1, Some(2), 0, None), zone(2, Some(1), 0, None)], vec![]),
		Error::NoRoot
	);
	assert_eq!(refused(vec![root(5), root(3)], vec![]), Error::SecondRoot { first: 3, second: 5 });
	assert_eq!(
		refused(vec![root(0), zone(1, Some(0), 0, None), zone(1, Some(0), 0, None)], vec![]),
		Error::DuplicateZone { zone: 1 }
	);
	assert_eq!(
		refused(vec![root(0), zone(1, Some(9), 0, None)], vec![]),
		Error::UnknownParent { zone: 1, parent: 9 }
	);
	assert_eq!(
		refused(
			vec![
				root(0),
				zone(1, Some(0), 0, None),
				zone(4, Some(3), 0, None),
				zone(3, Some(2), 0, None),
				zone(2, Some(4), 0, None),
			],
			vec![]
		),
		Error::ParentCycle { zone: 2 }
	);
	assert_eq!(
		refused(vec![root(0), zone(1, Some(1), 0, None)], vec![]),
		Error::ParentCycle { zone: 1 }
	);
	assert_eq!(refused(vec![zone(0, None, 5, None)], vec![]), Error::RootEdge { zone: 0 });
	assert_eq!(refused(vec![zone(0, None, 0, Some(10))], vec![]), Error::RootEdge { zone: 0 });
	assert_eq!(
		refused(vec![root(0), zone(1, Some(0), -1, None)], vec![]),
		Error::NegativeFee { zone: 1, fee_per_kwh: -1 }
	);
	assert_eq!(
		refused(vec![root(0), zone(1, Some(0), (1 << 48) + 1, None)], vec![]),
		Error::FeeOutOfRange { zone: 1, fee_per_kwh: (1 << 48) + 1 }
	);
	assert_eq!(refused((0..4097).map(root).collect(), vec![]), Error::TooManyZones { count: 4097 });
	assert_eq!(
		refused(ok_zones(), vec![bid(3, 0, 1, 1), ask(3, 1, 1, 1)]),
		Error::DuplicateOrder { order: 3 }
	);
	assert_eq!(
		refused(ok_zones(), vec![bid(3, 9, 1, 1)]),
		Error::UnknownZone { order: 3, zone: 9 }
	);
	assert_eq!(refused(ok_zones(), vec![bid(3, 1, 0, 1)]), Error::ZeroEnergy { order: 3 });
	assert_eq!(
		refused(ok_zones(), vec![ask(3, 1, MAX_ENERGY_WH + 1, 1)]),
		Error::EnergyOutOfRange { order: 3, energy_wh: MAX_ENERGY_WH + 1 }
	);
	assert_eq!(
		refused(ok_zones(), vec![ask(3, 1, 1, -MAX_PRICE_PER_KWH - 1)]),
		Error::LimitOutOfRange { order: 3, limit_per_kwh: -MAX_PRICE_PER_KWH - 1 }
	);
	assert_eq!(
		refused(ok_zones(), vec![ask(3, 1, 1, i64::MIN)]),
		Error::LimitOutOfRange { order: 3, limit_per_kwh: i64::MIN }
	);
	let many: Vec<_> = (0..(1u64 << 14) + 1).map(|i| bid(i, 0, MAX_ENERGY_WH, 1)).collect();
	assert_eq!(
		refused(ok_zones(), many),
		Error::TotalEnergyOutOfRange { total_wh: ((1u128 << 14) + 1) << 48 }
	);
}

#[test]
fn errors_do_not_depend_on_input_order() {
	let a = refused(vec![root(0)], vec![bid(9, 7, 1, 1), bid(2, 8, 1, 1)]);
	let b = refused(vec![root(0)], vec![bid(2, 8, 1, 1), bid(9, 7, 1, 1)]);
	assert_eq!(a, b);
	assert_eq!(a, Error::UnknownZone { order: 2, zone: 8 });
}

#[test]
fn extreme_values_within_bounds_clear_without_overflow() {
	let max_e = MAX_ENERGY_WH;
	let max_p = MAX_PRICE_PER_KWH;
	let mut zones = vec![root(0)];
	// A deep chain of maximal fees: prices at the bottom are far beyond any limit.
	for z in 1..64u32 {
		zones.push(zone(z, Some(z - 1), lem_clearing::MAX_FEE_PER_KWH, None));
	}
	let inst = instance(
		zones,
		vec![
			bid(1, 63, max_e, max_p),
			ask(2, 0, max_e, -max_p),
			bid(3, 0, max_e, max_p),
			ask(4, 63, max_e, -max_p),
			ask(5, 30, max_e, max_p),
		],
	);
	let out = clear(&inst).expect("clears");
	check_rules(&inst, &out);
	assert_eq!((filled(&out, 3), filled(&out, 4)), (max_e, max_e));
}
