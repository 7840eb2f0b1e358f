//! Per-block work: settling each slot once its readings window has closed and it is cleared,
//! spread over as many blocks as the community needs. The participants are gathered a page at a
//! time (each account's readings, orders and terms, and its ex-post orders); the ex-post orders
//! are cleared once and their fills stored a page at a time; the accounts pay in a page at a
//! time, so that the community account holds every buyer's money before it pays anyone, then
//! are paid out and recorded a page at a time. The slot's totals are stored and announced last,
//! so no reader sees a slot half settled; then the slot that leaves the retention window is
//! forgotten a page at a time. Each block does as much as what clearing left of its share
//! (`pallet_market::TICK_SHARE`) allows. The runtime calls [`Pallet::settle_due_slots`] right
//! after clearing.

use super::*;
use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{InspectHold, MutateHold},
		tokens::Precision,
	},
	weights::WeightMeter,
};
use pallet_market::tick_impls::{keep_in_chunks, page_and_item, take_from_chunks};
use pallet_market::{
	AccountOrders, BookOrder, ClearedSlot, ClearedSlots, Community, CommunityParams, Debts, Fill,
	Fills, HoldReason as MarketHold, MeteringPoints, OrderId, Orders, Participant,
	ParticipantStatus, Participants, Role, Roles, Side, Slot, StandingOrders, MAX_METERING_POINTS,
	MAX_ORDERS_PER_ACCOUNT,
};
use pallet_metering::Readings;

type Currency<T> = <T as pallet_market::Config>::Currency;
type Weights<T> = <T as Config>::WeightInfo;
type Progress<T> = SettlementProgress<<T as frame_system::Config>::AccountId>;

/// The day `slot` is in, in days of UTC since the epoch: what a standing order's daily budget
/// is spent per (`BudgetSpent`).
fn day_of(slot: Slot, community: &Community) -> u64 {
	slot.saturating_mul(community.slot_seconds) / 86_400
}

/// What a step of a slot's settlement came to in a block.
pub(crate) enum Stepped {
	/// It went as far as the block allows; a later block goes on with it.
	Paused,
	/// It is done; the next step may start in this block.
	Next,
	/// The slot is settled and forgotten what it had to.
	Complete,
}

impl<T: Config> Pallet<T> {
	/// Whether a block with `budget` for settlement always makes progress in a community of up
	/// to `max_points` metering points: the ex-post clearing of all of them, and one account of
	/// the largest kind (or one item) of every other step, each fit in it.
	pub fn settlement_progresses_within(budget: Weight, max_points: u32) -> bool {
		let largest = units(MAX_METERING_POINTS as usize, MAX_ORDERS_PER_ACCOUNT as usize);
		let account = |step: fn(u32) -> Weight| {
			let (page, per_account) = page_and_item(step);
			page.saturating_add(per_account.saturating_mul(largest as u64))
		};
		[
			account(Weights::<T>::settlement_gather),
			Weights::<T>::settlement_solve(max_points),
			Weights::<T>::settlement_store_ex_post(1),
			account(Weights::<T>::settlement_pay_in),
			account(Weights::<T>::settlement_pay_out),
			Weights::<T>::settlement_forget(1),
		]
		.iter()
		.all(|step| Weights::<T>::settlement_start().saturating_add(*step).all_lte(budget))
	}

	/// Settles within `budget`: goes on with the slot being settled, then starts the next slot
	/// due (its readings window closed and it is cleared), so that a chain that stood still
	/// catches up as fast as the budget allows. Returns the weight used.
	pub fn settle_due_slots(budget: Weight) -> Weight {
		let mut meter = WeightMeter::with_limit(budget);
		if meter.try_consume(Weights::<T>::settlement_start()).is_err() {
			return meter.consumed();
		}
		let community = CommunityParams::<T>::get();
		let mut settling = Settling::<T>::get();
		loop {
			let Some(progress) = settling.as_mut() else {
				let Some(slot) = Self::due_slot(&community) else { break };
				if meter.try_consume(Weights::<T>::settlement_start()).is_err() {
					break;
				}
				settling = Some(SettlementProgress {
					slot,
					step: SettlementStep::Gather { after: None },
					accounts: 0,
					totals: SettledSlot::default(),
				});
				continue;
			};
			match Self::advance(progress, &community, &mut meter) {
				Stepped::Paused => break,
				Stepped::Next => {}
				Stepped::Complete => settling = None,
			}
		}
		Settling::<T>::set(settling);
		meter.consumed()
	}

	/// The next slot to settle, if its readings window has closed and it is cleared. In the
	/// chain's first block, slots before it had no orders and no readings: settlement starts
	/// with the slot it is in.
	pub(crate) fn due_slot(community: &Community) -> Option<Slot> {
		let now = pallet_market::Pallet::<T>::now_seconds();
		let Some(next) = SettlementCursor::<T>::get() else {
			SettlementCursor::<T>::put(community.slot_at(now));
			return None;
		};
		let (_, window_end) = pallet_metering::Pallet::<T>::readings_window(next);
		let cleared = pallet_market::ClearingCursor::<T>::get().is_some_and(|c| c > next);
		(now >= window_end && cleared).then_some(next)
	}

	/// Takes `progress`'s current step as far as `meter` allows.
	pub(crate) fn advance(
		progress: &mut Progress<T>,
		community: &Community,
		meter: &mut WeightMeter,
	) -> Stepped {
		let slot = progress.slot;
		match &mut progress.step {
			SettlementStep::Gather { after } => {
				if !Self::gather(slot, after, &mut progress.accounts, community, meter) {
					return Stepped::Paused;
				}
				progress.step = SettlementStep::Solve;
			}
			SettlementStep::Solve => {
				let orders = ExPostInput::<T>::decode_len().unwrap_or(0) as u32;
				if meter.try_consume(Weights::<T>::settlement_solve(orders)).is_err() {
					return Stepped::Paused;
				}
				let (fills, ex_post) = Self::solve(slot, community);
				progress.totals.ex_post = ex_post;
				progress.step = match fills {
					0 => SettlementStep::PayIn { done: 0 },
					fills => SettlementStep::StoreExPost { fills, done: 0 },
				};
			}
			SettlementStep::StoreExPost { fills, done } => {
				*done += Self::store_ex_post(slot, *done, meter);
				if *done < *fills {
					return Stepped::Paused;
				}
				progress.step = SettlementStep::PayIn { done: 0 };
			}
			SettlementStep::PayIn { done } => {
				let tariffs = *TariffsInForce::<T>::get().for_slot(slot);
				let utility = pallet_market::Pallet::<T>::supplier_of(slot);
				let totals = &mut progress.totals;
				let step = Weights::<T>::settlement_pay_in;
				let all = Self::accounts_page(progress.accounts, done, step, meter, |i, mut a| {
					Self::pay_in(slot, &mut a, &tariffs, utility.as_ref(), totals);
					SettlingAccounts::<T>::insert(i, a);
				});
				if !all {
					return Stepped::Paused;
				}
				progress.step = SettlementStep::PayOut { done: 0 };
			}
			SettlementStep::PayOut { done } => {
				let day = day_of(slot, community);
				let tariffs = *TariffsInForce::<T>::get().for_slot(slot);
				let utility = pallet_market::Pallet::<T>::supplier_of(slot);
				let totals = &mut progress.totals;
				let step = Weights::<T>::settlement_pay_out;
				let all = Self::accounts_page(progress.accounts, done, step, meter, |i, a| {
					SettlingAccounts::<T>::remove(i);
					Self::pay_out(slot, day, a, &tariffs, utility.as_ref(), totals);
				});
				if !all {
					return Stepped::Paused;
				}
				return Self::finish(progress, community);
			}
			SettlementStep::Forget { old, kept, cursor } => {
				if !Self::forget(*old, *kept, cursor, meter) {
					return Stepped::Paused;
				}
				match kept.next() {
					Some(next) => *kept = next,
					None => return Stepped::Complete,
				}
			}
		}
		Stepped::Next
	}

	/// The grid `slot` was cleared with, or would have been had it had orders: the one in
	/// force at its gate closure, never one the DSO set after its delivery.
	fn grid_of(slot: Slot) -> pallet_market::Grid {
		ClearedSlots::<T>::get(slot)
			.map_or_else(|| pallet_market::Pallet::<T>::grid_of(slot), |c| c.grid)
	}

	/// Settles a page of the gathered accounts with `settle`, from the `done`th on, as many
	/// as `meter` allows at `step`'s weight; returns whether it reached the last.
	fn accounts_page(
		accounts: u32,
		done: &mut u32,
		step: fn(u32) -> Weight,
		meter: &mut WeightMeter,
		mut settle: impl FnMut(u32, SettlingAccount<T::AccountId>),
	) -> bool {
		let (page, per_account) = page_and_item(step);
		if meter.try_consume(page).is_err() {
			return false;
		}
		while *done < accounts {
			let Some(account) = SettlingAccounts::<T>::get(*done) else { break };
			let weight = per_account.saturating_mul(account.units().into());
			if meter.try_consume(weight).is_err() {
				return false;
			}
			settle(*done, account);
			*done += 1;
		}
		true
	}

	/// Removes a page of `kept` items of slot `old`, going on from `cursor`, as many as `meter`
	/// allows; returns whether none is left.
	fn forget(
		old: Slot,
		kept: Kept,
		cursor: &mut Option<BoundedVec<u8, ConstU32<MAX_KEY_LEN>>>,
		meter: &mut WeightMeter,
	) -> bool {
		let (page, per_item) = page_and_item(Weights::<T>::settlement_forget);
		if meter.try_consume(page).is_err() {
			return false;
		}
		let limit = meter.remaining().checked_div_per_component(&per_item).unwrap_or(0);
		let limit = limit.min(u32::MAX as u64) as u32;
		if limit == 0 {
			return false;
		}
		let from = cursor.as_ref().map(|c| c.as_slice());
		let removed = match kept {
			Kept::Records => Records::<T>::clear_prefix(old, limit, from),
			Kept::Estimates => Estimates::<T>::clear_prefix(old, limit, from),
			Kept::Readings => Readings::<T>::clear_prefix(old, limit, from),
			Kept::Fills => Fills::<T>::clear_prefix(old, limit, from),
			Kept::ExPostFills => ExPostFills::<T>::clear_prefix(old, limit, from),
		};
		meter.consume(per_item.saturating_mul(removed.loops.into()));
		let done = removed.maybe_cursor.is_none();
		// A key too long for the cursor cannot occur (`MAX_KEY_LEN`); were it to, the map's
		// clearing would start over from its first key, which is slower but still right.
		*cursor = removed.maybe_cursor.and_then(|c| BoundedVec::try_from(c).ok());
		done
	}

	/// Gathers a page of participants after `after`, as many as `meter` allows, into
	/// `SettlingAccounts` and their ex-post orders into `ExPostInput`. Returns whether every
	/// participant is gathered.
	///
	/// A participant admitted while the slot is being gathered is settled for it if the walk
	/// has not passed its place yet, and from the next slot if it has: its metering points'
	/// ledgers start with the first slot that counts them either way.
	pub(crate) fn gather(
		slot: Slot,
		after: &mut Option<T::AccountId>,
		accounts: &mut u32,
		community: &Community,
		meter: &mut WeightMeter,
	) -> bool {
		let (page, per_account) = page_and_item(Weights::<T>::settlement_gather);
		if meter.try_consume(page).is_err() {
			return false;
		}
		let zones = Self::grid_of(slot).engine_zones();
		let mut participants = match after.as_ref() {
			Some(a) => Participants::<T>::iter_from(Participants::<T>::hashed_key_for(a)),
			None => Participants::<T>::iter(),
		};
		loop {
			let Some((who, participant)) = participants.next() else { return true };
			let orders = AccountOrders::<T>::get(&who, slot);
			let weight = units(participant.metering_points.len(), orders.len());
			if meter.try_consume(per_account.saturating_mul(weight.into())).is_err() {
				return false;
			}
			let (account, offers) =
				Self::gather_account(slot, community, &who, &participant, &orders, &zones);
			for order in offers {
				// One order per metering point, within the community's bound.
				let _ = ExPostInput::<T>::try_append(order);
			}
			SettlingAccounts::<T>::insert(*accounts, account);
			*accounts += 1;
			*after = Some(who);
		}
	}

	/// One participant's account of `slot`: its metering points with their readings (or the
	/// estimates they are settled on) and corrections (`reconcile`), what its orders traded
	/// and hold, its terms; and its ex-post orders on the slot's grid (`zones`).
	fn gather_account(
		slot: Slot,
		community: &Community,
		who: &T::AccountId,
		participant: &Participant,
		orders: &[OrderId],
		zones: &[lem_clearing::Zone],
	) -> (SettlingAccount<T::AccountId>, Vec<BookOrder>) {
		let mut points: Vec<compute::Point> = participant
			.metering_points
			.iter()
			.map(|&id| compute::Point {
				id,
				zone: MeteringPoints::<T>::get(id).map_or(0, |m| m.zone),
				metered: None,
				bought_wh: 0,
				sold_wh: 0,
				correction_wh: 0,
				usual_import_wh: 0,
			})
			.collect();
		points.sort_by_key(|p| p.id);

		let mut ex_ante_amount = 0i128;
		let mut orders_held = 0u128;
		let mut price = compute::AveragePrice::default();
		for &id in orders {
			let Some(order) = Orders::<T>::get(id) else { continue };
			orders_held += order.held;
			let Some(fill) = Fills::<T>::get(slot, id) else { continue };
			price.add(fill.price_per_kwh, fill.energy_wh);
			let point = points.iter_mut().find(|p| p.id == order.metering_point);
			match order.side {
				Side::Bid => {
					ex_ante_amount -= fill.amount;
					if let Some(p) = point {
						p.bought_wh += fill.energy_wh;
					}
				}
				Side::Ask => {
					ex_ante_amount += fill.amount;
					if let Some(p) = point {
						p.sold_wh += fill.energy_wh;
					}
				}
			}
		}
		let day = day_of(slot, community);
		let hour = UsualImport::hour_of(slot, community.slot_seconds);
		for p in &mut points {
			let silent = Self::reconcile(p, slot, hour);
			// A meter silent this long is unplugged or broken: its owner trades no more on
			// estimates until the manager, told here, has it fixed and reinstates it.
			if silent >= community.silent_slots_before_stop
				&& participant.status == ParticipantStatus::Active
				&& pallet_market::Pallet::<T>::suspend_silent(who)
			{
				Self::deposit_event(Event::MeterSilent {
					who: who.clone(),
					metering_point: p.id,
					silent_slots: silent,
				});
			}
		}

		// A suspended participant does not trade, ex post either.
		let standing = StandingOrders::<T>::get(who)
			.and_then(|s| s.for_slot(slot).clone())
			.filter(|_| participant.status == ParticipantStatus::Active)
			.map(|s| {
				let spent = BudgetSpent::<T>::get(who)
					.filter(|(d, _)| *d == day)
					.map_or(0, |(_, spent)| spent);
				let on_hold =
					Currency::<T>::balance_on_hold(&MarketHold::StandingOrder.into(), who);
				compute::Standing {
					buy_limit_per_kwh: s.buy_limit_per_kwh,
					sell_limit_per_kwh: s.sell_limit_per_kwh,
					budget_left: s.daily_budget.saturating_sub(spent).min(on_hold),
				}
			});
		let offers = compute::offers(&points, standing, zones);
		let settling = SettlingAccount {
			who: who.clone(),
			points: BoundedVec::truncate_from(points),
			orders: orders.len() as u32,
			orders_held,
			ex_ante_amount,
			price,
			retail: *RetailChoices::<T>::get(who).for_slot(slot),
			paid_in: None,
		};
		(settling, offers)
	}

	/// Clears the gathered ex-post orders once, on the grid `slot` was cleared with, and keeps
	/// their fills in chunks for `store_ex_post`. Returns how many fills there are, and the
	/// clearing's result.
	pub(crate) fn solve(slot: Slot, community: &Community) -> (u32, Option<ClearedSlot>) {
		let grid = Self::grid_of(slot);
		let orders = ExPostInput::<T>::take().into_inner();
		let pricing = community.pricing.into();
		let Some(outcome) = compute::clear_ex_post(grid.engine_zones(), orders, pricing) else {
			return (0, None);
		};
		let fills: Vec<Fill> = outcome.fills.iter().map(Fill::from).collect();
		keep_in_chunks::<ExPostChunks<T>>(&fills);
		(fills.len() as u32, Some(ClearedSlot::from_outcome(grid, community.pricing, &outcome)))
	}

	/// Stores a page of the ex-post fills in `ExPostFills`, from the `done`th on, as many as
	/// `meter` allows and at most to the end of their chunk. Returns how many it stored.
	pub(crate) fn store_ex_post(slot: Slot, done: u32, meter: &mut WeightMeter) -> u32 {
		let (page, per_fill) = page_and_item(Weights::<T>::settlement_store_ex_post);
		if meter.try_consume(page).is_err() {
			return 0;
		}
		take_from_chunks::<ExPostChunks<T>>(done, per_fill, meter, |fill| {
			ExPostFills::<T>::insert(slot, fill.order, fill)
		})
	}

	/// An account pays in: its result is worked out with its ex-post fills; its orders leave
	/// the book and release what they held, and the budget hold releases what its ex-post bids
	/// spent, so that the transfers take exactly that money; it pays the community account what
	/// it owes the local market, and the slot's utility its supply, from its free balance, then
	/// its deposit. What the utility could not be paid is the account's debt to it from now on;
	/// what it was paid is held for the participants it owes, if it owes any.
	fn pay_in(
		slot: Slot,
		account: &mut SettlingAccount<T::AccountId>,
		tariffs: &Tariffs,
		utility: Option<&T::AccountId>,
		totals: &mut SettledSlot,
	) {
		let terms = compute::Account {
			who: (),
			points: account.points.to_vec(),
			ex_ante_amount: account.ex_ante_amount,
			retail_per_kwh: tariffs.retail(account.retail),
			feed_in_per_kwh: tariffs.feed_in_per_kwh,
			standing: None,
		};
		let r = compute::account_result(&terms, |id| ExPostFills::<T>::get(slot, id));
		let who = &account.who;
		for id in AccountOrders::<T>::take(who, slot) {
			Orders::<T>::remove(id);
		}
		let release = |reason: MarketHold, amount| {
			let _ = Currency::<T>::release(&reason.into(), who, amount, Precision::BestEffort);
		};
		release(MarketHold::Order, account.orders_held);
		if r.ex_post_paid > 0 {
			release(MarketHold::StandingOrder, r.ex_post_paid);
		}
		let take = pallet_market::Pallet::<T>::take;
		let (mut unpaid, mut from_deposit) = (0i128, 0u128);
		if r.market_amount < 0 {
			let owed = r.market_amount.unsigned_abs();
			let paid = take(who, &T::CommunityAccount::get(), owed, false);
			unpaid += (owed - paid) as i128;
			totals.community += paid as i128;
		}
		if r.to_utility() > 0 {
			let owed = r.to_utility() as u128;
			// Without a utility nobody supplied the slot: nobody can be paid, nor claim it.
			let paid = utility.map_or(0, |u| {
				let free = take(who, u, owed, false);
				from_deposit = take(who, u, owed - free, true);
				pallet_market::Pallet::<T>::add_debt(who, u, owed - free - from_deposit);
				pallet_market::Pallet::<T>::secure_supplier(u);
				free + from_deposit
			});
			unpaid += (owed - paid) as i128;
			totals.utility += paid as i128;
		}
		account.paid_in = Some(PaidIn { result: r, unpaid, from_deposit });
	}

	/// An account is paid out and recorded: the community account pays what the local market
	/// owes it; the slot's utility pays what it still owed it from earlier slots, then this
	/// slot's feed-in, from its free balance, then its deposit, and owes it what they could
	/// not pay; then the standing order and retail choice move on past the slot, its budget is
	/// released or held again, and its debt to the utility is collected from what it received.
	fn pay_out(
		slot: Slot,
		day: u64,
		account: SettlingAccount<T::AccountId>,
		tariffs: &Tariffs,
		utility: Option<&T::AccountId>,
		totals: &mut SettledSlot,
	) {
		let Some(PaidIn { result: r, mut unpaid, from_deposit }) = account.paid_in else {
			return;
		};
		let who = &account.who;
		let take = pallet_market::Pallet::<T>::take;
		if r.market_amount > 0 {
			let owed = r.market_amount as u128;
			let paid = take(&T::CommunityAccount::get(), who, owed, false);
			unpaid -= (owed - paid) as i128;
			totals.community -= paid as i128;
		}
		let credit_collected =
			utility.map_or(0, |u| pallet_market::Pallet::<T>::pay_supplier_debt(u, who));
		totals.utility -= credit_collected as i128;
		if r.to_utility() < 0 {
			let owed = r.to_utility().unsigned_abs();
			let paid = utility.map_or(0, |u| {
				let paid = take(u, who, owed, true);
				pallet_market::Pallet::<T>::add_supplier_debt(u, who, owed - paid);
				paid
			});
			unpaid -= (owed - paid) as i128;
			totals.utility -= paid as i128;
		}
		if r.ex_post_paid > 0 {
			BudgetSpent::<T>::mutate(who, |spent| {
				let before = spent.filter(|(d, _)| *d == day).map_or(0, |(_, s)| s);
				*spent = Some((day, before.saturating_add(r.ex_post_paid)));
			});
		}

		Self::apply_schedules(who, slot);
		let budget_released = Self::release_budget(who);
		// Its debts to utilities the council replaced are theirs to collect (`settle_debts`):
		// the slot's totals count the slot's utility alone.
		let debt_collected =
			utility.map_or(0, |u| pallet_market::Pallet::<T>::collect_debt_for(who, u));
		pallet_market::Pallet::<T>::top_up_deposit(who);
		totals.utility += debt_collected as i128;
		let (debt, credit) = utility.map_or((0, 0), |u| {
			(Debts::<T>::get(who, u), pallet_market::SupplierDebts::<T>::get(who, u))
		});
		if !budget_released {
			Self::top_up_budget(who);
		}

		let record = SettlementRecord {
			bought_wh: r.bought_wh,
			sold_wh: r.sold_wh,
			price_per_kwh: account.price.per_kwh(),
			ex_post_bought_wh: r.ex_post_bought_wh,
			ex_post_sold_wh: r.ex_post_sold_wh,
			ex_post_price_per_kwh: r.ex_post_price.per_kwh(),
			market_amount: r.market_amount,
			metered: r.metered,
			estimated: r.estimated,
			estimated_readings: r.estimated_readings,
			from_utility_wh: r.from_utility_wh,
			to_utility_wh: r.to_utility_wh,
			retail: account.retail,
			retail_per_kwh: tariffs.retail(account.retail),
			feed_in_per_kwh: tariffs.feed_in_per_kwh,
			utility_amount: r.utility_amount,
			corrected_wh: r.corrected_wh,
			correction_amount: r.correction_amount,
			unpaid,
			from_deposit,
			debt_collected,
			debt,
			credit_collected,
			credit,
		};
		totals.accounts += 1;
		totals.participants += record.balance_change();
		totals.estimated_readings += r.estimated_readings;
		Self::deposit_event(Event::AccountSettled {
			slot,
			who: who.clone(),
			balance_change: record.balance_change(),
			estimated_readings: r.estimated_readings,
			corrected_wh: r.corrected_wh,
			debt_collected,
			debt,
		});
		Records::<T>::insert(slot, who, record);
	}

	/// Every account of the slot is settled: the community account pays the DSO its fees and
	/// congestion rent of both clearings, and the slot's totals are stored and announced; the
	/// slot `retention_slots` before it leaves the window (its totals and cleared result now,
	/// its per-slot items in the `Forget` step).
	fn finish(progress: &mut Progress<T>, community: &Community) -> Stepped {
		let (slot, totals) = (progress.slot, &mut progress.totals);
		let ex_ante = ClearedSlots::<T>::get(slot).map_or(0, |c| c.dso_revenue);
		let owed = ex_ante + totals.ex_post.as_ref().map_or(0, |c| c.dso_revenue);
		// Without a DSO appointed its revenue stays with the community.
		if let Some(dso) = Roles::<T>::get(Role::Dso).filter(|_| owed > 0) {
			let owed = owed as u128;
			let paid =
				pallet_market::Pallet::<T>::take(&T::CommunityAccount::get(), &dso, owed, false);
			totals.dso_unpaid = owed - paid;
			totals.dso += paid as i128;
			totals.community -= paid as i128;
		}
		debug_assert_eq!(totals.imbalance(), Some(0));
		TariffsInForce::<T>::mutate(|t| t.settled(slot));
		pallet_market::Pallet::<T>::grid_settled(slot);
		pallet_market::Pallet::<T>::supplier_settled(slot);
		Self::deposit_event(Event::SlotSettled {
			slot,
			accounts: totals.accounts,
			estimated_readings: totals.estimated_readings,
			utility: totals.utility,
			dso: totals.dso,
			community: totals.community,
			dso_unpaid: totals.dso_unpaid,
		});
		SettledSlots::<T>::insert(slot, totals.clone());
		SettlementCursor::<T>::put(slot + 1);
		let Some(old) = slot.checked_sub(community.retention_slots as u64) else {
			return Stepped::Complete;
		};
		SettledSlots::<T>::remove(old);
		ClearedSlots::<T>::remove(old);
		progress.step = SettlementStep::Forget { old, kept: Kept::Records, cursor: None };
		Stepped::Next
	}
}
