//! The box's decisions about a reading: when a node's refusal is taken, and what a finalized
//! block says of a pending reading.

use ed25519_dalek::SigningKey;
use lem_gateway_core::{
	entry::{Entry, Registers, State},
	reading::MAX_BATCH,
	slot,
	verdict::{
		after_finality, after_submission, next_batch, AfterSubmission, Answer, Refusal, Refusals,
		ANOTHER_READING_FINAL, POOL_BANNED, POOL_HOLDS,
	},
};
use std::collections::BTreeMap;

fn nodes(n: usize) -> Vec<String> {
	(1..=n).map(|i| format!("ws://node{i}")).collect()
}

#[test]
fn two_nodes_giving_the_same_refusal_refuse_the_reading() {
	let nodes = nodes(3);
	let mut refusals = Refusals::default();
	assert_eq!(refusals.hear(7, "TooOld", &nodes[0], &nodes), Refusal::AskNext);
	assert_eq!(refusals.hear(7, "TooOld", &nodes[1], &nodes), Refusal::Final);
	// Taken, the refusal is forgotten: the next reading starts from no word at all.
	assert_eq!(refusals.hear(8, "TooOld", &nodes[2], &nodes), Refusal::AskNext);
}

#[test]
fn one_node_saying_it_twice_is_one_word() {
	let nodes = nodes(2);
	let mut refusals = Refusals::default();
	assert_eq!(refusals.hear(7, "BadSignature", &nodes[0], &nodes), Refusal::AskNext);
	assert_eq!(refusals.hear(7, "BadSignature", &nodes[0], &nodes), Refusal::AskNext);
}

#[test]
fn a_liar_then_an_honest_node_refuses_nothing() {
	let nodes = nodes(2);
	let mut refusals = Refusals::default();
	// The liar names an error; the honest node takes the reading.
	assert_eq!(refusals.hear(7, "BadSignature", &nodes[0], &nodes), Refusal::AskNext);
	refusals.forget();
	// Should the liar be asked again later, its word is again the first.
	assert_eq!(refusals.hear(7, "BadSignature", &nodes[0], &nodes), Refusal::AskNext);
	// Another node refusing otherwise, or another slot, confirms nothing either.
	assert_eq!(refusals.hear(7, "TooOld", &nodes[1], &nodes), Refusal::AskNext);
	assert_eq!(refusals.hear(8, "TooOld", &nodes[0], &nodes), Refusal::AskNext);
}

#[test]
fn with_one_node_its_refusal_is_final() {
	let nodes = nodes(1);
	let mut refusals = Refusals::default();
	assert_eq!(refusals.hear(7, "TooOld", &nodes[0], &nodes), Refusal::Final);
}

const BLOCK: [u8; 32] = [9; 32];
const OURS: Option<(u64, u64)> = Some((1_250, 0));

#[test]
fn the_same_reading_final_on_the_chain_is_final() {
	let submitted = State::Submitted { at: 100 };
	assert_eq!(
		after_finality(&submitted, OURS, OURS, BLOCK, 101, 30),
		State::Finalized { block: BLOCK }
	);
	// Final though the box had not yet sent it (another box of the owner did, or a crash
	// lost the journal's last state).
	assert_eq!(
		after_finality(&State::Signed, OURS, OURS, BLOCK, 101, 30),
		State::Finalized { block: BLOCK }
	);
}

#[test]
fn another_reading_of_the_slot_final_refuses_ours() {
	for state in [State::Signed, State::Submitted { at: 100 }] {
		assert_eq!(
			after_finality(&state, OURS, Some((1_300, 0)), BLOCK, 101, 30),
			State::Refused { reason: ANOTHER_READING_FINAL.into() }
		);
	}
}

#[test]
fn a_reading_not_final_is_sent_again_once_it_has_waited() {
	let submitted = State::Submitted { at: 100 };
	assert_eq!(after_finality(&submitted, OURS, None, BLOCK, 129, 30), submitted);
	assert_eq!(after_finality(&submitted, OURS, None, BLOCK, 130, 30), State::Signed);
	assert_eq!(after_finality(&State::Signed, OURS, None, BLOCK, 500, 30), State::Signed);
}

/// Pending entries of `slots` in `state`, signed readings each (10 s slots).
fn pending(slots: impl IntoIterator<Item = u64>, state: State) -> BTreeMap<u64, Entry> {
	let key = SigningKey::from_bytes(&[3; 32]);
	slots
		.into_iter()
		.map(|s| {
			let at = |s: u64| Registers { import_wh: 1_000 + s, export_wh: 0 };
			let mut entry = slot::take(1001, s, at(s), Some(at(s - 1)), s * 10_000, &key, &[1; 32]);
			entry.state = state.clone();
			(s, entry)
		})
		.collect()
}

#[test]
fn a_reading_goes_once_its_slots_end_is_a_block_deep_and_batches_are_bounded() {
	// Slot 100 ends at 1010 s; with 2 s blocks it may go from 1012 s by the best block.
	let signed = pending(100..=100, State::Signed);
	assert!(next_batch(&signed, 1_011, 10, 2_000, false).is_empty());
	assert_eq!(next_batch(&signed, 1_012, 10, 2_000, false), vec![100]);
	// A box back from a long outage: batches of at most MAX_BATCH, oldest first.
	let backlog = pending(1..=200, State::Signed);
	let batch = next_batch(&backlog, 5_000, 10, 2_000, false);
	assert_eq!(batch.len(), MAX_BATCH);
	assert_eq!(batch[0], 1);
	// After a refused batch, one at a time.
	assert_eq!(next_batch(&backlog, 5_000, 10, 2_000, true), vec![1]);
	// Nothing while a submission is in flight.
	let mut in_flight = backlog.clone();
	in_flight.get_mut(&1).unwrap().state = State::Submitted { at: 4_990 };
	assert!(next_batch(&in_flight, 5_000, 10, 2_000, false).is_empty());
}

#[test]
fn what_a_nodes_answer_to_a_batch_means() {
	let nodes = nodes(2);
	let refused = |error| Answer::Refused { code: 1010, error: Some(error) };
	let mut refusals = Refusals::default();
	let mut after = |answer: &Answer, n: usize, node: usize| {
		after_submission(answer, n, 7, &mut refusals, &nodes[node], &nodes)
	};
	assert_eq!(after(&Answer::Taken, 3, 0), AfterSubmission::Taken);
	// A batch, even of two, is refused whole for one reading: one by one, whatever the error.
	assert_eq!(after(&refused("TooOld"), 2, 0), AfterSubmission::OneByOne { error: "TooOld" });
	// Already on the chain, in the pool, or banned for having been included: held.
	assert_eq!(after(&refused("Replayed"), 1, 0), AfterSubmission::Held);
	for code in [POOL_HOLDS, POOL_BANNED] {
		assert_eq!(after(&Answer::Refused { code, error: None }, 1, 0), AfterSubmission::Held);
	}
	// One node's refusal asks the next; the second node's same word refuses the reading.
	assert_eq!(after(&refused("TooOld"), 1, 0), AfterSubmission::AskNext { error: "TooOld" });
	assert_eq!(after(&refused("TooOld"), 1, 1), AfterSubmission::Refused { error: "TooOld" });
	// A node's failure without a named error: the same batch again later.
	assert_eq!(
		after(&Answer::Refused { code: -32603, error: None }, 1, 0),
		AfterSubmission::TryAgain
	);
}

#[test]
fn a_node_taking_a_reading_forgets_an_earlier_refusal() {
	let nodes = nodes(2);
	let mut refusals = Refusals::default();
	let refused = Answer::Refused { code: 1010, error: Some("BadSignature") };
	let first = after_submission(&refused, 1, 7, &mut refusals, &nodes[0], &nodes);
	assert_eq!(first, AfterSubmission::AskNext { error: "BadSignature" });
	after_submission(&Answer::Taken, 1, 7, &mut refusals, &nodes[1], &nodes);
	// The liar's word again is a first word, not a confirmation.
	let again = after_submission(&refused, 1, 7, &mut refusals, &nodes[1], &nodes);
	assert_eq!(again, AfterSubmission::AskNext { error: "BadSignature" });
}
