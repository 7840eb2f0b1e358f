//! The market on the real runtime configuration, from the `local` genesis preset with its demo
//! community: every role's calls, every refusal (each must change no state), holds, and the
//! clearing of slots at gate closure compared with the engine run on the same instance.

mod common;

use common::{block_at, chain, T0};
use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold, weights::Weight};
use lem_runtime::{
	genesis_config_presets::{demo_account, demo_community, DEMO_ACCOUNTS, DEMO_DEPOSIT},
	AccountId, Balance, Balances, Market, Runtime, RuntimeEvent, RuntimeHoldReason, RuntimeOrigin,
	System, UNIT,
};
use pallet_market::{
	demo, ClearedSlots, CommunityParams, Error, Fills, GridInForce, HoldReason, MeteringPointId,
	NewMeteringPoint, ParticipantStatus, Participants, Role, Side, Slot, TrafficLight, WeightInfo,
	MAX_COMMUNITY_METERING_POINTS, MAX_METERING_POINTS, MAX_ORDERS_PER_ACCOUNT,
	MAX_ORDERS_PER_SLOT, MAX_ORDER_ENERGY_WH, MAX_PRICE_PER_KWH, MAX_ZONES,
};
use sp_core::{sr25519, Pair};
use sp_keyring::Sr25519Keyring;
use sp_runtime::DispatchError;

type Council = pallet_collective::RawOrigin<AccountId, pallet_collective::Instance1>;

fn signed(who: &AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who.clone())
}

fn council() -> RuntimeOrigin {
	Council::Members(3, 4).into()
}

fn household(i: usize) -> AccountId {
	demo_account(&format!("Household{i}"))
}

/// Household `i`'s metering point.
fn point(i: usize) -> MeteringPointId {
	demo::HOUSEHOLD_METERING_POINTS[i - 1].id
}

/// A metering point to admit, with a household's connection.
fn new_point(id: MeteringPointId, zone: u32) -> NewMeteringPoint {
	NewMeteringPoint { id, zone, rated_power_w: 30_000 }
}

fn manager() -> RuntimeOrigin {
	signed(&demo_account("Manager"))
}

fn dso() -> RuntimeOrigin {
	signed(&demo_account("Dso"))
}

fn stranger() -> AccountId {
	Sr25519Keyring::Ferdie.to_account_id()
}

/// The first slot whose gate is open at `T0`.
fn open_slot() -> Slot {
	T0 / 30 + 1
}

fn gate_closure(slot: Slot) -> u64 {
	CommunityParams::<Runtime>::get().gate_closure(slot)
}

fn on_hold(who: &AccountId, reason: HoldReason) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Market(reason), who)
}

/// What every order holds besides its price, until its slot settles.
fn order_deposit() -> Balance {
	CommunityParams::<Runtime>::get().order_deposit as Balance
}

fn place(i: usize, slot: Slot, side: Side, energy_wh: u64, limit: u64) -> u64 {
	assert_ok!(Market::place_order(signed(&household(i)), point(i), slot, side, energy_wh, limit));
	pallet_market::NextOrderId::<Runtime>::get() - 1
}

fn market_events() -> Vec<pallet_market::Event<Runtime>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Market(e) => Some(e),
			_ => None,
		})
		.collect()
}

#[test]
fn demo_accounts_are_the_dev_derivations_of_their_names() {
	for (name, key) in DEMO_ACCOUNTS {
		let pair = sr25519::Pair::from_string(&format!("//{name}"), None).unwrap();
		assert_eq!(pair.public().0, key, "{name}");
	}
}

#[test]
fn genesis_carries_the_demo_community() {
	chain().execute_with(|| {
		assert_eq!(CommunityParams::<Runtime>::get(), demo_community());
		assert_eq!(Market::clock().next_to_clear, Some(open_slot()));
		for (role, name) in
			[(Role::Manager, "Manager"), (Role::Dso, "Dso"), (Role::Utility, "Utility")]
		{
			assert_eq!(pallet_market::Roles::<Runtime>::get(role), Some(demo_account(name)));
		}
		assert!(pallet_market::Technicians::<Runtime>::contains_key(demo_account("Technician")));
		// Three levels: substation, two feeders, four streets.
		let grid = GridInForce::<Runtime>::get();
		assert_eq!(grid, demo::grid());
		let depth = |mut id| {
			let mut d = 0;
			while let Some(parent) = grid.zone(id).unwrap().parent {
				id = parent;
				d += 1;
			}
			d
		};
		assert_eq!(grid.zones.iter().map(|z| depth(z.id)).max(), Some(2));
		for i in 1..=10 {
			let p = Market::participant(&household(i)).unwrap();
			assert_eq!(p.status, ParticipantStatus::Active);
			let point = demo::HOUSEHOLD_METERING_POINTS[i - 1];
			assert_eq!(p.metering_points, vec![(point.id, point.zone)]);
			assert_eq!(Balances::free_balance(household(i)), 10_000 * UNIT - DEMO_DEPOSIT);
			assert_eq!(on_hold(&household(i), HoldReason::Deposit), DEMO_DEPOSIT);
		}
	});
}

#[test]
fn only_the_council_appoints_roles() {
	chain().execute_with(|| {
		let eve = Sr25519Keyring::Eve.to_account_id();
		assert_ok!(Market::appoint(council(), Role::Dso, eve.clone()));
		assert_eq!(pallet_market::Roles::<Runtime>::get(Role::Dso), Some(eve.clone()));
		assert_noop!(
			Market::appoint(signed(&demo_account("Manager")), Role::Utility, eve.clone()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Market::appoint(Council::Members(2, 4).into(), Role::Manager, eve),
			DispatchError::BadOrigin
		);
		// The new DSO sets fees; the old one no longer may.
		assert_ok!(Market::set_yellow_surcharge(signed(&Sr25519Keyring::Eve.to_account_id()), 1));
		assert_noop!(Market::set_yellow_surcharge(dso(), 2), Error::<Runtime>::NotDso);
	});
}

#[test]
fn the_manager_admits_suspends_and_appoints() {
	chain().execute_with(|| {
		let eve = Sr25519Keyring::Eve.to_account_id();
		let points = |v: Vec<(MeteringPointId, u32)>| {
			v.into_iter()
				.map(|(id, zone)| new_point(id, zone))
				.collect::<Vec<_>>()
				.try_into()
				.unwrap()
		};
		assert_noop!(
			Market::admit_participant(
				signed(&household(1)),
				eve.clone(),
				points(vec![(7, 11)]),
				UNIT
			),
			Error::<Runtime>::NotManager
		);
		assert_noop!(
			Market::admit_participant(manager(), eve.clone(), points(vec![]), UNIT),
			Error::<Runtime>::NoMeteringPoint
		);
		assert_noop!(
			Market::admit_participant(manager(), eve.clone(), points(vec![(7, 99)]), UNIT),
			Error::<Runtime>::UnknownZone
		);
		assert_noop!(
			Market::admit_participant(manager(), eve.clone(), points(vec![(1001, 11)]), UNIT),
			Error::<Runtime>::MeteringPointTaken
		);
		assert_noop!(
			Market::admit_participant(manager(), eve.clone(), points(vec![(7, 11), (7, 12)]), UNIT),
			Error::<Runtime>::MeteringPointTaken
		);
		assert_noop!(
			Market::admit_participant(
				manager(),
				demo_account("Technician"),
				points(vec![(7, 11)]),
				UNIT
			),
			Error::<Runtime>::RoleConflict
		);
		assert_noop!(
			Market::admit_participant(manager(), household(1), points(vec![(7, 11)]), UNIT),
			Error::<Runtime>::AlreadyParticipant
		);
		assert_ok!(Market::admit_participant(manager(), eve.clone(), points(vec![(7, 11)]), UNIT));
		assert_eq!(Market::participant(&eve).unwrap().metering_points, vec![(7, 11)]);

		// Metering points up to the bound.
		assert_noop!(
			Market::add_metering_point(manager(), stranger(), new_point(8, 11)),
			Error::<Runtime>::NotParticipant
		);
		assert_noop!(
			Market::add_metering_point(signed(&eve), eve.clone(), new_point(8, 11)),
			Error::<Runtime>::NotManager
		);
		for p in 8..7 + MAX_METERING_POINTS as u64 {
			assert_ok!(Market::add_metering_point(manager(), eve.clone(), new_point(p, 21)));
		}
		assert_noop!(
			Market::add_metering_point(manager(), eve.clone(), new_point(100, 21)),
			Error::<Runtime>::TooManyMeteringPoints
		);

		// Suspension and reinstatement.
		assert_noop!(
			Market::suspend_participant(signed(&eve), household(1)),
			Error::<Runtime>::NotManager
		);
		assert_noop!(
			Market::suspend_participant(manager(), stranger()),
			Error::<Runtime>::NotParticipant
		);
		assert_noop!(
			Market::reinstate_participant(manager(), household(1)),
			Error::<Runtime>::NotSuspended
		);
		assert_ok!(Market::suspend_participant(manager(), household(1)));
		assert_noop!(
			Market::suspend_participant(manager(), household(1)),
			Error::<Runtime>::Suspended
		);
		assert_eq!(
			Participants::<Runtime>::get(household(1)).unwrap().status,
			ParticipantStatus::Suspended
		);
		assert_ok!(Market::reinstate_participant(manager(), household(1)));

		// Technicians.
		let charlie = Sr25519Keyring::Charlie.to_account_id();
		assert_noop!(
			Market::appoint_technician(signed(&household(2)), charlie.clone()),
			Error::<Runtime>::NotManager
		);
		assert_noop!(
			Market::appoint_technician(manager(), demo_account("Technician")),
			Error::<Runtime>::AlreadyTechnician
		);
		assert_noop!(
			Market::appoint_technician(manager(), household(2)),
			Error::<Runtime>::RoleConflict
		);
		assert_ok!(Market::appoint_technician(manager(), charlie.clone()));
		assert_ok!(Market::dismiss_technician(manager(), charlie.clone()));
		assert_noop!(
			Market::dismiss_technician(manager(), charlie),
			Error::<Runtime>::NotTechnician
		);
	});
}

#[test]
fn only_the_dso_changes_the_grid() {
	chain().execute_with(|| {
		for origin in [manager(), signed(&household(1)), signed(&demo_account("Utility"))] {
			assert_noop!(
				Market::add_zone(origin.clone(), 31, 2, 1_000, None),
				Error::<Runtime>::NotDso
			);
			assert_noop!(Market::set_edge(origin.clone(), 11, 1, None), Error::<Runtime>::NotDso);
			assert_noop!(
				Market::set_traffic_light(origin.clone(), 11, TrafficLight::Red),
				Error::<Runtime>::NotDso
			);
			assert_noop!(Market::set_yellow_surcharge(origin, 1), Error::<Runtime>::NotDso);
		}
		assert_noop!(Market::add_zone(dso(), 11, 2, 1_000, None), Error::<Runtime>::ZoneExists);
		assert_noop!(Market::add_zone(dso(), 31, 3, 1_000, None), Error::<Runtime>::UnknownZone);
		assert_noop!(
			Market::add_zone(dso(), 31, 2, MAX_PRICE_PER_KWH + 1, None),
			Error::<Runtime>::FeeOutOfRange
		);
		assert_noop!(Market::set_edge(dso(), 0, 1, None), Error::<Runtime>::RootHasNoEdge);
		assert_noop!(Market::set_edge(dso(), 5, 1, None), Error::<Runtime>::UnknownZone);
		assert_noop!(
			Market::set_edge(dso(), 11, MAX_PRICE_PER_KWH + 1, None),
			Error::<Runtime>::FeeOutOfRange
		);
		assert_noop!(
			Market::set_traffic_light(dso(), 0, TrafficLight::Yellow),
			Error::<Runtime>::RootHasNoEdge
		);
		assert_noop!(
			Market::set_yellow_surcharge(dso(), MAX_PRICE_PER_KWH + 1),
			Error::<Runtime>::FeeOutOfRange
		);

		assert_ok!(Market::set_edge(dso(), 11, 7_000, Some(1_000)));
		assert_ok!(Market::set_traffic_light(dso(), 12, TrafficLight::Yellow));
		assert_ok!(Market::set_yellow_surcharge(dso(), 30_000));
		let grid = GridInForce::<Runtime>::get();
		assert_eq!(grid.zone(11).unwrap().fee_per_kwh, 7_000);
		assert_eq!(grid.zone(11).unwrap().capacity_wh, Some(1_000));
		// Yellow adds the surcharge to the fee the engine sees.
		let z12 = grid.engine_zones().into_iter().find(|z| z.id == 12).unwrap();
		assert_eq!(z12.fee_per_kwh, 5_000 + 30_000);

		let mut id = 100;
		while GridInForce::<Runtime>::get().zones.len() < MAX_ZONES as usize {
			assert_ok!(Market::add_zone(dso(), id, 22, 100, None));
			id += 1;
		}
		assert_noop!(Market::add_zone(dso(), id, 22, 100, None), Error::<Runtime>::TooManyZones);
	});
}

#[test]
fn orders_hold_funds_and_refusals_change_nothing() {
	chain().execute_with(|| {
		let s = open_slot();
		let h1 = household(1);
		assert_noop!(
			Market::place_order(signed(&stranger()), point(1), s, Side::Bid, 1_000, 250_000),
			Error::<Runtime>::NotParticipant
		);
		assert_noop!(
			Market::place_order(signed(&h1), 4242, s, Side::Bid, 1_000, 250_000),
			Error::<Runtime>::UnknownMeteringPoint
		);
		assert_noop!(
			Market::place_order(signed(&h1), point(2), s, Side::Bid, 1_000, 250_000),
			Error::<Runtime>::NotYourMeteringPoint
		);
		for energy in [0, MAX_ORDER_ENERGY_WH + 1] {
			assert_noop!(
				Market::place_order(signed(&h1), point(1), s, Side::Bid, energy, 250_000),
				Error::<Runtime>::EnergyOutOfRange
			);
		}
		assert_noop!(
			Market::place_order(signed(&h1), point(1), s, Side::Ask, 1_000, MAX_PRICE_PER_KWH + 1),
			Error::<Runtime>::LimitOutOfRange
		);
		// The current slot's gate closed 10 s before it started.
		assert_noop!(
			Market::place_order(signed(&h1), point(1), s - 1, Side::Bid, 1_000, 250_000),
			Error::<Runtime>::GateClosed
		);
		assert_noop!(
			Market::place_order(signed(&h1), point(1), s + 120, Side::Bid, 1_000, 250_000),
			Error::<Runtime>::BeyondHorizon
		);
		// 1 GWh at 1000 EUR/kWh is far beyond a household's 10 000 EUR.
		assert_noop!(
			Market::place_order(
				signed(&h1),
				point(1),
				s,
				Side::Bid,
				MAX_ORDER_ENERGY_WH,
				MAX_PRICE_PER_KWH
			),
			Error::<Runtime>::InsufficientFunds
		);

		// A bid holds energy × limit, rounded up; an ask what buying the energy back costs; both
		// the order deposit.
		let bid = place(1, s, Side::Bid, 1_001, 250_001);
		assert_eq!(
			on_hold(&h1, HoldReason::Order),
			(1_001u128 * 250_001).div_ceil(1000) + order_deposit()
		);
		let ask = place(2, s + 119, Side::Ask, 2_000, 90_000);
		let ask_hold = 2 * demo_community().ask_hold_per_kwh as u128;
		assert_eq!(on_hold(&household(2), HoldReason::Order), ask_hold + order_deposit());
		assert_eq!(Market::order_book(s).len(), 1);
		assert_eq!(Market::orders_of(&household(2), s, s + 119)[0].0, ask);

		// Cancelling: only the owner, only before gate closure; it releases the hold.
		assert_noop!(Market::cancel_order(signed(&h1), 999), Error::<Runtime>::UnknownOrder);
		assert_noop!(
			Market::cancel_order(signed(&household(2)), bid),
			Error::<Runtime>::NotOrderOwner
		);
		assert_ok!(Market::cancel_order(signed(&household(2)), ask));
		assert_eq!(on_hold(&household(2), HoldReason::Order), 0);
		assert!(Market::order_book(s + 119).is_empty());
		assert_eq!(pallet_market::SlotOrders::<Runtime>::iter_prefix(s + 119).count(), 0);
		assert!(!pallet_market::SlotOrderCount::<Runtime>::contains_key(s + 119));
		assert!(!pallet_market::AccountOrders::<Runtime>::contains_key(household(2), s + 119));
		block_at(gate_closure(s));
		assert_noop!(Market::cancel_order(signed(&h1), bid), Error::<Runtime>::GateClosed);

		// Suspended participants place nothing.
		assert_ok!(Market::suspend_participant(manager(), household(3)));
		assert_noop!(
			Market::place_order(signed(&household(3)), point(3), s + 2, Side::Ask, 1_000, 1),
			Error::<Runtime>::Suspended
		);
	});
}

#[test]
fn per_account_and_per_slot_limits() {
	chain().execute_with(|| {
		let s = open_slot();
		for _ in 0..MAX_ORDERS_PER_ACCOUNT {
			place(4, s, Side::Bid, 100, 200_000);
		}
		assert_noop!(
			Market::place_order(signed(&household(4)), point(4), s, Side::Bid, 100, 200_000),
			Error::<Runtime>::TooManyOrders
		);
		// The same account may still order in another slot.
		place(4, s + 1, Side::Bid, 100, 200_000);

		CommunityParams::<Runtime>::mutate(|c| c.max_orders_per_slot = 3);
		place(5, s + 2, Side::Ask, 100, 1);
		place(6, s + 2, Side::Ask, 100, 1);
		place(7, s + 2, Side::Bid, 100, 1);
		assert_noop!(
			Market::place_order(signed(&household(8)), point(8), s + 2, Side::Bid, 100, 1),
			Error::<Runtime>::SlotFull
		);
		assert!(MAX_ORDERS_PER_SLOT >= CommunityParams::<Runtime>::get().max_orders_per_slot);

		// The community's metering points are bounded by its own limit, so settlement's work
		// per slot is.
		assert!(
			MAX_COMMUNITY_METERING_POINTS >= CommunityParams::<Runtime>::get().max_metering_points
		);
		let limit = pallet_market::MeteringPoints::<Runtime>::count() + 5;
		CommunityParams::<Runtime>::mutate(|c| c.max_metering_points = limit);
		let mut next: MeteringPointId = 1;
		while pallet_market::MeteringPoints::<Runtime>::count() < limit {
			let mut raw = [0xee; 32];
			raw[..8].copy_from_slice(&next.to_le_bytes());
			let who = AccountId::from(raw);
			assert_ok!(Market::admit_participant(
				manager(),
				who,
				vec![new_point(next, 11)].try_into().unwrap(),
				0
			));
			next += 1;
		}
		assert_noop!(
			Market::admit_participant(
				manager(),
				stranger(),
				vec![new_point(next, 11)].try_into().unwrap(),
				0
			),
			Error::<Runtime>::CommunityFull
		);
		assert_noop!(
			Market::add_metering_point(manager(), household(1), new_point(next, 11)),
			Error::<Runtime>::CommunityFull
		);
	});
}

#[test]
fn standing_orders_hold_their_daily_budget() {
	chain().execute_with(|| {
		let h = household(6);
		assert_noop!(
			Market::set_standing_order(signed(&stranger()), 300_000, 80_000, 5 * UNIT),
			Error::<Runtime>::NotParticipant
		);
		assert_noop!(
			Market::set_standing_order(signed(&h), MAX_PRICE_PER_KWH + 1, 80_000, 5 * UNIT),
			Error::<Runtime>::LimitOutOfRange
		);
		assert_noop!(
			Market::set_standing_order(signed(&h), 300_000, 80_000, 20_000 * UNIT),
			Error::<Runtime>::InsufficientFunds
		);
		assert_noop!(Market::remove_standing_order(signed(&h)), Error::<Runtime>::NoStandingOrder);
		assert_ok!(Market::set_standing_order(signed(&h), 300_000, 80_000, 5 * UNIT));
		assert_eq!(on_hold(&h, HoldReason::StandingOrder), 5 * UNIT);
		assert_ok!(Market::set_standing_order(signed(&h), 310_000, 70_000, 2 * UNIT));
		assert_eq!(on_hold(&h, HoldReason::StandingOrder), 2 * UNIT);
		assert_eq!(
			Market::participant(&h).unwrap().standing_order.unwrap().buy_limit_per_kwh,
			310_000
		);
		assert_ok!(Market::remove_standing_order(signed(&h)));
		assert_eq!(on_hold(&h, HoldReason::StandingOrder), 0);
		assert_ok!(Market::suspend_participant(manager(), h.clone()));
		assert_noop!(
			Market::set_standing_order(signed(&h), 300_000, 80_000, UNIT),
			Error::<Runtime>::Suspended
		);
	});
}

/// The engine's result for the slot's open book and the grid in force, as the pallet must store
/// it.
fn engine_result(slot: Slot) -> lem_clearing::Outcome {
	let community = CommunityParams::<Runtime>::get();
	lem_clearing::clear(&lem_clearing::Instance {
		zones: GridInForce::<Runtime>::get().engine_zones(),
		orders: Market::order_book(slot).into_iter().map(|(id, o)| o.for_engine(id)).collect(),
		pricing: community.pricing.into(),
	})
	.unwrap()
}

/// The fills stored for `slot` are the engine's, whatever order the chain keeps them in.
fn assert_fills_are_the_engines(slot: Slot, expected: &lem_clearing::Outcome) {
	let mut fills: Vec<_> = Fills::<Runtime>::iter_prefix_values(slot)
		.map(|f| (f.order, f.energy_wh, f.price_per_kwh, f.amount))
		.collect();
	fills.sort();
	let engine_fills: Vec<_> =
		expected.fills.iter().map(|f| (f.order, f.energy_wh, f.price_per_kwh, f.amount)).collect();
	assert_eq!(fills, engine_fills);
}

#[test]
fn a_slot_clears_by_itself_at_gate_closure_like_the_engine() {
	chain().execute_with(|| {
		let s = open_slot();
		// PV in the north sells, the south buys; the southern feeder is congested.
		assert_ok!(Market::set_edge(dso(), 2, 10_000, Some(3_000)));
		let a1 = place(1, s, Side::Ask, 3_000, 80_000);
		let a3 = place(3, s, Side::Ask, 2_000, 120_000);
		let b6 = place(6, s, Side::Bid, 2_500, 300_000);
		let b9 = place(9, s, Side::Bid, 2_000, 250_000);
		let b2 = place(2, s, Side::Bid, 500, 100_000);
		let held_before: Vec<Balance> =
			[1, 3, 6, 9, 2].iter().map(|&i| on_hold(&household(i), HoldReason::Order)).collect();
		let expected = engine_result(s);
		let grid_at_gate = GridInForce::<Runtime>::get();

		// Not a second before gate closure.
		block_at(gate_closure(s) - 1);
		assert!(ClearedSlots::<Runtime>::get(s).is_none());
		System::reset_events();
		block_at(gate_closure(s));
		let cleared = ClearedSlots::<Runtime>::get(s).expect("cleared at gate closure");

		assert_eq!(cleared.grid, grid_at_gate);
		let prices: Vec<_> =
			cleared.zone_prices.iter().map(|p| (p.zone, p.price_per_kwh)).collect();
		let engine_prices: Vec<_> =
			expected.zone_prices.iter().map(|p| (p.zone, p.price_per_kwh)).collect();
		assert_eq!(prices, engine_prices);
		assert_fills_are_the_engines(s, &expected);
		let flows: Vec<_> = cleared.flows.iter().map(|f| (f.zone, f.energy_wh)).collect();
		assert_eq!(flows, expected.flows.iter().map(|f| (f.zone, f.energy_wh)).collect::<Vec<_>>());
		assert_eq!(
			(cleared.welfare, cleared.dso_revenue, cleared.remainder),
			(expected.welfare, expected.dso_revenue, expected.remainder)
		);
		// The feeder edge is full, so energy did trade and the south pays congestion rent.
		assert_eq!(cleared.flows.iter().find(|f| f.zone == 2).unwrap().energy_wh, -3_000);
		assert!(cleared.dso_revenue > 0);

		// Holds shrink to what settlement needs: a bid its payment, an ask the buy-back of
		// its sold energy, each the order deposit.
		let fill = |id| Fills::<Runtime>::get(s, id).unwrap();
		let ask_hold = |id| (fill(id).energy_wh as u128 * 500_000).div_ceil(1000) + order_deposit();
		let bid_hold = |id| fill(id).amount as u128 + order_deposit();
		assert_eq!(on_hold(&household(1), HoldReason::Order), ask_hold(a1));
		assert_eq!(on_hold(&household(3), HoldReason::Order), ask_hold(a3));
		assert_eq!(on_hold(&household(6), HoldReason::Order), bid_hold(b6));
		assert_eq!(on_hold(&household(9), HoldReason::Order), bid_hold(b9));
		assert_eq!(on_hold(&household(2), HoldReason::Order), bid_hold(b2));
		let order = |id| pallet_market::Orders::<Runtime>::get(id).unwrap();
		assert_eq!(order(a1).held, ask_hold(a1));
		assert_eq!(order(b6).held, bid_hold(b6));
		for (i, &h) in [1, 3, 6, 9, 2].iter().enumerate() {
			assert!(on_hold(&household(h), HoldReason::Order) <= held_before[i]);
		}

		// Announced in events, and readable through the API.
		let events = market_events();
		assert!(events.iter().any(|e| matches!(e,
			pallet_market::Event::SlotCleared { slot, orders: 5, .. } if *slot == s)));
		let filled =
			events.iter().filter(|e| matches!(e, pallet_market::Event::OrderFilled { .. })).count();
		assert_eq!(filled, cleared.filled as usize);
		assert_eq!(cleared.orders, 5);
		assert!(Market::order_book(s).is_empty());
		let (_, _, f) = Market::orders_of(&household(6), s, s)[0].clone();
		assert_eq!(f, Some(fill(b6)));

		// A grid change now applies to later slots only.
		assert_ok!(Market::set_traffic_light(dso(), 2, TrafficLight::Red));
		assert_eq!(ClearedSlots::<Runtime>::get(s).unwrap().grid, grid_at_gate);
	});
}

#[test]
fn a_red_edge_closes_a_zone_and_the_cleared_slot_records_it() {
	chain().execute_with(|| {
		let s = open_slot();
		assert_ok!(Market::set_traffic_light(dso(), 21, TrafficLight::Red));
		place(1, s, Side::Ask, 3_000, 50_000);
		let bid = place(6, s, Side::Bid, 2_000, 400_000);
		block_at(gate_closure(s));
		let cleared = ClearedSlots::<Runtime>::get(s).unwrap();
		assert_eq!(cleared.grid.zone(21).unwrap().light, TrafficLight::Red);
		assert_eq!(Fills::<Runtime>::get(s, bid).unwrap().energy_wh, 0);
		assert_eq!(cleared.flows.iter().find(|f| f.zone == 21).unwrap().energy_wh, 0);
		// Nothing was bought: only the order deposit stays held, until settlement.
		assert_eq!(on_hold(&household(6), HoldReason::Order), order_deposit());
	});
}

#[test]
fn pay_as_bid_trades_at_each_limit() {
	chain().execute_with(|| {
		CommunityParams::<Runtime>::mutate(|c| c.pricing = pallet_market::Pricing::PayAsBid);
		let s = open_slot();
		let ask = place(1, s, Side::Ask, 1_000, 50_000);
		let bid = place(2, s, Side::Bid, 1_000, 300_000);
		block_at(gate_closure(s));
		let cleared = ClearedSlots::<Runtime>::get(s).unwrap();
		let fill = |id| Fills::<Runtime>::get(s, id).unwrap();
		assert_eq!((fill(ask).energy_wh, fill(ask).price_per_kwh), (1_000, 50_000));
		assert_eq!((fill(bid).energy_wh, fill(bid).price_per_kwh), (1_000, 300_000));
		assert_eq!(cleared.remainder, 300_000 - 50_000 - cleared.dso_revenue);
	});
}

#[test]
fn orders_of_suspended_participants_are_voided_and_released() {
	chain().execute_with(|| {
		let s = open_slot();
		let ask = place(1, s, Side::Ask, 1_000, 50_000);
		place(2, s, Side::Bid, 1_000, 300_000);
		assert_ok!(Market::suspend_participant(manager(), household(1)));
		block_at(gate_closure(s));
		let cleared = ClearedSlots::<Runtime>::get(s).unwrap();
		assert_eq!(Fills::<Runtime>::get(s, ask), None);
		assert!(Fills::<Runtime>::iter_prefix_values(s).all(|f| f.energy_wh == 0));
		assert_eq!(cleared.orders, 1);
		assert!(market_events()
			.iter()
			.any(|e| matches!(e, pallet_market::Event::OrderVoided { order } if *order == ask)));
		// A voided order holds nothing; an unfilled one its deposit until settlement.
		assert_eq!(on_hold(&household(1), HoldReason::Order), 0);
		assert_eq!(on_hold(&household(2), HoldReason::Order), order_deposit());
		assert_eq!(pallet_market::Orders::<Runtime>::get(ask).unwrap().held, 0);
	});
}

#[test]
fn due_slots_clear_in_one_block_when_they_fit_and_empty_ones_are_passed() {
	chain().execute_with(|| {
		let s = open_slot();
		place(1, s, Side::Ask, 1_000, 50_000);
		place(2, s + 1, Side::Ask, 1_000, 50_000);
		place(3, s + 5, Side::Ask, 1_000, 50_000);
		// The chain stood still past both gates: its next block clears both slots.
		block_at(gate_closure(s + 1) + 5);
		assert!(ClearedSlots::<Runtime>::get(s).is_some());
		assert!(ClearedSlots::<Runtime>::get(s + 1).is_some());
		assert_ok!(Market::set_edge(dso(), 11, 1, None));
		// Empty slots are passed over without a result; the cursor waits at the next open one.
		block_at(gate_closure(s + 5));
		assert!((s + 2..s + 5).all(|x| ClearedSlots::<Runtime>::get(x).is_none()));
		assert!(ClearedSlots::<Runtime>::get(s + 5).is_some());
		assert_eq!(Market::clock().next_to_clear, Some(s + 6));
	});
}

/// A block at `secs` in which only clearing runs, within `budget`; returns the weight it used.
fn clearing_block_at(secs: u64, budget: Weight) -> Weight {
	System::set_block_number(System::block_number() + 1);
	pallet_timestamp::Now::<Runtime>::put(secs * 1000);
	Market::clear_due_slots(budget)
}

type Weights = <Runtime as pallet_market::Config>::WeightInfo;

#[test]
fn a_book_beyond_a_blocks_budget_clears_page_by_page_like_the_engine() {
	chain().execute_with(|| {
		let s = open_slot();
		let mut placed = 0;
		for i in 1..=10 {
			for k in 0..4u64 {
				let side = if i <= 5 { Side::Ask } else { Side::Bid };
				place(i, s, side, 400 + 100 * k, 60_000 + 20_000 * (i as u64 + k));
				placed += 1;
			}
		}
		// A suspended owner's orders are voided on the way, between pages.
		assert_ok!(Market::suspend_participant(manager(), household(5)));
		let expected = {
			let mut book = Market::order_book(s);
			book.retain(|(_, o)| o.owner != household(5));
			let community = CommunityParams::<Runtime>::get();
			lem_clearing::clear(&lem_clearing::Instance {
				zones: GridInForce::<Runtime>::get().engine_zones(),
				orders: book.iter().map(|(id, o)| o.for_engine(*id)).collect(),
				pricing: community.pricing.into(),
			})
			.unwrap()
		};
		// Room for little more than the least that makes progress: collecting and applying
		// take many blocks.
		let budget = Weights::clearing_start()
			+ Weights::clearing_collect(1)
			+ Weights::void_order()
			+ Weights::clearing_apply(1)
			+ Weights::clearing_solve(placed);
		assert!(Market::clearing_progresses_within(budget, placed));
		System::reset_events();
		let mut blocks = 0;
		let mut t = gate_closure(s);
		while ClearedSlots::<Runtime>::get(s).is_none() {
			let before = common::fills_in_events();
			let used = clearing_block_at(t, budget);
			assert!(used.all_lte(budget));
			// What it did, weighed by the benchmarks: the meter charged at least that.
			let fills = common::fills_in_events() - before;
			let work = common::weighed(Weights::clearing_apply, fills);
			assert!(work.all_lte(used), "{fills} fills in {used}");
			blocks += 1;
			assert_ok!(Market::do_try_state());
			if ClearedSlots::<Runtime>::get(s).is_none() {
				// Neither the grid nor the participants change under a slot being cleared.
				assert_noop!(
					Market::set_edge(dso(), 11, 1, None),
					Error::<Runtime>::ClearingBacklog
				);
				assert_noop!(
					Market::reinstate_participant(manager(), household(5)),
					Error::<Runtime>::ClearingBacklog
				);
			}
			t += 6;
			assert!(blocks < 100, "clearing makes no progress");
		}
		println!("{placed} orders cleared in {blocks} blocks");
		assert!(blocks > 2, "the budget was meant to spread the slot over blocks");

		let cleared = ClearedSlots::<Runtime>::get(s).unwrap();
		assert_eq!(cleared.orders, placed - 4);
		assert_fills_are_the_engines(s, &expected);
		assert_eq!((cleared.welfare, cleared.remainder), (expected.welfare, expected.remainder));
		let events = market_events();
		let count =
			|f: fn(&pallet_market::Event<Runtime>) -> bool| events.iter().filter(|e| f(e)).count();
		assert_eq!(count(|e| matches!(e, pallet_market::Event::SlotCleared { .. })), 1);
		assert_eq!(count(|e| matches!(e, pallet_market::Event::OrderVoided { .. })), 4);
		assert_eq!(
			count(|e| matches!(e, pallet_market::Event::OrderFilled { .. })),
			cleared.filled as usize
		);
		// Nothing of the clearing is left behind, and the grid may change again.
		assert!(pallet_market::Clearing::<Runtime>::get().is_none());
		assert!(pallet_market::ClearingInput::<Runtime>::get().is_empty());
		assert_eq!(pallet_market::ClearingFills::<Runtime>::iter().count(), 0);
		assert!(Market::clock().next_to_clear > Some(s));
		assert_ok!(Market::set_edge(dso(), 11, 1, None));
		assert_ok!(Market::do_try_state());
	});
}
