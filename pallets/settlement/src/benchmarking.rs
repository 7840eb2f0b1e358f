//! FRAME benchmarks of the tariff calls and of each step of settling a slot, per page of N
//! accounts at their worst: each its own participant with one metering point, a filled order,
//! a standing order, feed-in the utility owes it from earlier slots (the utility paying from
//! its deposit and holding what it receives), and either a reading that deviates from what it traded
//! and corrects earlier estimates, or no reading but a late one of an earlier slot, so that
//! every point trades ex post or is estimated, deals with the utility, and every account moves
//! money both ways.

use super::*;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::*,
	traits::fungible::{Inspect, Mutate},
	weights::WeightMeter,
};
use frame_system::RawOrigin;
use pallet_market::{
	demo, BenchmarkHelper, BookOrder, Community, CommunityParams, Fill, GridInForce, HoldReason,
	MeteringPointId, Role, Roles, Scheduled, Side, Slot, FILLS_PER_CHUNK,
	MAX_COMMUNITY_METERING_POINTS,
};
use pallet_metering::{AcceptedReading, LastRegisters, Metered, Readings, Registers};
use tick_impls::Stepped;

/// Accounts per page the benchmarks go up to: most of a block's share (which holds about 700).
/// A page's weight is linear in its accounts; only the ex-post clearing runs over a whole
/// community, and it is measured at the largest one.
const PAGE: u32 = 512;

const FUNDS: u128 = 1_000_000_000_000_000;

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId {
	let who: T::AccountId = account(name, i, 0);
	<T as pallet_market::Config>::Currency::set_balance(&who, FUNDS);
	who
}

/// The default community on the demo grid, with a manager, a DSO, a utility and tariffs, and
/// none of the participants the chain spec may bring: a benchmark's `n` is all there is. A
/// point without a reading stops its owner at once, so that settling it costs the suspension
/// too.
fn community<T: Config>() -> (T::AccountId, T::AccountId) {
	let _ = pallet_market::Participants::<T>::clear(u32::MAX, None);
	let _ = pallet_market::MeteringPoints::<T>::clear(u32::MAX, None);
	CommunityParams::<T>::put(Community { silent_slots_before_stop: 1, ..Default::default() });
	GridInForce::<T>::put(demo::grid());
	let manager = funded::<T>("manager", 0);
	let utility = funded::<T>("utility", 0);
	Roles::<T>::insert(Role::Manager, &manager);
	Roles::<T>::insert(Role::Dso, funded::<T>("dso", 0));
	Roles::<T>::insert(Role::Utility, &utility);
	pallet_market::Suppliers::<T>::put(Scheduled::new(Some(utility.clone())));
	// Its free balance is short of what it owes: it pays from its deposit.
	let deposit = <T as pallet_market::Config>::Currency::balance(&utility) - 1_000_000;
	pallet_market::Pallet::<T>::hold_up_to(&utility, HoldReason::Deposit, deposit);
	funded::<T>("community", 0);
	let tariffs = Tariffs {
		retail_green_per_kwh: 320_000,
		retail_grey_per_kwh: 300_000,
		feed_in_per_kwh: 80_000,
	};
	TariffsInForce::<T>::put(TariffSchedule::new(tariffs));
	(manager, utility)
}

fn participant<T: Config>(manager: &T::AccountId, i: u32) -> T::AccountId {
	let who = funded::<T>("participant", i);
	let zone = demo::STREETS[i as usize % demo::STREETS.len()];
	pallet_market::Pallet::<T>::admit_participant(
		RawOrigin::Signed(manager.clone()).into(),
		who.clone(),
		BoundedVec::truncate_from(vec![pallet_market::NewMeteringPoint {
			id: i as MeteringPointId,
			zone,
			rated_power_w: 30_000,
		}]),
		10_000_000,
	)
	.expect("fresh participant");
	who
}

/// Slot 1 cleared with `n` participants' orders, their readings and ledgers in place; slot 0
/// leaves the retention window as slot 1 settles. Returns slot 1 and the community.
fn slot_to_settle<T: Config>(n: u32) -> (Slot, Community) {
	let (manager, utility) = community::<T>();
	CommunityParams::<T>::mutate(|c| c.retention_slots = 1);
	let community = CommunityParams::<T>::get();
	let (old, slot) = (0, 1);
	// The clock stands at 0: set the clearing cursor, place the orders, then clear slot 1 at
	// its gate closure.
	pallet_market::Pallet::<T>::clear_due_slots(Weight::MAX);
	for i in 0..n {
		let who = participant::<T>(&manager, i);
		let side = if i % 2 == 0 { Side::Ask } else { Side::Bid };
		pallet_market::Pallet::<T>::place_order(
			RawOrigin::Signed(who.clone()).into(),
			i as MeteringPointId,
			slot,
			side,
			1_000 + (i as u64 * 97) % 2_000,
			100_000 + (i as u64 * 331) % 100_000,
		)
		.expect("open slot");
		pallet_market::Pallet::<T>::set_standing_order(
			RawOrigin::Signed(who.clone()).into(),
			150_000,
			90_000,
			10_000_000,
		)
		.expect("funded");
		pallet_market::Pallet::<T>::add_supplier_debt(&utility, &who, 2_000_000);
		let id = i as MeteringPointId;
		Estimates::<T>::insert(old, id, Estimate::default());
		let before = Registers { slot: old, import_wh: 10_000, export_wh: 5_000 };
		if side == Side::Ask {
			// No reading: settled on an estimate, after reconciling a late reading of slot 0.
			LastRegisters::<T>::insert(id, before);
			MeterLedgers::<T>::insert(id, MeterLedger::new(0));
		} else {
			// A buyer took more than it bid for, and its registers correct an estimate.
			let metered = Metered { import_wh: 3_500, export_wh: 0 };
			let registers = Registers { slot, import_wh: 14_000, export_wh: 5_000 };
			Readings::<T>::insert(slot, id, AcceptedReading { metered, registers });
			LastRegisters::<T>::insert(id, registers);
			MeterLedgers::<T>::insert(
				id,
				MeterLedger {
					baseline: Some(Baseline { registers: before, estimated: Metered::default() }),
					estimated: Metered { import_wh: 100, export_wh: 0 },
					..MeterLedger::new(0)
				},
			);
		}
	}
	<T as pallet_market::Config>::BenchmarkHelper::set_time(community.gate_closure(slot));
	pallet_market::Pallet::<T>::clear_due_slots(Weight::MAX);
	let cleared = pallet_market::ClearedSlots::<T>::get(slot).expect("cleared");
	pallet_market::ClearedSlots::<T>::insert(old, cleared);
	SettledSlots::<T>::insert(old, SettledSlot::default());
	(slot, community)
}

/// `slot`'s settlement, taken up to the first step `at` accepts.
fn progress_at<T: Config>(
	slot: Slot,
	community: &Community,
	at: impl Fn(&SettlementStep<T::AccountId>) -> bool,
) -> SettlementProgress<T::AccountId> {
	let mut progress = SettlementProgress {
		slot,
		step: SettlementStep::Gather { after: None },
		accounts: 0,
		totals: SettledSlot::default(),
	};
	while !at(&progress.step) {
		Pallet::<T>::advance(&mut progress, community, &mut WeightMeter::new());
	}
	progress
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn set_tariffs() {
		let (_, utility) = community::<T>();
		let tariffs = Tariffs {
			retail_green_per_kwh: 330_000,
			retail_grey_per_kwh: 310_000,
			feed_in_per_kwh: 70_000,
		};

		#[extrinsic_call]
		_(RawOrigin::Signed(utility), tariffs);

		assert_eq!(TariffsInForce::<T>::get().current, tariffs);
	}

	#[benchmark]
	fn choose_retail() {
		let (manager, _) = community::<T>();
		let who = participant::<T>(&manager, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), RetailChoice::Green);

		assert_eq!(RetailChoices::<T>::get(&who).current, RetailChoice::Green);
	}

	/// The cursors read, and a slot found due.
	#[benchmark]
	fn settlement_start() {
		let (slot, _) = slot_to_settle::<T>(1);
		SettlementCursor::<T>::put(slot);
		let (_, window_end) = pallet_metering::Pallet::<T>::readings_window(slot);
		<T as pallet_market::Config>::BenchmarkHelper::set_time(window_end);
		let due;

		#[block]
		{
			let _ = Settling::<T>::get();
			due = Pallet::<T>::due_slot(&CommunityParams::<T>::get());
		}

		assert_eq!(due, Some(slot));
	}

	#[benchmark]
	fn settlement_gather(n: Linear<1, PAGE>) {
		let (slot, community) = slot_to_settle::<T>(n);
		let (mut after, mut accounts) = (None, 0);
		let gathered;

		#[block]
		{
			gathered = Pallet::<T>::gather(
				slot,
				&mut after,
				&mut accounts,
				&community,
				&mut WeightMeter::new(),
			);
		}

		assert!(gathered);
		assert_eq!(accounts, n);
	}

	#[benchmark]
	fn settlement_solve(n: Linear<1, MAX_COMMUNITY_METERING_POINTS>) {
		community::<T>();
		let (slot, community) = (1, CommunityParams::<T>::get());
		// Shortfalls and surpluses in every street, at limits that cross.
		for i in 0..n {
			let order = BookOrder {
				id: i as MeteringPointId,
				side: if i % 2 == 0 { Side::Ask } else { Side::Bid },
				zone: demo::STREETS[i as usize % demo::STREETS.len()],
				energy_wh: 500 + (i as u64 * 97) % 2_000,
				limit_per_kwh: 60_000 + (i as u64 * 331) % 100_000,
			};
			ExPostInput::<T>::try_append(order).expect("within the bound");
		}
		let fills;

		#[block]
		{
			fills = Pallet::<T>::solve(slot, &community).0;
		}

		assert_eq!(fills, n);
	}

	#[benchmark]
	fn settlement_store_ex_post(n: Linear<1, FILLS_PER_CHUNK>) {
		let fills = (0..n)
			.map(|i| Fill {
				order: i as u64,
				energy_wh: 1_000,
				price_per_kwh: 100_000,
				amount: 100,
			})
			.collect::<Vec<_>>();
		ExPostChunks::<T>::insert(0, BoundedVec::truncate_from(fills));
		let stored;

		#[block]
		{
			stored = Pallet::<T>::store_ex_post(1, 0, &mut WeightMeter::new());
		}

		assert_eq!(stored, n);
		assert!(ExPostChunks::<T>::get(0).is_none());
	}

	#[benchmark]
	fn settlement_pay_in(n: Linear<1, PAGE>) {
		let (slot, community) = slot_to_settle::<T>(n);
		let mut progress =
			progress_at::<T>(slot, &community, |s| matches!(s, SettlementStep::PayIn { .. }));

		#[block]
		{
			Pallet::<T>::advance(&mut progress, &community, &mut WeightMeter::new());
		}

		assert_eq!(progress.step, SettlementStep::PayOut { done: 0 });
	}

	#[benchmark]
	fn settlement_pay_out(n: Linear<1, PAGE>) {
		let (slot, community) = slot_to_settle::<T>(n);
		let mut progress =
			progress_at::<T>(slot, &community, |s| matches!(s, SettlementStep::PayOut { .. }));

		#[block]
		{
			Pallet::<T>::advance(&mut progress, &community, &mut WeightMeter::new());
		}

		let settled = SettledSlots::<T>::get(slot).expect("settled");
		assert_eq!(settled.accounts, n);
		assert_eq!(settled.imbalance(), Some(0));
		assert!(!pallet_market::ClearedSlots::<T>::contains_key(0));
	}

	#[benchmark]
	fn settlement_forget(n: Linear<1, 1_024>) {
		let community = CommunityParams::<T>::get();
		let old = 0;
		for i in 0..n {
			Records::<T>::insert(
				old,
				account::<T::AccountId>("participant", i, 0),
				SettlementRecord::default(),
			);
		}
		let mut progress = SettlementProgress {
			slot: 1,
			step: SettlementStep::Forget { old, kept: Kept::Records, cursor: None },
			accounts: 0,
			totals: SettledSlot::default(),
		};
		let stepped;

		#[block]
		{
			stepped = Pallet::<T>::advance(&mut progress, &community, &mut WeightMeter::new());
		}

		assert!(matches!(stepped, Stepped::Next));
		assert!(Records::<T>::iter_prefix(old).next().is_none());
	}
}
