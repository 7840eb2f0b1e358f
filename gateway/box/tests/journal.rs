//! The journal on a real file: what is written survives reopening, a second process is kept
//! out, corrupt bytes are refused by name, and old slots leave.

use ed25519_dalek::SigningKey;
use lem_gateway::journal::{Journal, JournalError};
use lem_gateway_core::{
	entry::{Corrupt, Entry, Registers, State},
	reading::Reading,
};
use lem_light_client::{Checkpoint, Header};

fn entry(slot: u64, state: State) -> Entry {
	let registers = Registers { import_wh: 1_000 + slot, export_wh: 2_000 + slot };
	let reading = (state != State::Taken).then(|| {
		Reading {
			metering_point: 1001,
			slot,
			import_wh: 1,
			export_wh: 1,
			import_register_wh: registers.import_wh,
			export_register_wh: registers.export_wh,
		}
		.sign(&SigningKey::from_bytes(&[7; 32]), &[1; 32])
	});
	Entry { slot, registers, taken_at_ms: slot * 30_000, reading, state }
}

#[test]
fn entries_survive_reopening_and_old_slots_leave() {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("journal.redb");
	{
		let journal = Journal::open(&path).unwrap();
		journal.put(&[&entry(10, State::Taken), &entry(11, State::Signed)], true).unwrap();
		journal.put(&[&entry(12, State::Refused { reason: "TooOld".into() })], false).unwrap();
		journal.put(&[&entry(11, State::Finalized { block: [9; 32] })], true).unwrap();
		journal.set_chain_fact("slot_seconds", 30).unwrap();
		assert!(matches!(Journal::open(&path), Err(JournalError::InUse)));
	}
	let journal = Journal::open(&path).unwrap();
	let slots: Vec<(u64, State)> =
		journal.entries_from(0).unwrap().into_iter().map(|e| (e.slot, e.state)).collect();
	assert_eq!(
		slots,
		vec![
			(10, State::Taken),
			(11, State::Finalized { block: [9; 32] }),
			(12, State::Refused { reason: "TooOld".into() }),
		]
	);
	assert_eq!(journal.get(11).unwrap(), Some(entry(11, State::Finalized { block: [9; 32] })));
	assert_eq!(journal.last().unwrap().map(|e| e.slot), Some(12));
	assert_eq!(journal.chain_fact("slot_seconds").unwrap(), Some(30));
	journal.forget_before(12).unwrap();
	assert_eq!(journal.entries_from(0).unwrap().len(), 1);
}

#[test]
fn the_finality_checkpoint_is_kept_for_its_chain_only() {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("journal.redb");
	let block = |number, parent_hash| Header {
		parent_hash,
		number,
		state_root: [number as u8; 32],
		extrinsics_root: [0; 32],
		digest: vec![],
	};
	let genesis = block(0, [0; 32]).hash();
	let checkpoint = Checkpoint::genesis(block(7, [6; 32]), vec![([1; 32], 1), ([2; 32], 1)]);
	{
		let journal = Journal::open(&path).unwrap();
		assert_eq!(journal.checkpoint(&genesis).unwrap(), None);
		journal.set_checkpoint(&genesis, &checkpoint).unwrap();
	}
	let journal = Journal::open(&path).unwrap();
	assert_eq!(journal.checkpoint(&genesis).unwrap(), Some(checkpoint));
	assert!(
		matches!(journal.checkpoint(&[0; 32]), Err(JournalError::OtherChain { genesis: g }) if g == genesis)
	);
}

/// The fuzz target's seeds are entries of the journal's current layout.
#[test]
fn the_fuzz_seeds_are_entries() {
	let seeds = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/gateway_journal_entry");
	for seed in std::fs::read_dir(seeds).unwrap() {
		let seed = seed.unwrap().path();
		let entry = Entry::from_bytes(&std::fs::read(&seed).unwrap());
		assert!(entry.is_ok(), "{}: {entry:?}", seed.display());
	}
}

#[test]
fn a_journal_of_two_weeks_stays_small() {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("journal.redb");
	let keep = 1_344;
	{
		let journal = Journal::open(&path).unwrap();
		for slot in 0..3 * keep {
			journal.put(&[&entry(slot, State::Signed)], slot % 96 == 0).unwrap();
			journal.put(&[&entry(slot, State::Finalized { block: [1; 32] })], false).unwrap();
			journal.forget_before(slot.saturating_sub(keep)).unwrap();
		}
		journal.put(&[&entry(3 * keep, State::Signed)], true).unwrap();
	}
	let journal = Journal::open(&path).unwrap();
	// The newest slot and the `keep` slots before it, and the one written after the loop.
	assert_eq!(journal.entries_from(0).unwrap().len() as u64, keep + 2);
	// 1 346 entries of about 200 bytes, in pages of 4 KiB: a few hundred KiB, not growing with
	// the slots written.
	eprintln!("a journal of {} slots: {} bytes", keep + 2, journal.size());
	assert!(journal.size() < 2 << 20, "journal is {} bytes", journal.size());
}

#[test]
fn corrupt_entries_are_refused_by_name() {
	let good = entry(5, State::Signed).to_bytes();
	assert_eq!(Entry::from_bytes(&good), Ok(entry(5, State::Signed)));
	assert_eq!(Entry::from_bytes(&[]), Err(Corrupt::Version(0)));
	// Version 1 had another list of states.
	assert!(matches!(Entry::from_bytes(&[1]), Err(Corrupt::Version(1))));
	assert!(matches!(Entry::from_bytes(&good[..good.len() - 1]), Err(Corrupt::Undecodable(_))));
	assert!(matches!(
		Entry::from_bytes(&[good.clone(), vec![0]].concat()),
		Err(Corrupt::TrailingBytes(1))
	));
	let mut other_slot = entry(5, State::Signed);
	other_slot.reading.as_mut().unwrap().reading.slot = 6;
	assert!(matches!(Entry::from_bytes(&other_slot.to_bytes()), Err(Corrupt::Inconsistent(_))));
	let mut taken_with_reading = entry(5, State::Signed);
	taken_with_reading.state = State::Taken;
	assert!(matches!(
		Entry::from_bytes(&taken_with_reading.to_bytes()),
		Err(Corrupt::Inconsistent(_))
	));
	let mut signed_without = entry(5, State::Taken);
	signed_without.state = State::Signed;
	assert!(matches!(Entry::from_bytes(&signed_without.to_bytes()), Err(Corrupt::Inconsistent(_))));
}

/// An order and the owner's next nonce are written together and survive reopening; bytes that
/// are not an order are refused by name; orders leave with their slots.
#[test]
fn orders_and_the_owners_nonce_survive_reopening() {
	use lem_gateway::journal::OWNER_NONCE;
	use lem_gateway_core::{
		entry::{OrderEntry, OrderState},
		owner::Side,
	};
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("journal.redb");
	let order = |slot: u64, state: OrderState| OrderEntry {
		slot,
		side: Side::Bid,
		energy_wh: 300,
		limit_per_kwh: 250_000,
		nonce: slot as u32,
		extrinsic: vec![1, 2, 3],
		state,
	};
	{
		let journal = Journal::open(&path).unwrap();
		journal.put_order(&order(20, OrderState::Submitted { at: 5 }), Some(21), true).unwrap();
		journal.put_order(&order(21, OrderState::Lost), Some(22), true).unwrap();
		journal.put_order(&order(20, OrderState::Placed { orders: vec![7] }), None, false).unwrap();
	}
	let journal = Journal::open(&path).unwrap();
	assert_eq!(
		journal.orders_from(0).unwrap(),
		vec![order(20, OrderState::Placed { orders: vec![7] }), order(21, OrderState::Lost)]
	);
	assert_eq!(journal.chain_fact(OWNER_NONCE).unwrap(), Some(22));
	journal.forget_before(21).unwrap();
	assert_eq!(journal.orders_from(0).unwrap().len(), 1);

	let submitted = OrderEntry { extrinsic: vec![], ..order(22, OrderState::Submitted { at: 1 }) };
	assert_eq!(
		OrderEntry::from_bytes(&submitted.to_bytes()),
		Err(Corrupt::Inconsistent("submitted without an extrinsic"))
	);
	assert!(matches!(OrderEntry::from_bytes(&[2, 1]), Err(Corrupt::Undecodable(_))));
	assert_eq!(OrderEntry::from_bytes(&[9]), Err(Corrupt::Version(9)));
}

/// The owner's bills survive reopening and leave with their slots; bills written while a
/// check was an `Option<Checked>` read the same.
#[test]
fn bills_survive_reopening() {
	use codec::Encode;
	use lem_gateway_core::bill::{Bill, Check, Checked, Record, Retail, Terms};
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("journal.redb");
	let terms = Terms { retail: Retail::Green, retail_per_kwh: 300_000, feed_in_per_kwh: 80_000 };
	let pending = Bill { slot: 30, terms, check: Check::Pending };
	let done = Checked {
		record: Record { market_amount: -7_300, ..Default::default() },
		differences: vec!["utility_amount".into()],
	};
	let checked = Bill { slot: 31, terms, check: Check::Done(Box::new(done.clone())) };
	let forgotten = Bill { slot: 32, terms, check: Check::Forgotten };
	assert_eq!(Check::Pending.encode(), None::<Checked>.encode());
	assert_eq!(Check::Done(Box::new(done.clone())).encode(), Some(done).encode());
	{
		let journal = Journal::open(&path).unwrap();
		for bill in [&pending, &checked, &forgotten] {
			journal.put_bill(bill).unwrap();
		}
	}
	let journal = Journal::open(&path).unwrap();
	assert_eq!(journal.bills_from(0).unwrap(), vec![pending, checked.clone(), forgotten.clone()]);
	assert_eq!(checked.state(), "differs");
	assert_eq!(forgotten.state(), "forgotten");
	journal.forget_before(31).unwrap();
	assert_eq!(journal.bills_from(0).unwrap().len(), 2);
}
