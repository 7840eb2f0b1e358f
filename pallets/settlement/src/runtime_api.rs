//! What the app, the gateway and the auditor ask the chain about settlement.

use crate::types::*;
use alloc::vec::Vec;
use codec::Codec;
use pallet_market::{Fill, MeteringPointId, Slot};

sp_api::decl_runtime_apis! {
	/// Tariffs and settlement records.
	pub trait SettlementApi<AccountId> where AccountId: Codec {
		/// The utility's tariffs by slot.
		fn tariffs() -> TariffSchedule;
		/// A participant's retail tariff, from the next slot on.
		fn retail_choice(who: AccountId) -> RetailChoice;
		/// The next slot to settle (`None` before the first block).
		fn next_to_settle() -> Option<Slot>;
		/// A settled slot's totals and its ex-post clearing.
		fn settled_slot(slot: Slot) -> Option<SettledSlot>;
		/// A page of a settled slot's ex-post fills (their `order` is the metering point), after
		/// metering point `after` in the chain's order; ask again while a page is full.
		fn ex_post_fills(slot: Slot, after: Option<MeteringPointId>) -> Vec<Fill>;
		/// A page of the records of slots `from..=to`, of one account or of all, starting in
		/// slot `from` after account `after`; its `next` says where the following page starts.
		/// Slots the community no longer keeps have no records.
		fn settlements(from: Slot, to: Slot, who: Option<AccountId>, after: Option<AccountId>) -> SettlementsPage<AccountId>;
	}
}
