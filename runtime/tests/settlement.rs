//! Settlement on the real runtime configuration, from the `local` genesis preset: orders are
//! placed and cleared, gateways submit signed readings, and the slot is settled in the first
//! block after its readings window. Every balance is measured before and after, so the tests
//! check the money that really moved, not only the records.

mod common;

use common::{block_at, chain, T0};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold, Mutate},
};
use lem_runtime::{
	genesis_config_presets::demo_account, Balances, CommunityAccount, Market, Metering, Runtime,
	RuntimeHoldReason, RuntimeOrigin, Settlement,
};
use pallet_market::{ClearedSlots, HoldReason, Orders, Role, Side, MAX_PRICE_PER_KWH};
use pallet_metering::{LastRegisters, Metered, Reading, SignedReading};
use pallet_settlement::{
	BudgetSpent, Error, Records, RetailChoice, SettledSlots, SettlementRecord, Tariffs,
	TariffsInForce,
};
use sp_core::{ed25519, Pair};

/// Demo slots are 30 s with gate closure 10 s ahead; readings are taken for 60 s after a slot.
const SLOT_SECONDS: u64 = 30;
const GRACE: u64 = 60;
const S0: u64 = T0 / SLOT_SECONDS;

fn household(i: u32) -> lem_runtime::AccountId {
	demo_account(&format!("Household{i}"))
}

fn signed(who: &lem_runtime::AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who.clone())
}

/// Metering point of household `i` (1..=10).
fn mp(i: u32) -> u64 {
	1000 + i as u64
}

/// The gateway of metering point `mp` signs and submits its reading of `slot`, with registers
/// that advance from its last reading. The technician registers its key on first use.
fn read(mp: u64, slot: u64, import_wh: u64, export_wh: u64) {
	let pair = ed25519::Pair::from_seed(&[mp as u8; 32]);
	if pallet_metering::GatewayKeys::<Runtime>::get(mp).is_none() {
		assert_ok!(Metering::register_key(
			RuntimeOrigin::signed(demo_account("Technician")),
			mp,
			pair.public()
		));
	}
	let (i0, e0) = LastRegisters::<Runtime>::get(mp).map_or((0, 0), |r| (r.import_wh, r.export_wh));
	let reading = Reading {
		metering_point: mp,
		slot,
		import_wh,
		export_wh,
		import_register_wh: i0 + import_wh,
		export_register_wh: e0 + export_wh,
	};
	let genesis = frame_system::Pallet::<Runtime>::block_hash(0);
	let signature = pair.sign(&reading.signed_bytes(genesis.as_ref()));
	assert_ok!(Metering::submit_reading(
		RuntimeOrigin::none(),
		SignedReading { reading, key: pair.public(), signature }
	));
}

/// Blocks a second apart from `secs` until `slot` is settled; returns the time of the last.
fn settle_until(slot: u64, mut secs: u64) -> u64 {
	while SettledSlots::<Runtime>::get(slot).is_none() {
		assert!(secs < T0 + 3600, "slot {slot} never settled");
		block_at(secs);
		secs += 1;
	}
	secs
}

fn balances(accounts: &[lem_runtime::AccountId]) -> Vec<u128> {
	accounts.iter().map(Balances::total_balance).collect()
}

fn record(slot: u64, who: &lem_runtime::AccountId) -> SettlementRecord {
	Records::<Runtime>::get(slot, who).expect("a record for every participant")
}

#[test]
fn a_slot_settles_trades_ex_post_trades_and_deviations_and_conserves_money() {
	chain().execute_with(|| {
		let slot = S0 + 2;
		let h: Vec<_> = (1..=10).map(household).collect();
		assert_ok!(Market::place_order(signed(&h[0]), mp(1), slot, Side::Bid, 2_000, 250_000));
		assert_ok!(Market::place_order(signed(&h[2]), mp(3), slot, Side::Ask, 1_500, 100_000));
		assert_ok!(Market::place_order(signed(&h[5]), mp(6), slot, Side::Ask, 1_000, 120_000));
		assert_ok!(Market::set_standing_order(signed(&h[1]), 200_000, 50_000, 1_000_000));
		assert_ok!(Market::set_standing_order(signed(&h[3]), 100_000, 90_000, 1_000_000));
		assert_ok!(Settlement::choose_retail(signed(&h[4]), RetailChoice::Green));
		// Household 7 has a tenth of a euro beyond the existential deposit.
		let ed = <Balances as Inspect<_>>::minimum_balance();
		<Balances as Mutate<_>>::set_balance(&h[6], ed + 100_000);

		block_at(T0 + 50); // gate closure: the slot clears
		let cleared = ClearedSlots::<Runtime>::get(slot).expect("cleared");
		block_at(T0 + 90); // the slot is over: its readings window opens
		read(mp(1), slot, 3_000, 0); // bought 2 000 Wh, used 3 000
		read(mp(3), slot, 0, 1_000); // sold 1 500 Wh, delivered 1 000
		read(mp(2), slot, 800, 0); // standing order: buys ex post
		read(mp(4), slot, 0, 1_200); // standing order: sells ex post
		read(mp(5), slot, 700, 0); // green supply
		read(mp(7), slot, 2_000, 0); // more than it can pay
							   // Households 6, 8, 9 and 10 send nothing.

		let utility = demo_account("Utility");
		let dso = demo_account("Dso");
		let community = CommunityAccount::get();
		let mut accounts = h.clone();
		accounts.extend([utility.clone(), dso.clone(), community.clone()]);
		let issuance = Balances::total_issuance();

		// Nothing is settled while the window is open.
		settle_until(slot - 1, T0 + 120);
		block_at(T0 + 149);
		assert!(Records::<Runtime>::get(slot, &h[0]).is_none());
		let before = balances(&accounts);
		settle_until(slot, T0 + 150);
		let after = balances(&accounts);
		let change: Vec<i128> =
			before.iter().zip(&after).map(|(b, a)| *a as i128 - *b as i128).collect();

		let settled = SettledSlots::<Runtime>::get(slot).unwrap();
		assert_eq!(settled.accounts, 10);
		assert_eq!(settled.missing_readings, 4);
		assert_eq!(settled.imbalance(), Some(0));
		assert_eq!(change.iter().sum::<i128>(), 0, "money is conserved to the unit");
		assert_eq!(Balances::total_issuance(), issuance);
		for (i, who) in h.iter().enumerate() {
			assert_eq!(change[i], record(slot, who).balance_change(), "household {}", i + 1);
		}
		assert_eq!(change[10], settled.utility);
		assert_eq!(change[11], settled.dso);
		assert_eq!(change[12], settled.community);
		let ex_post = settled.ex_post.clone().expect("standing orders traded");
		assert_eq!(settled.dso, cleared.dso_revenue + ex_post.dso_revenue);
		assert_eq!(settled.community, cleared.remainder + ex_post.remainder);
		assert!(settled.dso > 0);

		let fill = |id: u64| *cleared.fills.iter().find(|f| f.order == id).unwrap();
		let ex_post_fill = |point: u64| *ex_post.fills.iter().find(|f| f.order == point).unwrap();

		// Household 1 bought 2 kWh locally and the missing kWh from the utility, grey.
		let r1 = record(slot, &h[0]);
		assert_eq!((r1.bought_wh, r1.market_amount), (2_000, -fill(0).amount));
		assert_eq!(
			(r1.price_per_kwh, r1.ex_post_price_per_kwh),
			(Some(fill(0).price_per_kwh), None)
		);
		assert_eq!(r1.metered, Some(Metered { import_wh: 3_000, export_wh: 0 }));
		assert_eq!((r1.from_utility_wh, r1.to_utility_wh), (1_000, 0));
		assert_eq!(
			(r1.retail, r1.retail_per_kwh, r1.utility_amount),
			(RetailChoice::Grey, 300_000, -300_000)
		);
		assert_eq!(r1.unpaid, 0);

		// Household 3 sold 1.5 kWh and delivered 1 kWh: the rest is bought back at retail.
		let r3 = record(slot, &h[2]);
		assert_eq!((r3.sold_wh, r3.market_amount), (1_500, fill(1).amount));
		assert_eq!((r3.from_utility_wh, r3.utility_amount), (500, -150_000));

		// Household 6's gateway sent nothing: its trade stands, its energy is not settled.
		let r6 = record(slot, &h[5]);
		assert_eq!((r6.sold_wh, r6.market_amount), (fill(2).energy_wh, fill(2).amount));
		assert_eq!((r6.metered, r6.missing_readings), (None, 1));
		assert_eq!((r6.from_utility_wh, r6.to_utility_wh, r6.utility_amount), (0, 0, 0));

		// Households 2 and 4 traded their metered energy ex post; 4's surplus went to feed-in.
		let (r2, r4) = (record(slot, &h[1]), record(slot, &h[3]));
		assert_eq!(ex_post_fill(mp(2)).energy_wh, 800);
		assert_eq!((r2.ex_post_bought_wh, r2.market_amount), (800, -ex_post_fill(mp(2)).amount));
		assert_eq!(r2.ex_post_price_per_kwh, Some(ex_post_fill(mp(2)).price_per_kwh));
		assert_eq!((r2.from_utility_wh, r2.utility_amount), (0, 0));
		assert_eq!((r4.ex_post_sold_wh, r4.market_amount), (800, ex_post_fill(mp(4)).amount));
		assert_eq!((r4.to_utility_wh, r4.utility_amount), (400, 32_000));
		let spent = ex_post_fill(mp(2)).amount as u128;
		assert_eq!(BudgetSpent::<Runtime>::get(&h[1]).map(|(_, s)| s), Some(spent));
		let budget_hold = RuntimeHoldReason::Market(HoldReason::StandingOrder);
		assert_eq!(Balances::balance_on_hold(&budget_hold, &h[1]), 1_000_000, "topped up");

		// Household 5 chose green supply.
		let r5 = record(slot, &h[4]);
		assert_eq!(
			(r5.retail, r5.from_utility_wh, r5.utility_amount),
			(RetailChoice::Green, 700, -224_000)
		);

		// Household 7 could pay 0.1 EUR of its 0.6 EUR; the rest is recorded as owed.
		let r7 = record(slot, &h[6]);
		assert_eq!(
			(r7.utility_amount, r7.unpaid, r7.balance_change()),
			(-600_000, 500_000, -100_000)
		);

		// Households 8 to 10 had neither orders nor readings.
		for who in &h[7..] {
			let r = record(slot, who);
			assert_eq!((r.metered, r.missing_readings, r.balance_change()), (None, 1, 0));
		}

		// The orders are gone and nothing stays held for them.
		assert!(Orders::<Runtime>::iter().next().is_none());
		let order_hold = RuntimeHoldReason::Market(HoldReason::Order);
		for who in &h {
			assert_eq!(Balances::balance_on_hold(&order_hold, who), 0);
		}
		assert_eq!(Settlement::do_try_state(), Ok(()));
		assert_eq!(
			Settlement::settlements(slot, slot, Some(h[0].clone())),
			vec![(slot, h[0].clone(), r1)]
		);
		assert_eq!(Settlement::settlements(S0, slot + 5, None).len(), 30);
	});
}

#[test]
fn ex_post_bids_stay_within_the_daily_budget() {
	chain().execute_with(|| {
		let (buyer, seller) = (household(2), household(4));
		// 0.1 EUR a day at up to 0.2 EUR/kWh: the first slot's bid is cut to 500 Wh.
		assert_ok!(Market::set_standing_order(signed(&buyer), 200_000, 50_000, 100_000));
		assert_ok!(Market::set_standing_order(signed(&seller), 100_000, 90_000, 1_000_000));
		let mut secs = T0;
		let mut paid = 0u128;
		for slot in [S0 + 1, S0 + 2] {
			let left = 100_000 - paid;
			secs = secs.max((slot + 1) * SLOT_SECONDS);
			block_at(secs);
			read(mp(2), slot, 800, 0);
			read(mp(4), slot, 0, 1_200);
			secs = settle_until(slot, secs + GRACE);
			let r = record(slot, &buyer);
			paid += (-r.market_amount) as u128;
			assert!(r.ex_post_bought_wh > 0);
			assert!(r.ex_post_bought_wh as u128 <= left * 1000 / 200_000, "within what is left");
			assert_eq!(r.ex_post_bought_wh + r.from_utility_wh, 800, "the rest from the utility");
		}
		assert!(paid <= 100_000, "{paid} spent of a 100 000 budget");
		assert_eq!(BudgetSpent::<Runtime>::get(&buyer).map(|(_, s)| s), Some(paid));
		assert_eq!(Settlement::do_try_state(), Ok(()));
	});
}

#[test]
fn the_utility_sets_tariffs_for_slots_not_yet_delivered() {
	chain().execute_with(|| {
		let utility = demo_account("Utility");
		let t = |green, grey, feed_in| Tariffs {
			retail_green_per_kwh: green,
			retail_grey_per_kwh: grey,
			feed_in_per_kwh: feed_in,
		};
		for who in ["Dso", "Manager", "Household1"] {
			assert_noop!(
				Settlement::set_tariffs(signed(&demo_account(who)), t(1, 1, 1)),
				Error::<Runtime>::NotUtility
			);
		}
		// Asks hold 0.5 EUR/kWh in the demo community: retail may not cost more.
		assert_noop!(
			Settlement::set_tariffs(signed(&utility), t(500_001, 1, 1)),
			Error::<Runtime>::TariffAboveAskHold
		);
		assert_noop!(
			Settlement::set_tariffs(signed(&utility), t(1, 1, MAX_PRICE_PER_KWH + 1)),
			Error::<Runtime>::TariffOutOfRange
		);
		assert_noop!(
			Settlement::choose_retail(signed(&demo_account("Dso")), RetailChoice::Green),
			pallet_settlement::Error::<Runtime>::NotParticipant
		);
		assert_eq!(pallet_market::Roles::<Runtime>::get(Role::Utility), Some(utility.clone()));

		// A change at T0 applies from the next slot; the current one keeps the old tariffs.
		assert_ok!(Settlement::set_tariffs(signed(&utility), t(400_000, 350_000, 60_000)));
		let schedule = TariffsInForce::<Runtime>::get();
		assert_eq!((schedule.from, schedule.before.retail_grey_per_kwh), (S0 + 1, 300_000));
		assert_noop!(
			Settlement::set_tariffs(signed(&utility), t(1, 1, 1)),
			Error::<Runtime>::TariffChangePending
		);

		block_at(T0 + 30);
		read(mp(1), S0, 1_000, 0);
		block_at(T0 + 60);
		read(mp(1), S0 + 1, 1_000, 0);
		settle_until(S0 + 1, T0 + 120);
		assert_eq!(record(S0, &household(1)).utility_amount, -300_000);
		assert_eq!(record(S0 + 1, &household(1)).utility_amount, -350_000);
		// Once the old tariffs are no longer needed, the utility may change again.
		assert_ok!(Settlement::set_tariffs(signed(&utility), t(1, 1, 1)));
	});
}

/// The settlement benchmark gives each metering point one order. A slot can hold more orders
/// than the community has points, and its settlement is charged for every order it takes.
#[test]
fn a_settlement_is_charged_for_its_orders_when_they_outnumber_the_metering_points() {
	use frame_support::dispatch::DispatchClass;
	use pallet_settlement::WeightInfo;
	type Weights = lem_runtime::weights::pallet_settlement::WeightInfo<Runtime>;

	chain().execute_with(|| {
		let slot = S0 + 2;
		let points = pallet_market::MeteringPoints::<Runtime>::count();
		let mut orders = 0;
		for i in 1..=3 {
			for _ in 0..pallet_market::MAX_ORDERS_PER_ACCOUNT {
				assert_ok!(Market::place_order(
					signed(&household(i)),
					mp(i),
					slot,
					Side::Bid,
					100,
					1_000
				));
				orders += 1;
			}
		}
		assert!(orders > points);

		let mandatory = || {
			frame_system::Pallet::<Runtime>::block_weight().get(DispatchClass::Mandatory).ref_time()
		};
		let mut secs = T0 + 1;
		loop {
			let before = mandatory();
			block_at(secs);
			if SettledSlots::<Runtime>::get(slot).is_some() {
				let charged = mandatory() - before;
				assert!(charged >= Weights::settle_slot(orders).ref_time());
				break;
			}
			assert!(secs < T0 + 3600, "slot {slot} never settled");
			secs += 1;
		}
	});
}

/// The community account pays sellers, then the DSO, and stays above the existential deposit.
/// What it cannot pay the DSO is recorded, not lost.
#[test]
fn what_the_community_account_cannot_pay_the_dso_is_recorded() {
	chain().execute_with(|| {
		let slot = S0 + 2;
		let community = CommunityAccount::get();
		<Balances as Mutate<_>>::set_balance(&community, 0);
		// Households 1 and 3 trade across the grid, so the DSO earns fees.
		assert_ok!(Market::place_order(
			signed(&household(1)),
			mp(1),
			slot,
			Side::Bid,
			2_000,
			250_000
		));
		assert_ok!(Market::place_order(
			signed(&household(3)),
			mp(3),
			slot,
			Side::Ask,
			1_500,
			100_000
		));
		block_at(T0 + 50);
		let cleared = ClearedSlots::<Runtime>::get(slot).expect("cleared");
		assert!(cleared.dso_revenue > 0);

		settle_until(slot, T0 + 150);
		let settled = SettledSlots::<Runtime>::get(slot).unwrap();
		assert!(settled.dso_unpaid > 0);
		assert_eq!(settled.dso + settled.dso_unpaid as i128, cleared.dso_revenue);
		assert_eq!(settled.imbalance(), Some(0));
		let ed = <Balances as Inspect<_>>::minimum_balance();
		assert_eq!(Balances::free_balance(&community), ed);
	});
}
