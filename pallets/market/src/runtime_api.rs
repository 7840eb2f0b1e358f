//! What the app and the gateway ask the chain about the market.

use crate::types::*;
use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use scale_info::TypeInfo;

/// Where the market stands in time at the queried block.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct SlotClock {
	/// The block's timestamp, in Unix seconds.
	pub now_seconds: u64,
	/// The slot the block's timestamp falls in.
	pub current_slot: Slot,
	/// The earliest slot that still takes orders.
	pub first_open_slot: Slot,
	/// The next slot the chain will clear (`None` before the first block).
	pub next_to_clear: Option<Slot>,
}

/// A participant as the app shows it.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ParticipantInfo<Balance> {
	pub status: ParticipantStatus,
	/// Its metering points and the zone of each.
	pub metering_points: Vec<(MeteringPointId, ZoneId)>,
	/// From the next slot on.
	pub standing_order: Option<StandingOrder<Balance>>,
	/// The deposit the manager requires, what of it is held, and what it owes the utilities
	/// that supplied it.
	pub deposit: Balance,
	pub deposit_held: Balance,
	pub debt: Balance,
	/// What those utilities owe it beyond what they could pay (`settle_debts` collects it).
	pub owed_to_it: Balance,
}

sp_api::decl_runtime_apis! {
	/// The market's state for the app and the gateway.
	pub trait MarketApi<AccountId, Balance> where AccountId: Codec, Balance: Codec {
		/// The community's parameters.
		fn community() -> Community;
		/// The current slot, the first slot open for orders and the clearing cursor.
		fn clock() -> SlotClock;
		/// The grid in force for slots whose gate has not closed.
		fn grid() -> Grid;
		/// Who holds a role.
		fn role(role: Role) -> Option<AccountId>;
		/// A participant, its metering points and standing order.
		fn participant(who: AccountId) -> Option<ParticipantInfo<Balance>>;
		/// A slot's open order book, ascending by order id (empty once cleared).
		fn order_book(slot: Slot) -> Vec<(OrderId, Order<AccountId, Balance>)>;
		/// A cleared slot's result, with the grid it was cleared with.
		fn cleared_slot(slot: Slot) -> Option<ClearedSlot>;
		/// A page of a cleared slot's fills, after order `after` in the chain's order (not by
		/// id): at most `MAX_PAGE_FILLS`; ask again after the last while a page is full.
		fn fills(slot: Slot, after: Option<OrderId>) -> Vec<Fill>;
		/// An account's orders in slots `from..=to`, each with its fill once its slot cleared.
		fn orders_of(who: AccountId, from: Slot, to: Slot) -> Vec<(OrderId, Order<AccountId, Balance>, Option<Fill>)>;
	}
}
