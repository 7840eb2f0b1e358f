//! Storage values read out of a node's proof (`state_getReadProof`) against a state root the
//! client trusts, and the keys FRAME stores them under.

use crate::header::Hash;
use alloc::vec::Vec;
use sp_core::{Blake2Hasher, H256};
use sp_crypto_hashing::{blake2_128, twox_128, twox_64};
use sp_trie::{LayoutV1, StorageProof};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProofError {
	/// The proof lacks a node on the path to `key`, or a node does not hash as its parent says.
	Incomplete { key: Vec<u8> },
}

/// The value under each key (`None`: proven absent), in the order of `keys`.
pub fn read_proof(
	state_root: &Hash,
	nodes: Vec<Vec<u8>>,
	keys: &[Vec<u8>],
) -> Result<Vec<Option<Vec<u8>>>, ProofError> {
	let db = StorageProof::new(nodes).into_memory_db::<Blake2Hasher>();
	let root = H256(*state_root);
	keys.iter()
		.map(|key| {
			sp_trie::read_trie_value::<LayoutV1<Blake2Hasher>, _>(&db, &root, key, None, None)
				.map_err(|_| ProofError::Incomplete { key: key.clone() })
		})
		.collect()
}

/// The state root of a set of key-value pairs (the genesis state of a raw chain spec).
pub fn state_root<'a>(pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Hash {
	use sp_trie::TrieConfiguration;
	LayoutV1::<Blake2Hasher>::trie_root(pairs).0
}

/// A `StorageValue`'s key, or a map's prefix.
pub fn value_key(pallet: &str, item: &str) -> Vec<u8> {
	[twox_128(pallet.as_bytes()), twox_128(item.as_bytes())].concat()
}

/// A map key hashed `Twox64Concat`.
pub fn twox_64_concat(encoded: &[u8]) -> Vec<u8> {
	[&twox_64(encoded)[..], encoded].concat()
}

/// A map key hashed `Blake2_128Concat`.
pub fn blake2_128_concat(encoded: &[u8]) -> Vec<u8> {
	[&blake2_128(encoded)[..], encoded].concat()
}
