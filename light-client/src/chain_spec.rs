//! The start of trust: a raw chain spec's genesis state gives the genesis header (so its hash)
//! and the first GRANDPA authority set. Nothing else in the spec is read.

use crate::{
	finality::Checkpoint,
	header::{Authority, Header},
	storage,
};
use codec::DecodeAll;
use serde_json::Value;
use std::{fmt, vec::Vec};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainSpecError {
	NotJson(String),
	/// A chain spec with a runtime's genesis config instead of its storage: the client cannot
	/// run the runtime to build it.
	NotRaw,
	/// Child tries in genesis, which lem's runtime does not make.
	ChildTries,
	/// A storage key or value that is not hex.
	NotHex(String),
	/// Genesis holds no GRANDPA authorities, or not in their encoding.
	NoAuthorities,
}

impl fmt::Display for ChainSpecError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::NotJson(e) => write!(f, "not a chain spec: {e}"),
			Self::NotRaw => write!(
				f,
				"not a raw chain spec (export one with `lem-node export-chain-spec --chain <spec> --raw`)"
			),
			Self::ChildTries => write!(f, "genesis has child tries, which lem does not use"),
			Self::NotHex(s) => write!(f, "genesis storage {s:.20} is not hex"),
			Self::NoAuthorities => write!(f, "genesis has no GRANDPA authorities"),
		}
	}
}

impl std::error::Error for ChainSpecError {}

/// The genesis header and authority set of a raw chain spec.
pub fn genesis(spec: &[u8]) -> Result<Checkpoint, ChainSpecError> {
	let spec: Value =
		serde_json::from_slice(spec).map_err(|e| ChainSpecError::NotJson(e.to_string()))?;
	let raw = spec.pointer("/genesis/raw").ok_or(ChainSpecError::NotRaw)?;
	if raw["childrenDefault"].as_object().is_some_and(|c| !c.is_empty()) {
		return Err(ChainSpecError::ChildTries);
	}
	let top = raw["top"].as_object().ok_or(ChainSpecError::NotRaw)?;
	let mut pairs = Vec::with_capacity(top.len());
	for (key, value) in top {
		let value = value.as_str().ok_or_else(|| ChainSpecError::NotHex(value.to_string()))?;
		pairs.push((hex(key)?, hex(value)?));
	}
	let state_root = storage::state_root(pairs.iter().map(|(k, v)| (&k[..], &v[..])));
	let authorities_key = storage::value_key("Grandpa", "Authorities");
	let authorities = pairs
		.iter()
		.find(|(k, _)| *k == authorities_key)
		.and_then(|(_, v)| Vec::<Authority>::decode_all(&mut &v[..]).ok())
		.filter(|a| !a.is_empty())
		.ok_or(ChainSpecError::NoAuthorities)?;
	let genesis = Header {
		parent_hash: [0; 32],
		number: 0,
		state_root,
		extrinsics_root: storage::state_root([]),
		digest: Vec::new(),
	};
	Ok(Checkpoint::genesis(genesis, authorities))
}

fn hex(s: &str) -> Result<Vec<u8>, ChainSpecError> {
	crate::hex::decode(s).ok_or_else(|| ChainSpecError::NotHex(s.into()))
}
