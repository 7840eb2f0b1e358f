//! # Settlement
//!
//! Settles every slot once its readings window has closed, a page of accounts at a time over as
//! many blocks as the community needs (`tick_impls`; DESIGN.md, "Settlement"):
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
//!   forgets the slot that leaves that window, a page at a time.
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
mod tick_impls;
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
		BookOrder, CommunityParams, Fill, FillChunk, HoldReason as MarketHold, MeteringPointId,
		Participants, Role, Roles, Scheduled, Slot, StandingOrders, MAX_COMMUNITY_METERING_POINTS,
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

	/// The slot being settled and how far it has come; none between slots.
	#[pallet::storage]
	pub type Settling<T: Config> = StorageValue<_, SettlementProgress<T::AccountId>>;

	/// The accounts of the slot being settled, under the order they were gathered in, each until
	/// it is paid out.
	#[pallet::storage]
	pub type SettlingAccounts<T: Config> =
		StorageMap<_, Twox64Concat, u32, SettlingAccount<T::AccountId>>;

	/// The ex-post orders of the slot being settled, as gathered so far: one per metering point
	/// at most.
	#[pallet::storage]
	pub type ExPostInput<T> =
		StorageValue<_, BoundedVec<BookOrder, ConstU32<MAX_COMMUNITY_METERING_POINTS>>, ValueQuery>;

	/// The ex-post clearing's fills of the slot being settled, ascending by metering point, in
	/// chunks of `FILLS_PER_CHUNK`, each removed once stored in `ExPostFills`.
	#[pallet::storage]
	pub type ExPostChunks<T> = StorageMap<_, Twox64Concat, u32, FillChunk>;

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
			// The market's genesis is built first: this is the community's own limit.
			let max_points = CommunityParams::<T>::get().max_metering_points;
			assert!(
				Pallet::<T>::settlement_progresses_within(
					pallet_market::Pallet::<T>::tick_share(),
					max_points
				),
				"settlement must make progress in every block's share"
			);
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
		/// A participant's metering point has gone `silent_slots` slots in a row without a
		/// reading: it is suspended, its orders and standing order stop, and the manager is to
		/// have the meter or its gateway fixed (`Metering::propose_meter_exchange` for a new
		/// meter) before reinstating it.
		MeterSilent { who: T::AccountId, metering_point: MeteringPointId, silent_slots: u32 },
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

		/// Reads a metering point's reading of `slot` into `point`, or records the estimate it
		/// is settled on instead, and works out its correction: once the point's registers are
		/// known at a later slot than the last reconciled reading (the baseline), the energy
		/// they advanced by in between, less what settlement counted for those slots, is the
		/// correction. Needs `point`'s orders (its estimate is at least what it bought). A
		/// reading teaches the point's usual import in `hour`, which a missing one is estimated
		/// at. Returns how many slots in a row the point has now gone without a reading.
		pub(crate) fn reconcile(point: &mut compute::Point, slot: Slot, hour: usize) -> u32 {
			let mut ledger =
				MeterLedgers::<T>::get(point.id).unwrap_or_else(|| MeterLedger::new(slot));
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
					ledger
						.usual
						.record(hour, r.metered.import_wh.saturating_sub(r.metered.export_wh));
					ledger.silent = 0;
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
					point.usual_import_wh = ledger.usual.in_hour(hour);
					ledger.silent = ledger.silent.saturating_add(1);
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
			let silent = ledger.silent;
			MeterLedgers::<T>::insert(point.id, ledger);
			silent
		}

		/// `slot` is settled: a standing order or retail choice changed for a later slot no
		/// longer needs its value from before the change.
		pub(crate) fn apply_schedules(who: &T::AccountId, slot: Slot) {
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
		pub(crate) fn release_budget(who: &T::AccountId) -> bool {
			let (needed, held) = Self::budget(who);
			if held <= needed {
				return false;
			}
			let reason = MarketHold::StandingOrder.into();
			Currency::<T>::release(&reason, who, held - needed, Precision::BestEffort).is_ok()
		}

		/// Holds again what ex-post purchases spent of the budget, as far as the free balance
		/// allows once the account owes nothing.
		pub(crate) fn top_up_budget(who: &T::AccountId) {
			let (needed, _) = Self::budget(who);
			pallet_market::Pallet::<T>::hold_up_to(who, MarketHold::StandingOrder, needed);
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
			// A slot being settled has some records and no totals yet, and one being forgotten
			// no totals any more: only settled slots within the window are answered for.
			let kept = Self::oldest_kept()
				.zip(SettlementCursor::<T>::get())
				.map_or(0..0, |(oldest, next)| oldest..next);
			for slot in (from..=last).filter(|slot| kept.contains(slot)) {
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
		/// the community keeps is left, nor anything of a slot's settlement once it is done.
		/// Bounded by the retention window.
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			if Settling::<T>::get().is_none() {
				ensure!(
					SettlingAccounts::<T>::iter_keys().next().is_none()
						&& ExPostInput::<T>::get().is_empty()
						&& ExPostChunks::<T>::iter_keys().next().is_none(),
					"a slot's settlement left work behind"
				);
			}
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
