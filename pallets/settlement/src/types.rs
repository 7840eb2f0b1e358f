//! Settlement's domain types: the utility's tariffs, a participant's choice between them, and
//! the records of settled slots. Plain SCALE types, so the runtime API, the gateway and the
//! auditor's export decode the bytes the chain stores.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use pallet_market::{ClearedSlot, Slot};
use pallet_metering::Metered;
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};

/// Most slots one `SettlementApi::settlements` query covers: a month of 15-minute slots.
pub const MAX_QUERY_SLOTS: u64 = 31 * 96;

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
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct TariffSchedule {
	/// For slots before `from`.
	pub before: Tariffs,
	pub from: Slot,
	/// For `from` and later.
	pub current: Tariffs,
}

impl TariffSchedule {
	pub fn for_slot(&self, slot: Slot) -> &Tariffs {
		if slot < self.from {
			&self.before
		} else {
			&self.current
		}
	}
}

/// How one account's slot was settled. Amounts are in the settlement asset's smallest unit,
/// positive when the account receives them.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
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
	/// Its metering points' readings summed; `None` unless every one of them has a reading.
	pub metered: Option<Metered>,
	/// How many of its metering points have no reading for the slot. Their energy is not
	/// settled with the utility: a missing reading is never taken as zero.
	pub missing_readings: u32,
	/// What the local market did not cover: the shortfall bought from the utility and the
	/// surplus sold to it.
	pub from_utility_wh: u64,
	pub to_utility_wh: u64,
	pub retail: RetailChoice,
	pub retail_per_kwh: u64,
	pub feed_in_per_kwh: u64,
	/// Feed-in paid to it, less retail supply it pays.
	pub utility_amount: i128,
	/// What settlement could not move because a payer's free balance ran short: positive if
	/// the account still owes it, negative if it is still owed.
	pub unpaid: i128,
}

impl SettlementRecord {
	/// How much the account's balance changed by this settlement. (Saturating only so that
	/// a reader of arbitrary bytes cannot overflow; the chain's amounts are far smaller.)
	pub fn balance_change(&self) -> i128 {
		self.market_amount.saturating_add(self.utility_amount).saturating_add(self.unpaid)
	}
}

/// A settled slot as a whole. The four balance changes sum to zero: settlement moves money
/// between accounts and neither creates nor destroys any.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct SettledSlot {
	/// Accounts with a record of the slot.
	pub accounts: u32,
	/// Metering points without a reading.
	pub missing_readings: u32,
	/// The ex-post clearing on metered energy, if any standing order took part. Its orders'
	/// ids are the metering points' ids.
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
