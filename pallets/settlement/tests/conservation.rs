//! Property tests of settlement's arithmetic on random slots: a random grid, random ex-ante
//! orders cleared by the real engine, random readings (some missing), corrections of earlier
//! estimates, standing orders, tariffs and pricing. Whatever the slot, money is conserved to
//! the unit, ex-post bids stay within the budget left, every Wh metered or estimated is
//! accounted for by the market or the utility, and an estimate never favours its owner.

use lem_clearing::{Instance, Order, Pricing, Side, Zone};
use pallet_metering::Metered;
use pallet_settlement::compute::{settle, Account, Point, Settled, Slot, Standing};
use proptest::prelude::*;

const ZONES: [u32; 5] = [0, 11, 12, 21, 22];

fn grid(fees: [u64; 6], caps: [Option<u64>; 6]) -> Vec<Zone> {
	let edge = |id, parent, i: usize| Zone {
		id,
		parent: Some(parent),
		fee_per_kwh: fees[i] as i64,
		capacity_wh: caps[i],
	};
	vec![
		Zone { id: 0, parent: None, fee_per_kwh: 0, capacity_wh: None },
		edge(1, 0, 0),
		edge(2, 0, 1),
		edge(11, 1, 2),
		edge(12, 1, 3),
		edge(21, 2, 4),
		edge(22, 2, 5),
	]
}

#[derive(Clone, Debug)]
struct RandomAccount {
	/// Zone index, reading (or, without one, its usual net import) and correction of each
	/// metering point.
	points: Vec<(usize, Result<(u64, u64), u64>, i64)>,
	standing: Option<(u64, u64, u128)>,
	retail_per_kwh: u64,
}

fn account() -> impl Strategy<Value = RandomAccount> {
	(
		prop::collection::vec(
			(
				0..ZONES.len(),
				prop_oneof![4 => (0..6_000u64, 0..6_000u64).prop_map(Ok), 1 => (0..6_000u64).prop_map(Err)],
				prop_oneof![3 => Just(0i64), 1 => -50_000..50_000i64],
			),
			1..3,
		),
		prop::option::of((0..400_000u64, 0..400_000u64, 0..2_000_000u128)),
		0..500_000u64,
	)
		.prop_map(|(points, standing, retail_per_kwh)| RandomAccount {
			points,
			standing,
			retail_per_kwh,
		})
}

/// An ex-ante order: account index, point index, bid or ask, energy, limit.
fn order() -> impl Strategy<Value = (usize, usize, bool, u64, u64)> {
	(0..8usize, 0..2usize, any::<bool>(), 1..5_000u64, 0..400_000u64)
}

/// Builds the slot: ids of metering points are 100·account + point; orders are cleared by the
/// engine and their fills attributed to their points.
fn slot(
	accounts: &[RandomAccount],
	orders: &[(usize, usize, bool, u64, u64)],
	zones: Vec<Zone>,
	pricing: Pricing,
	feed_in_per_kwh: u64,
) -> Slot<usize> {
	let mut slot_accounts: Vec<Account<usize>> = accounts
		.iter()
		.enumerate()
		.map(|(a, r)| Account {
			who: a,
			points: r
				.points
				.iter()
				.enumerate()
				.map(|(p, (zone, reading, correction_wh))| Point {
					id: (100 * a + p) as u64,
					zone: ZONES[*zone],
					metered: reading
						.ok()
						.map(|(import_wh, export_wh)| Metered { import_wh, export_wh }),
					bought_wh: 0,
					sold_wh: 0,
					correction_wh: *correction_wh,
					usual_import_wh: reading.err().unwrap_or(0),
				})
				.collect(),
			ex_ante_amount: 0,
			retail_per_kwh: r.retail_per_kwh,
			feed_in_per_kwh,
			standing: r.standing.map(|(buy, sell, budget)| Standing {
				buy_limit_per_kwh: buy,
				sell_limit_per_kwh: sell,
				budget_left: budget,
			}),
		})
		.collect();
	// Orders of accounts and points that exist, with their owners.
	let placed: Vec<(usize, usize, Order)> = orders
		.iter()
		.enumerate()
		.filter(|(_, (a, p, ..))| *a < accounts.len() && *p < accounts[*a].points.len())
		.map(|(id, &(a, p, bid, energy_wh, limit))| {
			let zone = slot_accounts[a].points[p].zone;
			let side = if bid { Side::Bid } else { Side::Ask };
			(a, p, Order { id: id as u64, side, zone, energy_wh, limit_per_kwh: limit as i64 })
		})
		.collect();
	let instance = Instance {
		zones: zones.clone(),
		orders: placed.iter().map(|(_, _, o)| o.clone()).collect(),
		pricing,
	};
	let outcome = lem_clearing::clear(&instance).expect("valid instance");
	for ((a, p, _), fill) in placed.iter().zip(&outcome.fills) {
		let (account, point) = (&mut slot_accounts[*a], *p);
		match fill.side {
			Side::Bid => {
				account.points[point].bought_wh += fill.energy_wh;
				account.ex_ante_amount -= fill.amount;
			}
			Side::Ask => {
				account.points[point].sold_wh += fill.energy_wh;
				account.ex_ante_amount += fill.amount;
			}
		}
	}
	Slot {
		accounts: slot_accounts,
		zones,
		pricing,
		ex_ante_dso: outcome.dso_revenue,
		ex_ante_remainder: outcome.remainder,
	}
}

fn check(input: &Slot<usize>, settled: &Settled<usize>) -> Result<(), TestCaseError> {
	prop_assert_eq!(settled.imbalance(), 0, "money created or destroyed");
	prop_assert!(settled.dso >= 0 && settled.community >= 0);
	for (account, (_, r)) in input.accounts.iter().zip(&settled.accounts) {
		let budget = account.standing.map_or(0, |s| s.budget_left);
		prop_assert!(r.ex_post_paid <= budget, "ex post paid {} of {}", r.ex_post_paid, budget);
		let missing: Vec<&Point> = account.points.iter().filter(|p| p.metered.is_none()).collect();
		prop_assert_eq!(r.estimated_readings, missing.len() as u32);
		// An estimate took what the point usually takes, at least what it bought, and
		// delivered nothing.
		let estimated: u64 = missing.iter().map(|p| p.bought_wh.max(p.usual_import_wh)).sum();
		let bought_missing: u64 = missing.iter().map(|p| p.bought_wh).sum();
		prop_assert_eq!((r.estimated.import_wh, r.estimated.export_wh), (estimated, 0));
		prop_assert!(r.estimated.import_wh >= bought_missing);
		// Every Wh metered or estimated is bought or sold on the market or with the utility.
		let traded: i128 =
			account.points.iter().map(|p| p.bought_wh as i128 - p.sold_wh as i128).sum();
		let net = r.metered.import_wh as i128 - r.metered.export_wh as i128
			+ r.estimated.import_wh as i128;
		let ex_post = r.ex_post_bought_wh as i128 - r.ex_post_sold_wh as i128;
		let utility = r.from_utility_wh as i128 - r.to_utility_wh as i128;
		prop_assert_eq!(net, traded + ex_post + utility);
		if account.standing.is_none() {
			prop_assert_eq!(r.ex_post_bought_wh + r.ex_post_sold_wh, 0);
		}
		if r.from_utility_wh == 0 && r.to_utility_wh == 0 {
			prop_assert_eq!(r.utility_amount, 0);
		}
		// Never in the owner's favour: without readings it only buys from the utility.
		if missing.len() == account.points.len() {
			prop_assert_eq!(r.to_utility_wh, 0);
			prop_assert!(r.utility_amount <= 0);
		}
		// Corrections are settled with the utility, each way at its tariff.
		let corrected: i64 = account.points.iter().map(|p| p.correction_wh).sum();
		prop_assert_eq!(r.corrected_wh, corrected);
		if account.points.iter().all(|p| p.correction_wh >= 0) {
			prop_assert!(r.correction_amount <= 0);
		}
		if account.points.iter().all(|p| p.correction_wh <= 0) {
			prop_assert!(r.correction_amount >= 0);
		}
	}
	Ok(())
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(512))]

	#[test]
	fn settlement_conserves_money_and_energy(
		accounts in prop::collection::vec(account(), 1..8),
		orders in prop::collection::vec(order(), 0..16),
		fees in prop::array::uniform6(0..30_000u64),
		caps in prop::array::uniform6(prop::option::of(0..8_000u64)),
		pay_as_bid in any::<bool>(),
		feed_in in 0..200_000u64,
	) {
		let pricing = if pay_as_bid { Pricing::PayAsBid } else { Pricing::PayAsClear };
		let input = slot(&accounts, &orders, grid(fees, caps), pricing, feed_in);
		let settled = settle(&input);
		check(&input, &settled)?;
	}
}

/// A metering point in a zone the DSO added after the slot cleared is not on the slot's grid.
/// It settles with the utility; the other points of the slot still trade ex post.
#[test]
fn a_point_off_the_slots_grid_settles_with_the_utility_and_the_others_trade_ex_post() {
	let standing = Standing {
		buy_limit_per_kwh: 300_000,
		sell_limit_per_kwh: 50_000,
		budget_left: 10_000_000,
	};
	let account = |who, id, zone, import_wh, export_wh| Account {
		who,
		points: vec![Point {
			id,
			zone,
			metered: Some(Metered { import_wh, export_wh }),
			bought_wh: 0,
			sold_wh: 0,
			correction_wh: 0,
			usual_import_wh: 0,
		}],
		ex_ante_amount: 0,
		retail_per_kwh: 320_000,
		feed_in_per_kwh: 80_000,
		standing: Some(standing),
	};
	let input = Slot {
		accounts: vec![
			account(0, 1, 11, 1_000, 0),
			account(1, 2, 12, 0, 1_000),
			// Zone 99 is not on the grid below.
			account(2, 3, 99, 0, 1_000),
		],
		zones: grid([0; 6], [None; 6]),
		pricing: Pricing::PayAsClear,
		ex_ante_dso: 0,
		ex_ante_remainder: 0,
	};
	let settled = settle(&input);
	check(&input, &settled).unwrap();
	let [(_, buyer), (_, seller), (_, off_grid)] = &settled.accounts[..] else { panic!() };
	assert_eq!((buyer.ex_post_bought_wh, seller.ex_post_sold_wh), (1_000, 1_000));
	assert_eq!((off_grid.ex_post_sold_wh, off_grid.to_utility_wh), (0, 1_000));
}
