//! The box's bill against settlement's own arithmetic: for random slots of several households,
//! each with one metering point, `pallet_settlement::compute::settle` settles the slot, and the
//! box, from only its own fills, reading, ex-post fill and tariffs, recomputes its record to
//! the same numbers. And the record's bytes are the runtime's.

use codec::Encode;
use lem_clearing::{Pricing, Zone};
use lem_gateway_core::{
	bill::{check_fills, differences, recompute, BadFill, Energy, Fill, Filled, Record, Retail},
	owner::Side,
};
use pallet_metering::Metered;
use pallet_settlement::compute::{self, AveragePrice};
use proptest::prelude::*;

/// The engine's amounts: a bid's rounded up, an ask's down.
fn amount(side: Side, energy_wh: u64, price: i64) -> i128 {
	let value = energy_wh as i128 * price as i128;
	match side {
		Side::Bid => -(-value).div_euclid(1000),
		Side::Ask => value.div_euclid(1000),
	}
}

#[derive(Clone, Debug)]
struct Household {
	fills: Vec<(Side, u64, i64)>,
	/// Its reading, or without one the import it usually takes.
	metered: Result<(u64, u64), u64>,
	standing: Option<(u64, u64, u128)>,
	corrected_wh: i64,
}

fn household() -> impl Strategy<Value = Household> {
	let side = prop_oneof![Just(Side::Bid), Just(Side::Ask)];
	(
		prop::collection::vec((side, 0..5_000u64, -50_000..400_000i64), 0..3),
		prop_oneof![4 => (0..5_000u64, 0..5_000u64).prop_map(Ok), 1 => (0..5_000u64).prop_map(Err)],
		prop::option::weighted(0.7, (0..400_000u64, 0..400_000u64, 0..2_000_000u128)),
		prop_oneof![Just(0i64), -2_000..2_000i64],
	)
		.prop_map(|(fills, metered, standing, corrected_wh)| Household {
			fills,
			metered,
			standing,
			corrected_wh,
		})
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(400))]

	#[test]
	fn the_boxs_bill_is_settlements_record(
		households in prop::collection::vec(household(), 1..6),
		retail in 0..500_000u64,
		feed_in in 0..200_000u64,
		pay_as_bid in any::<bool>(),
	) {
		let point = |i: usize| 1_000 + i as u64;
		let accounts = households
			.iter()
			.enumerate()
			.map(|(i, h)| {
				let (mut bought, mut sold, mut amount_in) = (0, 0, 0i128);
				for &(side, e, p) in &h.fills {
					match side {
						Side::Bid => { bought += e; amount_in -= amount(side, e, p) }
						Side::Ask => { sold += e; amount_in += amount(side, e, p) }
					}
				}
				compute::Account {
					who: i,
					points: vec![compute::Point {
						id: point(i),
						zone: 0,
						metered: h.metered.ok().map(|(i, e)| Metered { import_wh: i, export_wh: e }),
						bought_wh: bought,
						sold_wh: sold,
						correction_wh: h.corrected_wh,
						usual_import_wh: h.metered.err().unwrap_or(0),
					}],
					ex_ante_amount: amount_in,
					retail_per_kwh: retail,
					feed_in_per_kwh: feed_in,
					standing: h.standing.map(|(b, s, budget)| compute::Standing {
						buy_limit_per_kwh: b,
						sell_limit_per_kwh: s,
						budget_left: budget,
					}),
				}
			})
			.collect();
		let slot = compute::Slot {
			accounts,
			zones: vec![Zone { id: 0, parent: None, fee_per_kwh: 0, capacity_wh: None }],
			pricing: if pay_as_bid { Pricing::PayAsBid } else { Pricing::PayAsClear },
			ex_ante_dso: 0,
			ex_ante_remainder: 0,
		};
		let settled = compute::settle(&slot);

		for (i, h) in households.iter().enumerate() {
			let filled: Vec<Filled> = h
				.fills
				.iter()
				.enumerate()
				.map(|(n, &(side, e, p))| Filled {
					side,
					energy_wh: e,
					limit_per_kwh: p.max(0) as u64,
					fill: Fill { order: n as u64, energy_wh: e, price_per_kwh: p, amount: amount(side, e, p) },
				})
				.collect();
			let ex_post = settled.ex_post.as_ref().and_then(|o| {
				o.fills.iter().find(|f| f.order == point(i)).map(|f| Fill {
					order: f.order,
					energy_wh: f.energy_wh,
					price_per_kwh: f.price_per_kwh,
					amount: f.amount,
				})
			});
			let (_, r) = &settled.accounts[i];
			let ours = recompute(&lem_gateway_core::bill::Slot {
				filled,
				metered: h.metered.ok().map(|(i, e)| Energy { import_wh: i, export_wh: e }),
				ex_post,
				retail: Retail::Grey,
				retail_per_kwh: retail,
				feed_in_per_kwh: feed_in,
				corrected_wh: h.corrected_wh,
				estimated_import_wh: r.estimated.import_wh,
			});
			let mut price = AveragePrice::default();
			for &(_, e, p) in &h.fills {
				price.add(p, e);
			}
			let chain = Record {
				bought_wh: r.bought_wh,
				sold_wh: r.sold_wh,
				price_per_kwh: price.per_kwh(),
				ex_post_bought_wh: r.ex_post_bought_wh,
				ex_post_sold_wh: r.ex_post_sold_wh,
				ex_post_price_per_kwh: r.ex_post_price.per_kwh(),
				market_amount: r.market_amount,
				metered: Energy { import_wh: r.metered.import_wh, export_wh: r.metered.export_wh },
				estimated: Energy { import_wh: r.estimated.import_wh, export_wh: r.estimated.export_wh },
				estimated_readings: r.estimated_readings,
				from_utility_wh: r.from_utility_wh,
				to_utility_wh: r.to_utility_wh,
				retail: Retail::Grey,
				retail_per_kwh: retail,
				feed_in_per_kwh: feed_in,
				utility_amount: r.utility_amount,
				corrected_wh: r.corrected_wh,
				correction_amount: r.correction_amount,
				..Default::default()
			};
			prop_assert_eq!(differences(&chain, &ours), Vec::<&str>::new(), "household {}", i);
		}
	}
}

#[test]
fn a_record_decodes_from_the_runtimes_bytes() {
	let record = pallet_settlement::SettlementRecord {
		bought_wh: 1,
		sold_wh: 2,
		price_per_kwh: Some(-3),
		ex_post_bought_wh: 4,
		ex_post_sold_wh: 5,
		ex_post_price_per_kwh: None,
		market_amount: -6,
		metered: Metered { import_wh: 7, export_wh: 8 },
		estimated: Metered { import_wh: 9, export_wh: 10 },
		estimated_readings: 11,
		from_utility_wh: 12,
		to_utility_wh: 13,
		retail: pallet_settlement::RetailChoice::Green,
		retail_per_kwh: 14,
		feed_in_per_kwh: 15,
		utility_amount: -16,
		corrected_wh: -17,
		correction_amount: 18,
		unpaid: -19,
		from_deposit: 20,
		debt_collected: 21,
		debt: 22,
		credit_collected: 23,
		credit: 24,
	};
	let ours = lem_gateway_core::bill::decode_record(&record.encode()).unwrap();
	assert_eq!(ours.encode(), record.encode());
	assert_eq!((ours.retail, ours.debt, ours.price_per_kwh), (Retail::Green, 22, Some(-3)));
	let fill = pallet_market::Fill { order: 3, energy_wh: 4, price_per_kwh: -5, amount: -6 };
	let ours = <Fill as codec::DecodeAll>::decode_all(&mut &fill.encode()[..]).unwrap();
	assert_eq!(ours, Fill { order: 3, energy_wh: 4, price_per_kwh: -5, amount: -6 });
}

/// A slot without a reading: the box takes the record's estimate (the point's usual import,
/// from readings it may not have seen), but never one below what its orders bought.
#[test]
fn an_estimate_below_what_was_bought_is_named() {
	let bought = Filled {
		side: Side::Bid,
		energy_wh: 1_000,
		limit_per_kwh: 200_000,
		fill: Fill { order: 1, energy_wh: 1_000, price_per_kwh: 150_000, amount: 150_000 },
	};
	let slot = |estimated_import_wh| lem_gateway_core::bill::Slot {
		filled: vec![bought],
		metered: None,
		ex_post: None,
		retail: Retail::Grey,
		retail_per_kwh: 300_000,
		feed_in_per_kwh: 80_000,
		corrected_wh: 0,
		estimated_import_wh,
	};
	// Usually 1.8 kWh at this hour: the 0.8 kWh beyond what it bought comes from the utility.
	let usual = recompute(&slot(1_800));
	assert_eq!((usual.estimated.import_wh, usual.from_utility_wh), (1_800, 800));
	assert_eq!(usual.utility_amount, -240_000);
	// A record claiming it took less than it bought is the chain's error, and named.
	let chain =
		Record { estimated: Energy { import_wh: 400, export_wh: 0 }, ..recompute(&slot(400)) };
	assert_eq!(recompute(&slot(400)).estimated.import_wh, 1_000);
	assert!(differences(&chain, &recompute(&slot(400))).contains(&"estimated"));
}

/// A fill that gives more than ordered, trades beyond the limit or charges another amount is
/// named.
#[test]
fn fills_that_do_not_fit_their_orders_are_named() {
	let bid = |energy_wh, price_per_kwh, amount| Filled {
		side: Side::Bid,
		energy_wh: 1_000,
		limit_per_kwh: 200_000,
		fill: Fill { order: 9, energy_wh, price_per_kwh, amount },
	};
	assert_eq!(check_fills(&[bid(1_000, 150_001, 150_001)]), vec![]);
	assert_eq!(
		check_fills(&[bid(1_001, 150_000, 150_150)]),
		vec![BadFill::MoreThanOrdered { order: 9 }]
	);
	assert_eq!(check_fills(&[bid(10, 200_001, 2_001)]), vec![BadFill::BeyondLimit { order: 9 }]);
	assert_eq!(check_fills(&[bid(1, 150_001, 150)]), vec![BadFill::WrongAmount { order: 9 }]);
	let ask = Filled {
		side: Side::Ask,
		energy_wh: 10,
		limit_per_kwh: 100_000,
		fill: Fill { order: 2, energy_wh: 3, price_per_kwh: 99_999, amount: 299 },
	};
	assert_eq!(check_fills(&[ask]), vec![BadFill::BeyondLimit { order: 2 }]);
}

/// What the box proves of a settled slot, under the runtime's keys and from its bytes.
#[test]
fn settled_slots_records_and_terms_are_read_under_the_runtimes_keys() {
	use frame_support::BoundedVec;
	use lem_gateway_core::{
		bill::{decode_fill, decode_terms, is_settled_slot, Terms},
		chain::{
			estimate_key, ex_post_fill_key, fill_key, record_key, retail_choice_key,
			settled_slot_key, tariffs_key,
		},
	};
	use lem_runtime::Runtime;
	use pallet_market::Scheduled;
	use pallet_settlement::{RetailChoice, SettledSlot, Tariffs};

	let who = lem_runtime::AccountId::new([4u8; 32]);
	assert_eq!(fill_key(77, 3), pallet_market::Fills::<Runtime>::hashed_key_for(77u64, 3u64));
	assert_eq!(
		ex_post_fill_key(77, 5),
		pallet_settlement::ExPostFills::<Runtime>::hashed_key_for(77u64, 5u64)
	);
	assert_eq!(
		estimate_key(77, 5),
		pallet_settlement::Estimates::<Runtime>::hashed_key_for(77u64, 5u64)
	);
	assert_eq!(
		settled_slot_key(77),
		pallet_settlement::SettledSlots::<Runtime>::hashed_key_for(77u64)
	);
	assert_eq!(
		record_key(77, &[4u8; 32]),
		pallet_settlement::Records::<Runtime>::hashed_key_for(77u64, &who)
	);
	assert_eq!(tariffs_key(), pallet_settlement::TariffsInForce::<Runtime>::hashed_key().to_vec());
	assert_eq!(
		retail_choice_key(&[4u8; 32]),
		pallet_settlement::RetailChoices::<Runtime>::hashed_key_for(&who)
	);

	let zone = |id, parent| pallet_market::Zone {
		id,
		parent,
		fee_per_kwh: 20_000,
		capacity_wh: parent.map(|_| 50_000),
		light: pallet_market::TrafficLight::Yellow,
	};
	let fill =
		pallet_market::Fill { order: 3, energy_wh: 400, price_per_kwh: -120_000, amount: -48_000 };
	let ours = decode_fill(&fill.encode()).unwrap();
	assert_eq!(
		(ours.order, ours.energy_wh, ours.price_per_kwh, ours.amount),
		(3, 400, -120_000, -48_000)
	);
	assert_eq!(decode_fill(&[fill.encode(), vec![0]].concat()), None);

	let cleared = pallet_market::ClearedSlot {
		grid: pallet_market::Grid {
			zones: BoundedVec::truncate_from(vec![zone(0, None), zone(1, Some(0))]),
			yellow_surcharge_per_kwh: 5_000,
		},
		pricing: pallet_market::Pricing::PayAsBid,
		zone_prices: BoundedVec::truncate_from(vec![pallet_market::ZonePrice {
			zone: 1,
			price_per_kwh: Some(120_000),
		}]),
		flows: BoundedVec::truncate_from(vec![pallet_market::Flow { zone: 1, energy_wh: -400 }]),
		orders: 2,
		filled: 1,
		traded_wh: 400,
		welfare: 1,
		payments: 2,
		receipts: 3,
		dso_revenue: 4,
		remainder: 5,
	};

	let settled =
		SettledSlot { accounts: 2, ex_post: Some(cleared), dso: -7, ..Default::default() };
	assert!(is_settled_slot(&settled.encode()));
	assert!(!is_settled_slot(&[settled.encode(), vec![0]].concat()));
	assert!(!is_settled_slot(&settled.encode()[..settled.encode().len() - 1]));
	let settled = SettledSlot { ex_post: None, ..settled };
	assert!(is_settled_slot(&settled.encode()));

	let old = Tariffs { retail_green_per_kwh: 1, retail_grey_per_kwh: 2, feed_in_per_kwh: 3 };
	let new = Tariffs { retail_green_per_kwh: 4, retail_grey_per_kwh: 5, feed_in_per_kwh: 6 };
	let tariffs = Scheduled { before: old, from: 10, current: new }.encode();
	let green = Scheduled { before: RetailChoice::Grey, from: 12, current: RetailChoice::Green };
	let terms = |slot, retail: Option<Vec<u8>>| decode_terms(slot, &tariffs, retail.as_deref());
	assert_eq!(
		terms(9, None),
		Some(Terms { retail: Retail::Grey, retail_per_kwh: 2, feed_in_per_kwh: 3 })
	);
	assert_eq!(
		terms(11, Some(green.encode())),
		Some(Terms { retail: Retail::Grey, retail_per_kwh: 5, feed_in_per_kwh: 6 })
	);
	assert_eq!(
		terms(12, Some(green.encode())),
		Some(Terms { retail: Retail::Green, retail_per_kwh: 4, feed_in_per_kwh: 6 })
	);
	assert_eq!(terms(12, Some(vec![1])), None);
}

/// A slot settled on an estimate is billed without the reading that came after it (that one
/// corrects a later slot); a slot before the settlement cursor without its totals was
/// forgotten, one after it is not settled yet.
#[test]
fn a_late_reading_does_not_bill_its_estimated_slot_and_a_forgotten_slot_is_named() {
	use lem_gateway_core::chain::{settlement_cursor_key, slot_facts, SlotFacts, SlotValues};
	use lem_runtime::Runtime;
	use pallet_metering::{AcceptedReading, Registers};
	use pallet_settlement::{Estimate, SettledSlot};

	assert_eq!(
		settlement_cursor_key(),
		pallet_settlement::SettlementCursor::<Runtime>::hashed_key().to_vec()
	);
	let reading = AcceptedReading {
		metered: Metered { import_wh: 700, export_wh: 0 },
		registers: Registers { slot: 40, import_wh: 10_700, export_wh: 0 },
	};
	let estimate = Estimate {
		energy: Metered { import_wh: 0, export_wh: 0 },
		through: Metered { import_wh: 0, export_wh: 0 },
	};
	let values = |estimate: Option<Vec<u8>>| SlotValues {
		settled: Some(SettledSlot { accounts: 1, ..Default::default() }.encode()),
		record: None,
		ex_post: None,
		reading: Some(reading.encode()),
		estimate,
		fills: vec![],
	};
	let metered = |facts: Result<SlotFacts, _>| match facts.unwrap() {
		SlotFacts::Settled(f) => f.metered,
		other => panic!("{other:?}"),
	};
	assert_eq!(metered(slot_facts(40, &[], 5, Some(42), values(None))), Some((700, 0)));
	assert_eq!(metered(slot_facts(40, &[], 5, Some(42), values(Some(estimate.encode())))), None);

	let unsettled = || SlotValues { settled: None, ..values(None) };
	let state = |slot, settling| slot_facts(slot, &[], 5, settling, unsettled()).unwrap();
	assert_eq!(state(40, Some(41)), SlotFacts::Forgotten);
	assert_eq!(state(41, Some(41)), SlotFacts::Unsettled);
	assert_eq!(state(41, None), SlotFacts::Unsettled);
}

/// A record the box reckons the same is a match only if its amounts were paid in full: one the
/// utility could not pay (or the household could not) is flagged, not called a match.
#[test]
fn a_record_not_paid_in_full_is_flagged() {
	use lem_gateway_core::bill::{Bill, Check, Checked, Terms};
	let terms = Terms { retail: Retail::Grey, retail_per_kwh: 300_000, feed_in_per_kwh: 80_000 };
	let bill = |unpaid, differences: Vec<String>| Bill {
		slot: 7,
		terms,
		check: Check::Done(Box::new(Checked {
			record: Record { unpaid, ..Default::default() },
			differences,
		})),
	};
	assert_eq!(bill(0, vec![]).state(), "matches");
	assert_eq!(bill(-80_000, vec![]).state(), "unpaid", "feed-in the utility did not pay");
	assert_eq!(bill(30_000, vec![]).state(), "unpaid", "supply the household did not pay");
	assert_eq!(bill(-80_000, vec!["utility_amount".into()]).state(), "differs");
}

/// A chain record that differs from the box's own in one field is named by exactly that field;
/// one that differs only in how it was paid (deposit, debts) is bookkeeping of the account's
/// funds, taken from the record, and names nothing.
#[test]
fn each_field_the_box_recomputes_is_named_when_the_chain_differs_in_it() {
	let ours = Record {
		bought_wh: 1_000,
		sold_wh: 200,
		price_per_kwh: Some(150_000),
		ex_post_bought_wh: 300,
		ex_post_sold_wh: 40,
		ex_post_price_per_kwh: Some(120_000),
		market_amount: -95_000,
		metered: Energy { import_wh: 1_300, export_wh: 240 },
		estimated: Energy { import_wh: 0, export_wh: 0 },
		estimated_readings: 0,
		from_utility_wh: 100,
		to_utility_wh: 20,
		retail: Retail::Grey,
		retail_per_kwh: 300_000,
		feed_in_per_kwh: 80_000,
		utility_amount: -28_400,
		corrected_wh: -50,
		correction_amount: 15_000,
		unpaid: 0,
		from_deposit: 0,
		debt_collected: 0,
		debt: 0,
		credit_collected: 0,
		credit: 0,
	};
	type Perturb = fn(&mut Record);
	let fields: [(&str, Perturb); 18] = [
		("bought_wh", |r| r.bought_wh += 1),
		("sold_wh", |r| r.sold_wh += 1),
		("price_per_kwh", |r| r.price_per_kwh = Some(150_001)),
		("ex_post_bought_wh", |r| r.ex_post_bought_wh += 1),
		("ex_post_sold_wh", |r| r.ex_post_sold_wh += 1),
		("ex_post_price_per_kwh", |r| r.ex_post_price_per_kwh = None),
		("market_amount", |r| r.market_amount += 1),
		("metered", |r| r.metered.export_wh += 1),
		("estimated", |r| r.estimated.import_wh += 1),
		("estimated_readings", |r| r.estimated_readings += 1),
		("from_utility_wh", |r| r.from_utility_wh += 1),
		("to_utility_wh", |r| r.to_utility_wh += 1),
		("retail", |r| r.retail = Retail::Green),
		("retail_per_kwh", |r| r.retail_per_kwh += 1),
		("feed_in_per_kwh", |r| r.feed_in_per_kwh += 1),
		("utility_amount", |r| r.utility_amount -= 1),
		("corrected_wh", |r| r.corrected_wh += 1),
		("correction_amount", |r| r.correction_amount += 1),
	];
	assert!(differences(&ours, &ours).is_empty());
	for (name, perturb) in fields {
		let mut chain = ours;
		perturb(&mut chain);
		assert_eq!(differences(&chain, &ours), vec![name], "{name} changed on the chain");
	}
	let payments: [Perturb; 6] = [
		|r| r.unpaid = -300,
		|r| r.from_deposit = 300,
		|r| r.debt_collected = 300,
		|r| r.debt = 300,
		|r| r.credit_collected = 300,
		|r| r.credit = 300,
	];
	for perturb in payments {
		let mut chain = ours;
		perturb(&mut chain);
		assert!(differences(&chain, &ours).is_empty());
	}
}
