//! # Settlement
//!
//! Settles every slot in the first block after its readings window (DESIGN.md, "Settlement"):
//!
//! - **Local trades** of the ex-ante clearing, at their prices; buyers pay through the
//!   community account, which pays the sellers and the DSO's fees and congestion rent and keeps
//!   the rounding remainder (and the spread under pay-as-bid).
//! - **Ex-post trades**: a participant with a standing order offers each metering point's
//!   deviation — metered net import less what its orders bought net — on the local market, a
//!   shortfall as a bid at its buy limit within what is left of the day's budget, a surplus as
//!   an ask at its sell limit; these orders are cleared on the slot's grid with the same engine.
//! - **Deviations with the utility**: what remains is bought from the utility at the
//!   participant's retail tariff (green or grey, its choice) or sold to it at feed-in. The
//!   utility sets the tariffs; a change applies from the next slot.
//! - **Missing readings** settle on an estimate that never favours the point's owner (it
//!   delivered nothing and took what it bought), marked in the record; once its registers are
//!   read again, a correction settles the true energy of the gap (`reconcile`).
//!
//! - **What the chain keeps**: a slot's records, readings, estimates, cleared result and both
//!   clearings' fills for the community's `retention_slots` settled slots; each settlement
//!   forgets the slot that leaves that window ([`Pallet::forget`]).
//!
//! Orders held what their settlement needs (a bid its payment, an ask the buy-back of its sold
//! energy at a retail tariff no higher than the community's `ask_hold_per_kwh`), and standing
//! orders hold their budget, so local trades are always paid; the holds are released. Supply
//! beyond that is paid from the free balance, then from the participant's deposit; what is
//! left is its debt, collected first from what it receives or gets back later.
//!
//! Money is conserved exactly: each slot's [`SettledSlot`] holds the balance changes of the
//! participants, the utility, the DSO and the community account, and they sum to zero
//! ([`Pallet::do_try_state`]). The arithmetic lives in [`compute`], free of storage.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod compute;
pub mod runtime_api;
pub mod types;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			tokens::Precision,
		},
	};
	use frame_system::pallet_prelude::*;
	use pallet_market::{
		AccountOrders, ClearedSlot, ClearedSlots, Community, CommunityParams, Debts, Fill, Fills,
		GridInForce, HoldReason as MarketHold, MeteringPointId, MeteringPoints, Orders,
		ParticipantStatus, Participants, Role, Roles, Scheduled, Side, Slot, StandingOrders,
		MAX_PRICE_PER_KWH,
	};
	use pallet_metering::{LastRegisters, Metered, Readings, Registers};

	type Currency<T> = <T as pallet_market::Config>::Currency;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		pallet_metering::Config + frame_system::Config<RuntimeEvent: From<Event<Self>>>
	{
		/// Receives the rounding remainder (and the spread under pay-as-bid). Buyers' payments
		/// pass through it on their way to sellers and the DSO.
		type CommunityAccount: Get<Self::AccountId>;

		type WeightInfo: WeightInfo;
	}

	/// The utility's tariffs, by slot.
	#[pallet::storage]
	pub type TariffsInForce<T> = StorageValue<_, TariffSchedule, ValueQuery>;

	/// Each participant's retail tariff, by slot; grey unless it chose green. A choice applies
	/// from the next slot.
	#[pallet::storage]
	pub type RetailChoices<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Scheduled<RetailChoice>, ValueQuery>;

	/// What settlement has counted of each metering point's energy (see [`MeterLedger`]).
	#[pallet::storage]
	pub type MeterLedgers<T> = StorageMap<_, Twox64Concat, MeteringPointId, MeterLedger>;

	/// The metering points each slot was settled on an estimate for.
	#[pallet::storage]
	pub type Estimates<T> =
		StorageDoubleMap<_, Twox64Concat, Slot, Twox64Concat, MeteringPointId, Estimate>;

	/// The next slot to settle; every earlier slot since the chain started is settled.
	#[pallet::storage]
	pub type SettlementCursor<T> = StorageValue<_, Slot>;

	/// Every account's record of every settled slot the community keeps.
	#[pallet::storage]
	pub type Records<T: Config> =
		StorageDoubleMap<_, Twox64Concat, Slot, Blake2_128Concat, T::AccountId, SettlementRecord>;

	#[pallet::storage]
	pub type SettledSlots<T> = StorageMap<_, Twox64Concat, Slot, SettledSlot>;

	/// Each settled slot's ex-post fills, one per metering point whose deviation was offered.
	#[pallet::storage]
	pub type ExPostFills<T> =
		StorageDoubleMap<_, Twox64Concat, Slot, Twox64Concat, MeteringPointId, Fill>;

	/// What each standing order spent on its latest day (days of UTC since the epoch).
	#[pallet::storage]
	pub type BudgetSpent<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, (u64, BalanceOf<T>)>;

	pub type BalanceOf<T> = pallet_market::BalanceOf<T>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		pub tariffs: Tariffs,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			Pallet::<T>::check_tariffs(&self.tariffs).expect("valid genesis tariffs");
			TariffsInForce::<T>::put(TariffSchedule::new(self.tariffs));
			// Market money passes through the community account, which must therefore exist
			// before the first payment into it, however small.
			let account = T::CommunityAccount::get();
			let minimum = Currency::<T>::minimum_balance();
			if Currency::<T>::balance(&account) < minimum {
				Currency::<T>::mint_into(&account, minimum).expect("the community account");
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The utility changed its tariffs, from `from_slot` on.
		TariffsSet { from_slot: Slot, tariffs: Tariffs },
		/// A participant's retail choice, from `from_slot` on.
		RetailChosen { who: T::AccountId, from_slot: Slot, choice: RetailChoice },
		/// An account's slot was settled; its record is in `Records`.
		AccountSettled {
			slot: Slot,
			who: T::AccountId,
			balance_change: i128,
			estimated_readings: u32,
			corrected_wh: i64,
			debt_collected: u128,
			debt: u128,
		},
		/// A slot was settled; the balance changes sum to zero.
		SlotSettled {
			slot: Slot,
			accounts: u32,
			estimated_readings: u32,
			utility: i128,
			dso: i128,
			community: i128,
			dso_unpaid: u128,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Only the utility may do this.
		NotUtility,
		/// The account is not an admitted participant.
		NotParticipant,
		/// A retail tariff above the community's `ask_hold_per_kwh`, which is what asks hold to
		/// buy back energy they sold and did not deliver.
		TariffAboveAskHold,
		/// A tariff above `MAX_PRICE_PER_KWH`.
		TariffOutOfRange,
		/// The previous change has not yet applied to every unsettled slot; try again once the
		/// slot before it is settled.
		TariffChangePending,
		/// The previous retail choice still applies to a slot not yet settled; try again once
		/// it is settled.
		RetailChangePending,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// The utility sets its tariffs for every slot after the current one.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::set_tariffs())]
		pub fn set_tariffs(origin: OriginFor<T>, tariffs: Tariffs) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(Roles::<T>::get(Role::Utility) == Some(who), Error::<T>::NotUtility);
			Self::check_tariffs(&tariffs)?;
			let from = Self::next_slot();
			TariffsInForce::<T>::try_mutate(|schedule| schedule.change(from, tariffs))
				.map_err(|_| Error::<T>::TariffChangePending)?;
			Self::deposit_event(Event::TariffsSet { from_slot: from, tariffs });
			Ok(())
		}

		/// A participant chooses its retail tariff, from the next slot on.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::choose_retail())]
		pub fn choose_retail(origin: OriginFor<T>, choice: RetailChoice) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(Participants::<T>::contains_key(&who), Error::<T>::NotParticipant);
			let from = Self::next_slot();
			RetailChoices::<T>::try_mutate(&who, |schedule| schedule.change(from, choice))
				.map_err(|_| Error::<T>::RetailChangePending)?;
			Self::deposit_event(Event::RetailChosen { who, from_slot: from, choice });
			Ok(())
		}
	}

	/// What settlement keeps of an account beside its `compute::Account`.
	struct Terms {
		/// Held by its orders of the slot.
		orders_held: u128,
		/// Of its ex-ante trades.
		price: compute::AveragePrice,
		retail: RetailChoice,
	}

	impl<T: Config> Pallet<T> {
		/// A change made now applies from this slot: the first one not yet being delivered.
		fn next_slot() -> Slot {
			let community = CommunityParams::<T>::get();
			community.slot_at(pallet_market::Pallet::<T>::now_seconds()) + 1
		}

		fn check_tariffs(t: &Tariffs) -> Result<(), Error<T>> {
			ensure!(
				t.retail_green_per_kwh.max(t.retail_grey_per_kwh).max(t.feed_in_per_kwh)
					<= MAX_PRICE_PER_KWH,
				Error::<T>::TariffOutOfRange
			);
			let ask_hold = CommunityParams::<T>::get().ask_hold_per_kwh;
			ensure!(
				t.retail_green_per_kwh.max(t.retail_grey_per_kwh) <= ask_hold,
				Error::<T>::TariffAboveAskHold
			);
			Ok(())
		}

		/// Settles the next slot if its readings window has closed and it has been cleared, and
		/// if its weight fits in `budget` or no slot is being cleared. (A slot is settled in one
		/// block, which for a full community weighs more than a block's share: it waits for a
		/// block that clearing does not need.) Returns the weight used.
		pub fn settle_due_slot(budget: Weight) -> Weight {
			let community = CommunityParams::<T>::get();
			let now = pallet_market::Pallet::<T>::now_seconds();
			let weight = T::DbWeight::get().reads(4);
			// Slots before the chain's first block had no orders and no readings.
			let Some(next) = SettlementCursor::<T>::get() else {
				SettlementCursor::<T>::put(community.slot_at(now));
				return weight.saturating_add(T::DbWeight::get().writes(1));
			};
			let (_, window_end) = pallet_metering::Pallet::<T>::readings_window(next);
			let cleared = pallet_market::ClearingCursor::<T>::get().is_some_and(|c| c > next);
			if now < window_end || !cleared {
				return weight;
			}
			// What the slot's orders add is known once they are read: the points alone decide.
			let points = MeteringPoints::<T>::count();
			let least = <T as Config>::WeightInfo::settle_slot(points);
			if !least.all_lte(budget) && pallet_market::Clearing::<T>::exists() {
				return weight;
			}
			let orders = Self::settle(next, &community);
			SettlementCursor::<T>::put(next + 1);
			Self::forget(next, &community);
			// The benchmark gives every metering point one order. A slot can hold more orders
			// than the community has metering points, so charge for whichever is more.
			weight.saturating_add(<T as Config>::WeightInfo::settle_slot(points.max(orders)))
		}

		/// Settles `slot` for every participant: gathers its orders, readings and terms,
		/// computes the amounts, moves the money, and stores the records. Returns the number of
		/// orders it took, filled or not.
		pub(crate) fn settle(slot: Slot, community: &Community) -> u32 {
			let cleared = ClearedSlots::<T>::get(slot);
			let tariffs = *TariffsInForce::<T>::get().for_slot(slot);
			let day = slot.saturating_mul(community.slot_seconds) / 86_400;

			let mut accounts = Vec::new();
			let mut terms = Vec::new();
			let mut orders_taken = 0u32;
			for (who, participant) in Participants::<T>::iter() {
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
					})
					.collect();
				points.sort_by_key(|p| p.id);

				// The slot's orders are done with once settled.
				let mut ex_ante_amount = 0i128;
				let mut orders_held = 0u128;
				let mut price = compute::AveragePrice::default();
				for id in AccountOrders::<T>::take(&who, slot) {
					let Some(order) = Orders::<T>::take(id) else { continue };
					orders_taken += 1;
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

				for p in &mut points {
					Self::reconcile(p, slot);
				}

				// A suspended participant does not trade, ex post either.
				let standing = StandingOrders::<T>::get(&who)
					.and_then(|s| s.for_slot(slot).clone())
					.filter(|_| participant.status == ParticipantStatus::Active)
					.map(|s| {
						let spent = BudgetSpent::<T>::get(&who)
							.filter(|(d, _)| *d == day)
							.map_or(0, |(_, spent)| spent);
						let on_hold =
							Currency::<T>::balance_on_hold(&MarketHold::StandingOrder.into(), &who);
						compute::Standing {
							buy_limit_per_kwh: s.buy_limit_per_kwh,
							sell_limit_per_kwh: s.sell_limit_per_kwh,
							budget_left: s.daily_budget.saturating_sub(spent).min(on_hold),
						}
					});
				let retail = *RetailChoices::<T>::get(&who).for_slot(slot);
				accounts.push(compute::Account {
					who,
					points,
					ex_ante_amount,
					retail_per_kwh: tariffs.retail(retail),
					feed_in_per_kwh: tariffs.feed_in_per_kwh,
					standing,
				});
				terms.push(Terms { orders_held, price, retail });
			}

			let grid = cleared.as_ref().map_or_else(GridInForce::<T>::get, |c| c.grid.clone());
			let input = compute::Slot {
				accounts,
				zones: grid.engine_zones(),
				pricing: community.pricing.into(),
				ex_ante_dso: cleared.as_ref().map_or(0, |c| c.dso_revenue),
				ex_ante_remainder: cleared.as_ref().map_or(0, |c| c.remainder),
			};
			let settled = compute::settle(&input);
			debug_assert_eq!(settled.imbalance(), 0);

			let summary = Self::pay_out(slot, day, &settled, &terms, &tariffs);
			TariffsInForce::<T>::mutate(|t| t.settled(slot));
			for fill in settled.ex_post.iter().flat_map(|o| &o.fills) {
				ExPostFills::<T>::insert(slot, fill.order, Fill::from(fill));
			}
			let ex_post = settled
				.ex_post
				.as_ref()
				.map(|o| ClearedSlot::from_outcome(grid, community.pricing, o));
			let summary = SettledSlot { ex_post, ..summary };
			Self::deposit_event(Event::SlotSettled {
				slot,
				accounts: summary.accounts,
				estimated_readings: summary.estimated_readings,
				utility: summary.utility,
				dso: summary.dso,
				community: summary.community,
				dso_unpaid: summary.dso_unpaid,
			});
			SettledSlots::<T>::insert(slot, summary);
			orders_taken
		}

		/// Reads a metering point's reading of `slot` into `point`, or records the estimate it
		/// is settled on instead, and works out its correction: once the point's registers are
		/// known at a later slot than the last reconciled reading (the baseline), the energy
		/// they advanced by in between, less what settlement counted for those slots, is the
		/// correction. Needs `point`'s orders (its estimate is what it bought).
		fn reconcile(point: &mut compute::Point, slot: Slot) {
			let mut ledger = MeterLedgers::<T>::get(point.id).unwrap_or(MeterLedger {
				since: slot,
				baseline: None,
				estimated: Metered::default(),
			});
			// The true energy of the slots after the baseline up to `registers`, less what
			// settlement counted for them; `estimated` is Σ estimates up to the same point.
			let correction = |b: Option<Baseline>, registers: Registers, estimated: Metered| {
				b.map_or(0, |b| {
					let import = registers.import_wh.saturating_sub(b.registers.import_wh) as i64
						- estimated.import_wh.saturating_sub(b.estimated.import_wh) as i64;
					let export = registers.export_wh.saturating_sub(b.registers.export_wh) as i64
						- estimated.export_wh.saturating_sub(b.estimated.export_wh) as i64;
					import - export
				})
			};
			match Readings::<T>::get(slot, point.id) {
				Some(r) => {
					point.metered = Some(r.metered);
					// The registers before this slot: where the slots since the baseline end.
					let before = Registers {
						slot: slot.saturating_sub(1),
						import_wh: r.registers.import_wh.saturating_sub(r.metered.import_wh),
						export_wh: r.registers.export_wh.saturating_sub(r.metered.export_wh),
					};
					point.correction_wh = correction(ledger.baseline, before, ledger.estimated);
					ledger.baseline =
						Some(Baseline { registers: r.registers, estimated: ledger.estimated });
				}
				None => {
					// A reading that came after its slot was settled on an estimate: every slot
					// up to it is settled, so it reconciles them.
					let late = LastRegisters::<T>::get(point.id).filter(|l| {
						l.slot < slot
							&& l.slot.saturating_add(1) >= ledger.since
							&& ledger.baseline.is_none_or(|b| l.slot > b.registers.slot)
					});
					// The estimates up to the late reading's slot. Before the chain's first
					// settlement of the point nothing was estimated. A settled slot's estimate is
					// gone only if the slot left the retention window (`TooOld` keeps readings
					// of such slots out); then nothing is reconciled now rather than from a
					// wrong sum, and the point's next reading in its own slot reconciles the gap.
					let through = late.and_then(|l| match l.slot < ledger.since {
						true => Some(Metered::default()),
						false => Estimates::<T>::get(l.slot, point.id).map(|e| e.through),
					});
					if let (Some(l), Some(through)) = (late, through) {
						point.correction_wh = correction(ledger.baseline, l, through);
						ledger.baseline = Some(Baseline { registers: l, estimated: through });
					}
					let energy = point.estimate();
					ledger.estimated.import_wh =
						ledger.estimated.import_wh.saturating_add(energy.import_wh);
					ledger.estimated.export_wh =
						ledger.estimated.export_wh.saturating_add(energy.export_wh);
					Estimates::<T>::insert(
						slot,
						point.id,
						Estimate { energy, through: ledger.estimated },
					);
				}
			}
			MeterLedgers::<T>::insert(point.id, ledger);
		}

		/// Moves the money of a settled slot and stores its records. Payers pay first, so the
		/// community account holds the buyers' money before it pays sellers and the DSO; what a
		/// participant owes the utility and cannot pay from its balance is taken from its
		/// deposit, and what is left becomes its debt, collected first from what it receives.
		fn pay_out(
			slot: Slot,
			day: u64,
			settled: &compute::Settled<T::AccountId>,
			terms: &[Terms],
			tariffs: &Tariffs,
		) -> SettledSlot {
			let community_account = T::CommunityAccount::get();
			let utility = Roles::<T>::get(Role::Utility);
			let dso = Roles::<T>::get(Role::Dso);
			let mut summary = SettledSlot {
				accounts: settled.accounts.len() as u32,
				estimated_readings: 0,
				ex_post: None,
				participants: 0,
				utility: 0,
				dso: 0,
				community: 0,
				dso_unpaid: 0,
			};
			let n = settled.accounts.len();
			let (mut unpaid, mut from_deposit) = (alloc::vec![0i128; n], alloc::vec![0u128; n]);
			// What each account could not pay the utility: only this becomes a debt to it.
			let mut owed_to_utility = alloc::vec![0u128; n];
			let take = pallet_market::Pallet::<T>::take;

			for (i, ((who, r), terms)) in settled.accounts.iter().zip(terms).enumerate() {
				// The holds guaranteed these payments; freeing them lets the transfers below
				// take exactly that money.
				let _ = Currency::<T>::release(
					&MarketHold::Order.into(),
					who,
					terms.orders_held,
					Precision::BestEffort,
				);
				if r.ex_post_paid > 0 {
					let _ = Currency::<T>::release(
						&MarketHold::StandingOrder.into(),
						who,
						r.ex_post_paid,
						Precision::BestEffort,
					);
				}
				if r.market_amount < 0 {
					let owed = r.market_amount.unsigned_abs();
					let paid = take(who, &community_account, owed, false);
					unpaid[i] += (owed - paid) as i128;
					summary.community += paid as i128;
				}
				let to_utility = -(r.utility_amount + r.correction_amount);
				if to_utility > 0 {
					let owed = to_utility as u128;
					// Without a utility appointed nobody can be paid: all of it is owed.
					let paid = utility.as_ref().map_or(0, |u| {
						let free = take(who, u, owed, false);
						from_deposit[i] = take(who, u, owed - free, true);
						free + from_deposit[i]
					});
					owed_to_utility[i] = owed - paid;
					unpaid[i] += (owed - paid) as i128;
					summary.utility += paid as i128;
				}
			}

			for (i, (who, r)) in settled.accounts.iter().enumerate() {
				if r.market_amount > 0 {
					let owed = r.market_amount as u128;
					let paid = take(&community_account, who, owed, false);
					unpaid[i] -= (owed - paid) as i128;
					summary.community -= paid as i128;
				}
				let from_utility = r.utility_amount + r.correction_amount;
				if from_utility > 0 {
					let owed = from_utility as u128;
					let paid = utility.as_ref().map_or(0, |u| take(u, who, owed, false));
					unpaid[i] -= (owed - paid) as i128;
					summary.utility -= paid as i128;
				}
				if r.ex_post_paid > 0 {
					BudgetSpent::<T>::mutate(who, |spent| {
						let before = spent.filter(|(d, _)| *d == day).map_or(0, |(_, s)| s);
						*spent = Some((day, before.saturating_add(r.ex_post_paid)));
					});
				}
			}
			// Without a DSO appointed its revenue stays with the community.
			if let Some(dso) = dso.filter(|_| settled.dso > 0) {
				let owed = settled.dso as u128;
				let paid = take(&community_account, &dso, owed, false);
				summary.dso_unpaid = owed - paid;
				summary.dso += paid as i128;
				summary.community -= paid as i128;
			}

			for (i, ((who, r), terms)) in settled.accounts.iter().zip(terms).enumerate() {
				// What the utility could not be paid is a debt, and what the account received
				// pays its debts first.
				let debt_before = Debts::<T>::get(who).saturating_add(owed_to_utility[i]);
				if debt_before > 0 {
					Debts::<T>::insert(who, debt_before);
				}
				Self::apply_schedules(who, slot);
				let budget_released = Self::release_budget(who);
				pallet_market::Pallet::<T>::collect_debt(who);
				let debt = Debts::<T>::get(who);
				let debt_collected = debt_before - debt;
				summary.utility += debt_collected as i128;
				if !budget_released {
					Self::top_up_budget(who);
				}

				let record = SettlementRecord {
					bought_wh: r.bought_wh,
					sold_wh: r.sold_wh,
					price_per_kwh: terms.price.per_kwh(),
					ex_post_bought_wh: r.ex_post_bought_wh,
					ex_post_sold_wh: r.ex_post_sold_wh,
					ex_post_price_per_kwh: r.ex_post_price.per_kwh(),
					market_amount: r.market_amount,
					metered: r.metered,
					estimated: r.estimated,
					estimated_readings: r.estimated_readings,
					from_utility_wh: r.from_utility_wh,
					to_utility_wh: r.to_utility_wh,
					retail: terms.retail,
					retail_per_kwh: tariffs.retail(terms.retail),
					feed_in_per_kwh: tariffs.feed_in_per_kwh,
					utility_amount: r.utility_amount,
					corrected_wh: r.corrected_wh,
					correction_amount: r.correction_amount,
					unpaid: unpaid[i],
					from_deposit: from_deposit[i],
					debt_collected,
					debt,
				};
				summary.participants += record.balance_change();
				summary.estimated_readings += r.estimated_readings;
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
			summary
		}

		/// `slot` is settled: a standing order or retail choice changed for a later slot no
		/// longer needs its value from before the change.
		fn apply_schedules(who: &T::AccountId, slot: Slot) {
			StandingOrders::<T>::mutate_exists(who, |s| {
				if let Some(schedule) = s {
					schedule.settled(slot);
					if !schedule.pending() && schedule.current.is_none() {
						*s = None;
					}
				}
			});
			RetailChoices::<T>::mutate_exists(who, |c| {
				if let Some(choice) = c {
					choice.settled(slot);
				}
			});
		}

		/// What the standing order's schedule needs held for its budget (see
		/// `pallet_market::Pallet::budget_needed`), and what is held.
		fn budget(who: &T::AccountId) -> (u128, u128) {
			let needed = StandingOrders::<T>::get(who)
				.map_or(0, |s| pallet_market::Pallet::<T>::budget_needed(&s));
			(needed, Currency::<T>::balance_on_hold(&MarketHold::StandingOrder.into(), who))
		}

		/// Releases what a lowered or removed budget no longer needs; returns whether it did.
		fn release_budget(who: &T::AccountId) -> bool {
			let (needed, held) = Self::budget(who);
			if held <= needed {
				return false;
			}
			let reason = MarketHold::StandingOrder.into();
			Currency::<T>::release(&reason, who, held - needed, Precision::BestEffort).is_ok()
		}

		/// Holds again what ex-post purchases spent of the budget, as far as the free balance
		/// allows once the account owes nothing.
		fn top_up_budget(who: &T::AccountId) {
			let (needed, _) = Self::budget(who);
			pallet_market::Pallet::<T>::hold_up_to(who, MarketHold::StandingOrder, needed);
		}

		/// Forgets the slot that leaves the retention window as `settled` is settled: its
		/// records and totals, its cleared slot, both clearings' fills, readings and estimates.
		/// Slots settle one after the other, so they leave in order too, and each holds at most
		/// one entry per account, order or metering point of the community. Nothing later needs
		/// them: a late reading is refused once its slot is this old
		/// (`pallet_metering::Error::TooOld`), and the meter ledgers carry what corrections need.
		pub(crate) fn forget(settled: Slot, community: &Community) {
			let Some(old) = settled.checked_sub(community.retention_slots as u64) else { return };
			let _ = Records::<T>::clear_prefix(old, u32::MAX, None);
			let _ = Estimates::<T>::clear_prefix(old, u32::MAX, None);
			let _ = Readings::<T>::clear_prefix(old, u32::MAX, None);
			let _ = Fills::<T>::clear_prefix(old, u32::MAX, None);
			let _ = ExPostFills::<T>::clear_prefix(old, u32::MAX, None);
			SettledSlots::<T>::remove(old);
			ClearedSlots::<T>::remove(old);
		}

		/// A page of a settled slot's ex-post fills (see [`pallet_market::fills_page`]).
		pub fn ex_post_fills(slot: Slot, after: Option<MeteringPointId>) -> Vec<Fill> {
			pallet_market::fills_page::<ExPostFills<T>>(slot, after)
		}

		/// The oldest settled slot the chain still keeps, if any slot is settled.
		pub fn oldest_kept() -> Option<Slot> {
			let next = SettlementCursor::<T>::get()?;
			let kept = CommunityParams::<T>::get().retention_slots as u64;
			Some(next.saturating_sub(kept))
		}

		/// A page of the records of slots `from..=to`, of one account or of all, starting in
		/// slot `from` after account `after`: at most [`MAX_PAGE_RECORDS`] records of at most
		/// [`MAX_QUERY_SLOTS`] slots, so that no call reads an unbounded part of the state.
		pub fn settlements(
			from: Slot,
			to: Slot,
			who: Option<T::AccountId>,
			mut after: Option<T::AccountId>,
		) -> SettlementsPage<T::AccountId> {
			let last = to.min(from.saturating_add(MAX_QUERY_SLOTS - 1));
			let mut records: Vec<(Slot, T::AccountId, SettlementRecord)> = Vec::new();
			for slot in from..=last {
				let start = after.take();
				// One account's record, unless the page before ended on it; or every account's.
				let mine = who.as_ref().filter(|_| start.is_none()).and_then(|who| {
					Records::<T>::get(slot, who).map(|record| (who.clone(), record))
				});
				let all = who.is_none().then(|| match &start {
					Some(a) => {
						Records::<T>::iter_prefix_from(slot, Records::<T>::hashed_key_for(slot, a))
					}
					None => Records::<T>::iter_prefix(slot),
				});
				let stored = mine.into_iter().chain(all.into_iter().flatten());
				for (account, record) in stored {
					if records.len() as u32 == MAX_PAGE_RECORDS {
						// Resume after the last record if it is of this slot, else at its start.
						let resume =
							records.last().filter(|r| r.0 == slot).map(|(_, a, _)| a.clone());
						return SettlementsPage { records, next: Some((slot, resume)) };
					}
					records.push((slot, account, record));
				}
			}
			let next = (last < to).then(|| (last + 1, None));
			SettlementsPage { records, next }
		}

		/// Every settled slot conserves money, and its records add up to it; nothing older than
		/// the community keeps is left. Bounded by the retention window.
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let oldest = Self::oldest_kept().unwrap_or(0);
			for (slot, s) in SettledSlots::<T>::iter() {
				ensure!(slot >= oldest, "a settled slot outlived the retention window");
				ensure!(s.imbalance() == Some(0), "a settled slot created or destroyed money");
				let (mut accounts, mut total) = (0u32, 0i128);
				for (_, r) in Records::<T>::iter_prefix(slot) {
					accounts += 1;
					total += r.balance_change();
				}
				ensure!(
					accounts == s.accounts && total == s.participants,
					"a settled slot's records do not add up to it"
				);
			}
			Ok(())
		}
	}
}
