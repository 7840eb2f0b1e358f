//! The light client's verdicts on headers, justifications, warp proofs and storage proofs,
//! checked against Substrate's own code on the same bytes.

use codec::{Decode, Encode};
use lem_light_client::{
	finality::{Checkpoint, FinalityError, WarpFragment, WarpProof},
	header::{DigestItem, Header, GRANDPA_ENGINE_ID},
	justification::{
		AuthoritySet, Commit, Justification, JustificationError, Precommit, SignedPrecommit,
	},
	storage::{self, ProofError},
};
use proptest::prelude::*;
use sp_core::{ed25519, Pair};
use sp_runtime::traits::BlakeTwo256;

type SubstrateHeader = sp_runtime::generic::Header<u32, BlakeTwo256>;
type Block = sp_runtime::generic::Block<SubstrateHeader, sp_runtime::OpaqueExtrinsic>;

fn keys(names: &[&str]) -> Vec<ed25519::Pair> {
	names.iter().map(|n| ed25519::Pair::from_string(&format!("//{n}"), None).unwrap()).collect()
}

fn set_of(set_id: u64, keys: &[ed25519::Pair]) -> AuthoritySet {
	AuthoritySet { set_id, authorities: keys.iter().map(|k| (k.public().0, 1)).collect() }
}

fn header(parent: &Header, digest: Vec<DigestItem>) -> Header {
	Header {
		parent_hash: parent.hash(),
		number: parent.number + 1,
		state_root: [parent.number as u8; 32],
		extrinsics_root: [7; 32],
		digest,
	}
}

fn genesis() -> Header {
	Header {
		parent_hash: [0; 32],
		number: 0,
		state_root: [1; 32],
		extrinsics_root: [2; 32],
		digest: vec![],
	}
}

fn handoff(to: &[ed25519::Pair]) -> DigestItem {
	let next: Vec<([u8; 32], u64)> = to.iter().map(|k| (k.public().0, 1)).collect();
	// sp-consensus-grandpa's ConsensusLog::ScheduledChange, delay 0.
	DigestItem::Consensus(GRANDPA_ENGINE_ID, (1u8, next, 0u32).encode())
}

fn sign(key: &ed25519::Pair, target: &Header, round: u64, set_id: u64) -> SignedPrecommit {
	let precommit = Precommit { target_hash: target.hash(), target_number: target.number };
	let message = (1u8, &precommit, round, set_id).encode();
	SignedPrecommit { precommit, signature: key.sign(&message).0, id: key.public().0 }
}

fn justify(target: &Header, signers: &[ed25519::Pair], set_id: u64) -> Justification {
	Justification {
		round: 3,
		commit: Commit {
			target_hash: target.hash(),
			target_number: target.number,
			precommits: signers.iter().map(|k| sign(k, target, 3, set_id)).collect(),
		},
		votes_ancestries: vec![],
	}
}

/// Substrate's verdict on the same bytes.
fn substrate_accepts(j: &Justification, set: &AuthoritySet) -> bool {
	let theirs = sc_consensus_grandpa::GrandpaJustification::<Block>::decode(&mut &j.encode()[..])
		.expect("same encoding");
	let authorities: Vec<(sp_consensus_grandpa::AuthorityId, u64)> =
		set.authorities.iter().map(|(k, w)| (ed25519::Public::from_raw(*k).into(), *w)).collect();
	theirs.verify(set.set_id, &authorities).is_ok()
}

#[test]
fn headers_encode_and_hash_as_substrate_does() {
	let h =
		header(&genesis(), vec![handoff(&keys(&["A"])), DigestItem::Seal(*b"aura", vec![9; 64])]);
	let theirs = SubstrateHeader::decode(&mut &h.encode()[..]).unwrap();
	assert_eq!(theirs.encode(), h.encode());
	assert_eq!(theirs.hash().0, h.hash());
	let logs: Vec<_> = h.grandpa_logs().collect();
	assert_eq!(logs.len(), 1);
	// As `chain_getHeader` answers it: Substrate's own JSON of the header.
	let json = serde_json::to_value(&theirs).unwrap();
	assert_eq!(Header::from_rpc(&json), Some(h));
	let mut broken = json.clone();
	broken["digest"]["logs"][0] = serde_json::json!("0xff");
	assert_eq!(Header::from_rpc(&broken), None);
}

#[test]
fn a_supermajority_finalizes_and_less_does_not() {
	let k = keys(&["A", "B", "C", "D"]);
	let set = set_of(5, &k);
	assert_eq!(set.threshold(), 3);
	let target = header(&genesis(), vec![]);
	let j = justify(&target, &k[..3], 5);
	assert_eq!(j.verify(&set), Ok(()));
	assert!(substrate_accepts(&j, &set));
	let j = justify(&target, &k[..2], 5);
	assert_eq!(j.verify(&set), Err(JustificationError::TooFewVotes { weight: 2, threshold: 3 }));
	assert!(!substrate_accepts(&j, &set));
	// A voter counts once, however often it signs.
	let j = justify(&target, &[k[0].clone(), k[1].clone(), k[1].clone()], 5);
	assert!(matches!(j.verify(&set), Err(JustificationError::TooFewVotes { .. })));
	assert!(!substrate_accepts(&j, &set));
	// Another set's signatures, or a key outside the set.
	let j = justify(&target, &k[..3], 4);
	assert!(matches!(j.verify(&set), Err(JustificationError::BadSignature { .. })));
	assert!(!substrate_accepts(&j, &set));
	let j = justify(&target, &keys(&["A", "B", "Mallory"]), 5);
	assert!(matches!(j.verify(&set), Err(JustificationError::NotAVoter { .. })));
	assert!(!substrate_accepts(&j, &set));
	// A set without weight finalizes nothing, not even with no votes.
	let empty = AuthoritySet { set_id: 5, authorities: vec![] };
	let j = justify(&target, &[], 5);
	assert_eq!(j.verify(&empty), Err(JustificationError::TooFewVotes { weight: 0, threshold: 1 }));
}

#[test]
fn precommits_on_descendants_need_their_ancestry_and_no_more() {
	let k = keys(&["A", "B", "C", "D"]);
	let set = set_of(0, &k);
	let target = header(&genesis(), vec![]);
	let child = header(&target, vec![]);
	let grandchild = header(&child, vec![]);
	let mut j = justify(&target, &k[..2], 0);
	j.commit.precommits.push(sign(&k[2], &grandchild, 3, 0));
	j.commit.precommits.push(sign(&k[3], &child, 3, 0));
	assert!(matches!(j.verify(&set), Err(JustificationError::NotADescendant { .. })));
	assert!(!substrate_accepts(&j, &set));
	j.votes_ancestries = vec![grandchild.clone(), child.clone()];
	assert_eq!(j.verify(&set), Ok(()));
	assert!(substrate_accepts(&j, &set));
	j.votes_ancestries.push(header(&grandchild, vec![]));
	assert_eq!(j.verify(&set), Err(JustificationError::UnusedAncestry));
	assert!(!substrate_accepts(&j, &set));
}

proptest! {
	/// Whatever is flipped in a justification's bytes, the two verifiers agree, and a valid one
	/// stays valid only if the flip left it meaning the same.
	#[test]
	fn agrees_with_substrate_on_corrupted_justifications(at in any::<usize>(), bit in 0u8..8, signers in 2usize..5) {
		let k = keys(&["A", "B", "C", "D"]);
		let set = set_of(1, &k);
		let target = header(&genesis(), vec![]);
		let child = header(&target, vec![]);
		let mut j = justify(&target, &k[..signers - 1], 1);
		j.commit.precommits.push(sign(&k[signers - 1], &child, 3, 1));
		j.votes_ancestries = vec![child];
		let mut bytes = j.encode();
		let at = at % bytes.len();
		bytes[at] ^= 1 << bit;
		if let Ok(corrupt) = Justification::decode(&mut &bytes[..]) {
			if sc_consensus_grandpa::GrandpaJustification::<Block>::decode(&mut &bytes[..]).is_ok() {
				prop_assert_eq!(corrupt.verify(&set).is_ok(), substrate_accepts(&corrupt, &set));
			}
		}
	}
}

fn warp(fragments: Vec<(Header, Justification)>, is_finished: bool) -> Vec<u8> {
	let fragments = fragments
		.into_iter()
		.map(|(header, justification)| WarpFragment { header, justification })
		.collect();
	WarpProof { fragments, is_finished }.encode()
}

#[test]
fn warp_proofs_follow_handoffs_and_refuse_lies() {
	let first = keys(&["A", "B", "C", "D"]);
	let second = keys(&["B", "C", "D", "E", "F"]);
	let g = genesis();
	let mut cp = Checkpoint::genesis(g.clone(), set_of(0, &first).authorities);
	let b1 = header(&g, vec![]);
	let b2 = header(&b1, vec![handoff(&second)]);
	let b3 = header(&b2, vec![]);
	let b4 = header(&b3, vec![]);

	// The second set's justification before the handoff is known: refused, nothing changes.
	let before = cp.clone();
	let e = cp.apply_warp_proof(&warp(vec![(b4.clone(), justify(&b4, &second[..4], 1))], true));
	assert!(matches!(e, Err(FinalityError::BadJustification { number: 4, .. })));
	assert_eq!(cp, before);
	// A handoff header whose justification is for another block.
	let e = cp.apply_warp_proof(&warp(vec![(b2.clone(), justify(&b1, &first[..3], 0))], false));
	assert_eq!(e, Err(FinalityError::HeaderMismatch { number: 2 }));
	// A set's last block without its handoff, in the middle of a proof.
	let e = cp.apply_warp_proof(&warp(vec![(b1.clone(), justify(&b1, &first[..3], 0))], false));
	assert_eq!(e, Err(FinalityError::MissingHandoff { number: 1 }));
	assert_eq!(cp.apply_warp_proof(b"\x01\x02"), Err(FinalityError::Undecodable));
	assert_eq!(cp, before);

	let p = cp
		.apply_warp_proof(&warp(
			vec![
				(b2.clone(), justify(&b2, &first[1..], 0)),
				(b4.clone(), justify(&b4, &second[..4], 1)),
			],
			true,
		))
		.unwrap();
	assert_eq!((p.handoffs, p.advanced, p.finished), (1, true, true));
	assert_eq!(cp.number(), 4);
	assert_eq!(cp.set, set_of(1, &second));

	// The same latest justification again: nothing moves.
	let same = warp(vec![(b4.clone(), justify(&b4, &second[..4], 1))], true);
	assert!(!cp.apply_warp_proof(&same).unwrap().advanced);
	// An old one: the node is behind. Another block at a finalized height: a conflict.
	let e = cp.apply_warp_proof(&warp(vec![(b3.clone(), justify(&b3, &second[..4], 1))], true));
	assert_eq!(e, Err(FinalityError::Stale { number: 3, finalized: 4 }));
	let other4 = header(&b3, vec![DigestItem::Other(vec![1])]);
	let e =
		cp.apply_warp_proof(&warp(vec![(other4.clone(), justify(&other4, &second[..4], 1))], true));
	assert_eq!(e, Err(FinalityError::Conflict { number: 4 }));
	// The old set can no longer finalize anything.
	let b5 = header(&b4, vec![]);
	let e = cp.apply_warp_proof(&warp(vec![(b5.clone(), justify(&b5, &first, 0))], true));
	assert!(matches!(e, Err(FinalityError::BadJustification { number: 5, .. })));
	// A forced change is not followed.
	let forced = header(
		&b4,
		vec![DigestItem::Consensus(
			GRANDPA_ENGINE_ID,
			(2u8, 0u32, Vec::<([u8; 32], u64)>::new(), 0u32).encode(),
		)],
	);
	let e =
		cp.apply_warp_proof(&warp(vec![(forced.clone(), justify(&forced, &second[..4], 1))], true));
	assert_eq!(e, Err(FinalityError::UnsupportedChange { number: 5 }));
}

/// Right after a handoff, before the new set has finalized a block, a node's latest
/// justification is the handoff block's own, signed by the old set. An honest node says so; the
/// client holds that block already and is not moved, but it calls no one a liar.
#[test]
fn the_handoff_blocks_own_justification_is_no_lie() {
	let first = keys(&["A", "B", "C", "D"]);
	let second = keys(&["B", "C", "D", "E", "F"]);
	let g = genesis();
	let mut cp = Checkpoint::genesis(g.clone(), set_of(0, &first).authorities);
	let b1 = header(&g, vec![handoff(&second)]);
	let own = warp(vec![(b1.clone(), justify(&b1, &first[..3], 0))], true);
	assert_eq!(cp.apply_warp_proof(&own).unwrap().handoffs, 1);
	assert_eq!((cp.number(), cp.set.clone()), (1, set_of(1, &second)));

	let p = cp.apply_warp_proof(&own).expect("the handoff block's own justification");
	assert_eq!((p.handoffs, p.advanced, p.finished), (0, false, true));
	// Then the new set finalizes, and only the new set.
	let b2 = header(&b1, vec![]);
	let e = cp.apply_warp_proof(&warp(vec![(b2.clone(), justify(&b2, &first[..3], 0))], true));
	assert!(matches!(e, Err(FinalityError::BadJustification { number: 2, .. })));
	let p = cp.apply_warp_proof(&warp(vec![(b2.clone(), justify(&b2, &second[..4], 1))], true));
	assert!(p.unwrap().advanced);
}

#[test]
fn storage_proofs_prove_values_and_absence_and_nothing_else() {
	use sp_trie::{LayoutV1, MemoryDB, TrieDBMutBuilder, TrieMut};
	type H = sp_core::Blake2Hasher;
	let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0u32..300)
		.map(|i| (storage::twox_64_concat(&i.encode()), vec![i as u8; (i % 70) as usize]))
		.collect();
	let mut db = MemoryDB::<H>::default();
	let mut root = Default::default();
	{
		let mut trie = TrieDBMutBuilder::<LayoutV1<H>>::new(&mut db, &mut root).build();
		for (k, v) in &pairs {
			trie.insert(k, v).unwrap();
		}
	}
	assert_eq!(storage::state_root(pairs.iter().map(|(k, v)| (&k[..], &v[..]))), root.0);
	let nodes: Vec<Vec<u8>> =
		db.drain().into_values().filter(|(_, rc)| *rc > 0).map(|(v, _)| v).collect();
	let absent = storage::twox_64_concat(&1000u32.encode());
	let keys = vec![pairs[5].0.clone(), pairs[299].0.clone(), absent.clone()];
	let values = storage::read_proof(&root.0, nodes.clone(), &keys).unwrap();
	assert_eq!(values, vec![Some(pairs[5].1.clone()), Some(pairs[299].1.clone()), None]);
	// Against another root, or with a node changed, the proof proves nothing.
	let e = storage::read_proof(&[9; 32], nodes.clone(), &keys);
	assert!(matches!(e, Err(ProofError::Incomplete { .. })));
	for i in 0..nodes.len() {
		let mut altered = nodes.clone();
		let last = altered[i].len() - 1;
		altered[i][last] ^= 1;
		let read = storage::read_proof(&root.0, altered, &keys);
		assert!(
			read.is_err() || read == Ok(values.clone()),
			"node {i} altered and still read differently"
		);
	}
}
