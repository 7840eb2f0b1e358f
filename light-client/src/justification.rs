//! GRANDPA justifications: that more than two thirds of an authority set's weight precommitted
//! to a block or its descendants, in one round.
//!
//! The rules are those of sc-consensus-grandpa's `GrandpaJustification::verify`, which a test
//! runs on the same bytes: every precommit is signed by a voter of the set, for the target or a
//! descendant shown by the justification's ancestry headers, and every ancestry header is
//! used. Redundant precommits (more than the threshold needs) are accepted, as real
//! justifications carry them; a voter's weight counts once however many precommits it signed.

use crate::header::{Authority, Hash, Header};
use alloc::{collections::BTreeMap, collections::BTreeSet, vec::Vec};
use codec::{Decode, Encode};

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Justification {
	pub round: u64,
	pub commit: Commit,
	pub votes_ancestries: Vec<Header>,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Commit {
	pub target_hash: Hash,
	pub target_number: u32,
	pub precommits: Vec<SignedPrecommit>,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Precommit {
	pub target_hash: Hash,
	pub target_number: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SignedPrecommit {
	pub precommit: Precommit,
	pub signature: [u8; 64],
	pub id: [u8; 32],
}

/// The voters that finalize blocks, and which handoff of the set this is.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct AuthoritySet {
	pub set_id: u64,
	pub authorities: Vec<Authority>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JustificationError {
	/// A precommit is signed by a key that is not a voter of the set.
	NotAVoter { id: [u8; 32] },
	/// A precommit's signature does not check for this round and set.
	BadSignature { id: [u8; 32] },
	/// A precommit is for a block the ancestry does not show descending from the target.
	NotADescendant { id: [u8; 32] },
	/// An ancestry header no precommit needed.
	UnusedAncestry,
	/// The distinct voters' weight is below more than two thirds of the set's.
	TooFewVotes { weight: u64, threshold: u64 },
}

impl AuthoritySet {
	/// GRANDPA's supermajority: all but the most faulty weight that a third can be. At least
	/// one, so that a set without weight (which Substrate never makes) finalizes nothing.
	pub fn threshold(&self) -> u64 {
		let total = self.authorities.iter().fold(0u64, |t, (_, w)| t.saturating_add(*w));
		(total - total.saturating_sub(1) / 3).max(1)
	}

	fn weight(&self, id: &[u8; 32]) -> Option<u64> {
		self.authorities.iter().find(|(a, _)| a == id).map(|(_, w)| *w)
	}
}

impl Justification {
	pub fn target(&self) -> (u32, Hash) {
		(self.commit.target_number, self.commit.target_hash)
	}

	/// Checks that `set` finalized the target.
	pub fn verify(&self, set: &AuthoritySet) -> Result<(), JustificationError> {
		let ancestry: BTreeMap<Hash, &Header> =
			self.votes_ancestries.iter().map(|h| (h.hash(), h)).collect();
		let mut used = BTreeSet::new();
		let mut voters = BTreeMap::new();
		for signed in &self.commit.precommits {
			let id = signed.id;
			let weight = set.weight(&id).ok_or(JustificationError::NotAVoter { id })?;
			if !self.signature_checks(signed, set.set_id) {
				return Err(JustificationError::BadSignature { id });
			}
			self.walk_to_target(&signed.precommit, &ancestry, &mut used)
				.ok_or(JustificationError::NotADescendant { id })?;
			voters.insert(id, weight);
		}
		if used.len() != ancestry.len() {
			return Err(JustificationError::UnusedAncestry);
		}
		let weight = voters.values().fold(0u64, |t, w| t.saturating_add(*w));
		let threshold = set.threshold();
		if weight < threshold {
			return Err(JustificationError::TooFewVotes { weight, threshold });
		}
		Ok(())
	}

	/// The bytes a voter signs: finality-grandpa's `Message::Precommit`, the round and the set.
	fn signature_checks(&self, signed: &SignedPrecommit, set_id: u64) -> bool {
		use ed25519_dalek::Verifier as _;
		const PRECOMMIT: u8 = 1;
		let message = (PRECOMMIT, &signed.precommit, self.round, set_id).encode();
		let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&signed.id) else { return false };
		let signature = ed25519_dalek::Signature::from_bytes(&signed.signature);
		key.verify(&message, &signature).is_ok()
	}

	/// Walks from a precommit's block down the ancestry to the target; `None` if it does not
	/// get there.
	fn walk_to_target(
		&self,
		precommit: &Precommit,
		ancestry: &BTreeMap<Hash, &Header>,
		used: &mut BTreeSet<Hash>,
	) -> Option<()> {
		let (target_number, target_hash) = self.target();
		let mut hash = precommit.target_hash;
		let mut number = precommit.target_number;
		while hash != target_hash {
			let header = ancestry.get(&hash)?;
			if header.number != number || number <= target_number {
				return None;
			}
			used.insert(hash);
			hash = header.parent_hash;
			number -= 1;
		}
		(number == target_number).then_some(())
	}
}
