//! Settlement on the real runtime configuration, from the `local` genesis preset: orders are
//! placed and cleared, gateways submit signed readings, and the slot is settled in the first
//! block after its readings window. Every balance is measured before and after, so the tests
//! check the money that really moved, not only the records.

mod common;

use common::{block_at, chain, weighed, T0};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold, Mutate},
};
use lem_runtime::{
	genesis_config_presets::demo_account, AccountId, Balances, CommunityAccount, Market, Metering,
	Runtime, RuntimeHoldReason, RuntimeOrigin, Settlement,
};
use pallet_market::{
	ClearedSlots, Fills, HoldReason, Orders, Role, Side, TrafficLight, MAX_PRICE_PER_KWH,
};
use pallet_metering::{LastRegisters, Metered, Reading, SignedReading};
use pallet_settlement::{
	BudgetSpent, Error, ExPostFills, Records, RetailChoice, SettledSlots, SettlementRecord,
	Tariffs, TariffsInForce,
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

/// The gateway of metering point `mp`. The technician registers its key on first use, and
/// the point's owner accepts it.
fn gateway(mp: u64) -> ed25519::Pair {
	let pair = ed25519::Pair::from_seed(&sp_io::hashing::blake2_256(&mp.to_le_bytes()));
	if pallet_metering::GatewayKeys::<Runtime>::get(mp).is_none() {
		assert_ok!(Metering::register_key(
			RuntimeOrigin::signed(demo_account("Technician")),
			mp,
			pair.public()
		));
		let owner = pallet_market::MeteringPoints::<Runtime>::get(mp).unwrap().owner;
		assert_ok!(Metering::accept_key(signed(&owner), mp, pair.public()));
	}
	pair
}

/// The gateway of metering point `mp` signs its reading of `slot` with the given registers.
fn signed_reading(
	mp: u64,
	slot: u64,
	import_wh: u64,
	export_wh: u64,
	registers: (u64, u64),
) -> SignedReading {
	let pair = gateway(mp);
	let reading = Reading {
		metering_point: mp,
		slot,
		import_wh,
		export_wh,
		import_register_wh: registers.0,
		export_register_wh: registers.1,
	};
	let genesis = frame_system::Pallet::<Runtime>::block_hash(0);
	let signature = pair.sign(&reading.signed_bytes(genesis.as_ref()));
	SignedReading { reading, key: pair.public(), signature }
}

/// The gateway of metering point `mp` submits its reading of `slot` with the given registers
/// (for readings whose registers do not follow from the last one: after a gap).
fn read_registers(mp: u64, slot: u64, import_wh: u64, export_wh: u64, registers: (u64, u64)) {
	let signed = signed_reading(mp, slot, import_wh, export_wh, registers);
	assert_ok!(Metering::submit_reading(RuntimeOrigin::none(), signed));
}

/// The gateway of metering point `mp` submits its reading of `slot`, with registers that
/// advance from its last reading.
fn read(mp: u64, slot: u64, import_wh: u64, export_wh: u64) {
	let (i0, e0) = LastRegisters::<Runtime>::get(mp).map_or((0, 0), |r| (r.import_wh, r.export_wh));
	read_registers(mp, slot, import_wh, export_wh, (i0 + import_wh, e0 + export_wh));
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

type SettlementWeights = <Runtime as pallet_settlement::Config>::WeightInfo;

/// How far `slot`'s settlement has gathered, paid in and paid out its `accounts`.
fn settled_so_far(slot: u64, accounts: u32) -> (u32, u32, u32) {
	use pallet_settlement::SettlementStep;
	match pallet_settlement::Settling::<Runtime>::get() {
		Some(p) if p.slot == slot => match p.step {
			SettlementStep::Gather { .. }
			| SettlementStep::Solve
			| SettlementStep::StoreExPost { .. } => (p.accounts, 0, 0),
			SettlementStep::PayIn { done } => (p.accounts, done, 0),
			SettlementStep::PayOut { done } => (p.accounts, p.accounts, done),
			SettlementStep::Forget { .. } => (accounts, accounts, accounts),
		},
		_ if SettledSlots::<Runtime>::contains_key(slot) => (accounts, accounts, accounts),
		_ => (0, 0, 0),
	}
}

/// The benchmarked weight of the accounts settlement gathered, paid in and paid out between
/// two points of `settled_so_far`: at least what a block that went between them must charge.
fn settlement_work(
	before: (u32, u32, u32),
	after: (u32, u32, u32),
) -> frame_support::weights::Weight {
	use pallet_settlement::WeightInfo as _;
	weighed(SettlementWeights::settlement_gather, after.0 - before.0)
		+ weighed(SettlementWeights::settlement_pay_in, after.1 - before.1)
		+ weighed(SettlementWeights::settlement_pay_out, after.2 - before.2)
}

fn balances(accounts: &[lem_runtime::AccountId]) -> Vec<u128> {
	accounts.iter().map(Balances::total_balance).collect()
}

fn record(slot: u64, who: &lem_runtime::AccountId) -> SettlementRecord {
	Records::<Runtime>::get(slot, who).expect("a record for every participant")
}

/// The households' orders (1 bids, 3 and 6 ask: orders 0, 1 and 2), standing orders (2 and
/// 4) and retail choice (5 green) for `slot`.
fn trade(h: &[lem_runtime::AccountId], slot: u64) {
	assert_ok!(Market::place_order(signed(&h[0]), mp(1), slot, Side::Bid, 2_000, 250_000));
	assert_ok!(Market::place_order(signed(&h[2]), mp(3), slot, Side::Ask, 1_500, 100_000));
	assert_ok!(Market::place_order(signed(&h[5]), mp(6), slot, Side::Ask, 1_000, 120_000));
	assert_ok!(Market::set_standing_order(signed(&h[1]), 200_000, 50_000, 1_000_000));
	assert_ok!(Market::set_standing_order(signed(&h[3]), 100_000, 90_000, 1_000_000));
	assert_ok!(Settlement::choose_retail(signed(&h[4]), RetailChoice::Green));
}

/// The readings of `slot` from the gateways of households 1 to 5.
fn read_meters(slot: u64) {
	read(mp(1), slot, 3_000, 0); // bought 2 000 Wh, used 3 000
	read(mp(3), slot, 0, 1_000); // sold 1 500 Wh, delivered 1 000
	read(mp(2), slot, 800, 0); // standing order: buys ex post
	read(mp(4), slot, 0, 1_200); // standing order: sells ex post
	read(mp(5), slot, 700, 0); // green supply
}

#[test]
fn a_slot_settles_trades_ex_post_trades_and_deviations_and_conserves_money() {
	chain().execute_with(|| {
		let slot = S0 + 2;
		let h: Vec<_> = (1..=10).map(household).collect();
		trade(&h, slot);
		// Household 7 has a tenth of a euro beyond the existential deposit.
		let ed = <Balances as Inspect<_>>::minimum_balance();
		<Balances as Mutate<_>>::set_balance(&h[6], ed + 100_000);

		block_at(T0 + 50); // gate closure: the slot clears
		let cleared = ClearedSlots::<Runtime>::get(slot).expect("cleared");
		block_at(T0 + 90); // the slot is over: its readings window opens
		read_meters(slot);
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
		assert_eq!(settled.estimated_readings, 4);
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

		let fill = |id: u64| Fills::<Runtime>::get(slot, id).unwrap();
		let ex_post_fill = |point: u64| ExPostFills::<Runtime>::get(slot, point).unwrap();

		// Household 1 bought 2 kWh locally and the missing kWh from the utility, grey.
		let r1 = record(slot, &h[0]);
		assert_eq!((r1.bought_wh, r1.market_amount), (2_000, -fill(0).amount));
		assert_eq!(
			(r1.price_per_kwh, r1.ex_post_price_per_kwh),
			(Some(fill(0).price_per_kwh), None)
		);
		assert_eq!(r1.metered, Metered { import_wh: 3_000, export_wh: 0 });
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

		// Household 6's gateway sent nothing: its trade stands, and it is settled on the
		// estimate that it delivered nothing, so it buys back what it sold at retail.
		let r6 = record(slot, &h[5]);
		let sold = fill(2).energy_wh;
		assert_eq!((r6.sold_wh, r6.market_amount), (sold, fill(2).amount));
		assert_eq!(
			(r6.metered, r6.estimated, r6.estimated_readings),
			(Metered::default(), Metered::default(), 1)
		);
		assert_eq!(
			(r6.from_utility_wh, r6.to_utility_wh, r6.utility_amount),
			(sold, 0, -((sold as i128 * 300_000 + 999) / 1000))
		);

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

		// Household 7 could pay 0.1 EUR of its 0.6 EUR; its deposit paid the rest.
		let r7 = record(slot, &h[6]);
		assert_eq!(
			(r7.utility_amount, r7.unpaid, r7.from_deposit, r7.debt, r7.balance_change()),
			(-600_000, 0, 500_000, 0, -600_000)
		);

		// Households 8 to 10 had neither orders nor readings: an estimate of nothing bought
		// and nothing delivered.
		for who in &h[7..] {
			let r = record(slot, who);
			assert_eq!(
				(r.metered, r.estimated_readings, r.balance_change()),
				(Metered::default(), 1, 0)
			);
		}

		// The orders are gone and nothing stays held for them.
		assert!(Orders::<Runtime>::iter().next().is_none());
		let order_hold = RuntimeHoldReason::Market(HoldReason::Order);
		for who in &h {
			assert_eq!(Balances::balance_on_hold(&order_hold, who), 0);
		}
		assert_eq!(Settlement::do_try_state(), Ok(()));
		let mine = Settlement::settlements(slot, slot, Some(h[0].clone()), None);
		assert_eq!(mine.records, vec![(slot, h[0].clone(), r1)]);
		assert_eq!(mine.next, None);
		let all = Settlement::settlements(S0, slot + 5, None, None);
		assert_eq!((all.records.len(), all.next), (30, None));
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

		// A change at T0 applies from the next slot; the current one keeps the old tariffs. A
		// second change in the same slot replaces the first.
		assert_ok!(Settlement::set_tariffs(signed(&utility), t(1, 1, 1)));
		assert_ok!(Settlement::set_tariffs(signed(&utility), t(400_000, 350_000, 60_000)));
		let schedule = TariffsInForce::<Runtime>::get();
		assert_eq!((schedule.from, schedule.before.retail_grey_per_kwh), (S0 + 1, 300_000));
		assert_eq!(schedule.current.retail_grey_per_kwh, 350_000);

		block_at(T0 + 30);
		// A change for a later slot waits until the slot before the first one is settled.
		assert_noop!(
			Settlement::set_tariffs(signed(&utility), t(1, 1, 1)),
			Error::<Runtime>::TariffChangePending
		);
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

/// The attack: two households trade only by standing orders, so their slots have no ex-ante
/// orders. After delivery, with the readings public, the DSO turns the feeder between them red
/// to stop their ex-post trade (and could turn it green again before the next). Every slot is
/// settled on the grid in force at its gate closure: the slots delivered under green trade;
/// the first slot whose gate closed after the change does not.
#[test]
fn the_dso_cannot_change_the_grid_of_a_delivered_slot() {
	chain().execute_with(|| {
		let dso = signed(&demo_account("Dso"));
		let (buyer, seller) = (household(2), household(4)); // streets 11 and 12
		assert_ok!(Market::set_standing_order(signed(&buyer), 200_000, 50_000, 1_000_000));
		assert_ok!(Market::set_standing_order(signed(&seller), 100_000, 90_000, 1_000_000));
		// The change comes once slot `first + 1` is over: slots up to `last` had their gate
		// closed by then, `last + 1` had not.
		let (first, last) = (S0 + 1, S0 + 3);
		let mut secs = T0 + 1;
		for slot in first..=last + 1 {
			while secs <= (slot + 1) * SLOT_SECONDS {
				block_at(secs);
				secs += 1;
			}
			read(mp(2), slot, 800, 0);
			read(mp(4), slot, 0, 1_200);
			if slot == first + 1 {
				assert_ok!(Market::set_traffic_light(dso.clone(), 12, TrafficLight::Red));
				assert_ok!(Market::set_edge(dso.clone(), 12, 5_000, Some(0)));
				assert_eq!(
					pallet_market::GridChanges::<Runtime>::get().into_inner(),
					vec![last + 1]
				);
			}
		}
		settle_until(last + 1, secs);
		let traded =
			|slot| (record(slot, &buyer).ex_post_bought_wh, record(slot, &seller).ex_post_sold_wh);
		for slot in first..=last {
			assert_eq!(traded(slot), (800, 800), "slot {slot}, its gate closed under green");
		}
		assert_eq!(traded(last + 1), (0, 0), "its gate closed under red");
		// Once the slots before the change are settled, the grid they needed is dropped.
		assert!(pallet_market::GridChanges::<Runtime>::get().is_empty());
		assert_eq!(pallet_market::GridsBefore::<Runtime>::iter().count(), 0);
	});
}

/// What a settlement leaves behind, to compare two runs of one slot.
#[derive(Debug, PartialEq)]
struct Outcome {
	records: Vec<(lem_runtime::AccountId, SettlementRecord)>,
	settled: pallet_settlement::SettledSlot,
	ex_post_fills: Vec<pallet_market::Fill>,
	balances: Vec<u128>,
	holds: Vec<u128>,
	debts: Vec<u128>,
	events: Vec<pallet_settlement::Event<Runtime>>,
	forgotten: bool,
}

/// The first test's slot, with household 9 placing as many orders as an account may and
/// the community keeping one settled slot, settled by blocks a second apart that each give
/// settlement `budget`. Returns what it left and how many blocks it took. Every block stays
/// within the budget, shows no record of the slot before its totals, and keeps the market's
/// and settlement's invariants.
fn settle_with_budget(budget: frame_support::weights::Weight) -> (Outcome, u32) {
	use lem_runtime::{RuntimeEvent, System};
	let mut ext = chain();
	ext.execute_with(|| {
		pallet_market::CommunityParams::<Runtime>::mutate(|c| c.retention_slots = 1);
		let slot = S0 + 2;
		let h: Vec<_> = (1..=10).map(household).collect();
		trade(&h, slot);
		for k in 0..pallet_market::MAX_ORDERS_PER_ACCOUNT as u64 {
			let side = if k % 2 == 0 { Side::Bid } else { Side::Ask };
			assert_ok!(Market::place_order(signed(&h[8]), mp(9), slot, side, 100 + k, 150_000));
		}
		block_at(T0 + 50);
		block_at(T0 + 90);
		read_meters(slot);
		read(mp(9), slot, 400, 0);
		// The slot before settles as usual; it leaves the window as this one settles.
		settle_until(slot - 1, T0 + 120);
		assert!(Records::<Runtime>::iter_prefix(slot - 1).next().is_some());
		System::reset_events();

		let mut accounts = h.clone();
		accounts.extend([demo_account("Utility"), demo_account("Dso"), CommunityAccount::get()]);
		let (mut blocks, mut secs) = (0, T0 + 150);
		while pallet_settlement::Settling::<Runtime>::exists()
			|| SettledSlots::<Runtime>::get(slot).is_none()
		{
			System::set_block_number(System::block_number() + 1);
			pallet_timestamp::Now::<Runtime>::put(secs * 1000);
			Market::clear_due_slots(Market::tick_share());
			let before = settled_so_far(slot, h.len() as u32);
			let used = Settlement::settle_due_slots(budget);
			assert!(used.all_lte(budget), "{used} used of {budget}");
			let work = settlement_work(before, settled_so_far(slot, h.len() as u32));
			assert!(work.all_lte(used), "{work} done, {used} charged");
			if SettledSlots::<Runtime>::get(slot).is_none() {
				let shown = Settlement::settlements(slot, slot, None, None);
				assert!(shown.records.is_empty(), "a record before its slot is settled");
			}
			assert_eq!(Settlement::do_try_state(), Ok(()));
			assert_eq!(Market::do_try_state(), Ok(()));
			blocks += 1;
			secs += 1;
			assert!(secs < T0 + 3600, "slot {slot} never settled");
		}
		let order_hold = RuntimeHoldReason::Market(HoldReason::Order);
		let outcome = Outcome {
			records: Records::<Runtime>::iter_prefix(slot).collect(),
			settled: SettledSlots::<Runtime>::get(slot).unwrap(),
			ex_post_fills: Settlement::ex_post_fills(slot, None),
			balances: balances(&accounts),
			holds: accounts.iter().map(|a| Balances::balance_on_hold(&order_hold, a)).collect(),
			debts: accounts
				.iter()
				.map(|a| pallet_market::Debts::<Runtime>::iter_prefix_values(a).sum())
				.collect(),
			events: System::events()
				.into_iter()
				.filter_map(|e| match e.event {
					RuntimeEvent::Settlement(e) => Some(e),
					_ => None,
				})
				.collect(),
			forgotten: Records::<Runtime>::iter_prefix(slot - 1).next().is_none()
				&& SettledSlots::<Runtime>::get(slot - 1).is_none(),
		};
		(outcome, blocks)
	})
}

/// A slot whose settlement does not fit in a block's budget is settled a page at a time:
/// accounts gathered, the ex-post orders cleared once, their fills stored, accounts paid in,
/// then paid out and recorded, the slot leaving the window forgotten. It comes out as it does
/// in one block, to the record, the event and the unit of money, and no block exceeds its
/// budget, with an account of sixteen orders charged as sixteen.
#[test]
fn a_slot_beyond_a_blocks_budget_settles_page_by_page_as_in_one_block() {
	use frame_support::weights::Weight;
	use pallet_settlement::WeightInfo;
	type W = <Runtime as pallet_settlement::Config>::WeightInfo;

	let largest = pallet_market::MAX_ORDERS_PER_ACCOUNT as u64;
	let max_points = pallet_market::MAX_COMMUNITY_METERING_POINTS;
	let account = |step: fn(u32) -> Weight| step(0) + (step(1) - step(0)) * largest;
	let budget = W::settlement_start()
		+ [
			account(W::settlement_gather),
			W::settlement_solve(max_points),
			W::settlement_store_ex_post(1),
			account(W::settlement_pay_in),
			account(W::settlement_pay_out),
			W::settlement_forget(1),
		]
		.into_iter()
		.reduce(|a, b| a.max(b))
		.unwrap();
	chain().execute_with(|| assert!(Settlement::settlement_progresses_within(budget, max_points)));
	assert!(!chain().execute_with(|| {
		Settlement::settlement_progresses_within(budget - Weight::from_parts(1, 0), max_points)
	}));

	let (whole, one) = settle_with_budget(Weight::MAX);
	let (paged, blocks) = settle_with_budget(budget);
	println!("settled over {blocks} blocks at {budget}");
	assert_eq!(one, 1);
	// A page holds sixteen accounts' worth of work; the slot's ten accounts weigh twenty-five,
	// to gather, to pay in and to pay out.
	assert!(blocks >= 3, "{blocks} blocks");
	assert!(whole.forgotten);
	assert_eq!(whole.settled.accounts, 10);
	assert_eq!(whole.records.len(), 10);
	assert_eq!(whole.ex_post_fills.len(), 2);
	assert_eq!(whole.settled.imbalance(), Some(0));
	assert_eq!(whole.holds, vec![0; 13]);
	assert_eq!(paged, whole);
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

/// Balance changes of `accounts` while `f` runs.
fn changes(accounts: &[lem_runtime::AccountId], f: impl FnOnce()) -> Vec<i128> {
	let before = balances(accounts);
	f();
	balances(accounts).iter().zip(&before).map(|(a, b)| *a as i128 - *b as i128).collect()
}

/// The attack: a seller sells ahead, unplugs its gateway and keeps the payment, while its
/// buyer's meter shows no deviation. The missing reading is settled on the estimate that it
/// delivered nothing, so it pays the utility for the energy it sold; its next reading's
/// registers show what it really delivered, and a correction settles the difference.
#[test]
fn a_seller_without_a_reading_pays_for_what_it_sold_until_its_registers_show_otherwise() {
	chain().execute_with(|| {
		let (seller, buyer) = (household(3), household(1));
		let (utility, community) = (demo_account("Utility"), CommunityAccount::get());
		let slot = S0 + 2;
		assert_ok!(Market::place_order(signed(&buyer), mp(1), slot, Side::Bid, 5_000, 250_000));
		assert_ok!(Market::place_order(signed(&seller), mp(3), slot, Side::Ask, 5_000, 100_000));
		// Both gateways report the slot before, so their registers are known.
		block_at(T0 + 30);
		read(mp(3), S0, 0, 0);
		read(mp(1), S0, 0, 0);
		block_at(T0 + 50);
		assert!(ClearedSlots::<Runtime>::get(slot).is_some(), "cleared");
		// The seller's, placed second.
		let fill = Fills::<Runtime>::iter_prefix_values(slot).max_by_key(|f| f.order).unwrap();
		assert_eq!(fill.energy_wh, 5_000);
		block_at((slot + 1) * SLOT_SECONDS);
		read(mp(3), S0 + 1, 0, 0);
		read(mp(1), S0 + 1, 0, 0);
		// The buyer's meter took the 5 kWh it bought; the seller's gateway is unplugged.
		read(mp(1), slot, 5_000, 0);

		let all = [seller.clone(), buyer.clone(), utility.clone(), demo_account("Dso"), community];
		let change = changes(&all, || {
			settle_until(slot, (slot + 1) * SLOT_SECONDS + GRACE);
		});
		assert_eq!(change.iter().sum::<i128>(), 0);
		let r = record(slot, &seller);
		assert_eq!((r.estimated_readings, r.estimated), (1, Metered::default()));
		// It bought back all 5 kWh at retail (0.30 EUR/kWh), paid from its ask's hold.
		assert_eq!((r.from_utility_wh, r.utility_amount), (5_000, -1_500_000));
		assert_eq!(change[0], fill.amount - 1_500_000);
		assert_eq!(change[2], 1_500_000, "the utility is paid for the energy it supplied");

		// Back online: the gateway's reading of the next slot carries registers showing that
		// it did deliver 4 kWh in the slot it missed. The correction credits them at feed-in.
		read_registers(mp(3), slot + 1, 0, 100, (0, 4_100));
		let secs = settle_until(slot + 1, (slot + 2) * SLOT_SECONDS + GRACE);
		let r = record(slot + 1, &seller);
		assert_eq!((r.corrected_wh, r.correction_amount), (-4_000, 4_000 * 80));
		assert_eq!((r.to_utility_wh, r.estimated_readings), (100, 0));
		assert_eq!(Settlement::do_try_state(), Ok(()));
		let _ = secs;
	});
}

/// The attack: a household trading only by standing order unplugs its gateway. Its slots were
/// settled on what it bought, nothing, and no later reading ever came to correct them. Now a
/// silent point is estimated at what it usually takes at that hour, so it pays about what it
/// used; and after the community's number of silent slots it is suspended: its standing order
/// no longer trades, it places no orders, and the manager is told.
#[test]
fn a_silent_consumer_pays_about_what_it_used_and_is_stopped() {
	chain().execute_with(|| {
		pallet_market::CommunityParams::<Runtime>::mutate(|c| c.silent_slots_before_stop = 4);
		let who = household(2);
		assert_ok!(Market::set_standing_order(signed(&who), 200_000, 50_000, 1_000_000));
		let (first, silent_from, last) = (S0 + 1, S0 + 4, S0 + 9);
		let mut secs = T0 + 1;
		for slot in first..=last {
			while secs <= (slot + 1) * SLOT_SECONDS {
				block_at(secs);
				secs += 1;
			}
			if slot < silent_from {
				read(mp(2), slot, 2_000, 0);
			}
		}
		settle_until(last, secs);
		for slot in silent_from..=last {
			let r = record(slot, &who);
			assert_eq!(r.estimated_readings, 1, "slot {slot}");
			assert_eq!(r.estimated.import_wh, 2_000, "slot {slot}: what it usually takes");
			// Nobody sells: the utility supplies it at retail (0.30 EUR/kWh).
			assert_eq!((r.from_utility_wh, r.utility_amount), (2_000, -600_000), "slot {slot}");
		}
		// Its fourth silent slot stopped it. (So were the households that never read at all: a
		// household that will not accept its gateway's key trades no longer than this.)
		let stopped: Vec<_> =
			frame_system::Pallet::<Runtime>::events()
				.into_iter()
				.filter_map(|e| match e.event {
					lem_runtime::RuntimeEvent::Settlement(
						pallet_settlement::Event::MeterSilent { who, metering_point, silent_slots },
					) => Some((who, metering_point, silent_slots)),
					_ => None,
				})
				.collect();
		assert!(stopped.contains(&(who.clone(), mp(2), 4)), "{stopped:?}");
		assert!(stopped.contains(&(household(1), mp(1), 4)), "{stopped:?}");
		assert_eq!(stopped.iter().filter(|(w, ..)| *w == who).count(), 1, "told once");
		let participant = pallet_market::Participants::<Runtime>::get(&who).unwrap();
		assert_eq!(participant.status, pallet_market::ParticipantStatus::Suspended);
		let open = pallet_market::CommunityParams::<Runtime>::get().slot_at(secs) + 2;
		assert_noop!(
			Market::place_order(signed(&who), mp(2), open, Side::Bid, 1_000, 250_000),
			pallet_market::Error::<Runtime>::Suspended
		);
		assert_eq!(Settlement::do_try_state(), Ok(()));
	});
}

/// A reading that arrives after its slot was settled (the gateway was offline) is not lost: its
/// registers correct the slot's estimate at the next settlement.
#[test]
fn a_late_reading_counts_through_a_correction() {
	chain().execute_with(|| {
		let who = household(2);
		block_at(T0 + 30);
		read(mp(2), S0, 100, 0);
		// Slot S0 + 1 passes without its reading and is settled on an estimate of what the
		// point usually takes: the 100 Wh of its only reading.
		let secs = settle_until(S0 + 1, T0 + 60 + GRACE);
		let r = record(S0 + 1, &who);
		assert_eq!((r.estimated_readings, r.from_utility_wh), (1, 100));
		// Then the gateway catches up: the slot's reading, late, with 2 kWh imported. The next
		// slot, itself estimated at 100 Wh, corrects the 1.9 kWh the estimate was short.
		read(mp(2), S0 + 1, 2_000, 0);
		settle_until(S0 + 2, secs);
		let r = record(S0 + 2, &who);
		assert_eq!((r.corrected_wh, r.correction_amount), (1_900, -570_000));
		assert_eq!((r.estimated_readings, r.from_utility_wh), (1, 100));
		assert_eq!(r.balance_change(), -600_000);
		// Nothing is corrected twice.
		settle_until(S0 + 3, secs + SLOT_SECONDS);
		assert_eq!(record(S0 + 3, &who).corrected_wh, 0);
		assert_eq!(Settlement::do_try_state(), Ok(()));
	});
}

/// The attack: a participant moves its money away just before settlement and its retail
/// supply is never paid. Its deposit pays first; what the deposit cannot cover is a debt that
/// blocks its orders and is collected first from what it receives or has released later.
#[test]
fn what_a_participant_owes_the_utility_is_secured_by_its_deposit_and_collected_later() {
	use frame_support::traits::tokens::Preservation;
	chain().execute_with(|| {
		let who = household(7);
		let utility = demo_account("Utility");
		let manager = signed(&demo_account("Manager"));
		assert_ok!(Market::set_deposit(manager, who.clone(), 100_000));
		// Money parked on an order a long way ahead, and the rest moved away.
		let far = S0 + 100;
		assert_ok!(Market::place_order(signed(&who), mp(7), far, Side::Bid, 1_000, 300_000));
		let parked = Balances::balance_on_hold(&RuntimeHoldReason::Market(HoldReason::Order), &who);
		assert!(parked > 0);
		assert_ok!(Balances::transfer_all(signed(&who), household(8).into(), true));
		assert_eq!(
			<Balances as Inspect<_>>::reducible_balance(
				&who,
				Preservation::Preserve,
				frame_support::traits::tokens::Fortitude::Polite
			),
			0
		);

		// It takes 2 kWh from the utility in slot S0.
		block_at(T0 + 30);
		read(mp(7), S0, 2_000, 0);
		let utility_before = Balances::total_balance(&utility);
		settle_until(S0, T0 + 30 + GRACE);
		let r = record(S0, &who);
		assert_eq!((r.utility_amount, r.from_deposit), (-600_000, 100_000));
		assert_eq!((r.unpaid, r.debt), (500_000, 500_000));
		assert_eq!(Balances::total_balance(&utility) - utility_before, 100_000);
		assert_eq!(pallet_market::Debts::<Runtime>::get(&who, &utility), 500_000);

		// In debt beyond its deposit, it places no orders.
		assert_noop!(
			Market::place_order(signed(&who), mp(7), S0 + 5, Side::Ask, 1_000, 0),
			pallet_market::Error::<Runtime>::Indebted
		);
		// Cancelling the parked order releases money, which pays the debt first.
		let order = pallet_market::AccountOrders::<Runtime>::get(&who, far)[0];
		assert_ok!(Market::cancel_order(signed(&who), order));
		let debt = pallet_market::Debts::<Runtime>::get(&who, &utility);
		assert_eq!(debt, 500_000 - parked.min(500_000));
		assert_eq!(
			Balances::total_balance(&utility) - utility_before,
			100_000 + parked.min(500_000)
		);

		// A later receipt pays the rest: feed-in of 5 kWh (0.40 EUR) in slot S0 + 1...
		read(mp(7), S0 + 1, 0, 5_000);
		let secs = settle_until(S0 + 1, T0 + 60 + GRACE);
		let r = record(S0 + 1, &who);
		assert_eq!(r.debt_collected, debt.min(400_000));
		assert_eq!(r.debt, debt - debt.min(400_000));
		// ...and once it pays in, it owes nothing, its deposit is whole and it may trade.
		<Balances as Mutate<_>>::mint_into(&who, 1_000_000).unwrap();
		assert_ok!(Market::pay_debt(signed(&who)));
		assert_eq!(pallet_market::Debts::<Runtime>::get(&who, &utility), 0);
		assert_eq!(
			Balances::balance_on_hold(&RuntimeHoldReason::Market(HoldReason::Deposit), &who),
			100_000
		);
		block_at(secs);
		assert_ok!(Market::place_order(signed(&who), mp(7), S0 + 10, Side::Ask, 1_000, 0));
		assert_eq!(Settlement::do_try_state(), Ok(()));
	});
}

/// A deposit that paid the utility must be whole again before its owner trades (`DepositShort`),
/// and is topped up from what it later has; only the manager sets deposits, of participants;
/// a lower deposit releases the rest at once.
#[test]
fn a_deposit_that_paid_the_utility_is_topped_up_before_its_owner_trades_again() {
	use frame_support::traits::tokens::{Fortitude, Preservation};
	chain().execute_with(|| {
		let who = household(7);
		let manager = signed(&demo_account("Manager"));
		let deposit = RuntimeHoldReason::Market(HoldReason::Deposit);
		// Refused by name, changing nothing.
		assert_noop!(
			Market::set_deposit(signed(&household(8)), who.clone(), 1),
			pallet_market::Error::<Runtime>::NotManager
		);
		assert_noop!(
			Market::set_deposit(manager.clone(), demo_account("Dso"), 1),
			pallet_market::Error::<Runtime>::NotParticipant
		);
		// A lower deposit releases the rest at once.
		let free = Balances::free_balance(&who);
		assert_eq!(Balances::balance_on_hold(&deposit, &who), 20_000_000);
		assert_ok!(Market::set_deposit(manager, who.clone(), 1_000_000));
		assert_eq!(Balances::balance_on_hold(&deposit, &who), 1_000_000);
		assert_eq!(Balances::free_balance(&who), free + 19_000_000);

		// It moves its money away; 2 kWh of supply (0.60 EUR) come from its deposit.
		assert_ok!(Balances::transfer_all(signed(&who), household(8).into(), true));
		block_at(T0 + 30);
		read(mp(7), S0, 2_000, 0);
		let secs = settle_until(S0, T0 + 30 + GRACE);
		let r = record(S0, &who);
		assert_eq!((r.from_deposit, r.unpaid, r.debt), (600_000, 0, 0));
		assert_eq!(Balances::balance_on_hold(&deposit, &who), 400_000);
		block_at(secs);
		assert_noop!(
			Market::place_order(signed(&who), mp(7), S0 + 10, Side::Ask, 1_000, 0),
			pallet_market::Error::<Runtime>::DepositShort
		);
		// What it has next tops the deposit up first; then it trades again.
		assert_ok!(<Balances as Mutate<_>>::mint_into(&who, 1_200_000));
		assert_ok!(Market::pay_debt(signed(&who)));
		assert_eq!(Balances::balance_on_hold(&deposit, &who), 1_000_000);
		let left = <Balances as Inspect<_>>::reducible_balance(
			&who,
			Preservation::Preserve,
			Fortitude::Polite,
		);
		assert_eq!(left, 600_000);
		assert_ok!(Market::place_order(signed(&who), mp(7), S0 + 10, Side::Ask, 1_000, 0));
	});
}

/// The attack: the utility moves its money away before settlement, and the feed-in it owes a
/// household is never paid: the record shows a negative `unpaid` that nothing collects. Its
/// deposit pays first; what that cannot cover it owes the household, and what it receives
/// later is held for the household and pays it first.
#[test]
fn what_the_utility_owes_is_secured_by_its_deposit_and_paid_first_from_what_it_receives() {
	use frame_support::traits::{fungible::MutateHold, tokens::Precision};
	chain().execute_with(|| {
		let (seller, buyer, utility) = (household(3), household(2), demo_account("Utility"));
		let deposit = RuntimeHoldReason::Market(HoldReason::Deposit);
		let required = pallet_market::CommunityParams::<Runtime>::get().supplier_deposit as u128;
		assert_eq!(Balances::balance_on_hold(&deposit, &utility), required);
		// Its deposit is down to 0.10 EUR, and it moves all the rest away.
		assert_ok!(<Balances as MutateHold<_>>::release(
			&deposit,
			&utility,
			required - 100_000,
			Precision::Exact
		));
		assert_ok!(Balances::transfer_all(signed(&utility), household(8).into(), true));

		// 5 kWh fed in during S0: 0.40 EUR of feed-in, of which the deposit pays 0.10.
		block_at(T0 + 30);
		read(mp(3), S0, 0, 5_000);
		let secs = settle_until(S0, T0 + 30 + GRACE);
		let r = record(S0, &seller);
		assert_eq!((r.utility_amount, r.unpaid, r.balance_change()), (400_000, -300_000, 100_000));
		assert_eq!((r.credit_collected, r.credit), (0, 300_000));
		assert_eq!(pallet_market::SupplierDebts::<Runtime>::get(&seller, &utility), 300_000);
		assert_eq!(Balances::balance_on_hold(&deposit, &utility), 0);

		// In S0 + 1 another household takes 2 kWh (0.60 EUR) from the utility. What the utility
		// receives is held, and pays the seller first, before this slot's feed-in.
		read(mp(2), S0 + 1, 2_000, 0);
		read(mp(3), S0 + 1, 0, 1_000);
		let free_before = Balances::free_balance(&utility);
		settle_until(S0 + 1, secs);
		assert_eq!(record(S0 + 1, &buyer).utility_amount, -600_000);
		let r = record(S0 + 1, &seller);
		assert_eq!((r.credit_collected, r.utility_amount, r.unpaid), (300_000, 80_000, 0));
		assert_eq!((r.credit, r.balance_change()), (0, 380_000));
		assert!(pallet_market::SupplierDebts::<Runtime>::iter().next().is_none());
		// Nothing it received reached its free balance: what is left tops up its deposit.
		assert_eq!(Balances::free_balance(&utility), free_before);
		assert_eq!(Balances::balance_on_hold(&deposit, &utility), 600_000 - 300_000 - 80_000);
		assert_eq!(Settlement::do_try_state(), Ok(()));
		assert_eq!(Market::do_try_state(), Ok(()));
	});
}

/// The attack: the council appoints another utility while delivered slots are still to be
/// settled, and the new one is paid for their supply and collects what the customers owed
/// the old one. A slot is settled with the utility that supplied it, what it is owed stays
/// its own, and its deposit is released once it supplies no slot left to settle and owes
/// nothing. A utility that cannot hold the deposit is not appointed.
#[test]
fn receivables_stay_with_the_utility_that_supplied_the_slot() {
	use frame_support::traits::tokens::Preservation;
	type Council = pallet_collective::RawOrigin<AccountId, pallet_collective::Instance1>;
	let council = || -> RuntimeOrigin { Council::Members(3, 4).into() };
	chain().execute_with(|| {
		let (who, old) = (household(7), demo_account("Utility"));
		let (new, broke) = (AccountId::from([7u8; 32]), AccountId::from([8u8; 32]));
		let deposit = RuntimeHoldReason::Market(HoldReason::Deposit);
		let required = pallet_market::CommunityParams::<Runtime>::get().supplier_deposit as u128;
		assert_ok!(<Balances as Mutate<_>>::mint_into(&broke, required / 2));
		assert_noop!(
			Market::appoint(council(), Role::Utility, broke),
			pallet_market::Error::<Runtime>::SupplierDepositShort
		);
		assert_ok!(<Balances as Mutate<_>>::mint_into(&new, 2 * required));

		// Household 7 holds a deposit of 0.10 EUR and moves the rest of its money away.
		assert_ok!(Market::set_deposit(signed(&demo_account("Manager")), who.clone(), 100_000));
		assert_ok!(Balances::transfer_all(signed(&who), household(8).into(), true));
		block_at(T0 + 30);
		read(mp(7), S0, 2_000, 0);
		// S0 delivered, the council appoints a new utility: it supplies from the next slot on.
		assert_ok!(Market::appoint(council(), Role::Utility, new.clone()));
		assert_eq!(Balances::balance_on_hold(&deposit, &new), required);
		let (old_before, new_before) =
			(Balances::total_balance(&old), Balances::total_balance(&new));
		let secs = settle_until(S0, T0 + 30 + GRACE);
		let r = record(S0, &who);
		assert_eq!((r.utility_amount, r.from_deposit, r.debt), (-600_000, 100_000, 500_000));
		assert_eq!(Balances::total_balance(&old) - old_before, 100_000);
		assert_eq!(Balances::total_balance(&new), new_before);
		assert_eq!(pallet_market::Debts::<Runtime>::get(&who, &old), 500_000);

		// What the household pays later goes to the utility it owes, not to the new one.
		assert_ok!(<Balances as Mutate<_>>::mint_into(&who, 1_000_000));
		assert_ok!(Market::pay_debt(signed(&who)));
		assert_eq!(Balances::total_balance(&old) - old_before, 600_000);
		assert_eq!(Balances::total_balance(&new), new_before);
		assert!(!pallet_market::Pallet::<Runtime>::indebted(&who));

		// The old utility keeps its deposit while it supplies a slot not yet settled...
		assert_eq!(Balances::balance_on_hold(&deposit, &old), required);
		read(mp(7), S0 + 1, 1_000, 0);
		let secs = settle_until(S0 + 1, secs);
		assert_eq!(record(S0 + 1, &who).utility_amount, -300_000);
		assert_eq!(Balances::total_balance(&old) - old_before, 900_000);
		// ...and gets it back once its last slot is settled.
		assert_eq!(Balances::balance_on_hold(&deposit, &old), 0);
		assert!(
			<Balances as Inspect<_>>::reducible_balance(
				&old,
				Preservation::Preserve,
				frame_support::traits::tokens::Fortitude::Polite
			) >= required
		);
		// The new utility supplies S0 + 2.
		read(mp(7), S0 + 2, 1_000, 0);
		settle_until(S0 + 2, secs);
		assert!(Balances::total_balance(&new) > new_before);
		assert_eq!(Balances::total_balance(&old) - old_before, 900_000);
		assert_eq!(Settlement::do_try_state(), Ok(()));
		assert_eq!(Market::do_try_state(), Ok(()));
	});
}

/// The attack: a gateway owner's first reading is back-dated to a slot long before the chain
/// settled its meter, with the registers at zero, and its next reading shows them advanced by
/// as much as the connection could carry in all that time. Settlement corrects only from
/// registers read since it first counted the meter, so the back-dated reading is no baseline.
#[test]
fn a_back_dated_first_reading_claims_no_energy_from_before_settlement_began() {
	chain().execute_with(|| {
		let who = household(4);
		block_at(T0 + 30);
		// Dated further back than the community keeps slots, it is refused outright; as far
		// back as it keeps them, it is taken.
		let kept = pallet_market::CommunityParams::<Runtime>::get().retention_slots as u64;
		let too_old = signed_reading(mp(4), S0 - kept, 0, 0, (0, 0));
		assert_noop!(
			Metering::submit_reading(RuntimeOrigin::none(), too_old),
			pallet_metering::Error::<Runtime>::TooOld
		);
		read_registers(mp(4), S0 + 1 - kept, 0, 0, (0, 0));
		// S0 settles without a reading of its own; the next one claims 5 MWh sent out since,
		// within what the connection carries over those slots.
		let secs = settle_until(S0, T0 + 30 + GRACE);
		read_registers(mp(4), S0 + 1, 0, 0, (0, 5_000_000));
		settle_until(S0 + 1, secs);
		let r = record(S0 + 1, &who);
		assert_eq!((r.corrected_wh, r.correction_amount), (0, 0));
		assert_eq!(r.balance_change(), 0);
	});
}

/// The attack: money parked on an order comes back at gate closure while its owner is in
/// debt, to be moved away before the next settlement could collect it. What is released pays
/// the debt first; and an indebted participant cannot park money in a standing order's budget.
#[test]
fn money_an_indebted_participant_gets_back_at_gate_closure_pays_its_debt_first() {
	chain().execute_with(|| {
		let who = household(7);
		let utility = demo_account("Utility");
		let slot = S0 + 10;
		assert_ok!(Market::place_order(signed(&who), mp(7), slot, Side::Bid, 1_000, 300_000));
		assert_ok!(Balances::transfer_all(signed(&who), household(8).into(), true));
		pallet_market::Debts::<Runtime>::insert(&who, &utility, 200_000);
		assert_noop!(
			Market::set_standing_order(signed(&who), 300_000, 0, 1_000),
			pallet_market::Error::<Runtime>::Indebted
		);
		// The slots due before the gate closes settle first, so that only clearing runs then.
		let secs = settle_until(slot - 4, T0 + 1);
		let gate = pallet_market::CommunityParams::<Runtime>::get().gate_closure(slot);
		assert!(secs < gate && gate < (slot - 2) * SLOT_SECONDS + GRACE);
		assert_eq!(pallet_market::Debts::<Runtime>::get(&who, &utility), 200_000);
		let before = Balances::total_balance(&utility);
		block_at(gate);
		// Nothing filled: all but the order deposit came back, and paid the debt.
		assert_eq!(pallet_market::Debts::<Runtime>::get(&who, &utility), 0);
		assert_eq!(Balances::total_balance(&utility) - before, 200_000);
	});
}

/// Without a utility nobody supplied the slot: its supply is unpaid, nobody can claim it, and
/// money is still conserved.
#[test]
fn without_a_utility_supply_is_unpaid_and_money_is_conserved() {
	chain().execute_with(|| {
		let who = household(2);
		pallet_market::Roles::<Runtime>::remove(Role::Utility);
		pallet_market::Suppliers::<Runtime>::kill();
		block_at(T0 + 30);
		read(mp(2), S0, 2_000, 0);
		settle_until(S0, T0 + 30 + GRACE);
		let r = record(S0, &who);
		assert_eq!((r.utility_amount, r.unpaid, r.debt), (-600_000, 600_000, 0));
		assert!(!pallet_market::Pallet::<Runtime>::indebted(&who));
		assert_eq!(r.balance_change(), 0);
		assert_eq!(Settlement::do_try_state(), Ok(()));
	});
}

/// The attack: once a slot's readings and the other limits are public, a participant reprices
/// its standing order or switches its retail tariff in the block before settlement. Changes
/// apply only from the next slot, so the delivered slot settles on the terms it was delivered
/// under.
#[test]
fn standing_orders_and_retail_choices_change_only_for_slots_not_yet_delivered() {
	chain().execute_with(|| {
		let (buyer, seller) = (household(2), household(4));
		assert_ok!(Market::set_standing_order(signed(&buyer), 200_000, 50_000, 1_000_000));
		assert_ok!(Market::set_standing_order(signed(&seller), 100_000, 90_000, 1_000_000));
		let slot = S0 + 1;
		// S0 settles first, so that the standing orders set before `slot` are no longer a
		// pending change.
		let secs = settle_until(S0, (slot + 1) * SLOT_SECONDS);
		read(mp(2), slot, 800, 0);
		read(mp(4), slot, 0, 800);
		// Everything is public now. The buyer drops its buy limit below the seller's ask and
		// switches to green, in the last slot before `slot` settles.
		assert!(secs < (slot + 1) * SLOT_SECONDS + GRACE);
		assert_ok!(Market::set_standing_order(signed(&buyer), 0, 50_000, 1_000_000));
		assert_ok!(Settlement::choose_retail(signed(&buyer), RetailChoice::Green));
		let from = secs / SLOT_SECONDS + 1;
		// A second change, for a still later slot, waits for this one.
		block_at(from * SLOT_SECONDS);
		assert_noop!(
			Settlement::choose_retail(signed(&buyer), RetailChoice::Grey),
			Error::<Runtime>::RetailChangePending
		);
		assert_noop!(
			Market::set_standing_order(signed(&buyer), 1, 50_000, 1_000_000),
			pallet_market::Error::<Runtime>::ChangePending
		);
		let secs = settle_until(slot, from * SLOT_SECONDS);
		let r = record(slot, &buyer);
		assert_eq!((r.ex_post_bought_wh, r.retail), (800, RetailChoice::Grey));
		// The slots from `from` on get the new terms: no ex-post purchase at a limit of 0,
		// green supply.
		block_at((from + 1) * SLOT_SECONDS);
		for later in slot + 1..=from {
			read(mp(2), later, 800, 0);
			read(mp(4), later, 0, 800);
		}
		settle_until(from, secs.max((from + 1) * SLOT_SECONDS));
		assert_eq!(record(from - 1, &buyer).retail, RetailChoice::Grey);
		let r = record(from, &buyer);
		assert_eq!(
			(r.ex_post_bought_wh, r.retail, r.from_utility_wh),
			(0, RetailChoice::Green, 800)
		);
		// And the pending change is done with: another may follow.
		assert_ok!(Settlement::choose_retail(signed(&buyer), RetailChoice::Grey));
	});
}

/// Transaction fees are the community's money: they go to the community account, not burned.
#[test]
fn transaction_fees_go_to_the_community_account() {
	use frame_support::dispatch::GetDispatchInfo;
	use pallet_transaction_payment::OnChargeTransaction;
	type Charge = <Runtime as pallet_transaction_payment::Config>::OnChargeTransaction;
	chain().execute_with(|| {
		let who = household(1);
		let community = CommunityAccount::get();
		let call = lem_runtime::RuntimeCall::System(frame_system::Call::remark { remark: vec![] });
		let info = call.get_dispatch_info();
		let (issuance, before) = (Balances::total_issuance(), Balances::total_balance(&community));
		let fee = 1_234;
		let withdrawn =
			<Charge as OnChargeTransaction<Runtime>>::withdraw_fee(&who, &call, &info, fee, 0)
				.unwrap();
		<Charge as OnChargeTransaction<Runtime>>::correct_and_deposit_fee(
			&who,
			&info,
			&Default::default(),
			fee,
			0,
			withdrawn,
		)
		.unwrap();
		assert_eq!(Balances::total_balance(&community) - before, fee);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// A bid at a limit of 0 still holds the order deposit, so filling a slot's book costs capital;
/// the deposit comes back at settlement.
#[test]
fn every_order_holds_a_deposit_returned_at_settlement() {
	chain().execute_with(|| {
		let who = household(9);
		let deposit = lem_runtime::genesis_config_presets::demo_community().order_deposit as u128;
		assert!(deposit > 0);
		let hold = RuntimeHoldReason::Market(HoldReason::Order);
		assert_ok!(Market::place_order(signed(&who), mp(9), S0 + 2, Side::Bid, 1_000, 0));
		assert_eq!(Balances::balance_on_hold(&hold, &who), deposit);
		block_at(T0 + 50);
		assert_eq!(Balances::balance_on_hold(&hold, &who), deposit, "kept through clearing");
		settle_until(S0 + 2, T0 + 150);
		assert_eq!(Balances::balance_on_hold(&hold, &who), 0);
	});
}

/// Bytes of the keys and values stored at and under `prefix`, and how many.
fn bytes_under(prefix: &[u8]) -> (usize, usize) {
	let at = sp_io::storage::get(prefix).map_or((0, 0), |v| (1, prefix.len() + v.len()));
	let (mut keys, mut bytes) = at;
	let mut key = prefix.to_vec();
	while let Some(next) = sp_io::storage::next_key(&key).filter(|k| k.starts_with(prefix)) {
		keys += 1;
		bytes += next.len() + sp_io::storage::get(&next).map_or(0, |v| v.len());
		key = next;
	}
	(keys, bytes)
}

/// Bytes of every key and value in state, and how many keys. Events are cleared first, as
/// every block's start does.
fn state_size() -> (usize, usize) {
	frame_system::Pallet::<Runtime>::reset_events();
	bytes_under(&[])
}

/// One slot of a busy community, driven a slot at a time: household 1 buys from household 3
/// ahead, every gateway but household 6's reads its slot, and one slot settles.
fn trade_and_read(slot: u64) {
	block_at(slot * SLOT_SECONDS - 20);
	assert_ok!(Market::place_order(signed(&household(1)), mp(1), slot, Side::Bid, 1_000, 250_000));
	assert_ok!(Market::place_order(signed(&household(3)), mp(3), slot, Side::Ask, 1_000, 100_000));
	for i in (1..=10).filter(|i| *i != 6) {
		read(mp(i), slot - 2, 100 * i as u64, if i == 3 { 1_000 } else { 0 });
	}
	block_at(slot * SLOT_SECONDS - 5); // the slot clears at its gate closure
}

/// The chain keeps the community's `retention_slots` settled slots: as a slot settles, the one
/// that many slots before it goes, with its records, totals, cleared slot, readings and
/// estimates, and the state of a busy community stops growing.
#[test]
fn settled_slots_leave_the_chain_after_the_retention_window_and_state_stops_growing() {
	chain().execute_with(|| {
		const KEPT: u64 = 4;
		pallet_market::CommunityParams::<Runtime>::mutate(|c| c.retention_slots = KEPT as u32);
		let first = S0 + 2;
		let mut sizes = Vec::new();
		for slot in first..first + 4 * KEPT {
			trade_and_read(slot);
			sizes.push(state_size());
		}
		let next = pallet_settlement::SettlementCursor::<Runtime>::get().unwrap();
		let oldest = next - KEPT;
		assert_eq!(Settlement::oldest_kept(), Some(oldest));
		assert!(oldest > first, "slots have left");
		for slot in first..oldest {
			assert!(SettledSlots::<Runtime>::get(slot).is_none(), "slot {slot}");
			assert!(Records::<Runtime>::iter_prefix(slot).next().is_none());
			assert!(ClearedSlots::<Runtime>::get(slot).is_none());
			assert!(Fills::<Runtime>::iter_prefix(slot).next().is_none());
			assert!(ExPostFills::<Runtime>::iter_prefix(slot).next().is_none());
			assert!(pallet_metering::Readings::<Runtime>::iter_prefix(slot).next().is_none());
			assert!(pallet_settlement::Estimates::<Runtime>::iter_prefix(slot).next().is_none());
		}
		for slot in oldest..next {
			assert_eq!(Records::<Runtime>::iter_prefix(slot).count(), 10, "slot {slot}");
			assert!(ClearedSlots::<Runtime>::get(slot).is_some());
			assert!(Fills::<Runtime>::iter_prefix(slot).next().is_some());
			assert_eq!(pallet_metering::Readings::<Runtime>::iter_prefix(slot).count(), 9);
			assert!(pallet_settlement::Estimates::<Runtime>::get(slot, mp(6)).is_some());
		}
		let empty = Settlement::settlements(first, oldest - 1, None, None);
		assert_eq!((empty.records.len(), empty.next), (0, None), "nothing of a pruned slot");
		// A window's worth of slots later the state holds as many keys and (to a few bytes of
		// growing amounts) as many bytes.
		let (then, now) = (sizes[sizes.len() - 1 - KEPT as usize], sizes[sizes.len() - 1]);
		assert_eq!(then.0, now.0, "keys");
		assert!(now.1.abs_diff(then.1) * 100 < then.1, "bytes {then:?} -> {now:?}");
		assert!(sizes[KEPT as usize].0 < now.0, "the window filled first");
		assert_eq!(Settlement::do_try_state(), Ok(()));
	});
}

/// A gateway offline for longer than the chain keeps slots: the readings it missed that are
/// too old are refused by name, a reading still kept but already settled is taken late, and
/// its registers correct the whole gap at the next settlement: the money matches the meter.
#[test]
fn a_gateway_offline_beyond_the_retention_window_is_corrected_by_a_later_reading() {
	chain().execute_with(|| {
		const KEPT: u64 = 4;
		pallet_market::CommunityParams::<Runtime>::mutate(|c| c.retention_slots = KEPT as u32);
		let who = household(2);
		block_at(T0 + 30);
		read(mp(2), S0, 100, 0);
		// Offline for a dozen slots, each settled on an estimate of what it usually takes: the
		// 100 Wh of its only reading.
		let now = S0 + 12;
		let secs = settle_until(now - 3, now * SLOT_SECONDS - 30);
		assert!(Settlement::oldest_kept().unwrap() > S0 + 1, "the first missed slots are gone");
		let missed = now - 3;
		assert_eq!(record(missed, &who).estimated_readings, 1);

		// The backlog: the first missed slots are too old; the gap's energy (2 kWh) is in the
		// registers of the latest slot it still sends.
		assert_noop!(
			Metering::submit_reading(
				RuntimeOrigin::none(),
				signed_reading(mp(2), S0 + 1, 50, 0, (150, 0))
			),
			pallet_metering::Error::<Runtime>::TooOld
		);
		read_registers(mp(2), missed, 50, 0, (100 + 2_000, 0));
		let correction_slot = pallet_settlement::SettlementCursor::<Runtime>::get().unwrap();
		settle_until(correction_slot, secs);
		let r = record(correction_slot, &who);
		// The 2 kWh, less the 100 Wh each slot from S0 + 1 to the late reading's was estimated at.
		let estimated = 100 * (missed - S0) as i64;
		assert_eq!((r.corrected_wh, r.correction_amount), (2_000 - estimated, -330_000));
		assert_eq!(Settlement::do_try_state(), Ok(()));
	});
}

/// The demo households with their first metering points, then new participants of one
/// metering point each, in the streets in turn, funded and served by the demo's technician,
/// until the community has `points` metering points.
fn fill_community(points: u32) -> Vec<(lem_runtime::AccountId, u64)> {
	use pallet_market::{MeteringPoints, NewMeteringPoint};
	let manager = RuntimeOrigin::signed(demo_account("Manager"));
	let technician = demo_account("Technician");
	let mut filled: Vec<(lem_runtime::AccountId, u64)> =
		(1..=10).map(|i| (household(i), mp(i))).collect();
	for i in MeteringPoints::<Runtime>::count()..points {
		let who = lem_runtime::AccountId::new(sp_io::hashing::blake2_256(&i.to_le_bytes()));
		<Balances as Mutate<_>>::set_balance(&who, 1_000_000_000_000);
		let id = 100_000 + i as u64;
		let zone = pallet_market::demo::STREETS[i as usize % 4];
		let point = NewMeteringPoint { id, zone, rated_power_w: 900_000 };
		let point = frame_support::BoundedVec::truncate_from(vec![point]);
		assert_ok!(Market::admit_participant(manager.clone(), who.clone(), point, 20_000_000));
		assert_ok!(Market::assign_technician(manager.clone(), id, Some(technician.clone())));
		filled.push((who, id));
	}
	filled
}

/// What one settled slot of a community of 512 metering points leaves in state, item by item,
/// and what that makes a year with and without the retention window (per point, as for any
/// size). Every point trades
/// ahead (one order each), has a standing order and sends its reading, except one in 32, which
/// is estimated. `scripts/state-size.sh` prints its figures, which the settlement README
/// quotes; the test fails if a slot comes to leave more than 700 bytes per metering point.
#[test]
fn state_per_slot_of_a_full_community() {
	use codec::Encode;
	use frame_support::{storage::storage_prefix, StorageHasher, Twox64Concat};
	const POINTS: u32 = 512;

	let mut ext = chain();
	ext.execute_with(|| {
		pallet_market::CommunityParams::<Runtime>::mutate(|c| {
			c.retention_slots = 2;
			c.max_orders_per_slot = POINTS;
		});
		let points = fill_community(POINTS);
		for (who, _) in &points {
			assert_ok!(Market::set_standing_order(signed(who), 200_000, 60_000, 5_000_000));
		}

		let first = S0 + 2;
		let last = first + 5;
		for slot in first..=last {
			block_at(slot * SLOT_SECONDS - 20);
			for (n, (who, id)) in points.iter().enumerate() {
				let side = if n % 2 == 0 { Side::Bid } else { Side::Ask };
				let limit = 100_000 + (n as u64 * 331) % 100_000;
				assert_ok!(Market::place_order(signed(who), *id, slot, side, 500, limit));
				if n % 32 == 31 {
					continue;
				}
				read(*id, slot - 2, n as u64 % 700, (n as u64 * 7) % 900);
			}
			block_at(slot * SLOT_SECONDS - 5);
		}
		// The last slot every point traded and read in, settled a page at a time.
		let settled = last - 2;
		settle_until(settled, last * SLOT_SECONDS);
		assert_eq!(SettledSlots::<Runtime>::get(settled).unwrap().accounts, POINTS);
		let slot_key = Twox64Concat::hash(&settled.encode());
		let item = |pallet: &[u8], name: &[u8]| {
			bytes_under(&[&storage_prefix(pallet, name)[..], &slot_key].concat())
		};
		let per_slot = [
			("Settlement::Records", item(b"Settlement", b"Records")),
			("Settlement::SettledSlots", item(b"Settlement", b"SettledSlots")),
			("Settlement::Estimates", item(b"Settlement", b"Estimates")),
			("Settlement::ExPostFills", item(b"Settlement", b"ExPostFills")),
			("Market::ClearedSlots", item(b"Market", b"ClearedSlots")),
			("Market::Fills", item(b"Market", b"Fills")),
			("Metering::Readings", item(b"Metering", b"Readings")),
		];
		let total: usize = per_slot.iter().map(|(_, (_, b))| b).sum();
		println!("state kept per settled slot of {} metering points:", points.len());
		for (name, (keys, bytes)) in per_slot {
			println!("  {name:<26} {keys:>4} keys {bytes:>8} bytes");
		}
		let mib = |bytes: usize| bytes as f64 / (1 << 20) as f64;
		let kept = pallet_market::Community::default().retention_slots as usize;
		println!("  total                          {total:>8} bytes");
		assert!(
			total <= 700 * points.len(),
			"a settled slot of {POINTS} metering points leaves {total} bytes"
		);
		println!(
			"{} days kept (retention_slots = {kept}): {:.0} MiB",
			kept / 96,
			mib(total * kept)
		);
		println!("a year without pruning (35 040 slots): {:.0} MiB", mib(total * 35_040));
		let (keys, bytes) = state_size();
		println!("the whole state now: {keys} keys, {bytes} bytes of keys and values");
	});
	ext.commit_all().unwrap();
	let mut backend = ext.as_backend();
	let nodes: usize = backend
		.backend_storage_mut()
		.drain()
		.into_values()
		.filter(|(_, rc)| *rc > 0)
		.map(|(node, _)| node.len() + 32)
		.sum();
	println!("as trie nodes (with their 32-byte hashes): {nodes} bytes");
}

/// No call of the settlements API reads an unbounded part of the state: a page holds at most
/// `MAX_PAGE_RECORDS` records of at most `MAX_QUERY_SLOTS` slots, and says where the next one
/// starts. Paging through gives every record once.
#[test]
fn the_settlements_api_answers_a_page_at_a_time() {
	use pallet_settlement::{MAX_PAGE_RECORDS, MAX_QUERY_SLOTS};
	chain().execute_with(|| {
		let slot = S0 + 1;
		let account =
			|i: u32| lem_runtime::AccountId::new(sp_io::hashing::blake2_256(&i.to_le_bytes()));
		// A page and ten records in one slot, then what fills the second page exactly to the
		// end of the next slot, then one more record.
		let counts = [MAX_PAGE_RECORDS + 10, MAX_PAGE_RECORDS - 10, 1];
		for (s, count) in (slot..).zip(counts) {
			for i in 0..count {
				Records::<Runtime>::insert(s, account(i), SettlementRecord::default());
			}
		}
		let to = slot + 2;
		pallet_settlement::SettlementCursor::<Runtime>::put(to + 1);
		let first = Settlement::settlements(slot, to, None, None);
		assert_eq!(first.records.len() as u32, MAX_PAGE_RECORDS);
		let last = first.records.last().unwrap().1.clone();
		assert_eq!(first.next, Some((slot, Some(last.clone()))));
		let second = Settlement::settlements(slot, to, None, Some(last));
		assert_eq!(second.records.len() as u32, MAX_PAGE_RECORDS);
		assert_eq!(second.next, Some((slot + 2, None)), "a full page at a slot's end");
		let third = Settlement::settlements(slot + 2, to, None, None);
		assert_eq!((third.records.len(), third.next.clone()), (1, None));
		let mut all: Vec<_> = [first, second, third]
			.iter()
			.flat_map(|page| page.records.iter().map(|r| (r.0, r.1.clone())))
			.collect();
		all.sort();
		all.dedup();
		assert_eq!(all.len() as u32, counts.iter().sum::<u32>(), "every record once");

		// A range longer than a page covers goes on where the page stopped.
		let long = Settlement::settlements(slot + 2, slot + 10 * MAX_QUERY_SLOTS, None, None);
		assert_eq!(long.records.len(), 1);
		assert_eq!(long.next, Some((slot + 2 + MAX_QUERY_SLOTS, None)));
		// One account's records are paged alike.
		let mine = Settlement::settlements(slot, to, Some(account(0)), None);
		assert_eq!((mine.records.len(), mine.next), (3, None));
	});
}

/// The demo's slot on a chain whose blocks come every `block_time_ms`, a block at every block
/// time from `T0` until it is settled: its records, and the chain's limits.
fn settle_with_blocks_of(block_time_ms: u64) -> (Vec<(AccountId, SettlementRecord)>, u64, u64) {
	use frame_support::traits::Get;
	common::chain_with_block_time(block_time_ms).execute_with(|| {
		let h: Vec<_> = (1..=10).map(household).collect();
		let slot = S0 + 2;
		trade(&h, slot);
		let (step, mut secs) = (block_time_ms / 1000, T0);
		while secs < (slot + 1) * SLOT_SECONDS {
			secs += step;
			block_at(secs);
		}
		assert!(ClearedSlots::<Runtime>::get(slot).is_some(), "cleared before delivery");
		read_meters(slot);
		while SettledSlots::<Runtime>::get(slot).is_none() {
			assert!(secs < T0 + 600, "slot {slot} never settled");
			secs += step;
			block_at(secs);
		}
		let mut records: Vec<_> = Records::<Runtime>::iter_prefix(slot).collect();
		records.sort_by(|a, b| a.0.cmp(&b.0));
		let max_block = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
		(records, max_block.ref_time(), lem_runtime::Aura::slot_duration())
	})
}

/// Block time is the chain's own parameter: a chain of 2-second blocks has a 2-second Aura slot
/// and a third of the 6-second chain's block weight, and clears and settles the same slot to
/// the same records.
#[test]
fn a_chain_with_2_second_blocks_clears_and_settles_a_slot_like_one_with_6_second_blocks() {
	let (six, six_weight, six_slot) = settle_with_blocks_of(6_000);
	let (two, two_weight, two_slot) = settle_with_blocks_of(2_000);
	assert_eq!((six_slot, two_slot), (6_000, 2_000));
	assert_eq!(two_weight, six_weight / 3);
	assert_eq!(six.len(), 10);
	assert_eq!(two, six);
}

/// A town's slot in a production community (15-minute slots, gate closure five minutes
/// ahead, readings due within a slot after): as many metering points as the community may
/// have, one participant each, every one read, trading as many orders as a slot may hold. In
/// 6-second blocks, no block's clearing and settlement exceed its share for per-block work;
/// the slot is cleared before its delivery starts and settled before the next slot's
/// settlement is due, with a record for every participant and the market's and settlement's
/// state consistent.
#[test]
fn a_towns_slot_clears_before_delivery_and_settles_before_the_next_is_due_within_each_share() {
	use frame_support::weights::Weight;
	use lem_runtime::{MarketTick, System};
	use pallet_market::{Community, CommunityParams, WeightInfo as _};
	use pallet_settlement::WeightInfo as _;
	type MarketWeights = <Runtime as pallet_market::Config>::WeightInfo;

	chain().execute_with(|| {
		CommunityParams::<Runtime>::put(Community::default());
		pallet_metering::ReadingsGraceSeconds::<Runtime>::put(900);
		let c = CommunityParams::<Runtime>::get();
		let s = c.slot_at(T0) + 1;
		// The cursors counted 30-second slots until now.
		pallet_market::ClearingCursor::<Runtime>::put(s);
		pallet_settlement::SettlementCursor::<Runtime>::put(s);

		let points = fill_community(c.max_metering_points);
		for (n, (who, id)) in points.iter().cycle().take(c.max_orders_per_slot as usize).enumerate()
		{
			let (side, limit) = match n % 2 {
				0 => (Side::Ask, 60_000 + (n as u64 * 331) % 200_000),
				_ => (Side::Bid, 90_000 + (n as u64 * 577) % 250_000),
			};
			let energy = 500 + (n as u64 * 97) % 4_000;
			assert_ok!(Market::place_order(signed(who), *id, s, side, energy, limit));
		}

		// Blocks every 6 s, each running the market's per-block work as the runtime does. What
		// a block did is read from what changed (fills applied; accounts gathered, paid in and
		// paid out) and weighed by the benchmarks: it fits the share, and the meters charged
		// at least that much, so no step does work it does not pay for.
		let share = Market::tick_share();
		let (mut clearing, mut settling, mut t) = (0, 0, T0);
		let participants = points.len() as u32;
		let tick = |t: u64| {
			System::set_block_number(System::block_number() + 1);
			System::reset_events();
			pallet_timestamp::Now::<Runtime>::put(t * 1000);
			let before = settled_so_far(s, participants);
			let (cleared, settled) = MarketTick::run();
			let after = settled_so_far(s, participants);
			let fills = common::fills_in_events();
			let clearing_work = weighed(MarketWeights::clearing_apply, fills);
			let settlement_work = settlement_work(before, after);
			assert!(clearing_work.all_lte(cleared), "{fills} fills: {clearing_work} > {cleared}");
			assert!(settlement_work.all_lte(settled), "{settlement_work} > {settled}");
			assert!((cleared + settled).all_lte(share), "{cleared} + {settled} of {share}");
			(cleared, settled)
		};
		// A block that did more than look for work.
		let worked = |used: Weight, start: Weight| used.any_gt(start) as u32;
		let clearing_start = MarketWeights::clearing_start();
		let settlement_start = SettlementWeights::settlement_start();
		while ClearedSlots::<Runtime>::get(s).is_none() {
			t += 6;
			assert!(t < s * c.slot_seconds, "slot not cleared before its delivery starts");
			clearing += worked(tick(t).0, clearing_start);
		}
		assert_eq!(Fills::<Runtime>::iter_prefix(s).count(), c.max_orders_per_slot as usize);
		let (slot_end, _) = pallet_metering::Pallet::<Runtime>::readings_window(s);
		while t < slot_end {
			t += 6;
			tick(t);
		}
		for (n, (_, id)) in points.iter().enumerate() {
			read(*id, s, (n as u64 * 13) % 900, (n as u64 * 7) % 600);
		}
		let (_, next_due) = pallet_metering::Pallet::<Runtime>::readings_window(s + 1);
		while SettledSlots::<Runtime>::get(s).is_none() {
			t += 6;
			assert!(t < next_due, "slot not settled before the next one is due");
			settling += worked(tick(t).1, settlement_start);
		}
		println!(
			"{} metering points, {} orders: cleared in {clearing} blocks, settled in {settling}",
			points.len(),
			c.max_orders_per_slot
		);
		let all = pallet_market::Participants::<Runtime>::iter_keys().count() as u32;
		assert_eq!((all, SettledSlots::<Runtime>::get(s).unwrap().accounts), (participants, all));
		assert_eq!(Records::<Runtime>::iter_prefix(s).count(), all as usize);
		assert_eq!(Market::do_try_state(), Ok(()));
		assert_eq!(Settlement::do_try_state(), Ok(()));
	});
}
