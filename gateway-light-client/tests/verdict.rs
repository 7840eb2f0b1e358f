//! The box's decisions about a reading: when a node's refusal is taken, and what a finalized
//! block says of a pending reading.

use lem_gateway::{
	journal::State,
	verdict::{after_finality, Refusal, Refusals, ANOTHER_READING_FINAL},
};

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
