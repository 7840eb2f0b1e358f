//! FRAME benchmarks of the tariff calls and of settling a slot of a community with N metering
//! points at its worst: each point its own participant with a filled order, a standing order,
//! a debt to collect, and either a reading that deviates from what it traded and corrects
//! earlier estimates, or no reading but a late one of an earlier slot, so that every point
//! trades ex post or is estimated, deals with the utility, and every account moves money both
//! ways; and the slot that leaves the retention window then has a record, a reading and an
//! estimate for every one of them to forget.

use super::*;
use alloc::vec;
use frame_benchmarking::v2::*;
use frame_support::{pallet_prelude::*, traits::fungible::Mutate};
use frame_system::RawOrigin;
use pallet_market::{
	demo, BenchmarkHelper, Community, CommunityParams, GridInForce, MeteringPointId, Role, Roles,
	Side, MAX_COMMUNITY_METERING_POINTS,
};
use pallet_metering::{AcceptedReading, LastRegisters, Metered, Readings, Registers};

const FUNDS: u128 = 1_000_000_000_000_000;

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId {
	let who: T::AccountId = account(name, i, 0);
	<T as pallet_market::Config>::Currency::set_balance(&who, FUNDS);
	who
}

/// The default community on the demo grid, with a manager, a DSO, a utility and tariffs, and
/// none of the participants the chain spec may bring: a benchmark's `n` is all there is.
fn community<T: Config>() -> (T::AccountId, T::AccountId) {
	let _ = pallet_market::Participants::<T>::clear(u32::MAX, None);
	let _ = pallet_market::MeteringPoints::<T>::clear(u32::MAX, None);
	CommunityParams::<T>::put(Community::default());
	GridInForce::<T>::put(demo::grid());
	let manager = funded::<T>("manager", 0);
	let utility = funded::<T>("utility", 0);
	Roles::<T>::insert(Role::Manager, &manager);
	Roles::<T>::insert(Role::Dso, funded::<T>("dso", 0));
	Roles::<T>::insert(Role::Utility, &utility);
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

	#[benchmark]
	fn settle_slot(n: Linear<1, MAX_COMMUNITY_METERING_POINTS>) {
		let (manager, _) = community::<T>();
		// Slot 0 leaves the window as slot 1 settles.
		CommunityParams::<T>::mutate(|c| c.retention_slots = 1);
		let community = CommunityParams::<T>::get();
		let (old, slot) = (0, 1);
		// The clock stands at 0: set the clearing cursor, place the orders, then clear slot 1
		// at its gate closure.
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
			pallet_market::Debts::<T>::insert(&who, 1_000);
			let id = i as MeteringPointId;
			Records::<T>::insert(old, &who, SettlementRecord::default());
			Estimates::<T>::insert(old, id, Estimate::default());
			let registers = Registers { slot: old, import_wh: 10_000, export_wh: 5_000 };
			let metered = Metered::default();
			Readings::<T>::insert(old, id, AcceptedReading { metered, registers });
			let before = Registers { slot: 0, import_wh: 10_000, export_wh: 5_000 };
			if side == Side::Ask {
				// No reading: settled on an estimate, after reconciling a late reading of slot 0.
				LastRegisters::<T>::insert(id, before);
				MeterLedgers::<T>::insert(
					id,
					MeterLedger { since: 0, baseline: None, estimated: Metered::default() },
				);
			} else {
				// A buyer took more than it bid for, and its registers correct an estimate.
				let metered = Metered { import_wh: 3_500, export_wh: 0 };
				let registers = Registers { slot, import_wh: 14_000, export_wh: 5_000 };
				Readings::<T>::insert(slot, id, AcceptedReading { metered, registers });
				LastRegisters::<T>::insert(id, registers);
				MeterLedgers::<T>::insert(
					id,
					MeterLedger {
						since: 0,
						baseline: Some(Baseline {
							registers: before,
							estimated: Metered::default(),
						}),
						estimated: Metered { import_wh: 100, export_wh: 0 },
					},
				);
			}
		}
		<T as pallet_market::Config>::BenchmarkHelper::set_time(community.gate_closure(slot));
		pallet_market::Pallet::<T>::clear_due_slots(Weight::MAX);
		let cleared = pallet_market::ClearedSlots::<T>::get(slot).expect("cleared");
		pallet_market::ClearedSlots::<T>::insert(old, cleared);
		SettledSlots::<T>::insert(old, SettledSlot { accounts: n, ..Default::default() });

		#[block]
		{
			Pallet::<T>::settle(slot, &community);
			Pallet::<T>::forget(slot, &community);
		}

		assert!(Records::<T>::iter_prefix(old).next().is_none());
		assert!(Readings::<T>::iter_prefix(old).next().is_none());
		assert!(!pallet_market::ClearedSlots::<T>::contains_key(old));
		let settled = SettledSlots::<T>::get(slot).expect("settled");
		assert_eq!(settled.accounts, n);
		assert_eq!(settled.imbalance(), Some(0));
	}
}
