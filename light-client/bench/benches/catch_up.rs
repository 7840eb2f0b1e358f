//! Catching up finality: checking a warp proof from a checkpoint. `cargo bench -p
//! lem-light-client-bench`.
//!
//! A warp proof has one fragment per authority set change since the checkpoint, plus the latest
//! justification, whatever the number of blocks: a gateway offline for a day without a council
//! change checks one fragment, one offline for a week with a change every day checks eight.
//! Each fragment's justification carries a precommit of every voter of its set (4 for the
//! demo's utilities, 16 for a large community), each an ed25519 signature to check.

use codec::Encode;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ed25519_dalek::{Signer, SigningKey};
use lem_light_client::{
	finality::{WarpFragment, WarpProof},
	header::{DigestItem, GRANDPA_ENGINE_ID},
	justification::{Commit, Justification, Precommit, SignedPrecommit},
	Checkpoint, Header,
};
use std::hint::black_box;

fn voters(set: u8, size: u8) -> Vec<SigningKey> {
	(0..size).map(|i| SigningKey::from_bytes(&[set.wrapping_mul(31).wrapping_add(i); 32])).collect()
}

fn weighted(keys: &[SigningKey]) -> Vec<([u8; 32], u64)> {
	keys.iter().map(|k| (k.verifying_key().to_bytes(), 1)).collect()
}

fn justify(target: &Header, keys: &[SigningKey], set_id: u64) -> Justification {
	let precommit = Precommit { target_hash: target.hash(), target_number: target.number };
	let message = (1u8, &precommit, 7u64, set_id).encode();
	let precommits = keys
		.iter()
		.map(|k| SignedPrecommit {
			precommit: precommit.clone(),
			signature: k.sign(&message).to_bytes(),
			id: k.verifying_key().to_bytes(),
		})
		.collect();
	Justification {
		round: 7,
		commit: Commit { target_hash: target.hash(), target_number: target.number, precommits },
		votes_ancestries: vec![],
	}
}

/// A genesis checkpoint and a warp proof of `changes` handoffs and the latest justification,
/// 14 400 blocks (a day of 6 s blocks) apart.
fn catch_up(changes: u8, size: u8) -> (Checkpoint, Vec<u8>) {
	let genesis = Header {
		parent_hash: [0; 32],
		number: 0,
		state_root: [1; 32],
		extrinsics_root: [2; 32],
		digest: vec![],
	};
	let checkpoint = Checkpoint::genesis(genesis.clone(), weighted(&voters(0, size)));
	let mut parent = genesis;
	let mut fragments = Vec::new();
	for set in 0..=changes {
		let next = voters(set + 1, size);
		let handoff = (1u8, weighted(&next), 0u32).encode();
		let header = Header {
			parent_hash: parent.hash(),
			number: parent.number + 14_400,
			state_root: [set; 32],
			extrinsics_root: [3; 32],
			digest: if set < changes {
				vec![DigestItem::Consensus(GRANDPA_ENGINE_ID, handoff)]
			} else {
				vec![]
			},
		};
		let justification = justify(&header, &voters(set, size), set as u64);
		fragments.push(WarpFragment { header: header.clone(), justification });
		parent = header;
	}
	(checkpoint, WarpProof { fragments, is_finished: true }.encode())
}

fn bench(c: &mut Criterion) {
	let mut group = c.benchmark_group("catch_up");
	for (what, changes, size) in [
		("a day, no change, 4 voters", 0, 4),
		("a week, a change a day, 4 voters", 7, 4),
		("a week, a change a day, 16 voters", 7, 16),
	] {
		let (checkpoint, proof) = catch_up(changes, size);
		let progress = checkpoint.clone().apply_warp_proof(&proof).expect("a valid proof");
		assert_eq!(progress.handoffs, changes as u32);
		eprintln!("{what}: {} bytes", proof.len());
		group.bench_with_input(BenchmarkId::from_parameter(what), &proof, |b, proof| {
			b.iter(|| checkpoint.clone().apply_warp_proof(black_box(proof)).unwrap())
		});
	}
	group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
