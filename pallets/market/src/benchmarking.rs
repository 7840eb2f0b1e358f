//! FRAME benchmarks of every market call at its worst case, and of clearing a slot of N orders
//! on the demo grid.

use super::*;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{InspectHold, Mutate, MutateHold},
		tokens::Precision,
		EnsureOrigin,
	},
	weights::WeightMeter,
};
use frame_system::RawOrigin;

const FUNDS: u128 = 1_000_000_000_000_000;
/// Orders or fills per page the page benchmarks go up to: a page's weight is linear in them.
const PAGE: u32 = 512;
const DEPOSIT: u128 = 50_000_000;

fn point(id: MeteringPointId, zone: ZoneId) -> NewMeteringPoint {
	NewMeteringPoint { id, zone, rated_power_w: 30_000 }
}

/// Puts the default community, the demo grid and a manager and DSO in place, without the
/// participants the chain spec may bring (the community's metering points are bounded). The
/// chain's clock stands at 0 in benchmarks, so every slot from 1 on is open.
fn community<T: Config>() -> (T::AccountId, T::AccountId) {
	let _ = Participants::<T>::clear(u32::MAX, None);
	let _ = MeteringPoints::<T>::clear(u32::MAX, None);
	CommunityParams::<T>::put(Community::default());
	GridInForce::<T>::put(demo::grid());
	let manager: T::AccountId = account("manager", 0, 0);
	let dso: T::AccountId = account("dso", 0, 0);
	Roles::<T>::insert(Role::Manager, &manager);
	Roles::<T>::insert(Role::Dso, &dso);
	(manager, dso)
}

/// Worst case of a DSO's change: the first for the slots now open, with as many changes
/// before it that settlement has not caught up with as fit, so that the list is read and
/// written at its longest.
fn grid_changes_pending<T: Config>() {
	T::BenchmarkHelper::set_time(1_000_000 * 900);
	let from = CommunityParams::<T>::get().last_closed_slot(Pallet::<T>::now_seconds()) + 1;
	let earlier = (from - MAX_GRID_CHANGES as u64 + 1)..from;
	for slot in earlier.clone() {
		GridsBefore::<T>::insert(slot, demo::grid());
	}
	GridChanges::<T>::put(BoundedVec::truncate_from(earlier.collect::<alloc::vec::Vec<_>>()));
}

/// A funded participant with one metering point in `zone`.
fn participant<T: Config>(i: u32, zone: ZoneId) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account("participant", i, 0);
	T::Currency::set_balance(&who, FUNDS);
	let points = BoundedVec::truncate_from(alloc::vec![point(i as MeteringPointId, zone)]);
	Pallet::<T>::do_admit(&who, &points, DEPOSIT).expect("fresh participant");
	who
}

/// Fills slot 1's book with other orders up to one below the limit and `who`'s orders in it
/// likewise, so that placing or cancelling reads and writes the longest list.
fn full_book<T: Config>(who: &T::AccountId) {
	let c = CommunityParams::<T>::get();
	for other in 1_000_000..1_000_000 + c.max_orders_per_slot as u64 - 1 {
		SlotOrders::<T>::insert(1, other, ());
	}
	SlotOrderCount::<T>::insert(1, c.max_orders_per_slot - 1);
	let mine: Vec<OrderId> = (2_000_000..2_000_000 + c.max_orders_per_account as u64 - 1).collect();
	AccountOrders::<T>::insert(who, 1, BoundedVec::truncate_from(mine));
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	/// A new utility replacing one appointed before it supplied a slot: the new one's deposit
	/// held, the replaced one's released.
	#[benchmark]
	fn appoint() -> Result<(), BenchmarkError> {
		let origin =
			T::CouncilOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		community::<T>();
		let (before, replaced) = (account("utility", 0, 0), account("utility", 1, 0));
		T::Currency::set_balance(&replaced, FUNDS);
		T::Currency::hold(&HoldReason::Deposit.into(), &replaced, FUNDS / 2).unwrap();
		Suppliers::<T>::put(Scheduled {
			before: Some(before),
			from: 1,
			current: Some(replaced.clone()),
		});
		Roles::<T>::insert(Role::Utility, &replaced);
		let who: T::AccountId = account("utility", 2, 0);
		T::Currency::set_balance(&who, FUNDS);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, Role::Utility, who.clone());

		assert_eq!(Roles::<T>::get(Role::Utility), Some(who));
		assert_eq!(T::Currency::balance_on_hold(&HoldReason::Deposit.into(), &replaced), 0);
		Ok(())
	}

	#[benchmark]
	fn admit_participant(m: Linear<1, MAX_METERING_POINTS>) {
		let (manager, _) = community::<T>();
		let who: T::AccountId = account("participant", 0, 0);
		T::Currency::set_balance(&who, FUNDS);
		let points = BoundedVec::truncate_from(
			(0..m as MeteringPointId).map(|p| point(p, demo::STREETS[0])).collect(),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(manager), who.clone(), points, DEPOSIT);

		assert_eq!(Participants::<T>::get(&who).unwrap().metering_points.len(), m as usize);
	}

	#[benchmark]
	fn add_metering_point() {
		let (manager, _) = community::<T>();
		let who = participant::<T>(0, demo::STREETS[0]);
		for p in 1..MAX_METERING_POINTS as MeteringPointId - 1 {
			Pallet::<T>::add_metering_point(
				RawOrigin::Signed(manager.clone()).into(),
				who.clone(),
				point(p, demo::STREETS[1]),
			)
			.unwrap();
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(manager), who.clone(), point(99, demo::STREETS[2]));

		assert_eq!(MeteringPoints::<T>::get(99).unwrap().owner, who);
	}

	#[benchmark]
	fn suspend_participant() {
		let (manager, _) = community::<T>();
		let who = participant::<T>(0, demo::STREETS[0]);

		#[extrinsic_call]
		_(RawOrigin::Signed(manager), who.clone());

		assert_eq!(Participants::<T>::get(&who).unwrap().status, ParticipantStatus::Suspended);
	}

	#[benchmark]
	fn reinstate_participant() {
		let (manager, _) = community::<T>();
		let who = participant::<T>(0, demo::STREETS[0]);
		Pallet::<T>::suspend_participant(RawOrigin::Signed(manager.clone()).into(), who.clone())
			.unwrap();

		#[extrinsic_call]
		_(RawOrigin::Signed(manager), who.clone());

		assert_eq!(Participants::<T>::get(&who).unwrap().status, ParticipantStatus::Active);
	}

	#[benchmark]
	fn appoint_technician() {
		let (manager, _) = community::<T>();
		let who: T::AccountId = account("technician", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(manager), who.clone());

		assert!(Technicians::<T>::contains_key(&who));
	}

	#[benchmark]
	fn dismiss_technician() {
		let (manager, _) = community::<T>();
		let who: T::AccountId = account("technician", 0, 0);
		Technicians::<T>::insert(&who, ());

		#[extrinsic_call]
		_(RawOrigin::Signed(manager), who.clone());

		assert!(!Technicians::<T>::contains_key(&who));
	}

	/// Worst case: the grid one zone short of full, so the checks scan every zone.
	#[benchmark]
	fn add_zone() {
		let (_, dso) = community::<T>();
		let mut grid = GridInForce::<T>::get();
		for id in 100..100 + MAX_ZONES - 1 - grid.zones.len() as u32 {
			grid.zones
				.try_push(Zone {
					id,
					parent: Some(0),
					fee_per_kwh: 1,
					capacity_wh: None,
					light: TrafficLight::Green,
				})
				.unwrap();
		}
		GridInForce::<T>::put(grid);

		grid_changes_pending::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(dso), 10_000, 0, 5_000, Some(1_000));

		assert_eq!(GridInForce::<T>::get().zones.len(), MAX_ZONES as usize);
	}

	#[benchmark]
	fn set_edge() {
		let (_, dso) = community::<T>();

		grid_changes_pending::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(dso), demo::STREETS[3], 7_000, Some(10_000));

		assert_eq!(GridInForce::<T>::get().zone(demo::STREETS[3]).unwrap().fee_per_kwh, 7_000);
	}

	#[benchmark]
	fn set_traffic_light() {
		let (_, dso) = community::<T>();

		grid_changes_pending::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(dso), demo::STREETS[3], TrafficLight::Red);

		assert_eq!(
			GridInForce::<T>::get().zone(demo::STREETS[3]).unwrap().light,
			TrafficLight::Red
		);
	}

	#[benchmark]
	fn set_yellow_surcharge() {
		let (_, dso) = community::<T>();

		grid_changes_pending::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(dso), 30_000);

		assert_eq!(GridInForce::<T>::get().yellow_surcharge_per_kwh, 30_000);
	}

	#[benchmark]
	fn place_order() {
		community::<T>();
		let who = participant::<T>(0, demo::STREETS[0]);
		full_book::<T>(&who);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), 0, 1, Side::Bid, 5_000, 300_000);

		assert_eq!(AccountOrders::<T>::get(&who, 1).len(), MAX_ORDERS_PER_ACCOUNT as usize);
	}

	#[benchmark]
	fn cancel_order() {
		community::<T>();
		let who = participant::<T>(0, demo::STREETS[0]);
		full_book::<T>(&who);
		Pallet::<T>::place_order(
			RawOrigin::Signed(who.clone()).into(),
			0,
			1,
			Side::Bid,
			5_000,
			300_000,
		)
		.unwrap();
		let order = NextOrderId::<T>::get() - 1;
		// What its cancelling releases pays debts first.
		in_debt::<T>(core::iter::once(who.clone()), MAX_SUPPLIERS_SETTLED);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), order);

		assert!(!Orders::<T>::contains_key(order));
	}

	#[benchmark]
	fn set_standing_order() {
		community::<T>();
		let who = participant::<T>(0, demo::STREETS[0]);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), 300_000, 80_000, 5_000_000);

		assert!(StandingOrders::<T>::contains_key(&who));
	}

	#[benchmark]
	fn remove_standing_order() {
		community::<T>();
		let who = participant::<T>(0, demo::STREETS[0]);
		Pallet::<T>::set_standing_order(
			RawOrigin::Signed(who.clone()).into(),
			300_000,
			80_000,
			5_000_000,
		)
		.unwrap();
		in_debt::<T>(core::iter::once(who.clone()), MAX_SUPPLIERS_SETTLED);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(!StandingOrders::<T>::contains_key(&who));
		assert!(!Pallet::<T>::indebted(&who));
	}

	#[benchmark]
	fn assign_technician() {
		let (manager, _) = community::<T>();
		participant::<T>(0, demo::STREETS[0]);
		let technician: T::AccountId = account("technician", 0, 0);
		Technicians::<T>::insert(&technician, ());

		#[extrinsic_call]
		_(RawOrigin::Signed(manager), 0, Some(technician.clone()));

		assert_eq!(MeteringPoints::<T>::get(0).unwrap().technician, Some(technician));
	}

	/// A higher deposit, held once the debts it finds are paid.
	#[benchmark]
	fn set_deposit() {
		let (manager, _) = community::<T>();
		let who = participant::<T>(0, demo::STREETS[0]);
		in_debt::<T>(core::iter::once(who.clone()), MAX_SUPPLIERS_SETTLED);

		#[extrinsic_call]
		_(RawOrigin::Signed(manager), who.clone(), DEPOSIT * 2);

		let held = T::Currency::balance_on_hold(&HoldReason::Deposit.into(), &who);
		assert_eq!(held, DEPOSIT * 2);
	}

	/// Debts to as many utilities as are collected at once paid in full, each utility
	/// holding what it received for participants it owes, then the deposit topped up.
	#[benchmark]
	fn pay_debt() {
		community::<T>();
		let who = participant::<T>(0, demo::STREETS[0]);
		T::Currency::release(&HoldReason::Deposit.into(), &who, DEPOSIT, Precision::Exact).unwrap();
		in_debt::<T>(core::iter::once(who.clone()), MAX_SUPPLIERS_SETTLED);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(!Pallet::<T>::indebted(&who));
		let held = T::Currency::balance_on_hold(&HoldReason::Deposit.into(), &who);
		assert_eq!(held, DEPOSIT);
	}

	/// A participant owed by as many replaced utilities as are settled at once, each paying
	/// from its deposit and releasing the rest of it, and in debt to as many others.
	#[benchmark]
	fn settle_debts() {
		community::<T>();
		let who = participant::<T>(0, demo::STREETS[0]);
		in_debt::<T>(core::iter::once(who.clone()), MAX_SUPPLIERS_SETTLED);
		for i in MAX_SUPPLIERS_SETTLED..2 * MAX_SUPPLIERS_SETTLED {
			let supplier: T::AccountId = account("utility", i, 0);
			T::Currency::set_balance(&supplier, FUNDS);
			T::Currency::hold(&HoldReason::Deposit.into(), &supplier, FUNDS - FUNDS / 8).unwrap();
			Pallet::<T>::add_supplier_debt(&supplier, &who, FUNDS / 4);
		}
		let caller: T::AccountId = account("caller", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), who.clone());

		assert!(!Pallet::<T>::indebted(&who));
		assert_eq!(SupplierDebts::<T>::iter_prefix(&who).count(), 0);
	}

	/// Passing a slot whose gate has closed and that holds no orders (also what starting to
	/// clear one costs, and the cursor's reads in every block).
	#[benchmark]
	fn clearing_start() {
		community::<T>();
		let community = CommunityParams::<T>::get();
		T::BenchmarkHelper::set_time(community.gate_closure(1));
		ClearingCursor::<T>::put(1);

		#[block]
		{
			Pallet::<T>::clear_due_slots(Weight::MAX);
		}

		assert_eq!(ClearingCursor::<T>::get(), Some(2));
	}

	/// Collecting a page of `n` orders from the book.
	#[benchmark]
	fn clearing_collect(n: Linear<1, PAGE>) {
		let slot = book::<T>(n);

		#[block]
		{
			Pallet::<T>::collect(slot, &mut WeightMeter::new());
		}

		assert_eq!(ClearingInput::<T>::get().len(), n as usize);
	}

	/// Collecting one order of a suspended owner in debt: voided, its hold released and paid
	/// to the utility.
	#[benchmark]
	fn void_order() {
		let slot = book::<T>(1);
		let who: T::AccountId = account("participant", 0, 0);
		let (order, _) = Orders::<T>::iter().next().unwrap();
		Participants::<T>::mutate(&who, |p| {
			p.as_mut().unwrap().status = ParticipantStatus::Suspended
		});
		in_debt::<T>(core::iter::once(who.clone()), 1);

		#[block]
		{
			Pallet::<T>::collect(slot, &mut WeightMeter::new());
		}

		assert_eq!(Orders::<T>::get(order).unwrap().held, 0);
		assert!(!Pallet::<T>::indebted(&who));
	}

	/// Running the engine over a collected book of `n` orders and keeping its fills: the one
	/// step over a whole slot, so measured up to the fullest slot any community may have.
	#[benchmark]
	fn clearing_solve(n: Linear<1, MAX_ORDERS_PER_SLOT>) {
		community::<T>();
		// As collected: asks and bids in every street, at limits that cross.
		for i in 0..n {
			let (side, street) = if i % 2 == 0 { (Side::Ask, 0) } else { (Side::Bid, 2) };
			let order = BookOrder {
				id: i as OrderId,
				side,
				zone: demo::STREETS[street + (i as usize / 2) % 2],
				energy_wh: 500 + (i as u64 * 97) % 4_000,
				limit_per_kwh: 60_000 + (i as u64 * 331) % 250_000,
			};
			ClearingInput::<T>::try_append(order).expect("within the bound");
		}
		let community = CommunityParams::<T>::get();

		#[block]
		{
			Pallet::<T>::solve(&community).unwrap();
		}

		let kept: usize = ClearingFills::<T>::iter_values().map(|c| c.len()).sum();
		assert_eq!(kept, n as usize);
	}

	/// Applying a page of `n` fills, each of its own owner in debt (so every release pays the
	/// utility), and storing the slot's result.
	#[benchmark]
	fn clearing_apply(n: Linear<1, FILLS_PER_CHUNK>) {
		let slot = book::<T>(n);
		Pallet::<T>::collect(slot, &mut WeightMeter::new());
		let community = CommunityParams::<T>::get();
		let cleared = Pallet::<T>::solve(&community);
		in_debt::<T>((0..n).map(|i| account("participant", i, 0)), 1);

		#[block]
		{
			let done =
				Pallet::<T>::apply(slot, 0, cleared.is_some(), &community, &mut WeightMeter::new());
			assert_eq!(done, n);
			Pallet::<T>::finish(slot, cleared);
		}

		assert_eq!(ClearedSlots::<T>::get(slot).unwrap().orders, n);
		assert_eq!(Fills::<T>::iter_prefix(slot).count(), n as usize);
	}
}

/// Puts each of `owners` in debt to `suppliers` funded utilities, the first of them the one
/// appointed now, each owing a participant of its own more than it has, so that what it
/// receives is held for it.
fn in_debt<T: Config>(owners: impl Iterator<Item = T::AccountId>, suppliers: u32)
where
	T::Currency: Mutate<T::AccountId>,
{
	let suppliers: Vec<T::AccountId> = (0..suppliers)
		.map(|i| {
			let supplier: T::AccountId = account("utility", i, 0);
			T::Currency::set_balance(&supplier, FUNDS);
			let creditor: T::AccountId = account("creditor", i, 0);
			Pallet::<T>::add_supplier_debt(&supplier, &creditor, FUNDS * 2);
			supplier
		})
		.collect();
	Roles::<T>::insert(Role::Utility, &suppliers[0]);
	for who in owners {
		for supplier in &suppliers {
			Debts::<T>::insert(&who, supplier, 1_000_000);
		}
	}
}

/// Fills slot 1's book with `n` orders on the demo grid, each from its own participant (so every
/// owner is read and has its hold released): sellers in the northern streets, buyers in the
/// southern ones, with limits spread so that prices, partial fills and flows over both feeder
/// edges all occur.
fn book<T: Config>(n: u32) -> Slot
where
	T::Currency: Mutate<T::AccountId>,
{
	community::<T>();
	let slot = 1;
	for i in 0..n {
		let (side, zone, limit) = if i % 2 == 0 {
			(Side::Ask, demo::STREETS[(i as usize / 2) % 2], 60_000 + (i as u64 * 331) % 200_000)
		} else {
			(
				Side::Bid,
				demo::STREETS[2 + (i as usize / 2) % 2],
				90_000 + (i as u64 * 577) % 250_000,
			)
		};
		let who = participant::<T>(i, zone);
		Pallet::<T>::place_order(
			RawOrigin::Signed(who).into(),
			i as MeteringPointId,
			slot,
			side,
			500 + (i as u64 * 97) % 4_000,
			limit,
		)
		.unwrap();
	}
	slot
}
