//! Clearing engine of lem: clears one 15-minute slot of the energy community's market.
//!
//! Given the DSO's grid as a tree of [`Zone`]s (each edge to the parent with a fee per kWh and
//! a capacity in Wh per slot) and the slot's [`Order`]s (bids and asks with a limit per kWh),
//! [`clear`] decides how much of each order is accepted, a price per zone and the flow over
//! every edge, such that (DESIGN.md, "Clearing"):
//!
//! 1. welfare — Σ bid limit × accepted − Σ ask limit × accepted − Σ fee × |flow| — is maximal
//!    subject to every zone's balance and every edge's capacity;
//! 2. prices are per zone: no accepted order trades at a price worse than its limit, orders
//!    strictly in the money are filled in full, and prices across an edge differ by at most its
//!    fee unless the edge is full (the difference is then congestion rent);
//! 3. money balances: payments − receipts = DSO revenue + a small rounding remainder;
//! 4. ties at the margin are shared pro rata, leftover Wh by ascending order id, and the result
//!    does not depend on the order in which zones or orders are listed.
//!
//! The crate is `no_std` (with `alloc`), has no dependencies and uses integer arithmetic only,
//! so the runtime, the gateway and the CLI compute bit-identical results. Inputs are bounded
//! (see the `MAX_*` constants) so that no intermediate value can overflow.
//!
//! Units follow DESIGN.md: energy in Wh, prices and fees in the settlement asset's smallest
//! unit per kWh, and `e` Wh at `p` per kWh cost `e·p/1000`.
//!
//! See the crate's README.md for the algorithm and its cost.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod curve;
mod engine;
mod error;
mod market;

use alloc::vec::Vec;

pub use error::Error;

/// Id of a zone of the DSO's grid.
pub type ZoneId = u32;
/// Id of an order; unique within one slot's instance.
pub type OrderId = u64;

/// Largest energy of one order, in Wh (2^48 Wh ≈ 281 TWh: far beyond any slot, small enough
/// that sums and products stay inside i64 and i128).
pub const MAX_ENERGY_WH: u64 = 1 << 48;
/// Largest magnitude of an order's limit, per kWh.
pub const MAX_PRICE_PER_KWH: i64 = 1 << 48;
/// Largest edge fee, per kWh.
pub const MAX_FEE_PER_KWH: i64 = 1 << 48;
/// Largest number of zones. Prices deep in the tree are limits shifted by the fees on the way,
/// so this bound keeps every price below 2^61 in magnitude.
pub const MAX_ZONES: usize = 4096;
/// Largest total energy of all orders of one slot, in Wh; keeps every net supply inside i64.
pub const MAX_TOTAL_ENERGY_WH: u128 = 1 << 62;

/// A zone of the DSO's grid. Every zone but the root has an edge to its parent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Zone {
	/// The zone's id.
	pub id: ZoneId,
	/// The parent zone; `None` for the root (the community's substation).
	pub parent: Option<ZoneId>,
	/// Fee per kWh for energy crossing the edge to the parent, in either direction; the DSO's
	/// traffic-light surcharge is expected to be already included. Must be 0 on the root.
	pub fee_per_kwh: i64,
	/// Capacity of the edge to the parent in Wh per slot, in either direction; `None` means
	/// unlimited, `Some(0)` a closed (red) edge. Must be `None` on the root.
	pub capacity_wh: Option<u64>,
}

/// Whether an order buys or sells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
	/// Buys up to `energy_wh` at a price of at most its limit.
	Bid,
	/// Sells up to `energy_wh` at a price of at least its limit.
	Ask,
}

/// One bid or ask for the slot being cleared. Divisible: any part of `energy_wh` may be
/// accepted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Order {
	/// The order's id; ties at the margin hand out leftover Wh in ascending id.
	pub id: OrderId,
	/// Bid or ask.
	pub side: Side,
	/// Zone the metering point sits in.
	pub zone: ZoneId,
	/// Most energy to trade, in Wh; at least 1.
	pub energy_wh: u64,
	/// Limit price per kWh; may be negative (a seller that pays to get rid of surplus, a
	/// buyer that wants to be paid to take it).
	pub limit_per_kwh: i64,
}

/// How accepted orders are priced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Pricing {
	/// Every accepted order trades at its zone's price; the DSO receives fees and congestion
	/// rent.
	#[default]
	PayAsClear,
	/// Same fills, but every accepted order trades at its own limit; the DSO receives its fees
	/// and the spread goes to the community's remainder account.
	PayAsBid,
}

/// One slot's clearing problem.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Instance {
	/// The grid, in any order; exactly one root.
	pub zones: Vec<Zone>,
	/// The slot's orders, in any order.
	pub orders: Vec<Order>,
	/// Pricing rule of the community.
	pub pricing: Pricing,
}

/// Price of one zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ZonePrice {
	/// The zone.
	pub zone: ZoneId,
	/// Price per kWh; `None` when nothing in the zone's market fixes a price (no orders reach
	/// it). A zone with orders always has a price.
	pub price_per_kwh: Option<i64>,
}

/// Result for one order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fill {
	/// The order.
	pub order: OrderId,
	/// Its side, repeated for the convenience of settlement.
	pub side: Side,
	/// Its zone, repeated for the convenience of settlement.
	pub zone: ZoneId,
	/// Accepted energy in Wh, `0..=energy_wh`.
	pub energy_wh: u64,
	/// Price per kWh the order trades at: its zone's price under pay-as-clear, its own limit
	/// under pay-as-bid (also reported when nothing was accepted).
	pub price_per_kwh: i64,
	/// Money for the accepted energy: what a bid pays, rounded up, or what an ask receives,
	/// rounded down, so rounding never costs the community. Negative when the price is.
	pub amount: i128,
}

/// Energy over the edge from a zone to its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flow {
	/// The child zone of the edge.
	pub zone: ZoneId,
	/// Wh towards the parent; negative for energy flowing from the parent into the zone.
	pub energy_wh: i64,
}

/// A cleared slot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Outcome {
	/// Every zone, ascending by id.
	pub zone_prices: Vec<ZonePrice>,
	/// Every order, accepted or not, ascending by id.
	pub fills: Vec<Fill>,
	/// Every zone but the root, ascending by id.
	pub flows: Vec<Flow>,
	/// (Σ bid limit × accepted − Σ ask limit × accepted − Σ fee × |flow|) / 1000, rounded
	/// down: the gains from trade in the settlement asset.
	pub welfare: i128,
	/// Σ of the bids' `amount`.
	pub payments: i128,
	/// Σ of the asks' `amount`.
	pub receipts: i128,
	/// The DSO's revenue. Pay-as-clear: per edge |flow| × the price difference in the flow's
	/// direction / 1000 rounded down (fee plus congestion rent). Pay-as-bid: per edge |flow| ×
	/// fee / 1000 rounded down.
	pub dso_revenue: i128,
	/// payments − receipts − dso_revenue, for the community's remainder account. Never
	/// negative; under pay-as-clear below one unit per order and edge (rounding only).
	pub remainder: i128,
}

/// Clears one slot.
///
/// Validates `instance` (returning the first broken rule, see [`Error`]), then computes the
/// welfare-maximal allocation with prices per zone. Deterministic: the result depends only on
/// the set of zones and orders, not on their order in the vectors. Runs in O(N log N + N·d)
/// for N orders and a tree of depth d.
pub fn clear(instance: &Instance) -> Result<Outcome, Error> {
	let market = market::Market::new(&instance.zones, &instance.orders)?;
	engine::clear(&market, instance.pricing)
}
