//! Settlement's domain types: the utility's tariffs, a participant's choice between them, and
//! the records of settled slots. Plain SCALE types, so the runtime API, the gateway and the
//! auditor's export decode the bytes the chain stores.

use crate::compute::{AccountResult, AveragePrice, Point};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::ConstU32, BoundedVec};
use pallet_market::{ClearedSlot, Scheduled, Slot, MAX_METERING_POINTS};
use pallet_metering::{Metered, Registers};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};

/// Most slots one page of `SettlementApi::settlements` covers: a month of 15-minute slots.
pub const MAX_QUERY_SLOTS: u64 = 31 * 96;
/// Most records in one page of `SettlementApi::settlements`: about 1 MB of hex at some 200
/// bytes a record, well inside a node's default 10 MiB response.
pub const MAX_PAGE_RECORDS: u32 = 2_048;

/// One page of the records of a range of slots, at most [`MAX_PAGE_RECORDS`] records of at
/// most [`MAX_QUERY_SLOTS`] slots.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct SettlementsPage<AccountId> {
	/// By slot; within a slot, in the order the chain stores them.
	pub records: alloc::vec::Vec<(Slot, AccountId, SettlementRecord)>,
	/// Where the range goes on, if this page did not reach its end: ask again from this slot,
	/// after this account (`None`: from the slot's first record).
	pub next: Option<(Slot, Option<AccountId>)>,
}

/// The utility's prices for what the local market does not cover, per kWh.
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tariffs {
	/// Supply from renewable sources.
	pub retail_green_per_kwh: u64,
	/// Supply of the standard mix.
	pub retail_grey_per_kwh: u64,
	/// What the utility pays for a surplus.
	pub feed_in_per_kwh: u64,
}

impl Tariffs {
	pub fn retail(&self, choice: RetailChoice) -> u64 {
		match choice {
			RetailChoice::Green => self.retail_green_per_kwh,
			RetailChoice::Grey => self.retail_grey_per_kwh,
		}
	}
}

/// Which retail tariff a participant's shortfalls are bought at.
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
pub enum RetailChoice {
	#[default]
	Grey,
	Green,
}

/// The tariffs of every slot not yet settled. A change applies from the next slot on, so a
/// slot is settled at the tariffs in force when it was delivered.
pub type TariffSchedule = Scheduled<Tariffs>;

/// What settlement has counted of a metering point's energy, so that a later reading's
/// registers correct the estimates of the slots it had no reading for.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct MeterLedger {
	/// The first slot settlement counted for the point. Registers read before it are no
	/// baseline: nothing the chain settled lies between them and a later reading, so their
	/// difference would be energy the chain never saw (a first reading back-dated by years
	/// would claim all that time at full power).
	pub since: Slot,
	/// The latest reading settlement has reconciled, and the point's estimates summed up to it.
	/// `None` until the point's first reading since `since`: before it there are no registers
	/// to correct from.
	pub baseline: Option<Baseline>,
	/// Σ of every estimate the point was settled on.
	pub estimated: Metered,
	/// What the point usually imports net in a slot, by hour of the day: a slot without a
	/// reading is estimated at it.
	pub usual: UsualImport,
	/// Slots in a row it was settled without a reading.
	pub silent: u32,
}

impl MeterLedger {
	pub fn new(since: Slot) -> Self {
		MeterLedger {
			since,
			baseline: None,
			estimated: Metered::default(),
			usual: UsualImport::default(),
			silent: 0,
		}
	}
}

/// A metering point's usual net import per slot in each hour of the day (UTC), from its own
/// readings: each reading moves its hour's figure an eighth of the way to the reading, so the
/// figure follows about the last week of that hour's slots at 15-minute slots. An hour with no
/// reading yet counts as the mean of the hours that have one.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct UsualImport(pub [u32; 24]);

impl UsualImport {
	/// An hour without a reading yet.
	const NONE: u32 = u32::MAX;

	/// The hour of the day (UTC) `slot` starts in.
	pub fn hour_of(slot: Slot, slot_seconds: u64) -> usize {
		(slot.saturating_mul(slot_seconds) % 86_400 / 3_600) as usize
	}

	/// A reading of `net_import_wh` (import less export, at least 0) in `hour`.
	pub fn record(&mut self, hour: usize, net_import_wh: u64) {
		let reading = net_import_wh.min(Self::NONE as u64 - 1) as u32;
		let usual = &mut self.0[hour % 24];
		*usual = match *usual {
			Self::NONE => reading,
			u => ((u as i64 * 7 + reading as i64) / 8) as u32,
		};
	}

	/// The usual net import of a slot in `hour`; 0 before any reading.
	pub fn in_hour(&self, hour: usize) -> u64 {
		match self.0[hour % 24] {
			Self::NONE => {
				let known: alloc::vec::Vec<u64> =
					self.0.iter().filter(|u| **u != Self::NONE).map(|u| *u as u64).collect();
				known.iter().sum::<u64>().checked_div(known.len() as u64).unwrap_or(0)
			}
			u => u as u64,
		}
	}
}

impl Default for UsualImport {
	fn default() -> Self {
		UsualImport([Self::NONE; 24])
	}
}

#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Baseline {
	pub registers: Registers,
	pub estimated: Metered,
}

/// A slot a metering point was settled without a reading for.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Estimate {
	pub energy: Metered,
	/// Σ of the point's estimates up to and including this one: where a late reading of this
	/// slot reconciles from.
	pub through: Metered,
}

/// How one account's slot was settled. Amounts are in the settlement asset's smallest unit,
/// positive when the account receives them.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SettlementRecord {
	/// Energy its orders bought and sold on the local market ahead of the slot, and the
	/// energy-weighted average of their prices per kWh (`None` if nothing was traded).
	pub bought_wh: u64,
	pub sold_wh: u64,
	pub price_per_kwh: Option<i64>,
	/// Energy its standing order bought and sold on the local market after the slot, on
	/// metered energy, and the average of their prices.
	pub ex_post_bought_wh: u64,
	pub ex_post_sold_wh: u64,
	pub ex_post_price_per_kwh: Option<i64>,
	/// What the local market paid it, less what it paid the local market (both ways of
	/// trading).
	pub market_amount: i128,
	/// Its metering points' readings summed.
	pub metered: Metered,
	/// The estimates its metering points without a reading were settled on (they took what
	/// they bought and delivered nothing; never zero, never in the owner's favour), and how
	/// many they are. A later reading corrects them.
	pub estimated: Metered,
	pub estimated_readings: u32,
	/// What the local market did not cover: the shortfall bought from the utility and the
	/// surplus sold to it.
	pub from_utility_wh: u64,
	pub to_utility_wh: u64,
	pub retail: RetailChoice,
	pub retail_per_kwh: u64,
	pub feed_in_per_kwh: u64,
	/// Feed-in paid to it, less retail supply it pays.
	pub utility_amount: i128,
	/// Net import by which its meters' registers showed earlier estimates short (negative:
	/// over), settled with the utility at this slot's tariffs.
	pub corrected_wh: i64,
	pub correction_amount: i128,
	/// What of this slot's amounts could not be paid: positive if it could not pay it from
	/// its balance or its deposit (added to its debt to the slot's utility), negative if it is
	/// still owed (by the utility, whose balance and deposit fell short: added to what the
	/// utility owes it).
	pub unpaid: i128,
	/// Taken from its deposit to pay the utility.
	pub from_deposit: u128,
	/// Paid on its debt to the slot's utility, from what it received or had released.
	pub debt_collected: u128,
	/// What it owes the slot's utility after this slot.
	pub debt: u128,
	/// Paid to it by the slot's utility on what it owed it from earlier slots, before this
	/// slot's feed-in.
	pub credit_collected: u128,
	/// What the slot's utility still owes it after this slot.
	pub credit: u128,
}

impl SettlementRecord {
	/// How much the account's balance changed by this settlement. (Saturating only so that
	/// a reader of arbitrary bytes cannot overflow; the chain's amounts are far smaller.)
	pub fn balance_change(&self) -> i128 {
		self.market_amount
			.saturating_add(self.utility_amount)
			.saturating_add(self.correction_amount)
			.saturating_add(self.unpaid)
			.saturating_sub(self.debt_collected.min(i128::MAX as u128) as i128)
			.saturating_add(self.credit_collected.min(i128::MAX as u128) as i128)
	}
}

/// A settled slot as a whole. The four balance changes sum to zero: settlement moves money
/// between accounts and neither creates nor destroys any.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug, Default)]
pub struct SettledSlot {
	/// Accounts with a record of the slot.
	pub accounts: u32,
	/// Metering points without a reading, settled on estimates.
	pub estimated_readings: u32,
	/// The ex-post clearing on metered energy, if any standing order took part; its fills are
	/// in `ExPostFills`, by metering point.
	pub ex_post: Option<ClearedSlot>,
	/// Σ of the records' balance changes.
	pub participants: i128,
	/// Balance changes of the utility, the DSO and the community account.
	pub utility: i128,
	pub dso: i128,
	pub community: i128,
	/// What the DSO was owed (fees and congestion rent of both clearings) and the community
	/// account could not pay. Its balance change above is what it was paid.
	pub dso_unpaid: u128,
}

impl SettledSlot {
	/// Σ of every balance change, `None` if it overflows; `Some(0)` for every slot the chain
	/// settled.
	pub fn imbalance(&self) -> Option<i128> {
		self.participants
			.checked_add(self.utility)?
			.checked_add(self.dso)?
			.checked_add(self.community)
	}
}

/// The slot being settled and how far its settlement has come. Its accounts are gathered, the
/// ex-post orders are cleared once, and their fills stored; the accounts pay in, then are paid
/// out and recorded; the slot's totals are stored last, and the slot that leaves the retention
/// window is forgotten after. All but the clearing go a page at a time, as far as each block's
/// budget for per-block work allows.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct SettlementProgress<AccountId> {
	pub slot: Slot,
	pub step: SettlementStep<AccountId>,
	/// Accounts gathered so far; each waits in `SettlingAccounts`, under the order it was
	/// gathered in, until it is paid out.
	pub accounts: u32,
	/// The slot's totals as far as its accounts are settled, with its ex-post clearing once
	/// solved.
	pub totals: SettledSlot,
}

#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum SettlementStep<AccountId> {
	/// Participants are gathered in the order the chain stores them: next the one after
	/// `after`, or the first.
	Gather { after: Option<AccountId> },
	/// Every participant is gathered: the ex-post orders are cleared next.
	Solve,
	/// The first `done` of the ex-post clearing's `fills` are stored in `ExPostFills`.
	StoreExPost { fills: u32, done: u32 },
	/// The first `done` accounts have paid what they owe.
	PayIn { done: u32 },
	/// The first `done` accounts have been paid what they receive and recorded. The slot is
	/// settled once all are.
	PayOut { done: u32 },
	/// The slot is settled; slot `old` left the retention window with it, and its per-slot
	/// items are removed, `kept` after `kept`, going on from `cursor`.
	Forget { old: Slot, kept: Kept, cursor: Option<BoundedVec<u8, ConstU32<MAX_KEY_LEN>>> },
}

/// The longest storage key of a per-slot item (a record: two hashes, a slot and an account).
pub const MAX_KEY_LEN: u32 = 128;

/// The items the chain keeps of each slot for `retention_slots`, in the order they are
/// forgotten.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kept {
	Records,
	Estimates,
	Readings,
	Fills,
	ExPostFills,
}

impl Kept {
	pub fn next(self) -> Option<Self> {
		match self {
			Self::Records => Some(Self::Estimates),
			Self::Estimates => Some(Self::Readings),
			Self::Readings => Some(Self::Fills),
			Self::Fills => Some(Self::ExPostFills),
			Self::ExPostFills => None,
		}
	}
}

/// An account of the slot being settled, from the block that gathers it to the one that pays it
/// out.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct SettlingAccount<AccountId> {
	pub who: AccountId,
	/// Its metering points, ascending by id, with their readings (or estimates), what their
	/// orders traded and their corrections.
	pub points: BoundedVec<Point, ConstU32<MAX_METERING_POINTS>>,
	/// Its orders of the slot, and what they hold: they leave the book, and the hold is
	/// released, as the account pays in.
	pub orders: u32,
	pub orders_held: u128,
	/// What its filled orders received, less what they paid, and their average price.
	pub ex_ante_amount: i128,
	pub price: AveragePrice,
	pub retail: RetailChoice,
	/// Once it has paid in: its result, what of its payments it could not make, and what its
	/// deposit paid.
	pub paid_in: Option<PaidIn>,
}

impl<AccountId> SettlingAccount<AccountId> {
	/// How many accounts of the benchmarks' kind (one metering point, one order) its
	/// settlement weighs as much as.
	pub fn units(&self) -> u32 {
		units(self.points.len(), self.orders as usize)
	}
}

/// An account with `points` metering points and `orders` orders weighs at most as much to
/// settle as this many accounts with one of each.
pub fn units(points: usize, orders: usize) -> u32 {
	points.max(orders).max(1) as u32
}

#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct PaidIn {
	pub result: AccountResult,
	pub unpaid: i128,
	pub from_deposit: u128,
}
