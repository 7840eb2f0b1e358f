//! What a node answers a light client, as untrusted bytes: a warp proof (headers,
//! justifications, handoffs) checked from a genesis checkpoint, a storage proof's nodes read
//! against a state root, or a header as JSON. None may panic, and a refused proof leaves the
//! checkpoint as it was.
#![no_main]

use lem_light_client::{header::Header, storage, Checkpoint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
	let Some((&kind, rest)) = data.split_first() else { return };
	if kind % 3 == 2 {
		// `chain_getHeader`'s JSON: a header read from it hashes as its SCALE bytes do.
		if let Ok(json) = serde_json::from_slice::<serde_json::Value>(rest) {
			if let Some(header) = Header::from_rpc(&json) {
				let _ = header.hash();
			}
		}
	} else if kind % 3 == 0 {
		let genesis = Header {
			parent_hash: [0; 32],
			number: 0,
			state_root: [1; 32],
			extrinsics_root: [2; 32],
			digest: vec![],
		};
		let mut checkpoint = Checkpoint::genesis(genesis, vec![([3; 32], 1), ([4; 32], 1)]);
		let before = checkpoint.clone();
		if checkpoint.apply_warp_proof(rest).is_err() {
			assert_eq!(checkpoint, before);
		}
	} else {
		// A 32-byte root, then trie nodes, each after a one-byte length; the last 8 bytes are
		// the key.
		if rest.len() < 40 {
			return;
		}
		let (root, rest) = rest.split_at(32);
		let (nodes_bytes, key) = rest.split_at(rest.len() - 8);
		let mut nodes = Vec::new();
		let mut at = nodes_bytes;
		while let Some((&len, tail)) = at.split_first() {
			let len = (len as usize).min(tail.len());
			nodes.push(tail[..len].to_vec());
			at = &tail[len..];
		}
		let root: [u8; 32] = root.try_into().unwrap();
		let _ = storage::read_proof(&root, nodes, &[key.to_vec()]);
	}
});
