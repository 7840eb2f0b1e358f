//! Per-block work: clearing every slot whose gate has closed, spread over as many blocks as its
//! book needs. A slot's orders are collected from the book a page at a time, the engine runs once
//! over all of them, and their fills are applied a page at a time; each block does as much as
//! its share of the block allows ([`TICK_SHARE`]), so that however full a slot, no block's
//! mandatory work crowds out the transactions (orders, readings) it must carry. The runtime
//! calls [`Pallet::clear_due_slots`] right after the inherents, before settlement.

use super::*;
use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::*,
	storage,
	traits::{fungible::MutateHold, tokens::Precision},
	weights::WeightMeter,
};
use sp_runtime::Perbill;

/// The share of a block that the market's per-block work (clearing, then settlement in what
/// clearing leaves) may take: the rest is for the inherents and transactions.
pub const TICK_SHARE: Perbill = Perbill::from_percent(25);

/// Fills the engine's result is kept in, per entry of `ClearingFills`, while they are applied:
/// a page of fills reads one entry, not the whole slot's.
pub const FILLS_PER_CHUNK: u32 = 512;

/// A chunk of fills as kept between an engine's run and the blocks that take them.
pub type FillChunk = BoundedVec<Fill, ConstU32<FILLS_PER_CHUNK>>;

/// A step's weight split into what a page costs and what each item of it adds, from the step's
/// linear benchmark (settlement's steps use it too).
pub fn page_and_item(weight: impl Fn(u32) -> Weight) -> (Weight, Weight) {
	(weight(0), weight(1).saturating_sub(weight(0)))
}

/// Keeps an engine's `fills` in `M` in chunks of [`FILLS_PER_CHUNK`], under 0, 1, …, for
/// [`take_from_chunks`]: this pallet's fills while they are applied, settlement's ex-post
/// fills while they are stored.
pub fn keep_in_chunks<M: storage::StorageMap<u32, FillChunk>>(fills: &[Fill]) {
	for (i, chunk) in fills.chunks(FILLS_PER_CHUNK as usize).enumerate() {
		M::insert(i as u32, BoundedVec::truncate_from(chunk.to_vec()));
	}
}

/// Hands `take` the fills kept in `M` from the `done`th on, as many as `meter` allows at
/// `per_fill` each and at most to the end of their chunk, which is removed once all of it is
/// taken. Returns how many it took.
pub fn take_from_chunks<M: storage::StorageMap<u32, FillChunk, Query = Option<FillChunk>>>(
	done: u32,
	per_fill: Weight,
	meter: &mut WeightMeter,
	mut take: impl FnMut(&Fill),
) -> u32 {
	let index = done / FILLS_PER_CHUNK;
	let chunk = M::get(index).unwrap_or_default();
	let from = (done % FILLS_PER_CHUNK) as usize;
	let mut taken = 0;
	for fill in chunk.iter().skip(from) {
		if meter.try_consume(per_fill).is_err() {
			break;
		}
		take(fill);
		taken += 1;
	}
	if from + taken as usize == chunk.len() {
		M::remove(index);
	}
	taken
}

impl<T: Config> Pallet<T> {
	/// The weight of a block's share for per-block work ([`TICK_SHARE`]).
	pub fn tick_share() -> Weight {
		TICK_SHARE * T::BlockWeights::get().max_block
	}

	/// Whether a block with `budget` for clearing always makes progress on a slot of up to
	/// `max_orders`: the engine's run over all of them, and one order or fill of every other
	/// step, each fit in it.
	pub fn clearing_progresses_within(budget: Weight, max_orders: u32) -> bool {
		let w = |step: Weight| T::WeightInfo::clearing_start().saturating_add(step);
		[
			w(T::WeightInfo::clearing_collect(1).saturating_add(T::WeightInfo::void_order())),
			w(T::WeightInfo::clearing_solve(max_orders)),
			w(T::WeightInfo::clearing_apply(1)),
		]
		.iter()
		.all(|step| step.all_lte(budget))
	}

	/// Clears the slots whose gate has closed, within `budget`: goes on with the slot being
	/// cleared, then starts the next due slot, passing at most `MAX_SLOTS_PASSED_PER_BLOCK` slots
	/// without orders. Returns the weight used.
	pub fn clear_due_slots(budget: Weight) -> Weight {
		let mut meter = WeightMeter::with_limit(budget);
		if meter.try_consume(T::WeightInfo::clearing_start()).is_err() {
			return meter.consumed();
		}
		let community = CommunityParams::<T>::get();
		let last_closed = community.last_closed_slot(Self::now_seconds());
		// In the first block no order exists yet: orders need an open gate.
		let mut next = ClearingCursor::<T>::get().unwrap_or(last_closed + 1);
		let mut clearing = Clearing::<T>::get();
		let mut passed = 0;
		loop {
			let Some(progress) = clearing.as_mut() else {
				if next > last_closed || passed == MAX_SLOTS_PASSED_PER_BLOCK {
					break;
				}
				if meter.try_consume(T::WeightInfo::clearing_start()).is_err() {
					break;
				}
				if SlotOrderCount::<T>::take(next) == 0 {
					next += 1;
					passed += 1;
				} else {
					clearing = Some(ClearingProgress {
						slot: next,
						step: ClearingStep::Collect { orders: 0 },
					});
				}
				continue;
			};
			let slot = progress.slot;
			let mut finished = false;
			let advanced = match &mut progress.step {
				ClearingStep::Collect { orders } => {
					let (collected, voided, emptied) = Self::collect(slot, &mut meter);
					*orders += collected;
					if emptied {
						progress.step = ClearingStep::Solve { orders: *orders };
					}
					collected + voided > 0 || emptied
				}
				ClearingStep::Solve { orders } => {
					let orders = *orders;
					let solved = meter.try_consume(T::WeightInfo::clearing_solve(orders)).is_ok();
					if solved {
						let cleared = Self::solve(&community);
						progress.step = ClearingStep::Apply { orders, done: 0, cleared };
					}
					solved
				}
				ClearingStep::Apply { orders, done, cleared } => {
					let applied =
						Self::apply(slot, *done, cleared.is_some(), &community, &mut meter);
					*done += applied;
					if *done == *orders {
						Self::finish(slot, cleared.take());
						finished = true;
					}
					applied > 0
				}
			};
			if finished {
				clearing = None;
				next = slot + 1;
			}
			if !advanced {
				break;
			}
		}
		Clearing::<T>::set(clearing);
		ClearingCursor::<T>::put(next);
		meter.consumed()
	}

	/// Moves a page of `slot`'s book into the engine's input, as many orders as `meter` allows,
	/// voiding those of suspended owners and releasing what they hold. Returns how many orders
	/// it moved and voided, and whether the book is now empty.
	pub(crate) fn collect(slot: Slot, meter: &mut WeightMeter) -> (u32, u32, bool) {
		let (page, per_order) = page_and_item(T::WeightInfo::clearing_collect);
		if meter.try_consume(page).is_err() {
			return (0, 0, false);
		}
		let (mut collected, mut voided) = (0, 0);
		let mut book = SlotOrders::<T>::iter_key_prefix(slot);
		loop {
			if !meter.can_consume(per_order) {
				return (collected, voided, false);
			}
			let Some(id) = book.next() else { return (collected, voided, true) };
			meter.consume(per_order);
			let Some(mut order) = Orders::<T>::get(id) else {
				SlotOrders::<T>::remove(slot, id);
				continue;
			};
			let active = Participants::<T>::get(&order.owner)
				.is_some_and(|p| p.status == ParticipantStatus::Active);
			if active {
				// The book holds at most `max_orders_per_slot`, the input's bound.
				let _ = ClearingInput::<T>::try_append(BookOrder::of(id, &order));
				collected += 1;
			} else {
				// Voiding costs more than moving: an order there is no room left for waits in
				// the book for the next block.
				if meter.try_consume(T::WeightInfo::void_order()).is_err() {
					return (collected, voided, false);
				}
				voided += 1;
				Self::release_order_hold(&order.owner, order.held);
				order.held = 0;
				Orders::<T>::insert(id, order);
				Self::deposit_event(Event::OrderVoided { order: id });
			}
			SlotOrders::<T>::remove(slot, id);
		}
	}

	/// Runs the engine once over the collected book with the grid in force (no grid change
	/// is accepted while a gate-closed slot waits, see `ensure_no_backlog`), and keeps its fills
	/// in chunks for `apply`. Returns the slot's result, or `None` if the engine refused it,
	/// in which case every order gets an empty fill that keeps nothing held.
	pub(crate) fn solve(community: &Community) -> Option<ClearedSlot> {
		let mut orders: Vec<lem_clearing::Order> =
			ClearingInput::<T>::take().into_iter().map(Into::into).collect();
		// The engine's fills come ascending by id; a refused slot's are made in the same order.
		orders.sort_by_key(|o| o.id);
		let grid = GridInForce::<T>::get();
		let instance = lem_clearing::Instance {
			zones: grid.engine_zones(),
			orders,
			pricing: community.pricing.into(),
		};
		let (fills, cleared): (Vec<Fill>, _) = match lem_clearing::clear(&instance) {
			Ok(outcome) => (
				outcome.fills.iter().map(Fill::from).collect(),
				Some(ClearedSlot::from_outcome(grid, community.pricing, &outcome)),
			),
			Err(e) => {
				log::error!(target: "runtime::market", "slot not cleared: {e:?}");
				let empty = |o: &lem_clearing::Order| Fill {
					order: o.id,
					energy_wh: 0,
					price_per_kwh: 0,
					amount: 0,
				};
				(instance.orders.iter().map(empty).collect(), None)
			}
		};
		keep_in_chunks::<ClearingFills<T>>(&fills);
		cleared
	}

	/// Applies a page of fills, from the `done`th on, as many as `meter` allows and
	/// at most to the end of their chunk: stores each fill, and shrinks its order's hold to what
	/// settlement needs — a bid its payment, an ask the buy-back of its sold energy, each the
	/// order deposit; nothing if the slot was refused (not `cleared`). Returns how many it
	/// applied.
	pub(crate) fn apply(
		slot: Slot,
		done: u32,
		cleared: bool,
		community: &Community,
		meter: &mut WeightMeter,
	) -> u32 {
		let (page, per_fill) = page_and_item(T::WeightInfo::clearing_apply);
		if meter.try_consume(page).is_err() {
			return 0;
		}
		take_from_chunks::<ClearingFills<T>>(done, per_fill, meter, |fill| {
			let Some(mut order) = Orders::<T>::get(fill.order) else { return };
			let needed = match (cleared, order.side) {
				(false, _) => 0,
				(true, Side::Bid) => community.order_deposit as u128 + fill.amount.max(0) as u128,
				(true, Side::Ask) => {
					community.order_deposit as u128
						+ hold_for(Side::Ask, fill.energy_wh, 0, community)
				}
			};
			let excess = order.held.saturating_sub(needed);
			order.held -= excess;
			Self::release_order_hold(&order.owner, excess);
			if cleared {
				Fills::<T>::insert(slot, fill.order, fill);
				if fill.energy_wh > 0 {
					Self::deposit_event(Event::OrderFilled {
						order: fill.order,
						owner: order.owner.clone(),
						energy_wh: fill.energy_wh,
						price_per_kwh: fill.price_per_kwh,
						amount: fill.amount,
					});
				}
			}
			Orders::<T>::insert(fill.order, order);
		})
	}

	/// Every fill of `slot` is applied: its result is stored and announced.
	pub(crate) fn finish(slot: Slot, cleared: Option<ClearedSlot>) {
		match cleared {
			Some(cleared) => {
				Self::deposit_event(Event::SlotCleared {
					slot,
					orders: cleared.orders,
					traded_wh: cleared.traded_wh,
					welfare: cleared.welfare,
					dso_revenue: cleared.dso_revenue,
				});
				ClearedSlots::<T>::insert(slot, cleared);
			}
			None => Self::deposit_event(Event::ClearingFailed { slot }),
		}
	}

	/// Releases `amount` of what `owner`'s orders hold; released money pays its debt to the
	/// utility first, before its owner can move it away. (Its debts to utilities the council
	/// replaced wait for `settle_debts`: clearing pays for one collection per order.)
	fn release_order_hold(owner: &T::AccountId, amount: u128) {
		if amount == 0 {
			return;
		}
		// Best effort: the hold is at least what the owner's orders say they hold.
		let _ =
			T::Currency::release(&HoldReason::Order.into(), owner, amount, Precision::BestEffort);
		if let Some(utility) = Roles::<T>::get(Role::Utility) {
			Self::collect_debt_for(owner, &utility);
		}
		Self::top_up_deposit(owner);
	}
}
