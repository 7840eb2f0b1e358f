//! Following finality: from the chain spec's authority set, across every handoff the council
//! makes, to the latest block the current set finalized.
//!
//! A node proves it with a warp proof (`lem_grandpaWarpProof`): for each set since the client's
//! last finalized block, the set's last header — which carries the next set in its GRANDPA
//! log — with its justification, then the latest justification. Each is checked against the
//! set the client holds, so a node can withhold finality but not make it up.

use crate::{
	header::{GrandpaLog, Hash, Header},
	justification::{AuthoritySet, Justification, JustificationError},
};
use alloc::vec::Vec;
use codec::{Decode, DecodeAll, Encode};

/// What the client knows for certain: the last block whose finality it checked, and the set
/// that finalizes the blocks after it. Kept across restarts.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Checkpoint {
	pub finalized: Header,
	pub set: AuthoritySet,
}

/// sc-consensus-grandpa's `WarpSyncProof`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct WarpProof {
	pub fragments: Vec<WarpFragment>,
	/// Whether the proof reaches the latest justification (else it stopped at 8 MiB and the
	/// client asks again from its last header).
	pub is_finished: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct WarpFragment {
	pub header: Header,
	pub justification: Justification,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinalityError {
	/// The bytes are not a warp proof.
	Undecodable,
	/// A justification does not check against the set that should have signed it.
	BadJustification { number: u32, error: JustificationError },
	/// A justification is for another block than the header beside it.
	HeaderMismatch { number: u32 },
	/// A proof that goes back: the node is behind the client.
	Stale { number: u32, finalized: u32 },
	/// Another block at a height the client holds as finalized.
	Conflict { number: u32 },
	/// A set's last header without the next set in its log.
	MissingHandoff { number: u32 },
	/// A set change GRANDPA forced, or scheduled with a delay: lem's runtime makes neither,
	/// and following one would need trust the proof does not carry.
	UnsupportedChange { number: u32 },
}

/// What a checked warp proof did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
	/// Handoffs applied.
	pub handoffs: u32,
	/// Whether the checkpoint moved.
	pub advanced: bool,
	/// Whether the proof reached the node's latest justification.
	pub finished: bool,
}

impl Checkpoint {
	pub fn genesis(genesis: Header, authorities: Vec<crate::header::Authority>) -> Self {
		Checkpoint { finalized: genesis, set: AuthoritySet { set_id: 0, authorities } }
	}

	pub fn hash(&self) -> Hash {
		self.finalized.hash()
	}

	pub fn number(&self) -> u32 {
		self.finalized.number
	}

	/// Checks a warp proof from this checkpoint and moves to where it leads. On any error the
	/// checkpoint is unchanged.
	pub fn apply_warp_proof(&mut self, bytes: &[u8]) -> Result<Progress, FinalityError> {
		let proof =
			WarpProof::decode_all(&mut &bytes[..]).map_err(|_| FinalityError::Undecodable)?;
		let mut next = self.clone();
		let mut handoffs = 0;
		let last = proof.fragments.len().saturating_sub(1);
		for (i, WarpFragment { header, justification }) in proof.fragments.into_iter().enumerate() {
			let number = header.number;
			let hash = header.hash();
			if number < next.number() {
				return Err(FinalityError::Stale { number, finalized: next.number() });
			}
			if number == next.number() {
				if hash != next.hash() {
					return Err(FinalityError::Conflict { number });
				}
				// The block the client already holds (the node's latest justification is for
				// it): its handoff, if it has one, is already applied. Right after a handoff
				// that justification is the handoff block's own, signed by the set the client
				// has just left; it tells the client nothing it has not checked.
				continue;
			}
			justification
				.verify(&next.set)
				.map_err(|error| FinalityError::BadJustification { number, error })?;
			if justification.target() != (number, hash) {
				return Err(FinalityError::HeaderMismatch { number });
			}
			let mut handoff = None;
			for log in header.grandpa_logs() {
				match log {
					GrandpaLog::ScheduledChange(change) if change.delay == 0 => {
						handoff = Some(change.next_authorities)
					}
					GrandpaLog::ScheduledChange(_) | GrandpaLog::ForcedChange(..) => {
						return Err(FinalityError::UnsupportedChange { number })
					}
					_ => {}
				}
			}
			match handoff {
				Some(authorities) => {
					next.set = AuthoritySet { set_id: next.set.set_id + 1, authorities };
					handoffs += 1;
				}
				None if i != last || !proof.is_finished => {
					return Err(FinalityError::MissingHandoff { number })
				}
				None => {}
			}
			next.finalized = header;
		}
		let advanced = next != *self;
		*self = next;
		Ok(Progress { handoffs, advanced, finished: proof.is_finished })
	}
}
