//! Cutting the registers into slots: when a slot's end is taken, the reading it makes, when
//! the box wakes.

use ed25519_dalek::{SigningKey, Verifier};
use lem_gateway_core::{
	entry::{Registers, State},
	slot::{ended, take, until_wake, AFTER_BLOCK_DUE_MS, AFTER_BOUNDARY_MS},
};

const SLOT_MS: u64 = 10_000;
const POLL_MS: u64 = 2_000;

#[test]
fn a_slots_end_is_taken_once_and_only_near_its_boundary() {
	// Slot 100 ends at 1 010 000 ms; registers read within two polls after count as its end.
	assert_eq!(ended(1_010_050, SLOT_MS, POLL_MS, Some(99)), Some(100));
	assert_eq!(ended(1_014_000, SLOT_MS, POLL_MS, Some(99)), Some(100));
	assert_eq!(ended(1_014_001, SLOT_MS, POLL_MS, Some(99)), None);
	// Taken already.
	assert_eq!(ended(1_010_050, SLOT_MS, POLL_MS, Some(100)), None);
	// A new box takes the first end it sees.
	assert_eq!(ended(1_010_050, SLOT_MS, POLL_MS, None), Some(100));
	assert_eq!(ended(50, SLOT_MS, POLL_MS, None), None);
}

#[test]
fn a_reading_is_the_registers_advance_signed_and_never_invented() {
	let key = SigningKey::from_bytes(&[4; 32]);
	let genesis = [2; 32];
	let start = Registers { import_wh: 1_000, export_wh: 500 };
	let end = Registers { import_wh: 1_250, export_wh: 520 };
	let entry = take(1001, 100, end, Some(start), 1_010_050, &key, &genesis);
	assert_eq!(entry.state, State::Signed);
	let signed = entry.reading.unwrap();
	let r = signed.reading;
	assert_eq!((r.metering_point, r.slot, r.import_wh, r.export_wh), (1001, 100, 250, 20));
	assert_eq!((r.import_register_wh, r.export_register_wh), (1_250, 520));
	let signature = ed25519_dalek::Signature::from_bytes(&signed.signature);
	assert!(key.verifying_key().verify(&r.signed_bytes(&genesis), &signature).is_ok());
	// No start: only the end registers, for the next reading to carry the energy.
	let taken = take(1001, 100, end, None, 1_010_050, &key, &genesis);
	assert_eq!((taken.state, taken.reading, taken.registers), (State::Taken, None, end));
	// A register that went back over the slot: no reading either.
	let back = Registers { import_wh: 1_250, export_wh: 499 };
	assert_eq!(take(1001, 100, back, Some(start), 1_010_050, &key, &genesis).reading, None);
}

#[test]
fn the_box_wakes_for_the_boundary_the_poll_or_a_reading_due_to_go() {
	let now = 1_003_000;
	// Nothing signed: the next poll comes before the boundary.
	assert_eq!(until_wake(now, POLL_MS, SLOT_MS, 2_000, []), POLL_MS);
	// Near the boundary, right after it.
	assert_eq!(until_wake(1_009_000, POLL_MS, SLOT_MS, 2_000, []), 1_000 + AFTER_BOUNDARY_MS);
	// Slot 99 ended at 1 000 000: with 2 s blocks its reading goes once 1 002 000 is a block
	// deep, with the node's margin — sooner than the next poll.
	let soon = 1_001_500;
	let due = 1_002_000 + AFTER_BLOCK_DUE_MS - soon;
	assert_eq!(until_wake(soon, POLL_MS, SLOT_MS, 2_000, [99]), due);
	// A reading already due waits for nothing: the poll stands.
	assert_eq!(until_wake(now, POLL_MS, SLOT_MS, 2_000, [98]), POLL_MS);
}
