//! Random slots against an independent LP: the engine's welfare must equal the LP optimum, and
//! every rule of DESIGN.md "Clearing" must hold on every instance, in either pricing and
//! whatever order the zones and orders are listed in.

mod common;

use common::*;
use lem_clearing::{clear, Instance, Order, Pricing, Side, Zone};
use proptest::prelude::*;

/// Limits cluster on a few values so that ties at the margin are common; the rest spread over
/// negative and positive prices.
fn limit() -> impl Strategy<Value = i64> {
	prop_oneof![
		3 => prop::sample::select(vec![-40i64, 0, 100, 150, 200, 250]),
		2 => -60i64..=300,
	]
}

/// Fees of zero (the split of a straddling step), small and large; capacities unlimited,
/// closed (red), tight enough to bind, and loose.
fn edge() -> impl Strategy<Value = (i64, Option<u64>)> {
	let fee = prop_oneof![Just(0i64), 1i64..=20, 30i64..=120];
	let cap = prop_oneof![
		2 => Just(None),
		1 => Just(Some(0u64)),
		3 => (1u64..=40).prop_map(Some),
		1 => (100u64..=400).prop_map(Some),
	];
	(fee, cap)
}

#[derive(Clone, Debug)]
struct Case {
	inst: Instance,
	/// Seed of the permutation the determinism check lists the instance in.
	shuffle: u64,
}

/// A random tree of `1..=max_zones` zones (zone i hangs below a random earlier zone, ids are
/// sparse and permuted) with up to `max_orders` orders.
fn case(max_zones: usize, max_orders: usize) -> impl Strategy<Value = Case> {
	(1..=max_zones)
		.prop_flat_map(move |n| {
			let parents: Vec<_> = (1..n).map(|i| 0..i).collect();
			let edges = prop::collection::vec(edge(), n);
			let ids = Just((0..n as u32).map(|i| i * 3 + 1).collect::<Vec<_>>()).prop_shuffle();
			let orders = prop::collection::vec(
				(any::<bool>(), 0..n, 1u64..=60, limit(), 0u64..1000),
				0..=max_orders,
			);
			let pricing = prop_oneof![Just(Pricing::PayAsClear), Just(Pricing::PayAsBid)];
			(parents, edges, ids, orders, pricing, any::<u64>())
		})
		.prop_map(|(parents, edges, ids, orders, pricing, shuffle)| {
			let zones = (0..ids.len())
				.map(|i| Zone {
					id: ids[i],
					parent: (i > 0).then(|| ids[parents[i - 1]]),
					fee_per_kwh: if i > 0 { edges[i].0 } else { 0 },
					capacity_wh: if i > 0 { edges[i].1 } else { None },
				})
				.collect();
			let orders = orders
				.into_iter()
				.enumerate()
				.map(|(k, (is_bid, z, energy_wh, limit, salt))| Order {
					// Unique, sparse and unrelated to the listing order.
					id: (k as u64) * 1000 + salt,
					side: if is_bid { Side::Bid } else { Side::Ask },
					zone: ids[z],
					energy_wh,
					limit_per_kwh: limit,
				})
				.collect();
			Case { inst: Instance { zones, orders, pricing }, shuffle }
		})
}

/// Fisher–Yates with a fixed-seed generator (SplitMix64), so a failing case replays exactly.
fn shuffled<T: Clone>(items: &[T], seed: &mut u64) -> Vec<T> {
	let mut v = items.to_vec();
	for i in (1..v.len()).rev() {
		*seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = *seed;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^= z >> 31;
		v.swap(i, (z % (i as u64 + 1)) as usize);
	}
	v
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
	let inst = &case.inst;
	let out = clear(inst).map_err(|e| TestCaseError::fail(format!("refused: {e}")))?;
	check_rules(inst, &out);

	let ours = gains(inst, &out) as f64;
	let lp = lp_optimum(inst);
	prop_assert!(
		(ours - lp).abs() <= 1e-6 * lp.abs().max(1.0),
		"welfare ×1000: engine {} vs LP {}",
		ours,
		lp
	);

	let mut seed = case.shuffle;
	let listed_otherwise = Instance {
		zones: shuffled(&inst.zones, &mut seed),
		orders: shuffled(&inst.orders, &mut seed),
		pricing: inst.pricing,
	};
	prop_assert_eq!(&clear(&listed_otherwise).unwrap(), &out, "depends on listing order");

	// The other pricing rule gives the same fills, flows and zone prices.
	let other = Instance {
		pricing: match inst.pricing {
			Pricing::PayAsClear => Pricing::PayAsBid,
			Pricing::PayAsBid => Pricing::PayAsClear,
		},
		..inst.clone()
	};
	let out2 = clear(&other).unwrap();
	check_rules(&other, &out2);
	prop_assert_eq!(&out2.zone_prices, &out.zone_prices);
	prop_assert_eq!(&out2.flows, &out.flows);
	let energies =
		|o: &lem_clearing::Outcome| o.fills.iter().map(|f| f.energy_wh).collect::<Vec<_>>();
	prop_assert_eq!(energies(&out2), energies(&out));
	prop_assert_eq!(out2.welfare, out.welfare);
	Ok(())
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

	#[test]
	fn one_zone_matches_the_lp(case in case(1, 60)) {
		check_case(&case)?;
	}

	#[test]
	fn trees_up_to_20_zones_match_the_lp(case in case(20, 50)) {
		check_case(&case)?;
	}

	#[test]
	fn small_trees_with_many_ties_match_the_lp(case in case(4, 30)) {
		check_case(&case)?;
	}
}
