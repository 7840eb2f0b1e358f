//! What the box concludes about a pending reading, from what the chain proves and what the
//! nodes say: pure decisions, without I/O, so that each can be tested on its own. The gateway
//! (`gateway.rs`) acts on them.
//!
//! A node's word alone never refuses a reading while another node can be asked: a node may
//! lie to keep a reading off the chain. Only a value proven final is the chain's.

use crate::{
	chain::blocks_seconds,
	entry::{Entry, State},
	reading::MAX_BATCH,
};
use alloc::{borrow::ToOwned, collections::BTreeMap, string::String, vec::Vec};

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

/// The slots of the pending readings to send next, oldest first: none while a submission is
/// in flight; else the signed ones whose slot's end is a block deep by the best block's clock
/// (`best`, in seconds) — an authority that has not yet imported the first block past the end
/// would refuse a reading as early, and its pool then bans the bytes for half an hour — one
/// after a refused batch (`one_by_one`), else a batch of up to [`MAX_BATCH`].
pub fn next_batch(
	pending: &BTreeMap<u64, Entry>,
	best: u64,
	slot_seconds: u64,
	block_ms: u64,
	one_by_one: bool,
) -> Vec<u64> {
	if !ready_to_send(pending) {
		return Vec::new();
	}
	let over = |slot: u64| (slot + 1) * slot_seconds + blocks_seconds(1, block_ms) <= best;
	pending
		.values()
		.filter(|e| e.state == State::Signed && over(e.slot))
		.take(if one_by_one { 1 } else { MAX_BATCH })
		.map(|e| e.slot)
		.collect()
}

/// Whether a batch may go: a reading is signed and none is in flight (one extrinsic at a
/// time, so that readings reach the chain in slot order).
pub fn ready_to_send(pending: &BTreeMap<u64, Entry>) -> bool {
	let mut states = pending.values().map(|e| &e.state);
	!states.clone().any(|s| matches!(s, State::Submitted { .. }))
		&& states.any(|s| *s == State::Signed)
}

/// The pool's answer to a transaction it already holds (1013), to one that would replace
/// another it holds (1014), and to bytes it refused or included in the last half hour (1012).
pub const POOL_HOLDS: i64 = 1013;
pub const POOL_HOLDS_ANOTHER: i64 = 1014;
pub const POOL_BANNED: i64 = 1012;

/// A node's answer to a batch of readings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
	Taken,
	/// Refused with the pool's `code` and, when the runtime named one, metering's `error`.
	Refused {
		code: i64,
		error: Option<&'static str>,
	},
}

/// What the box does with the batch after a node's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterSubmission {
	/// The node took it: it is submitted, and batches go again.
	Taken,
	/// The pool or the chain holds it already: submitted; where it is, the next check of the
	/// finalized chain finds out.
	Held,
	/// A batch is refused whole for one reading: send them one by one, the next at once.
	OneByOne { error: &'static str },
	/// One node's refusal: ask the next before concluding anything.
	AskNext { error: &'static str },
	/// Refused: journal it so and send the next at once (the window often refuses the next
	/// alike: it moves past readings in slot order).
	Refused { error: &'static str },
	/// The node failed otherwise: the same batch goes again at the next wake.
	TryAgain,
}

/// What the `answer` of `node` (of the box's `nodes`) to a batch of `batch_len` readings, the
/// oldest of slot `first`, means; `refusals` keeps a single node's refusal until another
/// node's word.
pub fn after_submission(
	answer: &Answer,
	batch_len: usize,
	first: u64,
	refusals: &mut Refusals,
	node: &str,
	nodes: &[String],
) -> AfterSubmission {
	let Answer::Refused { code, error } = *answer else {
		refusals.forget();
		return AfterSubmission::Taken;
	};
	match error {
		Some(error) if batch_len > 1 => AfterSubmission::OneByOne { error },
		Some("Replayed") => AfterSubmission::Held,
		Some(error) => match refusals.hear(first, error, node, nodes) {
			Refusal::AskNext => AfterSubmission::AskNext { error },
			Refusal::Final => AfterSubmission::Refused { error },
		},
		// In the pool already, or just included (the pool bans what it included for a while).
		None if matches!(code, POOL_BANNED | POOL_HOLDS | POOL_HOLDS_ANOTHER) => {
			AfterSubmission::Held
		}
		None => AfterSubmission::TryAgain,
	}
}
