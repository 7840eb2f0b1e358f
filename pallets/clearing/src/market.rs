//! Validation of an instance into the engine's sorted, index-based form.

use alloc::vec;
use alloc::vec::Vec;

use crate::{
	Error, Order, OrderId, Side, Zone, ZoneId, MAX_ENERGY_WH, MAX_FEE_PER_KWH, MAX_PRICE_PER_KWH,
	MAX_TOTAL_ENERGY_WH, MAX_ZONES,
};

/// Marks "no parent" in `Market::parent`, so the hot loops work on plain indices.
pub(crate) const NONE: usize = usize::MAX;

/// An order as the engine sees it: zone resolved to an index, amounts as signed integers
/// (bounded by validation, so the conversions are lossless).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
	pub id: OrderId,
	pub zone: usize,
	pub side: Side,
	pub energy: i64,
	pub limit: i64,
}

/// A validated instance. Zones are indexed in ascending id order and orders are kept in
/// ascending id order, which is what makes the engine independent of the input's order.
pub(crate) struct Market {
	pub zone_ids: Vec<ZoneId>,
	pub parent: Vec<usize>,
	pub fee: Vec<i64>,
	/// Edge capacity; `i64::MAX` stands for unlimited because no flow can reach it (total
	/// energy is at most 2^62 Wh).
	pub cap: Vec<i64>,
	/// Zones root first, every parent before its children.
	pub topo: Vec<usize>,
	/// Children of zone z are `children[child_start[z]..child_start[z + 1]]`, ascending id.
	pub child_start: Vec<usize>,
	pub children: Vec<usize>,
	/// Orders ascending by id.
	pub orders: Vec<Entry>,
	/// Orders of zone z are `book[book_start[z]..book_start[z + 1]]` (indices into `orders`),
	/// ascending by (limit, id); `book_limit` holds their limits for binary search.
	pub book_start: Vec<usize>,
	pub book: Vec<usize>,
	pub book_limit: Vec<i64>,
}

impl Market {
	pub fn new(zones: &[Zone], orders: &[Order]) -> Result<Market, Error> {
		if zones.is_empty() {
			return Err(Error::NoRoot);
		}
		if zones.len() > MAX_ZONES {
			return Err(Error::TooManyZones { count: zones.len() });
		}
		let mut zs: Vec<&Zone> = zones.iter().collect();
		zs.sort_unstable_by_key(|z| z.id);
		if let Some(w) = zs.windows(2).find(|w| w[0].id == w[1].id) {
			return Err(Error::DuplicateZone { zone: w[0].id });
		}
		let zone_ids: Vec<ZoneId> = zs.iter().map(|z| z.id).collect();
		let index_of = |id: ZoneId| zone_ids.binary_search(&id).ok();

		let n = zs.len();
		let mut parent = vec![NONE; n];
		let mut fee = vec![0i64; n];
		let mut cap = vec![i64::MAX; n];
		let mut root: Option<usize> = None;
		for (i, z) in zs.iter().enumerate() {
			if z.fee_per_kwh < 0 {
				return Err(Error::NegativeFee { zone: z.id, fee_per_kwh: z.fee_per_kwh });
			}
			if z.fee_per_kwh > MAX_FEE_PER_KWH {
				return Err(Error::FeeOutOfRange { zone: z.id, fee_per_kwh: z.fee_per_kwh });
			}
			match z.parent {
				None => {
					if z.fee_per_kwh != 0 || z.capacity_wh.is_some() {
						return Err(Error::RootEdge { zone: z.id });
					}
					if let Some(r) = root {
						return Err(Error::SecondRoot { first: zone_ids[r], second: z.id });
					}
					root = Some(i);
				}
				Some(p) => {
					parent[i] =
						index_of(p).ok_or(Error::UnknownParent { zone: z.id, parent: p })?;
					fee[i] = z.fee_per_kwh;
					// Any capacity beyond i64 is as good as unlimited.
					cap[i] =
						z.capacity_wh.map_or(i64::MAX, |c| i64::try_from(c).unwrap_or(i64::MAX));
				}
			}
		}
		let root = root.ok_or(Error::NoRoot)?;

		// Children lists by counting sort over parents; visiting zones in index order keeps
		// each list ascending by id.
		let mut child_start = vec![0usize; n + 1];
		for &p in &parent {
			if p != NONE {
				child_start[p + 1] += 1;
			}
		}
		for i in 0..n {
			child_start[i + 1] += child_start[i];
		}
		let mut fill_at = child_start.clone();
		let mut children = vec![0usize; child_start[n]];
		for (i, &p) in parent.iter().enumerate() {
			if p != NONE {
				children[fill_at[p]] = i;
				fill_at[p] += 1;
			}
		}

		// Breadth-first from the root: a zone never reached hangs off a parent cycle.
		let mut topo = Vec::with_capacity(n);
		let mut seen = vec![false; n];
		topo.push(root);
		seen[root] = true;
		let mut head = 0;
		while head < topo.len() {
			let z = topo[head];
			head += 1;
			for &c in &children[child_start[z]..child_start[z + 1]] {
				seen[c] = true;
				topo.push(c);
			}
		}
		if let Some(start) = seen.iter().position(|s| !s) {
			return Err(Error::ParentCycle { zone: zone_ids[lowest_on_cycle(&parent, start)] });
		}

		let mut ords: Vec<&Order> = orders.iter().collect();
		ords.sort_unstable_by_key(|o| o.id);
		if let Some(w) = ords.windows(2).find(|w| w[0].id == w[1].id) {
			return Err(Error::DuplicateOrder { order: w[0].id });
		}
		let mut entries = Vec::with_capacity(ords.len());
		let mut total: u128 = 0;
		for o in ords {
			let zone = index_of(o.zone).ok_or(Error::UnknownZone { order: o.id, zone: o.zone })?;
			if o.energy_wh == 0 {
				return Err(Error::ZeroEnergy { order: o.id });
			}
			if o.energy_wh > MAX_ENERGY_WH {
				return Err(Error::EnergyOutOfRange { order: o.id, energy_wh: o.energy_wh });
			}
			if o.limit_per_kwh.unsigned_abs() > MAX_PRICE_PER_KWH as u64 {
				return Err(Error::LimitOutOfRange { order: o.id, limit_per_kwh: o.limit_per_kwh });
			}
			total += u128::from(o.energy_wh);
			entries.push(Entry {
				id: o.id,
				zone,
				side: o.side,
				energy: o.energy_wh as i64,
				limit: o.limit_per_kwh,
			});
		}
		if total > MAX_TOTAL_ENERGY_WH {
			return Err(Error::TotalEnergyOutOfRange { total_wh: total });
		}

		// Order book per zone: counting sort by zone (stable, so ids stay ascending), then each
		// zone's slice by (limit, id). Sorting (limit, index) pairs is the same as (limit, id)
		// because indices follow ids.
		let mut book_start = vec![0usize; n + 1];
		for e in &entries {
			book_start[e.zone + 1] += 1;
		}
		for i in 0..n {
			book_start[i + 1] += book_start[i];
		}
		let mut fill_at = book_start.clone();
		let mut keyed = vec![(0i64, 0usize); entries.len()];
		for (k, e) in entries.iter().enumerate() {
			keyed[fill_at[e.zone]] = (e.limit, k);
			fill_at[e.zone] += 1;
		}
		for z in 0..n {
			keyed[book_start[z]..book_start[z + 1]].sort_unstable();
		}
		let book_limit = keyed.iter().map(|&(l, _)| l).collect();
		let book = keyed.iter().map(|&(_, k)| k).collect();

		Ok(Market {
			zone_ids,
			parent,
			fee,
			cap,
			topo,
			child_start,
			children,
			orders: entries,
			book_start,
			book,
			book_limit,
		})
	}

	pub fn children(&self, z: usize) -> &[usize] {
		&self.children[self.child_start[z]..self.child_start[z + 1]]
	}

	pub fn book(&self, z: usize) -> core::ops::Range<usize> {
		self.book_start[z]..self.book_start[z + 1]
	}
}

/// From a zone that does not reach the root, parents must loop; returns the lowest index on the
/// loop so the reported zone does not depend on where the walk started.
fn lowest_on_cycle(parent: &[usize], start: usize) -> usize {
	let mut visited = vec![false; parent.len()];
	let mut z = start;
	while !visited[z] {
		visited[z] = true;
		z = parent[z];
	}
	// `z` is now on the loop; walk it once.
	let mut lowest = z;
	let mut w = parent[z];
	while w != z {
		lowest = lowest.min(w);
		w = parent[w];
	}
	lowest
}
