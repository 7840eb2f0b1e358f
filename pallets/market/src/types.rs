//! The market's domain types: community parameters, roles, the grid, participants, orders and
//! cleared slots. All of them are plain SCALE types so that the runtime API, the gateway and the
//! app decode the same bytes the chain stores.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::ConstU32, BoundedVec};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};

pub use lem_clearing::{OrderId, ZoneId};

/// A 15-minute (in production) interval of UTC: `slot = unix_seconds / slot_seconds`.
pub type Slot = u64;

/// A metering point's id, as the manager registers it. The mapping to a real-world meter (and
/// to the person behind it) stays off the chain.
pub type MeteringPointId = u64;

/// Most zones in the DSO's grid.
pub const MAX_ZONES: u32 = 64;
/// Most orders in one slot any community may allow: a town's, two per metering point of
/// [`MAX_COMMUNITY_METERING_POINTS`]. Clearing spreads over blocks but runs the engine once
/// over all of them, so the engine's run at this size is benchmarked; a community sets its
/// own limit (`max_orders_per_slot`), which genesis checks fits a block's share.
pub const MAX_ORDERS_PER_SLOT: u32 = 20_000;
/// Most fills one call of the `fills` runtime API returns: a page, so that no call reads an
/// unbounded part of the state.
pub const MAX_PAGE_FILLS: u32 = 1_024;
/// Most orders one account may have in one slot.
pub const MAX_ORDERS_PER_ACCOUNT: u32 = 16;
/// Most metering points of one participant.
pub const MAX_METERING_POINTS: u32 = 8;
/// Most metering points any community may have: a town or a substation's area. Settlement
/// visits every one of them a page at a time but clears their ex-post orders in one run, which
/// is benchmarked at this size; a community sets its own limit (`max_metering_points`).
pub const MAX_COMMUNITY_METERING_POINTS: u32 = 10_000;
/// Highest limit price, fee or surcharge, per kWh (a million units of a 6-decimal asset is
/// 1 EUR; this is 1000 EUR/kWh). Keeps every amount far from overflow.
pub const MAX_PRICE_PER_KWH: u64 = 1_000_000_000;
/// Largest order, in Wh (1 GWh in 15 minutes is far above any community's connection).
pub const MAX_ORDER_ENERGY_WH: u64 = 1_000_000_000;
/// Highest rated power of one metering point's connection (10 MW: a small plant).
pub const MAX_RATED_POWER_W: u32 = 10_000_000;
/// How many slots ahead a community may allow orders: a week of 15-minute slots.
pub const MAX_ORDER_HORIZON_SLOTS: u32 = 7 * 96;

/// Pricing rule of the community, as in `lem_clearing::Pricing`.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Serialize,
	Deserialize,
)]
pub enum Pricing {
	/// Every accepted order trades at its zone's price.
	#[default]
	PayAsClear,
	/// Every accepted order trades at its own limit; the spread goes to the community account.
	PayAsBid,
}

impl From<Pricing> for lem_clearing::Pricing {
	fn from(p: Pricing) -> Self {
		match p {
			Pricing::PayAsClear => lem_clearing::Pricing::PayAsClear,
			Pricing::PayAsBid => lem_clearing::Pricing::PayAsBid,
		}
	}
}

/// The community's market parameters, fixed in genesis.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug, Serialize, Deserialize,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Community {
	/// Length of a slot; 900 in production.
	pub slot_seconds: u64,
	/// Gate closure is this long before a slot starts: no order may be placed, changed or
	/// cancelled after it, and the slot clears in the first block at or after it.
	pub gate_closure_lead_seconds: u64,
	/// Orders may be placed for slots up to this many slots after the current one.
	pub order_horizon_slots: u32,
	/// Most orders in one slot (at most [`MAX_ORDERS_PER_SLOT`]).
	pub max_orders_per_slot: u32,
	/// Most orders of one account in one slot (at most [`MAX_ORDERS_PER_ACCOUNT`]).
	pub max_orders_per_account: u32,
	/// Most metering points of the community (at most [`MAX_COMMUNITY_METERING_POINTS`]).
	pub max_metering_points: u32,
	/// How accepted orders are priced.
	pub pricing: Pricing,
	/// What an ask holds per kWh offered: the most a seller can be charged per kWh it sold and
	/// then failed to deliver (bought back from the utility at retail), so that settlement can
	/// always be paid. The utility's retail tariffs may not exceed it.
	pub ask_hold_per_kwh: u64,
	/// The settlement asset, for display: its ticker and number of decimals. The asset itself
	/// is the runtime's native balance.
	pub asset_symbol: BoundedVec<u8, ConstU32<8>>,
	pub asset_decimals: u8,
	/// What every order holds on top of its energy, returned at settlement (or on
	/// cancelling), so that filling a slot's book costs capital even at a limit of 0.
	pub order_deposit: u64,
	/// How many settled slots the chain keeps: records, readings, cleared slots and estimates
	/// of older slots are removed, one slot each time one settles, and readings of older slots
	/// are refused. An auditor exports a slot before it goes; afterwards it stays provable at
	/// any block that still held it, on a node that keeps old state.
	pub retention_slots: u32,
	/// After this many slots in a row settled without a reading of one of its metering points,
	/// a participant is suspended: its orders and standing order stop, and the manager is told
	/// (`pallet_settlement::Event::MeterSilent`). A day of 15-minute slots by default.
	pub silent_slots_before_stop: u32,
	/// What the utility holds as its deposit while it supplies the community: it secures the
	/// feed-in and corrections it owes participants, as a participant's deposit secures its
	/// supply. The council cannot appoint a utility that cannot hold it.
	pub supplier_deposit: u64,
}

impl Default for Community {
	/// What a production community starts from: 15-minute slots, gate closure five minutes
	/// ahead, orders up to a day ahead, pay-as-clear, a 6-decimal euro, and a week of settled
	/// slots kept: the app's week, and a week offline for a gateway.
	fn default() -> Self {
		Self {
			slot_seconds: 900,
			gate_closure_lead_seconds: 300,
			order_horizon_slots: 96,
			max_orders_per_slot: MAX_ORDERS_PER_SLOT,
			max_orders_per_account: MAX_ORDERS_PER_ACCOUNT,
			max_metering_points: MAX_COMMUNITY_METERING_POINTS,
			pricing: Pricing::PayAsClear,
			ask_hold_per_kwh: 500_000,
			asset_symbol: BoundedVec::truncate_from(b"EUR".to_vec()),
			asset_decimals: 6,
			order_deposit: 10_000,
			retention_slots: 7 * 96,
			silent_slots_before_stop: 96,
			// About a day's feed-in of a 500-point community at 0.08 EUR/kWh.
			supplier_deposit: 500_000_000,
		}
	}
}

impl Community {
	/// The slot `unix_seconds` falls in.
	pub fn slot_at(&self, unix_seconds: u64) -> Slot {
		unix_seconds / self.slot_seconds
	}

	/// Unix seconds at which `slot`'s gate closes.
	pub fn gate_closure(&self, slot: Slot) -> u64 {
		slot.saturating_mul(self.slot_seconds).saturating_sub(self.gate_closure_lead_seconds)
	}

	/// The most energy a metering point of `rated_power_w` can move in one slot, either way.
	pub fn connection_limit_wh(&self, rated_power_w: u32) -> u64 {
		rated_power_w as u64 * self.slot_seconds / 3600
	}

	/// The last slot whose gate has closed at `unix_seconds`.
	pub fn last_closed_slot(&self, unix_seconds: u64) -> Slot {
		unix_seconds.saturating_add(self.gate_closure_lead_seconds) / self.slot_seconds
	}
}

/// The roles the council appoints; one account each.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Serialize,
	Deserialize,
)]
pub enum Role {
	/// Admits participants and their metering points, appoints technicians.
	Manager,
	/// Describes the grid and sets its fees, capacities and traffic lights.
	Dso,
	/// The residual supplier: buys surpluses and supplies deficits at its tariffs.
	Utility,
}

/// BDEW traffic-light state of an edge.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Serialize,
	Deserialize,
)]
pub enum TrafficLight {
	/// The edge's fee and capacity as set.
	#[default]
	Green,
	/// The DSO's surcharge is added to the edge's fee.
	Yellow,
	/// The edge is closed: capacity 0.
	Red,
}

/// A zone and the edge to its parent.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug, Serialize, Deserialize,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Zone {
	pub id: ZoneId,
	/// `None` only for the root, the community's substation.
	pub parent: Option<ZoneId>,
	/// Fee per kWh crossing the edge to the parent in either direction (0 on the root).
	pub fee_per_kwh: u64,
	/// Capacity of the edge in Wh per slot; `None` is unlimited (and always so on the root).
	pub capacity_wh: Option<u64>,
	#[serde(default)]
	pub light: TrafficLight,
}

/// The DSO's grid: a tree of zones, root first, every parent before its children.
#[derive(
	Encode,
	Decode,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	PartialEq,
	Eq,
	Debug,
	Default,
	Serialize,
	Deserialize,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Grid {
	pub zones: BoundedVec<Zone, ConstU32<MAX_ZONES>>,
	/// Added to the fee of every yellow edge.
	pub yellow_surcharge_per_kwh: u64,
}

impl Grid {
	pub fn zone(&self, id: ZoneId) -> Option<&Zone> {
		self.zones.iter().find(|z| z.id == id)
	}

	pub fn zone_mut(&mut self, id: ZoneId) -> Option<&mut Zone> {
		self.zones.iter_mut().find(|z| z.id == id)
	}

	/// The grid as the clearing engine sees it: the traffic lights folded into fees and
	/// capacities.
	pub fn engine_zones(&self) -> alloc::vec::Vec<lem_clearing::Zone> {
		self.zones
			.iter()
			.map(|z| {
				let fee = match z.light {
					TrafficLight::Yellow => {
						z.fee_per_kwh.saturating_add(self.yellow_surcharge_per_kwh)
					}
					_ => z.fee_per_kwh,
				};
				let capacity_wh = match z.light {
					TrafficLight::Red => Some(0),
					_ => z.capacity_wh,
				};
				// Fees are bounded by MAX_PRICE_PER_KWH (twice, with the surcharge), far inside i64.
				lem_clearing::Zone {
					id: z.id,
					parent: z.parent,
					fee_per_kwh: fee as i64,
					capacity_wh,
				}
			})
			.collect()
	}
}

/// Whether a participant may trade.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Serialize,
	Deserialize,
)]
pub enum ParticipantStatus {
	Active,
	/// Suspended by the manager: places no orders, and its open orders are dropped at clearing.
	Suspended,
}

/// An admitted member of the community: an account and its metering points, nothing personal.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Participant {
	pub status: ParticipantStatus,
	pub metering_points: BoundedVec<MeteringPointId, ConstU32<MAX_METERING_POINTS>>,
	/// The deposit the manager requires, held under `HoldReason::Deposit`: it secures what the
	/// participant owes the utility.
	pub deposit: u128,
}

/// A metering point as the manager admits it: its id, the zone it is connected in, and the
/// rated power of its connection, which bounds what its readings may claim.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Serialize,
	Deserialize,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewMeteringPoint {
	pub id: MeteringPointId,
	pub zone: ZoneId,
	/// In W; at most [`MAX_RATED_POWER_W`].
	pub rated_power_w: u32,
}

/// A metering point: whose it is, which zone of the grid it is connected in, its connection's
/// rated power, and the technician who manages its gateway's key.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct MeteringPoint<AccountId> {
	pub owner: AccountId,
	pub zone: ZoneId,
	pub rated_power_w: u32,
	/// Assigned by the manager; no other technician may touch the point's key.
	pub technician: Option<AccountId>,
}

/// Buy or sell.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Serialize,
	Deserialize,
)]
pub enum Side {
	Bid,
	Ask,
}

impl From<Side> for lem_clearing::Side {
	fn from(s: Side) -> Self {
		match s {
			Side::Bid => lem_clearing::Side::Bid,
			Side::Ask => lem_clearing::Side::Ask,
		}
	}
}

/// An ex-ante order for one slot, placed from one metering point.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Order<AccountId, Balance> {
	pub owner: AccountId,
	pub metering_point: MeteringPointId,
	/// The metering point's zone when the order was placed.
	pub zone: ZoneId,
	pub slot: Slot,
	pub side: Side,
	pub energy_wh: u64,
	pub limit_per_kwh: u64,
	/// Funds held for it: [`hold_for`] at placement; once its slot cleared, what settlement
	/// needs (a bid's payment, an ask's buy-back of its sold energy), 0 if nothing was filled.
	pub held: Balance,
}

impl<AccountId, Balance> Order<AccountId, Balance> {
	/// The order as the clearing engine takes it, under its id.
	pub fn for_engine(&self, id: OrderId) -> lem_clearing::Order {
		BookOrder::of(id, self).into()
	}
}

/// An order as the clearing engine needs it, kept in storage while a slot's orders are
/// gathered a page at a time for one run of the engine: an order of the book being cleared, or
/// an ex-post order of the slot being settled (`pallet-settlement`).
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct BookOrder {
	pub id: OrderId,
	pub side: Side,
	pub zone: ZoneId,
	pub energy_wh: u64,
	pub limit_per_kwh: u64,
}

impl BookOrder {
	pub fn of<AccountId, Balance>(id: OrderId, o: &Order<AccountId, Balance>) -> Self {
		Self {
			id,
			side: o.side,
			zone: o.zone,
			energy_wh: o.energy_wh,
			limit_per_kwh: o.limit_per_kwh,
		}
	}
}

impl From<BookOrder> for lem_clearing::Order {
	fn from(o: BookOrder) -> Self {
		lem_clearing::Order {
			id: o.id,
			side: o.side.into(),
			zone: o.zone,
			energy_wh: o.energy_wh,
			// Limits are at most MAX_PRICE_PER_KWH, far inside i64.
			limit_per_kwh: o.limit_per_kwh as i64,
		}
	}
}

/// The slot being cleared and how far its clearing has come. A slot's book is collected, the
/// engine runs once over it, and its fills are applied: collecting and applying go a page at a
/// time, as far as each block's budget for per-block work allows.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ClearingProgress {
	pub slot: Slot,
	pub step: ClearingStep,
}

#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum ClearingStep {
	/// Orders move from the book into the engine's input; `orders` have so far (a suspended
	/// owner's are voided instead).
	Collect { orders: u32 },
	/// The book is empty: the engine runs next, over these `orders`.
	Solve { orders: u32 },
	/// The first `done` of the `orders` fills are applied. `cleared` is the slot's result,
	/// stored once every fill is: `None` if the engine refused the slot.
	Apply { orders: u32, done: u32, cleared: Option<ClearedSlot> },
}

/// What an order must hold for `energy_wh`, besides the community's `order_deposit`: a bid its
/// worst-case payment, energy × limit (grid fees are inside the zone price, which never exceeds
/// the limit); an ask what buying the energy back at `ask_hold_per_kwh` would cost. Rounded up,
/// like a bid's payment.
pub fn hold_for(side: Side, energy_wh: u64, limit_per_kwh: u64, community: &Community) -> u128 {
	let per_kwh = match side {
		Side::Bid => limit_per_kwh,
		Side::Ask => community.ask_hold_per_kwh,
	};
	(energy_wh as u128 * per_kwh as u128).div_ceil(1000)
}

/// A participant's limits for ex-post trading on metered energy (used by settlement): its
/// metered net import becomes a bid at `buy_limit_per_kwh`, its net export an ask at
/// `sell_limit_per_kwh`, and it spends at most `daily_budget` a day.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct StandingOrder<Balance> {
	pub buy_limit_per_kwh: u64,
	pub sell_limit_per_kwh: u64,
	/// Held in full while the standing order exists.
	pub daily_budget: Balance,
}

/// A participant's setting that applies from a slot on: a change made during slot `s` applies
/// from `s + 1`, so that no slot already delivered (whose readings may be public) is settled
/// on terms chosen after the fact. Settlement calls [`Scheduled::settled`] after every slot,
/// and a second change to a later slot waits until the first one no longer needs `before`.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Scheduled<T> {
	/// For slots before `from`.
	pub before: T,
	pub from: Slot,
	/// For `from` and later.
	pub current: T,
}

impl<T: Clone + PartialEq> Scheduled<T> {
	pub fn new(value: T) -> Self {
		Self { before: value.clone(), from: 0, current: value }
	}

	pub fn for_slot(&self, slot: Slot) -> &T {
		if slot < self.from {
			&self.before
		} else {
			&self.current
		}
	}

	/// Whether a slot before `from` may still need `before`.
	pub fn pending(&self) -> bool {
		self.before != self.current
	}

	/// `value` from slot `from` on. A second change for the same slot replaces the first; one
	/// for a later slot is refused (`Err`) while the first is pending.
	pub fn change(&mut self, from: Slot, value: T) -> Result<(), ()> {
		if from != self.from {
			if self.pending() {
				return Err(());
			}
			self.from = from;
		}
		self.current = value;
		Ok(())
	}

	/// `slot` was settled: once it is the last slot before `from`, `before` is no longer
	/// needed. Returns whether anything changed.
	pub fn settled(&mut self, slot: Slot) -> bool {
		if self.pending() && slot.saturating_add(1) >= self.from {
			self.before = self.current.clone();
			return true;
		}
		false
	}
}

/// One order's result. (In the ex-post clearing, `order` is the metering point's id.)
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fill {
	pub order: OrderId,
	pub energy_wh: u64,
	pub price_per_kwh: i64,
	/// What the bid pays (rounded up) or the ask receives (rounded down).
	pub amount: i128,
}

/// A zone's price in a cleared slot; `None` when no order reached the zone.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct ZonePrice {
	pub zone: ZoneId,
	pub price_per_kwh: Option<i64>,
}

/// Energy over a zone's edge: positive towards the parent.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Flow {
	pub zone: ZoneId,
	pub energy_wh: i64,
}

/// A slot as it was cleared, with the grid and pricing it was cleared with, so that anyone can
/// recompute it. Its orders' fills are kept beside it, one entry each (`Fills`): a box at a
/// meter proves its own few, not the whole slot's.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ClearedSlot {
	pub grid: Grid,
	pub pricing: Pricing,
	/// Every zone, ascending by id.
	pub zone_prices: BoundedVec<ZonePrice, ConstU32<MAX_ZONES>>,
	/// Every zone but the root, ascending by id.
	pub flows: BoundedVec<Flow, ConstU32<MAX_ZONES>>,
	/// Orders that took part (not those of suspended participants), and of them those filled.
	pub orders: u32,
	pub filled: u32,
	/// Energy the bids bought (what the asks sold, less nothing: the grid loses none).
	pub traded_wh: u64,
	pub welfare: i128,
	pub payments: i128,
	pub receipts: i128,
	pub dso_revenue: i128,
	pub remainder: i128,
}

impl ClearedSlot {
	/// The engine's outcome as the chain keeps it, with the grid and pricing it came from.
	pub fn from_outcome(grid: Grid, pricing: Pricing, outcome: &lem_clearing::Outcome) -> Self {
		let filled = outcome.fills.iter().filter(|f| f.energy_wh > 0);
		// The bounds hold: one price and flow per zone of a grid of at most `MAX_ZONES`.
		Self {
			grid,
			pricing,
			zone_prices: BoundedVec::truncate_from(
				outcome
					.zone_prices
					.iter()
					.map(|p| ZonePrice { zone: p.zone, price_per_kwh: p.price_per_kwh })
					.collect(),
			),
			flows: BoundedVec::truncate_from(
				outcome
					.flows
					.iter()
					.map(|f| Flow { zone: f.zone, energy_wh: f.energy_wh })
					.collect(),
			),
			orders: outcome.fills.len() as u32,
			filled: filled.clone().count() as u32,
			traded_wh: filled
				.filter(|f| f.side == lem_clearing::Side::Bid)
				.map(|f| f.energy_wh)
				.sum(),
			welfare: outcome.welfare,
			payments: outcome.payments,
			receipts: outcome.receipts,
			dso_revenue: outcome.dso_revenue,
			remainder: outcome.remainder,
		}
	}
}

impl From<&lem_clearing::Fill> for Fill {
	fn from(f: &lem_clearing::Fill) -> Self {
		Fill {
			order: f.order,
			energy_wh: f.energy_wh,
			price_per_kwh: f.price_per_kwh,
			amount: f.amount,
		}
	}
}
