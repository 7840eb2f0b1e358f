//! Checks shared by the hand-written and the property tests: an independent verifier of
//! DESIGN.md's clearing rules and an LP that computes the welfare optimum without the engine.
#![allow(dead_code)]

use std::collections::BTreeMap;

use lem_clearing::{Instance, Order, Outcome, Pricing, Side, Zone, ZoneId};

pub fn zone(id: ZoneId, parent: Option<ZoneId>, fee: i64, cap: Option<u64>) -> Zone {
	Zone { id, parent, fee_per_kwh: fee, capacity_wh: cap }
}

pub fn root(id: ZoneId) -> Zone {
	zone(id, None, 0, None)
}

pub fn bid(id: u64, zone: ZoneId, energy_wh: u64, limit: i64) -> Order {
	Order { id, side: Side::Bid, zone, energy_wh, limit_per_kwh: limit }
}

pub fn ask(id: u64, zone: ZoneId, energy_wh: u64, limit: i64) -> Order {
	Order { id, side: Side::Ask, zone, energy_wh, limit_per_kwh: limit }
}

pub fn instance(zones: Vec<Zone>, orders: Vec<Order>) -> Instance {
	Instance { zones, orders, pricing: Pricing::PayAsClear }
}

fn floor_div(a: i128) -> i128 {
	a.div_euclid(1000)
}

fn ceil_div(a: i128) -> i128 {
	-(-a).div_euclid(1000)
}

/// Σ bid limit × accepted − Σ ask limit × accepted − Σ fee × |flow|, in Wh × price per kWh
/// (the welfare before dividing by 1000), computed from the outcome alone.
pub fn gains(inst: &Instance, out: &Outcome) -> i128 {
	let orders: BTreeMap<u64, &Order> = inst.orders.iter().map(|o| (o.id, o)).collect();
	let zones: BTreeMap<ZoneId, &Zone> = inst.zones.iter().map(|z| (z.id, z)).collect();
	let mut g = 0i128;
	for f in &out.fills {
		let o = orders[&f.order];
		let v = i128::from(f.energy_wh) * i128::from(o.limit_per_kwh);
		g += if o.side == Side::Bid { v } else { -v };
	}
	for f in &out.flows {
		g -= i128::from(zones[&f.zone].fee_per_kwh) * i128::from(f.energy_wh.unsigned_abs());
	}
	g
}

/// Asserts every rule of DESIGN.md "Clearing" on `out`, recomputing everything from the
/// instance and the reported fills, flows and prices. Panics with the broken rule.
pub fn check_rules(inst: &Instance, out: &Outcome) {
	let zones: BTreeMap<ZoneId, &Zone> = inst.zones.iter().map(|z| (z.id, z)).collect();
	let orders: BTreeMap<u64, &Order> = inst.orders.iter().map(|o| (o.id, o)).collect();

	// Shape: every zone priced, every order filled, every edge a flow, all ascending by id.
	let price: BTreeMap<ZoneId, Option<i64>> =
		out.zone_prices.iter().map(|z| (z.zone, z.price_per_kwh)).collect();
	assert_eq!(
		out.zone_prices.iter().map(|z| z.zone).collect::<Vec<_>>(),
		zones.keys().copied().collect::<Vec<_>>(),
		"zone_prices lists every zone once, ascending"
	);
	assert_eq!(
		out.fills.iter().map(|f| f.order).collect::<Vec<_>>(),
		orders.keys().copied().collect::<Vec<_>>(),
		"fills lists every order once, ascending"
	);
	let flow: BTreeMap<ZoneId, i64> = out.flows.iter().map(|f| (f.zone, f.energy_wh)).collect();
	assert_eq!(
		out.flows.iter().map(|f| f.zone).collect::<Vec<_>>(),
		zones.values().filter(|z| z.parent.is_some()).map(|z| z.id).collect::<Vec<_>>(),
		"flows lists every non-root zone once, ascending"
	);

	// Balance: what a zone's orders sell plus what its children send up equals what its
	// orders buy plus what it sends up itself.
	let mut net: BTreeMap<ZoneId, i128> = zones.keys().map(|&z| (z, 0)).collect();
	for f in &out.fills {
		let o = orders[&f.order];
		assert_eq!((f.side, f.zone), (o.side, o.zone), "fill {} side/zone", o.id);
		assert!(f.energy_wh <= o.energy_wh, "order {} over-filled", o.id);
		let e = i128::from(f.energy_wh);
		*net.get_mut(&o.zone).unwrap() += if o.side == Side::Ask { e } else { -e };
	}
	for (&z, &x) in &flow {
		let parent = zones[&z].parent.unwrap();
		*net.get_mut(&z).unwrap() -= i128::from(x);
		*net.get_mut(&parent).unwrap() += i128::from(x);
		if let Some(cap) = zones[&z].capacity_wh {
			assert!(x.unsigned_abs() <= cap, "edge {z}: |flow| {x} over capacity {cap}");
		}
	}
	for (z, n) in net {
		assert_eq!(n, 0, "zone {z} does not balance");
	}

	// Prices: individual rationality, in the money filled in full, out of the money not at
	// all; under pay-as-bid every order trades at its own limit.
	let mut clear_amounts = 0usize;
	for f in &out.fills {
		let o = orders[&f.order];
		let zp = price[&o.zone];
		let zp = zp.unwrap_or_else(|| panic!("zone {} has orders but no price", o.zone));
		let (e, l) = (f.energy_wh, o.limit_per_kwh);
		match o.side {
			Side::Bid => {
				assert!(e == 0 || zp <= l, "bid {} filled above its limit", o.id);
				assert!(l <= zp || e == o.energy_wh, "bid {} in the money not full", o.id);
				assert!(l >= zp || e == 0, "bid {} out of the money filled", o.id);
			}
			Side::Ask => {
				assert!(e == 0 || zp >= l, "ask {} filled below its limit", o.id);
				assert!(l >= zp || e == o.energy_wh, "ask {} in the money not full", o.id);
				assert!(l <= zp || e == 0, "ask {} out of the money filled", o.id);
			}
		}
		let p = match inst.pricing {
			Pricing::PayAsClear => zp,
			Pricing::PayAsBid => l,
		};
		assert_eq!(f.price_per_kwh, p, "order {} price", o.id);
		let v = i128::from(e) * i128::from(p);
		let amount = if o.side == Side::Bid { ceil_div(v) } else { floor_div(v) };
		assert_eq!(f.amount, amount, "order {} amount", o.id);
		if e > 0 {
			clear_amounts += 1;
		}
	}

	// Ties: orders of one side at their zone's price share pro rata (each within one Wh of
	// its exact share), equal sizes favour the lower id, and a zone never leaves both a
	// marginal bid and a marginal ask short (that would trade less than it could).
	// (zone, is bid) → [(order id, energy, accepted)] of the orders whose limit is the price.
	type Marginal = BTreeMap<(ZoneId, bool), Vec<(u64, u64, u64)>>;
	let mut marginal = Marginal::new();
	for f in &out.fills {
		let o = orders[&f.order];
		if Some(o.limit_per_kwh) == price[&o.zone] {
			marginal.entry((o.zone, o.side == Side::Bid)).or_default().push((
				o.id,
				o.energy_wh,
				f.energy_wh,
			));
		}
	}
	for (&(z, is_bid), group) in &marginal {
		for (k, &(i, ei, fi)) in group.iter().enumerate() {
			for &(j, ej, fj) in &group[k + 1..] {
				let (a, b) = (i128::from(fi) * i128::from(ej), i128::from(fj) * i128::from(ei));
				assert!(
					(a - b).abs() < i128::from(ei) + i128::from(ej),
					"zone {z}: orders {i} ({fi}/{ei}) and {j} ({fj}/{ej}) not pro rata"
				);
				if ei == ej {
					assert!(fi >= fj, "zone {z}: leftover Wh to {j} before lower id {i}");
				}
			}
		}
		let short = |g: &Vec<(u64, u64, u64)>| g.iter().any(|&(_, e, f)| f < e);
		if is_bid && short(group) {
			if let Some(asks) = marginal.get(&(z, false)) {
				assert!(!short(asks), "zone {z}: marginal bids and asks both short");
			}
		}
	}

	// Edges: prices differ by at most the fee unless the edge is full, and by at least the fee
	// (exactly, if there is room left) in the direction energy flows.
	let mut dso = 0i128;
	let mut edges_used = 0usize;
	for (&z, &x) in &flow {
		let zone = zones[&z];
		let fee = zone.fee_per_kwh;
		let cap = zone.capacity_wh.map_or(u64::MAX, |c| c);
		let full = x.unsigned_abs() == cap;
		let (pc, pp) = (price[&z], price[&zone.parent.unwrap()]);
		if x != 0 {
			let (pc, pp) = (pc.expect("flowing child priced"), pp.expect("parent priced"));
			// Gain per kWh for moving energy from the sending to the receiving zone.
			let spread = if x > 0 { pp - pc } else { pc - pp };
			assert!(spread >= fee, "edge {z}: flow {x} against a spread {spread} < fee {fee}");
			assert!(full || spread == fee, "edge {z}: rent {spread} on an edge with room");
			edges_used += 1;
			dso += match inst.pricing {
				Pricing::PayAsClear => floor_div(i128::from(x) * i128::from(pp - pc)),
				Pricing::PayAsBid => floor_div(i128::from(x.unsigned_abs()) * i128::from(fee)),
			};
		} else if cap > 0 {
			if let (Some(pc), Some(pp)) = (pc, pp) {
				assert!(
					(pp - pc).abs() <= fee,
					"edge {z}: idle with spread {} > fee {fee}",
					pp - pc
				);
			}
		}
	}

	// Money balances, with a small non-negative remainder under pay-as-clear.
	let payments: i128 = out.fills.iter().filter(|f| f.side == Side::Bid).map(|f| f.amount).sum();
	let receipts: i128 = out.fills.iter().filter(|f| f.side == Side::Ask).map(|f| f.amount).sum();
	assert_eq!(out.payments, payments);
	assert_eq!(out.receipts, receipts);
	assert_eq!(out.dso_revenue, dso, "dso revenue");
	assert_eq!(out.payments - out.receipts - out.dso_revenue - out.remainder, 0, "budget");
	assert!(out.remainder >= 0, "negative remainder {}", out.remainder);
	if inst.pricing == Pricing::PayAsClear {
		assert!(
			out.remainder <= (clear_amounts + edges_used) as i128,
			"remainder {} above one unit per order and edge",
			out.remainder
		);
	}
	assert_eq!(out.welfare, floor_div(gains(inst, out)), "welfare");
}

/// The welfare optimum (in Wh × price per kWh) of the instance as a linear program, solved
/// by microlp: one variable per order's accepted Wh, two per edge (up and down), one balance
/// constraint per zone. Knows nothing of curves or prices.
pub fn lp_optimum(inst: &Instance) -> f64 {
	use microlp::{ComparisonOp, OptimizationDirection, Problem};
	let mut lp = Problem::new(OptimizationDirection::Maximize);
	let mut rows: BTreeMap<ZoneId, Vec<(microlp::Variable, f64)>> =
		inst.zones.iter().map(|z| (z.id, Vec::new())).collect();
	for o in &inst.orders {
		let (coef, sign) = match o.side {
			Side::Bid => (o.limit_per_kwh as f64, -1.0),
			Side::Ask => (-(o.limit_per_kwh as f64), 1.0),
		};
		let v = lp.add_var(coef, (0.0, o.energy_wh as f64));
		rows.get_mut(&o.zone).unwrap().push((v, sign));
	}
	for z in &inst.zones {
		let Some(parent) = z.parent else { continue };
		let cap = z.capacity_wh.map_or(f64::INFINITY, |c| c as f64);
		let fee = z.fee_per_kwh as f64;
		let up = lp.add_var(-fee, (0.0, cap));
		let down = lp.add_var(-fee, (0.0, cap));
		rows.get_mut(&z.id).unwrap().extend([(up, -1.0), (down, 1.0)]);
		rows.get_mut(&parent).unwrap().extend([(up, 1.0), (down, -1.0)]);
	}
	for row in rows.values().filter(|r| !r.is_empty()) {
		lp.add_constraint(row.as_slice(), ComparisonOp::Eq, 0.0);
	}
	lp.solve().expect("the LP solves").into_solution().expect("the LP has an optimum").objective()
}
