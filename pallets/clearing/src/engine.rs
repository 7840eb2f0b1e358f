//! The clearing algorithm: net supply curves bottom-up, prices and fills top-down.
//!
//! Bottom-up, each zone's curve is its own orders' steps plus each child's export curve
//! (the child's curve shifted by the edge fee on either side of its zero crossing and cut at
//! the edge capacity, see [`Curve::export_steps`]). Top-down, the root must net zero; every
//! zone picks a price at which its curve reaches its target inside the interval its parent
//! allows, fills the orders in the money, shares the marginal quantity at that price between
//! its marginal orders and children, and hands each child its export as the child's target.
//! The prices are the dual variables of the welfare LP and every fill and flow satisfies
//! complementary slackness with them, which is why the result is welfare-maximal.

use alloc::vec;
use alloc::vec::Vec;

use crate::curve::{merge_all, Curve, Step};
use crate::market::{Market, NONE};
use crate::{Error, Fill, Flow, Outcome, Pricing, Side, ZonePrice};

/// Who takes part in the marginal quantity at a zone's price.
#[derive(Clone, Copy)]
enum Member {
	/// An order (index into `Market::orders`) whose limit equals the price.
	Order(usize),
	/// A child zone (index) whose export changes at the price.
	Child(usize),
}

/// Price range a zone may take, from its parent: `None` is unbounded.
type Bounds = (Option<i64>, Option<i64>);

pub(crate) fn clear(m: &Market, pricing: Pricing) -> Result<Outcome, Error> {
	let curves = build_curves(m);
	let n = m.zone_ids.len();
	// target[z]: Wh zone z must net (its export to the parent; 0 for the root).
	let mut target = vec![0i64; n];
	let mut bounds: Vec<Bounds> = vec![(None, None); n];
	let mut price: Vec<Option<i64>> = vec![None; n];
	let mut fill = vec![0i64; m.orders.len()];
	let mut sellers: Vec<(Member, i64)> = Vec::new();
	let mut buyers: Vec<(Member, i64)> = Vec::new();
	let mut shares: Vec<i64> = Vec::new();

	for &z in &m.topo {
		let x = target[z];
		let no_price = Error::NoClearingPrice { zone: m.zone_ids[z] };
		let (lowest, highest) = curves[z].prices_netting(x).ok_or(no_price)?;
		let (lower, upper) = bounds[z];
		let lowest = max_bound(lowest, lower);
		let highest = min_bound(highest, upper);
		let p = match (lowest, highest) {
			(Some(a), Some(b)) if a > b => return Err(no_price),
			// Floor of the midpoint: splits the surplus at the margin evenly between the
			// sides and is the same on every machine.
			(Some(a), Some(b)) => Some(a + (b - a) / 2),
			(Some(a), None) => Some(a),
			(None, Some(b)) => Some(b),
			(None, None) => None,
		};
		price[z] = p;
		let Some(p) = p else {
			// The curve is flat at x over every price: no order reaches this zone, so nothing
			// trades here and every child edge carries nothing (a child behind it may still be
			// an island with its own market).
			for &c in m.children(z) {
				target[c] = 0;
				bounds[c] = (None, None);
			}
			continue;
		};

		// Orders strictly in the money fill fully, out of the money not at all; those at p
		// are marginal.
		let book = m.book(z);
		let limits = &m.book_limit[book.clone()];
		let at = book.start + limits.partition_point(|&l| l < p);
		let above = book.start + limits.partition_point(|&l| l <= p);
		for &o in &m.book[book.start..at] {
			if m.orders[o].side == Side::Ask {
				fill[o] = m.orders[o].energy;
			}
		}
		for &o in &m.book[above..book.end] {
			if m.orders[o].side == Side::Bid {
				fill[o] = m.orders[o].energy;
			}
		}
		sellers.clear();
		buyers.clear();
		for &o in &m.book[at..above] {
			let member = (Member::Order(o), m.orders[o].energy);
			match m.orders[o].side {
				Side::Ask => sellers.push(member),
				Side::Bid => buyers.push(member),
			}
		}
		for &c in m.children(z) {
			let (lo, hi) = curves[c].export_at(m.fee[c], m.cap[c], p);
			target[c] = lo;
			// The part of a child's step below zero is import it gives up (buyer-like), the
			// part above zero export it adds (seller-like); with fee 0 one step can be both.
			if lo < 0 && lo < hi {
				buyers.push((Member::Child(c), hi.min(0) - lo));
			}
			if hi > 0 && lo < hi {
				sellers.push((Member::Child(c), hi - lo.max(0)));
			}
		}

		// The marginal quantity: how much of the step at p must be taken to reach x. Sellers
		// go first and buyers give up the rest, which trades the most energy among the
		// equally good splits.
		let marginal = x - curves[z].below(p);
		let sell_total: i64 = sellers.iter().map(|s| s.1).sum();
		let buy_total: i64 = buyers.iter().map(|b| b.1).sum();
		if marginal < 0 || marginal > sell_total + buy_total {
			return Err(no_price);
		}
		let sold = marginal.min(sell_total);
		let bought = buy_total - (marginal - sold);

		pro_rata(sold, sell_total, &sellers, &mut shares);
		for (&(member, _), &q) in sellers.iter().zip(&shares) {
			match member {
				Member::Order(o) => fill[o] = q,
				Member::Child(c) => target[c] += q,
			}
		}
		pro_rata(bought, buy_total, &buyers, &mut shares);
		for (&(member, size), &q) in buyers.iter().zip(&shares) {
			match member {
				Member::Order(o) => fill[o] = q,
				// Import kept is q, so export rises by the import given up.
				Member::Child(c) => target[c] += size - q,
			}
		}

		for &c in m.children(z) {
			bounds[c] = child_bounds(p, m.fee[c], m.cap[c], target[c]);
		}
	}

	settle(m, pricing, &price, &fill, &target)
}

/// Each zone's net supply curve, children before parents.
fn build_curves(m: &Market) -> Vec<Curve> {
	let mut curves: Vec<Curve> = vec![Curve::default(); m.zone_ids.len()];
	for &z in m.topo.iter().rev() {
		let book = m.book(z);
		let mut base = 0i64;
		let mut own: Vec<Step> = Vec::with_capacity(book.len());
		for &k in &m.book[book] {
			let o = &m.orders[k];
			if o.side == Side::Bid {
				base -= o.energy;
			}
			match own.last_mut() {
				Some(last) if last.0 == o.limit => last.1 += o.energy,
				_ => own.push((o.limit, o.energy)),
			}
		}
		let mut lists = Vec::with_capacity(1 + m.children(z).len());
		lists.push(own);
		for &c in m.children(z) {
			let mut steps = Vec::with_capacity(curves[c].len() + 1);
			base += curves[c].export_steps(m.fee[c], m.cap[c], &mut steps);
			lists.push(steps);
		}
		curves[z] = Curve::from_steps(base, &merge_all(lists));
	}
	curves
}

/// Price interval for a child exporting `x` Wh over an edge with `fee` and `cap` when its
/// parent's price is `p`.
///
/// An edge with room in a direction bounds the child's price on that side: if more could be
/// exported the child's price cannot be below p − fee, if more could be imported it cannot be
/// above p + fee. Actual flow pins the price to the fee: an exporting child sells at p − fee at
/// most, an importing one buys at p + fee at least. A full edge leaves the far side open: the
/// gap beyond the fee is congestion rent.
fn child_bounds(p: i64, fee: i64, cap: i64, x: i64) -> Bounds {
	let mut lower = (x < cap).then_some(p - fee);
	if x < 0 {
		lower = Some(p + fee);
	}
	let mut upper = (x > -cap).then_some(p + fee);
	if x > 0 {
		upper = Some(p - fee);
	}
	(lower, upper)
}

/// Shares `total` among `members` pro rata to their sizes (`size_total` is their sum and at
/// least `total`): each gets the floor of its share, then the leftover Wh go one each to the
/// members in list order (orders by ascending id, then children by ascending id).
fn pro_rata(total: i64, size_total: i64, members: &[(Member, i64)], out: &mut Vec<i64>) {
	out.clear();
	if total == size_total {
		out.extend(members.iter().map(|m| m.1));
		return;
	}
	let mut left = total;
	for &(_, size) in members {
		// size·total < 2^124: no overflow in i128; the quotient is below size.
		let q = (i128::from(size) * i128::from(total) / i128::from(size_total)) as i64;
		out.push(q);
		left -= q;
	}
	// left < members.len() and each floor is below its size, so one more Wh always fits.
	for q in out.iter_mut().take(left as usize) {
		*q += 1;
	}
}

fn max_bound(a: Option<i64>, b: Option<i64>) -> Option<i64> {
	match (a, b) {
		(Some(a), Some(b)) => Some(a.max(b)),
		(a, None) => a,
		(None, b) => b,
	}
}

fn min_bound(a: Option<i64>, b: Option<i64>) -> Option<i64> {
	match (a, b) {
		(Some(a), Some(b)) => Some(a.min(b)),
		(a, None) => a,
		(None, b) => b,
	}
}

/// e Wh at p per kWh, rounded down: what an ask receives.
fn amount_floor(e: i64, p: i64) -> i128 {
	(i128::from(e) * i128::from(p)).div_euclid(1000)
}

/// e Wh at p per kWh, rounded up: what a bid pays.
fn amount_ceil(e: i64, p: i64) -> i128 {
	-(-(i128::from(e) * i128::from(p))).div_euclid(1000)
}

/// Money and the report. Bounds: |e·p| < 2^62·2^61, and every sum is over at most 2^62 Wh
/// in total, so all of it fits i128.
fn settle(
	m: &Market,
	pricing: Pricing,
	price: &[Option<i64>],
	fill: &[i64],
	flow: &[i64],
) -> Result<Outcome, Error> {
	let mut fills = Vec::with_capacity(m.orders.len());
	let mut payments = 0i128;
	let mut receipts = 0i128;
	// Welfare in amount·1000 (Wh × price per kWh), divided once at the end.
	let mut gains = 0i128;
	for (o, &e) in m.orders.iter().zip(fill) {
		let p = match pricing {
			// A zone with an order always has a price: the order's step bounds the zone's
			// price set on at least one side.
			Pricing::PayAsClear => {
				price[o.zone].ok_or(Error::NoClearingPrice { zone: m.zone_ids[o.zone] })?
			}
			Pricing::PayAsBid => o.limit,
		};
		let amount = match o.side {
			Side::Bid => {
				gains += i128::from(e) * i128::from(o.limit);
				let a = amount_ceil(e, p);
				payments += a;
				a
			}
			Side::Ask => {
				gains -= i128::from(e) * i128::from(o.limit);
				let a = amount_floor(e, p);
				receipts += a;
				a
			}
		};
		fills.push(Fill {
			order: o.id,
			side: o.side,
			zone: m.zone_ids[o.zone],
			energy_wh: e as u64,
			price_per_kwh: p,
			amount,
		});
	}

	let mut flows = Vec::with_capacity(m.zone_ids.len().saturating_sub(1));
	let mut dso_revenue = 0i128;
	for (z, &x) in flow.iter().enumerate() {
		let parent = m.parent[z];
		if parent == NONE {
			continue;
		}
		flows.push(Flow { zone: m.zone_ids[z], energy_wh: x });
		gains -= i128::from(m.fee[z]) * i128::from(x.unsigned_abs());
		if x == 0 {
			continue;
		}
		dso_revenue += match pricing {
			// Energy bought at the sending zone's price and sold at the receiving zone's:
			// the difference is the fee plus any congestion rent.
			Pricing::PayAsClear => {
				let missing = Error::NoClearingPrice { zone: m.zone_ids[z] };
				let child = price[z].ok_or(missing)?;
				let up = price[parent].ok_or(missing)?;
				amount_floor(x, up - child)
			}
			Pricing::PayAsBid => amount_floor(x.abs(), m.fee[z]),
		};
	}

	let zone_prices = m
		.zone_ids
		.iter()
		.zip(price)
		.map(|(&zone, &price_per_kwh)| ZonePrice { zone, price_per_kwh })
		.collect();

	Ok(Outcome {
		zone_prices,
		fills,
		flows,
		welfare: gains.div_euclid(1000),
		payments,
		receipts,
		dso_revenue,
		remainder: payments - receipts - dso_revenue,
	})
}
