//! What the box concludes about a pending reading, from what the chain proves and what the
//! nodes say: pure decisions, without I/O, so that each can be tested on its own. The gateway
//! (`gateway.rs`) acts on them.
//!
//! A node's word alone never refuses a reading while another node can be asked: a node may
//! lie to keep a reading off the chain. Only a value proven final is the chain's.

use crate::journal::State;

/// The state of a pending reading after the chain's finalized block was read: `ours` is the
/// energy it carries, `theirs` the energy the chain holds final for its slot, if any. A
/// reading submitted `resubmit_after` seconds ago or longer and not final is signed again (the
/// same bytes go again: the pool may have lost them).
pub fn after_finality(
	state: &State,
	ours: Option<(u64, u64)>,
	theirs: Option<(u64, u64)>,
	block: [u8; 32],
	now: u64,
	resubmit_after: u64,
) -> State {
	match theirs {
		Some(theirs) if Some(theirs) == ours => State::Finalized { block },
		Some(_) => State::Refused { reason: ANOTHER_READING_FINAL.into() },
		None => match state {
			State::Submitted { at } if now >= at + resubmit_after => State::Signed,
			s => s.clone(),
		},
	}
}

/// Why a reading is refused when the chain holds another for its slot: a second gateway with
/// the point's key, or a journal restored from an old backup.
pub const ANOTHER_READING_FINAL: &str = "another reading of this slot is final on the chain";

/// The first node's refusal of a slot's reading, kept until another node's word.
#[derive(Default)]
pub struct Refusals {
	first: Option<(u64, &'static str, String)>,
}

/// What to do with a node's refusal of a reading.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
	/// Take it: a second node refused the same reading with the same error, or there is no
	/// other node to ask.
	Final,
	/// Ask the next node before concluding anything.
	AskNext,
}

impl Refusals {
	/// `node` refused `slot`'s reading with `error`; `nodes` are the ones the box knows.
	pub fn hear(
		&mut self,
		slot: u64,
		error: &'static str,
		node: &str,
		nodes: &[String],
	) -> Refusal {
		let others = nodes.iter().any(|n| n != node);
		let confirmed =
			self.first.as_ref().is_some_and(|(s, e, by)| *s == slot && *e == error && by != node);
		if confirmed || !others {
			self.first = None;
			Refusal::Final
		} else {
			self.first = Some((slot, error, node.to_owned()));
			Refusal::AskNext
		}
	}

	/// A node took the reading: an earlier refusal was a lie, or is moot.
	pub fn forget(&mut self) {
		self.first = None;
	}
}
