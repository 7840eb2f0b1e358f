//! Net supply of a zone's subtree as a function of the price in that zone.
//!
//! Net supply S(p) is what the subtree sells minus what it buys when its zone's price is p, with
//! every edge below it used optimally. It is a nondecreasing step correspondence: an ask with
//! limit a adds a step of its energy at a (it starts selling there), a bid with limit b adds a
//! step at b (it stops buying there). At a step's price S is the whole interval between the
//! value below and the value above, because the marginal orders there may be filled in part.

use alloc::vec::Vec;

/// A price step: (price per kWh, increase of net supply in Wh at that price).
pub(crate) type Step = (i64, i64);

#[derive(Clone, Debug, Default)]
pub(crate) struct Curve {
	/// Value below every step (at p = −∞): minus all bids that are not cut off by an edge.
	base: i64,
	/// Step prices, strictly increasing.
	prices: Vec<i64>,
	/// `after[i]`: the value once the step at `prices[i]` is passed; strictly increasing.
	after: Vec<i64>,
}

impl Curve {
	/// Builds from steps sorted by strictly increasing price with positive increments.
	pub fn from_steps(base: i64, steps: &[Step]) -> Curve {
		let mut prices = Vec::with_capacity(steps.len());
		let mut after = Vec::with_capacity(steps.len());
		let mut v = base;
		for &(p, inc) in steps {
			debug_assert!(prices.last().is_none_or(|&q| q < p) && inc > 0);
			v += inc;
			prices.push(p);
			after.push(v);
		}
		Curve { base, prices, after }
	}

	pub fn len(&self) -> usize {
		self.prices.len()
	}

	/// Value at p = +∞: all asks that are not cut off by an edge.
	pub fn top(&self) -> i64 {
		self.after.last().copied().unwrap_or(self.base)
	}

	/// Lower end of S(p): the value with every step strictly below p passed.
	pub fn below(&self, p: i64) -> i64 {
		match self.prices.partition_point(|&q| q < p) {
			0 => self.base,
			k => self.after[k - 1],
		}
	}

	/// Upper end of S(p): the value with every step at or below p passed.
	pub fn upto(&self, p: i64) -> i64 {
		match self.prices.partition_point(|&q| q <= p) {
			0 => self.base,
			k => self.after[k - 1],
		}
	}

	/// The prices p with x ∈ S(p), as an interval `(lowest, highest)` where `None` is
	/// unbounded; `None` overall if x is outside the curve's range.
	///
	/// The set is an interval because S is monotone: it starts at the first step whose upper
	/// end reaches x and ends at the first step whose upper end exceeds x.
	pub fn prices_netting(&self, x: i64) -> Option<(Option<i64>, Option<i64>)> {
		if x < self.base || x > self.top() {
			return None;
		}
		let lowest = if self.base == x {
			None
		} else {
			Some(self.prices[self.after.partition_point(|&v| v < x)])
		};
		let highest = if self.top() == x {
			None
		} else {
			Some(self.prices[self.after.partition_point(|&v| v <= x)])
		};
		Some((lowest, highest))
	}

	/// Appends the steps of this subtree's export over its edge, seen at the parent's price,
	/// to `out` (sorted by price, equal prices combined) and returns the export's base.
	///
	/// At parent price p the subtree exports max(0, S(p − fee)) (it sells at p − fee because
	/// the fee is paid on top) and imports min(0, S(p + fee)) (it buys at p + fee), both cut
	/// at ±capacity. So the part of the curve below zero moves down by the fee, the part above
	/// zero moves up by it (a step that straddles zero is split in two), and the curve is cut
	/// at ±capacity. The shift keeps the steps sorted: import steps lie below the zero crossing
	/// and move down, export steps lie above it and move up.
	pub fn export_steps(&self, fee: i64, cap: i64, out: &mut Vec<Step>) -> i64 {
		let base = self.base.max(-cap);
		if cap == 0 {
			// A red edge: the subtree is an island.
			return 0;
		}
		let mut push = |p: i64, inc: i64| match out.last_mut() {
			Some(last) if last.0 == p => last.1 += inc,
			_ => out.push((p, inc)),
		};
		// Skip steps that lie wholly below −capacity: the cut hides them.
		let first = self.after.partition_point(|&v| v <= -cap);
		let mut before = if first == 0 { self.base } else { self.after[first - 1] };
		for i in first..self.prices.len() {
			if before >= cap {
				break;
			}
			let (q, after) = (self.prices[i], self.after[i]);
			let import = after.min(0) - before.max(-cap);
			if import > 0 {
				push(q - fee, import);
			}
			let export = after.min(cap) - before.max(0);
			if export > 0 {
				push(q + fee, export);
			}
			before = after;
		}
		base
	}

	/// The export over the edge at parent price p, as the interval (lower, upper) — the same
	/// correspondence as [`Curve::export_steps`] describes, evaluated at one price.
	pub fn export_at(&self, fee: i64, cap: i64, p: i64) -> (i64, i64) {
		// For fee > 0 at most one of the two terms is non-zero (S(p − fee) ≤ S(p + fee)); for
		// fee = 0 they are the same value split into its two signs.
		let t = |a: i64, b: i64| (a.max(0) + b.min(0)).clamp(-cap, cap);
		(t(self.below(p - fee), self.below(p + fee)), t(self.upto(p - fee), self.upto(p + fee)))
	}
}

/// Merges price-sorted step lists (each with strictly increasing prices) into one, adding the
/// increments of equal prices. Pairwise in rounds, so n steps in k lists cost O(n log k).
pub(crate) fn merge_all(mut lists: Vec<Vec<Step>>) -> Vec<Step> {
	lists.retain(|l| !l.is_empty());
	while lists.len() > 1 {
		let mut next = Vec::with_capacity(lists.len().div_ceil(2));
		let mut it = lists.into_iter();
		while let Some(a) = it.next() {
			match it.next() {
				Some(b) => next.push(merge(&a, &b)),
				None => next.push(a),
			}
		}
		lists = next;
	}
	lists.pop().unwrap_or_default()
}

fn merge(a: &[Step], b: &[Step]) -> Vec<Step> {
	let mut out = Vec::with_capacity(a.len() + b.len());
	let (mut i, mut j) = (0, 0);
	while i < a.len() && j < b.len() {
		let (pa, pb) = (a[i].0, b[j].0);
		if pa < pb {
			out.push(a[i]);
			i += 1;
		} else if pb < pa {
			out.push(b[j]);
			j += 1;
		} else {
			out.push((pa, a[i].1 + b[j].1));
			i += 1;
			j += 1;
		}
	}
	out.extend_from_slice(&a[i..]);
	out.extend_from_slice(&b[j..]);
	out
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;

	#[test]
	fn export_splits_the_step_straddling_zero_and_shifts_each_part_by_the_fee() {
		// One bid of 10 at 50, one ask of 30 at 40: S = −10, +30 at 40 → 20, +10 at 50 → 30.
		let c = Curve::from_steps(-10, &[(40, 30), (50, 10)]);
		let mut out = Vec::new();
		let base = c.export_steps(5, 25, &mut out);
		assert_eq!(base, -10);
		// The step at 40 from −10 to 20 splits into an import part (10 at 35) and an export
		// part (20 at 45); the step at 50 is cut at 25 (5 at 55).
		assert_eq!(out, vec![(35, 10), (45, 20), (55, 5)]);
		assert_eq!(c.export_at(5, 25, 35), (-10, 0));
		assert_eq!(c.export_at(5, 25, 40), (0, 0));
		assert_eq!(c.export_at(5, 25, 45), (0, 20));
		assert_eq!(c.export_at(5, 25, 55), (20, 25));
		assert_eq!(c.export_at(5, 25, 1000), (25, 25));
	}

	#[test]
	fn red_edge_exports_nothing() {
		let c = Curve::from_steps(-10, &[(40, 30)]);
		let mut out = Vec::new();
		assert_eq!(c.export_steps(0, 0, &mut out), 0);
		assert!(out.is_empty());
		assert_eq!(c.export_at(0, 0, 40), (0, 0));
	}

	#[test]
	fn prices_netting_is_the_interval_where_the_value_is_reached() {
		let c = Curve::from_steps(-10, &[(40, 10), (50, 10)]);
		assert_eq!(c.prices_netting(0), Some((Some(40), Some(50))));
		assert_eq!(c.prices_netting(-5), Some((Some(40), Some(40))));
		assert_eq!(c.prices_netting(-10), Some((None, Some(40))));
		assert_eq!(c.prices_netting(10), Some((Some(50), None)));
		assert_eq!(c.prices_netting(11), None);
		assert_eq!(Curve::from_steps(0, &[]).prices_netting(0), Some((None, None)));
	}

	#[test]
	fn merge_adds_equal_prices() {
		let m = merge_all(vec![vec![(1, 1), (3, 1)], vec![(2, 5), (3, 2)], vec![], vec![(0, 1)]]);
		assert_eq!(m, vec![(0, 1), (1, 1), (2, 5), (3, 3)]);
	}
}
